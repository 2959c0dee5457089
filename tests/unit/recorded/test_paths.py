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

"""Element paths, coverage and sibling order of XML objects."""

import os

import testtools
from lxml import etree

from tests.recorded import paths, recordings

_ATOM = 'http://www.w3.org/2005/Atom'
_UOM = 'http://www.ibm.com/xmlns/systems/power/firmware/uom/mc/2012_10/'

LPAR_XML = """
<LogicalPartition xmlns="%s" xmlns:k="urn:k" schemaVersion="V1_0">
  <Metadata><Atom/></Metadata>
  <!-- comments are not elements -->
  <PartitionName kb="CUR">vm1</PartitionName>
  <PartitionMemoryConfiguration>
    <DesiredMemory>2048</DesiredMemory>
    <k:MaximumMemory>4096</k:MaximumMemory>
  </PartitionMemoryConfiguration>
  <ClientNetworkAdapters>
    <link href="a"/>
    <link href="b"/>
  </ClientNetworkAdapters>
</LogicalPartition>
""" % _UOM

LPAR_PATHS = [
    'Metadata',
    'Metadata/Atom',
    'PartitionName',
    'PartitionMemoryConfiguration',
    'PartitionMemoryConfiguration/DesiredMemory',
    'PartitionMemoryConfiguration/MaximumMemory',
    'ClientNetworkAdapters',
    'ClientNetworkAdapters/link',
    'ClientNetworkAdapters/link',
]


def xml(text):
    return etree.fromstring(text.strip())


def feed_interaction(*objects):
    entries = ''.join('<entry><content type="x">%s</content></entry>'
                      % obj for obj in objects)
    body = '<feed xmlns="%s">%s</feed>' % (_ATOM, entries)
    return recordings.Interaction(
        method='GET', uri='/x', request_headers={}, request_body='',
        status=200, reason='OK', response_headers={},
        response_header_values={}, response_body=body, source='test')


def ssp_xml(*unit_children):
    units = ''.join('<LogicalUnit>%s</LogicalUnit>' % children
                    for children in unit_children)
    return ('<SharedStoragePool xmlns="%s"><StoragePoolName/>'
            '<LogicalUnits>%s</LogicalUnits></SharedStoragePool>'
            % (_UOM, units))


class TestElementPaths(testtools.TestCase):

    def test_paths_are_local_names_with_intermediates(self):
        self.assertEqual(set(LPAR_PATHS),
                         paths.element_paths(xml(LPAR_XML)))

    def test_iteration_is_in_document_order_with_repeats(self):
        self.assertEqual(LPAR_PATHS,
                         list(paths.iter_element_paths(xml(LPAR_XML))))

    def test_leaf_root_has_no_paths(self):
        self.assertEqual(set(), paths.element_paths(xml('<a x="1">t</a>')))

    def test_nested_objects_follow_a_path_of_local_names(self):
        ssp = xml(ssp_xml('<UnitName>a</UnitName>', '<UnitName>b</UnitName>'))
        units = paths.nested_objects(ssp, 'LogicalUnits/LogicalUnit')
        self.assertEqual(['a', 'b'],
                         [unit.findtext('{%s}UnitName' % _UOM)
                          for unit in units])
        self.assertEqual([], paths.nested_objects(ssp, 'LogicalUnits/Tier'))
        self.assertEqual(1, len(paths.nested_objects(ssp, 'StoragePoolName')))


