"""Shared storage pools: Cluster, SharedStoragePool, Tier, LogicalUnit."""


class SSPOps:
    """SSP behaviour of the model (mixed into ``Model``)."""
