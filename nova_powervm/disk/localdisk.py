"""Instance disks as logical volumes of a volume group on a VIOS.

Each image is uploaded from Glance once, into an image cache logical volume
named after it ('i_' and the image UUID's digits); an instance's boot disk
is a copy of that volume, as large as the flavor's root disk.
"""

import contextlib
import math

from nova import exception
from oslo_concurrency import lockutils
from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import storage as pvm_tstg
from pypowervm.utils import transaction as pvm_tx
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import batch
from nova_powervm import conf
from nova_powervm.disk import driver
from nova_powervm import exception as pvm_nova_exc
from nova_powervm import undo

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# The VIOS's own operating system volume group: never for instance disks.
ROOTVG = 'rootvg'
# AIX logical volume names have at most 15 characters.
MAX_NAME_LEN = 15
IMAGE_PREFIX = 'i_'
SNAPSHOT_PREFIX = 's_'


def find_volume_group(adapter, name=''):
    """The (VIOS, VG) wrappers of the volume group for instance disks.

    :param name: the volume group's name; empty means the first volume
                 group other than rootvg on an active VIOS.
    :raises VolumeGroupNotFound: no active VIOS has such a volume group.
    """
    for vios_w in pvm_partition.get_active_vioses(adapter):
        for vg_w in pvm_stg.VG.get(adapter, parent=vios_w):
            if vg_w.name == name or (not name and vg_w.name != ROOTVG):
                return vios_w, vg_w
    raise pvm_nova_exc.VolumeGroupNotFound(
        name=name or '(other than %s)' % ROOTVG)


def image_cache_name(image_id):
    """The image cache volume of Glance image ``image_id``."""
    return (IMAGE_PREFIX + image_id.replace('-', ''))[:MAX_NAME_LEN]


def snapshot_copy_name(instance):
    """The volume a snapshot of ``instance`` copies its boot disk to."""
    return (SNAPSHOT_PREFIX + instance.uuid.replace('-', ''))[:MAX_NAME_LEN]


def _short_name(vdisk):
    # NovaLink may name a logical volume by its device path.
    return vdisk.name.rsplit('/', 1)[-1]


class _SourceGone(Exception):
    """The volume to copy is no longer in the volume group."""


def _size_bytes(vdisk):
    return round(vdisk.capacity * driver.GIB)


