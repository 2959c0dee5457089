"""Schemas of LogicalPartition and VirtualIOServer.

The element order is NovaLink's, as pypowervm's wrappers list it
(base_partition.BP_EL_ORDER and the LPAR and VIOS orders after it);
elements only HMC captures show sit where the HMC puts them.  Both
documents share the partition head; ``_head`` adds what only one of them
shows.
"""

from powervm_sim.wire import spec
from powervm_sim.wire.schemas import io
from powervm_sim.wire.schemas import mapping
from powervm_sim.wire.schemas import network
from powervm_sim.wire.schemas import storage

_HEAD_START = '''
  AllowPerformanceDataCollection = allow_perf_data:bool CUD
  AssociatedPartitionProfile CUD
  AvailabilityPriority = availability_priority:int CUD
  CurrentAllocatedBarrierSynchronizationRegisterArrays : 0 CUA
  CurrentProcessorCompatibilityMode ~ current_proc_compat_mode ROO
  CurrentProfileSync : On CUD
  IsBootable : true ROO
  IsCallHomeEnabled : false CUD
  IsConnectionMonitoringEnabled : true CUD
  IsOperationInProgress : false ROR
  IsRedundantErrorPathReportingEnabled : false CUD
  IsTimeReferencePartition : false CUD
  IsVirtualServiceAttentionLEDOn : false ROR
  IsVirtualTrustedPlatformModuleEnabled : false CUD
  KeylockPosition = keylock CUD
  LogicalSerialNumber ~ logical_serial ROR
  OperatingSystemVersion ~ os_version ROR
  PartitionCapabilities CUD
    DynamicLogicalPartitionIOCapable ~ dlpar_capable ROR
    DynamicLogicalPartitionMemoryCapable ~ dlpar_capable ROR
    DynamicLogicalPartitionVIOSCapable ~ dlpar_capable ROR
    DynamicLogicalPartitionProcessorCapable ~ dlpar_capable ROR
    InternalAndExternalIntrusionDetectionCapable : false CUD
    ResourceMonitoringControlOperatingSystemShutdownCapable ~ dlpar_capable ROR
  PartitionID ~ partition_id:int COD
  PartitionIOConfiguration CUD
'''

# The I/O configuration of an LPAR: IBM i partitions also show their
# tagged I/O and OptiConnect pools.
_LPAR_IO = '''
    EthernetAdapterCapabilities [metadata] CUD
    HighSpeedLinkOpticonnectPool ~ opticonnect_pool CUD
    HostChannelAdapters [metadata] CUD
    MaximumVirtualIOSlots = max_virtual_io_slots:int CUD
''' + io.PROFILE_IO_SLOTS + '''
    TaggedIO ? is_ibmi CUD
      AlternateLoadSource = alt_load_source CUD
      Console = console CUD
      LoadSource = load_source CUD
    VirtualOpticonnectPool ~ opticonnect_pool CUD
    CurrentMaximumVirtualIOSlots ~ max_virtual_io_slots ROR
'''

