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

"""The Scrubber: secrets out of requests, responses and loaded cassettes."""

import gzip
import threading
import zlib

import testtools
from lxml import etree
from vcr import request as vcr_request

from tests.recorded import scrub

WEB = 'http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/'
UOM = 'http://www.ibm.com/xmlns/systems/power/firmware/uom/mc/2012_10/'
ATOM = 'http://www.w3.org/2005/Atom'
NOVALINK = 'novalink7.lab.corp.example-bank.fr'
BASE = 'https://%s:12443' % NOVALINK
TOKEN = 'PUIoR6x0kP6fQqA7qZ8sLZQJ8MLx9JHfLCYzT4oGFSE2WaGIha='
PASSWORD = 'S3cret&Pa55'

LOGON_REQUEST = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<LogonRequest xmlns="%s" schemaVersion="V1_0">\n'
    '    <UserID>neoadmin</UserID>\n'
    '    <Password>S3cret&amp;Pa55</Password>\n'
    '</LogonRequest>' % WEB)
LOGON_RESPONSE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<LogonResponse xmlns="%s" schemaVersion="V1_1_0">\n'
    '    <Metadata><Atom/></Metadata>\n'
    '    <X-API-Session kb="ROR" kxe="false">%s</X-API-Session>\n'
    '</LogonResponse>\n' % (WEB, TOKEN))
LOGON_FILE_RESPONSE = (
    '<LogonResponse xmlns="%s"><X-API-SessionFile kb="ROR">'
    '/home/neoadmin/.pvm/token_4711</X-API-SessionFile></LogonResponse>'
    % WEB)

SYSTEM_ENTRY = """<entry xmlns="%(atom)s">
  <id>d47a585d-eaa8-3a54-b4dc-93346276ea37</id>
  <link rel="SELF" href="%(base)s/rest/api/uom/ManagedSystem/d47a585d"/>
  <content type="application/vnd.ibm.powervm.uom+xml; type=ManagedSystem">
    <ManagedSystem xmlns="%(uom)s" schemaVersion="V1_0">
      <MachineTypeModelAndSerialNumber kxe="false">
        <MachineType>8286</MachineType>
        <Model>42A</Model>
        <SerialNumber>214D29V</SerialNumber>
      </MachineTypeModelAndSerialNumber>
      <SystemName>Server-8286-42A-SN214D29V</SystemName>
      <LocationCode>U8286.42A.214D29V-V1-C2</LocationCode>
      <PrimaryIPAddress kb="CUR">10.197.64.46</PrimaryIPAddress>
      <ResourceMonitoringIPAddress>10.197.64.77</ResourceMonitoringIPAddress>
      <ServiceProcessorIPv6>fe80::a:1</ServiceProcessorIPv6>
      <SubnetMask>255.255.240.0</SubnetMask>
      <Loopback>127.0.0.1</Loopback>
      <OperatingSystemVersion>VIOS 3.1.0.11</OperatingSystemVersion>
      <VirtualIOServerLevel>3.1.0.11</VirtualIOServerLevel>
      <HostName kb="CUD">
        vios1.lab.corp.example-bank.fr
      </HostName>
      <ManagementConsoleName>nlpart7</ManagementConsoleName>
      <Adapter><SerialNumber>Y250NY561JG4</SerialNumber></Adapter>
    </ManagedSystem>
  </content>
</entry>
""" % {'atom': ATOM, 'uom': UOM, 'base': BASE}

JOB_RESPONSE = """<entry xmlns="%(atom)s">
  <link rel="SELF" href="%(base)s/rest/api/uom/jobs/1702012345678"/>
  <content type="application/vnd.ibm.powervm.web+xml; type=JobResponse">
    <JobResponse xmlns="%(web)s" schemaVersion="V1_0">
      <JobID kxe="false" kb="ROR">1702012345678</JobID>
      <Status kxe="false" kb="ROR">%(status)s</Status>
    </JobResponse>
  </content>
</entry>
"""


