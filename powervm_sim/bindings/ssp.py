"""Cluster, SharedStoragePool, Tier and LogicalUnit."""
