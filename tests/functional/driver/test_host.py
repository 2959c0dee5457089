"""init_host, inventory and instance listing against the simulator."""

import math

from nova.compute import provider_tree
from oslo_utils import uuidutils

from nova_powervm import vm
from powervm_sim import faults
from tests.functional.driver import fixtures

NODE = fixtures.HOST


class RequestCounter:
    """Counts the driver's REST requests (not the event long-polls)."""

    def __init__(self, sim):
        self._faults = sim.faults
        self._rule_id = sim.faults.add(faults.FaultRule(
            outcome=faults.DelayOnly(), path=r'^/rest/api/uom/(?!Event)'))

    def __call__(self):
        return self._faults.counters()['by_rule'][self._rule_id]


class TestInitHost(fixtures.DriverTestCase):

    def test_init_host_finds_the_system_and_the_volume_group(self):
        self.assertEqual(self.system.uuid, self.driver.host_wrapper.uuid)
        vios, volume_group = self._datavg()
        self.assertEqual(vios.uuid, self.driver.disk_driver.vios_uuid)
        self.assertEqual(volume_group.uuid, self.driver.disk_driver.vg_uuid)

    def _datavg(self):
        """The simulator's first volume group other than rootvg."""
        return next((vios, volume_group)
                    for vios in self.sim.model.vioses(self.system)
                    for volume_group in vios.volume_groups
                    if volume_group.name != 'rootvg')

    def test_available_resource_is_the_systems_capacity(self):
        resources = self.driver.get_available_resource(NODE)
        system = self.system
        # A vCPU is proc_units_factor (0.1 by default) processor units.
        self.assertEqual(round(system.proc_units_configurable * 10),
                         resources['vcpus'])
        self.assertEqual(system.memory_configurable, resources['memory_mb'])
        self.assertEqual(system.memory_configurable -
                         system.memory_available,
                         resources['memory_mb_used'])
        _vios, volume_group = self._datavg()
        self.assertEqual(math.floor(volume_group.capacity_gb),
                         resources['local_gb'])
        self.assertEqual(math.ceil(volume_group.used_gb),
                         resources['local_gb_used'])
        self.assertEqual('phyp', resources['hypervisor_type'])
        self.assertEqual(NODE, resources['hypervisor_hostname'])

    def test_used_resources_follow_the_lpars(self):
        before = self.driver.get_available_resource(NODE)
        self.spawn(self.make_instance(memory_mb=4096, vcpus=10))
        self.sim_system_changed()
        after = self.driver.get_available_resource(NODE)
        self.assertEqual(before['memory_mb_used'] + 4096,
                         after['memory_mb_used'])
        # Ten vCPUs at proc_units_factor 0.1: ten vCPUs' processor units.
        self.assertEqual(before['vcpus_used'] + 10, after['vcpus_used'])

    def test_provider_tree_inventory(self):
        tree = provider_tree.ProviderTree()
        tree.new_root(NODE, uuidutils.generate_uuid())
        self.driver.get_available_resource(NODE)
        self.driver.update_provider_tree(tree, NODE)
        inventory = tree.data(NODE).inventory
        system = self.system
        _vios, volume_group = self._datavg()
        self.assertEqual(round(system.proc_units_configurable * 10),
                         inventory['VCPU']['total'])
        self.assertEqual(1.0, inventory['VCPU']['allocation_ratio'])
        self.assertEqual(system.memory_configurable,
                         inventory['MEMORY_MB']['total'])
        # nova's reserved_host_memory_mb (512 by default) plus the
        # hypervisor's own memory.
        self.assertEqual(512 + system.memory_used_by_firmware,
                         inventory['MEMORY_MB']['reserved'])
        self.assertEqual(1.0, inventory['MEMORY_MB']['allocation_ratio'])
        self.assertEqual(math.floor(volume_group.capacity_gb),
                         inventory['DISK_GB']['total'])
        self.assertEqual(1.0, inventory['DISK_GB']['allocation_ratio'])

    def test_configured_allocation_ratios_win(self):
        self.flags(cpu_allocation_ratio=2.0, initial_ram_allocation_ratio=1.2)
        tree = provider_tree.ProviderTree()
        tree.new_root(NODE, uuidutils.generate_uuid())
        self.driver.update_provider_tree(tree, NODE)
        inventory = tree.data(NODE).inventory
        self.assertEqual(2.0, inventory['VCPU']['allocation_ratio'])
        self.assertEqual(1.2, inventory['MEMORY_MB']['allocation_ratio'])

    def test_periodic_update_costs_the_same_for_many_lpars(self):
        requests = RequestCounter(self.sim)

        def cost():
            before = requests()
            self.driver.get_available_resource(NODE)
            tree = provider_tree.ProviderTree()
            tree.new_root(NODE, uuidutils.generate_uuid())
            self.driver.update_provider_tree(tree, NODE)
            self.driver.list_instances()
            return requests() - before

        empty = cost()
        for _ in range(4):
            self.spawn(self.make_instance(), power_on=False)
        self.assertEqual(empty, cost())
        # The ManagedSystem, the volume group and the LPAR feed.
        self.assertEqual(3, empty)

    def test_host_facts(self):
        self.flags(my_ip='192.0.2.10')
        self.assertEqual('192.0.2.10', self.driver.get_host_ip_addr())
        self.assertEqual([NODE], self.driver.get_available_nodes())
        self.assertIn('load average', self.driver.get_host_uptime())


class TestListInstances(fixtures.DriverTestCase):

    # LPARs nova did not create.
    SIM_LPARS = 2

    def test_list_instances_and_uuids(self):
        # Both halves of the UUID space: PowerVM UUIDs clear the top bit
        # of the first byte, so 'c...' and '4...' become the same kind.
        instances = [
            self.make_instance(uuid='%s1d2e3f4-0000-4000-8000-%012d' % (
                first, n)) for n, first in enumerate('c4e0')]
        for instance in instances:
            self.spawn(instance, power_on=False)
        names = self.driver.list_instances()
        self.assertEqual(
            sorted(lpar.name for lpar in self.client_lpars()), sorted(names))
        self.assertEqual(6, len(names))
        self.assertNotIn('novalink_%s' % self.system.serial, names)
        self.assertEqual(sorted(instance.uuid for instance in instances),
                         sorted(self.driver.list_instance_uuids()))

    def test_list_instance_uuids_is_one_feed_read(self):
        for _ in range(3):
            self.spawn(self.make_instance(), power_on=False)
        requests = RequestCounter(self.sim)
        self.assertEqual(3, len(self.driver.list_instance_uuids()))
        self.assertEqual(1, requests())

    def test_an_instance_uuid_maps_back_to_its_lpar(self):
        instance = self.make_instance(
            uuid='f0000000-0000-4000-8000-000000000001')
        self.spawn(instance, power_on=False)
        self.assertEqual('70000000-0000-4000-8000-000000000001',
                         vm.get_pvm_uuid(instance).lower())
        self.assertEqual([instance.uuid], self.driver.list_instance_uuids())
