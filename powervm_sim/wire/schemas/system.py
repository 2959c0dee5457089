"""Schema of ManagedSystem.

The element order is NovaLink's (pypowervm's captures of a NovaLink host);
elements only HMC captures show sit where the HMC puts them.  Values the
model does not track are the constants a NovaLink-managed POWER9 server
reports.
"""

import textwrap

from powervm_sim.wire import spec
from powervm_sim.wire.schemas import io

# A physical adapter (IOAdapter), at indentation 0.
_IO_ADAPTER = '\nIOAdapter' + io.IO_ADAPTER_BODY

# What the service processor found in a slot (model.system.IODevice).
_IOR_DEVICE = '''
IORDevice
  ParentDynamicReconfigurationConnectorIndex ~ parent_drc_index ROO
  ParentName ~ parent_name ROO
  PCIDeviceId ~ pci_device_id ROO
  PCIVendorId ~ pci_vendor_id ROO
  PCISubsystemDeviceId ~ pci_subsys_device_id ROO
  PCISubsystemVendorId ~ pci_subsys_vendor_id ROO
  PCIRevisionId ~ pci_revision_id ROO
  ProgrammingInterfaceClass ~ programming_interface ROO
  PCIClassCode ~ pci_class ROO
  DeviceType ~ device_type ROO
  PrimaryDeviceFunction ~ primary_function ROO
  SerialNumber ~ serial_number ROO
  FruNumber ~ fru_number ROO
  PartNumber ~ part_number ROO
  CCIN ~ ccin ROO
  SlotChildId ~ slot_child_id ROO
  ParentSlotChildId ~ parent_slot_child_id ROO
  NumEnclosureBays ~ enclosure_bays ROO
  Size ~ size_mb ROO
  SizeMetric ~ size_metric ROO
  LocationCode ~ location_code ROO
  MacAddressValue ~ mac_address ROO
  MicroCodeVersion ~ microcode_version ROO
  WWPN ~ wwpn ROO
  WWNN ~ wwnn ROO
  Description ~ description ROO
'''

# A physical slot and its card (model.system.SlotView); listed on its own
# and under its I/O bus.
_IO_SLOT = '''
IOSlot''' + io.SLOT_OWNER.rstrip('\n') + '''
  PartitionUUID ~ owner.partition_uuid ROO''' + io.SLOT_CARD.rstrip('\n') + '''
  RelatedIOAdapter CUD''' + textwrap.indent(_IO_ADAPTER, '    ') + '''
  SlotDynamicReconfigurationConnectorIndex ~ card.drc_index ROR''' + \
    io.SLOT_SRIOV.rstrip('\n') + '''
  IORDevices * devices ROO''' + textwrap.indent(_IOR_DEVICE, '    ') + '''
  VitalProductDataModel : 001 ROR
  VitalProductDataSerialNumber ~ serial_number ROR
  VitalProductDataType ~ ccin ROR
'''

# What every SR-IOV physical port shows (model.system.SRIOVPhysicalPort).
_SRIOV_PORT = '''
  ConfiguredConnectionSpeed : Auto CUR
  ConfiguredFlowControl : false CUD
  ConfiguredMTU : E_1500 CUR
  ConfiguredOptions : autoDuplex CUR
  ConfiguredPortSwitchMode : Veb CUD
  CurrentConnectionSpeed ~ current_speed ROR
  CurrentOptions ~ current_options ROR
  Label ~ label CUR
  LocationCode ~ location_code ROR
  MaximumDiagnosticsLogicalPorts : 1 ROR
  MaximumPromiscuousLogicalPorts : 1 ROR
  PhysicalPortID ~ port_id ROR
  PortCapabilities ~ capabilities ROR
  PortType ~ port_type ROR
  PortLogicalPortLimit ~ logical_port_limit ROR
  SubLabel ~ sub_label CUR
  SupportedConnectionSpeeds ~ supported_speeds ROR
  SupportedMTUs ~ supported_mtus ROR
  SupportedOptions ~ supported_options ROR
  SupportedPriorityAccessControlList : 0 ROR
  LinkStatus ~ link_up ROR
  AllocatedCapacity : 0.0% ROR
  ConfiguredMaxEthernetLogicalPorts ~ logical_port_limit UOD
  ConfiguredEthernetLogicalPorts : 0 ROR
  MaximumPortVLANID : 4094 ROR
  MaximumVLANID : 4094 ROR
  MinimumEthernetCapacityGranularity : 2.0% ROR
  MinimumPortVLANID : 2 ROR
  MinimumVLANID : 2 ROR
  MaxSupportedEthernetLogicalPorts ~ logical_port_limit ROR
'''

