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

"""The cassette secret scanner."""

import base64
import gzip
import io
import ipaddress
import json
import os

import fixtures
import testtools
import yaml

from tests.recorded import scanner
from tests.recorded import scrub

WEB = 'http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/'
CLEAN_URI = 'https://host-1.example:12443/rest/api/uom/ManagedSystem'
TOKEN = 'PUIoR6x0kP6fQqA7qZ8sLZQJ8MLx9JHfLCYzT4oGFSE2WaGIha='
PEM = ('-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n'
       '-----END RSA PRIVATE KEY-----')


def interaction(uri=CLEAN_URI, request_body=None, request_headers=None,
                body='', headers=None):
    return {
        'request': {'method': 'GET', 'uri': uri, 'body': request_body,
                    'headers': request_headers or {}},
        'response': {'status': {'code': 200, 'message': 'OK'},
                     'headers': headers or {}, 'body': {'string': body}},
    }


def cassette(*interactions):
    return {'version': 1, 'interactions': list(interactions)}


CLEAN = cassette(
    interaction(
        uri='https://host-1.example:12443/rest/api/web/Logon',
        request_body=('<LogonRequest xmlns="%s"><UserID>scrubbed-user'
                      '</UserID><Password>scrubbed-password</Password>'
                      '</LogonRequest>' % WEB),
        request_headers={'X-API-Session': ['']},
        body=('<LogonResponse xmlns="%s"><X-API-Session>scrubbed-session'
              '</X-API-Session></LogonResponse>' % WEB),
        headers={'Set-Cookie': ['JSESSIONID=scrubbed-cookie; Path=/; '
                                'Domain=host-1.example; Secure']}),
    interaction(
        request_headers={'X-API-Session': ['scrubbed-session'],
                         'Cookie': ['JSESSIONID=scrubbed-cookie'],
                         'Authorization': ['Basic scrubbed-credentials'],
                         'Host': ['[::1]:8080'],
                         'User-Agent': ['python-requests/2.34.2']},
        body=('<feed xmlns="http://www.w3.org/2005/Atom" '
              'xmlns:ns2="http://a9.com/-/spec/opensearch/1.1/">'
              '<link href="%s"/><IPAddress>192.0.2.4</IPAddress>'
              '<IPv6>2001:db8::1</IPv6><Mask>255.255.252.0</Mask>'
              '<Lo>127.0.0.1</Lo><HostName>host-2</HostName>'
              '<OperatingSystemVersion>VIOS 3.1.0.11'
              '</OperatingSystemVersion><Level>2.2.5.10</Level>'
              '<Serial>SERIAL0001</Serial><Id>%s</Id></feed>'
              % (CLEAN_URI, 'd47a585d-eaa8-3a54-b4dc-93346276ea37')),
        headers={'ETag': ['LogicalPartition_3F3D399B-DFF3-4977-8881-'
                          'C194AA47CD3A_20220422T135956+0000_30.json'],
                 'X-Transaction-ID': ['XT10137778']}),
    interaction(uri='https://ibm-power-hmc-hostname:12443/x?password=xxx',
                request_headers={'X-Api-Session': 'xxx'},
                body='<Password>ibm-power-hmc-password</Password>'),
)

