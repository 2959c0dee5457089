"""The NVRAM store, end to end: the driver on two simulated NovaLinks
sharing a storage pool, NovaLink's NVRAM events over real HTTP, and a real
OpenStack Swift (its proxy with tempauth and the in-memory object server,
on loopback) as ``[powervm] nvram_store = swift``."""

import base64
import threading
import time

from nova.compute import task_states
from nova.compute import vm_states
from oslo_config import fixture as config_fixture
from swiftclient import client as swift_client
import testtools

from nova_powervm import conf
from nova_powervm import nvram
from nova_powervm.nvram import api as nvram_api
from nova_powervm.nvram import swift as nvram_swift
from nova_powervm import vm
from powervm_sim import faults as faults_mod
from tests.functional.driver import fixtures
from tests.functional.driver import test_fault_campaign
from tests.functional.driver import test_rebuild
from tests.functional.driver import test_resize
from tests.functional import swift_server

CONF = conf.CONF
# Bound for the store's thread to catch up with events: only a lost save
# comes near it (a VIOS busy four times costs its read pypowervm's 30
# seconds of retries).
GUARD = 120


class NVRAMTestCase(test_resize.TwoHostsTestCase):

    SHARED_SSP = True

    def setUp(self):
        self.swift = self.useFixture(swift_server.SwiftFixture())
        self.DRIVER_OPTIONS = {
            'disk_driver': 'ssp', 'nvram_store': 'swift',
            'swift_auth_url': self.swift.auth_url, 'swift_auth_version': 1,
            'swift_username': swift_server.TEST_USER,
            'swift_password': swift_server.TEST_KEY,
            # A Swift that is down fails each call at once or within this.
            'request_timeout': 10}
        super().setUp()

    def kept(self, instance):
        """The NVRAM Swift holds of the instance (text), or None."""
        data = nvram_swift.SwiftStore().fetch(instance.uuid)
        return None if data is None else data.decode()

    def guest_writes(self, instance, index=0, nvram=None):
        return self.sim.guest_writes_nvram(
            vm.get_pvm_uuid(instance), nvram) if index == 0 else \
            self.sim.model.write_nvram(self.lpar_on(index, instance), nvram)

    def settled(self, driver=None):
        self.assertTrue((driver or self.driver).nvram.flush(GUARD))

    def wait_for_events(self, driver, count):
        """Until ``driver``'s store was asked ``count`` times (events come
        through pypowervm's long poll) and is done."""
        self.wait_for_stat(driver, 'requested', count)
        self.settled(driver)

    def wait_for_stat(self, driver, name, count):
        manager = driver.nvram
        with manager._cond:
            self.assertTrue(manager._cond.wait_for(
                lambda: manager.stats[name] >= count, GUARD),
                manager.stats)

    def shelve_offload(self, instance):
        """nova's shelve offload on the instance's host: power off, then
        destroy (the image of the disk aside)."""
        instance.vm_state = vm_states.SHELVED
        instance.task_state = task_states.SHELVING_OFFLOADING
        self.driver.power_off(instance)
        self.driver.destroy(self.context, instance, self.network_info)
        self.settled()

    def stats(self, driver=None):
        return dict((driver or self.driver).nvram.stats)


class TestNVRAMSaved(NVRAMTestCase):

    def test_guest_write_is_saved_in_swift(self):
        instance = self.spawned()
        written = self.guest_writes(instance)
        self.wait_for_events(self.driver, 1)
        self.assertEqual(written, self.kept(instance))
        self.assertEqual(1, self.stats()['saved'])

    def test_many_writes_are_saved_once_with_the_latest(self):
        instance = self.spawned()
        # Ahead of the first event: the store's thread reads NovaLink only
        # once the burst is over.
        with self.driver.nvram._cond:
            for _ in range(20):
                written = self.guest_writes(instance)
        self.wait_for_events(self.driver, 1)
        self.assertEqual(written, self.kept(instance))
        self.assertLess(self.stats()['saved'], 20)

    def test_delete_removes_it(self):
        instance = self.spawned()
        self.guest_writes(instance)
        self.wait_for_events(self.driver, 1)
        instance.task_state = task_states.DELETING
        self.driver.destroy(self.context, instance, self.network_info)
        self.settled()
        self.assertIsNone(self.kept(instance))
        self.assertEqual(1, self.stats()['removed'])

    def test_shelve_offload_saves_and_keeps_it(self):
        instance = self.spawned()
        written = self.guest_writes(instance)
        # Before any event of the write reached the store.
        self.shelve_offload(instance)
        self.assertIsNone(self.lpar_of(instance))
        self.assertEqual(written, self.kept(instance))

    def test_evacuated_instance_clean_up_keeps_it(self):
        instance = self.spawned()
        self.guest_writes(instance, nvram=base64.b64encode(b'new').decode())
        self.wait_for_events(self.driver, 1)
        # nova's clean-up on the host the instance was evacuated from.
        instance.host = test_resize.DEST_HOST
        self.driver.destroy(self.context, instance, self.network_info,
                            destroy_disks=False)
        self.settled()
        self.assertEqual(base64.b64encode(b'new').decode(),
                         self.kept(instance))


