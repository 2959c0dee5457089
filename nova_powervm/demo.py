"""The main job on the embedded simulator: ``tox -e demo``.

nova's own loader loads PowerVMDriver with ``[powervm]`` pointing at a
simulated NovaLink on loopback; the driver then takes a few instances,
each with a config drive, a Shared Ethernet Adapter VIF and an Open
vSwitch VIF, through spawn, soft and hard reboot, snapshot, power off,
power on and destroy, as nova-compute would call it.  It ends with a table
of operations (time and REST calls) and a check that the simulator holds
nothing of the instances any more (exit status 1 if it does).

The host keeps boot disks in a volume group (``disk_driver=localdisk``):
the disk driver is chosen per host, and pypowervm keeps the media
repository it found in module globals, so one process serves one host.

What nova-compute has around the driver is kept small: nova's objects on a
SQLite database made from nova's models, nova's VirtAPI without neutron
events, and an in-memory image service in place of Glance.
"""

import collections
import copy
import hashlib
import logging
import sys
import threading
import time

import fixtures
from nova.compute import power_state
from nova.compute import vm_states
from nova import conf as nova_conf
from nova import context as nova_context
from nova.db.main import api as main_db_api
from nova.db.main import models as main_db_models
from nova import exception
from nova.network import model as network_model
from nova import objects
from nova.virt import driver as nova_driver
from nova.virt import fake as nova_fake
from oslo_config import fixture as config_fixture
from oslo_db.sqlalchemy import enginefacade
from oslo_utils import uuidutils

from nova_powervm import vif as pvm_vif
from powervm_sim import faults
from powervm_sim import fixture as sim_fixture
from powervm_sim import platform as sim_platform

CONF = nova_conf.CONF
COMPUTE_DRIVER = 'powervm_ext.driver.PowerVMDriver'
HOST = 'demo-compute'
INSTANCES = 3
# Streamed and uploaded in chunks of this size, as Glance does.
CHUNK = 1024 * 1024
# A few MB that do not fill their last chunk.
IMAGE_SIZE = 3 * CHUNK + 517
ROOT_GB = 1
# REST calls counted are everything but NovaLink's event long-polls,
# which run all the time, whatever the driver does.
_NOT_EVENTS = r'^/rest/api/(?!uom/Event)'
# Waits of the simulator's event long-polls and of the driver before it
# reports a lifecycle event: short, so that the demo ends promptly.
EVENT_WAIT = 0.2
EVENT_DELAY = 0.3


