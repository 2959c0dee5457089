"""Bring a real OpenStack up on this machine, on loopback, and take it down.

Every service is the real program from the package index, run as its own
OS process with its own configuration file: keystone, placement, glance,
neutron-server and nova-api under uWSGI; nova-conductor, nova-scheduler
and two nova-computes, each with PowerVMDriver on its own NovaLink.  The
two NovaLinks are the two endpoints of one ``powervm-sim serve
--systems 2 --shared-ssp`` process: one model holds what both servers
share (the SSP cluster and partition mobility between them).

State lives in fresh MariaDB databases and a fresh RabbitMQ vhost, all
named after the run, and a run folder; ``down`` stops every process and
drops them, keeping only the logs.
"""

import concurrent.futures
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import openstack
import pymysql

from tests.cloud import configs
from tests.cloud import processes

MYSQL = {'host': '127.0.0.1', 'port': 3306, 'user': 'root', 'password': ''}
RABBIT = 'rabbit://guest:guest@127.0.0.1:5672/%s'
DATABASES = ('keystone', 'glance', 'placement', 'nova_api', 'nova',
             'nova_cell0', 'neutron')
APIS = {
    # name: (WSGI module, the variable naming its configuration folder)
    'keystone': ('keystone.wsgi.api:application', 'OS_KEYSTONE_CONFIG_DIR'),
    'placement': ('placement.wsgi.api:application',
                  'OS_PLACEMENT_CONFIG_DIR'),
    'glance': ('glance.wsgi.api:application', 'OS_GLANCE_CONFIG_DIR'),
    'neutron': ('neutron.wsgi.api:application', 'OS_NEUTRON_CONFIG_DIR'),
    'nova-api': ('nova.wsgi.osapi_compute:application',
                 'OS_NOVA_CONFIG_DIR'),
}
PROXIES = ('novncproxy',)
COMPUTES = ('cmp1', 'cmp2')
START_TIMEOUT = 120.0
# In the run folder while the run is on: the harness's PID, and the
# services' ("NAME PID" lines).
OWNER = 'owner.pid'
PIDS = 'pids'
RUN_VARIABLE = 'POWERVM_CLOUD_RUN'
ADMIN = 'admin'


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class CloudError(Exception):
    pass