class LocalStorage(driver.DiskAdapter):
    """Boot disks in one volume group (``[powervm] volume_group_name``)."""

    disk_wrapper_class = pvm_stg.VDisk

    def __init__(self, adapter, host_uuid):
        super().__init__(adapter, host_uuid)
        vios_w, vg_w = find_volume_group(adapter,
                                         CONF.powervm.volume_group_name)
        LOG.info('Instance disks go to volume group %(vg)s of VIOS '
                 '%(vios)s.', {'vg': vg_w.name, 'vios': vios_w.name})
        self.vios_uuid = vios_w.uuid
        self.vg_uuid = vg_w.uuid
        # Image ID -> its cache volume, uploaded by this process or found
        # while no upload of it ran (complete): copied without a lookup.
        self._image_volumes = {}
        # Boot disk copies of deploys running at once.
        self._copies = batch.Batched(self._copy_batch)

    @property
    def vios_uuids(self):
        return [self.vios_uuid]

    @property
    def storage_id(self):
        return self.vg_uuid

    def _volume_group(self):
        return pvm_stg.VG.get(self.adapter, uuid=self.vg_uuid,
                              parent_type=pvm_vios.VIOS,
                              parent_uuid=self.vios_uuid)

    def _volume_group_update(self, name, change):
        """Read the volume group and update it if ``change(vg_w)`` says it
        changed it; the read is under pypowervm's lock of the volume
        group, and done again when another update came in between."""
        update = pvm_tx.WrapperTask(name, pvm_stg.VG.getter(
            self.adapter, self.vg_uuid, parent_class=pvm_vios.VIOS,
            parent_uuid=self.vios_uuid))
        update.add_functor_subtask(change)
        vg_w, _provided = update.execute()
        return vg_w

    def _find_vdisks(self, name, vg_w=None):
        vg_w = vg_w or self._volume_group()
        return [vdisk for vdisk in vg_w.virtual_disks
                if _short_name(vdisk) == name]

    def _remove_vdisks(self, name):
        vg_w = self._volume_group()
        vdisks = self._find_vdisks(name, vg_w)
        if vdisks:
            LOG.info('Deleting logical volume %(name)s of volume group '
                     '%(vg)s.', {'name': name, 'vg': vg_w.name})
            pvm_tstg.rm_vg_storage(vg_w, vdisks=vdisks)
        return bool(vdisks)

    def capacity(self):
        vg_w = self._volume_group()
        total = float(vg_w.capacity)
        return driver.DiskCapacity(
            total_gb=total, used_gb=total - float(vg_w.available_size))

    def disk_name(self, instance):
        return driver.boot_disk_name(instance, MAX_NAME_LEN,
                                     self.disk_prefix)

    def create_disk_from_image(self, context, instance, image_meta):
        image_w = self._image_volume(context, image_meta)
        name = self.disk_name(instance)
        LOG.info('Copying image volume %(image)s to boot disk %(disk)s.',
                 {'image': image_w.name, 'disk': name}, instance=instance)
        size = driver.root_disk_bytes(instance, _size_bytes(image_w))
        try:
            return self._copy_vdisk(image_w, name, size)
        except _SourceGone:
            # Someone removed the image cache volume: upload it again.
            self._image_volumes.pop(image_meta.id, None)
            image_w = self._image_volume(context, image_meta)
            return self._copy_vdisk(image_w, name, size)

    def _copy_vdisk(self, source_w, name, size_bytes):
        """A new volume ``name`` holding ``source_w``'s data, of
        ``size_bytes`` rounded up to whole GB (what NovaLink takes).

        Made in the same read and update of the volume group as the
        copies of deploys running at the same time.

        :raises _SourceGone: the volume group no longer has ``source_w``.
        """
        return self._copies.do(
            (source_w, name, math.ceil(size_bytes / driver.GIB)))

    def _copy_batch(self, copies):
        """Make the ``(source_w, name, size_gb)`` copies with one read and
        one update of the volume group; each outcome is the new volume, or
        the exception for its caller."""
        outcomes = [None] * len(copies)

        def add_copies(vg_w):
            present = {vdisk.udid for vdisk in vg_w.virtual_disks}
            added = False
            for index, (source_w, name, size_gb) in enumerate(copies):
                if source_w.udid not in present:
                    outcomes[index] = _SourceGone()
                    continue
                outcomes[index] = None
                vg_w.virtual_disks.append(pvm_stg.VDisk.bld(
                    self.adapter, name, size_gb, base_image=source_w.udid))
                added = True
            return added

        # Another batch of this process cannot change the volume group
        # between the read and the update.
        vg_w = self._volume_group_update('copy_volumes', add_copies)
        for index, (_source_w, name, _size_gb) in enumerate(copies):
            if outcomes[index] is None:
                made = self._find_vdisks(name, vg_w)
                outcomes[index] = made[0] if made else pvm_exc.Error(
                    'Volume group %s shows no volume %s after adding it.'
                    % (vg_w.name, name))
        return outcomes

    def cache_image(self, context, image_meta):
        self._image_volume(context, image_meta)

    def _image_volume(self, context, image_meta):
        """The image cache volume of the image, uploaded if need be."""
        known = self._image_volumes.get(image_meta.id)
        if known is not None:
            return known
        name = image_cache_name(image_meta.id)
        # Deploys of one image wait for the first one's upload, then copy
        # what it uploaded, rather than uploading the image again (or
        # copying a volume still being written).
        with lockutils.lock('powervm-image-%s' % image_meta.id):
            cached = self._find_vdisks(name)
            if cached:
                self._image_volumes[image_meta.id] = cached[0]
                return cached[0]
            size = driver.raw_image_size(image_meta)
            LOG.info('Uploading image %(image)s (%(size)d bytes) to '
                     'logical volume %(name)s.',
                     {'image': image_meta.id, 'size': size, 'name': name})
            try:
                vdisk_w, leftover = pvm_tstg.upload_new_vdisk(
                    self.adapter, self.vios_uuid, self.vg_uuid,
                    driver.image_chunks(context, image_meta.id), name, size)
            except Exception:
                # pypowervm removes the volume when the data failed to
                # arrive, not when the upload failed before that: a
                # volume left here would pass for the image, empty.
                undo.quietly(self._remove_vdisks, name)
                raise
            if leftover is not None:
                LOG.warning('NovaLink kept the record %s of the upload of '
                            'image %s; it does no harm.', leftover.uuid,
                            image_meta.id)
            self._image_volumes[image_meta.id] = vdisk_w
            return vdisk_w

    def delete_disk(self, instance):
        return self._remove_vdisks(self.disk_name(instance))

    def find_disk(self, instance):
        name = self.disk_name(instance)
        found = self._find_vdisks(name)
        if not found:
            raise self._not_found(name)
        return found[0]

    def _not_found(self, name):
        return exception.DiskNotFound(location='%s/%s' % (
            CONF.powervm.volume_group_name or self.vg_uuid, name))

    def extend_disk(self, instance, size_bytes):
        name = self.disk_name(instance)
        # NovaLink sizes logical volumes in whole GB.
        size_gb = math.ceil(size_bytes / driver.GIB)

        def grow(vg_w):
            found = self._find_vdisks(name, vg_w)
            if not found:
                raise self._not_found(name)
            if found[0].capacity >= size_gb:
                return False
            LOG.info('Growing logical volume %(name)s from %(old)s GB to '
                     '%(new)d GB.', {'name': name, 'old': found[0].capacity,
                                     'new': size_gb}, instance=instance)
            found[0].capacity = size_gb
            return True

        self._volume_group_update('extend_%s' % name, grow)

    @contextlib.contextmanager
    def snapshot_source(self, instance):
        """A copy of the boot disk, deleted on exit.

        A logical volume backs one virtual target device at a time: the
        boot disk, mapped to its LPAR, cannot be mapped to the management
        partition as well.  A copy also holds still while the instance
        keeps writing to its disk.
        """
        boot_w = self.find_disk(instance)
        copy_name = snapshot_copy_name(instance)
        # A copy a snapshot left when nova-compute died in the middle.
        self._remove_vdisks(copy_name)
        try:
            copy_w = pvm_tstg.crt_copy_vdisk(
                self.adapter, self.vios_uuid, self.vg_uuid, boot_w.udid,
                _size_bytes(boot_w), copy_name)
            yield self.vios_uuid, copy_w
        except Exception:
            # Also after a copy whose answer was lost: it may exist.
            undo.quietly(self._remove_vdisks, copy_name)
            raise
        undo.retrying_once(self._remove_vdisks, copy_name)