# (kind, location, interaction) for each planted secret.
PLANTED = [
    (scanner.PASSWORD, 'request.body', interaction(
        request_body='<LogonRequest xmlns="%s"><Password>hunter22'
                     '</Password></LogonRequest>' % WEB)),
    (scanner.PASSWORD, 'request.body', interaction(
        request_body='{"user": "neo", "newPassword": "hunter22"}')),
    (scanner.PASSWORD, 'request.uri', interaction(
        uri=CLEAN_URI + '?user=neo&passwd=hunter22')),
    (scanner.PASSWORD, 'response.body', interaction(
        body='login with password=hunter22 failed')),
    (scanner.PASSWORD, 'response.body', interaction(
        body='<r><AdminPassword><![CDATA[hunter22]]></AdminPassword></r>')),
    (scanner.SESSION_TOKEN, 'request.headers.X-API-Session', interaction(
        request_headers={'X-API-Session': [TOKEN]})),
    (scanner.SESSION_TOKEN, 'response.headers.x-api-session', interaction(
        headers={'x-api-session': ['abcd']})),
    (scanner.SESSION_TOKEN, 'response.body', interaction(
        body='<LogonResponse xmlns="%s"><X-API-Session>%s</X-API-Session>'
             '</LogonResponse>' % (WEB, TOKEN))),
    (scanner.SESSION_FILE, 'response.body', interaction(
        body='<LogonResponse xmlns="%s"><X-API-SessionFile>/home/neo/tok'
             '</X-API-SessionFile></LogonResponse>' % WEB)),
    (scanner.CREDENTIALS, 'request.headers.Authorization', interaction(
        request_headers={'Authorization': ['Basic bmVvOmh1bnRlcjIy']})),
    (scanner.COOKIE, 'request.headers.Cookie', interaction(
        request_headers={'Cookie': ['a=scrubbed-cookie; JSESSIONID=0000q']})),
    (scanner.COOKIE, 'response.headers.Set-Cookie', interaction(
        headers={'Set-Cookie': ['CCFWSESSION=1125EAF9; Path=/; Secure']})),
    (scanner.COOKIE, 'response.body', interaction(
        body='Set JSESSIONID=0000qnsHzMw-UAQPrFwtNaS5qcC in the jar')),
    (scanner.TOKEN, 'response.headers.X-Custom-Auth', interaction(
        headers={'X-Custom-Auth': ['Op9jsvbqtucESmDOh2y7qqEO4GGcZLbuk_MUR3'
                                   'NLw5S_ueewLVzMW2b3']})),
    (scanner.PRIVATE_KEY, 'response.body', interaction(body=PEM)),
    (scanner.ADDRESS, 'request.uri', interaction(
        uri='https://10.197.64.46:12443/rest/api/uom/ManagedSystem')),
    (scanner.ADDRESS, 'response.body', interaction(
        body='<ResourceMonitoringIPAddress>9.1.2.3'
             '</ResourceMonitoringIPAddress>')),
    (scanner.ADDRESS, 'response.body', interaction(
        body='{"IPAddress": "fe80::214:5eff:fe8c:2c81"}')),
    (scanner.ADDRESS, 'response.headers.Location', interaction(
        headers={'Location': ['https://[2a00:1450::1]/x']})),
    (scanner.HOST, 'request.uri', interaction(
        uri='https://nl7.lab.acme.fr:12443/rest/api/uom/ManagedSystem')),
    (scanner.HOST, 'request.headers.Host', interaction(
        request_headers={'Host': ['nl7:12443']})),
    (scanner.ADDRESS, 'request.headers.Host', interaction(
        request_headers={'Host': ['[fe80::1]:12443']})),
    (scanner.HOST, 'response.body', interaction(
        body='<HostName>vios1</HostName>')),
    (scanner.HOST, 'response.body', interaction(
        body='<Message>cannot reach vios1.lab.acme.fr</Message>')),
    (scanner.HOST, 'response.headers.Set-Cookie', interaction(
        headers={'Set-Cookie': ['a=scrubbed-cookie; Domain=.acme.com']})),
]


