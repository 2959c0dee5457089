"""The managed system as nova sees it: resources, placement inventory.

The arithmetic is in functions of plain numbers; reading NovaLink is kept
to ``read_resources`` (one ManagedSystem GET plus one read of the disk
driver's storage), so the periodic resource update costs the same however
many instances the host runs.
"""

import dataclasses
import math

from nova.conf import compute as nova_compute_conf
from nova.objects import fields as obj_fields
import os_resource_classes as orc
from oslo_concurrency import processutils
from oslo_serialization import jsonutils
from pypowervm.wrappers import managed_system as pvm_ms

from nova_powervm import exception as pvm_nova_exc

# The hypervisor generation the earlier PowerVM drivers reported.
HYPERVISOR_VERSION = 8
SUPPORTED_INSTANCES = [
    (obj_fields.Architecture.PPC64, obj_fields.HVType.PHYP,
     obj_fields.VMMode.HVM),
    (obj_fields.Architecture.PPC64LE, obj_fields.HVType.PHYP,
     obj_fields.VMMode.HVM),
]
CPU_INFO = jsonutils.dumps({'vendor': 'ibm', 'arch': 'ppc64'})

# Used unless the operator sets [DEFAULT] *_allocation_ratio or
# initial_*_allocation_ratio.  A VCPU of the inventory is already the
# processor entitlement a flavor's vCPU gets (proc_units_factor), and a
# partition's memory is its own (PowerVM does not page it out): placement
# hands out what the system has, so a scheduled spawn is one that fits.
DEFAULT_ALLOCATION_RATIOS = {
    orc.VCPU: 1.0,
    orc.MEMORY_MB: 1.0,
    orc.DISK_GB: 1.0,
}
# Float noise in processor units (0.3 / 0.1 == 2.9999999999999996) must not
# cost or add a vCPU.
_VCPU_EPSILON = 1e-6
_NOVA_RATIO_DEFAULTS = {opt.dest: opt.default
                        for opt in nova_compute_conf.allocation_ratio_opts}
# Resource class -> the middle of nova's option names for its ratios.
_RATIO_OPTION = {orc.VCPU: 'cpu', orc.MEMORY_MB: 'ram', orc.DISK_GB: 'disk'}


@dataclasses.dataclass(frozen=True)
class HostResources:
    """What the host has and uses, in nova's units."""

    vcpus: int
    vcpus_used: int
    memory_mb: int
    memory_mb_used: int
    firmware_memory_mb: int
    local_gb: int
    local_gb_used: int


def get_managed_system(adapter):
    """The ManagedSystem wrapper of the one system NovaLink manages.

    :raises NotOneManagedSystem: NovaLink reports none or several.
    """
    systems = pvm_ms.System.get(adapter)
    if len(systems) != 1:
        raise pvm_nova_exc.NotOneManagedSystem(
            endpoint=adapter.session.dest, count=len(systems))
    return systems[0]


def compute_resources(proc_units, proc_units_avail, proc_units_factor,
                      memory_mb, memory_free_mb, firmware_memory_mb,
                      disk_total_gb, disk_used_gb):
    """HostResources from the system's numbers (no I/O).

    A vCPU of nova's inventory is what a flavor's vCPU is given:
    ``proc_units_factor`` processor units ([powervm] proc_units_factor),
    so the system's processor units make units / factor vCPUs.
    """
    return HostResources(
        vcpus=math.floor(proc_units / proc_units_factor + _VCPU_EPSILON),
        vcpus_used=math.ceil(
            (proc_units - proc_units_avail) / proc_units_factor
            - _VCPU_EPSILON),
        memory_mb=memory_mb,
        memory_mb_used=memory_mb - memory_free_mb,
        firmware_memory_mb=firmware_memory_mb,
        local_gb=math.floor(disk_total_gb),
        local_gb_used=math.ceil(disk_used_gb))


def read_resources(host_w, disk_driver, proc_units_factor):
    """HostResources of the system in ``host_w`` (a ManagedSystem wrapper
    the caller keeps fresh) and of the disk driver's storage (one GET).

    The storage is the volume group or the whole shared storage pool: as
    with the earlier PowerVM drivers, every host of an SSP cluster reports
    the pool as its DISK_GB.
    """
    capacity = disk_driver.capacity()
    return compute_resources(
        proc_units=host_w.proc_units_configurable,
        proc_units_avail=host_w.proc_units_avail,
        proc_units_factor=proc_units_factor,
        memory_mb=host_w.memory_configurable,
        memory_free_mb=host_w.memory_free,
        firmware_memory_mb=host_w.firmware_memory,
        disk_total_gb=capacity.total_gb,
        disk_used_gb=capacity.used_gb)


