"""Schemas of vSCSI and virtual Fibre Channel mappings (VIOS sections)
and the client adapters they create."""

# Sections of the VirtualIOServer document.
VIOS_FC_MAPPINGS = '''
  VirtualFibreChannelMappings [group=ViosFCMapping] * fc_mappings
    VirtualFibreChannelMapping ~ uuid
'''

VIOS_SCSI_MAPPINGS = '''
  VirtualSCSIMappings [group=ViosSCSIMapping] * scsi_mappings
    VirtualSCSIMapping ~ uuid
'''