# What a converged (Ethernet and FCoE) port adds.
_SRIOV_FCOE = '''
  ConfiguredMaxFiberChannelOverEthernetLogicalPorts : 0 UOD
  DefaultFiberChannelTargetsForBackingDevice : 256 ROR
  DefaultFiberChannelTargetsForNonBackingDevice : 128 ROR
  ConfiguredFiberChannelOverEthernetLogicalPorts : 0 UOD
  MinimumFCoECapacityGranularity : 10.0% ROR
  FiberChannelTargetsRoundingValue : 64 ROR
  MaxSupportedFiberChannelOverEthernetLogicalPorts : 0 ROR
  MaximumFiberChannelTargets : 0 ROR
'''

# An SR-IOV adapter in shared mode (a model.system.IOCard).
_SRIOV_ADAPTER = '''
SRIOVAdapter
  AdapterID ~ drc_index ROR
  Description ~ description CUD
  PhysicalLocation ~ drc_name ROR
  SRIOVAdapterID ~ sriov_adapter_id COD
  AdapterState : Running ROR
  AdapterMode : Sriov CUD
  Personality : MIN_CAPACITY COD
  ConvergedEthernetPhysicalPorts * converged_ports ROR
    SRIOVConvergedNetworkAdapterPhysicalPort''' + textwrap.indent(
    _SRIOV_PORT + _SRIOV_FCOE, '    ') + '''
  EthernetLogicalPorts * logical_port_hrefs ROR
    link -> href
  EthernetPhysicalPorts * ethernet_ports ROR
    SRIOVEthernetPhysicalPort''' + textwrap.indent(_SRIOV_PORT, '    ') + '''
  IsFunctional : true ROR
  MaximumHugeDMALogicalPorts : 0 ROR
  MaximumLogicalPortsSupported ~ max_logical_ports ROR
  UnconfiguredLogicalPorts * unconfigured_logical_ports ROR
    SRIOVUnconfiguredLogicalPort
      DynamicReconfigurationConnectorIndex ~ drc_index ROR
      DynamicReconfigurationConnectorName ~ drc_name ROR
      LocationCode ~ location_code ROR
'''

