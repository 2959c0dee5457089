"""Cluster, SharedStoragePool, Tier and LogicalUnit.

The pool is served at the root and under its cluster (the form the Cluster
and Tier documents link to); tiers at the root and under their pool; LUs
under their tier only, where clients create and delete them.
"""

from powervm_sim.resources import register
from powervm_sim.resources import ResourceType
from powervm_sim.wire.schemas import ssp as ssp_schema

register(ResourceType(
    'Cluster', ssp_schema.CLUSTER,
    children=lambda model, parent: model.clusters(), root=True,
    search_keys={'ClusterName': 'name'}))
register(ResourceType(
    'SharedStoragePool', ssp_schema.SHARED_STORAGE_POOL,
    children=lambda model, parent: model.shared_storage_pools(parent),
    parents=('Cluster',), root=True,
    update=lambda model, obj, fields, groups:
        model.update_shared_storage_pool(obj, fields),
    search_keys={'StoragePoolName': 'name'}))
register(ResourceType(
    'Tier', ssp_schema.TIER,
    children=lambda model, parent: model.tiers(parent),
    parents=('SharedStoragePool',), root=True))
register(ResourceType(
    'LogicalUnit', ssp_schema.LOGICAL_UNIT,
    children=lambda model, parent: list(parent.logical_units),
    parents=('Tier',),
    create=lambda model, parent, fields: model.create_logical_unit(
        parent, fields),
    update=lambda model, obj, fields, groups: model.update_logical_unit(
        obj, fields),
    delete=lambda model, obj: model.delete_logical_unit(obj)))
