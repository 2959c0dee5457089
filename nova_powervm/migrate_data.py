"""The data a PowerVM live migration carries between its hosts.

nova removed its PowerVMLiveMigrateData with the in-tree driver; this is
the same object on the wire (name, fields and versions of nova-powervm
9.0.0), on nova 34's LiveMigrateData.  The conductor deserialises it too,
so it must be registered in that process as well: see
``nova_powervm.objects_hook``.
"""

from nova.objects import base as obj_base
from nova.objects import fields
from nova.objects import migrate_data
from oslo_utils import versionutils

# The fields each version added, newest first: an older peer gets none of
# a later version's.  From 1.2 on, the base class's fields as nova added
# them to LiveMigrateData.
_ADDED_FIELDS = (
    ((1, 5), 'pci_dev_map_src_dst'),
    ((1, 4), 'vifs'),
    ((1, 3), 'wait_for_vif_plugged'),
    ((1, 2), 'old_vol_attachment_ids'),
    ((1, 1), 'vea_vlan_mappings'),
)


@obj_base.NovaObjectRegistry.register
class PowerVMLiveMigrateData(migrate_data.LiveMigrateData):
    """What the destination's checks tell the source, and back.

    The driver's own fields: the destination managed system
    (``dest_sys_name``), the management partition's IP address and user
    (``dest_ip``, ``dest_user_id``) and its public key, which the source's
    NovaLink uses to reach it; the destination's processor compatibility
    modes (``dest_proc_compat``); its migration capacity
    (``host_mig_data``); the VLANs of the OVS trunk adapters per VIF
    (``vea_vlan_mappings``, None for an adapter without one); and what the
    volume adapters need at the destination (``vol_data``).

    What nova's compute manager does with the base class's fields for
    this class (nova 34):

    - ``vifs``: check_can_live_migrate_destination fills it from the
      instance's network info when the driver did not (neutron with port
      bindings); the conductor binds the ports on the destination from it,
      and the source unplugs the VIFs listed there after the migration.
    - ``wait_for_vif_plugged``: set on the destination after the driver's
      pre_live_migration; the source waits for network-vif-plugged events
      only when it is true.
    - ``old_vol_attachment_ids``, ``migration``, ``pci_dev_map_src_dst``:
      set by nova itself (``pci_dev_map_src_dst`` always, so a peer must
      know version 1.5 to get this object from a nova 34 destination).
    - ``_live_migration_cleanup_flags`` looks only for libvirt's and
      Hyper-V's classes: for this one it answers no clean-up and no disks
      destroyed.  So after a live migration nova never calls the driver's
      ``cleanup`` on the source, and on a rollback never calls its
      ``rollback_live_migration_at_destination``: the driver's
      ``post_live_migration_at_source`` and
      ``rollback_live_migration_at_source`` must remove what is left.
    """

    # Version 1.0: Initial version
    # Version 1.1: Added vea_vlan_mappings
    # Version 1.2: Inherited old_vol_attachment_ids from LiveMigrateData
    # Version 1.3: Inherited wait_for_vif_plugged from LiveMigrateData
    # Version 1.4: Inherited vifs from LiveMigrateData
    # Version 1.5: Inherited pci_dev_map_src_dst from LiveMigrateData
    VERSION = '1.5'

    fields = {
        'dest_sys_name': fields.StringField(),
        'dest_ip': fields.StringField(),
        'dest_user_id': fields.StringField(),
        'public_key': fields.StringField(),
        'dest_proc_compat': fields.StringField(),
        'host_mig_data': fields.DictOfNullableStringsField(),
        'vea_vlan_mappings': fields.DictOfNullableStringsField(),
        'vol_data': fields.DictOfNullableStringsField(),
    }

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        target = versionutils.convert_version_to_tuple(target_version)
        for added_in, name in _ADDED_FIELDS:
            if target < added_in:
                primitive.pop(name, None)
