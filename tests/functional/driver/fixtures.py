"""Shared set-up of the driver's functional tests.

``DriverFixture`` loads PowerVMDriver through nova's own loader with
``[powervm]`` pointing at a running NovaLinkFixture; ``DriverTestCase``
adds nova's database (instances are real, saved nova objects: the driver
looks their state up as nova-compute would) and helpers to make them.
"""

import contextlib
import hashlib

import fixtures
from nova.compute import power_state
from nova.compute import vm_states
from nova import conf as nova_conf
from nova import context as nova_context
from nova import exception
from nova.network import model as network_model
from nova import objects
from nova import test
from nova.virt import driver as nova_driver
from nova.virt import fake as nova_fake
from oslo_config import fixture as config_fixture
from oslo_utils import uuidutils
from pypowervm.tasks import vopt as pvm_vopt

from nova_powervm import vif as pvm_vif
from nova_powervm import vm
from nova_powervm.volume import hdisk as pvm_hdisk
from powervm_sim import fixture as sim_fixture
from powervm_sim import platform as sim_platform
from tests.functional.driver import glance_fake

CONF = nova_conf.CONF
COMPUTE_DRIVER = 'powervm_ext.driver.PowerVMDriver'
HOST = 'compute1'
# Short enough for tests to wait for, long enough to hold both halves of
# a simulated reboot together.
EVENT_DELAY = 0.3


