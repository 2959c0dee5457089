"""Host resource and placement inventory arithmetic."""

from nova import conf as nova_conf
from oslo_config import fixture as config_fixture
import testtools

from nova_powervm import host

VCPU, MEMORY_MB, DISK_GB = 'VCPU', 'MEMORY_MB', 'DISK_GB'


def _resources(**overrides):
    values = {'proc_units': 20.0, 'proc_units_avail': 17.55,
              'proc_units_factor': 0.1,
              'memory_mb': 262144, 'memory_free_mb': 235520,
              'firmware_memory_mb': 4096, 'disk_total_gb': 1024.7,
              'disk_used_gb': 20.2}
    values.update(overrides)
    return host.compute_resources(**values)


class TestResources(testtools.TestCase):

    def test_a_vcpu_is_proc_units_factor_processor_units(self):
        resources = _resources(proc_units=15.5, proc_units_avail=15.0)
        self.assertEqual(155, resources.vcpus)
        self.assertEqual(5, resources.vcpus_used)
        resources = _resources(proc_units=15.5, proc_units_avail=15.0,
                               proc_units_factor=0.5)
        self.assertEqual(31, resources.vcpus)
        self.assertEqual(1, resources.vcpus_used)

    def test_part_of_a_vcpu_left_over_is_not_a_vcpu(self):
        resources = _resources(proc_units=15.5, proc_units_factor=0.2)
        self.assertEqual(77, resources.vcpus)

    def test_used_processor_units_round_up_to_whole_vcpus(self):
        # 2.45 units in use: 24.5 vCPUs' worth, so 25 are taken.
        self.assertEqual(25, _resources().vcpus_used)
        # Float noise must neither add nor drop a vCPU (0.3 / 0.1 is
        # 2.9999999999999996; 20.0 - 17.9 is 2.1000000000000014).
        self.assertEqual(3, _resources(proc_units=0.3, proc_units_avail=0,
                                       ).vcpus_used)
        self.assertEqual(21, _resources(proc_units_avail=17.9).vcpus_used)
        self.assertEqual(3, _resources(proc_units=0.3).vcpus)

    def test_memory(self):
        resources = _resources()
        self.assertEqual(262144, resources.memory_mb)
        self.assertEqual(262144 - 235520, resources.memory_mb_used)
        self.assertEqual(4096, resources.firmware_memory_mb)

    def test_disk_in_whole_gb(self):
        resources = _resources()
        self.assertEqual(1024, resources.local_gb)
        self.assertEqual(21, resources.local_gb_used)

    def test_available_resource_dict(self):
        data = host.available_resource(_resources(), 'node1')
        self.assertEqual(200, data['vcpus'])
        self.assertEqual(262144, data['memory_mb'])
        self.assertEqual(1024 - 21, data['disk_available_least'])
        self.assertEqual('phyp', data['hypervisor_type'])
        self.assertEqual('node1', data['hypervisor_hostname'])
        self.assertEqual({('ppc64', 'phyp', 'hvm'),
                          ('ppc64le', 'phyp', 'hvm')},
                         set(data['supported_instances']))
        self.assertIsInstance(data['hypervisor_version'], int)


class TestInventory(testtools.TestCase):

    _RATIOS = {VCPU: 2.0, MEMORY_MB: 1.5, DISK_GB: 1.0}

    def test_inventory(self):
        inv = host.inventory(_resources(), self._RATIOS, reserved_cpus=1,
                             reserved_memory_mb=512, reserved_disk_gb=2)
        self.assertEqual({'total': 200, 'reserved': 1, 'min_unit': 1,
                          'max_unit': 200, 'step_size': 1,
                          'allocation_ratio': 2.0}, inv[VCPU])
        # The operator's reservation plus the hypervisor's own memory.
        self.assertEqual(512 + 4096, inv[MEMORY_MB]['reserved'])
        self.assertEqual(262144, inv[MEMORY_MB]['total'])
        self.assertEqual(1.5, inv[MEMORY_MB]['allocation_ratio'])
        self.assertEqual({'total': 1024, 'reserved': 2, 'min_unit': 1,
                          'max_unit': 1024, 'step_size': 1,
                          'allocation_ratio': 1.0}, inv[DISK_GB])

    def test_no_disk_space_means_no_disk_inventory(self):
        inv = host.inventory(_resources(disk_total_gb=0.5, disk_used_gb=0),
                             self._RATIOS, 0, 0, 0)
        self.assertEqual({VCPU, MEMORY_MB}, set(inv))


class TestAllocationRatios(testtools.TestCase):

    def test_defaults_hand_out_no_more_than_the_host_has(self):
        # A VCPU is already proc_units_factor of a processor, and a
        # partition's memory is its own: nothing to overcommit by default.
        self.assertEqual({VCPU: 1.0, MEMORY_MB: 1.0, DISK_GB: 1.0},
                         host.allocation_ratios({}, {}, {}))

    def test_precedence(self):
        configured = {VCPU: 4.0, MEMORY_MB: None, DISK_GB: None}
        initial = {MEMORY_MB: 1.1, DISK_GB: 2.0}
        existing = {DISK_GB: {'allocation_ratio': 3.0},
                    VCPU: {'allocation_ratio': 8.0}}
        self.assertEqual(
            # Configured beats placement; placement beats initial.
            {VCPU: 4.0, MEMORY_MB: 1.1, DISK_GB: 3.0},
            host.allocation_ratios(configured, initial, existing))


class TestConfiguredRatios(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(nova_conf.CONF))

    def test_nothing_set(self):
        configured, initial = host.configured_ratios(nova_conf.CONF)
        self.assertEqual({VCPU: None, MEMORY_MB: None, DISK_GB: None},
                         configured)
        self.assertEqual({}, initial)

    def test_operator_settings(self):
        self.conf.config(ram_allocation_ratio=1.0,
                         initial_cpu_allocation_ratio=8.0)
        configured, initial = host.configured_ratios(nova_conf.CONF)
        self.assertEqual(1.0, configured[MEMORY_MB])
        self.assertEqual({VCPU: 8.0}, initial)
