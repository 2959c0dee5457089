"""Test base: nova's in-process services on simulated NovaLinks.

Each compute service started with ``start_powervm_compute`` runs
PowerVMDriver against its own simulated managed system (endpoint ``index``
of the NovaLinkFixture), as each real POWER server runs its own
nova-compute on its own NovaLink.  Tests drive nova through its REST API
and check the outcome in the simulator's model.

What the base inherits serves the features still to come: ``self.neutron``
(nova's NeutronFixture) makes the ports that ``boot_server(networks=...)``
takes, ``self.glance`` receives snapshots, ``boot_server(config_drive=True)``
asks for a config drive, and the test image holds IMAGE_DATA for a boot
disk to be checked against.
"""

import functools
import importlib.metadata
import io
import time
from unittest import mock

from nova.tests.functional import integrated_helpers
from oslo_utils.fixture import uuidsentinel
from pypowervm.utils import uuid as pvm_uuid

from powervm_sim import fixture as sim_fixture
from powervm_sim.model import partition as sim_partition

COMPUTE_DRIVER = 'powervm_ext.driver.PowerVMDriver'

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

    def setUp(self):
        self.flags(api_paste_config=api_paste_config(), group='wsgi')
        super().setUp()
        # Started before any compute so that it stops after them: the
        # drivers log off NovaLink when their services stop.
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            systems=self.SYSTEMS, event_wait=SIM_EVENT_WAIT))
        self.host_systems = {}
        self._stream_image_downloads()
        self.image_id = self.create_image()

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

    # ----------------------------------------------------------- services
    def start_powervm_compute(self, hostname, index=0):
        """Start nova-compute ``hostname`` on simulated system ``index``.

        The driver reads its [powervm] endpoint once, in init_host, so the
        options are set just before the service starts.
        """
        endpoint = self.sim.endpoints[index]
        self.flags(
            group='powervm', host=endpoint.host, port=endpoint.port,
            protocol=endpoint.protocol,
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
        body = self._build_server(image_uuid=self.image_id,
                                  flavor_id=flavor_id, networks=networks)
        body.update(fields)
        server = self.api.post_server({'server': body})
        return self._wait_for_build(server, expected_state)

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

    def client_lpars(self, system):
        """The LPARs of ``system`` other than the NovaLink partition."""
        return [lpar for lpar in self.sim.model.lpars(system)
                if not lpar.is_mgmt]

    def record_states(self, server):
        """A StateRecorder of ``server``'s LPAR for the rest of the test."""
        recorder = StateRecorder(self.sim.model, self.lpar_uuid(server))
        self.addCleanup(recorder.stop)
        return recorder

    def assertLparState(self, state, server):
        lpar = self.lpar_of(server)
        self.assertIsNotNone(lpar, 'server %s has no LPAR' % server['id'])
        self.assertEqual(state, lpar.state)
