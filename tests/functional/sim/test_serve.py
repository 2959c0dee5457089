"""``powervm-sim serve`` as its own process, driven by pypowervm."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time

import fixtures
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import management_console as pvm_mc
from pypowervm.tasks import migration as pvm_migration
from pypowervm.tasks import power as pvm_power
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import job as pvm_job
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
import requests
import testtools

START_TIMEOUT = 60
STOP_TIMEOUT = 30


class ServeProcess(fixtures.Fixture):
    """One ``python -m powervm_sim serve`` run and what it printed."""

    def __init__(self, *args):
        super().__init__()
        self.args = args
        self.lines = []
        self.endpoints = []
        self.control = {}

    def _setUp(self):
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'powervm_sim', 'serve', *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self._kill)
        self._stdout = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self._wait_until_ready()

    def _pump(self):
        for line in self.process.stdout:
            self._stdout.put(line.rstrip('\n'))
        self._stdout.put(None)

    def _wait_until_ready(self):
        while True:
            line = self._stdout.get(timeout=START_TIMEOUT)
            if line is None:
                raise AssertionError('powervm-sim exited at start: %s' %
                                     self.process.stderr.read())
            self.lines.append(line)
            if line == 'ready':
                return
            name, _, rest = line.partition(': ')
            if name.startswith('endpoint '):
                self.endpoints.append(_words(rest))
            elif name == 'control':
                self.control = _words(rest)

    def stop(self, signum=signal.SIGTERM):
        """Signal the process; returns (exit status, its stderr)."""
        self.process.send_signal(signum)
        status = self.process.wait(timeout=STOP_TIMEOUT)
        return status, self.process.stderr.read()

    def _kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()

    def control_call(self, method, path, index=0, **kwargs):
        return requests.request(
            method, self.endpoints[index]['url'] + '/sim/' + path,
            headers={self.control['header']: self.control['token']},
            timeout=10, **kwargs)


def _words(text):
    return dict(word.split('=', 1) for word in text.split())


def _read(path):
    with open(path) as state_file:
        return state_file.read()


def _split_url(url):
    scheme, _, rest = url.partition('://')
    host, _, port = rest.rpartition(':')
    return scheme, host, int(port)


def _session(endpoint, **kwargs):
    protocol, host, port = _split_url(endpoint['url'])
    return pvm_adpt.Session(host=host, port=port, protocol=protocol,
                            conn_tries=1, **kwargs)


def _create_lpar(adapter, host, name):
    attrs = {lpar_builder.NAME: name, lpar_builder.MEM: 2048,
             lpar_builder.VCPU: 2, lpar_builder.PROC_UNITS: '0.2'}
    stdz = lpar_builder.DefaultStandardize(host)
    return lpar_builder.LPARBuilder(adapter, attrs, stdz).build().create(
        parent=host)


class TestServe(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def test_an_lpar_survives_a_restart(self):
        path = os.path.join(self.tmp, 'sim.json')
        args = ('--systems', '2', '--vioses', '1', '--port', '0',
                '--state', path)
        first = self.useFixture(ServeProcess(*args))
        self.assertIn('state: %s (new)' % path, first.lines)
        self.assertEqual(2, len(first.endpoints))
        self.assertNotEqual(first.endpoints[0]['url'],
                            first.endpoints[1]['url'])
        session = _session(first.endpoints[0])
        adapter = pvm_adpt.Adapter(session)
        [host] = pvm_ms.System.get(adapter)
        self.assertEqual(first.endpoints[0]['uuid'], host.uuid)
        lpar = _create_lpar(adapter, host, 'survivor')
        pvm_power.power_on(lpar, host)
        self.assertEqual(pvm_bp.LPARState.RUNNING,
                         pvm_lpar.LPAR.get(adapter, uuid=lpar.uuid).state)
        session._logoff()
        status, stderr = first.stop()
        self.assertEqual(0, status, stderr)

        second = self.useFixture(ServeProcess(*args))
        self.assertIn('state: %s (loaded)' % path, second.lines)
        self.assertEqual([e['uuid'] for e in first.endpoints],
                         [e['uuid'] for e in second.endpoints])
        session = _session(second.endpoints[0])
        again = pvm_lpar.LPAR.get(pvm_adpt.Adapter(session), uuid=lpar.uuid)
        self.assertEqual(('survivor', pvm_bp.LPARState.RUNNING, lpar.id),
                         (again.name, again.state, again.id))
        session._logoff()
        # The other system's NovaLink does not serve it.
        session = _session(second.endpoints[1])
        self.assertNotIn(lpar.uuid, [w.uuid for w in pvm_lpar.LPAR.get(
            pvm_adpt.Adapter(session))])
        session._logoff()
        self.assertEqual(0, second.stop()[0])

    def test_changes_are_saved_without_a_clean_shutdown(self):
        path = os.path.join(self.tmp, 'sim.json')
        args = ('--vioses', '1', '--port', '0', '--state', path)
        first = self.useFixture(ServeProcess(*args))
        session = _session(first.endpoints[0])
        adapter = pvm_adpt.Adapter(session)
        lpar = _create_lpar(adapter, pvm_ms.System.get(adapter)[0], 'saved')
        session._logoff()
        deadline = time.monotonic() + STOP_TIMEOUT
        while lpar.uuid not in _read(path):
            self.assertLess(time.monotonic(), deadline,
                            'the change never reached the state file')
            time.sleep(0.1)
        first.process.kill()
        first.process.wait()
        second = self.useFixture(ServeProcess(*args))
        session = _session(second.endpoints[0])
        self.assertEqual('saved', pvm_lpar.LPAR.get(
            pvm_adpt.Adapter(session), uuid=lpar.uuid).name)
        session._logoff()
        self.assertEqual(0, second.stop()[0])

    def test_a_migration_a_restart_interrupts_waits_for_recovery(self):
        path = os.path.join(self.tmp, 'sim.json')
        args = ('--systems', '2', '--vioses', '1', '--port', '0',
                '--state', path)
        first = self.useFixture(ServeProcess(*args))
        sessions = [_session(endpoint) for endpoint in first.endpoints]
        adapter = pvm_adpt.Adapter(sessions[0])
        [host] = pvm_ms.System.get(adapter)
        lpar = _create_lpar(adapter, host, 'traveller')
        pvm_power.power_on(lpar, host)
        target_adapter = pvm_adpt.Adapter(sessions[1])
        [target] = pvm_ms.System.get(target_adapter)
        # The target's NovaLink trusts the source's, as a client makes it.
        source_key = pvm_mc.get_public_key(adapter)
        pvm_mc.add_authorized_key(target_adapter, source_key)
        first.control_call('PUT', 'latency', json={
            'per_job_operation': {'Migrate': 600}}).raise_for_status()
        job_w = pvm_job.Job.wrap(adapter.read(
            pvm_lpar.LPAR.schema_type, lpar.uuid, suffix_type='do',
            suffix_parm='Migrate'))
        job_w.add_job_parameters_to_existing(job_w.create_job_parameter(
            pvm_migration.TGT_MGD_SYS, target.system_name))
        adapter.create_job(job_w.entry.element, pvm_lpar.LPAR.schema_type,
                           lpar.uuid)
        for session in sessions:
            session._logoff()
        self.assertEqual(0, first.stop()[0])

        # The job that ran the migration is gone: it failed midway.
        second = self.useFixture(ServeProcess(*args))
        session = _session(second.endpoints[0])
        adapter = pvm_adpt.Adapter(session)
        lpar = pvm_lpar.LPAR.get(adapter, uuid=lpar.uuid)
        self.assertEqual((pvm_bp.LPARState.MIGRATING_RUNNING,
                          'Migration_Failed'),
                         (lpar.state, lpar.migration_state))
        pvm_migration.migrate_recover(lpar, force=True)
        self.assertEqual(pvm_bp.LPARState.RUNNING, lpar.refresh().state)
        session._logoff()
        # The trust was saved with the rest.
        session = _session(second.endpoints[1])
        self.assertEqual((source_key,), pvm_mc.get_authorized_keys(
            pvm_adpt.Adapter(session)))
        session._logoff()
        self.assertEqual(0, second.stop()[0])

    def test_control_api_needs_the_printed_token(self):
        path = os.path.join(self.tmp, 'sim.json')
        run = self.useFixture(ServeProcess('--vioses', '1', '--port', '0',
                                           '--state', path))
        url = run.endpoints[0]['url'] + '/sim/status'
        self.assertEqual(403, requests.get(url, timeout=10).status_code)
        status = run.control_call('GET', 'status').json()
        self.assertEqual(run.endpoints[0]['uuid'],
                         status['systems'][0]['uuid'])
        saved = run.control_call('POST', 'state/save')
        self.assertEqual({'saved': path}, saved.json())
        self.assertEqual(0, run.stop(signal.SIGINT)[0])

    def test_https_run_logs_on_with_the_printed_credentials(self):
        run = self.useFixture(ServeProcess('--https', '--vioses', '1',
                                           '--port', '0'))
        [endpoint] = run.endpoints
        self.assertEqual(('https', 'password', 'padmin'), (
            _split_url(endpoint['url'])[0], endpoint['auth'],
            endpoint['user']))
        self.assertIn('trust: REQUESTS_CA_BUNDLE=%s' % endpoint['cert'],
                      run.lines)
        self.useFixture(fixtures.EnvironmentVariable('REQUESTS_CA_BUNDLE',
                                                     endpoint['cert']))
        certpath = self.useFixture(fixtures.TempDir()).path + '/'
        session = _session(endpoint, username=endpoint['user'],
                           password=endpoint['password'],
                           certpath=certpath)
        adapter = pvm_adpt.Adapter(session)
        self.assertFalse(adapter.traits.local_api)
        self.assertEqual(endpoint['uuid'],
                         pvm_ms.System.get(adapter)[0].uuid)
        session._logoff()
        status, stderr = run.stop()
        self.assertEqual(0, status, stderr)
        self.assertNotIn(endpoint['password'], stderr)
        self.assertFalse(os.path.exists(endpoint['cert']))

    def test_password_logon_is_off_without_users(self):
        run = self.useFixture(ServeProcess('--vioses', '1', '--port', '0'))
        [endpoint] = run.endpoints
        self.assertEqual('file', endpoint['auth'])
        # A local user who cannot read the token files gets no session.
        exc = self.assertRaises(pvm_exc.HttpError, _session, endpoint,
                                username='padmin', password='padmin')
        self.assertEqual(401, exc.response.status)
        self.assertIn('Password logon is not enabled', exc.her_wrap.message)
        self.assertEqual(0, run.stop()[0])

    def test_users_file_enables_password_logon(self):
        users = os.path.join(self.tmp, 'users')
        with open(os.open(users, os.O_WRONLY | os.O_CREAT, 0o600),
                  'w') as users_file:
            users_file.write('neo:trinity\n')
        run = self.useFixture(ServeProcess('--vioses', '1', '--port', '0',
                                           '--users', users))
        [endpoint] = run.endpoints
        self.assertEqual(('file,password', 'neo'),
                         (endpoint['auth'], endpoint['users']))
        self.assertNotIn('trinity', '\n'.join(run.lines))
        session = _session(endpoint, username='neo', password='trinity')
        self.assertEqual(endpoint['uuid'], pvm_ms.System.get(
            pvm_adpt.Adapter(session))[0].uuid)
        session._logoff()
        exc = self.assertRaises(pvm_exc.HttpError, _session, endpoint,
                                username='padmin', password='padmin')
        self.assertEqual(401, exc.response.status)
        self.assertEqual(0, run.stop()[0])

    def test_file_auth_refuses_to_leave_loopback(self):
        result = subprocess.run(
            [sys.executable, '-m', 'powervm_sim', 'serve', '--host',
             '192.0.2.7'], capture_output=True, text=True,
            timeout=START_TIMEOUT)
        self.assertEqual(2, result.returncode)
        self.assertIn('only listens on loopback', result.stderr)

    def test_help(self):
        result = subprocess.run(
            [sys.executable, '-m', 'powervm_sim', '--help'],
            capture_output=True, text=True, timeout=START_TIMEOUT)
        self.assertEqual(0, result.returncode)
        self.assertIn('serve', result.stdout)
