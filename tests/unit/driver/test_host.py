"""Host resource and placement inventory arithmetic."""

from nova import conf as nova_conf
from oslo_config import fixture as config_fixture
import testtools

from nova_powervm import host

VCPU, MEMORY_MB, DISK_GB = 'VCPU', 'MEMORY_MB', 'DISK_GB'


def _resources(**overrides):
    values = {'proc_units': 20.0, 'proc_units_avail': 17.55,
              'memory_mb': 262144, 'memory_free_mb': 235520,
              'firmware_memory_mb': 4096, 'disk_total_gb': 1024.7,
              'disk_used_gb': 20.2}
    values.update(overrides)
    return host.compute_resources(**values)


class TestResources(testtools.TestCase):

    def test_host_vcpus_are_whole_processor_units(self):
        resources = _resources(proc_units=15.5, proc_units_avail=15.0)
        self.assertEqual(16, resources.vcpus)
        self.assertEqual(1, resources.vcpus_used)

    def test_used_processor_units_round_up(self):
        # 2.45 units in use: three processors' worth are taken.
        self.assertEqual(3, _resources().vcpus_used)
        # Float noise must not add a processor (20.0 - 18.0 == 2.0).
        self.assertEqual(2, _resources(proc_units_avail=18.0).vcpus_used)

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
        self.assertEqual(20, data['vcpus'])
        self.assertEqual(262144, data['memory_mb'])
        self.assertEqual(1024 - 21, data['disk_available_least'])
        self.assertEqual('phyp', data['hypervisor_type'])
        self.assertEqual('node1', data['hypervisor_hostname'])
        self.assertEqual({('ppc64', 'phyp', 'hvm'),
                          ('ppc64le', 'phyp', 'hvm')},
                         set(data['supported_instances']))
        self.assertIsInstance(data['hypervisor_version'], int)


class TestInventory(testtools.TestCase):

    _RATIOS = {VCPU: 16.0, MEMORY_MB: 1.5, DISK_GB: 1.0}

    def test_inventory(self):
        inv = host.inventory(_resources(), self._RATIOS, reserved_cpus=1,
                             reserved_memory_mb=512, reserved_disk_gb=2)
        self.assertEqual({'total': 20, 'reserved': 1, 'min_unit': 1,
                          'max_unit': 20, 'step_size': 1,
                          'allocation_ratio': 16.0}, inv[VCPU])
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

    def test_earlier_drivers_defaults(self):
        self.assertEqual({VCPU: 16.0, MEMORY_MB: 1.5, DISK_GB: 1.0},
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
