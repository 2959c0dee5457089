"""The simulator's XML against XML from real POWER hardware.

For each resource type, the element paths of the real recordings (the HMC
cassettes in ../shared/recorded and pypowervm's bundled captures) are
compared with what the simulator serves through pypowervm.  The floors below
are the coverage measured when each type was last improved: a change that
drops below one fails; raise a floor when the simulator gets closer.
"""

import functools

import testtools

from powervm_sim import fixture
from tests.recorded import fidelity
from tests.recorded import paths
from tests.recorded import recordings

# Fraction of real element paths the simulator must serve, per type.
FLOORS = {
    'ManagedSystem': 0.95,
    'LogicalPartition': 0.93,
    'VirtualIOServer': 0.92,
    'ClientNetworkAdapter': 0.90,
    'VirtualSwitch': 1.0,
    'VolumeGroup': 0.98,
    'SharedStoragePool': 1.0,
    'LogicalUnit': 1.0,
}


@functools.lru_cache(maxsize=1)
def real_interactions():
    return fidelity.load_real_interactions()


class TestConformance(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=1))
        self.adapter = self.sim.adapter()
        # Real captures hold partitions and adapters of every kind; the
        # simulator is given the same variety, all through pypowervm.
        fidelity.populate(self.sim)

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
            'VolumeGroup': ['/VirtualIOServer/%s/VolumeGroup' % vios.uuid
                            for vios in model.vioses()],
            'SharedStoragePool': ['/SharedStoragePool'],
            'LogicalUnit': ['/Tier/%s/LogicalUnit' % tier.uuid
                            for tier in model.registry.of_kind('Tier')],
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