_CAPABILITIES = '''
  AssociatedSystemCapabilities CUD
    ActiveLogicalPartitionMobilityCapable ~ active_lpm_capable ROO
    ActiveLogicalPartitionSharedIdeProcessorsCapable : true ROO
    ActiveMemoryDeduplicationCapable : false ROO
    ActiveMemoryExpansionCapable : true ROO
    ActiveMemoryMirroringCapable : false ROO
    ActiveMemorySharingCapable : false ROO
    ActiveSystemOptimizerCapable : true ROO
    AddressBroadcastPolicyCapable : true ROO
    AIXCapable : Active ROO
    AutorecoveryPowerOnCapable : true ROO
    BarrierSynchronizationRegisterCapable : true ROO
    CapacityOnDemandMemoryCapable : true ROO
    CapacityOnDemandProcessorCapable : true ROO
    CAPICapable : false ROR
    CustomLogicalPartitionPlacementCapable : true ROO
    ElectronicErrorReportingCapable : true ROO
    ExternalIntrusionDetectionCapable : true ROO
    FirmwarePowerSaverCapable : true ROO
    HardwareDiscoveryCapable : true ROO
    HardwareMemoryCompressionCapable : false ROO
    HardwareMemoryEncryptionCapable : true ROO
    HardwarePowerSaverCapable : true ROO
    HostChannelAdapterCapable : false ROO
    HugePageMemoryCapable : true ROO
    HugePageMemoryOverrideCapable : true ROO
    IBMiCapable ~ ibmi_capable ROO
    IBMiLogicalPartitionMobilityCapable ~ ibmi_capable ROO
    IBMiLogicalPartitionSuspendCapable : false ROO
    IBMiNetworkInstallCapable ~ ibmi_capable ROO
    IBMiRestrictedIOModeCapable ~ ibmi_capable ROO
    IBMiNetworkInstallVlanCapable ~ ibmi_capable ROO
    InactiveLogicalPartitionMobilityCapable ~ inactive_lpm_capable ROO
    IntelligentPlatformManagementInterfaceCapable : false ROO
    LinuxCapable : true ROO
    LogicalHostEthernetAdapterCapable : false ROO
    LogicalPartitionAffinityGroupCapable : true ROO
    LogicalPartitionAvailabilityPriorityCapable : true ROO
    LogicalPartitionEnergyManagementCapable : false ROO
    LogicalPartitionProcessorCompatibilityModeCapable : true ROO
    LogicalPartitionRemoteRestartCapable : false ROO
    LogicalPartitionSuspendCapable : false ROO
    MemoryMirroringCapable : false ROO
    MicroLogicalPartitionCapable : true ROO
    PowerVMLogicalPartitionSimplifiedRemoteRestartCapable ~ srr_capable ROO
    RedundantErrorPathReportingCapable : true ROO
    RemoteRestartToggleCapable : false ROO
    ServiceProcessorConcurrentMaintenanceCapable : true ROO
    ServiceProcessorFailoverCapable : false ROO
    ServiceProcessorAutonomicIPLCapable : true ROO
    SharedEthernetFailoverCapable : true ROO
    SharedProcessorPoolCapable : true ROO
    SRIOVCapable : true ROO
    SRIOVRoCECapable : false ROR
    SwitchNetworkInterfaceMessagePassingCapable : false ROO
    SystemPartitionProcessorLimitCapable : false ROO
    Telnet5250ApplicationCapable : false ROO
    TurboCoreCapable : false ROO
    VirtualEthernetAdapterDynamicLogicalPartitionCapable : true ROO
    VirtualEthernetQualityOfServiceCapable : true ROO
    VirtualFiberChannelCapable : true ROO
    VirtualIOServerCapable : true ROO
    VirtualizationEngineTechnologiesActivationCapable : true ROO
    VirtualServerNetworkingPhase2Capable : true ROO
    VirtualSwitchCapable : true ROO
    VirtualTrustedPlatformModuleCapable : true ROO
    VLANStatisticsCapable : true ROO
    VirtualEthernetCustomMACAddressCapable : true ROR
    ManagementVLANForControlChannelCapable : true ROO
    VirtualNICDedicatedSRIOVCapable : true ROO
    VirtualNICSharedSRIOVCapable : false ROO
    DynamicPlatformOptimizationCapable : true ROO
    VirtualNICFailOverCapable : true ROO
    AdvancedBootListSupportCapable : true ROR
    DynamicSimplifiedRemoteRestartToggleCapable ~ srr_capable ROO
    IBMiNativeIOCapable : true ROO
    CustomPhysicalPageTableRatioCapable : true ROO
    DisableSecureBootCapable : true ROO
    PartitionSecureBootCapable : true ROO
    IOSlotOwnerAssignmentCapable : true ROO
    DedicatedProcessorPartitionCapable : true ROO
'''

