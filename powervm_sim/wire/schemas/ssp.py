"""Schemas of shared storage pools: Cluster, SharedStoragePool, Tier and
LogicalUnit, in the element order of real NovaLink/HMC documents.

The nested objects are written once, at the indentation of an item of a
top-level list (children at six spaces), and re-indented where they sit
deeper.
"""

import textwrap

from powervm_sim.wire import spec

# The children of a LogicalUnit element.  Besides the SSP and the Tier's
# LogicalUnit feed, a vSCSI mapping's Storage holds one (naming an existing
# unit: nothing is required there).  UniqueDeviceID is parsed although
# read-only: it is how a client names an existing unit (in a pool's
# desired state, or in a new mapping).
LOGICAL_UNIT_BODY = '''
      ThinDevice = thin:bool CUR
      UniqueDeviceID = udid ROR
      UnitCapacity = capacity_gb:float COR
      LogicalUnitType = lu_type COD
      ClonedFrom = cloned_from_udid COD
      InUse ~ in_use:bool ROR
      UnitName [required] = name CUR
'''

# A disk of the pool, as the SSP, Tier and Cluster documents show it (fewer
# elements than a VIOS's own PhysicalVolumes section).
_PHYSICAL_VOLUME_BODY = '''
      Description ~ description CUD
      UniqueDeviceID ~ udid ROR
      VolumeCapacity ~ capacity_mb:int CUR
      VolumeName ~ name CUR
      VolumeState ~ state ROR
      IsFibreChannelBacked ~ fc_backed:bool ROR
      StorageLabel ~ storage_label ROR
'''


def _deeper(body, levels):
    """``body`` moved ``levels`` nesting levels (two spaces each) deeper."""
    return textwrap.indent(body, '  ' * levels)


# A new unit needs its capacity; in a pool's list, a unit that exists may be
# named by its UDID alone.
LOGICAL_UNIT = spec.compile_schema(
    'LogicalUnit' + spec.require(LOGICAL_UNIT_BODY, 'UnitCapacity'))

SHARED_STORAGE_POOL = spec.compile_schema('''
SharedStoragePool
  LogicalUnits * logical_units CUD
    LogicalUnit''' + LOGICAL_UNIT_BODY + '''
  MultiDataTierConfigured ~ multi_tier:bool CUD
  MultiFailureGroupConfigured ~ multi_failure_group:bool CUD
  PhysicalVolumes * physical_volumes CUR
    PhysicalVolume''' + _PHYSICAL_VOLUME_BODY + '''
  Capacity ~ capacity_gb CUR
  FreeSpace ~ free_gb CUR
  OverCommitSpace ~ over_commit_gb CUR
  TotalLogicalUnitSize ~ total_lu_gb CUR
  AlertThreshold ~ alert_threshold_text CUD
  StoragePoolName ~ name CUR
  UniqueDeviceID ~ udid ROR
  AssociatedTiers * tier_hrefs CUD
    link -> href
  AssociatedCluster -> cluster_href CUD
''')

TIER = spec.compile_schema('''
Tier
  Name ~ name CUR
  UniqueDeviceID ~ udid ROR
  Type ~ tier_type CUD
  IsDefault ~ is_default:bool CUD
  Capacity ~ capacity_gb ROR
  MirrorState ~ mirror_state ROR
  FailureGroups * failure_groups CUD
    FailureGroup
      Name ~ name CUR
      UniqueDeviceID ~ udid ROR
      Capacity ~ capacity_gb ROR
      State ~ state ROR
      PhysicalVolumes * physical_volumes CUD
        PhysicalVolume''' + _deeper(_PHYSICAL_VOLUME_BODY, 2) + '''
  AssociatedSharedStoragePool -> ssp_href CUD
''')

CLUSTER = spec.compile_schema('''
Cluster
  ClusterName ~ name COR
  ClusterID ~ cluster_id CUD
  RepositoryDisk * repository_disks CUD
    PhysicalVolume''' + _PHYSICAL_VOLUME_BODY + '''
  ClusterSharedStoragePool -> ssp_href CUD
  Node * nodes CUD
    Node
      HostName ~ hostname CUD
      PartitionID ~ partition_id:int CUD
      MachineTypeModelAndSerialNumber CUD
        MachineType ~ machine_type CUR
        Model ~ model CUR
        SerialNumber ~ serial CUR
      VirtualIOServerLevel ~ vios_level CUD
      VirtualIOServer -> vios_href CUD
      State ~ state ROR
  ClusterCapabilities ROR
    IsTierCapable : true ROR
    IsTierMirrorCapable : true ROR
''')
