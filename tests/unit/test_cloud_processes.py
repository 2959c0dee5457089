"""The cloud harness's process bookkeeping: what the simulator's console
announces, what reaches its log, which addresses are loopback."""

import io

import fixtures
import testtools

from tests.cloud import processes

ANNOUNCEMENT = (
    'endpoint 0: url=https://127.0.0.1:40001 system=Server-A uuid=u0 '
    'auth=password user=padmin password=s3cret-one cert=/tmp/c.pem\n'
    'endpoint 1: url=https://127.0.0.1:40002 system=Server-B uuid=u1 '
    'auth=password user=padmin password=s3cret-one cert=/tmp/c.pem\n'
    'trust: REQUESTS_CA_BUNDLE=/tmp/c.pem\n'
    'control: header=X-Sim-Token token=t0ken-value\n'
    'ready\n')


class FakePopen:
    def __init__(self, text):
        self.stdout = io.StringIO(text)


class TestSimulatorConsole(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log_dir = self.useFixture(fixtures.TempDir()).path
        self.sim = processes.Simulator('powervm-sim', ['powervm-sim'],
                                       self.log_dir)
        self.sim.popen = FakePopen(ANNOUNCEMENT)

    def read(self):
        self.sim._read_console()
        with open(self.sim.log_path) as log:
            return log.read()

    def test_endpoints_and_token_are_read(self):
        self.read()
        self.assertEqual(['https://127.0.0.1:40001',
                          'https://127.0.0.1:40002'],
                         [e['url'] for e in self.sim.endpoints])
        self.assertEqual('s3cret-one', self.sim.endpoints[1]['password'])
        self.assertEqual('/tmp/c.pem', self.sim.endpoints[0]['cert'])
        self.assertEqual('t0ken-value', self.sim.control_token)
        self.assertTrue(self.sim._ready.is_set())

    def test_secrets_stay_out_of_the_log(self):
        log = self.read()
        self.assertNotIn('s3cret-one', log)
        self.assertNotIn('t0ken-value', log)
        self.assertIn('password=*** cert=/tmp/c.pem', log)
        self.assertIn('token=***', log)
        self.assertIn('system=Server-B', log)


class TestOnLoopback(testtools.TestCase):

    def test_loopback_addresses(self):
        for address in ('127.0.0.1:5672', '127.0.1.1:80', '[::1]:35357',
                        '[::ffff:127.0.0.1]:3306', '0.0.0.0:*', '[::]:*',
                        '*:*'):
            self.assertTrue(processes.on_loopback(address), address)

    def test_other_addresses(self):
        for address in ('0.0.0.0:8774', '[::]:9292', '192.0.2.7:443',
                        '[2001:db8::1]:5672', '10.0.0.1:53'):
            self.assertFalse(processes.on_loopback(address), address)