def job_response(status='RUNNING', job_id='1702012345678'):
    return (JOB_RESPONSE % {'atom': ATOM, 'web': WEB, 'base': BASE,
                            'status': status}).replace('1702012345678',
                                                       job_id)


def request(method='GET', path='/rest/api/uom/ManagedSystem', body=None,
            headers=None, base=BASE):
    return vcr_request.Request(method, base + path, body, headers or {})


def response(body='', headers=None, code=200):
    return {'status': {'code': code, 'message': 'OK'},
            'headers': headers or {},
            'body': {'string': body}}


def cassette(*interactions):
    return {'version': 1, 'interactions': [
        {'request': req, 'response': resp} for req, resp in interactions]}


def dict_request(uri, body=None, headers=None, method='GET'):
    return {'method': method, 'uri': uri, 'body': body,
            'headers': headers or {}}


class TestConfig(testtools.TestCase):

    def test_defaults(self):
        config = scrub.ScrubConfig()
        self.assertEqual((), config.hosts)
        self.assertIn('SerialNumber', config.serial_elements)
        self.assertIn('HostName', config.host_elements)
        self.assertTrue(config.job_ids)

    def test_from_environ(self):
        config = scrub.ScrubConfig.from_environ({
            'PVM_SCRUB_HOSTS': ' nl1.lab.example.fr, nl1 ,',
            'PVM_SCRUB_SERIALS': '21FD4AV',
            'PVM_SCRUB_STRINGS': 'Acme Bank,Building 7',
            'PVM_SCRUB_ALLOWED_HOSTS': 'mirror.lab.fr',
            'PVM_SCRUB_HOST_ELEMENTS': 'HostName',
            'PVM_SCRUB_SERIAL_ELEMENTS': 'A/Serial,Other',
            'PVM_SCRUB_JOB_IDS': 'False',
            'UNRELATED': 'x'})
        self.assertEqual(('nl1.lab.example.fr', 'nl1'), config.hosts)
        self.assertEqual(('21FD4AV',), config.serials)
        self.assertEqual(('Acme Bank', 'Building 7'), config.strings)
        self.assertEqual(('mirror.lab.fr',), config.allowed_hosts)
        self.assertEqual(('HostName',), config.host_elements)
        self.assertEqual(('A/Serial', 'Other'), config.serial_elements)
        self.assertFalse(config.job_ids)

    def test_empty_environment_keeps_defaults(self):
        self.assertEqual(scrub.ScrubConfig(),
                         scrub.ScrubConfig.from_environ(
                             {'PVM_SCRUB_HOSTS': '  ',
                              'PVM_SCRUB_JOB_IDS': ''}))

    def test_configured_hosts_are_numbered_first(self):
        scrubber = scrub.Scrubber(scrub.ScrubConfig(
            hosts=('other.lab.example-bank.fr', NOVALINK, 'nlpart7')))
        scrubbed = scrubber.before_record_request(request())
        self.assertEqual('https://host-2.example:12443/rest/api/uom/'
                         'ManagedSystem', scrubbed.uri)
        resp = scrubber.before_record_response(response(SYSTEM_ENTRY))
        self.assertIn('>host-3</ManagementConsoleName>',
                      resp['body']['string'])


