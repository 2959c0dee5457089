"""The simulator's state: plain Python objects, no XML.

``Model`` gathers one mixin per resource family; each family module holds
its object classes and the operations on them.
"""

import itertools

from powervm_sim.model import console
from powervm_sim.model import mapping
from powervm_sim.model import mobility
from powervm_sim.model import network
from powervm_sim.model import partition
from powervm_sim.model import registry
from powervm_sim.model import san as san_mod
from powervm_sim.model import ssp
from powervm_sim.model import storage
from powervm_sim.model import system as system_mod

Conflict = registry.Conflict
NotFound = registry.NotFound


class Model(partition.PartitionOps, network.NetworkOps, storage.StorageOps,
            ssp.SSPOps, mapping.MappingOps, san_mod.SanOps,
            mobility.MobilityOps, console.ConsoleOps):
    """Every managed system the simulator serves, and their contents."""

    def __init__(self):
        self.registry = registry.Registry()
        self.systems = []
        self._macs = itertools.count(0x1A2B3C000001)
        # The storage network every managed system's VIOSes reach.
        self.san = san_mod.SAN()
        # Registry listeners are not state: a loaded model needs them too.
        self.watch_client_adapters()

    def add_system(self, **fields):
        with self.registry.lock:
            system = system_mod.ManagedSystem(**fields)
            self.systems.append(system)
            self.registry.add(system)
            self.add_console(system)
            return system

    def add_partition(self, system, cls, **fields):
        """Place a partition the simulator starts with (no capacity check
        beyond the system's own)."""
        with self.registry.lock:
            part = cls(parent=system, **fields)
            if not part.partition_id:
                part.partition_id = system.next_partition_id()
            system.partitions.append(part)
            return self.registry.add(part)

    def system(self, uuid):
        return self.registry.get(uuid, system_mod.ManagedSystem.kind)

    def get(self, uuid, kind=None, within=None):
        return self.registry.get(uuid, kind, within)
