"""A real OpenStack Swift on loopback, for the NVRAM store's tests.

Run as a program (``python tests/functional/swift_server.py``, not as
a module of the tests package, which imports nova): one
process serving Swift's own proxy server behind tempauth, and its
account, container and (in-memory: ``swift.obj.mem_server``) object
servers, each on a loopback port, with one-device rings in a temporary
folder.  Swift runs on eventlet, which nova's processes refuse: hence a
process of its own.  It prints ``ready URL`` (tempauth's v1 auth URL)
and serves until killed.

``SwiftFixture`` starts it for a test; its user is ``TEST_USER`` (with
tempauth's v1 authentication: ``[powervm] swift_auth_version = 1``).
"""

import os
import subprocess
import sys
import tempfile
import threading

import fixtures

ACCOUNT = 'test'
USER = 'tester'
TEST_USER = '%s:%s' % (ACCOUNT, USER)
TEST_KEY = 'testing'
# Bound for the server's start: only a broken install comes near it.
START_SECONDS = 60


class SwiftFixture(fixtures.Fixture):
    """Swift on loopback for the length of a test (``.auth_url``)."""

    def _setUp(self):
        folder = self.useFixture(fixtures.TempDir()).path
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), folder],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(self._stop)
        line = self._first_line()
        if not line.startswith('ready '):
            raise RuntimeError('Swift did not start: %r' % line)
        self.auth_url = line.split()[1]

    def _first_line(self):
        lines = []

        def read():
            lines.append(self.process.stdout.readline().strip())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(START_SECONDS)
        return lines[0] if lines else ''

    def _stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(START_SECONDS)
        self.process.stdout.close()

    def stop(self):
        """Swift goes away (connections refused from now on)."""
        self._stop()


def _serve(folder):
    import eventlet
    eventlet.monkey_patch()
    from eventlet import wsgi
    from swift.account import server as account_server
    from swift.common.middleware import tempauth
    from swift.common.ring import builder as ring_builder
    from swift.common import utils
    from swift.container import server as container_server
    from swift.obj import mem_server
    from swift.proxy import server as proxy_server

    utils.HASH_PATH_SUFFIX = b'nova-powervm-tests'
    devices = os.path.join(folder, 'devices')
    os.makedirs(os.path.join(devices, 'sda1'))
    server_conf = {'devices': devices, 'mount_check': 'false',
                   'swift_dir': folder, 'log_level': 'ERROR'}
    sockets = {name: eventlet.listen(('127.0.0.1', 0))
               for name in ('proxy', 'account', 'container', 'object')}
    for name in ('account', 'container', 'object'):
        builder = ring_builder.RingBuilder(0, 1, 1)
        builder.add_dev({'id': 0, 'region': 1, 'zone': 1,
                         'ip': '127.0.0.1',
                         'port': sockets[name].getsockname()[1],
                         'device': 'sda1', 'weight': 1})
        builder.rebalance()
        builder.get_ring().save(os.path.join(folder, '%s.ring.gz' % name))
    apps = {
        'account': account_server.AccountController(dict(server_conf)),
        'container': container_server.ContainerController(
            dict(server_conf)),
        'object': mem_server.ObjectController(dict(server_conf)),
    }
    proxy = proxy_server.Application(
        {'swift_dir': folder, 'account_autocreate': 'true',
         'log_level': 'ERROR'})
    auth = tempauth.filter_factory(
        {}, **{'user_%s_%s' % (ACCOUNT, USER): '%s .admin' % TEST_KEY,
               'token_life': '3600'})(proxy)
    apps['proxy'] = _MemoryCache(auth)
    pool = eventlet.GreenPool()
    with open(os.devnull, 'w') as null:
        for name, app in apps.items():
            pool.spawn_n(wsgi.server, sockets[name], app, log=null)
        port = sockets['proxy'].getsockname()[1]
        print('ready http://127.0.0.1:%d/auth/v1.0' % port, flush=True)
        pool.waitall()


class _MemoryCache:
    """What Swift's memcache middleware puts in the environment, in a
    dict (tempauth keeps its tokens there)."""

    def __init__(self, app):
        self.app = app
        self.values = {}

    def get(self, key, **kwargs):
        return self.values.get(key)

    def set(self, key, value, **kwargs):
        self.values[key] = value

    def incr(self, key, delta=1, **kwargs):
        self.values[key] = self.values.get(key, 0) + delta
        return self.values[key]

    def delete(self, key, **kwargs):
        self.values.pop(key, None)

    def __call__(self, environ, start_response):
        environ['swift.cache'] = self
        return self.app(environ, start_response)


if __name__ == '__main__':
    _serve(tempfile.mkdtemp() if len(sys.argv) < 2 else sys.argv[1])
