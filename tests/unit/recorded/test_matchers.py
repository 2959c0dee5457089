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

"""The XML body matcher and ordered replay of repeated requests."""

import os

import fixtures
import requests
import testtools
from lxml import etree
from vcr import errors as vcr_errors
from vcr import request as vcr_request
from vcr import serialize as vcr_serialize
from vcr.serializers import yamlserializer

from tests.recorded import convert
from tests.recorded import matchers
from tests.recorded import scrub

WEB = 'http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/'
BASE = 'https://host-1.example:12443/rest/api/uom'
REAL_BASE = 'https://nl7.lab.acme.fr:12443/rest/api/uom'
POWER_OFF = '/LogicalPartition/3F3D399B/do/PowerOff'

JOB_REQUEST = """<JobRequest:JobRequest xmlns:JobRequest="%s"
    xmlns="%s" schemaVersion="V1_0">
  <JobRequest:RequestedOperation schemaVersion="V1_0">
    <OperationName>PowerOff</OperationName>
    <GroupName>LogicalPartition</GroupName>
  </JobRequest:RequestedOperation>
</JobRequest:JobRequest>""" % (WEB, WEB)
# The same document as pypowervm might write it: other prefixes, attribute
# order and layout.
JOB_REQUEST_RESHAPED = (
    '<?xml version="1.0"?><web:JobRequest schemaVersion="V1_0" '
    'xmlns:web="%s"><!-- from pypowervm --><web:RequestedOperation '
    'schemaVersion="V1_0"><web:OperationName>PowerOff</web:OperationName>'
    '<web:GroupName>LogicalPartition</web:GroupName>'
    '</web:RequestedOperation></web:JobRequest>' % WEB)


def job_response(job_id, status):
    return ('<JobResponse xmlns="%s"><JobID>%s</JobID><Status>%s</Status>'
            '</JobResponse>' % (WEB, job_id, status))


def request(body, method='PUT', uri=BASE + POWER_OFF, headers=None):
    return vcr_request.Request(method, uri, body, headers or {})


def interaction(method, uri, body=None, response_body='', code=200):
    return {'request': {'method': method, 'uri': uri, 'body': body,
                        'headers': {}},
            'response': {'status': {'code': code, 'message': 'OK'},
                         'headers': {}, 'body': {'string': response_body}}}


def job_id_of(response):
    return etree.fromstring(response.content).findtext('{%s}JobID' % WEB)


class TestCanonicalXml(testtools.TestCase):

    def test_layout_attribute_order_and_prefixes_do_not_matter(self):
        self.assertEqual(matchers.canonical_xml(JOB_REQUEST),
                         matchers.canonical_xml(JOB_REQUEST_RESHAPED))
        self.assertEqual(matchers.canonical_xml('<a x="1" y="2"><b/></a>'),
                         matchers.canonical_xml(b'<a y="2"  x="1" >\n'
                                                b'  <b></b>\n</a>'))

    def test_text_attribute_values_and_namespaces_matter(self):
        base = matchers.canonical_xml('<a xmlns="urn:x" k="1">t</a>')
        for other in ('<a xmlns="urn:x" k="1">T</a>',
                      '<a xmlns="urn:x" k="1"> t</a>',
                      '<a xmlns="urn:x" k="2">t</a>',
                      '<a xmlns="urn:y" k="1">t</a>',
                      '<a xmlns="urn:x" k="1">t<b/></a>',
                      '<a xmlns="urn:x" k="1"><b/>t</a>'):
            self.assertNotEqual(base, matchers.canonical_xml(other), other)

    def test_not_xml(self):
        for body in (None, b'', '{"a": 1}', 'plain', '<broken><xml>'):
            self.assertIsNone(matchers.canonical_xml(body), body)

    def test_first_difference(self):
        first = matchers.canonical_xml(JOB_REQUEST)
        second = matchers.canonical_xml(
            JOB_REQUEST.replace('>PowerOff<', '>PowerOn<'))
        self.assertEqual("/JobRequest/RequestedOperation/OperationName: "
                         "text 'PowerOff' != 'PowerOn'",
                         matchers.first_difference(first, second))
        self.assertIsNone(matchers.first_difference(first, first))
        self.assertEqual(
            '/a: 1 child elements != 2',
            matchers.first_difference(matchers.canonical_xml('<a><b/></a>'),
                                      matchers.canonical_xml(
                                          '<a><b/><c/></a>')))
        self.assertEqual(
            "/a: text after b 'x' != None",
            matchers.first_difference(matchers.canonical_xml('<a><b/>x</a>'),
                                      matchers.canonical_xml(
                                          '<a><b/></a>')))


