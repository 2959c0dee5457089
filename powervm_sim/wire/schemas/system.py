"""Schema of ManagedSystem."""

from powervm_sim.wire import spec

MANAGED_SYSTEM = spec.compile_schema('''
ManagedSystem
  AssociatedIPLConfiguration
    PowerOffWhenLastLogicalPartitionIsShutdown : false CUD
  AssociatedLogicalPartitions * lpar_hrefs
    link -> href
  AssociatedReservedStorageDevicePool
  AssociatedSystemCapabilities
    ActiveLogicalPartitionMobilityCapable ~ active_lpm_capable ROR
    ActiveLogicalPartitionSharedIdeProcessorsCapable : true ROR
    ActiveMemoryDeduplicationCapable : false ROR
    ActiveMemoryExpansionCapable : true ROR
    ActiveMemoryMirroringCapable : false ROR
    ActiveMemorySharingCapable : false ROR
    AddressBroadcastPolicyCapable : true ROR
    AIXCapable : true ROR
    AutorecoveryPowerOnCapable : true ROR
    BarrierSynchronizationRegisterCapable : true ROR
    CapacityOnDemandMemoryCapable : true ROR
    CapacityOnDemandProcessorCapable : true ROR
    CustomMACAddressCapable : true ROR
    CustomPhysicalPageTableRatioCapable : true ROR
    DynamicSimplifiedRemoteRestartToggleCapable ~ srr_capable ROR
    ElectronicErrorReportingCapable : true ROR
    HardwareDiscoveryCapable : true ROR
    HardwarePowerOnCapable : true ROR
    HostChannelAdapterCapable : false ROR
    HugePageMemoryCapable : true ROR
    IBMiCapable ~ ibmi_capable ROR
    IBMiLogicalPartitionMobilityCapable ~ ibmi_capable ROR
    IBMiLogicalPartitionSuspendCapable : false ROR
    IBMiNativeIOCapable : true ROR
    IBMiRestrictedIOModeCapable ~ ibmi_capable ROR
    InactiveLogicalPartitionMobilityCapable ~ inactive_lpm_capable ROR
    IntelligentPlatformManagementInterfaceCapable : false ROR
    LinuxCapable : true ROR
    LogicalPartitionAffinityGroupCapable : true ROR
    LogicalPartitionProcessorCompatibilityModeCapable : true ROR
    LogicalPartitionRemoteRestartCapable : false ROR
    LogicalPartitionSuspendCapable : false ROR
    MicroLogicalPartitionCapable : true ROR
    PowerVMLogicalPartitionSimplifiedRemoteRestartCapable ~ srr_capable ROR
    RedundantErrorPathReportingCapable : true ROR
    SharedEthernetFailoverCapable : true ROR
    SharedProcessorPoolCapable : true ROR
    SRIOVCapable : true ROR
    Telnet5250ApplicationCapable : false ROR
    VirtualEthernetAdapterDynamicLogicalPartitionCapable : true ROR
    VirtualEthernetCustomMACAddressCapable : true ROR
    VirtualFiberChannelCapable : true ROR
    VirtualIOServerCapable : true ROR
    VirtualSwitchCapable : true ROR
    VirtualTrustedPlatformModuleCapable : true ROR
    VirtualNICDedicatedSRIOVCapable : true ROR
    VirtualNICFailOverCapable : true ROR
    DisableSecureBootCapable : true ROR
    PartitionSecureBootCapable : true ROR
    AffinityCheckCapable : true ROR
  AssociatedSystemIOConfiguration
    AvailableWWPNs ~ available_wwpns:int ROR
    HostChannelAdapters
    HostEthernetAdapters
    IOBuses
    IOSlots
    SRIOVAdapters
    AssociatedSystemVirtualNetwork
      VirtualSwitches * vswitch_hrefs
        link -> href
    WWPNPrefix ~ wwpn_prefix ROR
  AssociatedSystemMemoryConfiguration
    ConfigurableSystemMemory ~ memory_configurable:int ROR
    CurrentAvailableSystemMemory ~ memory_available:int ROR
    CurrentLogicalMemoryBlockSize ~ memory_region_size:int ROR
    DefaultHardwarePageTableRatio : 7 ROR
    DefaultPhysicalPageTableRatio : 6 ROR
    InstalledSystemMemory ~ memory_installed:int ROR
    MaximumMemoryPoolCount : 1 ROR
    MemoryRegionSize ~ memory_region_size:int ROR
    MemoryUsedByHypervisor ~ memory_used_by_firmware:int ROR
    PendingAvailableSystemMemory ~ memory_available:int ROR
    PendingLogicalMemoryBlockSize ~ memory_region_size:int ROR
    PendingMemoryRegionSize ~ memory_region_size:int ROR
  AssociatedSystemProcessorConfiguration
    ConfigurableSystemProcessorUnits ~ proc_units_configurable ROR
    CurrentAvailableSystemProcessorUnits ~ proc_units_available ROR
    CurrentMaximumProcessorsPerAIXOrLinuxPartition ~ max_procs_per_partition ROR
    CurrentMaximumProcessorsPerIBMiPartition ~ max_procs_per_partition ROR
    CurrentMaximumAllowedProcessorsPerPartition ~ max_procs_per_partition ROR
    CurrentMaximumProcessorsPerVirtualIOServerPartition ~ max_procs_per_partition ROR
    CurrentMaximumVirtualProcessorsPerAIXOrLinuxPartition ~ max_vcpus_per_partition ROR
    CurrentMaximumVirtualProcessorsPerIBMiPartition ~ max_vcpus_per_partition ROR
    CurrentMaximumVirtualProcessorsPerVirtualIOServerPartition ~ max_vcpus_per_partition ROR
    InstalledSystemProcessorUnits ~ proc_units_installed ROR
    MaximumAllowedVirtualProcessorsPerPartition ~ max_vcpus_per_partition ROR
    MinimumProcessorUnitsPerVirtualProcessor ~ min_proc_units_per_cpu ROR
    PendingAvailableSystemProcessorUnits ~ proc_units_available ROR
    SupportedPartitionProcessorCompatibilityModes ~ proc_compat_modes ROR
  AssociatedSystemVirtualStorage
  AssociatedVirtualIOServers * vios_hrefs
    link -> href
  MachineTypeModelAndSerialNumber
    MachineType ~ machine_type ROR
    Model ~ model ROR
    SerialNumber ~ serial ROR
  ManufacturingDefaultConfigurationEnabled : false ROR
  MaximumPartitions ~ max_partitions:int ROR
  PrimaryIPAddress ~ primary_ip ROR
  SecondaryIPAddress : 169.254.3.147 ROR
  State ~ state ROR
  SystemName ~ name CUR
  SystemFirmware ~ firmware_level ROR
  SystemMigrationInformation
    MaximumInactiveMigrations ~ max_inactive_migrations:int ROR
    MaximumActiveMigrations ~ max_active_migrations:int ROR
    NumberOfInactiveMigrationsInProgress : 0 ROR
    NumberOfActiveMigrationsInProgress ~ active_migrations:int ROR
    MaximumFirmwareActiveMigrations ~ max_active_migrations:int ROR
  IsPowerVMManagementMaster : true ROR
  IsManagementPartitionPowerVMManagementMaster : true ROR
  IsHMCPowerVMManagementMaster : false ROR
  ProcessorThrottling : false ROR
''')