class TestCollect(testtools.TestCase):

    def test_collect_paths_unions_objects_of_one_type(self):
        interactions = [
            feed_interaction(
                '<VirtualSwitch xmlns="%s"><SwitchID/><SwitchName/>'
                '</VirtualSwitch>' % _UOM,
                '<VirtualNetwork xmlns="%s"><NetworkName/></VirtualNetwork>'
                % _UOM),
            feed_interaction(
                '<VirtualSwitch xmlns="%s"><SwitchName/><SwitchMode/>'
                '</VirtualSwitch>' % _UOM),
        ]
        self.assertEqual(['SwitchID', 'SwitchName', 'SwitchMode'],
                         paths.collect_paths(interactions, 'VirtualSwitch'))
        self.assertEqual([], paths.collect_paths(interactions, 'Tier'))

    def test_collect_nested_paths_is_relative_to_the_nested_object(self):
        interactions = [
            feed_interaction(ssp_xml('<UnitName/>',
                                     '<UnitName/><UnitCapacity/>')),
            feed_interaction(ssp_xml('<ThinDevice/>')),
        ]
        self.assertEqual(
            ['UnitName', 'UnitCapacity', 'ThinDevice'],
            paths.collect_nested_paths(interactions, 'SharedStoragePool',
                                       'LogicalUnits', 'LogicalUnit'))

    def test_collect_nested_paths_with_empty_child_path(self):
        interactions = [feed_interaction(
            '<VolumeGroup xmlns="%s"><VirtualDisk><DiskName/></VirtualDisk>'
            '</VolumeGroup>' % _UOM)]
        self.assertEqual(
            ['DiskName'],
            paths.collect_nested_paths(interactions, 'VolumeGroup', '',
                                       'VirtualDisk'))

    def test_real_shared_storage_pool_logical_units(self):
        path = os.path.join(recordings.shared_recordings_dir(),
                            'hmc-manageiq-2022',
                            'refresher_storage_8f2a83e9-f4c7-35e5-987e-'
                            '9ac54a498dab.yml')
        interactions = recordings.load_ruby_vcr(path)
        lu_paths = paths.collect_nested_paths(
            interactions, 'SharedStoragePool', 'LogicalUnits', 'LogicalUnit')
        self.assertIn('UnitName', lu_paths)
        self.assertIn('UniqueDeviceID', lu_paths)
        self.assertNotIn('LogicalUnits', lu_paths)
        self.assertIn('LogicalUnits/LogicalUnit/UnitName',
                      paths.collect_paths(interactions, 'SharedStoragePool'))


class TestCoverage(testtools.TestCase):

    def test_ratio_missing_and_extra(self):
        result = paths.coverage(['b', 'a', 'c', 'd', 'a'],
                                {'a', 'c', 'z', 'y'})
        self.assertEqual(4, result.real_count)
        self.assertEqual(2, result.covered_count)
        self.assertEqual(0.5, result.ratio)
        self.assertEqual(('b', 'd'), result.missing)
        self.assertEqual(('y', 'z'), result.extra)

    def test_full_coverage(self):
        result = paths.coverage({'a'}, {'a'})
        self.assertEqual((1.0, (), ()),
                         (result.ratio, result.missing, result.extra))

    def test_nothing_real_counts_as_covered(self):
        result = paths.coverage([], ['a'])
        self.assertEqual((1.0, ('a',)), (result.ratio, result.extra))


class TestOrderDisagreements(testtools.TestCase):

    def test_same_order_agrees(self):
        self.assertEqual([], paths.order_disagreements(xml(LPAR_XML),
                                                       xml(LPAR_XML)))

    def test_swapped_siblings_are_reported_with_their_parent(self):
        real = xml('<r><a/><m><x/><y/><z/></m><b/></r>')
        sim = xml('<r xmlns="urn:sim"><b/><a/><m><x/><z/><y/></m></r>')
        self.assertEqual(
            [('', 'a', 'b'), ('', 'm', 'b'), ('m', 'y', 'z')],
            paths.order_disagreements(real, sim))

    def test_tags_on_one_side_only_are_not_compared(self):
        real = xml('<r><a/><b/><c/></r>')
        sim = xml('<r><new/><a/><c/></r>')
        self.assertEqual([], paths.order_disagreements(real, sim))

    def test_repeated_tags_compare_by_first_occurrence(self):
        real = xml('<r><a/><a/><b/></r>')
        sim = xml('<r><a/><b/><a/></r>')
        self.assertEqual([], paths.order_disagreements(real, sim))

    def test_order_pooled_over_elements_sharing_a_path(self):
        # One real unit omits b; the other shows a before b.
        real = xml('<r><u><a/><c/></u><u><a/><b/></u></r>')
        sim = xml('<r><u><b/><a/></u></r>')
        self.assertEqual([('u', 'a', 'b')],
                         paths.order_disagreements(real, sim))

    def test_pairs_real_data_orders_both_ways_are_ignored(self):
        real = xml('<r><u><a/><b/></u><u><b/><a/></u></r>')
        sim = xml('<r><u><b/><a/></u></r>')
        self.assertEqual([], paths.order_disagreements(real, sim))


class TestFormatTable(testtools.TestCase):

    def test_table(self):
        rows = [
            ('LogicalPartition', paths.coverage(['a', 'b', 'c', 'd'],
                                                ['a', 'b', 'c'])),
            ('Tier', paths.coverage(['a'], [])),
        ]
        self.assertEqual(
            'type              real paths  covered  ratio  missing\n'
            '----------------  ----------  -------  -----  -------\n'
            'LogicalPartition           4        3  75.0%        1\n'
            'Tier                       1        0   0.0%        1\n',
            paths.format_table(rows))

    def test_empty_table_has_header_only(self):
        self.assertEqual(
            'type  real paths  covered  ratio  missing\n'
            '----  ----------  -------  -----  -------\n',
            paths.format_table([]))
