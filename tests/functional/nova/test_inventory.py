"""The placement inventory of each compute node, from its own system."""

import math

from nova import conf as nova_conf

from tests.functional.nova import base

CONF = nova_conf.CONF

# The driver's default allocation ratios (the operator sets none here): a
# VCPU is already a flavor vCPU's processor entitlement, and partition
# memory is never overcommitted.
_DEFAULT_RATIOS = {'VCPU': 1.0, 'MEMORY_MB': 1.0, 'DISK_GB': 1.0}
_MB_PER_GB = 1024


class TestInventory(base.PowerVMTestCase):

    SYSTEMS = 2

    def _instance_volume_group(self, system):
        """The volume group instance disks go to: the first other than
        rootvg."""
        return next(volume_group
                    for vios in self.sim.model.vioses(system)
                    for volume_group in vios.volume_groups
                    if volume_group.name != 'rootvg')

    def _expected_inventory(self, system):
        totals = {
            'VCPU': math.floor(system.proc_units_configurable /
                               CONF.powervm.proc_units_factor + 1e-6),
            'MEMORY_MB': system.memory_configurable,
            'DISK_GB': math.floor(
                self._instance_volume_group(system).capacity_gb),
        }
        reserved = {
            'VCPU': CONF.reserved_host_cpus,
            # No instance can have the hypervisor's own memory either.
            'MEMORY_MB': (CONF.reserved_host_memory_mb +
                          system.memory_used_by_firmware),
            'DISK_GB': math.ceil(CONF.reserved_host_disk_mb / _MB_PER_GB),
        }
        return {rc: {'total': total, 'reserved': reserved[rc],
                     'min_unit': 1, 'max_unit': total, 'step_size': 1,
                     'allocation_ratio': _DEFAULT_RATIOS[rc]}
                for rc, total in totals.items()}

    def _inventory_of(self, hostname):
        return self._get_provider_inventory(
            self._get_provider_uuid_by_host(hostname))

    def test_each_node_reports_its_own_systems_capacity(self):
        small = self.sim.model.systems[1]
        small.memory_installed = small.memory_configurable = 131072
        small.proc_units_installed = small.proc_units_configurable = 12.5
        self.sim.model.registry.changed(small)
        self.start_powervm_compute('host1', index=0)
        self.start_powervm_compute('host2', index=1)

        for hostname in ('host1', 'host2'):
            self.assertEqual(
                self._expected_inventory(self.system_of(hostname)),
                self._inventory_of(hostname))
        # 12.5 processor units at 0.1 units a vCPU.
        self.assertEqual(125, self._inventory_of('host2')['VCPU']['total'])
