"""Schema of a partition's I/O slots (the physical adapters assigned to it,
such as a VIOS's Fibre Channel ports)."""

# Inside PartitionIOConfiguration, at its indentation.  No physical slots
# are modelled yet: the section is served empty.
PROFILE_IO_SLOTS = '''
    ProfileIOSlots CUD
      ProfileIOSlot * no_io_slots
        AssociatedIOSlot ~ href
'''