def available_resource(resources, nodename):
    """The dict ``ComputeDriver.get_available_resource`` returns."""
    return {
        'vcpus': resources.vcpus,
        'vcpus_used': resources.vcpus_used,
        'memory_mb': resources.memory_mb,
        'memory_mb_used': resources.memory_mb_used,
        'local_gb': resources.local_gb,
        'local_gb_used': resources.local_gb_used,
        'disk_available_least': resources.local_gb - resources.local_gb_used,
        'hypervisor_type': obj_fields.HVType.PHYP,
        'hypervisor_version': HYPERVISOR_VERSION,
        'hypervisor_hostname': nodename,
        'cpu_info': CPU_INFO,
        'numa_topology': None,
        'supported_instances': SUPPORTED_INSTANCES,
    }


def allocation_ratios(configured, initial, existing):
    """The allocation ratio of each resource class.

    In nova's order of precedence: ``[DEFAULT] *_allocation_ratio`` when
    set; else the ratio already in placement (an operator may have changed
    it there); else ``initial_*_allocation_ratio`` when the operator set
    it; else DEFAULT_ALLOCATION_RATIOS.

    :param configured: resource class -> *_allocation_ratio (None: unset).
    :param initial: resource class -> initial_*_allocation_ratio the
                    operator set (None: left at nova's default).
    :param existing: the provider's current inventory.
    """
    ratios = {}
    for rc, default in DEFAULT_ALLOCATION_RATIOS.items():
        if configured.get(rc):
            ratios[rc] = configured[rc]
        elif rc in existing:
            ratios[rc] = existing[rc]['allocation_ratio']
        elif initial.get(rc) is not None:
            ratios[rc] = initial[rc]
        else:
            ratios[rc] = default
    return ratios


def configured_ratios(conf):
    """(configured, initial) ratio maps for allocation_ratios from conf."""
    configured, initial = {}, {}
    for rc, option in _RATIO_OPTION.items():
        configured[rc] = getattr(conf, '%s_allocation_ratio' % option)
        initial_name = 'initial_%s_allocation_ratio' % option
        if _set_by_operator(conf, initial_name):
            initial[rc] = getattr(conf, initial_name)
    return configured, initial


def _set_by_operator(conf, name):
    """Whether the operator chose a value for nova's option ``name``.

    Read from a file, the command line or the environment, or anything
    but nova's default.  (oslo.config keeps reporting an override's
    location after the override is cleared, so the location alone is not
    enough.)
    """
    location = conf.get_location(name)
    if location is not None and location.location.is_user_controlled:
        return True
    return getattr(conf, name) != _NOVA_RATIO_DEFAULTS[name]


def _inventory_record(total, reserved, ratio):
    return {
        'total': total,
        'reserved': reserved,
        'min_unit': 1,
        'max_unit': total,
        'step_size': 1,
        'allocation_ratio': ratio,
    }


def inventory(resources, ratios, reserved_cpus, reserved_memory_mb,
              reserved_disk_gb):
    """The compute node's placement inventory.

    The hypervisor's own memory is reserved on top of the operator's
    ``reserved_host_memory_mb``: no instance can ever have it.  DISK_GB is
    left out when there is no space at all.
    """
    inv = {
        orc.VCPU: _inventory_record(
            resources.vcpus, reserved_cpus, ratios[orc.VCPU]),
        orc.MEMORY_MB: _inventory_record(
            resources.memory_mb,
            reserved_memory_mb + resources.firmware_memory_mb,
            ratios[orc.MEMORY_MB]),
    }
    if resources.local_gb >= 1:
        inv[orc.DISK_GB] = _inventory_record(
            resources.local_gb, reserved_disk_gb, ratios[orc.DISK_GB])
    return inv


def uptime():
    """The ``uptime`` line of the host nova-compute runs on (NovaLink)."""
    out, _err = processutils.execute('env', 'LANG=C', 'uptime')
    return out
