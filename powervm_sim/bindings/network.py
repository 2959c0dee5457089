"""VirtualSwitch, VirtualNetwork, ClientNetworkAdapter (trunk adapters
included) and NetworkBridge.

The VIOS's network sections (SharedEthernetAdapters, TrunkAdapters) are
read-only: pypowervm reads the ViosNetwork group but never posts it,
changing SEAs through the NetworkBridge instead, so no ViosNetwork section
updater is registered.
"""

from powervm_sim.resources import register
from powervm_sim.resources import ResourceType
from powervm_sim.wire.schemas import network as net_schema


def _cnas_of(model, parent):
    return model.cnas(parent) if parent is not None else []


register(ResourceType(
    'VirtualSwitch', net_schema.VSWITCH,
    children=lambda model, parent: list(parent.vswitches),
    parents=('ManagedSystem',),
    create=lambda model, parent, f: model.create_vswitch(parent, f)))
register(ResourceType(
    'VirtualNetwork', net_schema.VIRTUAL_NETWORK,
    children=lambda model, parent: model.virtual_networks(parent),
    parents=('ManagedSystem',),
    create=lambda model, parent, f: model.create_virtual_network(parent, f),
    delete=lambda model, obj: model.delete_virtual_network(obj)))
register(ResourceType(
    'ClientNetworkAdapter', net_schema.CNA,
    children=_cnas_of,
    parents=('LogicalPartition', 'VirtualIOServer'),
    create=lambda model, parent, f: model.create_cna(parent, f),
    update=lambda model, obj, f, groups: model.update_cna(obj, f),
    delete=lambda model, obj: model.delete_cna(obj)))
register(ResourceType(
    'NetworkBridge', net_schema.NETWORK_BRIDGE,
    children=lambda model, parent: model.network_bridges(parent),
    parents=('ManagedSystem',),
    update=lambda model, obj, f, groups: model.update_network_bridge(
        obj, f)))