def image_bytes(size, seed=b'demo image'):
    """``size`` bytes that differ from chunk to chunk."""
    block = b''.join(hashlib.sha256(seed + bytes([n])).digest()
                     for n in range(256))
    return (block * (size // len(block) + 1))[:size]


# ----------------------------------------------------------------- images
class ReceivedImage:
    """The bytes an image received, without its all-zero chunks (a
    snapshot of a 1 GB disk holding a few MB of image costs those MB)."""

    def __init__(self):
        self.size = 0
        self.chunks = {}

    def add(self, chunk):
        if chunk.count(0) != len(chunk):
            self.chunks[self.size] = bytes(chunk)
        self.size += len(chunk)

    def holds(self, data, size):
        """Whether the image is ``data`` followed by zeros up to ``size``."""
        if self.size != size:
            return False
        received = bytearray(len(data))
        for offset, chunk in self.chunks.items():
            in_data = max(min(len(chunk), len(data) - offset), 0)
            beyond = chunk[in_data:]
            if beyond.count(0) != len(beyond):
                return False
            received[offset:offset + in_data] = chunk[:in_data]
        return bytes(received) == data


class ImageService:
    """Glance for the driver: images in memory, behind nova's image API
    (``nova.image.glance.API`` asks ``get_remote_image_service``)."""

    def __init__(self):
        self._images = {}
        self.received = {}
        self._lock = threading.Lock()

    def add_image(self, data):
        """A new active raw image holding ``data``; returns its metadata."""
        image_id = uuidutils.generate_uuid()
        meta = {'id': image_id, 'name': 'image-%s' % image_id[:8],
                'status': 'active', 'disk_format': 'raw',
                'container_format': 'bare', 'size': len(data),
                'min_disk': 0, 'min_ram': 0, 'properties': {}}
        with self._lock:
            self._images[image_id] = (meta, bytes(data))
        return copy.deepcopy(meta)

    def add_snapshot_target(self):
        """The queued image nova's API makes before a snapshot."""
        image_id = uuidutils.generate_uuid()
        with self._lock:
            self._images[image_id] = ({'id': image_id, 'status': 'queued',
                                       'properties': {}}, b'')
        return image_id

    def remote(self, context, image_href):
        return self, image_href

    def show(self, context, image_id, include_locations=False,
             show_deleted=True):
        with self._lock:
            if image_id not in self._images:
                raise exception.ImageNotFound(image_id=image_id)
            return copy.deepcopy(self._images[image_id][0])

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        self.show(context, image_id)
        with self._lock:
            content = self._images[image_id][1]
        return (content[start:start + CHUNK]
                for start in range(0, len(content), CHUNK))

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        meta = self.show(context, image_id)
        received = ReceivedImage()
        for chunk in iter(lambda: data.read(CHUNK), b''):
            received.add(chunk)
        meta.update(metadata, status='active', size=received.size)
        with self._lock:
            self._images[image_id] = (meta, b'')
            self.received[image_id] = received
        return copy.deepcopy(meta)


# ------------------------------------------------------------- the host
class RestCalls:
    """Counts the REST calls the simulator serves, event polls aside.

    A rule that only counts: it fires for every request and delays none.
    """

    RULE_ID = 'demo-rest-calls'

    def __init__(self, sim):
        self._faults = sim.faults
        self._faults.add(faults.FaultRule(
            outcome=faults.DelayOnly(), path=_NOT_EVENTS,
            rule_id=self.RULE_ID))

    def count(self):
        return self._faults.counters()['by_rule'][self.RULE_ID]


class ComputeHost(fixtures.Fixture):
    """A simulated NovaLink and, on it, the driver as nova-compute loads
    it, with nova's database and an image service.

    :param lpars: client LPARs (not nova's) the simulator starts with.
    :param https: reach the simulator over HTTPS with a password, as a
                  remote NovaLink is reached.
    :param novalink_io: the NovaLink partition hosts I/O (serves file and
                        RBD volumes).
    :param systems: managed systems the simulator serves (the driver
                    manages the first).
    :param shared_ssp: the VIOSes of every system form one SSP cluster.
    :param options: ``[powervm]`` options beyond the connection's.
    """

    def __init__(self, lpars=0, https=False, novalink_io=False, systems=1,
                 shared_ssp=False, **options):
        super().__init__()
        self.lpars = lpars
        self.https = https
        self.novalink_io = novalink_io
        self.systems = systems
        self.shared_ssp = shared_ssp
        self.options = options

    def _setUp(self):
        objects.register_all()
        # As nova-compute starts, without reading /etc/nova.
        CONF([], project='nova', default_config_files=[],
             default_config_dirs=[])
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self._database()
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            lpars=self.lpars, https=self.https, event_wait=EVENT_WAIT,
            novalink_io=self.novalink_io, systems=self.systems,
            shared_ssp=self.shared_ssp))
        self.system = self.sim.model.systems[0]
        self.useFixture(sim_platform.PlatformFixture(self.sim))
        self.images = ImageService()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.image.glance.get_remote_image_service',
            self.images.remote))
        # The config drive's metadata asks neutron for security groups.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.network.security_group_api.get_instance_security_groups',
            lambda context, instance, detailed=False: []))
        endpoint = self.sim.endpoints[0]
        if self.https:
            self.conf.config(group='powervm', username=self.sim.username,
                             password=self.sim.password,
                             certpath=self.sim.certdir)
        self.conf.config(group='powervm', host=endpoint.host,
                         port=endpoint.port, protocol=endpoint.protocol,
                         mgmt_platform='simulator',
                         lifecycle_event_delay=EVENT_DELAY, **self.options)
        self.conf.config(host=HOST)
        self.rest_calls = RestCalls(self.sim)
        self.driver = nova_driver.load_compute_driver(
            nova_fake.FakeVirtAPI(), COMPUTE_DRIVER)
        self.driver.init_host(HOST)
        self.addCleanup(self.driver.cleanup_host, HOST)
        self.context = nova_context.get_admin_context()
        self.image = self.images.add_image(image_bytes(IMAGE_SIZE))

    def _database(self):
        """nova's main database in a temporary SQLite file, its tables
        made from nova's models (quicker than running the migrations)."""
        path = self.useFixture(fixtures.TempDir()).path
        self.conf.config(group='database',
                         connection='sqlite:///%s/nova.sqlite' % path)
        database = enginefacade.transaction_context()
        database.configure(connection=CONF.database.connection)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.db.main.api.context_manager', database))
        main_db_models.BASE.metadata.create_all(main_db_api.get_engine())

    def make_instance(self, number):
        """Instance ``number``: saved in nova's database, with a flavor
        and a config drive."""
        flavor = objects.Flavor(
            id=1, name='pvm.demo', flavorid='pvm-demo', memory_mb=2048,
            vcpus=2, root_gb=ROOT_GB, ephemeral_gb=0, swap=0,
            extra_specs={}, is_public=True, disabled=False, rxtx_factor=1.0,
            vcpu_weight=0)
        uuid = uuidutils.generate_uuid()
        instance = objects.Instance(
            context=self.context, uuid=uuid, user_id='demo',
            project_id='demo', host=HOST, image_ref=self.image['id'],
            flavor=flavor, instance_type_id=flavor.id, memory_mb=2048,
            vcpus=2, root_gb=ROOT_GB, ephemeral_gb=0,
            vm_state=vm_states.BUILDING, power_state=power_state.NOSTATE,
            task_state=None, system_metadata={}, metadata={},
            config_drive='True', hostname='demo-%d' % number,
            display_name='demo-%d' % number)
        instance.create()
        return instance

    def image_meta(self):
        return objects.ImageMeta.from_dict(self.image)


