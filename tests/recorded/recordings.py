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

"""Loaders for HTTP traffic recorded against real PowerVM hardware.

Two formats are read: the Ruby VCR cassettes under ../shared/recorded and
the capture files pypowervm installs under pypowervm/tests/data.  Both are
turned into the same Interaction records so that the simulator's XML can be
compared with real XML without caring where the real XML came from.
"""

import ast
import base64
import dataclasses
import os

import pypowervm.tests
import yaml
from lxml import etree

ATOM_NS = 'http://www.w3.org/2005/Atom'
_ATOM_FEED = '{%s}feed' % ATOM_NS
_ATOM_ENTRY = '{%s}entry' % ATOM_NS
_ATOM_CONTENT = '{%s}content' % ATOM_NS

# libyaml's loader reads the 3.4 MB refresher cassette about ten times
# faster than the pure Python one; fall back when PyYAML lacks it.
_YAML_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)

# pypowervm capture section markers (see pypowervm's pvmhttp.py).
_SECTION_INFO = 'INFO{'
_SECTION_HEADERS = 'HEADERS{'
_SECTION_BODY = 'BODY{'
_SECTION_END = 'END OF SECTION}'
_CAPTURE_COMMENT = '#'
# pypowervm makes its captures with Adapter().read(), always a GET.
_CAPTURE_METHOD = 'GET'


class CaptureFormatError(ValueError):
    """A file does not follow pypowervm's capture format."""


@dataclasses.dataclass(frozen=True)
class Interaction:
    """One recorded HTTP request and the response it got.

    response_headers maps each header name to its first value;
    response_header_values keeps every value, as recorded.
    """

    method: str
    uri: str
    request_headers: dict
    request_body: str
    status: int
    reason: str
    response_headers: dict
    response_header_values: dict
    response_body: str
    source: str


