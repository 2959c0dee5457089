"""VolumeGroup: a child of VirtualIOServer, updated as desired state."""

from powervm_sim.resources import register
from powervm_sim.resources import ResourceType
from powervm_sim.wire.schemas import storage as storage_schema

register(ResourceType(
    'VolumeGroup', storage_schema.VOLUME_GROUP,
    children=lambda model, parent: model.volume_groups(parent),
    parents=('VirtualIOServer',),
    update=lambda model, obj, fields, groups: model.update_volume_group(
        obj, fields)))
