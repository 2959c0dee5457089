"""Ten spawns on one host at once, then ten destroys at once.

Each spawn maps a boot disk and a config drive from the same VIOS and
plugs an SEA VIF: their VIOS updates race, and pypowervm's etag retries
must land every one.  A barrier releases the threads together, and the
first VIOS updates are answered 412 whether or not the threads happened
to overlap.
"""

import threading

from nova_powervm import media
from nova_powervm import vif as pvm_vif
from powervm_sim import faults
from tests.functional.driver import fixtures

SPAWNS = 10
# Upper bound for one thread (a hung thread fails the test instead of
# hanging it).
GUARD_SECONDS = 300


def run_together(test, calls):
    """Run every call in its own thread, released together; the test
    fails on any exception or thread still running."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait(GUARD_SECONDS)
            call()
        except Exception as exc:  # every failure is reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,), daemon=True)
               for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD_SECONDS)
    test.assertEqual([], [thread.name for thread in threads
                          if thread.is_alive()])
    test.assertEqual([], errors)


class TestConcurrentSpawns(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.flags(force_config_drive=True)
        self.instances = [self.make_instance(memory_mb=512, vcpus=1)
                          for _ in range(SPAWNS)]
        self.vifs = {instance.uuid: [fixtures.sea_vif(number + 1)]
                     for number, instance in enumerate(self.instances)}

    def _spawn(self, instance):
        return lambda: self.spawn_with(self.vifs[instance.uuid],
                                       instance=instance)

    def _destroy(self, instance):
        return lambda: self.driver.destroy(self.context, instance,
                                           self.vifs[instance.uuid])

    def _vios_conflicts(self):
        """Answer the next SPAWNS updates of a VIOS with 412, as if
        another writer had been first (threads may or may not really
        overlap); returns how many were answered so."""
        rule_id = self.sim.faults.add(faults.FaultRule(
            outcome=faults.EtagConflict(), method='POST',
            resource_type='VirtualIOServer', max_count=SPAWNS))
        return lambda: self.sim.faults.counters()['by_rule'][rule_id]

    def test_ten_spawns_then_ten_destroys(self):
        conflicts = self._vios_conflicts()
        run_together(self, [self._spawn(instance)
                            for instance in self.instances])
        self.assertEqual(SPAWNS, conflicts())
        self.assertEqual(SPAWNS, len(self.client_lpars()))
        for instance in self.instances:
            self._assert_has_only_its_own(instance)
        # Nothing else: one disk, one disk mapping, one medium each.
        self.assertEqual(SPAWNS, len(self.boot_vdisks()))
        self.assertEqual(SPAWNS, len(self.disk_mappings()))
        self.assertEqual(SPAWNS, len(self.config_media()))
        self.assertEqual(SPAWNS, len(self.vopt_mappings()))

        conflicts = self._vios_conflicts()
        run_together(self, [self._destroy(instance)
                            for instance in self.instances])
        self.assertEqual(SPAWNS, conflicts())
        self.assert_storage_gone()
        for instance in self.instances:
            self.assert_network_and_media_gone(instance)

    def _assert_has_only_its_own(self, instance):
        lpar = self.lpar_of(instance)
        self.assertEqual('running', lpar.state)
        disk_name = self.driver.disk_driver.disk_name(instance)
        self.assertEqual([disk_name], [
            mapping.storage.name for mapping in self.disk_mappings()
            if mapping.server.remote_lpar_id == lpar.partition_id])
        self.assertEqual([media.media_name(instance)], [
            mapping.storage.name
            for mapping in self.vopt_mappings(lpar.partition_id)])
        [vif] = self.vifs[instance.uuid]
        self.assertEqual([pvm_vif.pvm_mac(vif['address'])],
                         [cna.mac for cna in self.client_cnas(instance)])
