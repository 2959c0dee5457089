"""Jobs of a managed system: GetNextWWPNs and the memory a partition
needs reserved."""

import zlib

from powervm_sim import jobs


# The REST API hands out at most this many pairs per request.
MAX_WWPN_PAIRS = 8


@jobs.operation('GetNextWWPNs', 'ManagedSystem')
def get_next_wwpns(ctx):
    system, model = ctx.target, ctx.model
    pairs = ctx.integer('numberPairsRequested', 1, MAX_WWPN_PAIRS)
    with model.registry.lock:
        if system.available_wwpns < pairs * 2:
            raise jobs.JobError(
                '%s Managed system %s has no free WWPNs left.' % (
                    jobs.BAD_STATE, system.name))
        # Each system draws from its own block, so WWPNs stay unique
        # across the systems of one model.
        used = system.wwpns_issued
        system.wwpns_issued = used + pairs * 2
        system.available_wwpns -= pairs * 2
    base = (zlib.crc32(system.serial.encode()) & 0xFFFFFF) << 16
    wwpns = ['%s%010X' % (system.wwpn_prefix, base + used + i)
             for i in range(pairs * 2)]
    return {'wwpnList': ','.join(wwpns)}


# Memory the hypervisor reserves per partition, in MB, and per adapter.
_HPT_RATIO = 128
_RESERVED_BASE_MB = 256
_RESERVED_PER_ADAPTER_MB = 2


@jobs.operation('QueryReservedMemoryRequiredForPartition', 'ManagedSystem')
def reserved_memory(ctx):
    system = ctx.target
    desired = ctx.integer('DesiredMemory', 0, 1 << 30)
    maximum = ctx.integer('MaximumMemory', 0, 1 << 30)
    adapters = sum(ctx.integer(name, 0, 1 << 16) if name in ctx.params
                   else 0 for name in (
                       'NumberOfVirtualEthernetAdapter',
                       'NumberOfVirtualSCSIAdapter',
                       'NumberOfVirtualFibreChannelAdapter'))
    region = system.memory_region_size
    # The hardware page table is a fraction of the maximum memory, rounded
    # up to whole memory regions, like the hypervisor's own reservation.
    hpt = -(-max(maximum, region) // _HPT_RATIO // region) * region
    overhead = _RESERVED_BASE_MB + hpt + adapters * _RESERVED_PER_ADAPTER_MB
    return {'RequiredMemory': str(desired + overhead),
            'CurrentAvailableSystemMemory': str(system.memory_available)}
