"""The driver's NovaLink session keeps one connection alive per thread,
and changes nothing else: re-logon, certificate checks, reconnecting to a
NovaLink that restarted."""

import threading
import time

import fixtures as fixtures_lib
from nova import test

from nova_powervm import exception as pvm_nova_exc
from nova_powervm import session as pvm_session
from powervm_sim import faults
from powervm_sim import fixture as sim_fixture
from powervm_sim import server as server_mod
from tests.functional.driver import fixtures

_CALLS = 20


def _in_threads(count, func):
    """Run ``func`` in ``count`` new threads at once; their results."""
    results = [None] * count
    errors = []

    def run(index):
        try:
            results[index] = func()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,))
               for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


class SessionTestCase(test.TestCase):

    HTTPS = False

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            lpars=2, https=self.HTTPS, event_wait=0.2))
        self.endpoint = self.sim.endpoints[0]

    def driver(self, **options):
        """The driver, started, with its event listener polling (so that
        the listener's own connection is made before a test counts)."""
        if self.HTTPS:
            options.update(username=self.sim.username,
                           password=self.sim.password,
                           certpath=self.sim.certdir)
        polls = self.sim.faults.add(faults.FaultRule(
            outcome=faults.DelayOnly(), method='GET', path='/Event'))
        driver = self.useFixture(fixtures.DriverFixture(
            self.sim, **options)).driver
        # The listener's first read comes from init_host; its thread's
        # first poll is the second.
        deadline = time.monotonic() + 10
        while (self.sim.faults.counters()['by_rule'][polls] < 2
               and time.monotonic() < deadline):
            time.sleep(0.01)
        self.sim.faults.remove(polls)
        return driver

    def connections(self):
        return self.endpoint.server.connections_accepted

    def list_many(self, driver, calls=_CALLS):
        return [sorted(driver.list_instances()) for _ in range(calls)]


class TestKeptConnections(SessionTestCase):

    def test_a_thread_reuses_its_connection(self):
        driver = self.driver()
        before = self.connections()
        [names] = _in_threads(1, lambda: self.list_many(driver))
        self.assertEqual(1, self.connections() - before)
        self.assertEqual([names[0]] * _CALLS, names)
        self.assertEqual(2, len(names[0]))

    def test_threads_each_keep_their_own_connection(self):
        driver = self.driver()
        before = self.connections()
        results = _in_threads(8, lambda: self.list_many(driver))
        self.assertEqual(8, self.connections() - before)
        expected = sorted(lpar.name for lpar in self.sim.model.lpars(
            self.sim.model.systems[0]) if not lpar.is_mgmt)
        self.assertEqual([[expected] * _CALLS] * 8, results)

    def test_a_connection_idle_too_long_is_not_reused(self):
        driver = self.driver()
        self.useFixture(fixtures_lib.MonkeyPatch(
            'nova_powervm.transport.MAX_IDLE_SECONDS', -1.0))
        before = self.connections()
        _in_threads(1, lambda: self.list_many(driver, calls=3))
        self.assertEqual(3, self.connections() - before)

    def test_expired_session_logs_on_again(self):
        driver = self.driver()
        sessions = self.endpoint.simulator.sessions
        sessions.expire_all()
        self.assertEqual(2, len(driver.list_instances()))
        self.assertEqual(1, sessions.active_count())

    def test_novalink_restarted_is_reached_again(self):
        driver = self.driver()
        driver.list_instances()
        # The kept connection ends with the server.
        self.endpoint.server.stop()
        restarted = server_mod.Server(
            self.endpoint.simulator, host=self.endpoint.host,
            port=self.endpoint.port).start()
        self.addCleanup(restarted.stop)
        self.assertEqual(2, len(driver.list_instances()))
        self.assertEqual(1, restarted.connections_accepted)

    def test_logoff_closes_the_kept_connections(self):
        driver = self.driver()
        session = driver.adapter.session

        def list_and_keep():
            driver.list_instances()
            # Held here: a connection whose thread ended and that nothing
            # holds is gone from the session's weak set already.
            return session._thread_connection()

        connections = _in_threads(3, list_and_keep)
        self.assertEqual(3, len({id(c) for c in connections}))
        driver.cleanup_host(fixtures.HOST)
        self.assertEqual([], [connection for connection in connections
                              if connection._held[0].sock is not None])


class TestKeptConnectionsOverHttps(SessionTestCase):

    HTTPS = True

    def test_one_tls_handshake_per_thread(self):
        driver = self.driver()
        before = self.connections()
        results = _in_threads(4, lambda: self.list_many(driver))
        self.assertEqual(4, self.connections() - before)
        self.assertEqual(4, len(results))

    def test_an_untrusted_certificate_is_still_refused(self):
        # The bundle in force before the fixture trusted its certificate.
        self.useFixture(fixtures_lib.EnvironmentVariable(
            'REQUESTS_CA_BUNDLE', None))
        self.useFixture(fixtures_lib.EnvironmentVariable(
            'CURL_CA_BUNDLE', None))
        driver_fixture = self.useFixture(fixtures.DriverFixture(
            self.sim, init_host=False, username=self.sim.username,
            password=self.sim.password, certpath=self.sim.certdir))
        err = self.assertRaises(pvm_nova_exc.NovaLinkUnavailable,
                                driver_fixture.init_host)
        self.assertIn('CERTIFICATE_VERIFY_FAILED', str(err))
        self.assertIsNone(driver_fixture.driver.adapter)


class TestBadLogonAnswer(test.TestCase):

    def test_is_a_pypowervm_error(self):
        # pypowervm's re-logon handles its own errors only.
        self.assertTrue(issubclass(pvm_session.BadLogonAnswer,
                                   pvm_session.pvm_exc.Error))
