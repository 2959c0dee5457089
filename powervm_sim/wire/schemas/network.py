"""Schemas of virtual networking: VirtualSwitch, VirtualNetwork,
ClientNetworkAdapter (trunk adapters included), NetworkBridge with its
Shared Ethernet Adapters and load groups, and the network sections of the
VirtualIOServer document.

A trunk adapter has the same body wherever it appears (its own
ClientNetworkAdapter document, a SEA, a load group, the VIOS's
TrunkAdapters section), and a SEA the same body in the NetworkBridge and
in the VIOS document, so each is written once and indented into place.
"""

from powervm_sim.wire import spec

VSWITCH = spec.compile_schema('''
VirtualSwitch
  SwitchID ~ switch_id:int ROR
  SwitchMode = mode CUD
  SwitchName [required] = name CUD
  VirtualNetworks * vnet_hrefs CUD
    link -> href
''')

VIRTUAL_NETWORK = spec.compile_schema('''
VirtualNetwork
  AssociatedSwitch -> vswitch_href COD
  NetworkName [required] = name CUR
  NetworkVLANID [required] = vlan:int COD
  VswitchID = vswitch_id:int ROR
  TaggedNetwork = tagged:bool COD
''')

# The body of a virtual Ethernet adapter (CNA or trunk), at indentation 2.
_ADAPTER_BODY = '''
  DynamicReconfigurationConnectorName ~ location_code CUD
  LocationCode ~ location_code ROR
  LocalPartitionID ~ parent.partition_id CUR
  RequiredAdapter : false CUD
  VariedOn : true CUD
  UseNextAvailableSlotID = use_next_slot:bool CUD
  UseNextAvailableHighSlotID = use_next_high_slot:bool CUD
  VirtualSlotNumber = slot:int COD
  Enabled = enabled:bool UOD
  AllowedOperatingSystemMACAddresses : ALL CUD
  MACAddress = mac CUR
  PortVLANID [required] = pvid:int CUR
  QualityOfServicePriority : 0 CUD
  QualityOfServicePriorityEnabled : false CUD
  TaggedVLANIDs = tagged_vlan_text CUA
  TaggedVLANSupported = tagged_vlans_supported:bool CUA
  AssociatedVirtualSwitch CUD
    link -> vswitch_href
  VirtualSwitchID = vswitch_id:int ROR
  IPAddress [group=Advanced] ~ ip_address ROR
  SubnetMask [group=Advanced] ~ subnet_mask ROR
  Gateway [group=Advanced] ~ gateway ROR
  DeviceName = device_name ROR
  TrunkPriority = trunk_priority:int CUD
  ConfiguredMTU = mtu:int CUD
  OvsBridge = ovs_bridge CUD
  OvsPortExternalIds = ovs_ext_ids CUD
  VirtualNetworks * vnet_hrefs CUR
    link -> href
'''


def _indented(outline, depth):
    """``outline`` (written at indentation 2) moved to ``depth``."""
    pad = ' ' * (depth - 2)
    return ''.join(pad + line if line.strip() else line
                   for line in outline.splitlines(True))


def _read_only(outline):
    """The outline with its client-writable fields made read-only.

    The VIOS document shows SEAs and trunk adapters but pypowervm never
    changes them through it (it posts ViosNetwork only to the
    NetworkBridge), so the VIOS parses none of their fields.
    """
    return spec.optional(outline).replace(' = ', ' ~ ')


CNA = spec.compile_schema('ClientNetworkAdapter' + _ADAPTER_BODY)


def _trunk_list(depth):
    """A TrunkAdapters list (a SEA's or a load group's) at ``depth``."""
    return (_indented('\n  TrunkAdapters * trunks CUD\n    TrunkAdapter',
                      depth) + _indented(_ADAPTER_BODY, depth + 4))


_IP_INTERFACE = '''
  IPInterface ? ip_interface CUD
    InterfaceName ~ name CUD
    IPAddress ~ address CUD
    SubnetMask ~ netmask CUD
    State ~ state CUD
'''

# A Shared Ethernet Adapter, as an item of a SharedEthernetAdapters list
# at indentation 4.  Real documents put IPInterface after TrunkAdapters
# and IsPrimary, not where pypowervm's element order has it.
_SEA = '''
    SharedEthernetAdapter
      AssignedVirtualIOServer -> vios_href CUD
      ControlChannelInterfaceName ~ control_channel CUD
      BackingDeviceChoice CUD
        EthernetBackingDevice ? port
          AdapterID ~ adapter_id:int ROR
          Description ~ description CUD
          DeviceName ~ device_name ROR
          DeviceType : physicalEthernetAdpter ROR
          DynamicReconfigurationConnectorName ~ location_code CUD
          PhysicalLocation ~ location_code ROR
          UniqueDeviceID ~ udid ROR''' + _indented(_IP_INTERFACE, 10) + '''
      HighAvailabilityMode ~ ha_mode CUD
      DeviceName = device_name CUD
      JumboFramesEnabled : false UOD
      PortVLANID ~ pvid:int ROR
      QualityOfServiceMode : disabled CUD
      QueueSize : 8192 UOD
      ThreadModeEnabled : true CUD''' + _trunk_list(6) + '''
      IsPrimary ~ is_primary:bool CUD''' + _indented(_IP_INTERFACE, 6) + '''
      UniqueDeviceID ~ udid ROR
      LargeSend : true CUD
      ConfigurationState : Configured CUD
'''

NETWORK_BRIDGE = spec.compile_schema('''
NetworkBridge
  ControlChannelID ~ control_channel_id:int CUD
  FailoverEnabled ~ failover:bool CUD
  LoadBalancingEnabled ~ load_balance:bool CUD
  LoadGroups * load_groups CUD
    LoadGroup
      PortVLANID [required] = pvid:int CUR''' + _trunk_list(6) + '''
      VirtualNetworks * vnet_hrefs CUD
        link -> href
  PortVLANID ~ pvid:int COR
  SharedEthernetAdapters * seas CUD''' + _SEA + '''
  UniqueDeviceID ~ udid ROR
  VirtualNetworks * vnet_hrefs ROR
    link -> href
''')

# Sections of the VirtualIOServer document (ViosNetwork group), shown but
# never changed through the VIOS.
VIOS_SEAS = _read_only(
    '\n  SharedEthernetAdapters [group=ViosNetwork] * seas CUD' + _SEA)

VIOS_TRUNK_ADAPTERS = _read_only(
    '\n  TrunkAdapters [group=ViosNetwork] * trunk_adapters CUD'
    '\n    TrunkAdapter' + _indented(_ADAPTER_BODY, 6))