# A VIOS also lists its virtual adapters (model.partition.
# ProfileAdapterView).
_VIOS_IO = '''
    HostChannelAdapters [metadata] CUD
    MaximumVirtualIOSlots = max_virtual_io_slots:int CUD
''' + io.PROFILE_IO_SLOTS + '''
    ProfileVirtualIOAdapters * profile_adapters CUD
      ProfileVirtualIOAdapterSubclass
        ProfileClientNetworkAdapter ? is_cna CUD
          VirtualSlotNumber ~ adapter.slot CUD
          AdapterType : Client CUR
          LocalPartitionID ~ adapter.parent.partition_id CUR
          MaCAddressValue ~ adapter.mac CUD
          PortVLANID ~ adapter.pvid CUD
          TaggedVLANIDs ~ tagged_vlans CUA
          VirtualSwitchID ~ adapter.vswitch_id CUD
        ProfileTrunkAdapter ? is_trunk CUD
          VirtualSlotNumber ~ adapter.slot CUD
          AdapterType : Client CUR
          LocalPartitionID ~ adapter.parent.partition_id CUR
          MaCAddressValue ~ adapter.mac CUD
          PortVLANID ~ adapter.pvid CUD
          TaggedVLANIDs ~ tagged_vlans CUA
          VirtualSwitchID ~ adapter.vswitch_id CUD
          TrunkPriority ~ adapter.trunk_priority CUD
        ProfileVirtualFibreChannelServerAdapter ? is_fc_server CUD
          VirtualSlotNumber ~ adapter.slot CUD
          AdapterType : Server CUR
          LocalPartitionID ~ adapter.vios_id CUR
          ConnectingVirtualSlotNumber ~ adapter.remote_slot CUD
          ConnectingPartitionID ~ adapter.remote_lpar_id CUD
        ProfileVirtualSCSIServerAdapter ? is_scsi_server CUD
          VirtualSlotNumber ~ adapter.slot CUD
          AdapterType : Server CUR
          LocalPartitionID ~ adapter.vios_id CUR
          RemoteSlotNumber ~ adapter.remote_slot CUD
          RemotePartitionID ~ adapter.remote_lpar_id CUD
        ProfileVirtualSCSIClientAdapter ? is_scsi_client CUD
          VirtualSlotNumber ~ adapter.slot CUD
          AdapterType : Client CUR
          LocalPartitionID ~ adapter.parent.partition_id CUR
          RemoteSlotNumber ~ adapter.remote_slot CUD
          RemotePartitionID ~ adapter.remote_lpar_id CUD
    CurrentMaximumVirtualIOSlots ~ max_virtual_io_slots ROR
'''

