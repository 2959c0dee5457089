"""VirtualSwitch and ClientNetworkAdapter."""

from powervm_sim.resources import register
from powervm_sim.resources import ResourceType
from powervm_sim.wire.schemas import network as net_schema


def _adapters_of(kind, trunk=None):
    def lister(model, parent):
        adapters = parent.adapters if parent is not None else []
        return [a for a in adapters if a.kind == kind and
                (trunk is None or a.is_trunk == trunk)]
    return lister


register(ResourceType(
    'VirtualSwitch', net_schema.VSWITCH,
    children=lambda model, parent: list(parent.vswitches),
    parents=('ManagedSystem',),
    create=lambda model, parent, f: model.add_vswitch(
        parent, f['name'], mode=f.get('mode', 'Veb'))))
register(ResourceType(
    'ClientNetworkAdapter', net_schema.CNA,
    children=_adapters_of('ClientNetworkAdapter'),
    parents=('LogicalPartition', 'VirtualIOServer'),
    create=lambda model, parent, f: model.create_cna(parent, f),
    update=lambda model, obj, f, groups: model.update_cna(obj, f),
    delete=lambda model, obj: model.remove_adapter(obj)))