class TestXmlBodyMatcher(testtools.TestCase):

    def test_equal_xml_bodies_match(self):
        self.assertIsNone(matchers.xml_body(
            request(JOB_REQUEST.encode()), request(JOB_REQUEST_RESHAPED)))

    def test_different_text_fails_with_the_place(self):
        error = self.assertRaises(
            AssertionError, matchers.xml_body, request(JOB_REQUEST),
            request(JOB_REQUEST.replace('PowerOff', 'PowerOn')))
        self.assertIn('OperationName', str(error))

    def test_non_xml_bodies_compare_as_bytes(self):
        self.assertIsNone(matchers.xml_body(request('{"a": 1}'),
                                            request(b'{"a": 1}')))
        self.assertRaises(AssertionError, matchers.xml_body,
                          request('{"a": 1}'), request('{"a":1}'))
        self.assertRaises(AssertionError, matchers.xml_body,
                          request('<a/>'), request('a'))
        self.assertIsNone(matchers.xml_body(request(None, 'GET'),
                                            request(b'', 'GET')))


class TestMakeVcr(testtools.TestCase):

    def test_matcher_registered_and_used(self):
        my_vcr = matchers.make_vcr(record_mode='none')
        self.assertIs(matchers.xml_body, my_vcr.matchers['xml_body'])
        self.assertEqual(matchers.MATCH_ON, my_vcr.match_on)
        self.assertIsNone(my_vcr.before_record_request)

    def test_scrubber_hooks(self):
        scrubber = scrub.Scrubber()
        my_vcr = matchers.make_vcr(scrubber)
        self.assertEqual(scrubber.before_record_request,
                         my_vcr.before_record_request)
        self.assertEqual(scrubber.before_record_response,
                         my_vcr.before_record_response)


