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

"""Ruby VCR cassettes and pypowervm captures into vcrpy cassettes."""

import json
import os

import fixtures
import requests
import testtools
import vcr
from vcr import errors as vcr_errors
from vcr import serialize as vcr_serialize
from vcr.serializers import yamlserializer

from tests.recorded import convert
from tests.recorded import recordings

STORAGE = 'refresher_storage_8f2a83e9-f4c7-35e5-987e-9ac54a498dab.yml'


def shared_cassette(name):
    return os.path.join(recordings.shared_recordings_dir(),
                        'hmc-manageiq-2022', name)


def capture(name):
    return os.path.join(recordings.pypowervm_data_dir(), name)


def replay(test, path, interactions, serializer='yaml'):
    """Play interactions to requests from the cassette at path.

    Returns the requests responses; vcrpy never opens a socket here.
    """
    player = vcr.VCR(record_mode='none', serializer=serializer)
    responses = []
    with player.use_cassette(path) as cassette:
        for interaction in interactions:
            responses.append(requests.request(
                interaction.method, convert.absolute_uri(interaction.uri),
                data=interaction.request_body.encode('utf-8') or None,
                headers=interaction.request_headers))
        test.assertTrue(cassette.all_played)
    return responses


class TestAbsoluteUri(testtools.TestCase):

    def test_forms(self):
        base = 'https://host-1.example:12443'
        for uri, expected in (
                ('LogicalPartition', '/rest/api/uom/LogicalPartition'),
                ('ManagedSystem/1/LogicalPartition?group=None',
                 '/rest/api/uom/ManagedSystem/1/LogicalPartition'
                 '?group=None'),
                ('rest/api/pcm/ManagedSystem/1/RawMetrics',
                 '/rest/api/pcm/ManagedSystem/1/RawMetrics'),
                ('/rest/api/web/Logon', '/rest/api/web/Logon'),
                ('', '/rest/api/uom/')):
            self.assertEqual(base + expected, convert.absolute_uri(uri), uri)

    def test_absolute_uris_and_other_bases(self):
        self.assertEqual('http://h/x', convert.absolute_uri('http://h/x'))
        self.assertEqual('http://a:1/rest/api/uom/Tier',
                         convert.absolute_uri('Tier', 'http://a:1/'))


class TestInteraction(testtools.TestCase):

    def test_vcrpy_structure(self):
        interaction = recordings.Interaction(
            method='PUT', uri='https://h/rest/api/web/Logon',
            request_headers={'X-Api-Session': 'xxx'},
            request_body='<LogonRequest/>', status=200, reason='OK',
            response_headers={'Set-Cookie': 'a=1'},
            response_header_values={'Set-Cookie': ['a=1', 'b=2']},
            response_body='<LogonResponse/>', source='x.yml')
        self.assertEqual({
            'request': {'method': 'PUT', 'uri': 'https://h/rest/api/web/Logon',
                        'body': '<LogonRequest/>',
                        'headers': {'X-Api-Session': ['xxx']}},
            'response': {'status': {'code': 200, 'message': 'OK'},
                         'headers': {'Set-Cookie': ['a=1', 'b=2']},
                         'body': {'string': '<LogonResponse/>'}},
        }, convert.interaction_to_vcrpy(interaction))

    def test_empty_request_body_is_none(self):
        interaction = recordings.Interaction(
            method='GET', uri='Tier', request_headers={}, request_body='',
            status=204, reason='No Content', response_headers={},
            response_header_values={}, response_body='', source='x')
        converted = convert.interaction_to_vcrpy(interaction)
        self.assertIsNone(converted['request']['body'])
        self.assertEqual(convert.DEFAULT_BASE_URL + '/rest/api/uom/Tier',
                         converted['request']['uri'])


class TestRubyVcr(testtools.TestCase):

    def test_cassette_structure(self):
        path = shared_cassette(STORAGE)
        converted = convert.ruby_vcr_to_vcrpy(path)
        loaded = recordings.load_ruby_vcr(path)
        self.assertEqual(1, converted['version'])
        self.assertEqual(len(loaded), len(converted['interactions']))
        first = converted['interactions'][0]
        self.assertEqual('PUT', first['request']['method'])
        self.assertEqual(loaded[0].uri, first['request']['uri'])
        self.assertEqual(['176'],
                         first['request']['headers']['Content-Length'])
        self.assertEqual(loaded[0].response_body,
                         first['response']['body']['string'])

    def test_written_yaml_loads_in_vcrpy(self):
        directory = self.useFixture(fixtures.TempDir()).path
        path = convert.convert_file(shared_cassette(STORAGE), directory)
        self.assertEqual(os.path.join(directory, STORAGE[:-4] + '.yaml'),
                         path)
        with open(path, encoding='utf-8') as cassette:
            requests_, responses = vcr_serialize.deserialize(
                cassette.read(), yamlserializer)
        self.assertEqual('PUT', requests_[0].method)
        self.assertIsInstance(responses[0]['body']['string'], bytes)

    def test_round_trip_through_vcrpy_and_requests(self):
        path = shared_cassette(STORAGE)
        directory = self.useFixture(fixtures.TempDir()).path
        converted = convert.convert_file(path, directory)
        interactions = recordings.load_ruby_vcr(path)
        responses = replay(self, converted, interactions)
        self.assertEqual(
            [(i.status, i.response_body) for i in interactions],
            [(r.status_code, r.text) for r in responses])
        self.assertEqual('application/atom+xml',
                         responses[1].headers['Content-Type'])

    def test_replay_refuses_requests_it_has_not_got(self):
        directory = self.useFixture(fixtures.TempDir()).path
        converted = convert.convert_file(shared_cassette(STORAGE), directory)
        player = vcr.VCR(record_mode='none')
        with player.use_cassette(converted):
            self.assertRaises(
                vcr_errors.CannotOverwriteExistingCassetteException,
                requests.get, 'https://ibm-power-hmc-hostname:12443/rest/'
                'api/uom/NotRecorded')

    def test_json_output(self):
        directory = self.useFixture(fixtures.TempDir()).path
        path = convert.convert_file(shared_cassette(STORAGE), directory,
                                    serializer='json')
        with open(path, encoding='utf-8') as cassette:
            self.assertEqual(convert.ruby_vcr_to_vcrpy(
                shared_cassette(STORAGE)), json.load(cassette))


class TestPypowervmCapture(testtools.TestCase):

    def test_capture_becomes_one_get(self):
        converted = convert.pypowervm_capture_to_vcrpy(
            capture('lpar.txt'), 'https://nl.example')
        [interaction] = converted['interactions']
        self.assertEqual('GET', interaction['request']['method'])
        self.assertEqual('https://nl.example/rest/api/uom/LogicalPartition',
                         interaction['request']['uri'])
        self.assertEqual(200, interaction['response']['status']['code'])
        self.assertIn('<feed', interaction['response']['body']['string'])

    def test_round_trip_through_vcrpy_and_requests(self):
        directory = self.useFixture(fixtures.TempDir()).path
        for name in ('lpar.txt', 'fake_httperror_service_unavail.txt'):
            converted = convert.convert_file(capture(name), directory)
            interactions = recordings.load_pypowervm_capture(capture(name))
            [response] = replay(self, converted, interactions)
            self.assertEqual(
                (interactions[0].status, interactions[0].response_body),
                (response.status_code, response.text), name)

    def test_not_a_capture(self):
        directory = self.useFixture(fixtures.TempDir()).path
        self.assertRaises(recordings.CaptureFormatError,
                          convert.convert_file, capture('lpar_builder.txt'),
                          directory)
