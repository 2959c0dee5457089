"""vSCSI and virtual Fibre Channel mappings and their adapters."""


class MappingOps:
    """Mapping behaviour of the model (mixed into ``Model``)."""