# From the memory configuration on.  The entitled-memory (AMS) fields show
# the values of a partition with dedicated memory, as real VIOSes do (no
# shared memory pool: NovaLink does not support AMS).
_HEAD_MIDDLE = '''
  PartitionMemoryConfiguration CUD
    ActiveMemoryExpansionEnabled : false CUD
    ActiveMemorySharingEnabled : false CUD
    BarrierSynchronizationRegisterArrayCount : 0 CUD
    DesiredHugePageCount : 0 CUD
    DesiredMemory = mem_desired:int CUD
    ExpansionFactor : 0.0 CUD
    HardwarePageTableRatio : 7 CUD
    ManualEntitledModeEnabled : false CUD
    MaximumHugePageCount : 0 CUD
    MaximumMemory = mem_max:int CUD
    MinimumHugePageCount : 0 CUD
    MinimumMemory = mem_min:int CUD
    AutoEntitledMemoryEnabled : false CUD
    CurrentBarrierSynchronizationRegisterArrays : 0 ROR
    CurrentEntitledMemory : AUTO ROR
    CurrentExpansionFactor : 0.0 ROR
    CurrentHardwarePageTableRatio : 7 ROR
    CurrentHugePageCount : 0 ROR
    CurrentMaximumHugePageCount : 0 ROR
    CurrentMaximumMemory ~ mem_max ROR
    CurrentMemory ~ current_mem ROR
    CurrentMemoryWeight : 0 ROR
    CurrentMinimumHugePageCount : 0 ROR
    CurrentMinimumMemory ~ mem_min ROR
    MemoryExpansionHardwareAccessEnabled : false ROR
    MemoryEncryptionHardwareAccessEnabled : true ROR
    MemoryExpansionEnabled : false ROR
    RedundantErrorPathReportingEnabled : false ROR
    RuntimeHugePageCount : 0 ROR
    RuntimeMemory ~ current_mem ROR
    RuntimeMemoryWeight : 0 ROR
    RuntimeMinimumMemory ~ mem_min ROR
    SharedMemoryEnabled : false CUD
  PartitionName [required] = name CUR
  PartitionProcessorConfiguration CUD
    DedicatedProcessorConfiguration ? dedicated CUD
      DesiredProcessors = vprocs_desired:int CUD
      MaximumProcessors = vprocs_max:int CUD
      MinimumProcessors = vprocs_min:int CUD
    HasDedicatedProcessors = dedicated:bool CUD
    SharedProcessorConfiguration ? has_shared_procs CUD
      DesiredProcessingUnits = proc_units_desired:float CUD
      DesiredVirtualProcessors = vprocs_desired:int CUD
      MaximumProcessingUnits = proc_units_max:float CUD
      MaximumVirtualProcessors = vprocs_max:int CUD
      MinimumProcessingUnits = proc_units_min:float CUD
      MinimumVirtualProcessors = vprocs_min:int CUD
      SharedProcessorPoolID = shared_pool_id:int CUD
      UncappedWeight = uncapped_weight:int CUD
    SharingMode = sharing_mode CUD
    CurrentHasDedicatedProcessors ~ dedicated ROR
    CurrentSharingMode ~ sharing_mode ROR
    CurrentDedicatedProcessorConfiguration ? dedicated ROR
      CurrentMaximumProcessors ~ vprocs_max ROR
      CurrentMinimumProcessors ~ vprocs_min ROR
      CurrentProcessors ~ current_vprocs ROR
      RunProcessors ~ current_vprocs ROR
    RuntimeHasDedicatedProcessors ~ dedicated ROR
    RuntimeSharingMode ~ sharing_mode ROR
    CurrentSharedProcessorConfiguration ? has_shared_procs ROR
      AllocatedVirtualProcessors ~ current_vprocs ROR
      CurrentMaximumProcessingUnits ~ proc_units_max ROR
      CurrentMinimumProcessingUnits ~ proc_units_min ROR
      CurrentProcessingUnits ~ current_proc_units ROR
      CurrentSharedProcessorPoolID ~ shared_pool_id ROR
      CurrentUncappedWeight ~ uncapped_weight ROR
      CurrentMinimumVirtualProcessors ~ vprocs_min ROR
      CurrentMaximumVirtualProcessors ~ vprocs_max ROR
      RuntimeProcessingUnits ~ current_proc_units ROR
      RuntimeUncappedWeight ~ uncapped_weight ROR
  PartitionProfiles * no_profiles CUD
    link -> href
  PartitionState ~ state ROO
  PartitionType = partition_type COD
  PartitionUUID ~ partition_uuid ROO
  PendingProcessorCompatibilityMode = proc_compat_mode CUD
  ProcessorPool -> shared_pool_href CUD
  ProgressPartitionDataRemaining : 0 ROR
  ProgressPartitionDataTotal : 0 ROR
  ProgressState : Unknown ROR
  ResourceMonitoringControlState ~ rmc_state ROR
  ResourceMonitoringIPAddress ~ rmc_address CUD
  AssociatedManagedSystem -> system_href
  SRIOVEthernetLogicalPorts * no_logical_ports CUD
    link -> href
  ClientNetworkAdapters * cna_hrefs
    link -> href
  HostEthernetAdapterLogicalPorts [metadata] CUD
'''

_HEAD_END = '''
  MACAddressPrefix ~ mac_prefix ROR
  IsServicePartition : false CUD
  PowerVMManagementCapable ~ is_mgmt ROR
  ReferenceCode ~ ref_code ROO
  ReferenceCodeFull ~ ref_code_full ROO
  IsManagementPartition ~ is_mgmt ROR
  AutoStart : false CUD
  BootMode = boot_mode CUD
  PartitionNVRAM [group=NVRAM] = nvram:base64 CUD
  Uptime ~ uptime:int ROR
  PendingSecureBoot = pending_secure_boot:int CUD
  CurrentSecureBoot ~ current_secure_boot ROO
  AssociatedPersistentMemoryConfiguration CUD
    MaximumPersistentMemoryVolumes : 964 ROR
    CurrentPersistentMemoryVolumes : 0 ROR
    MaximumDramPersistentMemoryVolumes : 4 ROR
    CurrentDramPersistentMemoryVolumes : 0 ROR
  AssociatedGroups ROO
  PowerOnWithHypervisor : false CUD
  AssociatedTasks ROO
  Description = description CUD
'''


