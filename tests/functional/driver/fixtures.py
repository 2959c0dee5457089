"""Shared set-up of the driver's functional tests.

``DriverFixture`` loads PowerVMDriver through nova's own loader with
``[powervm]`` pointing at a running NovaLinkFixture; ``DriverTestCase``
adds nova's database (instances are real, saved nova objects: the driver
looks their state up as nova-compute would) and helpers to make them.
"""

import fixtures
from nova.compute import power_state
from nova.compute import vm_states
from nova import conf as nova_conf
from nova import context as nova_context
from nova import objects
from nova import test
from nova.virt import driver as nova_driver
from nova.virt import fake as nova_fake
from oslo_config import fixture as config_fixture
from oslo_utils import uuidutils

from nova_powervm import vm
from powervm_sim import fixture as sim_fixture

CONF = nova_conf.CONF
COMPUTE_DRIVER = 'powervm_ext.driver.PowerVMDriver'
HOST = 'compute1'
# Short enough for tests to wait for, long enough to hold both halves of
# a simulated reboot together.
EVENT_DELAY = 0.3


class DriverFixture(fixtures.Fixture):
    """PowerVMDriver from nova's loader, configured for ``sim``.

    :param sim: a started NovaLinkFixture.
    :param init_host: call init_host now (and cleanup_host at the end).
    :param options: further ``[powervm]`` options.
    """

    def __init__(self, sim, init_host=True, **options):
        super().__init__()
        self.sim = sim
        self.init_host_now = init_host
        self.options = options

    def _setUp(self):
        self.conf = self.useFixture(config_fixture.Config(CONF))
        endpoint = self.sim.endpoints[0]
        options = {
            'host': endpoint.host, 'port': endpoint.port,
            'protocol': endpoint.protocol,
            'lifecycle_event_delay': EVENT_DELAY,
            'connection_retries': 3, 'connection_retry_interval': 0.01,
            'vios_active_wait_timeout': 5,
        }
        options.update(self.options)
        self.conf.config(group='powervm', **options)
        self.conf.config(host=HOST)
        self.virtapi = nova_fake.FakeVirtAPI()
        self.driver = nova_driver.load_compute_driver(
            self.virtapi, COMPUTE_DRIVER)
        # Appending to a list is atomic: events arrive on pool threads.
        self.events = []
        self.driver.register_event_listener(self.events.append)
        if self.init_host_now:
            self.init_host()

    def init_host(self):
        self.driver.init_host(HOST)
        self.addCleanup(self.driver.cleanup_host, HOST)


class DriverTestCase(test.TestCase):
    """A simulated NovaLink, the driver on it and nova's database."""

    # Client LPARs the simulator starts with (not nova's).
    SIM_LPARS = 0

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(
            sim_fixture.NovaLinkFixture(lpars=self.SIM_LPARS,
                                        event_wait=0.2))
        self.driver_fixture = self.useFixture(DriverFixture(self.sim))
        self.driver = self.driver_fixture.driver
        self.context = nova_context.get_admin_context()
        self.system = self.sim.model.systems[0]

    def make_instance(self, memory_mb=2048, vcpus=2, extra_specs=None,
                      **fields):
        """A nova instance saved in the database, with its flavor."""
        flavor = objects.Flavor(
            id=1, name='pvm.test', flavorid='pvm-test', memory_mb=memory_mb,
            vcpus=vcpus, root_gb=1, ephemeral_gb=0, swap=0,
            extra_specs=extra_specs or {}, is_public=True, disabled=False,
            rxtx_factor=1.0, vcpu_weight=0)
        values = {
            'context': self.context, 'uuid': uuidutils.generate_uuid(),
            'user_id': 'fake-user', 'project_id': 'fake-project',
            'host': HOST, 'image_ref': '', 'flavor': flavor,
            'instance_type_id': flavor.id, 'memory_mb': memory_mb,
            'vcpus': vcpus, 'root_gb': 1, 'ephemeral_gb': 0,
            'vm_state': vm_states.BUILDING,
            'power_state': power_state.NOSTATE, 'task_state': None,
            'system_metadata': {},
        }
        values.update(fields)
        instance = objects.Instance(**values)
        instance.create()
        return instance

    def image_meta(self, **properties):
        return objects.ImageMeta.from_dict(
            {'disk_format': 'raw', 'container_format': 'bare',
             'properties': properties})

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
