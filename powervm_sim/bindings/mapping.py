"""Client and server adapters of vSCSI and VFC mappings; the VIOS
mapping sections."""
