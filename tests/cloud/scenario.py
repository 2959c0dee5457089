"""The scenario the cloud runs, through openstacksdk (the library under the
OpenStack client), one progress line per step and a closing table.

Every step checks what it did where an operator would look: the server's
status and host through the compute API, the partition on the right
simulated server through NovaLink's REST API, the allocations in
placement, the image's bytes in glance.
"""

import hashlib
import os
import select
import signal
import site
import subprocess
import sys
import time
import urllib.parse

import openstack
from openstack import exceptions as sdk_exc
from websockify import websocket

from tests.cloud.checks import check
from tests.cloud.checks import StepFailed
from tests.cloud import deploy
from tests.cloud import faults
from tests.cloud import hosts as hosts_mod
from tests.cloud import processes

# 2.37 for servers without a network, 2.86 for extra specs validated by
# the API (the driver's powervm: validators).
COMPUTE_MICROVERSION = '2.96'
PLACEMENT_MICROVERSION = '1.39'
GIB = 1024 ** 3
IMAGE_BYTES = 4 * 1024 * 1024
SERVERS = 3
WAIT = 300
PROC_UNITS = 'powervm:proc_units'
# What the README's "Live migration: what to install where" names.
PTH = 'nova_powervm_objects.pth'
# What a NovaLink LPAR's VNC console says first.
RFB_GREETING = b'RFB 003.008\n'


class Report:
    """Runs steps, prints a line per step and a table at the end."""

    def __init__(self, out):
        self.out = out
        self.rows = []

    def step(self, name, func, *args):
        self.out('[%2d] %s ...' % (len(self.rows) + 1, name))
        began = time.monotonic()
        try:
            detail = func(*args) or 'ok'
        except Exception as exc:
            seconds = time.monotonic() - began
            self.rows.append((name, seconds, 'FAILED: %s' % _one_line(exc)))
            self.out('     FAILED after %.1f s: %s' % (seconds,
                                                        _one_line(exc)))
            raise
        seconds = time.monotonic() - began
        self.rows.append((name, seconds, detail))
        self.out('     %s (%.1f s)' % (detail, seconds))
        return detail

    def table(self):
        width = max(len(name) for name, _, _ in self.rows)
        self.out('')
        self.out('%-*s  %8s  %s' % (width, 'step', 'seconds', 'result'))
        for name, seconds, result in self.rows:
            self.out('%-*s  %8.1f  %s' % (width, name, seconds, result))


def _one_line(exc):
    return ('%s: %s' % (type(exc).__name__, exc)).splitlines()[0][:200]


