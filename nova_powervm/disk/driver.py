"""What every disk driver (where instance boot disks live) provides.

A boot disk is made from a Glance image, mapped (vSCSI) to the instance's
LPAR by the Virtual I/O Servers that serve the storage, and found again by
its name, which comes from the instance's UUID: the steps that undo a
failed deploy, and a destroy after nova-compute lost track, need nothing
else to find it.
"""

import abc
import copy
import typing

from nova import exception
from nova.image import glance
from oslo_log import log as logging
from pypowervm.tasks import scsi_mapper as pvm_smap

from nova_powervm import mappings

LOG = logging.getLogger(__name__)

GIB = 1024 ** 3


class DiskCapacity(typing.NamedTuple):
    """Space for instance disks, in GB."""

    total_gb: float
    used_gb: float


# What a disk driver's disk of an instance is: its boot disk, or the
# rescue disk a rescue boots instead (nova-powervm's disk type 'rescue').
BOOT_PREFIX = 'b_'
RESCUE_PREFIX = 'r_'


def boot_disk_name(instance, max_len, prefix=BOOT_PREFIX):
    """The name of ``instance``'s boot disk: 'b_' (``prefix``: 'r_' for
    its rescue disk) and its UUID's digits, as many as ``max_len`` allows
    (AIX logical volumes take 15)."""
    return (prefix + instance.uuid.replace('-', ''))[:max_len]


def raw_image_size(image_meta):
    """Bytes of the raw disk image ``image_meta`` describes.

    Boot disks get the image's bytes as they are: an image in another
    format would make a disk nothing boots from.

    :raises nova.exception.ImageUnacceptable: not a raw disk image, or
            one without data.
    """
    disk_format = _field(image_meta, 'disk_format') or 'raw'
    if disk_format != 'raw':
        raise exception.ImageUnacceptable(
            image_id=image_meta.id,
            reason='the PowerVM driver boots raw disk images only, not %s'
            % disk_format)
    if not _field(image_meta, 'size'):
        raise exception.ImageUnacceptable(
            image_id=image_meta.id, reason='the image has no data')
    return image_meta.size


def _field(image_meta, name):
    return getattr(image_meta, name) if image_meta.obj_attr_is_set(name) \
        else None


def root_disk_bytes(instance, floor):
    """Bytes of the instance's boot disk: the flavor's root disk, or
    ``floor`` (the image's size) for flavors that leave it to the image
    (root_gb 0) or ask for less than it needs."""
    return max(instance.flavor.root_gb * GIB, floor)


def image_chunks(context, image_id):
    """The image's bytes from Glance, chunk by chunk, never whole.

    A generator: the download starts at the first chunk asked for, so a
    step that fails before reading opens no connection to Glance.
    """
    yield from glance.API().download(context, image_id)


class DiskAdapter(abc.ABC):
    """Storage for instance boot disks on one managed system.

    :param adapter: the pypowervm Adapter.
    :param host_uuid: UUID of the managed system.
    """

    # pypowervm's wrapper class of this driver's disks, as a vSCSI mapping
    # shows its backing storage.
    disk_wrapper_class = None
    # Whether other hosts reach the disks too: a move to another host then
    # takes the disk along.
    shared = False
    # The names of this driver's disks start with it (see for_rescue).
    disk_prefix = BOOT_PREFIX

    def __init__(self, adapter, host_uuid):
        self.adapter = adapter
        self.host_uuid = host_uuid

    def for_rescue(self):
        """This disk driver, for instances' rescue disks ('r_' and the
        UUID's digits) rather than their boot disks: each of its methods
        makes, finds, maps, unmaps or deletes the rescue disk.  The image
        cache is the same."""
        rescue = copy.copy(self)
        rescue.disk_prefix = RESCUE_PREFIX
        return rescue

    @property
    @abc.abstractmethod
    def vios_uuids(self):
        """UUIDs of the VIOSes of this host that map the disks to LPARs."""

    @abc.abstractmethod
    def capacity(self):
        """A DiskCapacity read from NovaLink now (one REST call)."""

    @property
    @abc.abstractmethod
    def storage_id(self):
        """What names the storage the disks are in: the same on every
        host that reaches it."""

    @abc.abstractmethod
    def disk_name(self, instance):
        """The name of ``instance``'s boot disk."""

    @abc.abstractmethod
    def find_disk(self, instance):
        """The storage wrapper (to map) of ``instance``'s boot disk.

        :raises nova.exception.DiskNotFound: there is none.
        """

    @abc.abstractmethod
    def extend_disk(self, instance, size_bytes):
        """Grow ``instance``'s boot disk to ``size_bytes`` (rounded up as
        the storage rounds); a disk as large already stays as it is.

        :raises nova.exception.DiskNotFound: there is none.
        """

    @abc.abstractmethod
    def create_disk_from_image(self, context, instance, image_meta):
        """Make ``instance``'s boot disk holding the image; returns the
        disk's storage wrapper (to map)."""

    @abc.abstractmethod
    def cache_image(self, context, image_meta):
        """Have the image this host's disks are made from (uploaded from
        Glance if need be), without making a disk: a rebuild learns that
        Glance serves the image before it deletes the old disk."""

    def instance_on_disk(self, instance):
        """Whether ``instance``'s boot disk, made by whichever host, is in
        storage this host reaches (nova's question before it recreates an
        instance here from its disk: evacuate)."""
        if not self.shared:
            return False
        try:
            self.find_disk(instance)
        except exception.DiskNotFound:
            return False
        return True

    @abc.abstractmethod
    def delete_disk(self, instance):
        """Delete ``instance``'s boot disk; a disk already gone is fine.

        :returns: whether there was a disk to delete.
        """

    @abc.abstractmethod
    def snapshot_source(self, instance):
        """A context manager giving ``(vios_uuid, storage wrapper)`` of a
        disk holding the boot disk's bytes, for a snapshot to read through
        the management partition; whatever it made is gone on exit."""

    # ------------------------------------------------------------ mapping
    def connect_disk(self, instance, disk, media=None):
        """Map ``disk`` to ``instance``'s LPAR from every serving VIOS.

        :param media: ``(vios_uuid, VOptMedia)`` of the config drive, to
                      map to the LPAR in the same update of that VIOS: a
                      deploy then changes each VIOS once.
        """
        changes = [(vios_uuid, mappings.add_vscsi(
            instance, self._storage_for_mapping(disk), 'boot disk'))
            for vios_uuid in self.vios_uuids]
        if media is not None:
            media_vios_uuid, vopt = media
            changes.append((media_vios_uuid, mappings.add_vscsi(
                instance, vopt, 'config drive')))
        mappings.change(self.adapter, changes)

    def _storage_for_mapping(self, disk):
        """The storage element of one VIOS's mapping of ``disk``.

        A mapping takes in the wrapper's XML element itself, and an
        element sits in one document only: drivers whose disks several
        VIOSes map (at once, in threads) make a new one per mapping.
        """
        return disk

    def disconnect_disk(self, instance):
        """Remove every vSCSI mapping of ``instance``'s boot disk.

        Whatever partition it goes to: the instance's LPAR, an LPAR that is
        gone (an orphan mapping), or the management partition (a snapshot
        that nova-compute did not live to finish).
        """
        match = pvm_smap.gen_match_func(self.disk_wrapper_class,
                                        names=[self.disk_name(instance)])
        mappings.change(self.adapter, [
            (vios_uuid, mappings.remove_vscsi(instance, match, 'boot disk'))
            for vios_uuid in self.vios_uuids])
