"""The NVRAM store through nova's API: two compute hosts on two simulated
systems sharing a storage pool, ``[powervm] nvram_store = swift`` against
a real Swift (tests/functional/swift_server.py).  The guest of a server
writes its NVRAM; after an evacuation, a cold migration or a shelve
offload and unshelve on the other host, the server's new LPAR starts with
those bytes; deleting the server removes them from Swift."""

from nova_powervm.nvram import swift as nvram_swift
from tests.functional.nova import test_recovery
from tests.functional import swift_server

SOURCE = test_recovery.SOURCE
DEST = test_recovery.DEST
# Bound for a compute's store to catch up: only a lost save comes near it.
GUARD = 60


class NVRAMTestCase(test_recovery.RecoveryTestCase):

    def start_powervm_compute(self, hostname, index=0):
        if not hasattr(self, 'swift'):
            self.swift = self.useFixture(swift_server.SwiftFixture())
        self.flags(group='powervm', nvram_store='swift',
                   swift_auth_url=self.swift.auth_url, swift_auth_version=1,
                   swift_username=swift_server.TEST_USER,
                   swift_password=swift_server.TEST_KEY)
        return super().start_powervm_compute(hostname, index=index)

    def store_of(self, hostname):
        return self.computes[hostname].manager.driver.nvram

    def guest_writes(self, server):
        """The guest writes its NVRAM; returns it once the server's
        host has saved it."""
        store = self.store_of(self.server_host(server))
        saved = store.stats['saved']
        written = self.sim.guest_writes_nvram(self.lpar_uuid(server))
        with store._cond:
            self.assertTrue(store._cond.wait_for(
                lambda: store.stats['saved'] > saved, GUARD), store.stats)
        return written

    def server_host(self, server):
        return self.admin_api.get_server(server['id'])[
            'OS-EXT-SRV-ATTR:host']

    def kept(self, server):
        data = nvram_swift.SwiftStore().fetch(server['id'])
        return None if data is None else data.decode()

    def delete_and_check_removed(self, server, hostname):
        self._delete_server(server)
        self.assertTrue(self.store_of(hostname).flush(GUARD))
        self.assertIsNone(self.kept(server))


class TestNVRAMThroughNova(NVRAMTestCase):

    def test_evacuate_restores_it_and_the_host_coming_back_keeps_it(self):
        server = self.boot_on_source()
        written = self.guest_writes(server)
        self.assertEqual(written, self.kept(server))
        self.host_goes_down(SOURCE)
        server = self._evacuate_server(server, expected_host=DEST,
                                       expected_state='SHUTOFF')
        self.assertEqual(written, self.lpar_on(DEST, server).nvram)
        self.host_comes_back(SOURCE, 0)
        self.assertIsNone(self.lpar_on(SOURCE, server))
        self.assertTrue(self.store_of(SOURCE).flush(GUARD))
        self.assertEqual(written, self.kept(server))
        self.delete_and_check_removed(server, DEST)

    def test_cold_migration_restores_it(self):
        server = self.boot_on_source()
        written = self.guest_writes(server)
        self._migrate_and_check_allocations(
            server, self.flavor, self.rps[SOURCE], self.rps[DEST])
        server = self._confirm_resize(server)
        self.assertEqual(written, self.lpar_on(DEST, server).nvram)
        self.delete_and_check_removed(server, DEST)

    def test_shelve_offload_then_unshelve_elsewhere_restores_it(self):
        self.flavor = self.api.get_flavor(self.create_flavor(disk=0))
        server = self.boot_on_source()
        written = self.guest_writes(server)
        server = self._shelve_server(server)
        self.assertEqual([], self.client_lpars(self.system_of(SOURCE)))
        self.assertEqual(written, self.kept(server))
        self.api.post_server_action(server['id'],
                                    {'unshelve': {'host': DEST}})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assertEqual(written, self.lpar_on(DEST, server).nvram)
        self.delete_and_check_removed(server, DEST)
