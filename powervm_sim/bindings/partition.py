"""LogicalPartition and VirtualIOServer."""

from powervm_sim.resources import register
from powervm_sim.resources import ResourceType
from powervm_sim.wire.schemas import partition as part_schema

_PARTITION_SEARCH = {'PartitionName': 'name', 'PartitionID': 'partition_id'}
_PARTITION_QUICK = {
    'PartitionState': 'state', 'PartitionID': 'partition_id',
    'PartitionName': 'name', 'PartitionType': 'partition_type',
    'PartitionUUID': 'partition_uuid', 'IsManagementPartition': 'is_mgmt',
    'ResourceMonitoringControlState': 'rmc_state',
    'CurrentMemory': 'current_mem', 'CurrentProcessingUnits':
        'current_proc_units', 'ReferenceCode': 'ref_code',
    'OperatingSystemVersion': 'os_version', 'Uptime': 'uptime',
    'AssociatedManagedSystem': 'system_href',
}


def _partitions_of(model, parent, kind):
    if parent is None:
        return model.registry.of_kind(kind)
    return [p for p in parent.served_partitions if p.kind == kind]


# Sections of the VIOS document that a group-scoped POST replaces, by xag
# group name: group -> planner.  The family bindings (mappings, network,
# storage) register theirs.
VIOS_SECTIONS = {}


def vios_section(group):
    """Register ``func(model, vios, fields, shared)`` as the planner of
    ``group``.

    It validates the section of the posted VIOS (``fields``) and changes
    nothing: it raises if the section is refused, or returns a function
    that makes the change (None: nothing to change).  ``shared`` is a dict
    the sections of one POST share (the mapping sections reserve the slots
    of new adapters there, so two sections never promise the same slot).
    """
    def register(func):
        VIOS_SECTIONS[group] = func
        return func
    return register


def _update_vios(model, vios, fields, groups):
    # NovaLink replaces only the sections of the groups named in the POST
    # (all of them without a group), all of them or none: every section
    # is validated, and the partition's own fields applied (they restore
    # themselves when refused), before any section changes.
    with model.registry.lock:
        shared = {}
        changes = [plan(model, vios, fields, shared)
                   for group, plan in VIOS_SECTIONS.items()
                   if groups is None or group in groups]
        model.update_partition(vios, fields)
        for change in changes:
            if change is not None:
                change()


def _create_lpar(model, parent, fields):
    system = parent if parent is not None else model.systems[0]
    return model.create_lpar(system, fields)


register(ResourceType(
    'LogicalPartition', part_schema.LPAR,
    children=lambda model, parent: _partitions_of(
        model, parent, 'LogicalPartition'),
    parents=('ManagedSystem',), root=True, create=_create_lpar,
    update=lambda model, obj, fields, groups: model.update_partition(
        obj, fields),
    delete=lambda model, obj: model.delete_partition(obj),
    search_keys=_PARTITION_SEARCH, quick=_PARTITION_QUICK))
register(ResourceType(
    'VirtualIOServer', part_schema.VIOS,
    children=lambda model, parent: _partitions_of(
        model, parent, 'VirtualIOServer'),
    parents=('ManagedSystem',), root=True, update=_update_vios,
    search_keys=_PARTITION_SEARCH, quick=_PARTITION_QUICK))
