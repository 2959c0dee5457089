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

"""The pure parts of the fidelity report: value kinds and the baseline."""

import json
import os

import fixtures
import testtools
from lxml import etree

from tests.recorded import fidelity

_UOM = 'http://www.ibm.com/xmlns/systems/power/firmware/uom/mc/2012_10/'


def _element(body):
    return etree.fromstring(body % _UOM)


REAL = _element("""
<LogicalPartition xmlns="%s">
  <PartitionName>vm1</PartitionName>
  <PartitionID>3</PartitionID>
  <PartitionUUID>0A1B2C3D-0000-4000-8000-00000000AAAA</PartitionUUID>
  <Memory><Desired>2048</Desired><Order>1</Order></Memory>
</LogicalPartition>""")

SIM = _element("""
<LogicalPartition xmlns="%s">
  <Memory><Order>1</Order><Desired>2048.0</Desired></Memory>
  <PartitionName>vm1</PartitionName>
  <PartitionUUID>0a1b2c3d-0000-4000-8000-00000000aaaa</PartitionUUID>
</LogicalPartition>""")


def _summary(coverage=0.5, missing=('A', 'B'), order=1, kinds=2):
    return {'real': 4, 'covered': 2, 'coverage': coverage,
            'order_disagreements': order, 'type_mismatches': kinds,
            'missing': list(missing)}


class TestClassify(testtools.TestCase):

    def test_kinds(self):
        cases = {
            None: fidelity.EMPTY, '': fidelity.EMPTY, ' \n ': fidelity.EMPTY,
            'true': fidelity.BOOL, 'False': fidelity.BOOL,
            '42': fidelity.INT, '-7': fidelity.INT, ' 0 ': fidelity.INT,
            '0.5': fidelity.FLOAT, '2.': fidelity.FLOAT,
            '1.5E+3': fidelity.FLOAT,
            '3e8a6e12-8d6b-4a4f-9c3e-6c4f00f5a1b2': fidelity.UUID,
            '3E8A6E12-8D6B-4A4F-9C3E-6C4F00F5A1B2': fidelity.UUID,
            'https://host:12443/rest/api/uom/Cluster': fidelity.HREF,
            'vm1': fidelity.TEXT, 'U78CB.001.WZS0JZB-P1': fidelity.TEXT,
            'true false': fidelity.TEXT, '1.2.3': fidelity.TEXT,
        }
        self.assertEqual(cases, {text: fidelity.classify(text)
                                 for text in cases})


class TestLeafKinds(testtools.TestCase):

    def test_leaf_texts_skip_containers(self):
        self.assertEqual(
            [('PartitionName', 'vm1'), ('PartitionID', '3'),
             ('PartitionUUID', '0A1B2C3D-0000-4000-8000-00000000AAAA'),
             ('Memory/Desired', '2048'), ('Memory/Order', '1')],
            list(fidelity.iter_leaf_texts(REAL)))

    def test_kinds_pool_over_objects(self):
        other = _element('<LogicalPartition xmlns="%s"><PartitionID/>'
                         '</LogicalPartition>')
        kinds = fidelity.leaf_kinds([REAL, other])
        self.assertEqual({fidelity.INT, fidelity.EMPTY},
                         kinds['PartitionID'])

    def test_mismatch_only_for_kinds_real_never_has(self):
        real = {'a': {fidelity.INT, fidelity.EMPTY}, 'b': {fidelity.INT},
                'only_real': {fidelity.TEXT}}
        sim = {'a': {fidelity.EMPTY}, 'b': {fidelity.FLOAT, fidelity.INT},
               'only_sim': {fidelity.TEXT}}
        self.assertEqual([('b', ('int',), ('float', 'int'))],
                         fidelity.kind_mismatches(real, sim))


