"""Connecting to NovaLink: session arguments, retries, secret bodies."""

from unittest import mock

import fixtures
from oslo_config import fixture as config_fixture
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.helpers import log_helper as pvm_log
import testtools

from nova_powervm import adapter
from nova_powervm import conf
from nova_powervm import exception as pvm_nova_exc
from nova_powervm import session as pvm_session


def _http_error(status):
    response = pvm_adpt.Response('PUT', '/rest/api/web/Logon', status,
                                 'reason', {})
    return pvm_exc.HttpError(response)


class ConfTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(conf.CONF))

    def flags(self, **options):
        self.conf.config(group='powervm', **options)


class TestSessionArguments(ConfTestCase):

    def test_file_auth_by_default(self):
        self.assertEqual({'host': 'localhost', 'conn_tries': 1},
                         adapter.session_kwargs(conf.CONF.powervm))
        self.assertEqual(
            'http://localhost:12080 (local file authentication)',
            adapter.describe_endpoint(conf.CONF.powervm))

    def test_password_auth(self):
        self.flags(host='10.0.0.5', username='padmin', password='s3cret',
                   certpath='/etc/pvm/', port=443)
        self.assertEqual(
            {'host': '10.0.0.5', 'port': 443, 'conn_tries': 1,
             'username': 'padmin', 'password': 's3cret',
             'certpath': '/etc/pvm/'},
            adapter.session_kwargs(conf.CONF.powervm))
        described = adapter.describe_endpoint(conf.CONF.powervm)
        self.assertEqual('https://10.0.0.5:443 (user padmin)', described)
        self.assertNotIn('s3cret', described)

    def test_explicit_protocol(self):
        self.flags(protocol='https')
        self.assertEqual('https',
                         adapter.session_kwargs(conf.CONF.powervm)['protocol'])


class TestRetrySchedule(testtools.TestCase):

    def test_doubling_waits(self):
        self.assertEqual([2.0, 4.0, 8.0, 16.0],
                         adapter.retry_delays(5, 2.0))

    def test_waits_stop_growing_at_the_cap(self):
        self.assertEqual([10.0, 20.0, 30.0, 30.0, 30.0],
                         adapter.retry_delays(6, 10.0))

    def test_one_try_never_waits(self):
        self.assertEqual([], adapter.retry_delays(1, 2.0))

    def test_what_is_worth_retrying(self):
        self.assertTrue(adapter.is_starting_error(
            pvm_exc.ConnectionError('refused')))
        self.assertTrue(adapter.is_starting_error(
            pvm_exc.TimeoutError('slow')))
        self.assertTrue(adapter.is_starting_error(_http_error(503)))
        self.assertTrue(adapter.is_starting_error(_http_error(404)))
        self.assertTrue(adapter.is_starting_error(
            pvm_session.BadLogonAnswer('<html>')))
        self.assertFalse(adapter.is_starting_error(_http_error(401)))
        self.assertFalse(adapter.is_starting_error(
            pvm_exc.AuthFileReadError(access_file='/tmp/token')))


class TestConnect(ConfTestCase):

    def setUp(self):
        super().setUp()
        self.flags(connection_retries=4, connection_retry_interval=1.0)
        self.session = self.useFixture(fixtures.MockPatch(
            'nova_powervm.session.Session')).mock
        self.sleeps = []

    def _connect(self):
        return adapter.connect(sleep=self.sleeps.append)

    def test_connects_with_the_helpers(self):
        result = self._connect()
        self.session.assert_called_once_with(60.0, host='localhost',
                                             conn_tries=1)
        self.assertIs(self.session.return_value, result.session)
        self.assertEqual(list(adapter.HELPERS), result.helpers)
        self.assertEqual([], self.sleeps)

    def test_novalink_starting_is_retried_with_back_off(self):
        self.session.side_effect = [
            pvm_exc.ConnectionError('refused'), _http_error(503),
            mock.sentinel.session]
        result = self._connect()
        self.assertIs(mock.sentinel.session, result.session)
        self.assertEqual([1.0, 2.0], self.sleeps)

    def test_gives_up_after_the_configured_tries(self):
        self.session.side_effect = pvm_exc.ConnectionError('refused')
        err = self.assertRaises(pvm_nova_exc.NovaLinkUnavailable,
                                self._connect)
        self.assertEqual(4, self.session.call_count)
        self.assertEqual([1.0, 2.0, 4.0], self.sleeps)
        self.assertIn('http://localhost:12080', str(err))
        self.assertIn('after 4 attempt(s): refused', str(err))

    def test_a_refused_logon_is_not_retried(self):
        self.session.side_effect = _http_error(401)
        err = self.assertRaises(pvm_nova_exc.NovaLinkUnavailable,
                                self._connect)
        self.assertEqual(1, self.session.call_count)
        self.assertIn('after 1 attempt(s)', str(err))


class TestSecretsAreNotLogged(testtools.TestCase):
    """log_helper dumps recent requests when one fails; never a secret."""

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='pypowervm.helpers.log_helper', level='INFO'))
        self.sent = []

        def failing_request(method, path, **kwargs):
            self.sent.append(kwargs)
            raise _http_error(500)

        self.request = adapter.mark_secrets_sensitive(
            pvm_log.log_helper(failing_request))

    def _send(self, body):
        self.assertRaises(pvm_exc.HttpError, self.request, 'PUT',
                          '/rest/api/uom/VirtualIOServer/1/do/Job', body=body)

    def test_job_with_a_password_is_not_logged(self):
        self._send(b'<JobParameter><ParameterName>password</ParameterName>'
                   b'<ParameterValue>chap-s3cret</ParameterValue>'
                   b'</JobParameter>')
        self.assertNotIn('chap-s3cret', self.log.output)
        self.assertIn('<SENSITIVE>', self.log.output)
        self.assertTrue(self.sent[0]['sensitive'])

    def test_ordinary_bodies_are_still_logged(self):
        self._send('<JobParameter><ParameterName>devName</ParameterName>'
                   '<ParameterValue>hdisk4</ParameterValue></JobParameter>')
        self.assertIn('hdisk4', self.log.output)
        self.assertNotIn('sensitive', self.sent[0])
