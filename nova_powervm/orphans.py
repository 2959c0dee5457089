"""What a nova-compute that died, or an LPAR deleted outside nova, left
behind on the host; removed when the driver starts.

Left behind are things no partition owns, or things only a deploy that
never finished could have made:

- vSCSI and virtual FC mappings of partitions that are gone, or without a
  client adapter (pypowervm's ComprehensiveScrub, which also deletes the
  logical volumes and media they mapped).  The hdisks of volumes stay: an
  unmapped hdisk may be one of the VIOS's own disks, and the next attach
  of its LUN finds it again;
- boot disks, rescue disks and snapshot copies that nothing maps: a
  deploy (or a rescue) that died between making the disk and mapping it.
  The driver knows its own by their names ('b_', 'r_' or 's_' and the
  instance UUID's hex digits); a volume named otherwise is never touched.
  In a shared storage pool, which other hosts use as well, only boot and
  rescue disks of this host's own LPARs are removed: an unmapped disk of
  another host may be a deploy in progress there;
- config drive media that nothing maps ('cfg_' ... '.iso');
- trunk adapters of Open vSwitch VIFs that serve no client adapter, with
  their Open vSwitch ports.

The LPAR of a deploy that died stays: nova puts its instance in ERROR, and
the destroy that follows removes the LPAR and whatever is mapped to it.
"""

import re

from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import storage as pvm_storage
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

LOG = logging.getLogger(__name__)

# Logical volumes the driver makes: boot disks ('b_'), rescue disks ('r_')
# and snapshot copies ('s_'), named after the instance UUID's first 13 hex
# digits (AIX allows 15 characters).
_DRIVER_VOLUME = re.compile(r'^[brs]_[0-9a-f]{13}$')
# Boot and rescue disk LUs in a shared storage pool carry all 32 digits.
_DRIVER_LU = re.compile(r'^[br]_(?P<digits>[0-9a-f]{32})$')
_MEDIA_PREFIX = 'cfg_'
_MEDIA_SUFFIX = '.iso'


def remove(adapter, host_uuid, platform, novalink_vswitch):
    """Remove what nothing owns any more from the host ``host_uuid``.

    :param platform: the mgmt.Platform holding the Open vSwitch ports.
    :param novalink_vswitch: the switch of the Open vSwitch VIFs' trunks.
    """
    # First the mappings: what they leave unmapped is found next.
    pvm_storage.ComprehensiveScrub(adapter, host_uuid=host_uuid).execute()
    vioses = pvm_vios.VIOS.get(adapter, parent_type=pvm_ms.System,
                               parent_uuid=host_uuid,
                               xag=[pvm_const.XAG.VIO_SMAP])
    for vios_w in vioses:
        _remove_unmapped_volume_storage(adapter, vios_w)
    _remove_unmapped_boot_lus(adapter, vioses)
    _remove_orphan_trunks(adapter, platform, novalink_vswitch)


def _mapped_storage(vios_w):
    """(UDIDs, names) of the storage ``vios_w``'s vSCSI mappings map."""
    storage = [mapping.backing_storage for mapping in vios_w.scsi_mappings
               if mapping.backing_storage is not None]
    return ({stg.udid for stg in storage if stg.udid},
            {stg.name for stg in storage})


def _short_name(vdisk):
    # NovaLink may name a logical volume by its device path.
    return vdisk.name.rsplit('/', 1)[-1]


def _is_driver_media(medium):
    return medium.name.startswith(_MEDIA_PREFIX) and \
        medium.name.endswith(_MEDIA_SUFFIX)


def _remove_unmapped_volume_storage(adapter, vios_w):
    """Delete the driver's volumes and media on ``vios_w`` that no mapping
    of it uses (a logical volume is only ever mapped by its own VIOS)."""
    udids, names = _mapped_storage(vios_w)
    for vg_w in pvm_stg.VG.get(adapter, parent=vios_w):
        vdisks = [vdisk for vdisk in vg_w.virtual_disks
                  if _DRIVER_VOLUME.match(_short_name(vdisk))
                  and vdisk.udid not in udids]
        media = [medium for repo in vg_w.vmedia_repos
                 for medium in repo.optical_media
                 if _is_driver_media(medium) and medium.name not in names]
        if not (vdisks or media):
            continue
        LOG.warning('Deleting storage that no partition uses from volume '
                    'group %(vg)s of Virtual I/O Server %(vios)s: '
                    '%(names)s.', {'vg': vg_w.name, 'vios': vios_w.name,
                                   'names': [stg.name for stg
                                             in vdisks + media]})
        pvm_storage.rm_vg_storage(vg_w, vdisks=vdisks, vopts=media)


def _lpar_key(uuid_digits):
    """The hex digits of the LPAR UUID made from an instance UUID's digits
    (PowerVM clears the top bit)."""
    return '%x%s' % (int(uuid_digits[0], 16) & 7, uuid_digits[1:])


def _remove_unmapped_boot_lus(adapter, vioses):
    """Delete boot disk LUs of this host's LPARs that no VIOS of the host
    maps."""
    own_lpars = {lpar_w.uuid.replace('-', '').lower()
                 for lpar_w in pvm_partition.get_partitions(
                     adapter, lpars=True, vioses=False)}
    udids = set()
    for vios_w in vioses:
        udids |= _mapped_storage(vios_w)[0]
    for ssp_w in pvm_stg.SSP.get(adapter):
        lus = [lu for lu in ssp_w.logical_units
               if lu.lu_type == pvm_stg.LUType.DISK
               and lu.udid not in udids and _of_lpar(lu, own_lpars)]
        if lus:
            LOG.warning('Deleting boot disks that no partition uses from '
                        'shared storage pool %(ssp)s: %(names)s.',
                        {'ssp': ssp_w.name, 'names': [lu.name for lu in lus]})
            pvm_storage.rm_ssp_storage(ssp_w, lus, del_unused_images=False)


def _of_lpar(lu, lpar_keys):
    match = _DRIVER_LU.match(lu.name)
    return match is not None and _lpar_key(match['digits']) in lpar_keys


def _remove_orphan_trunks(adapter, platform, vswitch_name):
    """Delete trunk adapters of Open vSwitch VIFs whose client adapter is
    gone, and the Open vSwitch ports of them."""
    for trunk in pvm_cna.find_orphaned_trunks(adapter, vswitch_name):
        LOG.warning('Deleting trunk adapter %s, which serves no client '
                    'adapter.', trunk.dev_name)
        if trunk.ovs_bridge and trunk.dev_name:
            platform.unplug_ovs_port(adapter, trunk.ovs_bridge,
                                     trunk.dev_name)
        trunk.delete()
