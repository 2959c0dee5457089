"""HTTPS with password logon: unmodified pypowervm against the fixture."""

import logging
import os

import fixtures
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
import testtools

from powervm_sim import auth
from powervm_sim import fixture


class TestHttps(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logs = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.sim = self.useFixture(fixture.NovaLinkFixture(https=True,
                                                           lpars=1))
        self.endpoint = self.sim.endpoints[0]

    def _session(self, **kwargs):
        kwargs.setdefault('username', self.sim.username)
        kwargs.setdefault('password', self.sim.password)
        kwargs.setdefault('certpath', self.sim.certdir)
        return pvm_adpt.Session(
            host=self.endpoint.host, port=self.endpoint.port,
            protocol='https', conn_tries=1, **kwargs)

    def test_password_logon_and_system_read(self):
        adapter = self.sim.adapter()
        self.assertEqual('https', adapter.session.protocol)
        self.assertFalse(adapter.traits.local_api)
        self.assertTrue(adapter.traits.has_high_slot)
        [host] = pvm_ms.System.get(adapter)
        self.assertEqual(self.sim.model.systems[0].uuid, host.uuid)
        self.assertEqual(1, self.endpoint.simulator.sessions.active_count())

    def test_the_logon_accepts_only_the_simulators_certificate(self):
        # No pinned copy (pypowervm would fail on it); requests verifies.
        self.assertFalse(os.path.exists(auth.pinned_cert_path(
            self.sim.certdir, self.endpoint.host)))
        other_dir = self.useFixture(fixtures.TempDir()).path
        other_cert, _key = auth.generate_self_signed_cert(other_dir)
        self.useFixture(fixtures.EnvironmentVariable('REQUESTS_CA_BUNDLE',
                                                     other_cert))
        self.assertRaises(pvm_exc.SSLError, self._session)
        self.assertEqual(0, self.endpoint.simulator.sessions.active_count())

    def test_wrong_password_is_a_clear_401(self):
        err = self.assertRaises(pvm_exc.HttpUnauth, self._session,
                                password='not-the-password')
        self.assertEqual(401, err.response.status)
        self.assertIn('Invalid user ID or password', str(err))
        self.assertNotIn('not-the-password', str(err))
        self.assertEqual(0, self.endpoint.simulator.sessions.active_count())

    def test_logoff_then_log_on_again(self):
        adapter = self.sim.adapter()
        adapter.session._logoff()
        self.assertEqual(0, self.endpoint.simulator.sessions.active_count())
        # pypowervm will not re-login a session it logged off itself.
        self.assertRaises(pvm_exc.HttpUnauth, pvm_lpar.LPAR.get, adapter)
        again = self.sim.adapter()
        self.assertEqual(2, len(pvm_lpar.LPAR.get(again)))
        self.assertEqual(1, self.endpoint.simulator.sessions.active_count())

    def test_expired_session_logs_on_again_over_https(self):
        adapter = self.sim.adapter()
        token = adapter.session._sessToken
        self.endpoint.simulator.sessions.expire_all()
        self.assertEqual(2, len(pvm_lpar.LPAR.get(adapter)))
        self.assertNotEqual(token, adapter.session._sessToken)
        self.assertEqual(1, self.endpoint.simulator.sessions.active_count())

    def test_simulators_inside_one_another_are_all_trusted(self):
        inner = self.useFixture(fixture.NovaLinkFixture(https=True))
        self.assertEqual(inner.model.systems[0].uuid,
                         pvm_ms.System.get(inner.adapter())[0].uuid)
        self.assertEqual(self.sim.model.systems[0].uuid,
                         pvm_ms.System.get(self.sim.adapter())[0].uuid)

    def test_the_password_never_reaches_the_log(self):
        self.sim.adapter()
        self.assertRaises(pvm_exc.HttpUnauth, self._session,
                          password='guess-' + self.sim.password)
        self.assertIn('Session logging on', self.logs.output)
        self.assertNotIn(self.sim.password, self.logs.output)
