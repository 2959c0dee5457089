"""Schema of physical I/O adapters and of a partition's I/O slots (the
cards assigned to it, such as a VIOS's Fibre Channel cards).

pypowervm finds a VIOS's physical FC ports (``VIOS.pfc_ports``) down this
path; the NPIV mapping code picks ports by their WWPN and AvailablePorts.
"""

import textwrap

from powervm_sim.wire.schemas import storage

# A physical FC port; shared with the Port and PhysicalPort elements of the
# VFC mappings.  The children of an element at six spaces' indentation.
FC_PORT_BODY = '''
      LocationCode ~ location_code ROR
      PortName ~ name CUR
      UniqueDeviceID ~ udid ROR
      WWPN ~ wwpn CUR
      WWNN ~ wwnn ROO
      AvailablePorts ~ available_ports:int ROR
      TotalPorts ~ total_ports:int ROR
'''


def _deeper(body, spaces):
    """``body`` indented ``spaces`` further."""
    return textwrap.indent(body, ' ' * spaces)


# The port as a partition's I/O slots show it: with the disks the VIOS
# reaches through it (recordings: a disk under each port that sees it,
# an empty list under a port without disks).
_PORT_WITH_DISKS = FC_PORT_BODY.replace(
    '\n      PortName', '\n      PhysicalVolumes [group=ViosStorage] * '
    'physical_volumes CUD' + _deeper(storage.PHYSICAL_VOLUME, 4).rstrip('\n') +
    '\n      PortName', 1)


# The children of a physical adapter (IOAdapter) at indentation 2, as the
# ManagedSystem document and a partition's I/O slots show it; its object is
# a model.system.SlotView.
IO_ADAPTER_BODY = '''
  AdapterID ~ card.drc_index ROR
  Description ~ card.description CUD
  DeviceName ~ card.drc_name ROR
  DynamicReconfigurationConnectorName ~ card.drc_name CUD
  PhysicalLocation ~ card.physical_location ROR
  UniqueDeviceID ~ card.pci_device_id ROR
  LogicalPartitionAssignmentCapable : true ROO
  DynamicPartitionAssignmentCapable : true ROR
'''

# The parts of a physical slot (model.system.SlotView) that the
# ManagedSystem's IOSlot and a partition's AssociatedIOSlot share, at
# indentation 2: what holds the slot, then the card's PCI identity and the
# IBM i view of it, then its SR-IOV capability.
SLOT_OWNER = '''
  BusGroupingRequired : false CUD
  Description ~ card.description CUD
  FeatureCodes ~ card.feature_codes ROO
  IOUnitPhysicalLocation ~ card.io_unit ROR
  PartitionID ~ owner.partition_id ROO
  PartitionName ~ owner.name ROO
  PartitionType ~ owner.partition_type ROO
'''
SLOT_CARD = '''
  PCAdapterID ~ card.pci_device_id ROO
  PCIClass ~ card.pci_class ROO
  PCIDeviceID ~ card.pci_device_id ROO
  PCISubsystemDeviceID ~ card.pci_subsys_device_id ROO
  PCIManufacturerID ~ card.pci_manufacturer_id ROO
  PCIRevisionID ~ card.pci_revision_id ROO
  PCIVendorID ~ card.pci_vendor_id ROO
  PCISubsystemVendorID ~ card.pci_subsys_vendor_id ROO
  RelatedIBMiIOSlot CUD
    AlternateLoadSourceAttached : false ROR
    ConsoleCapable : false ROR
    DirectOperationsConsoleCapable : false ROR
    IOP : false ROR
    IOPInfoStale : false ROR
    IOPoolID : 65535 ROR
    LANConsoleCapable : false ROR
    LoadSourceAttached : false ROR
    LoadSourceCapable : false ROR
    OperationsConsoleAttached : false ROR
    OperationsConsoleCapable : false ROR
'''
SLOT_SRIOV = '''
  SlotDynamicReconfigurationConnectorName ~ card.drc_name CUD
  SlotPhysicalLocationCode ~ card.physical_location ROR
  SRIOVCapableDevice ~ sriov_capable ROO
  SRIOVCapableSlot : true ROO
  SRIOVLogicalPortsLimit ~ logical_port_limit ROO
'''


def _lines(body, spaces):
    """``body`` indented ``spaces`` further, without its surrounding
    newlines, to splice between two outline lines."""
    return _deeper(body, spaces).strip('\n')


# Inside PartitionIOConfiguration, at its indentation: the partition's
# physical slots (model.system.SlotView of each card it holds).  A client
# assigns a slot by its DRC index; pypowervm's IOSlot.bld sends nothing
# else that identifies it.
PROFILE_IO_SLOTS = '''
    ProfileIOSlots * profile_io_slots CUD
      ProfileIOSlot
        AssociatedIOSlot [required] CUD
''' + _lines(SLOT_OWNER, 8) + '\n' + _lines(SLOT_CARD, 8) + '''
          RelatedIOAdapter CUD
            IOAdapter ? is_generic_card''' + _deeper(
    IO_ADAPTER_BODY, 12).rstrip('\n') + '''
            PhysicalFibreChannelAdapter ? is_fc_card
              AdapterID ~ card.adapter_id ROR
              Description ~ card.description CUD
              DeviceName ~ card.drc_name ROR
              DynamicReconfigurationConnectorName ~ card.drc_name CUD
              PhysicalLocation ~ card.physical_location ROR
              PhysicalFibreChannelPorts * card.ports CUD
                PhysicalFibreChannelPort''' + _deeper(_PORT_WITH_DISKS, 12).rstrip('\n') + '''
          SlotDynamicReconfigurationConnectorIndex [required] = drc_index:int ROR
''' + _lines(SLOT_SRIOV, 8) + '''
        IsRequired = required:bool CUD
'''
