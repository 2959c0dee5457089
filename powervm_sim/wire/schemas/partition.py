"""Schemas of LogicalPartition and VirtualIOServer (element order as served
by NovaLink)."""

from powervm_sim.wire import spec
from powervm_sim.wire.schemas import io
from powervm_sim.wire.schemas import mapping
from powervm_sim.wire.schemas import network
from powervm_sim.wire.schemas import storage

_HEAD = '''
  AllowPerformanceDataCollection = allow_perf_data:bool CUD
  AvailabilityPriority = availability_priority:int CUD
  CurrentAllocatedBarrierSynchronizationRegisterArrays : 0 CUA
  CurrentProcessorCompatibilityMode ~ current_proc_compat_mode ROO
  CurrentProfileSync : On CUD
  IsBootable : true ROO
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
    DynamicLogicalPartitionProcessorCapable ~ dlpar_capable ROR
    InternalAndExternalIntrusionDetectionCapable : false CUD
    ResourceMonitoringControlOperatingSystemShutdownCapable ~ dlpar_capable ROR
  PartitionID ~ partition_id:int COD
  PartitionIOConfiguration CUD
    MaximumVirtualIOSlots = max_virtual_io_slots:int CUD
''' + io.PROFILE_IO_SLOTS + '''    CurrentMaximumVirtualIOSlots ~ max_virtual_io_slots ROR
  PartitionMemoryConfiguration CUD
    ActiveMemoryExpansionEnabled : false CUD
    ActiveMemorySharingEnabled : false CUD
    BarrierSynchronizationRegisterArrayCount : 0 CUD
    DesiredHugePageCount : 0 CUD
    DesiredMemory = mem_desired:int CUD
    ExpansionFactor : 0.0 CUD
    HardwarePageTableRatio : 7 CUD
    MaximumHugePageCount : 0 CUD
    MaximumMemory = mem_max:int CUD
    MinimumHugePageCount : 0 CUD
    MinimumMemory = mem_min:int CUD
    CurrentBarrierSynchronizationRegisterArrays : 0 ROR
    CurrentExpansionFactor : 0.0 ROR
    CurrentHardwarePageTableRatio : 7 ROR
    CurrentHugePageCount : 0 ROR
    CurrentMaximumHugePageCount : 0 ROR
    CurrentMaximumMemory ~ mem_max ROR
    CurrentMemory ~ current_mem ROR
    CurrentMinimumHugePageCount : 0 ROR
    CurrentMinimumMemory ~ mem_min ROR
    MemoryExpansionHardwareAccessEnabled : false ROR
    MemoryEncryptionHardwareAccessEnabled : true ROR
    MemoryExpansionEnabled : false ROR
    RedundantErrorPathReportingEnabled : false ROR
    RuntimeHugePageCount : 0 ROR
    RuntimeMemory ~ current_mem ROR
    RuntimeMinimumMemory ~ mem_min ROR
    SharedMemoryEnabled : false CUD
  PartitionName = name CUR
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
  PartitionProfiles CUD
    link * no_profiles
      link -> href
  PartitionState ~ state ROO
  PartitionType = partition_type COD
  PartitionUUID ~ partition_uuid ROO
  PendingProcessorCompatibilityMode = proc_compat_mode CUD
  ProcessorPool -> shared_pool_href
  ProgressPartitionDataRemaining : 0 ROR
  ProgressPartitionDataTotal : 0 ROR
  ProgressState : Unknown ROR
  ResourceMonitoringControlState ~ rmc_state ROR
  ResourceMonitoringIPAddress ~ rmc_ip ROR
  AssociatedManagedSystem -> system_href
  ClientNetworkAdapters * cna_hrefs
    link -> href
  HostEthernetAdapterLogicalPorts CUD
  MACAddressPrefix ~ mac_prefix ROR
  IsServicePartition : false ROR
  PowerVMManagementCapable ~ is_mgmt ROR
  ReferenceCode ~ ref_code ROR
  ReferenceCodeFull ~ ref_code_full ROR
  IsManagementPartition ~ is_mgmt ROR
  AutoStart : false CUD
  BootMode = boot_mode CUD
  PartitionNVRAM [group=NVRAM] ~ nvram_text ROR
  Uptime ~ uptime:int ROR
  Description = description CUD
'''

LPAR = spec.compile_schema('LogicalPartition' + _HEAD + '''
  MigrationState ~ migration_state ROR
  RemoteRestartCapable : false CUD
  SimplifiedRemoteRestartCapable = srr_capable:bool CUD
  HasDedicatedProcessorsForMigration : false CUD
  SuspendCapable : false CUD
  MigrationDisable : false CUD
  RemoteRestartState : Invalid ROR
  PowerManagementMode : none ROR
  UsesHighSpeedLinkOpticonnect : false CUD
  UsesVirtualOpticonnect : false CUD
  VirtualFibreChannelClientAdapters * vfc_client_hrefs
    link -> href
  VirtualSCSIClientAdapters * scsi_client_hrefs
    link -> href
  IsRestrictedIOPartition ~ restricted_io ROR
  DesignatedIPLSource ~ ipl_source CUD
''')

VIOS = spec.compile_schema(
    'VirtualIOServer' + _HEAD + '''
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
  FreeIOAdaptersForLinkAggregation [group=ViosNetwork]
  FreeEthenetBackingDevicesForSEA [group=ViosNetwork]
''')
