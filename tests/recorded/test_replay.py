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

"""Committed cassettes replay with nothing listening; the recorder's checks.

Each cassette under tests/recorded/cassettes with a .result beside it is
replayed through its scenario (record mode 'none', each recorded response
played once, in order) against a port nobody listens on, and the driver
must give the summary the recorder stored.
"""

import os
import shutil
import socket

import fixtures
import testtools
from pypowervm import exceptions as pvm_exc
from vcr import errors as vcr_errors
from vcr import request as vcr_request
from vcr.serializers import yamlserializer

from tests.recorded import matchers
from tests.recorded import recorder
from tests.recorded import scanner
from tests.recorded import scenarios
from tests.recorded import scrub

# The simulator recordings this repository keeps.
SIMULATOR_CASSETTES = ('inventory.yaml', 'lifecycle.yaml')


def cassette_document(path):
    with open(path, encoding='utf-8') as cassette:
        return yamlserializer.deserialize(cassette.read())


def write_document(document, path):
    with open(path, 'w', encoding='utf-8') as cassette:
        cassette.write(yamlserializer.serialize(document))


def request_signatures(path):
    """(method, path and query, canonical body) of each recorded request."""
    signatures = []
    for interaction in cassette_document(path)['interactions']:
        request = interaction['request']
        body = request.get('body')
        if isinstance(body, (str, bytes)):
            body = matchers.canonical_xml(body) or body
        elif body is not None:
            # An upload: its chunks.
            body = list(body)
        signatures.append((request['method'],
                           request['uri'].split('/rest/', 1)[1], body))
    return signatures


class TestCommittedCassettes(testtools.TestCase):

    def test_the_simulator_recordings_are_committed(self):
        committed = [os.path.basename(path)
                     for path in recorder.committed_cassettes()]
        for name in SIMULATOR_CASSETTES:
            self.assertIn(name, committed)

    def test_every_cassette_replays_to_its_recorded_summary(self):
        for path in recorder.committed_cassettes():
            scenario, expected = recorder.read_result(path)
            self.assertEqual(expected, recorder.replay(scenario, path),
                             os.path.basename(path))

    def test_summaries_scan_clean(self):
        # The summaries hold what the driver read from scrubbed cassettes;
        # the scanner checks that nothing secret came through.
        for path in recorder.committed_cassettes():
            with open(recorder.result_path(path), encoding='utf-8') as text:
                document = {'interactions': [{'response': {
                    'body': {'string': text.read()}}}]}
            self.assertEqual([], scanner.scan_cassette(
                document, recorder.result_path(path)))

    def test_the_simulator_cassettes_hold_repeated_job_polls(self):
        # Each job was polled once before it finished: the same GET twice,
        # answered RUNNING then COMPLETED_OK, which only ordered playback
        # replays.
        path = os.path.join(recorder.CASSETTE_DIR, 'lifecycle.yaml')
        uris = [interaction['request']['uri'] for interaction
                in cassette_document(path)['interactions']
                if interaction['request']['method'] == 'GET']
        polls = [uri for uri in uris if '/rest/api/uom/jobs/' in uri]
        self.assertTrue(polls)
        self.assertLess(len(set(polls)), len(polls))


