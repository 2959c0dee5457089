"""Schemas of vSCSI and virtual Fibre Channel mappings (VIOS sections)
and the client adapters they create."""

# Sections of the VirtualIOServer document.  Mappings are not modelled
# yet: the sections are served empty, as on a VIOS that maps nothing.
VIOS_FC_MAPPINGS = '''
  VirtualFibreChannelMappings [group=ViosFCMapping]
'''

VIOS_SCSI_MAPPINGS = '''
  VirtualSCSIMappings [group=ViosSCSIMapping]
'''