def repo_root():
    """The root of this repository (the directory holding tests/)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(here))


def shared_recordings_dir():
    """The shared recordings folder, which sits beside the repository."""
    return os.path.join(os.path.dirname(repo_root()), 'shared', 'recorded')


def pypowervm_data_dir():
    """The folder of captured responses installed with pypowervm."""
    return os.path.join(os.path.dirname(pypowervm.tests.__file__), 'data')


def _header_values(headers):
    """Header name -> list of values; VCR stores one value or a list."""
    result = {}
    for name, value in (headers or {}).items():
        if isinstance(value, list):
            result[name] = [str(v) for v in value]
        elif value is None:
            result[name] = []
        else:
            result[name] = [str(value)]
    return result


def _first_values(header_values):
    return {name: values[0] if values else ''
            for name, values in header_values.items()}


def _vcr_body(body):
    """Text of a VCR body, which is plain or base64 encoded."""
    if not body:
        return ''
    if 'base64_string' in body:
        raw = base64.b64decode(body['base64_string'])
        encoding = body.get('encoding') or 'utf-8'
        # VCR labels binary bodies ASCII-8BIT, which Python does not know.
        if encoding.upper() == 'ASCII-8BIT':
            encoding = 'utf-8'
        return raw.decode(encoding, errors='replace')
    return body.get('string') or ''


def _vcr_interaction(item, source):
    request = item['request']
    response = item['response']
    status = response.get('status') or {}
    response_values = _header_values(response.get('headers'))
    return Interaction(
        method=str(request['method']).upper(),
        uri=request['uri'],
        request_headers=_first_values(_header_values(request.get('headers'))),
        request_body=_vcr_body(request.get('body')),
        status=int(status.get('code', 0)),
        reason=status.get('message') or '',
        response_headers=_first_values(response_values),
        response_header_values=response_values,
        response_body=_vcr_body(response.get('body')),
        source=source,
    )


def load_ruby_vcr(path):
    """Interactions of a Ruby VCR cassette (top-level http_interactions)."""
    with open(path, encoding='utf-8') as cassette:
        document = yaml.load(cassette, Loader=_YAML_LOADER)
    source = os.path.basename(path)
    return [_vcr_interaction(item, source)
            for item in document.get('http_interactions') or []]


def _read_capture_sections(path):
    """(marker, text) for each section of a pypowervm capture file."""
    sections = []
    marker = None
    lines = []
    with open(path, encoding='utf-8') as capture:
        for number, line in enumerate(capture, start=1):
            if marker is not None:
                if line.startswith(_SECTION_END):
                    sections.append((marker, ''.join(lines)))
                    marker, lines = None, []
                else:
                    lines.append(line)
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith(_CAPTURE_COMMENT):
                continue
            if stripped in (_SECTION_INFO, _SECTION_HEADERS, _SECTION_BODY):
                marker = stripped
                continue
            raise CaptureFormatError('%s:%d: unexpected line %r'
                                     % (path, number, stripped[:60]))
    if marker is not None:
        raise CaptureFormatError('%s: section %s never ends' % (path, marker))
    return sections


def _capture_body(text):
    # The capture writer puts the body on the line after BODY{ and a
    # newline before END OF SECTION}; neither belongs to the response.
    return text[:-1] if text.endswith('\n') else text


def _capture_interaction(info, headers, body, source):
    header_values = _header_values(headers)
    return Interaction(
        method=_CAPTURE_METHOD,
        uri=info.get('path') or '',
        request_headers={},
        request_body='',
        status=int(info.get('status') or 0),
        reason=info.get('reason') or '',
        response_headers=_first_values(header_values),
        response_header_values=header_values,
        response_body=body,
        source=source,
    )


def load_pypowervm_capture(path):
    """Interactions of a pypowervm capture file.

    A response starts at each INFO section; the HEADERS and BODY sections
    after it belong to it.  Raises CaptureFormatError for files in another
    format (such as pypowervm's SECTION:name XML fragment files).
    """
    source = os.path.basename(path)
    interactions = []
    current = None
    for marker, text in _read_capture_sections(path):
        if marker == _SECTION_INFO:
            if current is not None:
                interactions.append(_capture_interaction(source=source,
                                                         **current))
            current = {'info': ast.literal_eval(text.strip()),
                       'headers': {}, 'body': ''}
        elif current is None:
            raise CaptureFormatError('%s: %s before INFO{' % (path, marker))
        elif marker == _SECTION_HEADERS:
            current['headers'] = ast.literal_eval(text.strip())
        else:
            current['body'] = _capture_body(text)
    if current is not None:
        interactions.append(_capture_interaction(source=source, **current))
    return interactions


def _xml_parser():
    # Recorded bodies are data, not trusted documents: no entity
    # expansion, no network access, no unbounded trees.
    return etree.XMLParser(resolve_entities=False, no_network=True,
                           huge_tree=False, remove_comments=True)


def parse_xml(body):
    """The root element of an XML body, or None if the body is not XML.

    Bodies that are not XML at all (JSON metrics, empty 204 bodies) give
    None; a body that starts like XML but is broken raises XMLSyntaxError.
    """
    text = body.lstrip() if body else ''
    if not text.startswith('<'):
        return None
    # lxml refuses str input that carries an encoding declaration.
    return etree.fromstring(text.encode('utf-8'), parser=_xml_parser())


def local_name(element):
    """The tag of an element without its namespace."""
    return etree.QName(element).localname


def _atom_entries(root):
    if root.tag == _ATOM_ENTRY:
        return [root]
    if root.tag == _ATOM_FEED:
        return root.findall(_ATOM_ENTRY)
    return []


def iter_atom_objects(body):
    """Yield (resource_type, element) for each object of an Atom body.

    The object is the first element inside each entry's <content>; its
    type is that element's local name.  Bodies that are not Atom feeds or
    entries yield nothing.
    """
    root = parse_xml(body)
    if root is None:
        return
    for entry in _atom_entries(root):
        content = entry.find(_ATOM_CONTENT)
        if content is None:
            continue
        for child in content:
            if isinstance(child.tag, str):
                yield local_name(child), child
                break