class TestReplay(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, *interactions):
        path = os.path.join(self.dir, 'cassette.yaml')
        return convert.write_cassette(
            {'version': 1, 'interactions': list(interactions)}, path)

    def poll_cassette(self):
        return self.write(
            interaction('PUT', BASE + POWER_OFF, JOB_REQUEST,
                        job_response('1000000000001', 'NOT_STARTED')),
            *(interaction('GET', BASE + '/jobs/1000000000001', None,
                          job_response('1000000000001', status))
              for status in ('RUNNING', 'RUNNING', 'COMPLETED_OK')))

    def test_xml_body_matches_a_reshaped_request(self):
        path = self.poll_cassette()
        with matchers.make_vcr(record_mode='none').use_cassette(path):
            response = requests.put(BASE + POWER_OFF,
                                    data=JOB_REQUEST_RESHAPED)
        self.assertEqual('1000000000001', job_id_of(response))

    def test_xml_body_refuses_a_request_with_other_text(self):
        path = self.poll_cassette()
        with matchers.make_vcr(record_mode='none').use_cassette(path):
            self.assertRaises(
                vcr_errors.CannotOverwriteExistingCassetteException,
                requests.put, BASE + POWER_OFF,
                data=JOB_REQUEST.replace('PowerOff', 'PowerOn'))

    def test_repeated_polls_get_successive_responses(self):
        # vcrpy's default, allow_playback_repeats=False, plays each
        # recorded response once, in order.
        path = self.poll_cassette()
        statuses = []
        with matchers.make_vcr(record_mode='none').use_cassette(path):
            job_id = job_id_of(requests.put(BASE + POWER_OFF,
                                            data=JOB_REQUEST))
            for _ in range(3):
                poll = requests.get('%s/jobs/%s' % (BASE, job_id))
                statuses.append(etree.fromstring(poll.content).findtext(
                    '{%s}Status' % WEB))
            self.assertRaises(
                vcr_errors.CannotOverwriteExistingCassetteException,
                requests.get, '%s/jobs/%s' % (BASE, job_id))
        self.assertEqual(['RUNNING', 'RUNNING', 'COMPLETED_OK'], statuses)

    def test_playback_repeats_would_replay_the_first_poll_forever(self):
        path = self.poll_cassette()
        player = matchers.make_vcr(record_mode='none')
        with player.use_cassette(path, allow_playback_repeats=True):
            statuses = [etree.fromstring(requests.get(
                BASE + '/jobs/1000000000001').content).findtext(
                    '{%s}Status' % WEB) for _ in range(4)]
        self.assertEqual(['RUNNING'] * 4, statuses)

    def record(self, scrubber, pairs):
        """Write what vcrpy would record through scrubber's hooks."""
        recorded_requests = []
        recorded_responses = []
        for real_request, real_response in pairs:
            recorded_requests.append(
                scrubber.before_record_request(real_request))
            recorded_responses.append(
                scrubber.before_record_response(real_response))
        path = os.path.join(self.dir, 'recorded.yaml')
        with open(path, 'w', encoding='utf-8') as out:
            out.write(vcr_serialize.serialize(
                {'requests': recorded_requests,
                 'responses': recorded_responses}, yamlserializer))
        return path

    def test_job_ids_made_deterministic_at_record_time_replay(self):
        real_id = '1702012345678'

        def answer(status):
            return {'status': {'code': 200, 'message': 'OK'},
                    'headers': {},
                    'body': {'string': job_response(real_id,
                                                    status).encode()}}

        poll = REAL_BASE + '/jobs/' + real_id
        path = self.record(scrub.Scrubber(), [
            (request(JOB_REQUEST.encode(), uri=REAL_BASE + POWER_OFF),
             answer('NOT_STARTED')),
            (request(None, 'GET', poll), answer('RUNNING')),
            (request(None, 'GET', poll), answer('COMPLETED_OK'))])
        with open(path, encoding='utf-8') as cassette:
            text = cassette.read()
        self.assertNotIn(real_id, text)
        self.assertNotIn('nl7.lab.acme.fr', text)

        # The replay client knows only what the cassette tells it; its own
        # requests pass through a fresh Scrubber, as vcrpy matches them.
        statuses = []
        player = matchers.make_vcr(scrub.Scrubber(), record_mode='none')
        with player.use_cassette(path):
            job_id = job_id_of(requests.put(BASE + POWER_OFF,
                                            data=JOB_REQUEST_RESHAPED))
            for _ in range(2):
                statuses.append(etree.fromstring(requests.get(
                    '%s/jobs/%s' % (BASE, job_id)).content).findtext(
                        '{%s}Status' % WEB))
        self.assertEqual('1000000000001', job_id)
        self.assertEqual(['RUNNING', 'COMPLETED_OK'], statuses)

    def test_replay_against_the_real_host_name_still_matches(self):
        # A client configured with the real host name: the replay's
        # Scrubber maps it to the placeholder the recording used.
        path = self.poll_cassette()
        player = matchers.make_vcr(scrub.Scrubber(), record_mode='none')
        with player.use_cassette(path):
            response = requests.put(REAL_BASE + POWER_OFF, data=JOB_REQUEST)
        self.assertEqual('1000000000001', job_id_of(response))