class TestRequestHook(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.scrubber = scrub.Scrubber()

    def test_logon_password_and_user_are_replaced(self):
        body = LOGON_REQUEST.encode('utf-8')
        original = request('PUT', '/rest/api/web/Logon', body,
                           {'Content-Length': str(len(body))})
        scrubbed = self.scrubber.before_record_request(original)
        text = scrubbed.body.decode('utf-8')
        self.assertNotIn('S3cret', text)
        self.assertNotIn('neoadmin', text)
        self.assertIn('<Password>scrubbed-password</Password>', text)
        self.assertIn('<UserID>scrubbed-user</UserID>', text)
        self.assertIsInstance(scrubbed.body, bytes)
        self.assertEqual(str(len(scrubbed.body)),
                         scrubbed.headers['Content-Length'])
        etree.fromstring(scrubbed.body)
        # vcrpy still sends the real request: the hook works on a copy.
        self.assertEqual(body, original.body)

    def test_session_and_credential_headers(self):
        scrubbed = self.scrubber.before_record_request(request(headers={
            'X-API-Session': TOKEN,
            'Authorization': 'Basic bmVvOnMzY3JldA==',
            'Cookie': 'JSESSIONID=0000qnsHzMw:945f5b75; CCFWSESSION=1125EAF9',
            'X-Audit-Memento': 'neoadmin',
            'Accept': 'application/atom+xml'}))
        self.assertEqual('scrubbed-session',
                         scrubbed.headers['X-API-Session'])
        self.assertEqual('Basic scrubbed-credentials',
                         scrubbed.headers['Authorization'])
        self.assertEqual(
            'JSESSIONID=scrubbed-cookie; CCFWSESSION=scrubbed-cookie',
            scrubbed.headers['Cookie'])
        self.assertEqual('scrubbed-user', scrubbed.headers['X-Audit-Memento'])
        self.assertEqual('application/atom+xml', scrubbed.headers['Accept'])

    def test_credential_placeholders_are_kept(self):
        for value in ('Basic scrubbed-credentials', 'scrubbed-credentials',
                      'Bearer xxx'):
            scrubbed = self.scrubber.before_record_request(request(
                headers={'Authorization': value}))
            self.assertEqual(value, scrubbed.headers['Authorization'])
        scrubbed = self.scrubber.before_record_request(request(
            headers={'Proxy-Authorization': 'token1234'}))
        self.assertEqual('scrubbed-credentials',
                         scrubbed.headers['Proxy-Authorization'])

    def test_host_in_uri_and_host_header(self):
        scrubbed = self.scrubber.before_record_request(request(
            path='/rest/api/uom/LogicalPartition?group=None',
            headers={'Host': NOVALINK + ':12443'}))
        self.assertEqual('https://host-1.example:12443/rest/api/uom/'
                         'LogicalPartition?group=None', scrubbed.uri)
        self.assertEqual('host-1.example:12443', scrubbed.headers['Host'])

    def test_address_in_uri(self):
        scrubbed = self.scrubber.before_record_request(request(
            base='https://10.1.2.3:12443'))
        self.assertEqual('https://192.0.2.1:12443/rest/api/uom/'
                         'ManagedSystem', scrubbed.uri)

    def test_password_parameter_and_url_credentials(self):
        scrubbed = self.scrubber.before_record_request(request(
            path='/x?user=neo&password=hunter22', base='https://neo:pw@'
            + NOVALINK))
        self.assertEqual('https://scrubbed-credentials@host-1.example/x?'
                         'user=neo&password=scrubbed-password', scrubbed.uri)

    def test_scrubbing_twice_changes_nothing_more(self):
        original = request('PUT', '/rest/api/web/Logon',
                           LOGON_REQUEST.encode('utf-8'),
                           {'X-API-Session': TOKEN})
        once = self.scrubber.before_record_request(original)
        twice = self.scrubber.before_record_request(once)
        self.assertEqual((once.uri, once.body, dict(once.headers)),
                         (twice.uri, twice.body, dict(twice.headers)))

    def test_placeholders_are_kept(self):
        scrubbed = self.scrubber.before_record_request(request(
            base='https://host-1.example:12443',
            headers={'X-API-Session': 'xxx'}))
        self.assertEqual('https://host-1.example:12443/rest/api/uom/'
                         'ManagedSystem', scrubbed.uri)
        self.assertEqual('xxx', scrubbed.headers['X-API-Session'])

    def test_request_without_body(self):
        scrubbed = self.scrubber.before_record_request(request())
        self.assertIsNone(scrubbed.body)


class TestResponseHook(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.scrubber = scrub.Scrubber()

    def scrub_body(self, body, **kwargs):
        resp = self.scrubber.before_record_response(response(body, **kwargs))
        return resp['body']['string']

    def test_logon_response_token(self):
        body = self.scrub_body(LOGON_RESPONSE.encode('utf-8'))
        self.assertIsInstance(body, bytes)
        self.assertNotIn(TOKEN.encode(), body)
        self.assertIn(b'>scrubbed-session</X-API-Session>', body)
        etree.fromstring(body)

    def test_token_learnt_from_logon_is_replaced_everywhere(self):
        self.scrub_body(LOGON_RESPONSE)
        later = self.scrub_body('<Error>session %s expired</Error>' % TOKEN)
        self.assertEqual('<Error>session scrubbed-secret expired</Error>',
                         later)

    def test_password_learnt_from_logon_is_replaced_everywhere(self):
        self.scrubber.before_record_request(request(
            'PUT', '/rest/api/web/Logon', LOGON_REQUEST.encode('utf-8')))
        body = self.scrub_body('<Message>bad S3cret&amp;Pa55</Message>')
        self.assertEqual('<Message>bad scrubbed-secret</Message>', body)

    def test_session_file_path(self):
        body = self.scrub_body(LOGON_FILE_RESPONSE)
        self.assertIn('>/scrubbed/x-api-session-file</X-API-SessionFile>',
                      body)
        self.assertNotIn('neoadmin', body)

    def test_session_and_cookie_response_headers(self):
        resp = self.scrubber.before_record_response(response(headers={
            'X-API-Session': [TOKEN],
            'Set-Cookie': [
                'JSESSIONID=0000qnsHzMw-UAQPrFwtNaS5qcC:945f5b75; Path=/; '
                'Secure; HttpOnly',
                'CCFWSESSION=1125EAF99CD0AB65; Version=1; Domain=%s; '
                'Max-Age=0; Expires=Thu, 01 Dec 1994 16:00:00 GMT'
                % NOVALINK]}))
        headers = resp['headers']
        self.assertEqual(['scrubbed-session'], headers['X-API-Session'])
        self.assertEqual([
            'JSESSIONID=scrubbed-cookie; Path=/; Secure; HttpOnly',
            'CCFWSESSION=scrubbed-cookie; Version=1; '
            'Domain=host-1.example; Max-Age=0; '
            'Expires=Thu, 01 Dec 1994 16:00:00 GMT'], headers['Set-Cookie'])

    def test_location_header_and_links_share_the_uri_placeholder(self):
        scrubbed = self.scrubber.before_record_request(request())
        resp = self.scrubber.before_record_response(response(
            SYSTEM_ENTRY, headers={'Location': [BASE + '/rest/api/uom/x']}))
        self.assertEqual(['https://host-1.example:12443/rest/api/uom/x'],
                         resp['headers']['Location'])
        self.assertIn('href="https://host-1.example:12443/rest/api/uom/'
                      'ManagedSystem/d47a585d"', resp['body']['string'])
        self.assertTrue(scrubbed.uri.startswith(
            'https://host-1.example:12443/'))

    def test_host_elements(self):
        body = self.scrub_body(SYSTEM_ENTRY)
        self.assertIn('<HostName kb="CUD">\n        host-1.example\n'
                      '      </HostName>', body)
        self.assertIn('<ManagementConsoleName>host-2</Management', body)
        self.assertNotIn('example-bank', body)
        self.assertNotIn('nlpart7', body)

    def test_addresses(self):
        body = self.scrub_body(SYSTEM_ENTRY)
        self.assertIn('<PrimaryIPAddress kb="CUR">192.0.2.1<', body)
        self.assertIn('<ResourceMonitoringIPAddress>192.0.2.2<', body)
        self.assertIn('<ServiceProcessorIPv6>2001:db8::1<', body)
        # Masks, loopback and software levels are not addresses to hide.
        self.assertIn('<SubnetMask>255.255.240.0<', body)
        self.assertIn('<Loopback>127.0.0.1<', body)
        self.assertIn('>VIOS 3.1.0.11<', body)
        self.assertIn('<VirtualIOServerLevel>3.1.0.11<', body)

    def test_same_address_gets_the_same_placeholder(self):
        first = self.scrub_body('{"IPAddress":"10.197.64.77",'
                                '"Other":"10.9.9.9"}')
        second = self.scrub_body('<IPAddress>10.197.64.77</IPAddress>')
        self.assertEqual('{"IPAddress":"192.0.2.1","Other":"192.0.2.2"}',
                         first)
        self.assertEqual('<IPAddress>192.0.2.1</IPAddress>', second)

    def test_serial_numbers_everywhere(self):
        body = self.scrub_body(SYSTEM_ENTRY)
        self.assertNotIn('214D29V', body)
        self.assertNotIn('Y250NY561JG4', body)
        self.assertIn('<SerialNumber>SERIAL0001</SerialNumber>', body)
        self.assertIn('<SystemName>Server-8286-42A-SNSERIAL0001<', body)
        self.assertIn('<LocationCode>U8286.42A.SERIAL0001-V1-C2<', body)
        self.assertIn('<SerialNumber>SERIAL0002</SerialNumber>', body)

    def test_serial_of_mtms_strings(self):
        body = self.scrub_body('[{"MTMS":"8284-22A*21FD4AV",'
                               '"Name":"21FD4AVX"}]')
        self.assertEqual('[{"MTMS":"8284-22A*SERIAL0001",'
                         '"Name":"21FD4AVX"}]', body)

    def test_serial_element_paths_limit_where_values_come_from(self):
        scrubber = scrub.Scrubber(scrub.ScrubConfig(
            serial_elements=('MachineTypeModelAndSerialNumber/'
                             'SerialNumber',)))
        resp = scrubber.before_record_response(response(SYSTEM_ENTRY))
        body = resp['body']['string']
        self.assertIn('<SerialNumber>SERIAL0001</SerialNumber>', body)
        self.assertIn('<SerialNumber>Y250NY561JG4</SerialNumber>', body)

    def test_configured_serials_and_strings(self):
        scrubber = scrub.Scrubber(scrub.ScrubConfig(
            serials=('ABC1234',), strings=('Acme Bank', 'R12')))
        resp = scrubber.before_record_response(response(
            '<Description>Acme Bank R12 ABC1234</Description>'))
        self.assertEqual('<Description>scrubbed-string-1 scrubbed-string-2'
                         ' SERIAL0001</Description>', resp['body']['string'])

    def test_allowed_hosts_are_kept(self):
        scrubber = scrub.Scrubber(scrub.ScrubConfig(
            allowed_hosts=('Mirror.Lab.Example-Bank.fr',)))
        resp = scrubber.before_record_response(response(
            '<a href="https://mirror.lab.example-bank.fr/x"/>'))
        self.assertEqual('<a href="https://mirror.lab.example-bank.fr/x"/>',
                         resp['body']['string'])

    def test_fqdn_in_text_is_replaced_but_not_types_or_files(self):
        body = self.scrub_body(
            '<Message>ping vios9.lab.example-bank.fr failed; see '
            'trace.log and application/vnd.ibm.powervm.uom+xml at '
            'http://www.w3.org/2005/Atom</Message>')
        self.assertEqual(
            '<Message>ping host-1.example failed; see trace.log and '
            'application/vnd.ibm.powervm.uom+xml at '
            'http://www.w3.org/2005/Atom</Message>', body)

    def test_host_named_in_a_later_message_is_replaced_in_it(self):
        self.scrub_body(SYSTEM_ENTRY)
        body = self.scrub_body('<m>vios1.lab.corp.example-bank.fr</m>')
        self.assertEqual('<m>host-1.example</m>', body)

    def test_job_ids_become_deterministic(self):
        first = self.scrub_body(job_response())
        again = self.scrub_body(job_response('COMPLETED_OK'))
        other = self.scrub_body(job_response(job_id='1702012349999'))
        self.assertNotIn('1702012345678', first + again)
        self.assertIn('<JobID kxe="false" kb="ROR">1000000000001</JobID>',
                      first)
        self.assertIn('/rest/api/uom/jobs/1000000000001"', again)
        self.assertIn('>1000000000002</JobID>', other)

    def test_small_job_ids_are_numbered_too(self):
        body = self.scrub_body(job_response(job_id='2'))
        self.assertIn('/jobs/1000000000001"', body)
        self.assertIn('>1000000000001</JobID>', body)

    def test_job_ids_can_be_kept(self):
        scrubber = scrub.Scrubber(scrub.ScrubConfig(job_ids=False))
        resp = scrubber.before_record_response(response(job_response()))
        self.assertIn('>1702012345678</JobID>', resp['body']['string'])

    def test_gzip_body_is_decompressed_and_scrubbed(self):
        data = gzip.compress(b'<IPAddress>10.1.2.3</IPAddress>')
        resp = self.scrubber.before_record_response(response(data, headers={
            'Content-Encoding': ['gzip'],
            'Content-Length': [str(len(data))]}))
        self.assertEqual(b'<IPAddress>192.0.2.1</IPAddress>',
                         resp['body']['string'])
        self.assertNotIn('Content-Encoding', resp['headers'])
        self.assertEqual(['32'], resp['headers']['Content-Length'])

    def test_body_already_decoded_by_urllib3_loses_its_encoding_header(self):
        # urllib3 2 hands vcrpy the inflated body with the header intact.
        resp = self.scrubber.before_record_response(response(
            b'<a>ok</a>', headers={'content-encoding': ['gzip'],
                                   'Content-Length': ['29']}))
        self.assertEqual(b'<a>ok</a>', resp['body']['string'])
        self.assertEqual({'Content-Length': ['9']}, resp['headers'])

    def test_str_body_loaded_from_a_cassette_loses_the_header(self):
        resp = self.scrubber.before_record_response(response(
            '<a>ok</a>', headers={'Content-Encoding': ['gzip']}))
        self.assertEqual(('<a>ok</a>', {}),
                         (resp['body']['string'], resp['headers']))

    def test_other_encodings_are_left_alone(self):
        resp = self.scrubber.before_record_response(response(
            b'\x8b\x00', headers={'Content-Encoding': ['br']}))
        self.assertEqual({'Content-Encoding': ['br']}, resp['headers'])

    def test_deflate_body(self):
        for data in (zlib.compress(b'<a>10.1.2.3</a>'),
                     zlib.compress(b'<a>10.1.2.3</a>')[2:-4]):
            scrubber = scrub.Scrubber()
            resp = scrubber.before_record_response(response(
                data, headers={'Content-Encoding': ['deflate']}))
            self.assertEqual(b'<a>192.0.2.1</a>', resp['body']['string'])

    def test_binary_body_is_left_alone(self):
        data = b'\xff\xfe\x00binary 10.1.2.3'
        self.assertEqual(data, self.scrub_body(data))

    def test_str_body_stays_str(self):
        self.assertEqual('<a>192.0.2.1</a>',
                         self.scrub_body('<a>10.1.2.3</a>'))

    def test_content_length_follows_the_body(self):
        resp = self.scrubber.before_record_response(response(
            LOGON_RESPONSE.encode('utf-8'),
            headers={'Content-Length': ['576']}))
        self.assertEqual([str(len(resp['body']['string']))],
                         resp['headers']['Content-Length'])

    def test_the_response_passed_in_is_not_changed(self):
        original = response(LOGON_RESPONSE, headers={
            'X-API-Session': [TOKEN]})
        self.scrubber.before_record_response(original)
        self.assertEqual(LOGON_RESPONSE, original['body']['string'])
        self.assertEqual([TOKEN], original['headers']['X-API-Session'])

    def test_xml_stays_well_formed_with_the_same_elements(self):
        body = self.scrub_body(SYSTEM_ENTRY)
        before = etree.fromstring(SYSTEM_ENTRY.encode())
        after = etree.fromstring(body.encode())
        self.assertEqual([element.tag for element in before.iter()],
                         [element.tag for element in after.iter()])

    def test_cdata_password(self):
        body = self.scrub_body('<r><Password><![CDATA[a<b]]></Password></r>')
        self.assertEqual('<r><Password>scrubbed-password</Password></r>',
                         body)


class TestScrubCassetteDict(testtools.TestCase):

    def test_every_secret_kind_leaves_request_and_response(self):
        secrets = {'request password': PASSWORD.replace('&', '&amp;'),
                   'request user': 'neoadmin', 'token': TOKEN,
                   'host': NOVALINK, 'address': '10.197.64.46',
                   'serial': '214D29V', 'cookie': '0000qnsHzMw',
                   'session file': '/home/neoadmin/.pvm/token_4711',
                   'job': '1702012345678'}
        data = cassette(
            (dict_request(BASE + '/rest/api/web/Logon', LOGON_REQUEST,
                          {'X-API-Session': ['']}, 'PUT'),
             response(LOGON_RESPONSE, headers={
                 'Set-Cookie': ['JSESSIONID=0000qnsHzMw; Path=/']})),
            (dict_request(BASE + '/rest/api/web/Logon', method='PUT'),
             response(LOGON_FILE_RESPONSE)),
            (dict_request(BASE + '/rest/api/uom/ManagedSystem',
                          headers={'X-API-Session': [TOKEN],
                                   'Cookie': ['JSESSIONID=0000qnsHzMw']}),
             response(SYSTEM_ENTRY, headers={'X-API-Session': [TOKEN]})),
            (dict_request(BASE + '/rest/api/uom/jobs/1702012345678'),
             response(job_response())))
        scrubbed = scrub.scrub_cassette_dict(data)
        for interaction in scrubbed['interactions']:
            for part in ('request', 'response'):
                text = repr(interaction[part])
                for kind, secret in secrets.items():
                    self.assertNotIn(secret, text, '%s in %s' % (kind, part))
        # The input is left as it was.
        self.assertIn(TOKEN, repr(data))

    def test_a_host_first_named_late_is_replaced_early_too(self):
        # 'nl7.bank' alone does not read as a host name; the URL of the
        # second request shows it is one.
        data = cassette(
            (dict_request('https://192.0.2.9/a'),
             response('<m>moved to nl7.bank</m>')),
            (dict_request('https://nl7.bank/b'), response('')))
        scrubbed = scrub.scrub_cassette_dict(data)
        first = scrubbed['interactions'][0]['response']['body']['string']
        self.assertEqual('<m>moved to host-1.example</m>', first)
        self.assertEqual('https://host-1.example/b',
                         scrubbed['interactions'][1]['request']['uri'])

    def test_same_placeholders_in_urls_and_links(self):
        data = cassette(
            (dict_request(BASE + '/rest/api/uom/ManagedSystem/d47a585d'),
             response(SYSTEM_ENTRY)))
        scrubbed = scrub.scrub_cassette_dict(data)['interactions'][0]
        uri = scrubbed['request']['uri']
        self.assertEqual('https://host-1.example:12443/rest/api/uom/'
                         'ManagedSystem/d47a585d', uri)
        self.assertIn('href="%s"' % uri,
                      scrubbed['response']['body']['string'])

    def test_scrubbing_is_idempotent(self):
        data = cassette(
            (dict_request(BASE + '/rest/api/web/Logon', LOGON_REQUEST,
                          method='PUT'), response(LOGON_RESPONSE)),
            (dict_request(BASE + '/rest/api/uom/ManagedSystem'),
             response(SYSTEM_ENTRY)))
        once = scrub.scrub_cassette_dict(data)
        self.assertEqual(once, scrub.scrub_cassette_dict(once))

    def test_config_is_used(self):
        data = cassette((dict_request('https://192.0.2.9/a'),
                         response('<d>Acme Bank</d>')))
        scrubbed = scrub.scrub_cassette_dict(
            data, scrub.ScrubConfig(strings=('Acme Bank',)))
        self.assertEqual(
            '<d>scrubbed-string-1</d>',
            scrubbed['interactions'][0]['response']['body']['string'])


class TestPlaceholderPools(testtools.TestCase):

    def test_ipv4_placeholders_run_through_three_documentation_nets(self):
        scrubber = scrub.Scrubber()
        text = ' '.join('10.0.%d.%d' % divmod(number, 256)
                        for number in range(1, 256))
        resp = scrubber.before_record_response(response(text))
        words = resp['body']['string'].split()
        self.assertEqual('192.0.2.1', words[0])
        self.assertEqual('192.0.2.254', words[253])
        self.assertEqual('198.51.100.1', words[254])

    def test_running_out_of_ipv4_placeholders_fails(self):
        scrubber = scrub.Scrubber()
        text = ' '.join('10.%d.%d.1' % divmod(number, 256)
                        for number in range(763))
        self.assertRaises(scrub.ScrubError, scrubber.before_record_response,
                          response(text))

    def test_concurrent_hooks_share_one_consistent_mapping(self):
        scrubber = scrub.Scrubber()
        results = {}

        def work(number):
            body = ' '.join('10.1.%d.1' % n for n in range(20))
            results[number] = scrubber.before_record_response(
                response(body))['body']['string']

        threads = [threading.Thread(target=work, args=(number,))
                   for number in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(1, len(set(results.values())))
        self.assertEqual(
            ' '.join('192.0.2.%d' % n for n in range(1, 21)), results[0])


class TestDetectionHelpers(testtools.TestCase):

    def test_is_placeholder(self):
        for value in ('', '  ', 'xxx', '****', 'ibm-power-hmc-hostname',
                      'scrubbed-password', 'host-3.example', 'host-2',
                      'SERIAL0012', '1000000000004', '/scrubbed/x'):
            self.assertTrue(scrub.is_placeholder(value), value)
        for value in ('hunter22', 'host-3.example.com', 'SERIAL1',
                      '1702012345678', '2', '1111', 'xx'):
            self.assertFalse(scrub.is_placeholder(value), value)

    def test_is_safe_host(self):
        for host in ('localhost', 'www.w3.org', 'a9.com', 'x.example',
                     'lab.example.com', 'Host-1.Example', 'a.test'):
            self.assertTrue(scrub.is_safe_host(host), host)
        for host in ('example.com.evil.fr', 'nl1.lab.fr', 'nova'):
            self.assertFalse(scrub.is_safe_host(host), host)
        self.assertTrue(scrub.is_safe_host('nova', allowed=('NOVA',)))

    def test_is_safe_address(self):
        for text in ('127.0.0.1', '::1', '0.0.0.0', '192.0.2.7',
                     '198.51.100.1', '203.0.113.9', '2001:db8::5',
                     '255.255.255.0', '255.255.240.0'):
            self.assertTrue(scrub.is_safe_address(scrub.parse_address(text)),
                            text)
        for text in ('10.0.0.1', '9.1.2.3', '169.254.3.1', 'fe80::1',
                     '255.255.0.255'):
            self.assertFalse(
                scrub.is_safe_address(scrub.parse_address(text)), text)

    def test_iter_addresses_skips_versions_and_non_addresses(self):
        text = ('<IP>10.0.0.1</IP><Level>2.2.5.10</Level> 2.2.6.00 '
                '1.2.3.4.5 15:48:03 00:11:22:33:44:55 [fe80::1]:8 '
                '"OSVersion":"VIOS 3.1.0.11"')
        self.assertEqual(['10.0.0.1', 'fe80::1'],
                         [str(address) for _, address
                          in scrub.iter_addresses(text)])

    def test_split_host_port(self):
        for value, expected in (('nl7:12443', ('nl7', ':12443')),
                                ('nl7', ('nl7', '')),
                                ('[fe80::1]:80', ('[fe80::1]', ':80')),
                                ('[fe80::1]', ('[fe80::1]', '')),
                                ('fe80::1', ('fe80::1', ''))):
            self.assertEqual(expected, scrub.split_host_port(value), value)

    def test_looks_like_fqdn(self):
        for name in ('a.b.fr', 'nl.lab.com', 'x.corp', 'a.b.c.local'):
            self.assertTrue(scrub.looks_like_fqdn(name), name)
        for name in ('module.py', 'trace.log', 'vnd.ibm.powervm.uom',
                     'a.fr'):
            self.assertFalse(scrub.looks_like_fqdn(name), name)