def make_vif(vif_type, number, **network_meta):
    """A nova VIF on its own IPv4 network; MAC and port ID come from
    ``number``."""
    port_id = '%08x-aaaa-4bbb-8ccc-%012x' % (number, number)
    subnet = network_model.Subnet(
        cidr='10.0.%d.0/24' % number,
        gateway=network_model.IP('10.0.%d.1' % number),
        ips=[network_model.FixedIP(address='10.0.%d.10' % number)])
    network = network_model.Network(
        id='net-%d' % number, bridge='br-int', subnets=[subnet],
        meta=network_meta)
    details = ({network_model.VIF_DETAILS_VLAN: 100}
               if vif_type == pvm_vif.VIF_TYPE_SEA else {})
    return network_model.VIF(
        id=port_id, address='fa:16:3e:00:00:%02x' % number, type=vif_type,
        devname=('tap' + port_id)[:network_model.NIC_NAME_LEN],
        network=network, details=details, active=True)


def network_info(number):
    """Instance ``number``'s VIFs: one on a Shared Ethernet Adapter's
    VLAN, one on Open vSwitch."""
    return network_model.NetworkInfo([
        make_vif(pvm_vif.VIF_TYPE_SEA, 2 * number),
        make_vif(pvm_vif.VIF_TYPE_OVS, 2 * number + 1, mtu=1450)])


# ------------------------------------------------------------- leftovers
def holdings(host):
    """What instances can leave in the simulator, each as a short text:
    client LPARs, disks, logical units, media, vSCSI mappings, network
    adapters (trunks too) and Open vSwitch ports."""
    model = host.sim.model
    held = set()
    with model.registry.lock:
        for lpar in model.lpars(host.system):
            if not lpar.is_mgmt:
                held.add('client LPAR %s' % lpar.name)
        for part in model.lpars(host.system) + model.vioses(host.system):
            for cna in model.cnas(part):
                held.add('%s %s on %s' % (
                    'trunk adapter' if cna.is_trunk else 'network adapter',
                    cna.mac, part.name))
        for vios in model.vioses(host.system):
            held.update(_vios_holdings(vios))
        for cluster in model.clusters(host.system):
            held.update('logical unit %s' % lu.name
                        for lu in cluster.ssp.logical_units)
    held.update('Open vSwitch port %s on %s' % (port, bridge)
                for bridge, port in sim_platform.partition_of(
                    host.driver.adapter).ovs_ports())
    return held


def _vios_holdings(vios):
    for vg in vios.volume_groups:
        for vdisk in vg.vdisks:
            yield 'disk %s on %s' % (vdisk.name, vios.name)
        for repo in vg.media_repositories:
            for medium in repo.media:
                yield 'media %s on %s' % (medium.name, vios.name)
    for mapping in vios.scsi_mappings:
        yield 'vSCSI mapping of %s on %s to partition %s' % (
            mapping.storage.name if mapping.has_storage else 'nothing',
            vios.name, mapping.server.remote_lpar_id)


def is_image_cache(held):
    """The image cache volume stays, by design: the next spawn of the
    image copies it rather than uploading the image again."""
    return held.startswith('disk i_')


