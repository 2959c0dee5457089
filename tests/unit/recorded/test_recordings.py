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

"""Loaders for real recordings: VCR cassettes and pypowervm captures."""

import base64
import os

import fixtures
import testtools
from lxml import etree

from tests.recorded import recordings

CASSETTE_DIR = 'hmc-manageiq-2022'
# pypowervm ships two .txt files in its own SECTION:name format: XML
# fragments for its builder tests, not captured responses.
NOT_CAPTURES = {'lpar_builder.txt', 'lpar_sections.txt'}

_ATOM = 'http://www.w3.org/2005/Atom'
_UOM = 'http://www.ibm.com/xmlns/systems/power/firmware/uom/mc/2012_10/'


def cassette_path(name):
    return os.path.join(recordings.shared_recordings_dir(), CASSETTE_DIR,
                        name)


def atom_entry(content_xml):
    return ('<entry xmlns="%s"><id>1</id><content type="x">%s</content>'
            '</entry>' % (_ATOM, content_xml))


def atom_feed(*contents):
    entries = ''.join(
        '<entry><id>%d</id><content type="x">%s</content></entry>'
        % (number, content) for number, content in enumerate(contents))
    return '<feed xmlns="%s"><id>f</id>%s</feed>' % (_ATOM, entries)


def objects_of(interactions, resource_type):
    return [element
            for interaction in interactions
            for found_type, element in recordings.iter_atom_objects(
                interaction.response_body)
            if found_type == resource_type]


def child_text(element, name):
    return element.findtext('{%s}%s' % (_UOM, name))


class TestDirectories(testtools.TestCase):

    def test_shared_recordings_sit_beside_the_repository(self):
        shared = recordings.shared_recordings_dir()
        self.assertEqual(
            os.path.join(os.path.dirname(recordings.repo_root()), 'shared',
                         'recorded'), shared)
        self.assertTrue(os.path.isfile(cassette_path('refresher.yml')))

    def test_pypowervm_data_dir_holds_its_captures(self):
        self.assertTrue(os.path.isfile(
            os.path.join(recordings.pypowervm_data_dir(), 'lpar.txt')))


class TestRubyVcr(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.refresher = recordings.load_ruby_vcr(
            cassette_path('refresher.yml'))

    def test_reads_every_interaction_in_order(self):
        self.assertEqual(111, len(self.refresher))
        logon = self.refresher[0]
        self.assertEqual('PUT', logon.method)
        self.assertTrue(logon.uri.endswith('/rest/api/web/Logon'))
        self.assertIn('<LogonRequest', logon.request_body)
        self.assertEqual(200, logon.status)
        self.assertEqual('OK', logon.reason)
        self.assertEqual('refresher.yml', logon.source)
        self.assertEqual('DELETE', self.refresher[-1].method)
        self.assertEqual(204, self.refresher[-1].status)

    def test_headers_keep_first_value_and_all_values(self):
        logon = self.refresher[0]
        self.assertEqual('176', logon.request_headers['Content-Length'])
        # A header VCR stored as a scalar, not a list.
        self.assertEqual('xxx', logon.request_headers['X-Api-Session'])
        self.assertEqual('576', logon.response_headers['Content-Length'])
        self.assertEqual(['576'],
                         logon.response_header_values['Content-Length'])

    def test_finds_the_logical_partition_feeds(self):
        feeds = [interaction for interaction in self.refresher
                 if '/LogicalPartition?' in interaction.uri]
        counts = [len(objects_of([feed], 'LogicalPartition'))
                  for feed in feeds]
        self.assertEqual([8, 7, 19], counts)
        names = {child_text(lpar, 'PartitionName')
                 for lpar in objects_of(feeds, 'LogicalPartition')}
        self.assertEqual(34, len(names))

    def test_finds_the_managed_systems(self):
        systems = objects_of(self.refresher, 'ManagedSystem')
        self.assertEqual(['pollux', 'porthos', 'aramis'],
                         [child_text(system, 'SystemName')
                          for system in systems])

    def test_json_bodies_yield_no_objects(self):
        quick = [interaction for interaction in self.refresher
                 if interaction.uri.endswith('ManagedSystem/quick/All')]
        self.assertEqual(1, len(quick))
        self.assertTrue(quick[0].response_body.startswith('[{'))
        self.assertEqual([], list(recordings.iter_atom_objects(
            quick[0].response_body)))

    def test_base64_bodies_are_decoded(self):
        body = atom_entry('<VirtualSwitch xmlns="%s"/>' % _UOM)
        encoded = base64.encodebytes(body.encode('utf-8')).decode('ascii')
        indented = ''.join('        %s\n' % line
                           for line in encoded.splitlines())
        cassette = (
            'http_interactions:\n'
            '- request:\n'
            '    method: get\n'
            '    uri: https://hmc/rest/api/uom/VirtualSwitch\n'
            '    body:\n'
            '      encoding: US-ASCII\n'
            "      string: ''\n"
            '    headers: {}\n'
            '  response:\n'
            '    status:\n'
            '      code: 200\n'
            '      message: OK\n'
            '    headers:\n'
            '      Set-Cookie:\n'
            '      - a=1\n'
            '      - b=2\n'
            '    body:\n'
            '      encoding: ASCII-8BIT\n'
            '      base64_string: |\n' + indented)
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'b64.yml')
        with open(path, 'w', encoding='utf-8') as out:
            out.write(cassette)
        [interaction] = recordings.load_ruby_vcr(path)
        self.assertEqual(body, interaction.response_body)
        self.assertEqual('', interaction.request_body)
        self.assertEqual('a=1', interaction.response_headers['Set-Cookie'])
        self.assertEqual(['a=1', 'b=2'],
                         interaction.response_header_values['Set-Cookie'])
        self.assertEqual(
            ['VirtualSwitch'],
            [kind for kind, _ in recordings.iter_atom_objects(
                interaction.response_body)])


