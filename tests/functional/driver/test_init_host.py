"""Starting the driver: NovaLink slow to come up, down, not ready, not
answering, or not NovaLink at all; starting twice; bounded waits."""

import http.server
import socket
import threading
import time

import fixtures as fixtures_lib
from nova import test
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import power as pvm_power
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm import exception as pvm_nova_exc
from powervm_sim import faults
from powervm_sim import fixture as sim_fixture
from powervm_sim import server as server_mod
from tests.functional.driver import fixtures

_ORPHAN_VLAN = 3001
# Allowed on top of a computed time budget: thread start-up, a loaded box.
_SLACK_SECONDS = 3.0


class BlackHole(fixtures_lib.Fixture):
    """A loopback port whose connections complete and are never answered
    (the kernel accepts them into the backlog; nobody reads)."""

    def _setUp(self):
        self.socket = socket.create_server(('127.0.0.1', 0), backlog=64)
        self.addCleanup(self.socket.close)
        self.port = self.socket.getsockname()[1]


class NotNovaLink(fixtures_lib.Fixture):
    """A web server on the port that answers every request 200 with an
    HTML page, as a proxy or another program on NovaLink's port would."""

    def _setUp(self):
        self.requests = []
        seen = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                seen.append((self.command, self.path))
                length = int(self.headers.get('Content-Length') or 0)
                self.rfile.read(length)
                page = b'<html><body>Welcome<br></body></html>'
                self.send_response(200)
                self.send_header('Content-Type', 'text/html')
                self.send_header('Content-Length', str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            # http.server's names for the methods' handlers.
            do_GET = do_PUT = do_POST = do_DELETE = _answer  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.port = self.server.server_address[1]
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)


def _event_poll_threads(polling_only=True):
    """pypowervm's event poll threads alive (and not told to stop)."""
    return [thread for thread in threading.enumerate()
            if isinstance(thread, pvm_adpt._EventPollThread)
            and thread.is_alive() and not (polling_only and thread.done)]


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

    def test_cleanup_host_lets_the_event_poll_end_first(self):
        # Logged off under it, the poll would meet a 401, and its thread
        # would report NovaLink down and sleep before it ends.
        driver_fixture = self._driver()
        driver_fixture.init_host()
        for _ in range(5):
            driver_fixture.driver.cleanup_host(fixtures.HOST)
            self.assertEqual([], _event_poll_threads(polling_only=False))
            driver_fixture.driver.init_host(fixtures.HOST)
        self.assertNotIn('Error while getting PowerVM events',
                         self.stdlog.logger.output)

    def test_black_hole_endpoint_fails_within_the_budget(self):
        hole = self.useFixture(BlackHole())
        driver_fixture = self._driver(
            host='127.0.0.1', port=hole.port, request_timeout=1.0,
            connection_retries=3, connection_retry_interval=0.2)
        # The documented budget: every try waits request_timeout, plus the
        # waits between tries.
        budget = 3 * 1.0 + 0.2 + 0.4
        start = time.monotonic()
        err = self.assertRaises(pvm_nova_exc.NovaLinkUnavailable,
                                driver_fixture.init_host)
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, budget + _SLACK_SECONDS)
        self.assertGreaterEqual(elapsed, budget - 0.1)
        self.assertIn('http://127.0.0.1:%d' % hole.port, str(err))
        self.assertIn('after 3 attempt(s)', str(err))
        self.assertIsNone(driver_fixture.driver.adapter)

    def test_logon_answered_with_a_web_page_is_retried_then_reported(self):
        other = self.useFixture(NotNovaLink())
        driver_fixture = self._driver(
            host='127.0.0.1', port=other.port, connection_retries=3,
            connection_retry_interval=0.01)
        err = self.assertRaises(pvm_nova_exc.NovaLinkUnavailable,
                                driver_fixture.init_host)
        self.assertEqual([('PUT', '/rest/api/web/Logon')] * 3,
                         other.requests)
        self.assertIn('http://127.0.0.1:%d' % other.port, str(err))
        self.assertIn('after 3 attempt(s)', str(err))
        self.assertIn('not XML', str(err))

    def test_init_host_twice_keeps_one_session_and_one_listener(self):
        driver_fixture = self._driver()
        driver_fixture.init_host()
        first = driver_fixture.driver.adapter
        driver_fixture.driver.init_host(fixtures.HOST)
        self.assertIsNot(first, driver_fixture.driver.adapter)
        self.assertEqual(1, self._sessions())
        self.assertEqual(1, len(_event_poll_threads()))
        driver_fixture.driver.cleanup_host(fixtures.HOST)
        self.assertEqual(0, self._sessions())
        self.assertEqual([], _event_poll_threads())

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


class TestRequestTimeout(test.TestCase):
    """Every REST call waits at most [powervm] request_timeout; a job as
    a whole keeps its own timeout."""

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            lpars=1, event_wait=0.2))
        self.driver = self.useFixture(fixtures.DriverFixture(
            self.sim, request_timeout=1.0)).driver

    def test_a_request_novalink_never_answers_fails_after_the_timeout(self):
        self.sim.faults.add(faults.FaultRule(
            outcome=faults.DelayOnly(), method='GET',
            resource_type='LogicalPartition', delay=10.0))
        start = time.monotonic()
        self.assertRaises(pvm_exc.TimeoutError,
                          self.driver.list_instances)
        self.assertLess(time.monotonic() - start, 1.0 + _SLACK_SECONDS)

    def test_updates_wait_no_longer_than_the_request_timeout(self):
        # pypowervm gives an update an hour unless told otherwise.
        lpar_w = pvm_lpar.LPAR.get(self.driver.adapter)[0]
        self.sim.faults.add(faults.FaultRule(
            outcome=faults.DelayOnly(), method='POST',
            resource_type='LogicalPartition', delay=10.0))
        start = time.monotonic()
        self.assertRaises(pvm_exc.TimeoutError, lpar_w.update)
        self.assertLess(time.monotonic() - start, 1.0 + _SLACK_SECONDS)

    def test_jobs_run_longer_than_the_request_timeout(self):
        self.sim.latency.per_job = 2.5
        lpar_w = pvm_lpar.LPAR.get(self.driver.adapter)[0]
        pvm_power.power_on(lpar_w, None)
        self.assertEqual('running', self.sim.model.registry.find(
            lpar_w.uuid).state)


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