# ------------------------------------------------------------- the run
class Ledger:
    """Time and REST calls of each operation, as the run goes."""

    def __init__(self, host):
        self.host = host
        # operation -> [count, seconds, REST calls]
        self.totals = collections.OrderedDict()

    def run(self, operation, label, func):
        calls = self.host.rest_calls.count()
        began = time.monotonic()
        result = func()
        seconds = time.monotonic() - began
        calls = self.host.rest_calls.count() - calls
        total = self.totals.setdefault(operation, [0, 0.0, 0])
        total[0] += 1
        total[1] += seconds
        total[2] += calls
        print('  %-18s %-8s %6.2f s %5d REST calls' % (
            operation, label, seconds, calls), flush=True)
        return result

    def table(self):
        lines = ['%-18s %5s %9s %9s %12s' % (
            'operation', 'count', 'seconds', 's each', 'REST calls')]
        lines.append('-' * len(lines[0]))
        for operation, (count, seconds, calls) in self.totals.items():
            lines.append('%-18s %5d %9.2f %9.2f %12.1f' % (
                operation, count, seconds, seconds / count, calls / count))
        return '\n'.join(lines)


def _check_power(host, instance, expected):
    state = host.driver.get_info(instance).state
    if state != expected:
        raise RuntimeError('%s is in power state %s, not %s' % (
            instance.display_name, state, expected))


def snapshot(host, instance):
    """Snapshot ``instance`` into a new image; check it holds the boot
    disk: the image's bytes, then zeros."""
    image_id = host.images.add_snapshot_target()
    host.driver.snapshot(host.context, instance, image_id,
                         lambda **kwargs: None)
    image = image_bytes(IMAGE_SIZE)
    if not host.images.received[image_id].holds(image, ROOT_GB * 1024 ** 3):
        raise RuntimeError('the snapshot of %s does not hold its image' %
                           instance.display_name)


def lifecycle(host, ledger):
    """Every operation on every instance, one operation at a time."""
    driver, context = host.driver, host.context
    instances = [host.make_instance(n) for n in range(1, INSTANCES + 1)]
    vifs = {inst.uuid: network_info(n)
            for n, inst in enumerate(instances, 1)}

    def each(operation, func):
        for inst in instances:
            ledger.run(operation, inst.display_name,
                       lambda inst=inst: func(inst))

    each('spawn', lambda inst: driver.spawn(
        context, inst, host.image_meta(), [], 'secret', {},
        network_info=vifs[inst.uuid]))
    each('reboot (soft)', lambda inst: driver.reboot(
        context, inst, vifs[inst.uuid], 'SOFT'))
    each('reboot (hard)', lambda inst: driver.reboot(
        context, inst, vifs[inst.uuid], 'HARD'))
    each('snapshot', lambda inst: snapshot(host, inst))
    each('power off', lambda inst: driver.power_off(inst, timeout=0))
    each('get_info', lambda inst: _check_power(host, inst,
                                               power_state.SHUTDOWN))
    each('power on', lambda inst: driver.power_on(context, inst,
                                                  vifs[inst.uuid]))
    each('get_info', lambda inst: _check_power(host, inst,
                                               power_state.RUNNING))
    each('destroy', lambda inst: driver.destroy(context, inst,
                                                vifs[inst.uuid]))


def main():
    logging.basicConfig(level=logging.WARNING,
                        format='%(levelname)s %(name)s: %(message)s')
    # The driver's own warnings and errors show; not pypowervm's warning
    # that the simulator speaks plain HTTP, TaskFlow's about pypowervm's
    # tasks without results, or stevedore's about cache back ends nova
    # does not use.
    for name in ('pypowervm', 'taskflow', 'stevedore'):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    began = time.monotonic()
    with ComputeHost(disk_driver='localdisk') as host:
        endpoint = host.sim.endpoints[0]
        print('PowerVMDriver (%s) on a simulated NovaLink at %s://%s:%d, '
              'boot disks in a volume group (localdisk)' % (
                  COMPUTE_DRIVER, endpoint.protocol, endpoint.host,
                  endpoint.port))
        before = holdings(host)
        ledger = Ledger(host)
        print('\n%d instances, each with a config drive, an SEA VIF and an '
              'OVS VIF:' % INSTANCES, flush=True)
        lifecycle(host, ledger)
        print('\n' + ledger.table())
        new = holdings(host) - before
        kept = sorted(held for held in new if is_image_cache(held))
        left = sorted(held for held in new if not is_image_cache(held))
    print('\nKept by design: %s' % (', '.join(kept) or 'nothing'))
    print('Left behind: %s' % ('\n  '.join([''] + left) if left
                               else 'nothing'))
    print('Total %.1f s.' % (time.monotonic() - began))
    return 1 if left else 0


if __name__ == '__main__':
    sys.exit(main())
