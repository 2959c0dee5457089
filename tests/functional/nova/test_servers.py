"""Server lifecycle through nova's API, checked in the simulator."""

from nova.compute import power_state
from pypowervm import util as pvm_util

from powervm_sim import faults
from tests.functional.nova import base

_HOST = 'host1'


class TestServerLifecycle(base.PowerVMTestCase):

    def setUp(self):
        super().setUp()
        self.start_powervm_compute(_HOST)
        self.system = self.system_of(_HOST)
        self.flavor_id = self.create_flavor(memory_mb=2048, vcpu=2)

    def test_boot_creates_a_running_lpar_and_delete_removes_it(self):
        server = self.boot_server(self.flavor_id)
        self.assertEqual(_HOST, server['OS-EXT-SRV-ATTR:host'])
        lpar = self.lpar_of(server)
        self.assertIs(self.system, lpar.system)
        self.assertEqual(pvm_util.sanitize_partition_name_for_api(
            server['OS-EXT-SRV-ATTR:instance_name']), lpar.name)
        self.assertEqual(2048, lpar.mem_desired)
        self.assertEqual(2, lpar.vprocs_desired)
        self.assertEqual(base.LPAR_RUNNING, lpar.state)
        self.assertEqual([lpar], self.client_lpars(self.system))

        self._delete_server(server)
        self.assertIsNone(self.lpar_of(server))
        self.assertEqual([], self.client_lpars(self.system))

    def test_reboot_soft_and_hard_restart_the_same_lpar(self):
        server = self.boot_server(self.flavor_id)
        partition_id = self.lpar_of(server).partition_id
        for hard in (False, True):
            # _reboot_server waits for this reboot's end notification.
            self.notifier.reset()
            states = self.record_states(server)
            self._reboot_server(server, hard=hard)
            # Down and up again, and running when nova says ACTIVE.
            self.assertIn(base.LPAR_OFF, states.states)
            self.assertEqual(base.LPAR_RUNNING, states.states[-1])
            self.assertLparState(base.LPAR_RUNNING, server)
            states.stop()
        # Rebooted in place, not rebuilt.
        self.assertEqual(partition_id, self.lpar_of(server).partition_id)

    def test_stop_and_start(self):
        server = self.boot_server(self.flavor_id)
        server = self._stop_server(server)
        self.assertEqual(power_state.SHUTDOWN,
                         server['OS-EXT-STS:power_state'])
        self.assertLparState(base.LPAR_OFF, server)

        server = self._start_server(server)
        self.assertEqual(power_state.RUNNING,
                         server['OS-EXT-STS:power_state'])
        self.assertLparState(base.LPAR_RUNNING, server)


class TestSpawnFailure(base.PowerVMTestCase):

    def test_failed_power_on_errors_the_server_and_removes_the_lpar(self):
        self.start_powervm_compute(_HOST)
        self.sim.faults.add(faults.FaultRule(
            job='PowerOn', outcome=faults.JobFailure(
                'HSCL0001 The partition failed to activate.')))
        server = self.boot_server(self.create_flavor(),
                                  expected_state='ERROR')
        # The driver's error reached nova, which found no other host to
        # reschedule the build to.
        fault = self.build_error()
        self.assertEqual('InstancePowerOnFailure', fault['exception'])
        self.assertIn('HSCL0001', fault['exception_message'])
        self.assertIn('Exceeded maximum number of retries',
                      server['fault']['message'])
        self.assertIsNone(self.lpar_of(server))
        self.assertEqual([], self.client_lpars(self.system_of(_HOST)))
        self.assertEqual({}, self._get_allocations_by_server_uuid(
            server['id']))


class TestTwoHosts(base.PowerVMTestCase):

    SYSTEMS = 2

    def setUp(self):
        super().setUp()
        self.start_powervm_compute('host1', index=0)
        self.start_powervm_compute('host2', index=1)
        self.flavor_id = self.create_flavor()

    def _assert_on(self, hostname, server):
        self.assertEqual(hostname, server['OS-EXT-SRV-ATTR:host'])
        self.assertIs(self.system_of(hostname), self.lpar_of(server).system)

    def test_targeted_boots_land_on_their_hosts_system(self):
        # The requested host (microversion 2.74) still goes through the
        # scheduler; the availability zone form forces the host.
        on_host2 = self.boot_server(self.flavor_id, host='host2')
        on_host1 = self.boot_server(self.flavor_id,
                                    availability_zone='nova:host1')
        self._assert_on('host2', on_host2)
        self._assert_on('host1', on_host1)
        for hostname, server in (('host1', on_host1), ('host2', on_host2)):
            self.assertEqual([self.lpar_of(server)],
                             self.client_lpars(self.system_of(hostname)))
