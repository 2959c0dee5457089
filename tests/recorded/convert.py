# Copyright 2024 The nova-powervm authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Turn recorded traffic into cassettes vcrpy can replay.

Ruby VCR cassettes (../shared/recorded) and pypowervm's capture files are
read with the loaders of recordings.py and written in vcrpy's format:

    version: 1
    interactions:
    - request: {method, uri, body, headers: {name: [values]}}
      response: {status: {code, message}, headers: {name: [values]},
                 body: {string}}

Convert into a temporary directory at test time: the shared recordings
must not be copied into this repository.
"""

import os

from vcr.serializers import jsonserializer
from vcr.serializers import yamlserializer

from tests.recorded import recordings

CASSETTE_VERSION = 1
# pypowervm's captures hold only a path; this base makes them absolute.
DEFAULT_BASE_URL = 'https://host-1.example:12443'
_UOM_ROOT = '/rest/api/uom/'
_SERIALIZERS = {'yaml': yamlserializer, 'json': jsonserializer}
_EXTENSIONS = {'yaml': '.yaml', 'json': '.json'}


def absolute_uri(uri, base_url=DEFAULT_BASE_URL):
    """uri made absolute against base_url.

    Capture paths come as 'rest/api/...', '/rest/api/...' or relative to
    the UOM root ('LogicalPartition'); URIs with a scheme are kept.
    """
    if '://' in uri:
        return uri
    base = base_url.rstrip('/')
    path = uri.lstrip('/')
    if path.startswith('rest/'):
        return '%s/%s' % (base, path)
    return base + _UOM_ROOT + path


def interaction_to_vcrpy(interaction, base_url=DEFAULT_BASE_URL):
    """One recordings.Interaction as a vcrpy interaction dict."""
    return {
        'request': {
            'method': interaction.method,
            'uri': absolute_uri(interaction.uri, base_url),
            # vcrpy records a request without a body as None.
            'body': interaction.request_body or None,
            'headers': {name: [value] for name, value
                        in interaction.request_headers.items()},
        },
        'response': {
            'status': {'code': interaction.status,
                       'message': interaction.reason},
            'headers': {name: list(values) for name, values
                        in interaction.response_header_values.items()},
            'body': {'string': interaction.response_body},
        },
    }


def cassette_from_interactions(interactions, base_url=DEFAULT_BASE_URL):
    """A vcrpy cassette dict holding interactions, in order."""
    return {
        'version': CASSETTE_VERSION,
        'interactions': [interaction_to_vcrpy(interaction, base_url)
                         for interaction in interactions],
    }


def ruby_vcr_to_vcrpy(path):
    """The vcrpy cassette dict of a Ruby VCR cassette file."""
    return cassette_from_interactions(recordings.load_ruby_vcr(path))


def pypowervm_capture_to_vcrpy(path, base_url=DEFAULT_BASE_URL):
    """The vcrpy cassette dict of a pypowervm capture file."""
    return cassette_from_interactions(
        recordings.load_pypowervm_capture(path), base_url)


def write_cassette(cassette, path, serializer='yaml'):
    """Write a cassette dict where vcrpy's use_cassette(path) reads it.

    serializer is 'yaml' or 'json', as for vcr.VCR(serializer=...).
    """
    text = _SERIALIZERS[serializer].serialize(cassette)
    with open(path, 'w', encoding='utf-8') as out:
        out.write(text)
    return path


def convert_file(source, directory, serializer='yaml',
                 base_url=DEFAULT_BASE_URL):
    """Convert one recording file into directory; returns the new path.

    Files ending in .txt are read as pypowervm captures, anything else as
    Ruby VCR cassettes.
    """
    stem, extension = os.path.splitext(os.path.basename(source))
    if extension == '.txt':
        cassette = pypowervm_capture_to_vcrpy(source, base_url)
    else:
        cassette = ruby_vcr_to_vcrpy(source)
    target = os.path.join(directory, stem + _EXTENSIONS[serializer])
    return write_cassette(cassette, target, serializer)
