"""OS processes of the cloud: started in their own session, logged to a
file each, stopped with SIGTERM then SIGKILL, measured by RSS."""

import logging
import os
import re
import signal
import subprocess
import threading
import time

STOP_SECONDS = 20.0
LOG = logging.getLogger(__name__)
# What a process prints that must not reach its log file.
_SECRET_WORDS = re.compile(r'\b(password|token)=\S+')


class Process:
    """One service: ``argv`` run with ``env`` added to ours."""

    def __init__(self, name, argv, log_dir, env=None, cwd=None):
        self.name = name
        self.argv = list(argv)
        self.env = dict(env or {})
        self.cwd = cwd
        self.log_path = os.path.join(log_dir, '%s.log' % name)
        self.popen = None
        self._terminated_at = None

    def start(self):
        environ = dict(os.environ, **self.env)
        with open(self.log_path, 'ab') as log:
            # A session of its own: a signal to the group reaches uWSGI's
            # workers too, and Ctrl-C at the terminal reaches only us.
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=environ, cwd=self.cwd,
                start_new_session=True)
        return self

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def kill9(self):
        """SIGKILL the whole group, as a crash or the OOM killer would."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait()

    def terminate(self):
        """SIGTERM: the service stops gracefully (see wait_stopped)."""
        self._terminated_at = time.monotonic()
        if self.alive():
            self._signal_group(signal.SIGTERM)

    def wait_stopped(self, timeout=STOP_SECONDS):
        """Wait for the end after terminate(), SIGKILL after ``timeout``;
        seconds since terminate()."""
        if self.popen is None:
            return 0.0
        try:
            self.popen.wait(max(0.0, self._terminated_at + timeout -
                                time.monotonic()))
        except subprocess.TimeoutExpired:
            LOG.warning('%s did not stop in %.0f s: killed', self.name,
                        timeout)
            self._signal_group(signal.SIGKILL)
            self.popen.wait()
        # What the leader left behind in its group goes too.
        self._signal_group(signal.SIGKILL)
        return time.monotonic() - self._terminated_at

    def _signal_group(self, signum):
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def rss_bytes(self):
        """Resident memory of the process and its children."""
        return sum(_rss(pid) for pid in tree(self.pid)) if self.alive() \
            else 0


def _children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            return [int(child) for child in f.read().split()]
    except OSError:
        return []


def tree(pid):
    pids = [pid]
    for child in _children(pid):
        pids.extend(tree(child))
    return pids


def _rss(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Simulator(Process):
    """``powervm-sim serve``: its console announces the endpoints with their
    secrets, which are read here and kept out of the log."""

    def __init__(self, name, argv, log_dir, env=None):
        super().__init__(name, argv, log_dir, env)
        self.endpoints = []
        self.control_token = None
        self._ready = threading.Event()

    def start(self):
        environ = dict(os.environ, **self.env)
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=environ, start_new_session=True,
            text=True)
        threading.Thread(target=self._read_console, daemon=True,
                         name='%s-console' % self.name).start()
        return self

    def _read_console(self):
        with open(self.log_path, 'a') as log:
            for line in self.popen.stdout:
                self._parse(line.strip())
                log.write(_SECRET_WORDS.sub(r'\1=***', line))
                log.flush()
        self._ready.set()

    def _parse(self, line):
        if line.startswith('endpoint '):
            self.endpoints.append(dict(
                word.split('=', 1) for word in line.split()[2:]
                if '=' in word))
        elif line.startswith('control: '):
            self.control_token = line.split('token=', 1)[1]
        elif line == 'ready':
            self._ready.set()

    def wait_ready(self, timeout):
        if not self._ready.wait(timeout) or not self.alive():
            raise RuntimeError('%s did not start: see %s' % (
                self.name, self.log_path))


def sockets_of(pids):
    """(local, peer) addresses of every TCP and UDP socket of ``pids``,
    as ``ss`` prints them."""
    lines = subprocess.run(['ss', '-tuanpH'], capture_output=True,
                           text=True, check=True, timeout=30).stdout
    owned = re.compile(r'pid=(\d+),')
    return [tuple(line.split()[4:6]) for line in lines.splitlines()
            if pids & {int(pid) for pid in owned.findall(line)}]


def on_loopback(address):
    """Whether ss's ``host:port`` is on loopback (the peer of a socket
    that has none, ``0.0.0.0:*`` and the like, is nowhere)."""
    host, port = address.rsplit(':', 1)
    if port == '*':
        return True
    host = host.strip('[]')
    if host.startswith('::ffff:'):
        host = host[len('::ffff:'):]
    return host == '::1' or host.startswith('127.')
