"""Test base: nova's in-process services on simulated NovaLinks.

Each compute service started with ``start_powervm_compute`` runs
PowerVMDriver against its own simulated managed system (endpoint ``index``
of the NovaLinkFixture), as each real POWER server runs its own
nova-compute on its own NovaLink.  Tests drive nova through its REST API
and check the outcome in the simulator's model.

The computes run the driver's ``simulator`` management platform: the
NovaLink partition's local side (snapshot disks read as block devices, the
Open vSwitch of OVS VIFs) is the simulator's.  ``create_port`` adds ports
of a VIF type to nova's NeutronFixture for ``boot_server(networks=...)``;
``self.glance`` (nova's GlanceFixture) keeps what a snapshot uploads in
``snapshot_uploads``; the test image holds IMAGE_DATA for a boot disk to be
checked against.  ``self.cinder`` (nova's CinderFixture) gives the volumes
added with ``create_fc_volume`` the Fibre Channel connection_info of a
simulator LUN.
"""

import copy
import functools
import importlib.metadata
import io
import time
from unittest import mock

import fixtures
from nova.network import model as network_model
from nova import thread_pool_factory
from nova.tests.fixtures import cinder as cinder_fixture
from nova.tests.functional import integrated_helpers
from oslo_utils.fixture import uuidsentinel
from oslo_utils import uuidutils
from pypowervm.tasks import vopt as pvm_vopt
from pypowervm.utils import uuid as pvm_uuid

from nova_powervm import vif as pvm_vif
from powervm_sim import fixture as sim_fixture
from powervm_sim.model import partition as sim_partition
from powervm_sim import platform as sim_platform
from tests.functional.driver import glance_fake

COMPUTE_DRIVER = 'powervm_ext.driver.PowerVMDriver'

# nova's ServiceFixture makes shutdown_all_executors a no-op only while its
# service lives, but a service's stop runs the manager's graceful shutdown
# on a thread of its own, which outlives the stop once the driver's
# cleanup_host takes longer than manager_shutdown_timeout (it waits for
# NovaLink's event poll in flight; on a loaded machine, seconds).  That
# thread then shuts down the process-wide thread pools for good, and every
# later test of the worker fails to start a service or an event handler.
# No test process wants them shut down: the no-op is kept for the process.
thread_pool_factory.shutdown_all_executors = lambda: None

LPAR_RUNNING = sim_partition.RUNNING
LPAR_OFF = sim_partition.NOT_ACTIVATED

# Long enough to keep the halves of a reboot together, short enough that a
# late state report cannot outlive the test by much.
LIFECYCLE_EVENT_DELAY = 0.5
# The simulator holds an event long-poll open this long; the driver's
# cleanup_host waits for the poll in flight.
SIM_EVENT_WAIT = 0.2
# How often to poll a booting server, every 0.5 s: a boot writes the image
# to a disk of the simulator, which takes seconds on a busy machine.
BOOT_POLLS = 60
# What the test image holds: small, and recognisable on a disk.
IMAGE_DATA = b'nova-powervm functional test image\n' * 1024
# How often to look at a server or the simulator while waiting for a change
# (nova's own helpers look every 0.5 s).
POLL_INTERVAL = 0.1
# The virtual switches of the driver's VIFs.
OVS_VSWITCH = 'NovaLinkVEABridge'
MGMT_VSWITCH = pvm_vif.MGMT_VSWITCH


@functools.cache
def api_paste_config():
    """Where the installed nova keeps api-paste.ini.

    The nova wheel installs it under <prefix>/etc/nova/, where nova's test
    fixtures do not look.
    """
    for path in importlib.metadata.files('nova') or ():
        if path.name == 'api-paste.ini':
            return str(path.locate().resolve())
    raise RuntimeError('The installed nova has no api-paste.ini.')


