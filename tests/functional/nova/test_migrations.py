"""Resize and cold migration through nova's API, checked in the simulator
and in placement.

Two compute hosts on two managed systems whose VIOSes form one shared
storage pool cluster: nova moves a server from one to the other (a resize
picks the other host, as nova does unless allow_resize_to_same_host), and
the server's LPAR follows with its boot disk.  One host alone resizes in
place.  A boot disk in a volume group stays on its host.
"""

from tests.functional.nova import base

SOURCE = 'host1'
DEST = 'host2'


class TwoHostsTestCase(base.PowerVMTestCase):

    SYSTEMS = 2
    SHARED_SSP = True
    DISK_DRIVER = 'ssp'

    def setUp(self):
        super().setUp()
        self.flags(disk_driver=self.DISK_DRIVER, group='powervm')
        self.start_powervm_compute(SOURCE, index=0)
        self.start_powervm_compute(DEST, index=1)
        self.flavor = self.api.get_flavor(self.create_flavor(
            memory_mb=2048, vcpu=2, disk=1))
        self.big_flavor = self.api.get_flavor(self.create_flavor(
            memory_mb=4096, vcpu=4, disk=2))
        self.rps = {host: self._get_provider_uuid_by_host(host)
                    for host in (SOURCE, DEST)}

    def boot_on_source(self):
        server = self.boot_server(self.flavor['id'],
                                  availability_zone='nova:%s' % SOURCE,
                                  config_drive=True)
        self.assertEqual(SOURCE, server['OS-EXT-SRV-ATTR:host'])
        return server

    def assert_runs_on(self, hostname, server, memory_mb):
        """The server's LPAR runs on ``hostname``'s system with
        ``memory_mb``; the other system has none."""
        server = self.api.get_server(server['id'])
        self.assertEqual(hostname, server['OS-EXT-SRV-ATTR:host'])
        lpar = self.lpar_on(hostname, server)
        self.assertEqual((base.LPAR_RUNNING, memory_mb),
                         (lpar.state, lpar.mem_desired))
        other = DEST if hostname == SOURCE else SOURCE
        self.assertIsNone(self.lpar_on(other, server))
        self.assertEqual([], self.client_lpars(self.system_of(other)))
        self.assertEqual([], self.config_media(self.system_of(other)))
        self.assertEqual([], self.disk_mappings(self.system_of(other)))

    def boot_lus(self):
        return [lu for cluster in self.sim.model.clusters()
                for lu in cluster.ssp.logical_units
                if lu.name.startswith('b_')]


class TestMoveWithSharedPool(TwoHostsTestCase):

    def test_resize_then_confirm(self):
        server = self.boot_on_source()
        [lu] = self.boot_lus()
        self._resize_and_check_allocations(
            server, self.flavor, self.big_flavor, self.rps[SOURCE],
            self.rps[DEST])
        # VERIFY_RESIZE: the destination runs the server, the new flavor
        # given; the source keeps its LPAR, stopped.
        server = self.api.get_server(server['id'])
        self.assertEqual(DEST, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(4096, self.lpar_on(DEST, server).mem_desired)
        self.assertEqual(base.LPAR_RUNNING, self.lpar_on(DEST, server).state)
        self.assertEqual(base.LPAR_OFF, self.lpar_on(SOURCE, server).state)
        self.assertEqual([lu], self.boot_lus())
        self.assertEqual(2.0, lu.capacity_gb)

        server = self._confirm_resize(server)
        self.assert_runs_on(DEST, server, 4096)
        self.assertEqual([lu], self.boot_lus())
        self.assertFlavorMatchesAllocation(self.big_flavor, server['id'],
                                           self.rps[DEST])
        self.assertFlavorMatchesUsage(self.rps[SOURCE])
        self._delete_server(server)
        self.assertEqual([], self.boot_lus())

    def test_resize_then_revert(self):
        server = self.boot_on_source()
        [lu] = self.boot_lus()
        self._resize_server(server, self.big_flavor['id'])
        server = self._revert_resize(server)
        self.assert_runs_on(SOURCE, server, 2048)
        self.assertEqual([lu], self.boot_lus())
        self.assertFlavorMatchesAllocation(self.flavor, server['id'],
                                           self.rps[SOURCE])
        self.assertFlavorMatchesUsage(self.rps[DEST])
        self._delete_server(server)
        self.assertEqual([], self.boot_lus())

    def test_cold_migration(self):
        server = self.boot_on_source()
        self._migrate_and_check_allocations(
            server, self.flavor, self.rps[SOURCE], self.rps[DEST])
        server = self._confirm_resize(server)
        self.assert_runs_on(DEST, server, 2048)
        self.assertFlavorMatchesAllocation(self.flavor, server['id'],
                                           self.rps[DEST])
        self.assertFlavorMatchesUsage(self.rps[SOURCE])


class TestMoveWithLocalDisk(TwoHostsTestCase):

    SHARED_SSP = False
    DISK_DRIVER = 'localdisk'

    def test_cold_migration_is_refused_and_the_server_runs_on(self):
        server = self.boot_on_source()
        partition_id = self.lpar_of(server).partition_id
        self.api.post_server_action(server['id'], {'migrate': None})
        self._wait_for_migration_status(server, ['error'])
        # The source refused before anything changed; nova rolled back.
        event = self._wait_for_instance_action_event(
            server, 'migrate', 'compute_resize_instance', 'Error')
        self.assertIn('volume group', event['details'])
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assert_runs_on(SOURCE, server, 2048)
        self.assertEqual(partition_id, self.lpar_of(server).partition_id)
        self.assertFlavorMatchesAllocation(self.flavor, server['id'],
                                           self.rps[SOURCE])
        self.assertFlavorMatchesUsage(self.rps[DEST])


class TestResizeOnOneHost(base.PowerVMTestCase):

    def setUp(self):
        super().setUp()
        self.start_powervm_compute(SOURCE)
        self.rp_uuid = self._get_provider_uuid_by_host(SOURCE)
        self.flavor = self.api.get_flavor(self.create_flavor(
            memory_mb=2048, vcpu=2, disk=1))
        self.big_flavor = self.api.get_flavor(self.create_flavor(
            memory_mb=4096, vcpu=4, disk=2))

    def resized(self):
        server = self.boot_server(self.flavor['id'])
        partition_id = self.lpar_of(server).partition_id
        self._resize_to_same_host_and_check_allocations(
            server, self.flavor, self.big_flavor, self.rp_uuid)
        lpar = self.lpar_of(server)
        self.assertEqual((partition_id, base.LPAR_RUNNING, 4096),
                         (lpar.partition_id, lpar.state, lpar.mem_desired))
        return server, partition_id

    def test_resize_then_confirm(self):
        server, partition_id = self.resized()
        server = self._confirm_resize(server)
        lpar = self.lpar_of(server)
        self.assertEqual((partition_id, base.LPAR_RUNNING, 4096),
                         (lpar.partition_id, lpar.state, lpar.mem_desired))
        self.assertFlavorMatchesUsage(self.rp_uuid, self.big_flavor)

    def test_resize_then_revert(self):
        server, partition_id = self.resized()
        server = self._revert_resize(server)
        lpar = self.lpar_of(server)
        self.assertEqual((partition_id, base.LPAR_RUNNING, 2048),
                         (lpar.partition_id, lpar.state, lpar.mem_desired))
        self.assertFlavorMatchesUsage(self.rp_uuid, self.flavor)