class TestNVRAMRestored(NVRAMTestCase):

    def test_cold_migration_restores_it_on_the_destination(self):
        instance = self.spawned()
        self.guest_writes(instance)
        self.wait_for_events(self.driver, 1)
        # The last write is not saved yet when the move starts: the source
        # saves it with the LPAR stopped.
        written = self.guest_writes(instance)
        self.move(instance, instance.flavor)
        self.assertEqual(written, self.lpar_on(1, instance).nvram)
        self.assertEqual(written, self.lpar_on(0, instance).nvram)

    def test_reverted_move_keeps_the_source_s(self):
        instance = self.spawned()
        mine = self.guest_writes(instance)
        self.wait_for_events(self.driver, 1)
        migration = self.move(instance, instance.flavor)
        # The destination's guest writes it; its host saves that ...
        theirs = self.guest_writes(instance, index=1)
        self.wait_for_events(self.dest, 1)
        self.assertEqual(theirs, self.kept(instance))
        # ... and the revert brings back the source's LPAR, whose NVRAM
        # the store holds again.
        self.revert_move(instance, migration)
        self.settled()
        self.assertEqual(mine, self.lpar_on(0, instance).nvram)
        self.assertEqual(mine, self.kept(instance))

    def test_evacuate_restores_it(self):
        instance = self.spawned()
        written = self.guest_writes(instance)
        self.wait_for_events(self.driver, 1)
        # The instance's host goes down; nova rebuilds it on the other.
        test_rebuild.NovaRebuilds(self.context, self.network_info).rebuild(
            self.dest, instance, instance.image_meta, evacuate=True)
        self.assertEqual(written, self.lpar_on(1, instance).nvram)

    def test_bytes_that_are_no_nvram_are_not_restored(self):
        instance = self.spawned()
        nvram_swift.SwiftStore().store(instance.uuid, b'\xffnot NVRAM')
        test_rebuild.NovaRebuilds(self.context, self.network_info).rebuild(
            self.dest, instance, instance.image_meta, evacuate=True)
        self.assertIsNone(self.lpar_on(1, instance).nvram)
        self.assertEqual('running', self.lpar_on(1, instance).state)

    def test_unshelve_elsewhere_restores_it(self):
        instance = self.spawned()
        written = self.guest_writes(instance)
        self.shelve_offload(instance)
        # nova's unshelve: a spawn of the offloaded instance.
        instance.vm_state = vm_states.SHELVED_OFFLOADED
        instance.task_state = task_states.SPAWNING
        instance.host = test_resize.DEST_HOST
        instance.save()
        self.dest.spawn(self.context, instance, self.image_meta(), [], None,
                        {}, network_info=self.network_info)
        self.assertEqual(written, self.lpar_on(1, instance).nvram)

    def test_new_instance_starts_without_nvram(self):
        instance = self.spawned()
        self.assertIsNone(self.lpar_of(instance).nvram)


class TestSwiftDown(NVRAMTestCase):

    def test_failing_store_never_fails_an_operation(self):
        instance = self.spawned()
        self.swift.stop()
        self.guest_writes(instance)
        self.wait_for_stat(self.driver, 'failed', 1)
        # The move goes on: the destination's LPAR starts with a fresh
        # NVRAM.
        self.move(instance, instance.flavor)
        self.assertIsNone(self.lpar_on(1, instance).nvram)
        instance.task_state = task_states.DELETING
        self.dest.destroy(self.context, instance, self.network_info)
        self.assertIsNone(self.lpar_on(1, instance))
        stats = self.stats()
        self.assertGreaterEqual(stats['failed'], 1)
        self.assertEqual(0, stats['saved'])


class TestSwiftStore(testtools.TestCase):
    """The Swift back end against Swift itself (tempauth, v1 auth)."""

    def setUp(self):
        super().setUp()
        self.swift = self.useFixture(swift_server.SwiftFixture())
        self.cfg = self.useFixture(config_fixture.Config(CONF))
        self.cfg.config(
            group='powervm', nvram_store='swift',
            swift_auth_url=self.swift.auth_url, swift_auth_version=1,
            swift_username=swift_server.TEST_USER,
            swift_password=swift_server.TEST_KEY, request_timeout=10)
        self.store = nvram.load_store()

    def test_store_fetch_delete(self):
        data = bytes(range(256)) * 100
        self.assertIsNone(self.store.fetch('inst-1'))
        # The container is made on the first store.
        self.store.store('inst-1', data)
        self.assertEqual(data, self.store.fetch('inst-1'))
        self.store.store('inst-1', b'newer')
        self.assertEqual(b'newer', self.store.fetch('inst-1'))
        self.store.delete('inst-1')
        self.assertIsNone(self.store.fetch('inst-1'))
        # Gone already is fine.
        self.store.delete('inst-1')

    def test_objects_are_named_by_instance_in_the_container(self):
        self.cfg.config(group='powervm', swift_container='nvram_test')
        self.store.store('inst-2', b'x')
        connection = swift_client.Connection(
            authurl=self.swift.auth_url, user=swift_server.TEST_USER,
            key=swift_server.TEST_KEY, auth_version='1', retries=0)
        _headers, listing = connection.get_container('nvram_test')
        self.assertEqual(['inst-2'], [obj['name'] for obj in listing])

    def test_wrong_password_fails_as_a_store_error(self):
        self.cfg.config(group='powervm', swift_password='wrong')
        store = nvram.load_store()
        self.assertRaises(nvram_api.StoreError, store.store, 'inst-3', b'x')

    def test_swift_gone_fails_every_call_and_returns(self):
        self.store.store('inst-4', b'x')
        self.swift.stop()
        failed = nvram_api.StoreError
        self.assertRaises(failed, self.store.store, 'inst-4', b'y')
        self.assertRaises(failed, self.store.fetch, 'inst-4')
        self.assertRaises(failed, self.store.delete, 'inst-4')