_IO_CONFIGURATION = '''
  AssociatedSystemIOConfiguration CUD
    AvailableWWPNs ~ available_wwpns:int CUD
    HostChannelAdapters [metadata] CUD
    HostEthernetAdapters CUD
    IOAdapters * io_slots CUD
      IOAdapterChoice''' + textwrap.indent(_IO_ADAPTER, '        ') + '''
    IOBuses * io_slots CUD
      IOBus
        BackplanePhysicalLocation ~ backplane ROR
        BusDynamicReconfigurationConnectorIndex ~ bus_drc_index ROR
        BusDynamicReconfigurationConnectorName ~ bus_drc_name ROR
        IOBusID ~ bus_id ROR
        IOSlots * bus_slots CUD''' + textwrap.indent(_IO_SLOT, '          ') + '''
    IOSlots * io_slots CUD''' + textwrap.indent(_IO_SLOT, '      ') + '''
    MaximumIOPools : 1024 CUD
    SRIOVAdapters * sriov_adapters CUD
      IOAdapterChoice''' + textwrap.indent(_SRIOV_ADAPTER, '        ') + '''
    AssociatedSystemVirtualNetwork [group=SystemNetwork] CUD
      NetworkBridges * bridge_hrefs CUD
        link -> href
      VirtualEthernetAdapterMACAddressPrefix ~ mac_prefix_text ROR
      VirtualNetworks * vnet_hrefs CUD
        link -> href
      VirtualSwitches * vswitch_hrefs CUD
        link -> href
    WWPNPrefix ~ wwpn_prefix_number CUD
'''

_MEMORY_CONFIGURATION = '''
  AssociatedSystemMemoryConfiguration CUD
    AllowedHardwarePageTableRations : 6 ROR
    AllowedMemoryDeduplicationTableRatios : 1:256,1:512,1:1024 ROR
    AllowedMemoryRegionSize : 16,32,64,128,256 ROR
    AvailableBarrierSynchronizationRegisterArrays : 8 ROR
    BarrierSynchronizationRegisterArraySize : 8 ROR
    ConfigurableHugePages : 0 ROR
    ConfigurableSystemMemory ~ memory_configurable:int ROR
    ConfiguredMirroredMemory : 0 ROR
    CurrentAddressBroadcastPolicy : No Affinity ROR
    CurrentAvailableHugePages : 0 ROR
    CurrentAvailableMirroredMemory : 0 ROR
    CurrentAvailableSystemMemory ~ memory_available:int ROR
    CurrentLogicalMemoryBlockSize ~ memory_region_size:int ROR
    CurrentMemoryMirroringMode : none ROR
    CurrentMirroredMemory : 0 ROR
    DeconfiguredSystemMemory : 0 ROR
    DefaultHardwarePageTableRatio : 7 COR
    DefaultPhysicalPageTableRatio : 6 ROR
    DefaultHardwarePagingTableRatioForDedicatedMemoryPartition : 7 ROR
    DefaultMemoryDeduplicationTableRatio : 10 ROR
    HugePageCount : 0 ROR
    HugePageSize : 16384 ROR
    InstalledSystemMemory ~ memory_installed:int ROR
    MaximumHugePages : 0 ROR
    MaximumMemoryPoolCount : 1 ROR
    MaximumMirroredMemoryDefragmented : 0 ROR
    MaximumPagingVirtualIOServersPerSharedMemoryPool : 2 ROR
    MemoryDefragmentationState : Not_In_Progress ROR
    MemoryMirroringState : Off ROR
    MemoryRegionSize ~ memory_region_size:int CUD
    MemoryUsedByHypervisor ~ memory_used_by_firmware:int ROR
    MirrorableMemoryWithDefragmentation : 0 ROR
    MirrorableMemoryWithoutDefragmentation : 0 ROR
    MirroredMemoryUsedByHypervisor : 0 ROR
    PendingAddressBroadcastPolicy : No Affinity ROR
    PendingAvailableHugePages : 0 ROR
    PendingAvailableSystemMemory ~ memory_available:int ROR
    PendingLogicalMemoryBlockSize ~ memory_region_size:int ROR
    PendingMemoryMirroringMode : none ROR
    PendingMemoryRegionSize ~ memory_region_size:int ROR
    RequestedHugePages : 0 ROR
    SharedMemoryPool CUD
    TemporaryMemoryForLogicalPartitionMobilityInUse : false ROR
    TotalBarrierSynchronizationRegisterArrays : 8 ROR
'''