class TestPypowervmCapture(testtools.TestCase):

    def _write(self, text):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'capture.txt')
        with open(path, 'w', encoding='utf-8') as out:
            out.write(text)
        return path

    def test_every_bundled_capture_parses(self):
        data_dir = recordings.pypowervm_data_dir()
        names = sorted(name for name in os.listdir(data_dir)
                       if name.endswith('.txt'))
        rejected = set()
        for name in names:
            path = os.path.join(data_dir, name)
            try:
                interactions = recordings.load_pypowervm_capture(path)
            except recordings.CaptureFormatError:
                rejected.add(name)
                continue
            self.assertEqual(1, len(interactions), name)
            interaction = interactions[0]
            self.assertTrue(interaction.response_body.strip(), name)
            self.assertIsInstance(interaction.status, int)
            # Parsing every object proves the XML bodies are well formed.
            list(recordings.iter_atom_objects(interaction.response_body))
        self.assertEqual(NOT_CAPTURES, rejected)
        self.assertGreater(len(names) - len(rejected), 70)

    def test_capture_fields(self):
        path = os.path.join(recordings.pypowervm_data_dir(), 'lpar.txt')
        [interaction] = recordings.load_pypowervm_capture(path)
        self.assertEqual('GET', interaction.method)
        self.assertEqual('LogicalPartition', interaction.uri)
        self.assertEqual(200, interaction.status)
        self.assertEqual('lpar.txt', interaction.source)
        self.assertEqual(21, len(objects_of([interaction],
                                            'LogicalPartition')))

    def test_string_status_becomes_int(self):
        path = os.path.join(recordings.pypowervm_data_dir(),
                            'fake_httperror_service_unavail.txt')
        [interaction] = recordings.load_pypowervm_capture(path)
        self.assertEqual(503, interaction.status)
        self.assertEqual('Service Unavailable', interaction.reason)

    def test_several_responses_in_one_file(self):
        path = self._write(
            '# comment\n'
            'INFO{\n'
            "{'comment': None, 'path': 'A', 'reason': 'OK', 'status': 200}\n"
            'END OF SECTION}\n'
            'HEADERS{\n'
            "{'etag': '1', 'content-type': 'application/atom+xml'}\n"
            'END OF SECTION}\n'
            'BODY{\n'
            '<a>\n'
            '  <b/>\n'
            '</a>\n'
            'END OF SECTION}\n'
            '\n'
            'INFO{\n'
            "{'comment': 'x', 'path': 'B',\n"
            " 'reason': 'Not Found', 'status': '404'}\n"
            'END OF SECTION}\n'
            'BODY{\n'
            'text\n'
            'END OF SECTION}\n')
        first, second = recordings.load_pypowervm_capture(path)
        self.assertEqual(('A', 200, '<a>\n  <b/>\n</a>'),
                         (first.uri, first.status, first.response_body))
        self.assertEqual('1', first.response_headers['etag'])
        self.assertEqual(['1'], first.response_header_values['etag'])
        self.assertEqual(('B', 404, 'Not Found', 'text', {}),
                         (second.uri, second.status, second.reason,
                          second.response_body, second.response_headers))

    def test_stray_line_is_rejected(self):
        path = self._write('INFO{\n{}\nEND OF SECTION}\nSECTION:x\n')
        err = self.assertRaises(recordings.CaptureFormatError,
                                recordings.load_pypowervm_capture, path)
        self.assertIn(':4: unexpected line', str(err))

    def test_unterminated_section_is_rejected(self):
        path = self._write("INFO{\n{'path': 'A'}\n")
        err = self.assertRaises(recordings.CaptureFormatError,
                                recordings.load_pypowervm_capture, path)
        self.assertIn('never ends', str(err))

    def test_body_before_info_is_rejected(self):
        path = self._write('BODY{\n<a/>\nEND OF SECTION}\n')
        self.assertRaises(recordings.CaptureFormatError,
                          recordings.load_pypowervm_capture, path)