def volume_bdm(volume_id, boot_index=None):
    """A block_device_mapping_v2 entry of an existing Cinder volume (a
    data volume unless ``boot_index`` is given)."""
    bdm = {'source_type': 'volume', 'destination_type': 'volume',
           'uuid': volume_id}
    if boot_index is not None:
        bdm['boot_index'] = boot_index
    return bdm


class StateRecorder:
    """Every PartitionState the simulator gives one LPAR, in order."""

    def __init__(self, model, lpar_uuid):
        self.lpar_uuid = lpar_uuid.lower()
        self.states = []
        self._registry = model.registry
        self._registry.subscribe(self)

    def __call__(self, event_type, resource, detail):
        # Called under the model's lock, from the simulator's threads.
        if resource.uuid.lower() == self.lpar_uuid and \
                'PartitionState' in detail:
            self.states.append(resource.state)

    def stop(self):
        self._registry.unsubscribe(self)


class SANCinderFixture(cinder_fixture.CinderFixture):
    """nova's CinderFixture, giving each volume ``add``-ed the
    connection_info of a simulator LUN, Fibre Channel or iSCSI (other
    volumes keep the fixture's own)."""

    # driver_volume_type by the medium of the LUN's target.
    VOLUME_TYPES = {'FC': 'fibre_channel', 'iSCSI': 'iscsi'}

    def __init__(self, test):
        super().__init__(test)
        # The instance's own: the class's stays as nova ships it.
        self.VOLUME_CONNECTION_INFO = copy.deepcopy(
            self.VOLUME_CONNECTION_INFO)

    def add(self, volume_id, lun):
        """Volume ``volume_id`` is ``lun``: what a Cinder FC driver
        returns for it (target_wwn, target_lun, initiator_target_map), or
        an iSCSI one (portals, IQNs, LUNs, CHAP)."""
        self.VOLUME_CONNECTION_INFO[volume_id] = {
            'driver_volume_type': self.VOLUME_TYPES[lun.target.medium],
            'data': lun.connection_data()}


