"""The driver's read paths on responses recorded from real POWER systems.

A small server answers the driver's NovaLink requests from the responses
an HMC gave ManageIQ's inventory walk (../shared/recorded, never copied
here) for one managed system, 'pollux': the HMC's per-system feeds serve
NovaLink's root feeds ('LogicalPartition' is the system's LogicalPartition
feed), entries are cut from the feeds, and a partition's PartitionState
quick property is read from its recorded entry.  The pool's default Tier,
which the walk never read, comes from pypowervm's real capture of a Tier
feed.  The expected values are read from the same recordings.

Nothing here prints recorded bodies: they hold real addresses and serials.
"""

import json
import math
import os
import re

from nova.compute import power_state
from nova.compute import provider_tree
from nova import conf as nova_conf
from nova import objects
from nova.virt import driver as nova_driver
from nova.virt import fake as nova_fake
from oslo_config import fixture as config_fixture
import os_resource_classes as orc
from pypowervm.tasks import partition as pvm_partition
from lxml import etree
import testtools
from werkzeug import wrappers

from nova_powervm import adapter as pvm_adapter
from nova_powervm import disk
from nova_powervm import host
from nova_powervm import vif as pvm_vif
from powervm_sim import server as server_mod
from tests.recorded import recordings

CONF = nova_conf.CONF
COMPUTE_DRIVER = 'powervm_ext.driver.PowerVMDriver'
NODENAME = 'pollux-compute'
HMC_DIR = os.path.join(recordings.shared_recordings_dir(),
                       'hmc-manageiq-2022')
REFRESHER = os.path.join(HMC_DIR, 'refresher.yml')
STORAGE = os.path.join(HMC_DIR, 'refresher_storage_8f2a83e9-f4c7-35e5-987e-'
                                '9ac54a498dab.yml')
TIER_CAPTURE = os.path.join(recordings.pypowervm_data_dir(), 'tier.txt')
# The system the driver manages: the one whose VIOS is a node of the
# recorded SSP cluster.
SYSTEM_UUID = 'd47a585d-eaa8-3a54-b4dc-93346276ea37'
UOM = '/rest/api/uom/'
ATOM = '{http://www.w3.org/2005/Atom}'
ATOM_TYPE = 'application/atom+xml'
_SYSTEM_CHILD = re.compile(r'^/rest/api/uom/ManagedSystem/[^/]+/(\w+)$')
_ROOT_ENTRY = re.compile(
    r'^/rest/api/uom/(\w+)/([0-9a-fA-F-]{36})(/quick/PartitionState)?$')


def _path(uri):
    return '/' + uri.split('://', 1)[-1].split('/', 1)[-1].split('?', 1)[0]


def _feed(entries):
    body = ''.join(etree.tostring(entry, encoding='unicode')
                   for entry in entries)
    return '<feed xmlns="http://www.w3.org/2005/Atom">%s</feed>' % body


class RecordedNovaLink:
    """A WSGI application answering NovaLink's reads for one system.

    Writes are refused (405): the recordings hold no answers to them.
    """

    def __init__(self, system_uuid, interactions):
        self.system_uuid = system_uuid
        self.logon = None
        self.bodies = {}
        self.entries = {}
        for interaction in interactions:
            self._index(interaction)

    def _index(self, interaction):
        path = _path(interaction.uri)
        if path.endswith('/web/Logon') and interaction.method == 'PUT':
            self.logon = interaction.response_body
        if interaction.method != 'GET' or interaction.status != 200:
            return
        root = recordings.parse_xml(interaction.response_body)
        if root is None:
            return
        for entry in ([root] if root.tag == ATOM + 'entry'
                      else root.findall(ATOM + 'entry')):
            self.entries[entry.findtext(ATOM + 'id').lower()] = entry
        if root.tag != ATOM + 'feed':
            return
        child = _SYSTEM_CHILD.match(path)
        if child and self.system_uuid not in path:
            return
        self.bodies[path] = interaction.response_body
        if child:
            # This system's feed answers NovaLink's root feed of the kind.
            self.bodies[UOM + child.group(1)] = interaction.response_body

    def add_body(self, path, body):
        self.bodies[path] = body

    def answer(self, method, path):
        """(status, content type, body) for a request."""
        if path.endswith('/web/Logon'):
            if method == 'PUT':
                return 200, 'application/vnd.ibm.powervm.web+xml', self.logon
            return 204, 'text/plain', ''
        if method != 'GET':
            return 405, 'text/plain', ''
        if path == UOM + 'ManagedSystem':
            return 200, ATOM_TYPE, _feed([self.entries[self.system_uuid]])
        if path in self.bodies:
            return 200, ATOM_TYPE, self.bodies[path]
        if path == UOM + 'Cluster':
            return 200, ATOM_TYPE, _feed([
                entry for entry in self.entries.values()
                if entry.findtext(ATOM + 'title') == 'Cluster'])
        return self._answer_entry(path)

    def _answer_entry(self, path):
        match = _ROOT_ENTRY.match(path)
        entry = match and self.entries.get(match.group(2).lower())
        if entry is None:
            return 404, 'text/plain', ''
        if match.group(3):
            state = entry.find('.//{*}PartitionState').text
            return 200, 'application/json', json.dumps(state)
        return 200, ATOM_TYPE, etree.tostring(
            entry, encoding='unicode')

    @wrappers.Request.application
    def __call__(self, request):
        status, content_type, body = self.answer(request.method,
                                                 request.path)
        return wrappers.Response(body, status=status,
                                 content_type=content_type)


