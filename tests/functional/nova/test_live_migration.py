"""Live migration through nova's API (os-migrateLive, the migrations API's
abort), checked in the simulator and in placement.

Two compute hosts on two managed systems whose VIOSes form one shared
storage pool cluster; nova-conductor loads PowerVMLiveMigrateData through
the package's import hook, as in a deployment.
"""

from powervm_sim.model import partition as sim_partition
from tests.functional.nova import test_migrations

SOURCE = test_migrations.SOURCE
DEST = test_migrations.DEST
# Long enough to abort a move while it runs.
SLOW_MOVE_SECONDS = 30


class LiveMigrationTestCase(test_migrations.TwoHostsTestCase):

    def boot_with_network(self):
        """A server on the source with a config drive, an SEA and an Open
        vSwitch port."""
        vlan_net = self.create_vlan_network(1001)
        ports = [self.create_sea_port(vlan_net, 'fa:16:3e:00:10:01'),
                 self.create_ovs_port('fa:16:3e:00:10:02')]
        server = self.boot_server(
            self.flavor['id'], availability_zone='nova:%s' % SOURCE,
            config_drive=True,
            networks=[{'port': port['id']} for port in ports])
        self.assertEqual(SOURCE, server['OS-EXT-SRV-ATTR:host'])
        return server

    def live_migrate(self, server, host=DEST):
        self.api.post_server_action(server['id'], {
            'os-migrateLive': {'host': host, 'block_migration': 'auto'}})

    def assert_allocated_on(self, hostname, server):
        """Placement holds the server's flavor on ``hostname`` alone."""
        other = DEST if hostname == SOURCE else SOURCE
        self.assertFlavorMatchesAllocation(self.flavor, server['id'],
                                           self.rps[hostname])
        self.assertFlavorMatchesUsage(self.rps[hostname], self.flavor)
        self.assertFlavorMatchesUsage(self.rps[other])

    def assert_network_on(self, hostname, server):
        """The server's VIF adapters are on ``hostname``'s system, with a
        trunk and an Open vSwitch port for its OVS VIF there alone."""
        other = DEST if hostname == SOURCE else SOURCE
        self.assertEqual(2, len(self.client_cnas(server)))
        self.assertEqual(1, len(self.ovs_trunks(self.system_of(hostname))))
        self.assertEqual(1, len(self.ovs_ports(hostname)))
        self.assertEqual([], self.ovs_trunks(self.system_of(other)))
        self.assertEqual({}, self.ovs_ports(other))
        self.assertEqual(1, len(self.config_media(self.system_of(hostname))))


class TestLiveMigration(LiveMigrationTestCase):

    def test_to_the_host_given(self):
        server = self.boot_with_network()
        self.live_migrate(server)
        self._wait_for_migration_status(server, ['completed'])
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assert_runs_on(DEST, server, 2048)
        self.assert_allocated_on(DEST, server)
        self.assert_network_on(DEST, server)

    def test_to_the_host_the_scheduler_picks(self):
        server = self.boot_on_source()
        self.live_migrate(server, host=None)
        self._wait_for_migration_status(server, ['completed'])
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assert_runs_on(DEST, server, 2048)
        self.assert_allocated_on(DEST, server)

    def test_abort_mid_move(self):
        server = self.boot_with_network()
        self.sim.migration_seconds(SLOW_MOVE_SECONDS)
        self.live_migrate(server)
        migration = self._wait_for_migration_status(server, ['running'])
        self.wait_for(lambda: self.lpar_on(SOURCE, server).state ==
                      sim_partition.MIGRATING, 'the LPAR to migrate')
        self.api.delete_migration(server['id'], migration['id'])
        self._wait_for_migration_status(server, ['cancelled'])
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assert_runs_on(SOURCE, server, 2048)
        self.assert_allocated_on(SOURCE, server)
        # The destination let go of the trunk it made for the move.
        self.wait_for(lambda: not self.ovs_trunks(self.system_of(DEST)),
                      'the destination to remove its trunk')
        self.assert_network_on(SOURCE, server)

    def test_a_failure_midway(self):
        server = self.boot_on_source()
        self.sim.fail_migrations()
        self.live_migrate(server)
        self._wait_for_migration_status(server, ['failed'])
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assert_runs_on(SOURCE, server, 2048)
        self.assert_allocated_on(SOURCE, server)

    def test_a_destination_that_cannot_take_it(self):
        server = self.boot_on_source()
        self.sim.set_mobility(1, active_capable=False)
        self.live_migrate(server)
        self._wait_for_migration_status(server, ['error'])
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assert_runs_on(SOURCE, server, 2048)
        self.assert_allocated_on(SOURCE, server)

    def test_with_a_volume(self):
        volume_id, lun = self.create_fc_volume()
        server = self.boot_on_source()
        self.api.post_server_volume(
            server['id'], {'volumeAttachment': {'volumeId': volume_id}})
        self.wait_for(lambda: volume_id in self.attached_volumes(server),
                      'the volume to attach')
        self.wait_for(lambda: self.lun_mappings(self.system_of(SOURCE), lun),
                      'the volume to be mapped')
        self.live_migrate(server)
        self._wait_for_migration_status(server, ['completed'])
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assert_runs_on(DEST, server, 2048)
        lpar_id = self.lpar_on(DEST, server).partition_id
        self.assertEqual([('vios1', lpar_id), ('vios2', lpar_id)],
                         self.lun_mappings(self.system_of(DEST), lun))
        self.assertEqual({}, self.lun_hdisks(self.system_of(SOURCE), lun))