class PowerVMTestCase(integrated_helpers.ProviderUsageBaseTestCase):
    """nova's API, conductor, scheduler and placement; PowerVM computes.

    ProviderUsageBaseTestCase rather than _IntegratedTestBase: it starts
    no compute service of its own (each one here needs its [powervm]
    endpoint set first) and does not turn RPC casts into calls, so
    requests reach the computes asynchronously, as in a deployment.
    """

    compute_driver = COMPUTE_DRIVER

    # Managed systems the simulator serves (one per compute host).
    SYSTEMS = 1
    # Whether the VIOSes of every system form one SSP cluster.
    SHARED_SSP = False

    def setUp(self):
        self.flags(api_paste_config=api_paste_config(), group='wsgi')
        super().setUp()
        # Started before any compute so that it stops after them: the
        # drivers log off NovaLink when their services stop.
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            systems=self.SYSTEMS, shared_ssp=self.SHARED_SSP,
            event_wait=SIM_EVENT_WAIT))
        # The NovaLink partitions' local side, for the 'simulator'
        # management platform of the computes.
        self.useFixture(sim_platform.PlatformFixture(self.sim))
        # pypowervm remembers the media repository of the last simulator
        # it talked to, in module globals.
        for name in ('_cur_vios_uuid', '_cur_vg_uuid'):
            self.useFixture(fixtures.MonkeyPatch(
                '%s.%s' % (pvm_vopt.__name__, name), None))
        self.host_systems = {}
        self._stream_image_downloads()
        self.snapshot_uploads = {}
        self._keep_snapshot_uploads()
        self.image_id = self.create_image()
        # Patched over the CinderFixture nova's test case started.
        self.cinder = self.useFixture(SANCinderFixture(self))

    def _stream_image_downloads(self):
        """Make nova's GlanceFixture hand out image data as glance does.

        Asked for neither a file object nor a path, nova's image API
        returns the image's chunks; the fixture returns nothing.
        """
        fixture_download = self.glance.download

        def download(context, image_id, data=None, dst_path=None,
                     trusted_certs=None):
            if data is None and dst_path is None:
                buffer = io.BytesIO()
                fixture_download(context, image_id, data=buffer)
                return iter([buffer.getvalue()])
            return fixture_download(context, image_id, data=data,
                                    dst_path=dst_path,
                                    trusted_certs=trusted_certs)

        # The fixture lives as long as this test does.
        self.glance.download = download

    def _keep_snapshot_uploads(self):
        """Make nova's GlanceFixture take the data of an image update.

        It keeps only the metadata; a snapshot's data goes into
        ``snapshot_uploads`` (image ID -> glance_fake.Upload, which holds
        no runs of zeros: a 1 GB boot disk costs its few MB of image).
        An exception in ``snapshot_upload_failure`` is raised once the
        first chunk has arrived, as when Glance goes away mid-upload.
        """
        fixture_update = self.glance.update
        self.snapshot_upload_failure = None

        def update(context, image_id, metadata, data=None,
                   purge_props=False):
            if data is not None:
                upload = glance_fake.Upload()
                chunks = iter(lambda: data.read(glance_fake.CHUNK), b'') \
                    if hasattr(data, 'read') else iter(data)
                for chunk in chunks:
                    upload.add(chunk)
                    if self.snapshot_upload_failure is not None:
                        raise self.snapshot_upload_failure
                self.snapshot_uploads[image_id] = upload
                metadata = dict(metadata, size=upload.size,
                                status='active')
            return fixture_update(context, image_id, metadata,
                                  purge_props=purge_props)

        self.glance.update = update

    # ----------------------------------------------------------- services
    def start_powervm_compute(self, hostname, index=0):
        """Start nova-compute ``hostname`` on simulated system ``index``.

        The driver reads its [powervm] endpoint once, in init_host, so the
        options are set just before the service starts.
        """
        endpoint = self.sim.endpoints[index]
        self.flags(
            group='powervm', host=endpoint.host, port=endpoint.port,
            protocol=endpoint.protocol, mgmt_platform='simulator',
            lifecycle_event_delay=LIFECYCLE_EVENT_DELAY,
            connection_retries=3, connection_retry_interval=0.01,
            vios_active_wait_timeout=5)
        # The driver leaves its node's UUID to nova's compute node
        # identity, of which a process has one: give each host its own
        # while its service starts (as nova's libvirt functional tests
        # do).  Later resource updates find the node by its name.
        node_uuid = getattr(uuidsentinel, 'node_%s' % hostname)
        with mock.patch('nova.virt.node.get_local_node_uuid',
                        return_value=node_uuid):
            compute = self._start_compute(hostname)
        self.host_systems[hostname] = endpoint.system
        return compute

    # ------------------------------------------------------------- nova
    def create_image(self, data=IMAGE_DATA, **properties):
        """A raw ppc64le image holding ``data``; returns its ID.

        nova's stock images are x86_64, which no PowerVM host runs.
        """
        properties = dict({'architecture': 'ppc64le',
                           'os_distro': 'ubuntu'}, **properties)
        image = self.glance.create(None, {
            'name': 'powervm-image', 'status': 'active',
            'visibility': 'public', 'container_format': 'bare',
            'disk_format': 'raw', 'size': len(data), 'min_disk': 0,
            'min_ram': 0, 'properties': properties,
        }, data=io.BytesIO(data))
        return image['id']

    def create_flavor(self, memory_mb=2048, vcpu=2, disk=1,
                      extra_specs=None):
        """A flavor (no ephemeral disk or swap); returns its ID."""
        return self._create_flavor(
            memory_mb=memory_mb, vcpu=vcpu, disk=disk, ephemeral=0,
            extra_spec=extra_specs)

    def boot_server(self, flavor_id, expected_state='ACTIVE',
                    networks='none', **fields):
        """Boot from the PowerVM image; wait for ``expected_state``.

        :param networks: 'none', or a list of {'port': <Neutron port ID>}.
        :param fields: further fields of the create request: host,
                       availability_zone, config_drive, ...
        """
        server = self.request_server(flavor_id, networks=networks, **fields)
        return self._wait_for_build(server, expected_state)

    def request_server(self, flavor_id, networks='none', **fields):
        """Ask for a server from the PowerVM image; do not wait.

        :returns: the API's answer (with min_count > 1, the first
                  server's, or the reservation ID if asked for).
        """
        body = self._build_server(image_uuid=self.image_id,
                                  flavor_id=flavor_id, networks=networks)
        body.update(fields)
        return self.api.post_server({'server': body})

    def image_bdm(self):
        """The boot disk from the PowerVM image as a block_device_mapping_v2
        entry: the nova client puts it first when a server booted from the
        image is given volumes too."""
        return {'source_type': 'image', 'destination_type': 'local',
                'uuid': self.image_id, 'boot_index': 0,
                'delete_on_termination': True}

    def boot_server_from_volume(self, flavor_id, volume_id,
                                expected_state='ACTIVE', data_volumes=()):
        """Boot from Cinder volume ``volume_id`` (no image), with the
        volumes of ``data_volumes`` too; wait for ``expected_state``."""
        return self.boot_server(
            flavor_id, expected_state=expected_state, imageRef='',
            block_device_mapping_v2=[volume_bdm(volume_id, boot_index=0)] +
            [volume_bdm(data_id) for data_id in data_volumes])

    def attached_volumes(self, server):
        """The IDs of the volumes nova has attached to ``server``."""
        return [attachment['volumeId'] for attachment in
                self.api.get_server_volumes(server['id'])]

    def detach_volume(self, server, volume_id):
        """Detach through os-volume_attachments; wait until nova has
        dropped the attachment (after the driver's detach)."""
        self.api.delete_server_volume(server['id'], volume_id)
        self._wait_for_volume_detach(server['id'], volume_id)

    def failed_volume_attach(self, server, volume_id):
        """Attach through os-volume_attachments, expecting the compute to
        fail; wait until nova has dropped the attachment.

        :returns: the exception of nova's instance.volume_attach.error
                  notification (ExceptionPayload fields).
        """
        self.api.post_server_volume(
            server['id'], {'volumeAttachment': {'volumeId': volume_id}})
        [notification] = self.notifier.wait_for_versioned_notifications(
            'instance.volume_attach.error')
        self.wait_for(lambda: volume_id not in self.attached_volumes(server),
                      'nova to drop the failed attachment')
        payload = notification['payload']['nova_object.data']
        return payload['fault']['nova_object.data']

    def send_volume_extended(self, server, volume_id):
        """Tell nova that Cinder grew an attached volume, as Cinder does
        (an external event of microversion 2.51, which 'latest'
        includes)."""
        [event] = self.api.create_server_external_events([{
            'name': 'volume-extended', 'server_uuid': server['id'],
            'tag': volume_id}])
        self.assertEqual(200, event['code'], event)

    def wait_for(self, condition, what, polls=BOOT_POLLS * 5):
        """Poll ``condition`` until it returns something true; return it.
        """
        for _attempt in range(polls):
            result = condition()
            if result:
                return result
            time.sleep(POLL_INTERVAL)
        raise self.failureException('Gave up waiting for %s.' % what)

    def create_fc_volume(self, volume_id=None, **lun_args):
        """A Cinder volume on a new SAN LUN (``sim.fc_lun(**lun_args)``:
        by default 1 GB, reached by every VIOS).

        :param volume_id: the volume's ID (default: a new one), e.g. the
                          CinderFixture's bootable IMAGE_BACKED_VOL.
        :returns: (volume ID, LUN)
        """
        return self._san_volume(self.sim.fc_lun(**lun_args), volume_id)

    def create_iscsi_volume(self, volume_id=None, **lun_args):
        """create_fc_volume's iSCSI twin (``sim.iscsi_lun``: a CHAP target
        every VIOS may log in to)."""
        return self._san_volume(self.sim.iscsi_lun(**lun_args), volume_id)

    def _san_volume(self, lun, volume_id):
        volume_id = volume_id or uuidutils.generate_uuid()
        self.cinder.add(volume_id, lun)
        return volume_id, lun

    def create_vlan_network(self, segmentation_id):
        """A VLAN provider network in the NeutronFixture; returns it.

        Its subnet is the fixture's: nova's network info needs one, and
        the fixture does not tell subnets of different networks apart.
        """
        network = dict(
            copy.deepcopy(self.neutron.network_1),
            id=uuidutils.generate_uuid(),
            name='vlan-%d' % segmentation_id,
            subnets=[self.neutron.subnet_1['id']])
        network.update({'provider:network_type': 'vlan',
                        'provider:physical_network': 'default',
                        'provider:segmentation_id': segmentation_id})
        self.neutron._networks[network['id']] = network
        return network

    def create_port(self, network, vif_type, mac, vif_details=None,
                    status='ACTIVE'):
        """A port on ``network`` that neutron binds as ``vif_type``.

        :param vif_details: the binding's details (networking-powervm
                            puts a pvm_sea port's VLAN there).
        :param status: 'DOWN' for a port whose agent has not reported it
                       up yet (nova then waits for network-vif-plugged).
        :returns: the port.
        """
        port = dict(
            copy.deepcopy(self.neutron.port_1),
            id=uuidutils.generate_uuid(), network_id=network['id'],
            mac_address=mac, status=status, device_id='')
        port.update({'binding:vif_type': vif_type,
                     'binding:vif_details': dict(vif_details or {})})
        self.neutron._ports[port['id']] = port
        return port

    def create_sea_port(self, network, mac, **kwargs):
        """A ``pvm_sea`` port on the VLAN of ``network``, as
        networking-powervm's mechanism driver binds it."""
        vlan = network['provider:segmentation_id']
        return self.create_port(
            network, pvm_vif.VIF_TYPE_SEA, mac,
            vif_details={network_model.VIF_DETAILS_VLAN: vlan}, **kwargs)

    def create_ovs_port(self, mac, **kwargs):
        """An ``ovs`` port on the fixture's own (VXLAN) network."""
        return self.create_port(self.neutron.network_1,
                                pvm_vif.VIF_TYPE_OVS, mac, **kwargs)

    def _wait_for_build(self, server, expected_state):
        """Poll until the build ends; fail at once if it ends otherwise.
        """
        for _attempt in range(BOOT_POLLS):
            server = self.api.get_server(server['id'])
            # nova records an ERROR before its fault.
            if server['status'] not in ('BUILD', 'ERROR') or \
                    'fault' in server:
                break
            time.sleep(0.5)
        self.assertEqual(expected_state, server['status'],
                         server.get('fault'))
        return server

    def build_error(self):
        """The exception a compute reported when a build failed there.

        It travels in the instance.create.error notification: the server's
        own fault only says that nova ran out of hosts to try.

        :returns: the notification's ExceptionPayload fields (exception,
                  exception_message, module_name, ...).
        """
        notification = self.notifier.wait_for_versioned_notifications(
            'instance.create.error')[0]
        payload = notification['payload']['nova_object.data']
        return payload['fault']['nova_object.data']

    # -------------------------------------------------------- simulator
    def system_of(self, hostname):
        """The simulated managed system behind compute host ``hostname``.
        """
        return self.host_systems[hostname]

    @staticmethod
    def lpar_uuid(server):
        """The LPAR UUID of ``server`` (lower case, as the model keys it).
        """
        return pvm_uuid.convert_uuid_to_pvm(server['id']).lower()

    def lpar_of(self, server):
        """The simulator's model of ``server``'s LPAR, None if there is none.
        """
        return self.sim.model.registry.find(self.lpar_uuid(server))

    def lpar_on(self, hostname, server):
        """``server``'s LPAR on the system of compute host ``hostname``, None
        if there is none (a move leaves one on each system until nova
        confirms or reverts it)."""
        return self.sim.model.registry.find(
            self.lpar_uuid(server), sim_partition.LPAR.kind,
            within=self.system_of(hostname))

    def client_lpars(self, system):
        """The LPARs of ``system`` other than the NovaLink partition."""
        return [lpar for lpar in self.sim.model.lpars(system)
                if not lpar.is_mgmt]

    def client_cnas(self, server):
        """The CNAs of ``server``'s LPAR but its RMC management adapter
        (none once the LPAR is gone)."""
        lpar = self.lpar_of(server)
        if lpar is None:
            return []
        return [cna for cna in self.sim.model.cnas(lpar)
                if cna.vswitch.name != MGMT_VSWITCH]

    def mgmt_partition(self, system):
        return next(lpar for lpar in self.sim.model.lpars(system)
                    if lpar.is_mgmt)

    def ovs_trunks(self, system):
        """Trunk adapters of OVS VIFs on ``system``'s NovaLink partition.
        """
        return [cna for cna in self.sim.model.cnas(self.mgmt_partition(system))
                if cna.is_trunk and cna.vswitch.name == OVS_VSWITCH]

    def ovs_ports(self, hostname):
        """{(bridge, port): external IDs} of the Open vSwitch on the
        NovaLink partition of compute host ``hostname``."""
        driver = self.computes[hostname].manager.driver
        return sim_platform.partition_of(driver.adapter).ovs_ports()

    def config_media(self, system):
        """The config drive media in ``system``'s media repositories."""
        return [medium for vios in self.sim.model.vioses(system)
                for vg in vios.volume_groups
                for repo in vg.media_repositories
                for medium in repo.media if medium.name.startswith('cfg_')]

    def vopt_mappings(self, system):
        """Virtual optical mappings of ``system``'s VIOSes."""
        return [mapping for vios in self.sim.model.vioses(system)
                for mapping in vios.scsi_mappings if mapping.is_vopt]

    def disk_mappings(self, system):
        """vSCSI mappings of disks (not media), to any partition."""
        return [mapping for vios in self.sim.model.vioses(system)
                for mapping in vios.scsi_mappings
                if mapping.has_storage and not mapping.is_vopt]

    def boot_vdisks(self, system):
        """Boot disks and their snapshot copies (not the image cache)."""
        return [vdisk for vios in self.sim.model.vioses(system)
                for vg in vios.volume_groups for vdisk in vg.vdisks
                if vdisk.name.startswith(('b_', 's_'))]

    def lun_hdisks(self, system, lun):
        """{VIOS name: hdisk (the model's PhysicalVolume)} of ``system``'s
        VIOSes that configured SAN ``lun``."""
        return {vios.name: pv for vios in self.sim.model.vioses(system)
                for pv in vios.physical_volumes if pv.udid == lun.udid}

    def lun_mappings(self, system, lun):
        """[(VIOS name, client partition ID)] of the vSCSI mappings of
        ``lun``'s hdisks on ``system``'s VIOSes, sorted."""
        return sorted((vios.name, mapping.server.remote_lpar_id)
                      for vios in self.sim.model.vioses(system)
                      for mapping in vios.scsi_mappings
                      if mapping.pv is not None and
                      mapping.pv.udid == lun.udid)

    def lose_rmc(self, server):
        """Take down the RMC connection of ``server``'s running LPAR (the
        simulator brings it up at power-on), as when its operating system
        has not started it or has lost it: NovaLink may then not change
        the LPAR's I/O, such as its vSCSI disks."""
        self.sim.model.set_partition_state(self.lpar_of(server),
                                           LPAR_RUNNING, rmc_state='inactive')

    def record_states(self, server):
        """A StateRecorder of ``server``'s LPAR for the rest of the test."""
        recorder = StateRecorder(self.sim.model, self.lpar_uuid(server))
        self.addCleanup(recorder.stop)
        return recorder

    def assertLparState(self, state, server):
        lpar = self.lpar_of(server)
        self.assertIsNotNone(lpar, 'server %s has no LPAR' % server['id'])
        self.assertEqual(state, lpar.state)
