"""Schemas of VirtualSwitch and ClientNetworkAdapter (incl. trunks)."""

from powervm_sim.wire import spec

VSWITCH = spec.compile_schema('''
VirtualSwitch
  SwitchID ~ switch_id:int COD
  SwitchMode = mode CUD
  SwitchName = name CUR
  VirtualNetworks * no_networks
    link -> href
''')

# Shared by CNAs and by the trunk adapters inside a VIOS document.
ADAPTER_BODY = '''
  AdapterType : Client ROR
  DynamicReconfigurationConnectorName ~ location_code ROR
  LocationCode ~ location_code ROR
  LocalPartitionID ~ parent.partition_id ROR
  RequiredAdapter : false CUD
  VariedOn : true ROR
  UseNextAvailableSlotID = use_next_slot:bool CUD
  UseNextAvailableHighSlotID = use_next_high_slot:bool CUD
  VirtualSlotNumber = slot:int COD
  Enabled = enabled:bool CUD
  AllowedOperatingSystemMACAddresses : ALL CUD
  MACAddress = mac COD
  PortVLANID = pvid:int CUD
  QualityOfServicePriority : 0 CUD
  QualityOfServicePriorityEnabled : false CUD
  TaggedVLANIDs = tagged_vlan_text CUD
  TaggedVLANSupported = tagged_vlans_supported:bool CUD
  AssociatedVirtualSwitch CUD
    link -> vswitch_href
  VirtualSwitchID = vswitch_id:int COD
  DeviceName ~ device_name ROR
  TrunkPriority = trunk_priority:int CUD
  ConfiguredMTU = mtu:int CUD
  OvsBridge = ovs_bridge CUD
  OvsPortExternalIds = ovs_ext_ids CUD
  VirtualNetworks * no_networks
    link -> href
'''

CNA = spec.compile_schema('ClientNetworkAdapter' + ADAPTER_BODY)

# Sections of the VirtualIOServer document (ViosNetwork group).
# Shared Ethernet adapters are not modelled yet: the section is served
# empty, as on a VIOS without a SEA.
VIOS_SEAS = '''
  SharedEthernetAdapters [group=ViosNetwork]
'''

# A trunk adapter inside the VIOS document is the same adapter body.
VIOS_TRUNK_ADAPTERS = '''
  TrunkAdapters [group=ViosNetwork] * trunk_adapters
    TrunkAdapter''' + ADAPTER_BODY.replace('\n  ', '\n      ')