class TestScanCassette(testtools.TestCase):

    def test_clean_cassette_passes(self):
        self.assertEqual([], scanner.scan_cassette(CLEAN))

    def test_each_planted_secret_is_found(self):
        for kind, location, planted in PLANTED:
            findings = scanner.scan_cassette(
                cassette(interaction(), planted), 'c.yaml')
            self.assertEqual([(kind, location, 1, 'c.yaml')],
                             [(f.kind, f.location, f.index, f.path)
                              for f in findings], location)

    def test_excerpt_hides_the_secret(self):
        [finding] = scanner.scan_cassette(cassette(interaction(
            request_headers={'X-API-Session': [TOKEN]})))
        self.assertNotIn(TOKEN[2:12], finding.excerpt)
        self.assertEqual('PU…[%d chars]' % len(TOKEN), finding.excerpt)
        self.assertEqual(scanner.fingerprint(scanner.SESSION_TOKEN, TOKEN),
                         finding.fingerprint)
        self.assertIn('interaction 0: request.headers.X-API-Session: '
                      'session-token: PU…', str(finding))

    def test_excerpt_shows_context(self):
        [finding] = scanner.scan_cassette(cassette(interaction(
            body='<Message>\n  cannot reach vios1.lab.acme.fr now'
                 '</Message>')))
        self.assertEqual('Message> cannot reach vi…[17 chars] now'
                         '</Message>', finding.excerpt)

    def test_one_secret_is_reported_once_per_place(self):
        findings = scanner.scan_cassette(cassette(interaction(
            body='10.1.1.1 and 10.1.1.1 again, then 10.1.1.2')))
        self.assertEqual(2, len(findings))

    def test_ruby_vcr_bodies_including_base64(self):
        encoded = base64.b64encode(b'<Password>hunter22</Password>')
        document = {'http_interactions': [{
            'request': {'method': 'get', 'uri': CLEAN_URI,
                        'body': {'encoding': 'US-ASCII', 'string': ''},
                        'headers': {'X-Api-Session': TOKEN}},
            'response': {'status': {'code': 200, 'message': 'OK'},
                         'headers': {},
                         'body': {'encoding': 'ASCII-8BIT',
                                  'base64_string': encoded.decode()}}}]}
        self.assertEqual(
            [(scanner.SESSION_TOKEN, 'request.headers.X-Api-Session'),
             (scanner.PASSWORD, 'response.body')],
            [(f.kind, f.location)
             for f in scanner.scan_cassette(document)])

    def test_bytes_gzip_and_file_bodies(self):
        for body in (b'10.1.1.1', gzip.compress(b'10.1.1.1'),
                     {'string': b'10.1.1.1'}, io.BytesIO(b'10.1.1.1')):
            document = cassette(interaction(request_body=body))
            self.assertEqual([scanner.ADDRESS],
                             [f.kind for f in
                              scanner.scan_cassette(document)], repr(body))

    def test_policy_accepts_hosts_networks_and_fingerprints(self):
        document = cassette(interaction(
            uri='https://nl7.lab.acme.fr/x',
            body='10.197.64.46 192.168.1.1',
            request_headers={'X-API-Session': [TOKEN]}))
        self.assertEqual(4, len(scanner.scan_cassette(document)))
        policy = scanner.ScanPolicy(
            allowed_hosts=frozenset({'NL7.lab.acme.fr'}),
            allowed_networks=(ipaddress.ip_network('10.197.64.0/20'),),
            allowed_fingerprints=frozenset({scanner.fingerprint(
                scanner.SESSION_TOKEN, TOKEN)}))
        [left] = scanner.scan_cassette(document, policy=policy)
        self.assertEqual('19…[11 chars]', left.excerpt[-13:])
        self.assertEqual(scanner.ADDRESS, left.kind)

    def test_not_a_cassette(self):
        for document in ({'something': []}, [], 'text', None):
            self.assertRaises(scanner.CassetteFormatError,
                              scanner.scan_cassette, document)

    def test_scrubbed_cassette_passes(self):
        dirty = cassette(*(planted for _, _, planted in PLANTED))
        self.assertEqual(len(PLANTED), len(scanner.scan_cassette(dirty)))
        scrubbed = scrub.scrub_cassette_dict(dirty)
        self.assertEqual([], scanner.scan_cassette(scrubbed))


