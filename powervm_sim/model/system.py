"""Managed systems: the POWER servers, their capacity and capabilities."""

import dataclasses
import typing

from powervm_sim.model import registry

# Memory the hypervisor keeps for itself on a fresh system, in MB.
FIRMWARE_MEMORY_MB = 4096


@dataclasses.dataclass(kw_only=True, eq=False)
class ManagedSystem(registry.Resource):
    kind: typing.ClassVar[str] = 'ManagedSystem'
    embedded_kinds: typing.ClassVar[frozenset] = frozenset()

    name: str
    machine_type: str = '9009'
    model: str = '42A'
    serial: str = '21EE2DV'
    state: str = 'operating'
    primary_ip: str = '127.0.0.1'
    memory_installed: int = 262144
    memory_configurable: int = 262144
    memory_region_size: int = 256
    proc_units_installed: float = 20.0
    proc_units_configurable: float = 20.0
    max_partitions: int = 1000
    max_procs_per_partition: int = 64
    max_vcpus_per_partition: int = 128
    min_proc_units_per_cpu: float = 0.05
    proc_compat_modes: tuple = (
        'default', 'POWER7', 'POWER8', 'POWER9_Base', 'POWER9')
    active_lpm_capable: bool = True
    inactive_lpm_capable: bool = True
    ibmi_capable: bool = True
    srr_capable: bool = True
    max_active_migrations: int = 16
    max_inactive_migrations: int = 16
    firmware_level: str = 'FW950.80 (56)'
    # Filled by the model as partitions come and go.
    partitions: list = dataclasses.field(default_factory=list, repr=False)
    vswitches: list = dataclasses.field(default_factory=list, repr=False)

    # ------------------------------------------------------------ capacity
    @property
    def memory_used_by_firmware(self):
        return FIRMWARE_MEMORY_MB

    @property
    def memory_assigned(self):
        return sum(p.mem_desired for p in self.partitions)

    @property
    def memory_available(self):
        return (self.memory_configurable - self.memory_used_by_firmware -
                self.memory_assigned)

    @property
    def proc_units_assigned(self):
        return round(sum(p.proc_units for p in self.partitions), 2)

    @property
    def proc_units_available(self):
        return round(self.proc_units_configurable -
                     self.proc_units_assigned, 2)

    @property
    def mtms(self):
        return '%s-%s*%s' % (self.machine_type, self.model, self.serial)

    @property
    def active_migrations(self):
        return sum(1 for p in self.partitions
                   if p.state == 'migrating running')

    available_wwpns: int = 65000
    wwpn_prefix: str = 'C05076'

    @property
    def lpar_hrefs(self):
        return [p.href for p in self.partitions if not p.is_vios]

    @property
    def vswitch_hrefs(self):
        return [v.href for v in self.vswitches]

    @property
    def vios_hrefs(self):
        return [p.href for p in self.partitions if p.is_vios]

    def partition_ids_in_use(self):
        return {p.partition_id for p in self.partitions}

    def next_partition_id(self):
        used = self.partition_ids_in_use()
        for candidate in range(1, self.max_partitions + 1):
            if candidate not in used:
                return candidate
        raise registry.Conflict(
            'The managed system has no free partition ID.',
            code='HSCL1562')

    def check_capacity(self, mem_mb, proc_units, replacing=None):
        """Raise a NovaLink-style Conflict when resources are short."""
        mem_free = self.memory_available
        units_free = self.proc_units_available
        if replacing is not None:
            mem_free += replacing.mem_desired
            units_free += replacing.proc_units
        if mem_mb > mem_free:
            raise registry.Conflict(
                'There is not enough memory available on the managed system: '
                '%d MB requested, %d MB available.' % (mem_mb, mem_free),
                code='HSCL1544', status=400)
        if proc_units > units_free + 1e-9:
            raise registry.Conflict(
                'There are not enough processing units available on the '
                'managed system: %.2f requested, %.2f available.' % (
                    proc_units, units_free),
                code='HSCL1545', status=400)