class TestCompare(testtools.TestCase):

    def test_report_of_one_type(self):
        report = fidelity.compare('LogicalPartition', [REAL], [SIM])
        self.assertEqual(('PartitionID',), report.coverage.missing)
        self.assertEqual((('', 'PartitionName', 'Memory'),
                          ('', 'PartitionUUID', 'Memory'),
                          ('Memory', 'Desired', 'Order')),
                         report.order_disagreements)
        self.assertEqual((('Memory/Desired', ('int',), ('float',)),),
                         report.type_mismatches)
        self.assertEqual(
            {'real': 6, 'covered': 5, 'coverage': 0.8333,
             'order_disagreements': 3, 'type_mismatches': 1,
             'missing': ['PartitionID']}, report.summary())

    def test_no_simulated_object_covers_nothing(self):
        report = fidelity.compare('LogicalPartition', [REAL], [])
        self.assertEqual((0, (), ()), (report.coverage.covered_count,
                                       report.order_disagreements,
                                       report.type_mismatches))

    def test_table_and_details_name_the_type(self):
        report = fidelity.compare('LogicalPartition', [REAL], [SIM])
        table = fidelity.format_table([report])
        self.assertEqual(['LogicalPartition', '6', '5', '83.3%', '3', '1'],
                         table.splitlines()[2].split())
        details = fidelity.format_details(report)
        self.assertIn('missing 1: PartitionID', details)
        self.assertIn('Memory/Desired real int, simulator float', details)
        self.assertIn("under 'Memory' real has Desired before Order",
                      details)


class TestCompareToBaseline(testtools.TestCase):

    def test_equal_is_fine(self):
        baseline = {'T': _summary()}
        self.assertEqual([], fidelity.compare_to_baseline(
            {'T': _summary()}, baseline))

    def test_better_and_new_types_are_fine(self):
        self.assertEqual([], fidelity.compare_to_baseline(
            {'T': _summary(coverage=0.9, missing=(), order=0, kinds=0),
             'New': _summary(coverage=0.0)},
            {'T': _summary()}))

    def test_drop_within_tolerance_is_fine(self):
        self.assertEqual([], fidelity.compare_to_baseline(
            {'T': _summary(coverage=0.496)}, {'T': _summary()}))

    def test_coverage_drop_names_type_and_newly_missing_paths(self):
        [problem] = fidelity.compare_to_baseline(
            {'T': _summary(coverage=0.25, missing=('A', 'B', 'C'))},
            {'T': _summary()})
        self.assertEqual("T: coverage 0.2500 < baseline 0.5000; "
                         "missing ['C']", problem)

    def test_coverage_drop_without_new_missing_shows_missing(self):
        # More real paths, none newly lost: show what is missing.
        [problem] = fidelity.compare_to_baseline(
            {'T': _summary(coverage=0.4)}, {'T': _summary()})
        self.assertIn("missing ['A', 'B']", problem)

    def test_more_disagreements_or_mismatches_fail(self):
        problems = fidelity.compare_to_baseline(
            {'T': _summary(order=2, kinds=3)}, {'T': _summary()})
        self.assertEqual(['T: order disagreements 2 > baseline 1',
                          'T: type mismatches 3 > baseline 2'], problems)

    def test_vanished_type_fails(self):
        self.assertEqual(['T: no longer measured'],
                         fidelity.compare_to_baseline({}, {'T': _summary()}))


class TestBaselineFile(testtools.TestCase):

    def test_write_then_load(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'baseline.json')
        report = fidelity.compare('LogicalPartition', [REAL], [SIM])
        fidelity.write_baseline([report], path)
        self.assertEqual({'LogicalPartition': report.summary()},
                         fidelity.load_baseline(path))
        with open(path, encoding='utf-8') as written:
            self.assertEqual(json.load(written),
                             fidelity.load_baseline(path))

    def test_committed_baseline_is_well_formed(self):
        keys = {'real', 'covered', 'coverage', 'order_disagreements',
                'type_mismatches', 'missing'}
        baseline = fidelity.load_baseline()
        self.assertIn('LogicalPartition', baseline)
        for name, summary in baseline.items():
            self.assertEqual(keys, set(summary), name)
            self.assertEqual(summary['real'] - summary['covered'],
                             len(summary['missing']), name)