class Scenario:

    def __init__(self, cloud, report):
        self.cloud = cloud
        self.report = report
        self.conn = None
        self.hosts = {}
        self.image = None
        self.image_data = os.urandom(IMAGE_BYTES)
        self.flavors = {}
        self.servers = []
        self.snapshot = None
        self.baseline = {}

    # Plumbing.

    def connect(self):
        os.environ['REQUESTS_CA_BUNDLE'] = self.cloud.endpoint_of(
            deploy.COMPUTES[0])['cert']
        self.conn = openstack.connect(
            compute_api_version=COMPUTE_MICROVERSION,
            placement_api_version=PLACEMENT_MICROVERSION,
            **self.cloud.auth())
        self.hosts = {host: hosts_mod.Host(self.cloud.endpoint_of(host))
                      for host in deploy.COMPUTES}
        # What the simulated servers hold before the cloud uses them (the
        # NovaLink installation media in the VIOS repositories, say).
        self.baseline = {host: view.holdings()
                         for host, view in self.hosts.items()}

    def close(self):
        for host in self.hosts.values():
            host.close()
        if self.conn is not None:
            self.conn.close()

    def wait(self, server, status):
        """The server once it has ``status`` and no task in progress (the
        server object in hand may still show the status it had before)."""
        deadline = time.monotonic() + WAIT
        while True:
            now = self.conn.compute.get_server(server.id)
            check(now.status != 'ERROR', '%s in ERROR: %s', now.name,
                  now.fault)
            if now.status == status and now.task_state is None:
                return now
            check(time.monotonic() < deadline, '%s still %s (%s)', now.name,
                  now.status, now.task_state)
            time.sleep(0.5)

    def host_of(self, server):
        return self.conn.compute.get_server(server.id).compute_host

    def lpar_name(self, server):
        return self.conn.compute.get_server(server.id).instance_name

    def where_lpar(self, server):
        """Hosts whose NovaLink shows the server's LPAR."""
        name = self.lpar_name(server)
        return [host for host, view in self.hosts.items()
                if name in view.lpar_names()]

    def check_on(self, server, expected_host=None):
        host = self.host_of(server)
        check(expected_host is None or host == expected_host,
              '%s is on %s, not %s', server.name, host, expected_host)
        check(self.where_lpar(server) == [host],
              'the LPAR of %s is on %s, nova says %s', server.name,
              self.where_lpar(server), host)
        return host

    def lpar_state(self, server):
        host = self.host_of(server)
        state = self.hosts[host].lpar_state(self.lpar_name(server))
        check(state is not None, 'no LPAR of %s on %s', server.name, host)
        return state

    # The steps.

    def upgrade_check(self):
        result = subprocess.run(
            [self.cloud.program('nova-status'), '--config-file',
             self.cloud.conf('nova.conf'), '--config-file',
             self.cloud.conf('nova-db.conf'), 'upgrade', 'check'],
            capture_output=True, text=True, timeout=120)
        check(result.returncode == 0, 'nova-status exited %d:\n%s',
              result.returncode, result.stdout[-2000:])
        return '%d checks, all Success' % result.stdout.count('Result: ')

    def services_up(self):
        def states():
            return {(s.binary, s.host): s.state
                    for s in self.conn.compute.services()}
        deadline = time.monotonic() + WAIT
        while any(state != 'up' for state in states().values()):
            check(time.monotonic() < deadline, 'services not up: %s',
                  states())
            time.sleep(1)
        hypervisors = list(self.conn.compute.hypervisors(details=True))
        kinds = {h.hypervisor_type for h in hypervisors}
        check(len(hypervisors) == 2 and kinds == {'phyp'},
              'hypervisors: %s', [(h.name, h.hypervisor_type)
                                  for h in hypervisors])
        return '%d services up, 2 phyp hypervisors' % len(states())

    def network(self):
        """neutron answers and keeps a network; servers boot without one
        (no mechanism driver could bind their ports here)."""
        network = self.conn.network.create_network(
            name='physnet', provider_network_type='flat',
            provider_physical_network='physnet1')
        subnet = self.conn.network.create_subnet(
            network_id=network.id, ip_version=4, cidr='192.0.2.0/24')
        check(self.conn.network.get_network(network.id).subnet_ids ==
              [subnet.id], 'the network lost its subnet')
        self.conn.network.delete_subnet(subnet)
        self.conn.network.delete_network(network)
        return 'flat network and subnet created and deleted'

    def upload_image(self):
        path = self.cloud.path('image.raw')
        with open(path, 'wb') as f:
            f.write(self.image_data)
        self.image = self.conn.image.create_image(
            name='cloud-raw', filename=path, disk_format='raw',
            container_format='bare', visibility='public')
        self.image = self.conn.image.wait_for_status(
            self.image, 'active', interval=0.5, wait=WAIT)
        return 'raw image of %d bytes active' % self.image.size

    def create_flavors(self):
        for name, disk, specs in (
                ('pvm.small', 1, {PROC_UNITS: '0.5',
                                  'powervm:uncapped': 'true'}),
                ('pvm.large', 2, {PROC_UNITS: '1.0',
                                  'powervm:shared_weight': '200'})):
            flavor = self.conn.compute.create_flavor(
                name=name, ram=2048, vcpus=1, disk=disk)
            self.conn.compute.create_flavor_extra_specs(flavor, specs)
            self.flavors[name] = flavor
        try:
            self.conn.compute.create_flavor_extra_specs(
                self.flavors['pvm.small'], {PROC_UNITS: 'lots'})
        except sdk_exc.BadRequestException as exc:
            check("'lots'" in str(exc),
                  'refused for another reason: %s', _one_line(exc))
        else:
            raise StepFailed('the API took powervm:proc_units=lots')
        specs = self.conn.compute.fetch_flavor_extra_specs(
            self.flavors['pvm.small']).extra_specs
        check(specs[PROC_UNITS] == '0.5', 'extra specs now %s', specs)
        return '2 flavors; a bad powervm: spec refused (400)'

    def boot_servers(self):
        pending = [self.conn.compute.create_server(
            name='pvm-%d' % index, image_id=self.image.id,
            flavor_id=self.flavors['pvm.small'].id, networks='none')
            for index in range(1, SERVERS + 1)]
        self.servers = [self.wait(server, 'ACTIVE') for server in pending]
        where = [self.check_on(server) for server in self.servers]
        return '%d ACTIVE: %s' % (len(self.servers), ', '.join(where))

    def reboot(self, kind):
        server = self.servers[0]
        self.conn.compute.reboot_server(server, kind)
        self.wait(server, 'ACTIVE')
        check(self.lpar_state(server) == 'running', 'LPAR %s',
              self.lpar_state(server))
        return '%s reboot: ACTIVE, LPAR running' % kind.lower()

    def stop_start(self):
        server = self.servers[1]
        self.conn.compute.stop_server(server)
        self.wait(server, 'SHUTOFF')
        stopped = self.lpar_state(server)
        check(stopped == 'not activated', 'stopped LPAR %s', stopped)
        self.conn.compute.start_server(server)
        self.wait(server, 'ACTIVE')
        check(self.lpar_state(server) == 'running', 'LPAR %s',
              self.lpar_state(server))
        return 'SHUTOFF (LPAR not activated), ACTIVE (running)'

    def vnc_console(self):
        """The console URL nova gives leads, through nova-novncproxy's
        WebSocket, to the LPAR's console on its NovaLink."""
        server = self.servers[0]
        url = self.conn.compute.create_console(server, 'novnc')['url']
        proxy = self.cloud.url('novncproxy')
        check(url.startswith(proxy + '/vnc_lite.html?'), 'console URL %s',
              url)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)[
            'path'][0].split('token=', 1)[1]
        greeting = _websocket_greeting(
            'ws://%s/' % proxy.split('://', 1)[1], 'token=' + token, proxy)
        check(greeting == RFB_GREETING, 'the console said %r', greeting)
        return 'novnc URL; through the proxy the LPAR\'s console says %r' % (
            greeting.strip().decode())

    def take_snapshot(self):
        server = self.servers[0]
        image = self.conn.compute.create_server_image(server,
                                                      'pvm-1-snapshot')
        deadline = time.monotonic() + WAIT
        while True:
            # nova deletes the image when its snapshot fails.
            self.snapshot = self.conn.image.find_image(image.id)
            check(self.snapshot is not None, 'the snapshot failed: nova '
                  'deleted its image (see the nova-compute log)')
            if self.snapshot.status == 'active':
                break
            check(time.monotonic() < deadline, 'snapshot still %s',
                  self.snapshot.status)
            time.sleep(0.5)
        self.wait(server, 'ACTIVE')
        digest = hashlib.sha256()
        response = self.conn.image.download_image(self.snapshot,
                                                  stream=True)
        size = 0
        for chunk in response.iter_content(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
        # The boot disk: the image's bytes on an LU of the flavor's size,
        # which the guest (the simulator runs none) never wrote.
        expected = hashlib.sha256(self.image_data)
        zeros = bytes(1024 * 1024)
        for _ in range((GIB - IMAGE_BYTES) // len(zeros)):
            expected.update(zeros)
        check(size == GIB, 'snapshot of %d bytes', size)
        check(digest.hexdigest() == expected.hexdigest(),
              'the snapshot differs from the boot disk')
        return 'image of %d bytes equal to the boot disk' % size

    def resize_confirm(self):
        server = self.servers[1]
        self.conn.compute.resize_server(server, self.flavors['pvm.large'].id)
        self.wait(server, 'VERIFY_RESIZE')
        self.conn.compute.confirm_server_resize(server)
        server = self.wait(server, 'ACTIVE')
        check(server.flavor.original_name == 'pvm.large', 'flavor %s',
              server.flavor.original_name)
        host = self.check_on(server)
        return 'pvm.small -> pvm.large on %s' % host

    def cold_migrate(self):
        server = self.servers[2]
        source = self.host_of(server)
        self.conn.compute.migrate_server(server)
        self.wait(server, 'VERIFY_RESIZE')
        self.conn.compute.confirm_server_resize(server)
        self.wait(server, 'ACTIVE')
        target = self.check_on(server)
        check(target != source, 'still on %s', source)
        return '%s -> %s' % (source, target)

    def live_migrate(self):
        server = self.servers[0]
        source = self.host_of(server)
        target = next(h for h in deploy.COMPUTES if h != source)
        self.conn.compute.live_migrate_server(
            server, host=target, block_migration=False)
        self.wait(server, 'ACTIVE')
        self.check_on(server, target)
        check(self.lpar_state(server) == 'running', 'LPAR %s',
              self.lpar_state(server))
        migration = next(iter(self.conn.compute.migrations(
            instance_uuid=server.id, migration_type='live-migration')))
        check(migration.status == 'completed', 'migration %s',
              migration.status)
        return '%s -> %s, LPAR running, migration completed; %s' % (
            source, target, self.conductor_loading())

    def conductor_loading(self):
        """How nova-conductor, which never loads the driver, read the
        driver's migrate data: only through the .pth the README names."""
        conductor = self.cloud.services['nova-conductor']
        with open('/proc/%d/environ' % conductor.pid, 'rb') as f:
            environ = dict(item.split(b'=', 1) for item in
                           f.read().split(b'\0') if b'=' in item)
        check(b'PYTHONPATH' not in environ, 'the conductor has PYTHONPATH')
        pth = [path for path in site.getsitepackages()
               if os.path.exists(os.path.join(path, PTH))]
        check(pth, 'no %s in site-packages', PTH)
        with open(conductor.log_path) as f:
            check('UnsupportedObjectError' not in f.read(),
                  'the conductor could not read the migrate data')
        return 'the conductor read it through %s' % PTH

    def only_loopback(self):
        """Every socket of the cloud's processes, listening or connected,
        is on the loopback interface."""
        pids = self.cloud.pids()
        sockets = processes.sockets_of(pids)
        elsewhere = [pair for pair in sockets
                     if not all(map(processes.on_loopback, pair))]
        check(not elsewhere, 'off loopback: %s', elsewhere)
        return '%d sockets of %d processes, all on loopback' % (
            len(sockets), len(pids))

    def delete_server(self, server):
        self.conn.compute.delete_server(server)
        self.conn.compute.wait_for_delete(server, interval=0.5, wait=WAIT)
        self.servers.remove(server)

    def delete_all(self):
        count = len(self.servers)
        for server in list(self.servers):
            self.delete_server(server)
        for image in (self.snapshot, self.image):
            if image is not None:
                self.conn.image.delete_image(image)
        for flavor in self.flavors.values():
            self.conn.compute.delete_flavor(flavor)
        return '%d servers, 2 images, 2 flavors deleted' % count

    def nothing_left(self):
        for host, view in self.hosts.items():
            holdings = view.holdings()
            check(holdings == self.baseline[host], '%s holds %s, not %s',
                  host, holdings, self.baseline[host])
        providers = self.conn.placement.get('/resource_providers').json()[
            'resource_providers']
        check(len(providers) == 2, 'providers %s', providers)
        for provider in providers:
            usages = self.conn.placement.get(
                '/resource_providers/%s/usages' % provider['uuid']).json()[
                'usages']
            check(not any(usages.values()), '%s uses %s', provider['name'],
                  usages)
        return 'no LPAR, disk, mapping or media; placement usage zero'


class _QueryWebSocket(websocket.WebSocket):
    """websockify's client, asking for its URI with a query string (its
    connect() sends the path only; nova-novncproxy wants the token)."""

    def __init__(self, query):
        super().__init__()
        self._query = query

    def send_request(self, method, path):
        super().send_request(method, '%s?%s' % (path, self._query))


def _websocket_greeting(uri, query, origin):
    """The first bytes a WebSocket server sends at ``uri?query`` (a VNC
    console's RFB version)."""
    socket = _QueryWebSocket(query)
    socket.connect(uri, origin=origin)
    try:
        deadline = time.monotonic() + 30
        data = b''
        while len(data) < len(RFB_GREETING):
            check(time.monotonic() < deadline, 'the console said %r', data)
            try:
                chunk = socket.recv()
            except websocket.WebSocketWantReadError:
                select.select([socket], [], [], 1)
                continue
            check(chunk is not None, 'the proxy closed: %s %s',
                  socket.close_code, socket.close_reason)
            data += chunk
        return data
    finally:
        socket.close()


def main(cloud, command, out):
    report = Report(out)
    scenario = Scenario(cloud, report)
    memory = {}
    try:
        report.step('bring the cloud up', cloud.up)
        out('start-up: %s' % ', '.join('%s %.1f s' % item
                                       for item in cloud.timings.items()))
        scenario.connect()
        report.step('all services up', scenario.services_up)
        if command == 'up':
            return _keep_running(cloud, out)
        report.step('nova-status upgrade check', scenario.upgrade_check)
        report.step('neutron: a flat network', scenario.network)
        report.step('upload a raw image', scenario.upload_image)
        report.step('flavors with powervm: extra specs',
                    scenario.create_flavors)
        report.step('boot three servers', scenario.boot_servers)
        report.step('RabbitMQ: drop every connection of the cloud',
                    faults.drop_broker_connections, scenario)
        report.step('soft reboot', scenario.reboot, 'SOFT')
        report.step('hard reboot', scenario.reboot, 'HARD')
        report.step('stop and start', scenario.stop_start)
        report.step('VNC console', scenario.vnc_console)
        report.step('snapshot', scenario.take_snapshot)
        report.step('resize and confirm', scenario.resize_confirm)
        report.step('cold migrate', scenario.cold_migrate)
        report.step('live migrate', scenario.live_migrate)
        report.step('kill -9 a nova-compute in the middle of a boot',
                    faults.kill_compute_mid_boot, scenario)
        report.step('nothing outside loopback', scenario.only_loopback)
        memory = cloud.memory()
        report.step('delete everything', scenario.delete_all)
        report.step('nothing left in the simulators or placement',
                    scenario.nothing_left)
    finally:
        scenario.close()
        if report.rows:
            report.table()
    out('memory of the running cloud: %d MB (%s)' % (
        sum(memory.values()) // 2 ** 20, ', '.join(
            '%s %d' % (name, rss // 2 ** 20)
            for name, rss in sorted(memory.items()))))
    return 0


def _keep_running(cloud, out):
    openrc = os.path.join(cloud.root, 'etc', 'openrc')
    with open(openrc, 'w') as f:
        for key, value in sorted(cloud.client_environment().items()):
            f.write('export %s=%s\n' % (key, value))
    os.chmod(openrc, 0o600)
    out('the cloud is up; in another shell:')
    out('    source %s' % openrc)
    out('    %s server list' % cloud.program('openstack'))
    out('Ctrl-C takes it down.')
    signal.pause()
    return 0


if __name__ == '__main__':
    sys.exit('run python -m tests.cloud')