_PROCESSOR_CONFIGURATION = '''
  AssociatedSystemProcessorConfiguration CUD
    ConfigurableSystemProcessorUnits ~ configurable_units_text ROR
    CurrentAvailableSystemProcessorUnits ~ available_units_text ROR
    CurrentMaximumProcessorsPerAIXOrLinuxPartition ~ max_procs_per_partition ROR
    CurrentMaximumProcessorsPerIBMiPartition ~ max_procs_per_partition ROR
    CurrentMaximumAllowedProcessorsPerPartition ~ max_procs_per_partition ROR
    CurrentMaximumProcessorsPerPartition ~ max_procs_per_partition ROR
    CurrentMaximumProcessorsPerVirtualIOServerPartition ~ max_procs_per_partition ROR
    CurrentMaximumVirtualProcessorsPerAIXOrLinuxPartition ~ max_vcpus_per_partition ROR
    CurrentMaximumVirtualProcessorsPerIBMiPartition ~ max_vcpus_per_partition ROR
    CurrentMaximumVirtualProcessorsPerVirtualIOServerPartition ~ max_vcpus_per_partition ROR
    DeconfiguredSystemProcessorUnits : 0 ROR
    InstalledSystemProcessorUnits ~ installed_units_text ROR
    MaximumProcessorUnitsPerIBMiPartition ~ max_procs_per_partition ROR
    MaximumAllowedVirtualProcessorsPerPartition ~ max_vcpus_per_partition ROR
    MaximumVirtualProcessorsPerPartition ~ max_vcpus_per_partition ROR
    MinimumProcessorUnitsPerVirtualProcessor ~ min_proc_units_per_cpu ROR
    NumberOfAllOSProcessorUnits ~ installed_units_text ROR
    NumberOfLinuxOnlyProcessorUnits : 0 ROR
    NumberOfLinuxOrVIOSOnlyProcessorUnits : 0 ROR
    NumberOfVirtualIOServerProcessorUnits : 0 ROR
    PendingAvailableSystemProcessorUnits ~ available_units_text ROR
    SharedProcessorPoolCount : 64 ROR
    SupportedPartitionProcessorCompatibilityModes ~ proc_compat_modes ROR
    TemporaryProcessorUnitsForLogicalPartitionMobilityInUse : false ROR
    SharedProcessorPool CUD
'''

