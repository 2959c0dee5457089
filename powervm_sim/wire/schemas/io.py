"""Schema of a partition's I/O slots (the physical adapters assigned to it,
such as a VIOS's Fibre Channel cards).

pypowervm finds a VIOS's physical FC ports (``VIOS.pfc_ports``) down this
path; the NPIV mapping code picks ports by their WWPN and AvailablePorts.
"""

import textwrap

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


# Inside PartitionIOConfiguration, at its indentation.  Each slot holds one
# card (PhysicalFCAdapter objects of the model).
PROFILE_IO_SLOTS = '''
    ProfileIOSlots * io_slots CUD
      ProfileIOSlot
        AssociatedIOSlot CUD
          BusGroupingRequired : false CUD
          Description ~ description CUD
          FeatureCodes ~ feature_codes ROO
          IOUnitPhysicalLocation ~ io_unit ROR
          PCAdapterID ~ pci_device_id ROO
          PCIClass ~ pci_class ROO
          PCIDeviceID ~ pci_device_id ROO
          PCISubsystemDeviceID ~ pci_subsys_device_id ROO
          PCIManufacturerID ~ pci_manufacturer_id ROO
          PCIRevisionID ~ pci_revision_id ROO
          PCIVendorID ~ pci_vendor_id ROO
          PCISubsystemVendorID ~ pci_subsys_vendor_id ROO
          RelatedIBMiIOSlot CUD
            AlternateLoadSourceAttached : false ROR
            ConsoleCapable : false ROR
            DirectOperationsConsoleCapable : false ROR
            IOP : false ROR
            IOPInfoStale : false ROR
            LANConsoleCapable : false ROR
            LoadSourceAttached : false ROR
            LoadSourceCapable : false ROR
            OperationsConsoleAttached : false ROR
            OperationsConsoleCapable : false ROR
          RelatedIOAdapter CUD
            PhysicalFibreChannelAdapter
              AdapterID ~ adapter_id ROR
              Description ~ description CUD
              DeviceName ~ drc_name ROR
              DynamicReconfigurationConnectorName ~ drc_name CUD
              PhysicalLocation ~ physical_location ROR
              PhysicalFibreChannelPorts * ports CUD
                PhysicalFibreChannelPort''' + _deeper(FC_PORT_BODY, 12).rstrip('\n') + '''
          SlotDynamicReconfigurationConnectorIndex ~ drc_index ROR
          SlotDynamicReconfigurationConnectorName ~ drc_name CUD
          SlotPhysicalLocationCode ~ physical_location ROR
        IsRequired : false CUD
'''