def recorded_objects(interactions, kind, marker=''):
    """The kind objects of the GET responses whose URI holds marker."""
    return [element for interaction in interactions
            if interaction.method == 'GET' and marker in interaction.uri
            for found, element in recordings.iter_atom_objects(
                interaction.response_body) if found == kind]


def vcpus(proc_units):
    return math.floor(round(proc_units / CONF.powervm.proc_units_factor, 6))


def text(element, name):
    return element.findtext('.//{*}' + name)


class TestRealReads(testtools.TestCase):
    """The driver's reads of a real HMC-managed system."""

    def setUp(self):
        super().setUp()
        if not os.path.exists(REFRESHER):
            self.skipTest('no shared recordings at %s' % HMC_DIR)
        objects.register_all()
        self.interactions = (recordings.load_ruby_vcr(REFRESHER) +
                             recordings.load_ruby_vcr(STORAGE))
        app = RecordedNovaLink(SYSTEM_UUID, self.interactions)
        [tier_feed] = recordings.load_pypowervm_capture(TIER_CAPTURE)
        self.ssp = recorded_objects(self.interactions, 'SharedStoragePool',
                                    'SharedStoragePool/')[0]
        app.add_body('%sSharedStoragePool/%s/Tier' % (
            UOM, text(self.ssp, 'AtomID')), tier_feed.response_body)
        server = server_mod.Server(app).start()
        self.addCleanup(server.stop)
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(group='powervm', host=server.host, port=server.port,
                    protocol='http', username='hmc', password='recorded',
                    disk_driver='ssp', connection_retries=1)
        conf.config(host=NODENAME, my_ip='192.0.2.10')
        self.driver = nova_driver.load_compute_driver(
            nova_fake.FakeVirtAPI(), COMPUTE_DRIVER)
        self._prepare_host()

    def _prepare_host(self):
        # init_host's reads; its orphan clean-up would write, which a
        # recording cannot answer.
        adapter = pvm_adapter.connect()
        self.addCleanup(pvm_adapter.disconnect, adapter)
        self.driver.adapter = adapter
        self.driver.host_wrapper = host.get_managed_system(adapter)
        pvm_partition.validate_vios_ready(adapter, 0)
        self.driver.disk_driver = disk.load(adapter,
                                            self.driver.host_wrapper.uuid)

    def recorded(self, kind):
        return recorded_objects(self.interactions, kind,
                                'ManagedSystem/%s' % SYSTEM_UUID)

    def recorded_system(self):
        return self.recorded('ManagedSystem')[0]

    def test_the_managed_system_is_the_recorded_one(self):
        host_w = self.driver.host_wrapper
        system = self.recorded_system()
        self.assertEqual(SYSTEM_UUID, host_w.uuid.lower())
        self.assertEqual(text(system, 'SystemName'), host_w.system_name)
        self.assertEqual('pollux', host_w.system_name)

    def test_available_resource_has_the_recorded_capacity(self):
        system = self.recorded_system()
        units = float(text(system, 'ConfigurableSystemProcessorUnits'))
        free_units = float(text(system,
                                'CurrentAvailableSystemProcessorUnits'))
        memory = int(text(system, 'ConfigurableSystemMemory'))
        free_memory = int(text(system, 'CurrentAvailableSystemMemory'))
        capacity = float(text(self.ssp, 'Capacity'))
        free_space = float(text(self.ssp, 'FreeSpace'))

        resources = self.driver.get_available_resource(NODENAME)

        # A vCPU is [powervm] proc_units_factor processor units.
        self.assertEqual(vcpus(units), resources['vcpus'])
        self.assertEqual(200, resources['vcpus'])
        self.assertEqual(math.ceil(round((units - free_units) /
                                         CONF.powervm.proc_units_factor, 6)),
                         resources['vcpus_used'])
        self.assertEqual(memory, resources['memory_mb'])
        self.assertEqual(262144, resources['memory_mb'])
        self.assertEqual(memory - free_memory, resources['memory_mb_used'])
        self.assertEqual(math.floor(capacity), resources['local_gb'])
        self.assertEqual(math.ceil(capacity - free_space),
                         resources['local_gb_used'])
        self.assertEqual(NODENAME, resources['hypervisor_hostname'])

    def test_provider_tree_gets_the_recorded_inventory(self):
        system = self.recorded_system()
        tree = provider_tree.ProviderTree()
        tree.new_root(NODENAME, '5e1c5a52-8d3b-4b0e-9bd5-0c7e1f0f3c11')
        self.driver.get_available_resource(NODENAME)

        self.driver.update_provider_tree(tree, NODENAME)

        inventory = tree.data(NODENAME).inventory
        self.assertEqual(
            vcpus(float(text(system, 'ConfigurableSystemProcessorUnits'))),
            inventory[orc.VCPU]['total'])
        self.assertEqual(int(text(system, 'ConfigurableSystemMemory')),
                         inventory[orc.MEMORY_MB]['total'])
        self.assertEqual(
            CONF.reserved_host_memory_mb +
            int(text(system, 'MemoryUsedByHypervisor')),
            inventory[orc.MEMORY_MB]['reserved'])
        self.assertEqual(math.floor(float(text(self.ssp, 'Capacity'))),
                         inventory[orc.DISK_GB]['total'])

    def test_list_instances_names_the_recorded_lpars(self):
        names = sorted(text(lpar, 'PartitionName')
                       for lpar in self.recorded('LogicalPartition'))
        self.assertEqual(8, len(names))
        self.assertIn('pollux1', names)
        self.assertEqual(names, sorted(self.driver.list_instances()))

    def test_get_info_reports_each_recorded_state(self):
        nova_states = {'running': power_state.RUNNING,
                       'open firmware': power_state.RUNNING,
                       'not activated': power_state.SHUTDOWN}
        states = set()
        for lpar in self.recorded('LogicalPartition'):
            instance = objects.Instance(
                uuid=text(lpar, 'PartitionUUID').lower())
            state = text(lpar, 'PartitionState')
            states.add(state)
            self.assertEqual(nova_states[state],
                             self.driver.get_info(instance).state,
                             text(lpar, 'PartitionName'))
        self.assertEqual(set(nova_states), states)

    def test_ready_vioses_and_the_cluster_node_are_found(self):
        ready = sorted(
            text(vios, 'PartitionName')
            for vios in self.recorded('VirtualIOServer')
            if text(vios, 'PartitionState') == 'running' and
            text(vios, 'ResourceMonitoringControlState') == 'active')
        self.assertEqual(['polluxios', 'polluxios2'], ready)
        self.assertEqual(ready, sorted(
            vios.name for vios in
            pvm_partition.get_active_vioses(self.driver.adapter)))
        [cluster] = recorded_objects(self.interactions, 'Cluster')
        node_vios = cluster.find('.//{*}Node/{*}Node/{*}VirtualIOServer')
        self.assertEqual(
            [node_vios.get('href').rsplit('/', 1)[1].lower()],
            [uuid.lower() for uuid in self.driver.disk_driver.vios_uuids])

    def test_the_recorded_switches_are_found(self):
        # HMC marks the default switch 'ETHERNET0(Default)'; pypowervm
        # gives its name without the mark.
        switches = {
            text(vswitch, 'SwitchName').replace('(Default)', ''):
                int(text(vswitch, 'SwitchID'))
            for vswitch in self.recorded('VirtualSwitch')}
        self.assertEqual({'ETHERNET0', 'MGMTSWITCH'}, set(switches))
        self.assertEqual(switches,
                         pvm_vif._switch_ids(self.driver.adapter))

    def test_volume_connector_has_the_cabled_fc_ports(self):
        # Ports that can log in report their NPIV ports; the others are
        # down or not cabled.
        wwpns = [text(port, 'WWPN').lower()
                 for vios in self.recorded('VirtualIOServer')
                 if text(vios, 'ResourceMonitoringControlState') == 'active'
                 for port in vios.iterfind('.//{*}PhysicalFibreChannelPort')
                 if int(text(port, 'TotalPorts') or 0) > 0]
        self.assertEqual(2, len(wwpns))

        connector = self.driver.get_volume_connector(None)

        self.assertEqual(sorted(wwpns), sorted(connector['wwpns']))
        self.assertEqual(NODENAME, connector['host'])
        self.assertEqual('192.0.2.10', connector['ip'])
        self.assertFalse(connector['multipath'])