class TestReplayNeedsTheCassette(testtools.TestCase):
    """A replay cannot pass without the recorded traffic."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'inventory.yaml')
        shutil.copy(os.path.join(recorder.CASSETTE_DIR, 'inventory.yaml'),
                    self.path)
        self.document = cassette_document(self.path)

    def test_a_missing_interaction_fails_the_replay(self):
        # The last GET of the LPAR feed (list_instances) is gone.
        interactions = self.document['interactions']
        last_get = max(
            index for index, interaction in enumerate(interactions)
            if interaction['request']['uri'].endswith(
                '/rest/api/uom/LogicalPartition?group=None'))
        del interactions[last_get]
        write_document(self.document, self.path)
        # pypowervm wraps vcrpy's refusal in its own error.
        error = self.assertRaises(pvm_exc.Error, recorder.replay,
                                  'inventory', self.path)
        self.assertIsInstance(
            error.__context__,
            vcr_errors.CannotOverwriteExistingCassetteException)

    def test_an_unsent_interaction_fails_the_replay(self):
        interactions = self.document['interactions']
        interactions.append(interactions[1])
        write_document(self.document, self.path)
        error = self.assertRaises(AssertionError, recorder.replay,
                                  'inventory', self.path)
        self.assertIn('1 of %d recorded requests were not sent'
                      % len(interactions), str(error))

    def test_something_listening_on_the_port_is_noticed(self):
        port = self.useFixture(recorder.UnusedPort())
        port.assert_refused()
        listener = socket.create_server(('127.0.0.1', 0))
        self.addCleanup(listener.close)
        port.port = listener.getsockname()[1]
        self.assertRaises(AssertionError, port.assert_refused)


class TestRecording(testtools.TestCase):
    """The recorder against fresh simulators."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def record(self, scenario, name):
        """Record scenario on a fresh simulator (no checks, no result)."""
        path = os.path.join(self.dir, name)
        with recorder.SimulatorTarget() as target:
            summary = recorder.record(scenario, target.endpoint, path)
        return path, summary

    def test_two_recordings_send_the_same_requests(self):
        # Seeded UUIDs, the model's own clock, serial FeedTasks and no
        # event listener: fresh simulators get the very same requests.
        for scenario in sorted(scenarios.SCENARIOS):
            first, first_summary = self.record(scenario, 'a.yaml')
            second, second_summary = self.record(scenario, 'b.yaml')
            self.assertEqual(request_signatures(first),
                             request_signatures(second), scenario)
            self.assertEqual(first_summary, second_summary)

    def test_a_secret_left_in_the_cassette_refuses_the_recording(self):
        # A scrubber that forgets responses leaves the logon's session
        # token (and the Set-Cookie of a real NovaLink) in the cassette.
        self.useFixture(fixtures.MonkeyPatch(
            'tests.recorded.scrub.Scrubber.before_record_response',
            lambda scrubber, response: response))
        output = os.path.join(self.dir, 'inventory.yaml')
        with recorder.SimulatorTarget() as target:
            error = self.assertRaises(
                recorder.RecordingRefused, recorder.record_checked,
                'inventory', target.endpoint, output, strict=True)
        self.assertIn(scanner.SESSION_TOKEN, str(error))
        self.assertEqual([], os.listdir(self.dir))

    def test_main_refuses_with_exit_status_1(self):
        self.useFixture(fixtures.MonkeyPatch(
            'tests.recorded.scrub.Scrubber.before_record_response',
            lambda scrubber, response: response))
        output = os.path.join(self.dir, 'inventory.yaml')
        status = recorder.main(['inventory', '--output', output], {})
        self.assertEqual(1, status)
        self.assertFalse(os.path.exists(output))

    def test_the_kept_recording_is_scrubbed_and_has_its_result(self):
        path = os.path.join(self.dir, 'inventory.yaml')
        with recorder.SimulatorTarget() as target:
            summary = recorder.record_checked('inventory', target.endpoint,
                                              path, strict=True)
        self.assertEqual(('inventory', summary), recorder.read_result(path))
        with open(path, encoding='utf-8') as cassette:
            text = cassette.read()
        self.assertIn(scrub.PASSWORD_PLACEHOLDER, text)
        self.assertIn(scrub.SESSION_PLACEHOLDER, text)
        self.assertIn(recorder.SIMULATOR_ORIGIN, text)
        self.assertNotIn('padmin', text)


class TestEndpoints(testtools.TestCase):

    def test_environment_names_a_real_novalink(self):
        endpoint = recorder.endpoint_from_environ({
            'NOVA_POWERVM_RECORD_HOST': 'nl.lab.example',
            'NOVA_POWERVM_RECORD_USER': 'neo',
            'NOVA_POWERVM_RECORD_PASSWORD': 'secret-pw'})
        self.assertEqual(('https', 12443, 'https://nl.lab.example:12443'),
                         (endpoint.protocol, endpoint.port,
                          endpoint.origin))
        self.assertFalse(endpoint.is_simulator)

    def test_no_host_means_the_simulator(self):
        self.assertIsNone(recorder.endpoint_from_environ({}))

    def test_password_authentication_is_required(self):
        self.assertRaises(recorder.RecordingRefused,
                          recorder.endpoint_from_environ,
                          {'NOVA_POWERVM_RECORD_HOST': 'nl.lab.example'})

    def test_config_file_and_environment(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'nova.conf')
        with open(path, 'w', encoding='utf-8') as conf:
            conf.write('[powervm]\nhost = nl.lab.example\nport = 443\n'
                       'protocol = https\nusername = neo\n'
                       'password = secret-pw\nvolume_group_name = datavg\n')
        base = recorder.endpoint_from_config_file(path)
        endpoint = recorder.endpoint_from_environ(
            {'NOVA_POWERVM_RECORD_PORT': '12443'}, base)
        self.assertEqual(
            ('nl.lab.example', 12443, 'neo', 'secret-pw',
             (('volume_group_name', 'datavg'),)),
            (endpoint.host, endpoint.port, endpoint.username,
             endpoint.password, endpoint.options))

    def test_origin_rewriter_keeps_upload_iterators(self):
        rewriter = recorder.OriginRewriter('http://127.0.0.1:5',
                                           'http://localhost:1')
        request = vcr_request.Request(
            'PUT', 'http://127.0.0.1:5/x',
            b'<a href="http://127.0.0.1:5/y"/>', {})
        rewritten = rewriter.request(request)
        self.assertEqual('http://localhost:1/x', rewritten.uri)
        self.assertEqual(b'<a href="http://localhost:1/y"/>',
                         rewritten.body)
        upload = vcr_request.Request('PUT', 'http://127.0.0.1:5/f',
                                     iter([b'ab']), {})
        self.assertEqual([b'ab'], list(rewriter.request(upload).body))

