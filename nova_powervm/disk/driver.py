"""What every disk driver (where instance boot disks live) provides."""

import abc
import typing


class DiskCapacity(typing.NamedTuple):
    """Space for instance disks, in GB."""

    total_gb: float
    used_gb: float


class DiskAdapter(abc.ABC):
    """Storage for instance boot disks on one managed system.

    :param adapter: the pypowervm Adapter.
    :param host_uuid: UUID of the managed system.
    """

    # Storage that other hosts see as well (a shared storage pool) is
    # placement inventory of its own, shared, resource provider, which its
    # driver reports; only a host's own storage is DISK_GB of the compute
    # node.
    shared_storage = False

    def __init__(self, adapter, host_uuid):
        self.adapter = adapter
        self.host_uuid = host_uuid

    @abc.abstractmethod
    def capacity(self):
        """A DiskCapacity read from NovaLink now (one REST call)."""