def image_bytes(size, seed=b'image'):
    """``size`` bytes that differ from chunk to chunk and end in a byte
    that is not zero."""
    block = b''.join(hashlib.sha256(seed + bytes([n])).digest()
                     for n in range(256))
    data = (block * (size // len(block) + 1))[:size - 1]
    return data + b'\xff'


# The image instances boot from unless a test says otherwise: a few MB,
# not a whole number of chunks.
IMAGE_SIZE = 3 * 1024 * 1024 + 517


class EventVirtAPI(nova_fake.FakeVirtAPI):
    """nova's VirtAPI with neutron's events: every wait is recorded and
    ends as ``outcome`` says (all delivered at once by default)."""

    DELIVERED = 'delivered'
    # Neutron reports the plug failed.
    FAILED = 'failed'
    # No event comes before the timeout.
    NEVER = 'never'

    def __init__(self):
        super().__init__()
        self.outcome = self.DELIVERED
        # (instance UUID, [(name, tag)], timeout) of every wait.
        self.waits = []

    @contextlib.contextmanager
    def wait_for_instance_event(self, instance, event_names, timeout=300,
                                error_callback=None):
        self.waits.append((instance.uuid, list(event_names), timeout))
        yield
        if self.outcome == self.NEVER:
            raise exception.InstanceEventTimeout()
        if self.outcome == self.FAILED:
            for name, tag in event_names:
                if error_callback is None:
                    raise exception.NovaException('Instance event failed')
                if not error_callback('%s-%s' % (name, tag), instance):
                    return


def make_vif(vif_type, number, active=True, vlan=None, mtu=None):
    """A nova VIF of ``vif_type`` on a network with one IPv4 subnet; the
    MAC and port ID derive from ``number``."""
    port_id = '%08x-aaaa-4bbb-8ccc-%012x' % (number, number)
    subnet = network_model.Subnet(
        cidr='10.0.%d.0/24' % number, gateway=network_model.IP('10.0.%d.1'
                                                               % number),
        ips=[network_model.FixedIP(address='10.0.%d.10' % number)])
    network = network_model.Network(
        id='net-%d' % number, bridge='br-int', subnets=[subnet],
        meta={'mtu': mtu} if mtu else {})
    details = {network_model.VIF_DETAILS_VLAN: vlan} if vlan else {}
    return network_model.VIF(
        id=port_id, address='fa:16:3e:00:00:%02x' % number, type=vif_type,
        devname=('tap' + port_id)[:network_model.NIC_NAME_LEN],
        network=network, details=details, active=active)


def sea_vif(number, vlan=100, active=True):
    return make_vif(pvm_vif.VIF_TYPE_SEA, number, active=active, vlan=vlan)


def ovs_vif(number, active=True, mtu=1450):
    return make_vif(pvm_vif.VIF_TYPE_OVS, number, active=active, mtu=mtu)


class SimulatorConfig(fixtures.Fixture):
    """What PowerVMDriver needs to load and run on ``sim``: ``[powervm]``
    pointing at it and the NovaLink partition's local side of it.

    :param sim: a started NovaLinkFixture.
    :param index: the endpoint (managed system) to point at.  The local
                  side serves every endpoint: the configuration of
                  endpoint 0 sets it up.
    :param host: the compute host's name ([DEFAULT] host).
    :param options: further ``[powervm]`` options.
    """

    def __init__(self, sim, index=0, host=HOST, **options):
        super().__init__()
        self.sim = sim
        self.index = index
        self.host = host
        self.options = options

    def _setUp(self):
        self.conf = self.useFixture(config_fixture.Config(CONF))
        endpoint = self.sim.endpoints[self.index]
        options = {
            'host': endpoint.host, 'port': endpoint.port,
            'protocol': endpoint.protocol,
            'lifecycle_event_delay': EVENT_DELAY,
            'connection_retries': 3, 'connection_retry_interval': 0.01,
            'vios_active_wait_timeout': 5,
            'mgmt_platform': 'simulator',
        }
        options.update(self.options)
        self.conf.config(group='powervm', **options)
        self.conf.config(host=self.host)
        if self.index:
            return
        # The NovaLink partition's side of the simulator (snapshot disks,
        # VNC consoles) for the 'simulator' mgmt platform.
        self.useFixture(sim_platform.PlatformFixture(self.sim))
        # pypowervm remembers the media repository of the last simulator.
        for name in ('_cur_vios_uuid', '_cur_vg_uuid'):
            self.useFixture(fixtures.MonkeyPatch(
                '%s.%s' % (pvm_vopt.__name__, name), None))


class DriverFixture(fixtures.Fixture):
    """PowerVMDriver from nova's loader, configured for ``sim``.

    :param sim: a started NovaLinkFixture.
    :param init_host: call init_host now (and cleanup_host at the end).
    :param index: the endpoint (managed system) the driver manages.
    :param host: the compute host's name.
    :param options: further ``[powervm]`` options.
    """

    def __init__(self, sim, init_host=True, index=0, host=HOST, **options):
        super().__init__()
        self.sim = sim
        self.init_host_now = init_host
        self.index = index
        self.host = host
        self.options = options

    def _setUp(self):
        self.conf = self.useFixture(SimulatorConfig(
            self.sim, index=self.index, host=self.host,
            **self.options)).conf
        self.virtapi = EventVirtAPI()
        self.driver = nova_driver.load_compute_driver(
            self.virtapi, COMPUTE_DRIVER)
        # Appending to a list is atomic: events arrive on pool threads.
        self.events = []
        self.driver.register_event_listener(self.events.append)
        if self.init_host_now:
            self.init_host()

    def init_host(self):
        self.driver.init_host(self.host)
        self.addCleanup(self.driver.cleanup_host, self.host)


class DriverBDM(dict):
    """What nova's DriverVolumeBlockDevice gives the driver: a dict of the
    mapping that saves its connection_info (each save noted in
    ``saved``)."""

    def __init__(self, connection_info, boot_index=None):
        super().__init__(connection_info=connection_info,
                         boot_index=boot_index, mount_device='/dev/sdb',
                         delete_on_termination=False)
        self.saved = []

    def save(self):
        self.saved.append(dict(self['connection_info']['data']))


def block_device_info(*bdms):
    return {'block_device_mapping': list(bdms)}


class DriverTestCase(test.TestCase):
    """A simulated NovaLink, the driver on it and nova's database."""

    # Managed systems the simulator serves (the driver manages the first).
    SYSTEMS = 1
    # Whether the VIOSes of every system form one SSP cluster.
    SHARED_SSP = False
    # Client LPARs the simulator starts with (not nova's).
    SIM_LPARS = 0
    # Whether the NovaLink partition hosts I/O (is the management VIOS).
    NOVALINK_IO = False
    # [powervm] options of the driver beyond DriverFixture's.
    DRIVER_OPTIONS = {}

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(
            sim_fixture.NovaLinkFixture(systems=self.SYSTEMS,
                                        shared_ssp=self.SHARED_SSP,
                                        lpars=self.SIM_LPARS,
                                        event_wait=0.2,
                                        novalink_io=self.NOVALINK_IO))
        self.driver_fixture = self.useFixture(
            DriverFixture(self.sim, **self.DRIVER_OPTIONS))
        self.driver = self.driver_fixture.driver
        self.context = nova_context.get_admin_context()
        self.system = self.sim.model.systems[0]
        self.glance = self.useFixture(glance_fake.GlanceFake())
        self.image_data = image_bytes(IMAGE_SIZE)
        self.image = self.glance.add_image(self.image_data)
        # The config drive's metadata asks neutron for security groups.
        self.useFixture(fixtures.MockPatch(
            'nova.network.security_group_api.get_instance_security_groups',
            return_value=[]))

    def make_instance(self, memory_mb=2048, vcpus=2, extra_specs=None,
                      **fields):
        """A nova instance saved in the database, with its flavor."""
        flavor = objects.Flavor(
            id=1, name='pvm.test', flavorid='pvm-test', memory_mb=memory_mb,
            vcpus=vcpus, root_gb=1, ephemeral_gb=0, swap=0,
            extra_specs=extra_specs or {}, is_public=True, disabled=False,
            rxtx_factor=1.0, vcpu_weight=0)
        uuid = uuidutils.generate_uuid()
        values = {
            'context': self.context, 'uuid': uuid,
            'user_id': 'fake-user', 'project_id': 'fake-project',
            'host': HOST, 'image_ref': '', 'flavor': flavor,
            'instance_type_id': flavor.id, 'memory_mb': memory_mb,
            'vcpus': vcpus, 'root_gb': 1, 'ephemeral_gb': 0,
            'vm_state': vm_states.BUILDING,
            'power_state': power_state.NOSTATE, 'task_state': None,
            'system_metadata': {},
            # What nova's API sets and the config drive's metadata reads.
            'hostname': 'vm-%s' % uuid[:8], 'metadata': {},
        }
        values.update(fields)
        instance = objects.Instance(**values)
        instance.create()
        return instance

    def image_meta(self, image=None, **properties):
        """ImageMeta of ``image`` (a GlanceFake image; the test's own by
        default) with these properties."""
        return objects.ImageMeta.from_dict(
            dict(image or self.image, properties=properties))

    def spawn(self, instance, power_on=True, image_meta=None):
        self.driver.spawn(self.context, instance,
                          image_meta or self.image_meta(), [], None, {},
                          power_on=power_on)

    def lpar_of(self, instance):
        """The simulator's model of the instance's LPAR (None if gone)."""
        return self.sim.model.registry.find(vm.get_pvm_uuid(instance))

    def sim_system_changed(self):
        """Give the simulated system a new etag after its LPARs changed.

        The simulator keeps the ManagedSystem's etag (and its cached XML)
        when LPARs come and go, although the capacity it reports changes;
        a real NovaLink serves the new numbers.
        """
        self.sim.model.registry.changed(self.system)

    def client_lpars(self):
        return [lpar for lpar in self.sim.model.lpars(self.system)
                if not lpar.is_mgmt]

    # ------------------------------------------------ network and media
    def spawn_with(self, network_info, instance=None, power_on=True,
                   injected_files=(), admin_password=None):
        """Spawn ``instance`` (a new one by default) with these VIFs."""
        instance = instance or self.make_instance()
        self.driver.spawn(self.context, instance, self.image_meta(),
                          list(injected_files), admin_password, {},
                          network_info=network_info, power_on=power_on)
        return instance

    def cnas_of(self, instance):
        """The simulator's CNAs of the instance's LPAR (none if gone)."""
        lpar = self.lpar_of(instance)
        return [] if lpar is None else self.sim.model.cnas(lpar)

    def client_cnas(self, instance):
        """The instance's CNAs other than its RMC management adapter."""
        return [cna for cna in self.cnas_of(instance)
                if cna.vswitch.name != 'MGMTSWITCH']

    def mgmt_cnas(self, instance):
        return [cna for cna in self.cnas_of(instance)
                if cna.vswitch.name == 'MGMTSWITCH']

    def ovs_trunks(self):
        """Trunk adapters on the NovaLink partition's OVS I/O switch."""
        return [cna for part in self.sim.model.lpars(self.system)
                if part.is_mgmt for cna in self.sim.model.cnas(part)
                if cna.is_trunk and cna.vswitch.name == 'NovaLinkVEABridge']

    def ovs_ports(self):
        """{(bridge, port): external IDs} of the NovaLink partition's Open
        vSwitch."""
        return sim_platform.partition_of(self.driver.adapter).ovs_ports()

    def config_media(self):
        """(VIOS, medium) of every config drive medium in the system."""
        return [(vios, medium)
                for vios in self.sim.model.vioses(self.system)
                for vg in vios.volume_groups
                for repo in vg.media_repositories
                for medium in repo.media if medium.name.startswith('cfg_')]

    def vopt_mappings(self, lpar_id=None):
        """vSCSI mappings of optical media, to ``lpar_id`` if given."""
        return [mapping for vios in self.sim.model.vioses(self.system)
                for mapping in vios.scsi_mappings if mapping.is_vopt and (
                    lpar_id is None or
                    mapping.server.remote_lpar_id == lpar_id)]

    def assert_network_and_media_gone(self, instance):
        """Nothing of the instance's LPAR, VIFs or config drive is left."""
        # Names, not model objects: their reprs are long.
        self.assertIsNone(self.lpar_of(instance))
        self.assertEqual([], [lpar.name for lpar in self.client_lpars()])
        self.assertEqual([], [trunk.device_name
                              for trunk in self.ovs_trunks()])
        self.assertEqual({}, self.ovs_ports())
        self.assertEqual([], [medium.name
                              for _vios, medium in self.config_media()])
        self.assertEqual([], [mapping.storage.name
                              for mapping in self.vopt_mappings()])

    # ---------------------------------------------------------- storage
    def boot_vdisks(self):
        """Instance boot disks, rescue disks and snapshot copies (not image
        cache volumes) of every VIOS."""
        return [vdisk for vios in self.sim.model.vioses(self.system)
                for vg in vios.volume_groups for vdisk in vg.vdisks
                if vdisk.name.startswith(('b_', 'r_', 's_'))]

    def image_vdisks(self):
        return [vdisk for vios in self.sim.model.vioses(self.system)
                for vg in vios.volume_groups for vdisk in vg.vdisks
                if vdisk.name.startswith('i_')]

    def logical_units(self, lu_type):
        return [lu for cluster in self.sim.model.clusters(self.system)
                for lu in cluster.ssp.logical_units if lu.lu_type == lu_type]

    def disk_mappings(self):
        """vSCSI mappings of disks (not media), to any partition."""
        return [mapping for vios in self.sim.model.vioses(self.system)
                for mapping in vios.scsi_mappings
                if mapping.has_storage and not mapping.is_vopt]

    def vscsi_client_adapters(self):
        """Client vSCSI adapters of every partition, NovaLink's too."""
        return [adapter for part in self.sim.model.lpars(self.system)
                for adapter in part.adapters
                if adapter.kind == 'VirtualSCSIClientAdapter']

    def assert_storage_gone(self):
        """No boot disk, no disk mapping, no vSCSI adapter is left (the
        image cache may stay)."""
        self.assertEqual([], self.boot_vdisks())
        self.assertEqual([], self.logical_units('VirtualIO_Disk'))
        self.assertEqual([], self.disk_mappings())
        self.assertEqual([], self.vscsi_client_adapters())
        self.assertEqual([], [
            adapter for vios in self.sim.model.vioses(self.system)
            for adapter in vios.adapters
            if adapter.kind == 'VirtualSCSIServerAdapter'])

    def assert_nothing_left(self, instance):
        """Nothing of ``instance`` is left anywhere in the simulator: no
        LPAR, client or trunk adapter, Open vSwitch port, config drive,
        boot disk, mapping or vSCSI adapter (the image cache may stay)."""
        self.assert_network_and_media_gone(instance)
        self.assert_storage_gone()
        # Adapters are children of their partition; one outliving it would
        # only show in the registry.
        self.assertEqual([], [
            cna.mac for cna in self.sim.model.registry.of_kind(
                'ClientNetworkAdapter')
            if not (cna.owner.is_mgmt or cna.owner.is_vios)])

    # ---------------------------------------------------------- volumes
    def fc_volume(self, **kwargs):
        """A SAN LUN (every VIOS reaches it by default) and the
        connection_info a Cinder FC driver gives for it."""
        lun = self.sim.fc_lun(**kwargs)
        return lun, {'driver_volume_type': 'fibre_channel',
                     'serial': uuidutils.generate_uuid(),
                     'data': lun.connection_data()}

    def running_instance(self):
        """A spawned, running instance whose LPAR has RMC (NovaLink can
        change its I/O)."""
        instance = self.make_instance()
        self.spawn(instance)
        self.sim.model.set_partition_state(self.lpar_of(instance), 'running',
                                           rmc_state='active')
        return instance

    def hdisks_of(self, lun):
        """{VIOS name: hdisk name} of every VIOS that configured ``lun``."""
        return {vios.name: pv.name
                for vios in self.sim.model.vioses(self.system)
                for pv in vios.physical_volumes if pv.udid == lun.udid}

    def mapped_to(self, lun):
        """{VIOS name: partition ID} of every mapping of ``lun``'s hdisk."""
        return {vios.name: mapping.server.remote_lpar_id
                for vios in self.sim.model.vioses(self.system)
                for mapping in vios.scsi_mappings
                if mapping.pv is not None and mapping.pv.udid == lun.udid}

    def attach(self, instance, connection_info):
        self.driver.attach_volume(self.context, connection_info, instance,
                                  '/dev/sdb')

    def detach(self, instance, connection_info):
        self.driver.detach_volume(self.context, connection_info, instance,
                                  '/dev/sdb')

    def assert_volume_attached(self, instance, lun, connection_info,
                               vioses=2):
        """``vioses`` VIOSes keep an hdisk of ``lun``, mapped to the
        instance's LPAR and nothing else; connection_info keeps its UDID."""
        lpar_id = self.lpar_of(instance).partition_id
        self.assertEqual(vioses, len(self.hdisks_of(lun)))
        self.assertEqual(dict.fromkeys(self.hdisks_of(lun), lpar_id),
                         self.mapped_to(lun))
        self.assertEqual(lun.udid,
                         connection_info['data'][pvm_hdisk.UDID_KEY])

    def assert_volume_gone(self, lun):
        """No VIOS maps ``lun`` or keeps an hdisk of it."""
        self.assertEqual({}, self.mapped_to(lun))
        self.assertEqual({}, self.hdisks_of(lun))