MANAGED_SYSTEM = spec.compile_schema('''
ManagedSystem
  ActivatedLevel ~ activated_level ROR
  AssociatedIPLConfiguration [group=Hypervisor] CUD
    CurrentManufacturingDefaulConfigurationtBootMode : Normal ROR
    CurrentPowerOnSide : Permanent ROR
    CurrentSystemKeylock : normal ROR
    CurrentTurbocoreEnabled : false ROR
    MajorBootType : Normal ROR
    MinorBootType : 0 ROR
    PendingManufacturingDefaulConfigurationtBootMode : Normal CUD
    PendingPowerOnSide : Permanent CUD
    PendingSystemKeylock : normal CUD
    PendingTurbocoreEnabled : false CUD
    PowerOnLogicalPartitionStartPolicy : userinit CUD
    PowerOnOption : autostart CUD
    PowerOnSpeed : fast CUD
    PowerOnSpeedOverride : fast CUD
    PowerOffWhenLastLogicalPartitionIsShutdown : false CUD
  AssociatedLogicalPartitions * lpar_hrefs CUD
    link -> href
  AssociatedReservedStorageDevicePool CUD
''' + _CAPABILITIES + _IO_CONFIGURATION + _MEMORY_CONFIGURATION +
    _PROCESSOR_CONFIGURATION + '''
  AssociatedSystemSecurity CUD
    VirtualTrustedPlatformModuleKeyLength : 32 ROR
    VirtualTrustedPlatformModuleKeyStatus : 2 ROR
    VirtualTrustedPlatformModuleVersion : 1 ROR
    MaximumSupportedVirtualTrustedPlatformModulePartitions : 60 ROR
    AvailableVirtualTrustedPlatformModulePartitions : 60 ROR
  AssociatedSystemVirtualStorage [metadata] CUD
  AssociatedVirtualIOServers * vios_hrefs CUD
    link -> href
  CurrentMaximumPartitionsPerHostChannelAdapter : 16 ROR
  DetailedState : None ROR
  MachineTypeModelAndSerialNumber ROR
    MachineType ~ machine_type ROR
    Model ~ model ROR
    SerialNumber ~ serial ROR
  ManufacturingDefaultConfigurationEnabled : false ROR
  MaximumPartitions ~ max_partitions:int CUD
  MaximumPowerControlPartitions : 1 CUD
  MaximumRemoteRestartPartitions ~ max_partitions CUD
  MaximumSharedProcessorCapablePartitionID ~ max_partitions CUD
  MaximumSuspendablePartitions ~ max_partitions CUD
  MaximumBackingDevicesPerVNIC : 6 CUD
  PendingMaximumPartitionsPerHostChannelAdapter : 16 CUD
  PhysicalSystemAttentionLEDState ~ attention_led ROO
  PrimaryIPAddress ~ primary_ip CUR
  Hostname ~ primary_ip ROO
  SecondaryIPAddress : 169.254.3.147 CUD
  ServiceProcessorFailoverEnabled : false CUD
  ServiceProcessorFailoverState : Not Ready ROO
  ServiceProcessorVersion ~ service_processor_version ROR
  State ~ state ROR
  SystemName ~ name CUR
  SystemTime ~ system_time ROR
  VirtualSystemAttentionLEDState : false UOD
  SystemMigrationInformation ROR
    AllowInactiveSourceStorageVios : Enabled ROR
    MaximumInactiveMigrations ~ max_inactive_migrations:int ROR
    MaximumActiveMigrations ~ max_active_migrations:int ROR
    NumberOfInactiveMigrationsInProgress : 0 ROR
    NumberOfActiveMigrationsInProgress ~ active_migrations:int ROR
    MaximumFirmwareActiveMigrations ~ max_active_migrations:int ROR
    InactiveProfileMigrationPolicy : PartitionConfiguration ROR
    LogicalPartitionAffinityCheckCapable : true ROR
  ReferenceCode : 00000000 ROO
  MergedReferenceCode : ROO
  SystemFirmware ~ firmware_level ROO
  IsPowerVMManagementMaster : true ROO
  IsClassicHMCManagement : false ROO
  IsPowerVMManagementWithoutMaster : false ROO
  IsManagementPartitionPowerVMManagementMaster : true ROO
  IsHMCPowerVMManagementMaster : false ROO
  IsNotPowerVMManagementMaster : false ROO
  IsPowerVMManagementNormalMaster : true ROO
  IsPowerVMManagementPersistentMaster : false ROO
  IsPowerVMManagementTemporaryMaster : false ROO
  IsPowerVMManagementPartitionEnabled : true ROO
  ProcessorThrottling : false ROR
  SupportedIBMiConsoleCodePage ~ ibmi_console_code_pages ROR
  Description : CUD
  SystemLocation : CUD
  AssociatedGroups ROO
  AssociatedTasks ROO
''')