class TestStoreFaultCampaign(NVRAMTestCase):
    """The store's one REST call (the LPAR's GET with xag NVRAM) failed in
    every way the fault campaign fails calls: never an operation's
    failure, and Swift ends with the latest NVRAM."""

    FAULTS = tuple(fault for fault in test_fault_campaign.ALL_FAULTS
                   if not fault.jobs_only)

    def fail_next_read(self, driver, instance, fault, moving=False):
        """Fail the store's next NVRAM read of ``instance``'s LPAR with
        ``fault`` (``moving``: the read of the save before a move, on the
        caller's thread): armed in the simulator as the read goes out.
        Returns the rule."""
        manager = driver.nvram
        real_read = manager._read
        rule = faults_mod.FaultRule(
            outcome=fault.outcome, method='GET',
            path=r'/LogicalPartition/%s$' % vm.get_pvm_uuid(instance),
            max_count=fault.tries)

        def read(lpar_uuid):
            if moving and threading.current_thread() is manager._thread:
                return real_read(lpar_uuid)
            manager._read = real_read
            self.sim.faults.add(rule)
            return real_read(lpar_uuid)

        manager._read = read
        return rule

    def assert_fired(self, rule, fault):
        self.assertNotIn(rule, self.sim.faults.rules(), fault.name)

    def delete(self, driver, instance):
        instance.task_state = task_states.DELETING
        driver.destroy(self.context, instance, self.network_info)
        self.settled(driver)

    def test_a_failed_background_save_is_saved_again(self):
        for count, fault in enumerate(self.FAULTS, 1):
            instance = self.spawned()
            rule = self.fail_next_read(self.driver, instance, fault)
            written = self.guest_writes(instance)
            # Each earlier instance's write and removal, and this write:
            # requests of the store.
            self.wait_for_events(self.driver, 2 * count - 1)
            self.assert_fired(rule, fault)
            self.assertEqual(written, self.kept(instance), fault.name)
            self.delete(self.driver, instance)
            self.assertIsNone(self.kept(instance), fault.name)

    def test_a_failed_save_before_a_move_never_fails_it(self):
        for fault in self.FAULTS:
            instance = self.spawned()
            earlier = self.guest_writes(instance)
            self.wait_for_stat(self.driver, 'saved', 1)
            self.settled()
            latest = self.guest_writes(instance)
            rule = self.fail_next_read(self.driver, instance, fault,
                                       moving=True)
            migration = self.move(instance, instance.flavor)
            self.assert_fired(rule, fault)
            # The move does not wait for the store: the destination starts
            # with what the store held then (the latest, if the event's
            # save got there first); the store ends with the latest, the
            # failed save done again in the background.
            self.assertIn(self.lpar_on(1, instance).nvram,
                          (earlier, latest), fault.name)
            self.settled()
            self.assertEqual(latest, self.kept(instance), fault.name)
            self.nova.confirm(self.driver, instance, migration)
            self.delete(self.dest, instance)
            self.driver.nvram.stats['saved'] = 0


class TestNoStore(fixtures.DriverTestCase):
    """``nvram_store = none`` (the default): nothing is kept, and nothing
    is read to keep it."""

    def test_nothing_runs_and_nothing_is_read(self):
        self.assertIsNone(self.driver.nvram)
        instance = self.make_instance()
        self.spawn(instance)
        self.sim.faults.add(faults_mod.FaultRule(
            outcome=faults_mod.DelayOnly(), method='GET',
            path=r'/LogicalPartition/%s$' % vm.get_pvm_uuid(instance),
            rule_id='lpar-reads'))
        self.sim.guest_writes_nvram(vm.get_pvm_uuid(instance))
        # Long enough for the event to arrive and a save to read the LPAR.
        time.sleep(10 * fixtures.EVENT_DELAY)
        self.assertEqual(
            0, self.sim.faults.counters()['by_rule']['lpar-reads'])
        instance.task_state = task_states.DELETING
        self.driver.destroy(self.context, instance, [])
        self.assertIsNone(self.lpar_of(instance))
