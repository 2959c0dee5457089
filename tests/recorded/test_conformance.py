"""The simulator's XML against XML from real POWER hardware.

For each resource type, the element paths of the real recordings (the HMC
cassettes in ../shared/recorded and pypowervm's bundled captures) are
compared with what the simulator serves through pypowervm.  The floors below
are the coverage measured when each type was last improved: a change that
drops below one fails; raise a floor when the simulator gets closer.
"""

import functools
import glob
import os

import testtools

from powervm_sim import fixture
from tests.recorded import paths
from tests.recorded import recordings

# Fraction of real element paths the simulator must serve, per type.
FLOORS = {
    'ManagedSystem': 0.22,
    'LogicalPartition': 0.52,
    'VirtualIOServer': 0.21,
    'ClientNetworkAdapter': 0.75,
    'VirtualSwitch': 0.88,
}


@functools.lru_cache(maxsize=1)
def real_interactions():
    found = []
    shared = recordings.shared_recordings_dir()
    for path in sorted(glob.glob(os.path.join(shared, '*', '*.yml'))):
        found += recordings.load_ruby_vcr(path)
    data = recordings.pypowervm_data_dir()
    for path in sorted(glob.glob(os.path.join(data, '*.txt'))):
        try:
            found += recordings.load_pypowervm_capture(path)
        except recordings.CaptureFormatError:
            continue
    return found


class TestConformance(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=1))
        self.adapter = self.sim.adapter()
        self._add_adapters()

    def _add_adapters(self):
        from pypowervm.tasks import cna
        lpar = self.sim.model.lpars()[-1]
        cna.crt_cna(self.adapter, None, lpar.uuid, 42)

    def _sim_paths(self, rtype):
        model = self.sim.model
        system = model.systems[0]
        urls = {
            'ManagedSystem': ['/ManagedSystem'],
            'LogicalPartition': ['/LogicalPartition'],
            'VirtualIOServer': ['/VirtualIOServer'],
            'VirtualSwitch': ['/ManagedSystem/%s/VirtualSwitch' %
                              system.uuid],
            'ClientNetworkAdapter': [
                '/LogicalPartition/%s/ClientNetworkAdapter' % lpar.uuid
                for lpar in model.lpars()],
        }[rtype]
        found = set()
        for url in urls:
            resp = self.adapter.read_by_path('/rest/api/uom' + url)
            if resp.status == 204:
                continue
            for kind, element in recordings.iter_atom_objects(
                    resp.body):
                if kind == rtype:
                    found |= paths.element_paths(element)
        return found

    def test_coverage_per_type_does_not_drop(self):
        rows = []
        failures = []
        for rtype, floor in sorted(FLOORS.items()):
            real = paths.collect_paths(real_interactions(), rtype)
            self.assertTrue(real, 'no real recordings of %s' % rtype)
            result = paths.coverage(real, self._sim_paths(rtype))
            rows.append((rtype, result))
            if result.ratio < floor:
                failures.append('%s: %.2f < floor %.2f; missing e.g. %s' % (
                    rtype, result.ratio, floor, list(result.missing)[:5]))
        self.addDetail('coverage', testtools.content.text_content(
            paths.format_table(rows)))
        self.assertEqual([], failures)