class TestFiles(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, name, document, dump=yaml.safe_dump):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as out:
            out.write(dump(document))
        return path

    def test_yaml_and_json_files(self):
        clean = self.write('clean.yaml', CLEAN)
        dirty = self.write('dirty.json', cassette(PLANTED[0][2]), json.dumps)
        self.assertEqual([], scanner.scan_file(clean))
        [finding] = scanner.scan_file(dirty)
        self.assertEqual((dirty, 0, scanner.PASSWORD),
                         (finding.path, finding.index, finding.kind))

    def test_vcrpy_written_cassette_with_bytes_body(self):
        path = self.write('vcr.yaml', cassette(interaction(
            body=b'<IPAddress>10.1.1.1</IPAddress>')), yaml.dump)
        self.assertEqual([scanner.ADDRESS],
                         [f.kind for f in scanner.scan_file(path)])

    def test_directories_are_searched_for_cassettes(self):
        self.write('a/one.yml', cassette(PLANTED[0][2]))
        self.write('a/b/two.yaml', CLEAN)
        self.write('a/b/three.json', cassette(PLANTED[1][2]), json.dumps)
        self.write('a/README.rst', 'password=hunter22')
        files = scanner.cassette_files([self.dir])
        self.assertEqual(['a/b/three.json', 'a/b/two.yaml', 'a/one.yml'],
                         [os.path.relpath(path, self.dir) for path in files])
        self.assertEqual(2, len(scanner.scan_paths([self.dir])))

    def test_check_paths_raises_with_findings(self):
        self.write('dirty.yml', cassette(PLANTED[0][2]))
        error = self.assertRaises(scanner.SecretsFound, scanner.check_paths,
                                  [self.dir])
        self.assertEqual(1, len(error.findings))
        self.assertIn('hu…[8 chars]', str(error))
        self.assertNotIn('hunter22', str(error))

    def test_check_paths_passes_clean_files(self):
        self.write('clean.yml', CLEAN)
        scanner.check_paths([self.dir])

    def test_binary_file_is_a_format_error(self):
        path = os.path.join(self.dir, 'binary.yml')
        with open(path, 'wb') as out:
            out.write(b'\xff\xfe\x00')
        self.assertRaises(scanner.CassetteFormatError, scanner.scan_file,
                          path)

    def test_broken_yaml_is_a_format_error(self):
        path = os.path.join(self.dir, 'broken.yml')
        with open(path, 'w', encoding='utf-8') as out:
            out.write('interactions: [unclosed\n')
        error = self.assertRaises(scanner.CassetteFormatError,
                                  scanner.scan_file, path)
        self.assertIn(path, str(error))


class TestMain(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.out = io.StringIO()

    def write(self, name, document):
        path = os.path.join(self.dir, name)
        with open(path, 'w', encoding='utf-8') as out:
            out.write(yaml.safe_dump(document))
        return path

    def test_exit_1_and_findings_printed(self):
        path = self.write('dirty.yml', cassette(interaction(
            uri='https://10.1.2.3/x')))
        self.assertEqual(1, scanner.main([path], self.out))
        output = self.out.getvalue()
        self.assertIn('%s: interaction 0: request.uri: address:' % path,
                      output)
        self.assertIn('1 finding(s)', output)
        self.assertNotIn('10.1.2.3', output)

    def test_exit_0_when_clean(self):
        self.assertEqual(0, scanner.main([self.write('c.yml', CLEAN)],
                                         self.out))
        self.assertEqual('', self.out.getvalue())

    def test_allow_options(self):
        path = self.write('dirty.yml', cassette(interaction(
            uri='https://nl7.lab.acme.fr/x', body='10.1.2.3',
            request_headers={'X-API-Session': [TOKEN]})))
        mark = scanner.fingerprint(scanner.SESSION_TOKEN, TOKEN)
        self.assertEqual(0, scanner.main(
            [path, '--allow-host', 'nl7.lab.acme.fr', '--allow-network',
             '10.0.0.0/8', '--allow-fingerprint', mark], self.out))

    def test_exit_2_for_files_that_are_not_cassettes(self):
        path = self.write('other.yml', {'key': 'value'})
        self.assertEqual(2, scanner.main([path], self.out))
        self.assertIn('no interactions', self.out.getvalue())
        self.assertEqual(2, scanner.main([path + '.missing'], self.out))