def _head(io_configuration, vios_only=''):
    return (_HEAD_START + io_configuration + _HEAD_MIDDLE + vios_only +
            _HEAD_END)


LPAR = spec.compile_schema('LogicalPartition' + _head(_LPAR_IO) + '''
  MigrationStorageViosDataStatus : Valid ROR
  MigrationStorageViosDataTimestamp ~ migration_data_timestamp ROR
  RemoteRestartCapable : false CUD
  SimplifiedRemoteRestartCapable = srr_capable:bool CUD
  HasDedicatedProcessorsForMigration : false CUD
  SuspendCapable : false CUD
  MigrationDisable : false CUD
  MigrationState ~ migration_state ROR
  RemoteRestartState : Invalid ROR
  PowerManagementMode : None ROR
  UsesHighSpeedLinkOpticonnect : false CUD
  UsesVirtualOpticonnect : false CUD
  VirtualFibreChannelClientAdapters * vfc_client_hrefs
    link -> href
  VirtualSCSIClientAdapters * scsi_client_hrefs
    link -> href
  IsRestrictedIOPartition ~ restricted_io ROR
  DesignatedIPLSource ~ ipl_source CUD
  DedicatedVirtualNICs * no_logical_ports CUD
    link -> href
''')

VIOS = spec.compile_schema(
    'VirtualIOServer' + _head(_VIOS_IO, '''
  LogicalPorts [metadata] CUD
''') + '''
  APICapable : false ROR
  IsVNICCapable : true ROR
  VNICFailOverCapable : true ROR
  LinkAggregations [group=ViosNetwork]
  ManagerPassthroughCapable : false ROR
''' + storage.VIOS_MEDIA_REPOSITORIES + '''
  MoverServicePartition : true CUD
  NetworkBootDevices
  PagingServicePartition : false CUD
''' + storage.VIOS_PHYSICAL_VOLUMES + network.VIOS_SEAS + '''
  SharedStoragePoolCapable : true ROR
  SharedStoragePoolVersion : 3 ROR
''' + storage.VIOS_STORAGE_POOLS + network.VIOS_TRUNK_ADAPTERS + '''
  VirtualIOServerLicense
    LicenseID : 1 ROR
  VirtualIOServerLicenseAccepted : true ROR
''' + mapping.VIOS_FC_MAPPINGS + mapping.VIOS_SCSI_MAPPINGS + '''
  FreeIOAdaptersForLinkAggregation [group=ViosNetwork] * free_ethernet_ports ROR
    IOAdapterChoice
      IOAdapter
        AdapterID ~ adapter_id ROR
        Description ~ description CUD
        DeviceName ~ device_name ROR
        DeviceType : physicalEthernetAdpter ROR
        DynamicReconfigurationConnectorName ~ location_code CUD
        PhysicalLocation ~ location_code ROR
        UniqueDeviceID ~ udid ROR
  FreeEthenetBackingDevicesForSEA [group=ViosNetwork] * free_ethernet_ports ROR
    IOAdapterChoice
      EthernetBackingDevice
        AdapterID ~ adapter_id ROR
        Description ~ description CUD
        DeviceName ~ device_name ROR
        PhysicalLocation ~ location_code ROR
        IPInterface CUD
          InterfaceName ~ interface_name CUD
          State : Inactive CUD
  VirtualNICBackingDevices [metadata] ROR
  VirtualIOServerCapabilities ROR
    IsTierCapable : true ROR
    IsTierMirrorCapable : true ROR
''')