class TestIterAtomObjects(testtools.TestCase):

    def test_feed_yields_first_element_of_each_content(self):
        body = atom_feed(
            '<!-- note --><LogicalPartition xmlns="%s"><A/></LogicalPartition>'
            '<Ignored xmlns="%s"/>' % (_UOM, _UOM),
            '<u:VirtualIOServer xmlns:u="%s"/>' % _UOM)
        found = list(recordings.iter_atom_objects(body))
        self.assertEqual(['LogicalPartition', 'VirtualIOServer'],
                         [kind for kind, _ in found])
        self.assertEqual('{%s}A' % _UOM, found[0][1][0].tag)

    def test_entry_yields_its_object(self):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                + atom_entry('<ManagedSystem xmlns="%s"/>' % _UOM))
        self.assertEqual(['ManagedSystem'],
                         [kind for kind, _ in
                          recordings.iter_atom_objects(body)])

    def test_entry_without_content_yields_nothing(self):
        body = '<feed xmlns="%s"><entry><id>1</id></entry></feed>' % _ATOM
        self.assertEqual([], list(recordings.iter_atom_objects(body)))

    def test_non_atom_and_empty_bodies_yield_nothing(self):
        for body in ('', '   ', '{"a": 1}', '[1]',
                     '<LogonResponse xmlns="x"/>'):
            self.assertEqual([], list(recordings.iter_atom_objects(body)),
                             body)

    def test_broken_xml_raises(self):
        self.assertRaises(etree.XMLSyntaxError, list,
                          recordings.iter_atom_objects('<feed><entry>'))

    def test_entities_are_not_expanded(self):
        body = ('<!DOCTYPE feed [<!ENTITY boom "EXPANDED">]>'
                + atom_feed('<Tier xmlns="%s"><Name>&boom;</Name></Tier>'
                            % _UOM))
        [(kind, tier)] = recordings.iter_atom_objects(body)
        self.assertEqual('Tier', kind)
        self.assertNotIn('EXPANDED', etree.tostring(tier).decode())

    def test_external_entities_are_not_loaded(self):
        secret = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'secret.txt')
        with open(secret, 'w', encoding='utf-8') as out:
            out.write('SECRET')
        body = ('<!DOCTYPE feed [<!ENTITY leak SYSTEM "file://%s">]>'
                % secret
                + atom_feed('<Tier xmlns="%s"><Name>&leak;</Name></Tier>'
                            % _UOM))
        [(_, tier)] = recordings.iter_atom_objects(body)
        self.assertNotIn('SECRET', etree.tostring(tier).decode())