class Cloud:
    """One run: its names, folder, processes and the steps of its life."""

    def __init__(self, base_dir, run_id=None):
        self.run_id = run_id or 'pvmc%s' % secrets.token_hex(4)
        self.root = os.path.abspath(os.path.join(base_dir, self.run_id))
        self.log_dir = os.path.join(self.root, 'logs')
        self.admin_password = secrets.token_urlsafe(16)
        self.service_password = secrets.token_urlsafe(16)
        self.ports = {name: _free_port() for name in (*APIS, *PROXIES)}
        self.transport_url = RABBIT % self.run_id
        self.services = {}
        self.simulator = None
        self.timings = {}
        self.stop_seconds = {}
        self._databases_made = []
        self._vhost_made = False

    # Names and places.

    def path(self, *parts):
        return os.path.join(self.root, 'data', *parts)

    def conf(self, name):
        return os.path.join(self.root, 'etc', name)

    def url(self, service):
        url = 'http://127.0.0.1:%d' % self.ports[service]
        return url + '/v3' if service == 'keystone' else url

    def database_url(self, name):
        return 'mysql+pymysql://root:@127.0.0.1/%s_%s?charset=utf8mb4' % (
            name, self.run_id)

    @staticmethod
    def venv_path(*parts):
        return os.path.join(sys.prefix, *parts)

    @staticmethod
    def program(name):
        return os.path.join(sys.prefix, 'bin', name)

    def auth(self):
        """What openstacksdk and the OpenStack client need to log on."""
        return {'auth_url': self.url('keystone'), 'username': ADMIN,
                'password': self.admin_password, 'project_name': ADMIN,
                'user_domain_name': 'Default',
                'project_domain_name': 'Default',
                'region_name': 'RegionOne'}

    def client_environment(self):
        """OS_* variables for the ``openstack`` command."""
        names = {'auth_url': 'OS_AUTH_URL', 'username': 'OS_USERNAME',
                 'password': 'OS_PASSWORD', 'project_name': 'OS_PROJECT_NAME',
                 'user_domain_name': 'OS_USER_DOMAIN_NAME',
                 'project_domain_name': 'OS_PROJECT_DOMAIN_NAME',
                 'region_name': 'OS_REGION_NAME'}
        env = {names[key]: value for key, value in self.auth().items()}
        env['OS_IDENTITY_API_VERSION'] = '3'
        return env

    # Bring-up.

    def up(self):
        """Everything, in order; call down() afterwards even if it raises."""
        began = time.monotonic()
        for folder in ('logs', 'etc', 'data'):
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
        with open(os.path.join(self.root, OWNER), 'w') as f:
            f.write(str(os.getpid()))
        self._timed('databases and vhost', self._create_backing)
        self._write_configs()
        self._start_simulator()
        self._timed('schemas', self._prepare_schemas)
        self._start_api('keystone')
        self._wait_http('keystone', self.url('keystone'))
        self._timed('identity', self._create_identity)
        for name in ('placement', 'glance', 'neutron', 'nova-api'):
            self._start_api(name)
        self._start('nova-conductor', self._nova_service('nova-conductor'))
        self._start('nova-scheduler', self._nova_service('nova-scheduler'))
        self._start('nova-novncproxy', self._nova_service('nova-novncproxy'))
        for name in ('placement', 'glance', 'neutron', 'nova-api'):
            self._wait_http(name, self.url(name))
        for host in COMPUTES:
            self.start_compute(host)
        self._timed('discover hosts', self._discover_hosts)
        self.timings['up'] = time.monotonic() - began

    def _timed(self, name, func):
        began = time.monotonic()
        func()
        self.timings[name] = time.monotonic() - began

    def _create_backing(self):
        connection = pymysql.connect(**MYSQL)
        try:
            with connection.cursor() as cursor:
                for name in DATABASES:
                    database = '%s_%s' % (name, self.run_id)
                    cursor.execute('CREATE DATABASE `%s` CHARACTER SET '
                                   'utf8mb4' % database)
                    self._databases_made.append(database)
        finally:
            connection.close()
        self._rabbitmqctl('add_vhost', self.run_id)
        self._vhost_made = True
        self._rabbitmqctl('set_permissions', '-p', self.run_id, 'guest',
                          '.*', '.*', '.*')

    @staticmethod
    def _rabbitmqctl(*args):
        subprocess.run(('rabbitmqctl', '--quiet') + args, check=True,
                       stdout=subprocess.DEVNULL, timeout=60)

    def _write_configs(self):
        for name, sections in (
                ('keystone.conf', configs.keystone(self)),
                ('placement.conf', configs.placement(self)),
                ('glance-api.conf', configs.glance(self)),
                ('neutron.conf', configs.neutron(self)),
                ('ml2_conf.ini', configs.ml2()),
                ('nova.conf', configs.nova(self)),
                ('nova-db.conf', configs.nova_databases(self))):
            configs.write(self.conf(name), sections)
        for paste in (('glance', 'glance-api-paste.ini'),
                      ('nova', 'api-paste.ini')):
            shutil.copy(self.venv_path('etc', *paste), self.conf(paste[1]))
        for folder in ('keystone-fernet', 'keystone-credential',
                       'glance-images', 'glance-staging', 'glance-tasks',
                       'locks', 'neutron', 'nova', 'novnc'):
            os.makedirs(self.path(folder), exist_ok=True)

    def _start_simulator(self):
        self.simulator = processes.Simulator(
            'powervm-sim', [self.program('powervm-sim'), 'serve', '--https',
                            '--port', '0', '--systems', str(len(COMPUTES)),
                            '--shared-ssp'],
            self.log_dir, env=self._tag()).start()
        self.services['powervm-sim'] = self.simulator
        self._record_pid(self.simulator)
        self.simulator.wait_ready(START_TIMEOUT)

    def _run(self, name, argv, env=None):
        """A one-off command, logged to the service's log file."""
        with open(os.path.join(self.log_dir, '%s.log' % name), 'ab') as log:
            result = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})),
                timeout=300)
        if result.returncode:
            raise CloudError('%s failed (exit %d): see %s' % (
                ' '.join(os.path.basename(a) for a in argv[:2]),
                result.returncode, log.name))

    def _prepare_schemas(self):
        """The four services' schemas at once: they are independent."""
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(chain) for chain in (
                self._keystone_setup, self._nova_cells,
                self._neutron_schema, self._placement_glance_schemas)]
            for future in futures:
                future.result()

    def _keystone_setup(self):
        conf = ['--config-file', self.conf('keystone.conf')]
        manage = [self.program('keystone-manage')] + conf
        owner = ['--keystone-user', 'root', '--keystone-group', 'root']
        self._run('keystone-manage', manage + ['db_sync'])
        self._run('keystone-manage', manage + ['fernet_setup'] + owner)
        self._run('keystone-manage', manage + ['credential_setup'] + owner)
        url = self.url('keystone') + '/'
        self._run('keystone-manage', manage + [
            'bootstrap', '--bootstrap-password', self.admin_password,
            '--bootstrap-admin-url', url, '--bootstrap-public-url', url,
            '--bootstrap-internal-url', url,
            '--bootstrap-region-id', 'RegionOne'])

    def _nova_manage(self, *args):
        self._run('nova-manage', [
            self.program('nova-manage'), '--config-file',
            self.conf('nova.conf'), '--config-file',
            self.conf('nova-db.conf')] + list(args))

    def _nova_cells(self):
        self._nova_manage('api_db', 'sync')
        self._nova_manage('cell_v2', 'map_cell0', '--database_connection',
                          self.database_url('nova_cell0'))
        self._nova_manage('cell_v2', 'create_cell', '--name', 'cell1')
        self._nova_manage('db', 'sync')

    def _neutron_schema(self):
        self._run('neutron-db-manage', [
            self.program('neutron-db-manage'), '--config-file',
            self.conf('neutron.conf'), '--config-file',
            self.conf('ml2_conf.ini'), 'upgrade', 'heads'])

    def _placement_glance_schemas(self):
        self._run('placement-manage', [
            self.program('placement-manage'), '--config-file',
            self.conf('placement.conf'), 'db', 'sync'])
        self._run('glance-manage', [
            self.program('glance-manage'), '--config-file',
            self.conf('glance-api.conf'), 'db_sync'])

    def _create_identity(self):
        conn = openstack.connect(**self.auth())
        try:
            project = conn.identity.create_project(
                name='service', domain_id='default')
            roles = [conn.identity.find_role(name, ignore_missing=False)
                     for name in ('admin', 'service')]
            for user_name in ('nova', 'placement', 'glance', 'neutron'):
                user = conn.identity.create_user(
                    name=user_name, password=self.service_password,
                    domain_id='default')
                for role in roles:
                    conn.identity.assign_project_role_to_user(
                        project, user, role)
            for kind, name, url in (
                    ('compute', 'nova', self.url('nova-api') + '/v2.1'),
                    ('placement', 'placement', self.url('placement')),
                    ('image', 'glance', self.url('glance')),
                    ('network', 'neutron', self.url('neutron'))):
                service = conn.identity.create_service(name=name, type=kind)
                conn.identity.create_endpoint(
                    service_id=service.id, interface='public', url=url,
                    region_id='RegionOne')
        finally:
            conn.close()

    def _start(self, name, argv, env=None):
        self.services[name] = processes.Process(
            name, argv, self.log_dir, env=dict(env or {}, **self._tag())
        ).start()
        self._record_pid(self.services[name])
        return self.services[name]

    def _tag(self):
        """In every service's environment: which run it belongs to."""
        return {RUN_VARIABLE: self.run_id}

    def _record_pid(self, service):
        """Whoever cleans up after a run killed outright finds its
        processes here (each leads a process group of its own)."""
        with open(os.path.join(self.root, PIDS), 'a') as f:
            f.write('%s %d\n' % (service.name, service.pid))

    def pids(self):
        """Every process of the running cloud, workers included."""
        return {pid for service in self.services.values()
                if service.alive() for pid in processes.tree(service.pid)}

    def secrets(self):
        """What must never reach a log."""
        found = [self.admin_password, self.service_password,
                 self.simulator.control_token if self.simulator else None]
        if self.simulator:
            found += [endpoint.get('password')
                      for endpoint in self.simulator.endpoints]
        return {secret for secret in found if secret}

    def _start_api(self, name):
        module, conf_variable = APIS[name]
        env = {conf_variable: os.path.join(self.root, 'etc')}
        if name == 'nova-api':
            # nova-api loads paste from the first of these files.
            env['OS_NOVA_CONFIG_FILES'] = ';'.join(
                ('api-paste.ini', 'nova.conf', 'nova-db.conf'))
        if name == 'neutron':
            env['OS_NEUTRON_CONFIG_FILES'] = ';'.join(
                ('neutron.conf', 'ml2_conf.ini'))
        if name == 'glance':
            self._start(name, self._gunicorn(name, module), env=env)
            return
        argv = [self.program('uwsgi'), '--http-socket',
                '127.0.0.1:%d' % self.ports[name], '--module', module,
                '--home', sys.prefix, '--master', '--processes', '1',
                '--threads', '4', '--die-on-term', '--lazy-apps',
                '--buffer-size', '65535',
                # Keep-alive through --http-socket resets clients at times.
                '--add-header', 'Connection: close']
        for key, value in env.items():
            argv += ['--env', '%s=%s' % (key, value)]
        self._start(name, argv)

    def _gunicorn(self, name, module):
        """uWSGI's chunked input takes no chunk of 1 MiB, the size
        glanceclient sends nova's snapshots in (glance's own documents
        advise against uWSGI's HTTP mode); gunicorn reads them."""
        return [self.program('gunicorn'), '--bind',
                '127.0.0.1:%d' % self.ports[name], '--workers', '1',
                '--threads', '4', '--graceful-timeout', '5', module]

    def _nova_service(self, program):
        return [self.program(program), '--config-file',
                self.conf('nova.conf'), '--config-file',
                self.conf('nova-db.conf')]

    def _wait_http(self, name, url, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.services[name].alive():
                raise CloudError('%s exited: see %s' % (
                    name, self.services[name].log_path))
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return
            except urllib.error.HTTPError:
                return      # it answers, if only to refuse
            except OSError:
                time.sleep(0.3)
        raise CloudError('%s did not answer at %s in %.0f s' % (
            name, url, timeout))

    # Computes.

    def endpoint_of(self, host):
        return self.simulator.endpoints[COMPUTES.index(host)]

    def start_compute(self, host):
        """Start (or start again) the nova-compute of ``host``."""
        conf = self.conf('%s.conf' % host)
        if not os.path.exists(conf):
            configs.write(conf, configs.compute(self, host,
                                                self.endpoint_of(host)))
            os.makedirs(self.path('nova-%s' % host), exist_ok=True)
        env = {'REQUESTS_CA_BUNDLE': self.endpoint_of(host)['cert'],
               'POWERVM_SIM_CONTROL_TOKEN': self.simulator.control_token}
        return self._start(
            'nova-compute-%s' % host,
            [self.program('nova-compute'), '--config-file',
             self.conf('nova.conf'), '--config-file', conf], env=env)

    def _discover_hosts(self, timeout=START_TIMEOUT):
        """Map both computes into cell1 once both have their node row."""
        deadline = time.monotonic() + timeout
        while len(self.compute_nodes()) < len(COMPUTES):
            for host in COMPUTES:
                service = self.services['nova-compute-%s' % host]
                if not service.alive():
                    raise CloudError('nova-compute of %s exited: see %s' % (
                        host, service.log_path))
            if time.monotonic() > deadline:
                raise CloudError('the computes did not register in %.0f s'
                                 % timeout)
            time.sleep(0.5)
        self._nova_manage('cell_v2', 'discover_hosts')

    def compute_nodes(self):
        return self.query('nova', 'SELECT host, hypervisor_hostname FROM '
                          'compute_nodes WHERE deleted = 0')

    def query(self, database, sql):
        connection = pymysql.connect(
            database='%s_%s' % (database, self.run_id), **MYSQL)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        finally:
            connection.close()

    # Memory.

    def memory(self):
        """{service: RSS bytes} of every running process of the cloud."""
        return {name: service.rss_bytes()
                for name, service in self.services.items()
                if service.alive()}

    # Tear-down.

    def down(self):
        """Stop every process, drop the databases and the vhost, remove the
        run's data; the logs stay.  Safe to call again."""
        began = time.monotonic()
        # Computes first (they still talk to the rest as they stop), the
        # simulator and keystone last.
        for rank in sorted({_stop_rank(name) for name in self.services}):
            group = [service for name, service in self.services.items()
                     if _stop_rank(name) == rank]
            for service in group:
                service.terminate()
            for service in group:
                self.stop_seconds[service.name] = service.wait_stopped()
        self._drop_backing()
        _remove_run_state(self.root)
        self.timings['down'] = time.monotonic() - began

    def _drop_backing(self):
        if self._databases_made:
            connection = pymysql.connect(**MYSQL)
            try:
                with connection.cursor() as cursor:
                    while self._databases_made:
                        cursor.execute('DROP DATABASE IF EXISTS `%s`' %
                                       self._databases_made.pop())
            finally:
                connection.close()
        if self._vhost_made:
            self._rabbitmqctl('delete_vhost', self.run_id)
            self._vhost_made = False


def _stop_rank(name):
    if name.startswith('nova-compute'):
        return 0
    return {'powervm-sim': 3, 'keystone': 2}.get(name, 1)


def _remove_run_state(root):
    for folder in ('etc', 'data'):
        shutil.rmtree(os.path.join(root, folder), ignore_errors=True)
    for name in (OWNER, PIDS):
        try:
            os.unlink(os.path.join(root, name))
        except FileNotFoundError:
            pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def clean_stale(base_dir):
    """Take down what runs killed outright (SIGKILL of the harness, a
    machine's reboot) left: their processes, databases and vhosts.
    Returns the run IDs cleaned."""
    cleaned = []
    for run_id in sorted(os.listdir(base_dir)) if os.path.isdir(
            base_dir) else []:
        root = os.path.join(base_dir, run_id)
        try:
            with open(os.path.join(root, OWNER)) as f:
                owner = int(f.read())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        _kill_recorded(os.path.join(root, PIDS), run_id)
        databases, vhosts = leftovers(run_id)
        connection = pymysql.connect(**MYSQL)
        try:
            with connection.cursor() as cursor:
                for database in databases:
                    cursor.execute('DROP DATABASE `%s`' % database)
        finally:
            connection.close()
        for vhost in vhosts:
            Cloud._rabbitmqctl('delete_vhost', vhost)
        _remove_run_state(root)
        cleaned.append(run_id)
    return cleaned


def _kill_recorded(pids_file, run_id):
    """SIGKILL the process groups of the run's services, those that are
    still the run's (a PID may since belong to another program)."""
    try:
        with open(pids_file) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return
    tag = ('%s=%s' % (RUN_VARIABLE, run_id)).encode()
    for line in lines:
        try:
            pid = int(line.split()[1])
            with open('/proc/%d/environ' % pid, 'rb') as f:
                if tag not in f.read().split(b'\0'):
                    continue
            os.killpg(pid, signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            pass


def leftovers(run_id):
    """Databases and vhosts of ``run_id`` still on the machine's servers."""
    connection = pymysql.connect(**MYSQL)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW DATABASES LIKE %s", ('%%_%s' % run_id,))
            databases = [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()
    vhosts = subprocess.run(
        ['rabbitmqctl', '--quiet', 'list_vhosts', 'name'], check=True,
        capture_output=True, text=True, timeout=60).stdout.split()
    return databases, [v for v in vhosts if v == run_id]
