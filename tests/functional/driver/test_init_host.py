"""Starting the driver: NovaLink slow to come up, down, or not ready."""

import threading

import fixtures as fixtures_lib
from nova import test
from pypowervm import exceptions as pvm_exc

from nova_powervm import exception as pvm_nova_exc
from powervm_sim import faults
from powervm_sim import fixture as sim_fixture
from powervm_sim import server as server_mod
from tests.functional.driver import fixtures

_ORPHAN_VLAN = 3001


class TestInitHost(test.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            event_wait=0.2))
        self.endpoint = self.sim.endpoints[0]
        self.system = self.sim.model.systems[0]

    def _driver(self, **options):
        return self.useFixture(fixtures.DriverFixture(
            self.sim, init_host=False, **options))

    def _sessions(self):
        return self.endpoint.simulator.sessions.active_count()

    def test_novalink_that_comes_up_late_is_waited_for(self):
        self.endpoint.server.stop()
        restarted = []
        # Stopped before the driver logs off is checked (cleanups run in
        # reverse order).
        self.addCleanup(lambda: [server.stop() for server in restarted])
        driver_fixture = self._driver(connection_retries=30,
                                      connection_retry_interval=0.05)

        def restart():
            restarted.append(server_mod.Server(
                self.endpoint.simulator, host=self.endpoint.host,
                port=self.endpoint.port).start())

        timer = threading.Timer(0.5, restart)
        timer.start()
        self.addCleanup(timer.cancel)
        driver_fixture.init_host()
        self.assertEqual(self.system.uuid,
                         driver_fixture.driver.host_wrapper.uuid)
        self.assertIn('is not answering', self.stdlog.logger.output)

    def test_logons_dropped_at_first_are_retried(self):
        rule_id = self.sim.faults.add(faults.FaultRule(
            outcome=faults.DropConnection(), method='PUT',
            path=r'/rest/api/web/Logon$', max_count=2))
        driver_fixture = self._driver(connection_retries=5,
                                      connection_retry_interval=0.01)
        driver_fixture.init_host()
        self.assertEqual(2, self.sim.faults.counters()['by_rule'][rule_id])
        self.assertEqual(self.system.uuid,
                         driver_fixture.driver.host_wrapper.uuid)

    def test_novalink_down_for_good_stops_the_service_clearly(self):
        self.endpoint.server.stop()
        driver_fixture = self._driver(connection_retries=3,
                                      connection_retry_interval=0.01)
        err = self.assertRaises(pvm_nova_exc.NovaLinkUnavailable,
                                driver_fixture.init_host)
        self.assertIn('http://%s:%d' % (self.endpoint.host,
                                        self.endpoint.port), str(err))
        self.assertIn('after 3 attempt(s)', str(err))
        self.assertIsNone(driver_fixture.driver.adapter)

    def test_no_ready_vios_stops_the_service_and_logs_off(self):
        for vios in self.sim.model.vioses(self.system):
            self.sim.model.set_partition_state(vios, 'running',
                                               rmc_state='inactive')
        driver_fixture = self._driver(vios_active_wait_timeout=0)
        self.assertRaises(pvm_exc.ViosNotAvailable, driver_fixture.init_host)
        self.assertIsNone(driver_fixture.driver.adapter)
        self.assertEqual(0, self._sessions())

    def test_cleanup_host_logs_off(self):
        driver_fixture = self._driver()
        driver_fixture.init_host()
        self.assertEqual(1, self._sessions())
        driver_fixture.driver.cleanup_host(fixtures.HOST)
        self.assertEqual(0, self._sessions())

    def test_orphan_trunk_adapters_are_removed(self):
        novalink = [part for part in self.system.partitions
                    if part.is_mgmt][0]
        bridge = [vswitch for vswitch in self.system.vswitches
                  if vswitch.name == 'NovaLinkVEABridge'][0]
        orphan = self.sim.model.create_cna(novalink, {
            'vswitch_id': bridge.switch_id, 'pvid': _ORPHAN_VLAN,
            'trunk_priority': 1})
        self._driver().init_host()
        self.assertIsNone(self.sim.model.registry.find(orphan.uuid))


class TestPasswordAuthentication(test.TestCase):
    """A NovaLink reached over HTTPS with a user and password."""

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            https=True, event_wait=0.2))
        # Everything, down to pypowervm's request traces.
        self.log = self.useFixture(fixtures_lib.FakeLogger(
            level=1, nuke_handlers=False))
        self.driver_fixture = self.useFixture(fixtures.DriverFixture(
            self.sim, username=self.sim.username,
            password=self.sim.password, certpath=self.sim.certdir))

    def test_logs_on_and_never_logs_the_password(self):
        driver = self.driver_fixture.driver
        self.assertEqual(self.sim.model.systems[0].uuid,
                         driver.host_wrapper.uuid)
        self.assertFalse(driver.adapter.traits.local_api)
        self.assertIn('(user %s)' % self.sim.username, self.log.output)
        self.assertIn('/rest/api/web/Logon', self.log.output)
        self.assertNotIn(self.sim.password, self.log.output)
