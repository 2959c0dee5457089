"""Storage a Virtual I/O Server owns: physical volumes, volume groups, the
logical volumes (VirtualDisks) carved from them and the virtual media
repository holding optical media.

A volume group's lists are what a client edits: it reads the group, adds
or drops VirtualDisks or optical media and posts the whole group back, so
:meth:`StorageOps.update_volume_group` turns the posted lists into creates,
extensions and deletions.  The bytes of every disk and medium live in the
model's content store under the device's UDID.
"""

import base64
import dataclasses
import os
import re
import typing
import uuid as uuidlib
import weakref

from powervm_sim import files
from powervm_sim.model import registry

GIB = 1024 ** 3
MB_PER_GB = 1024
# Volume group sizes are reported to four decimals; a client echoes them
# back rounded, which must not read as a shrink.
GB_TOLERANCE = 1e-4
ROOTVG = 'rootvg'
MEDIA_LIBRARY = 'VMLibrary'
# AIX logical volume and optical media name rules (pypowervm's MaxLen).
_LV_NAME = re.compile(r'^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}$')
_MEDIA_NAME = re.compile(r'^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,36}$')
_MEDIA_UDID_PREFIX = '0e'

# Codes the simulator chose for failures pypowervm does not inspect.
NO_SPACE = 'HSCLB001'
NO_SHRINK = 'HSCLB002'
BAD_NAME = 'HSCLB003'
DUPLICATE_NAME = 'HSCLB004'
UNKNOWN_BASE = 'HSCLB005'
BAD_REPOSITORY = 'HSCLB006'
NO_REPOSITORY = 'HSCLB007'
IN_USE = 'HSCLB008'
NO_BACKING = 'HSCLB009'


def _bad(message, code):
    raise registry.Conflict(message, code=code, status=400)


@dataclasses.dataclass(kw_only=True, eq=False)
class PhysicalVolume:
    """A disk the VIOS sees (hdiskN), local SAS or FC-attached."""

    name: str
    udid: str
    capacity_mb: int
    unique_id: str
    # None for an iSCSI disk: it has no physical location.
    location_code: str | None
    description: str = 'SAS Disk Drive'
    fc_backed: bool = False
    # False once the disk belongs to a volume group or a mapping.
    available: bool = True
    state: str = 'active'
    reserve_policy: str = 'NoReserve'
    reserve_algorithm: str = 'Failover'
    reserve_key: str = 'none'
    storage_label: str | None = None
    page83: str | None = None
    read_iops: int | None = None
    write_iops: int | None = None
    encryption_state: str | None = None
    luks: 'LUKSEncryptor | None' = None
    # The names of the VIOS's FC ports that reach the disk (SAN disks).
    fc_ports: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(kw_only=True, eq=False)
class LUKSEncryptor:
    cipher: str = 'aes-xts-plain64'
    key_size: int = 256
    hash_spec: str = 'sha1'


# Virtual disk types (pypowervm's VDiskType) and the back stores NovaLink
# serves each type of disk with (BackStoreType), the default first.
LOGICAL_VOLUME = 'LogicalVolume'
FILE_DISK = 'File'
RBD_DISK = 'RBD'
BACKSTORES = {FILE_DISK: ('loop', 'fileio', 'user:qcow'),
              RBD_DISK: ('user:rbd',)}


@dataclasses.dataclass(kw_only=True, eq=False)
class ServedDisk:
    """A virtual disk the NovaLink partition serves from a file of its own
    or from a Ceph RBD image.  The vSCSI mapping that exports it makes it,
    and it goes with the mapping."""

    # The file's path, or the image's 'pool/image'.
    name: str
    disk_type: str
    backstore: str
    udid: str
    capacity_gb: float
    rbd_user: str | None = None

    @property
    def label(self):
        return self.name


@dataclasses.dataclass(kw_only=True, eq=False)
class VirtualDisk:
    """A logical volume of a volume group."""

    disk_type: typing.ClassVar[str] = LOGICAL_VOLUME
    backstore: typing.ClassVar[str | None] = None
    rbd_user: typing.ClassVar[str | None] = None

    name: str
    capacity_gb: float
    udid: str
    vg: 'VolumeGroup' = dataclasses.field(repr=False)
    label: str = 'None'
    file_format: str | None = None
    read_iops: int | None = None
    write_iops: int | None = None
    encryption_state: str | None = None
    luks: LUKSEncryptor | None = None
    # Request-only: the UDID of the disk a new disk copies.
    base_image = None

    @property
    def vg_href(self):
        return self.vg.href

    @property
    def size_bytes(self):
        return gb_to_bytes(self.capacity_gb)


@dataclasses.dataclass(kw_only=True, eq=False)
class OpticalMedia:
    """A virtual optical medium (an ISO) in a media repository."""

    name: str
    size_gb: float
    mount_type: str = 'rw'
    # The blob holding the image.  Not the UDID: that is made of the name
    # alone, and two VIOSes may each hold a medium of the same name.
    content_key: str

    @property
    def udid(self):
        return media_udid(self.name)


@dataclasses.dataclass(kw_only=True, eq=False)
class MediaRepository:
    """The VIOS's virtual media library, carved from one volume group."""

    name: str = MEDIA_LIBRARY
    size_gb: float = 10.0
    media: list = dataclasses.field(default_factory=list)

    @property
    def used_gb(self):
        return sum(m.size_gb for m in self.media)

    def find(self, name):
        for medium in self.media:
            if medium.name == name:
                return medium
        return None


@dataclasses.dataclass(kw_only=True, eq=False)
class VolumeGroup(registry.Resource):
    kind: typing.ClassVar[str] = 'VolumeGroup'

    name: str
    serial: str
    max_lvs: int = 1024
    # Physical partition size the group was made with.
    partition_size: int = 1
    physical_volumes: list = dataclasses.field(default_factory=list)
    vdisks: list = dataclasses.field(default_factory=list)
    media_repositories: list = dataclasses.field(default_factory=list)
    lv_count: int = 0

    @property
    def udid(self):
        return '04' + self.serial

    @property
    def capacity_gb(self):
        return round(sum(pv.capacity_mb for pv in self.physical_volumes) /
                     MB_PER_GB, 4)

    @property
    def used_gb(self):
        return (sum(vd.capacity_gb for vd in self.vdisks) +
                sum(repo.size_gb for repo in self.media_repositories))

    @property
    def free_gb(self):
        return round(self.capacity_gb - self.used_gb, 4)

    @property
    def available_gb(self):
        return self.free_gb

    @property
    def media_repository(self):
        return self.media_repositories[0] if self.media_repositories \
            else None

    def find_vdisk(self, name):
        for vdisk in self.vdisks:
            if vdisk.name == name:
                return vdisk
        return None

    def next_lv_udid(self):
        self.lv_count += 1
        return '03%s.%d' % (self.serial, self.lv_count)


def media_udid(name):
    return _MEDIA_UDID_PREFIX + name


def media_content_key(vios, name):
    """The content store key of medium ``name`` of ``vios``."""
    return 'media:%s:%s' % (vios.uuid, name)


def gb_to_bytes(size_gb):
    return int(round(size_gb * GIB))


def _unique_names(items, normalise, what):
    """``(name, item)`` pairs of a desired-state list; names must differ."""
    named = []
    seen = set()
    for item in items:
        name = normalise(item.get('name'))
        if name in seen:
            _bad('%s %s is listed twice.' % (what, name), DUPLICATE_NAME)
        seen.add(name)
        named.append((name, item))
    return named


def _lv_name(raw):
    # Clients may name a disk by path (/dev/name); the VIOS keeps the name.
    name = (raw or '').strip().rsplit('/', 1)[-1]
    if not _LV_NAME.match(name):
        _bad('%r is not a valid logical volume name (1 to 15 letters, '
             'digits, ".", "_" or "-").' % raw, BAD_NAME)
    return name


def _media_name(raw):
    name = (raw or '').strip()
    if not _MEDIA_NAME.match(name):
        _bad('%r is not a valid virtual optical media name (1 to 37 '
             'letters, digits, ".", "_" or "-").' % raw, BAD_NAME)
    return name


def _positive_gb(value, what):
    if value is None or value <= 0:
        _bad('%s needs a size greater than 0 GB.' % what, NO_SPACE)
    return value


@dataclasses.dataclass
class _DiskPlan:
    """What a posted VirtualDisks list asks of a volume group."""

    create: list      # (name, fields)
    extend: list      # (vdisk, new capacity)
    delete: list      # vdisks
    update: list      # (vdisk, fields)


@dataclasses.dataclass
class _MediaPlan:
    add_repository: MediaRepository | None = None
    remove_repository: bool = False
    create: list = dataclasses.field(default_factory=list)   # (name, f)
    delete: list = dataclasses.field(default_factory=list)   # media

    @property
    def changes(self):
        return bool(self.add_repository or self.remove_repository or
                    self.create or self.delete)


class StorageOps:
    """Storage behaviour of the model (mixed into ``Model``)."""

    @property
    def content(self):
        """The bytes of every disk and medium, keyed by UDID; one store per
        model, so every endpoint serving the model sees the same data."""
        with self.registry.lock:
            store = self.__dict__.get('_content')
            if store is None:
                store = self._content = files.ContentStore()
                # The blobs go with the model, whoever forgets to close it.
                weakref.finalize(self, store.close)
            return store

    @property
    def file_registry(self):
        """The records of the web File API, uploading into ``content``."""
        with self.registry.lock:
            records = self.__dict__.get('_file_registry')
            if records is None:
                records = self._file_registry = files.FileRegistry(
                    self.content)
            return records

    def write_disk_image(self, udid, file_uuid, chunks):
        """Stream an upload into the disk with ``udid`` (a VirtualDisk, or
        any device whose content the store holds, such as a LogicalUnit);
        the disk keeps its size, the image fills its first bytes.

        Streams outside the model lock: an upload takes long and must not
        stall other requests.
        """
        was_vdisk = self.lookup_vdisk(udid) is not None
        disk_size = self.disk_size(udid)
        size = self.file_registry.upload(
            file_uuid, _limited(chunks, disk_size), udid)
        with self.registry.lock:
            vdisk = self.lookup_vdisk(udid)
            if was_vdisk and vdisk is None:
                # Deleted while the bytes streamed in.
                self.content.delete(udid)
                raise registry.NotFound('VirtualDisk %s' % udid)
            self._extend_content(udid, vdisk.size_bytes if vdisk else
                                 disk_size)
        return size

    def disk_size(self, udid):
        """Size in bytes of the disk an image may be written to."""
        vdisk = self.lookup_vdisk(udid)
        if vdisk is not None:
            return vdisk.size_bytes
        try:
            return self.content.size(udid)
        except KeyError:
            raise registry.NotFound('disk %s' % udid) from None

    def upload_optical_media(self, vios, name, file_uuid, chunks):
        """Stream an ISO upload into a new medium ``name`` of ``vios``."""
        staging = 'upload:' + file_uuid
        size = self.file_registry.upload(file_uuid, chunks, staging)
        try:
            with self.registry.lock:
                medium = self.add_optical_media(vios, name, size)
                os.replace(self.content.path(staging),
                           self.content.path(medium.content_key))
        finally:
            self.content.delete(staging)
        return medium

    def _extend_content(self, key, size):
        # Growing a disk adds zeros at its end: extend the blob in place,
        # sparsely, rather than copying it.
        with open(self.content.path(key), 'r+b') as blob:
            if blob.seek(0, 2) < size:
                blob.truncate(size)

    # --------------------------------------------------------- inventory
    def add_physical_volume(self, vios, pv):
        with self.registry.lock:
            vios.physical_volumes.append(pv)
            self.registry.changed(vios)
            return pv

    def add_volume_group(self, vios, name, pvs, serial, **fields):
        """Make a volume group of ``pvs`` (PhysicalVolumes of ``vios``)."""
        with self.registry.lock:
            for pv in pvs:
                if not pv.available:
                    raise registry.Conflict(
                        'Physical volume %s is in use.' % pv.name,
                        code=BAD_NAME)
                pv.available = False
            vg = VolumeGroup(parent=vios, name=name, serial=serial,
                             physical_volumes=list(pvs), **fields)
            vios.volume_groups.append(vg)
            self.registry.add(vg)
            self.registry.changed(vios)
            return vg

    def add_vdisk(self, vg, name, capacity_gb, **fields):
        """Create a logical volume (with empty content) in ``vg``."""
        with self.registry.lock:
            self._check_space(vg, capacity_gb)
            vdisk = self._new_vdisk(vg, _lv_name(name), capacity_gb, fields)
            self.registry.changed(vg)
            return vdisk

    def add_media_repository(self, vg, size_gb, name=MEDIA_LIBRARY):
        with self.registry.lock:
            self._check_space(vg, size_gb)
            self._check_no_repository(vg.parent)
            vg.media_repositories.append(
                MediaRepository(name=name, size_gb=size_gb))
            self.registry.changed(vg)
            self.registry.changed(vg.parent)
            return vg.media_repository

    def volume_groups(self, vios):
        return list(vios.volume_groups)

    def find_vdisk(self, udid):
        """The VirtualDisk with ``udid`` on any VIOS (NotFound if none)."""
        vdisk = self.lookup_vdisk(udid)
        if vdisk is None:
            raise registry.NotFound('VirtualDisk %s' % udid)
        return vdisk

    def lookup_vdisk(self, udid):
        """The VirtualDisk with ``udid`` on any VIOS, or None."""
        with self.registry.lock:
            for vg in self.registry.of_kind(VolumeGroup.kind):
                for vdisk in vg.vdisks:
                    if vdisk.udid == udid:
                        return vdisk
        return None

    def new_served_disk(self, vios, disk_type, name, backstore=None,
                        rbd_user=None):
        """A disk ``vios`` (the NovaLink partition) would serve from file
        or RBD image ``name``, for a mapping to take; nothing changes.

        :raises registry.Conflict: the partition cannot serve it.
        """
        if not vios.is_mgmt:
            _bad('Virtual I/O Server %s cannot serve %s disks: only the '
                 'NovaLink partition serves files and RBD images.' % (
                     vios.name, disk_type), NO_BACKING)
        allowed = BACKSTORES[disk_type]
        if backstore not in (None,) + allowed:
            _bad('A %s disk takes back store %s, not %r.' % (
                disk_type, ' or '.join(allowed), backstore), NO_BACKING)
        size_mb = self.backing_size_mb(vios, disk_type, name)
        if size_mb is None:
            _bad('%s %s does not exist.' % (
                'RBD image (pool/image)' if disk_type == RBD_DISK
                else 'File', name), NO_BACKING)
        udid = '01' + _b64('3LIO-ORG%s%s' % (disk_type.upper(), uuidlib.UUID(
            registry.new_uuid()).hex))
        return ServedDisk(name=name, disk_type=disk_type,
                          backstore=backstore or allowed[0], udid=udid,
                          capacity_gb=size_mb / MB_PER_GB, rbd_user=rbd_user)

    def backing_size_mb(self, vios, disk_type, name):
        """The size in MB of what a served disk of ``disk_type`` named
        ``name`` reads, or None if there is none."""
        if disk_type == RBD_DISK:
            return self.san.rbd_image_mb(name)
        return vios.files.get(name)

    # ------------------------------------------------- the NovaLink files
    def add_novalink_file(self, system, path, size_gb):
        """A file of ``size_gb`` on ``system``'s NovaLink partition (a
        volume of a local, NFS or GPFS Cinder back end)."""
        with self.registry.lock:
            files = system.mgmt_partition.files
            if _file_path(path) in files:
                _bad('File %s already exists.' % path, DUPLICATE_NAME)
            files[path] = checked_size_mb(size_gb, 'A file')

    def grow_novalink_file(self, system, path, size_gb):
        with self.registry.lock:
            files = system.mgmt_partition.files
            size_mb = checked_size_mb(size_gb, 'A file')
            if files.get(_file_path(path)) is None:
                _bad('File %s does not exist.' % path, NO_BACKING)
            if size_mb < files[path]:
                _bad('File %s cannot shrink.' % path, NO_SHRINK)
            files[path] = size_mb

    def remove_novalink_file(self, system, path):
        with self.registry.lock:
            if system.mgmt_partition.files.pop(path, None) is None:
                _bad('File %s does not exist.' % path, NO_BACKING)

    # ------------------------------------------------------------ rescan
    def rescan_disk(self, vios, ident):
        """RescanVirtualDisk on ``vios``: the disk of UDID ``ident`` (or the
        served disk of that name) takes the size of what backs it now.

        :return: False if ``vios`` has no such disk, or its backing is gone.
        """
        with self.registry.lock:
            served = [m.storage for m in vios.scsi_mappings
                      if isinstance(m.storage, ServedDisk) and
                      ident in (m.storage.udid, m.storage.name)]
            if served:
                return self._refresh_served(vios, served)
            pv = next((p for p in vios.physical_volumes if p.udid == ident),
                      None)
            if pv is not None:
                return self.refresh_hdisk(vios, pv)
            vdisk = self.lookup_vdisk(ident)
            return vdisk is not None and vdisk.vg.parent is vios

    def _refresh_served(self, vios, disks):
        for disk in disks:
            size_mb = self.backing_size_mb(vios, disk.disk_type, disk.name)
            if size_mb is None:
                return False
            disk.capacity_gb = size_mb / MB_PER_GB
        self.registry.changed(vios)
        return True

    def media_repository_of(self, vios):
        for vg in vios.volume_groups:
            if vg.media_repository is not None:
                return vg, vg.media_repository
        raise registry.Conflict(
            'Virtual I/O Server %s has no virtual media repository.' %
            vios.name, code=NO_REPOSITORY, status=400)

    def add_optical_media(self, vios, name, size_bytes, mount_type='rw'):
        """Create a blank medium in the VIOS's media repository."""
        with self.registry.lock:
            vg, repo = self.media_repository_of(vios)
            medium = self._plan_new_medium(vios, repo, _media_name(name), {
                'size_gb': max(size_bytes / GIB, GB_TOLERANCE),
                'mount_type': mount_type}, [])
            self.content.sparse(medium.content_key, size_bytes)
            repo.media.append(medium)
            self.registry.changed(vg)
            self.registry.changed(vios)
            return medium

    # ------------------------------------------------------------ update
    def update_volume_group(self, vg, fields):
        """Make ``vg`` match a posted volume group (desired state)."""
        with self.registry.lock:
            if fields.get('name', vg.name) != vg.name:
                _bad('A volume group cannot be renamed.', BAD_NAME)
            disks = self._plan_vdisks(vg, fields.get('vdisks'))
            media = self._plan_media(vg, fields.get('media_repositories'))
            self.check_unmapped(disks.delete + media.delete)
            self._check_plan_space(vg, disks, media)
            self._apply_vdisks(vg, disks)
            self._apply_media(vg, media)
            self.registry.changed(vg)
            if media.changes:
                # The VIOS document shows the repository as well.
                self.registry.changed(vg.parent)
            return vg

    def check_unmapped(self, removing):
        """Refuse to remove storage a vSCSI mapping still exports: a VIOS
        does not delete a device that backs a virtual target device."""
        for storage in removing:
            mappings = self.scsi_mappings_of(storage)
            if mappings:
                server = mappings[0].server
                raise registry.Conflict(
                    '%s cannot be removed: it is mapped to partition %d '
                    'through virtual I/O server %s; remove the mapping '
                    'first.' % (storage.name, server.remote_lpar_id,
                                server.vios.name), code=IN_USE, status=409)

    def _plan_vdisks(self, vg, wanted):
        plan = _DiskPlan([], [], [], [])
        if wanted is None:
            return plan
        named = _unique_names(wanted, _lv_name, 'Logical volume')
        seen = {name for name, _ in named}
        for name, item in named:
            current = vg.find_vdisk(name)
            if current is None:
                _positive_gb(item.get('capacity_gb'), 'Logical volume %s' %
                             name)
                self._check_base(vg, name, item)
                plan.create.append((name, item))
                continue
            self._plan_existing(current, item, plan)
        plan.delete = [vd for vd in vg.vdisks if vd.name not in seen]
        return plan

    @staticmethod
    def _plan_existing(vdisk, item, plan):
        wanted = item.get('capacity_gb', vdisk.capacity_gb)
        if wanted < vdisk.capacity_gb - GB_TOLERANCE:
            _bad('Logical volume %s cannot shrink from %.4f GB to %.4f GB.'
                 % (vdisk.name, vdisk.capacity_gb, wanted), NO_SHRINK)
        if wanted > vdisk.capacity_gb + GB_TOLERANCE:
            plan.extend.append((vdisk, wanted))
        plan.update.append((vdisk, item))

    def _check_base(self, vg, name, item):
        base_udid = item.get('base_image')
        if not base_udid:
            return
        try:
            base = self.find_vdisk(base_udid)
        except registry.NotFound:
            _bad('Base image %s of logical volume %s does not exist.' % (
                base_udid, name), UNKNOWN_BASE)
        if base.vg.parent is not vg.parent:
            _bad('Base image %s is on another Virtual I/O Server.' %
                 base_udid, UNKNOWN_BASE)
        if item['capacity_gb'] < base.capacity_gb - GB_TOLERANCE:
            _bad('Logical volume %s (%.4f GB) is smaller than its base '
                 'image (%.4f GB).' % (name, item['capacity_gb'],
                                       base.capacity_gb), NO_SPACE)

    def _plan_media(self, vg, wanted):
        plan = _MediaPlan()
        if wanted is None:
            return plan
        if len(wanted) > 1:
            _bad('A volume group holds at most one media repository.',
                 BAD_REPOSITORY)
        repo = vg.media_repository
        if not wanted:
            if repo is not None:
                self._plan_repository_removal(repo, plan)
            return plan
        [item] = wanted
        if repo is None:
            self._check_no_repository(vg.parent)
            repo = plan.add_repository = MediaRepository(
                name=item.get('name') or MEDIA_LIBRARY,
                size_gb=_positive_gb(item.get('size_gb'),
                                     'The media repository'))
        self._plan_media_items(vg.parent, repo, item.get('media') or [],
                               plan)
        return plan

    @staticmethod
    def _plan_repository_removal(repo, plan):
        if repo.media:
            raise registry.Conflict(
                'Media repository %s still holds %d media.' % (
                    repo.name, len(repo.media)), code=BAD_REPOSITORY)
        plan.remove_repository = True

    def _plan_media_items(self, vios, repo, items, plan):
        named = _unique_names(items, _media_name, 'Optical media')
        seen = {name for name, _ in named}
        for name, item in named:
            if repo.find(name) is None:
                plan.create.append(self._plan_new_medium(
                    vios, repo, name, item, plan.create))
        plan.delete = [m for m in repo.media if m.name not in seen]

    @staticmethod
    def _plan_new_medium(vios, repo, name, item, planned):
        size_gb = _positive_gb(item.get('size_gb'), 'Optical media %s' %
                               name)
        free = repo.size_gb - repo.used_gb - sum(m.size_gb for m in planned)
        if size_gb > free + GB_TOLERANCE:
            _bad('Media repository %s has %.4f GB free; optical media %s '
                 'needs %.4f GB.' % (repo.name, free, name, size_gb),
                 NO_SPACE)
        if repo.find(name) is not None:
            _bad('Optical media %s already exists.' % name, DUPLICATE_NAME)
        return OpticalMedia(name=name, size_gb=size_gb,
                            mount_type=item.get('mount_type') or 'rw',
                            content_key=media_content_key(vios, name))

    @staticmethod
    def _check_plan_space(vg, disks, media):
        freed = sum(vd.capacity_gb for vd in disks.delete)
        needed = (sum(item['capacity_gb'] for _, item in disks.create) +
                  sum(size - vd.capacity_gb for vd, size in disks.extend))
        if media.add_repository is not None:
            needed += media.add_repository.size_gb
        if media.remove_repository:
            freed += vg.media_repository.size_gb
        StorageOps._check_space(vg, needed - freed)

    @staticmethod
    def _check_space(vg, needed_gb):
        if needed_gb > vg.free_gb + GB_TOLERANCE:
            _bad('Volume group %s has %.4f GB free; %.4f GB are needed.' % (
                vg.name, vg.free_gb, needed_gb), NO_SPACE)

    @staticmethod
    def _check_no_repository(vios):
        for vg in vios.volume_groups:
            if vg.media_repository is not None:
                _bad('Virtual I/O Server %s already has a media repository '
                     'in volume group %s.' % (vios.name, vg.name),
                     BAD_REPOSITORY)

    def _apply_vdisks(self, vg, plan):
        for vdisk in plan.delete:
            vg.vdisks.remove(vdisk)
            self.content.delete(vdisk.udid)
        for vdisk, size_gb in plan.extend:
            vdisk.capacity_gb = size_gb
            self._extend_content(vdisk.udid, vdisk.size_bytes)
        for vdisk, item in plan.update:
            _apply_disk_settings(vdisk, item)
        for name, item in plan.create:
            self._new_vdisk(vg, name, item['capacity_gb'], item)

    def _new_vdisk(self, vg, name, capacity_gb, fields):
        if vg.find_vdisk(name) is not None:
            _bad('Logical volume %s already exists.' % name, DUPLICATE_NAME)
        if len(vg.vdisks) >= vg.max_lvs:
            _bad('Volume group %s holds its maximum of %d logical volumes.'
                 % (vg.name, vg.max_lvs), NO_SPACE)
        vdisk = VirtualDisk(name=name, capacity_gb=capacity_gb,
                            udid=vg.next_lv_udid(), vg=vg,
                            label=fields.get('label') or 'None',
                            file_format=fields.get('file_format'),
                            encryption_state=fields.get('encryption_state'),
                            luks=fields.get('luks'))
        _apply_disk_settings(vdisk, fields)
        base = fields.get('base_image')
        if base:
            self.content.copy(base, vdisk.udid)
            self._extend_content(vdisk.udid, vdisk.size_bytes)
        else:
            self.content.sparse(vdisk.udid, vdisk.size_bytes)
        vg.vdisks.append(vdisk)
        return vdisk

    def _apply_media(self, vg, plan):
        if plan.add_repository is not None:
            vg.media_repositories.append(plan.add_repository)
        repo = vg.media_repository
        for medium in plan.delete:
            repo.media.remove(medium)
            self.content.delete(medium.content_key)
        for medium in plan.create:
            repo.media.append(medium)
            self.content.sparse(medium.content_key,
                                gb_to_bytes(medium.size_gb))
        if plan.remove_repository:
            vg.media_repositories.clear()


def _file_path(path):
    """``path`` if it is an absolute, plain file path."""
    plain = isinstance(path, str) and path.startswith('/') and \
        len(path) < 4096 and path == os.path.normpath(path) and \
        path != '/' and '\0' not in path
    if not plain:
        _bad('%r is not an absolute file path.' % (path,), BAD_NAME)
    return path


def checked_size_mb(size_gb, what, code=NO_SPACE):
    """MB of a size in GB a client gave for ``what`` (a number up to
    1 PB)."""
    if isinstance(size_gb, bool) or not isinstance(size_gb, int | float) \
            or not 0 < size_gb <= 2 ** 20:
        _bad('%s needs a size in GB greater than 0, not %r.' % (
            what, size_gb), code)
    return int(round(size_gb * MB_PER_GB))


def _limited(chunks, limit):
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise ValueError('The upload is larger than its %d byte target.'
                             % limit)
        yield chunk


def _apply_disk_settings(vdisk, fields):
    for name in ('read_iops', 'write_iops'):
        if name in fields:
            setattr(vdisk, name, fields[name])


# ------------------------------------------------------------- inventory
# What every simulated VIOS starts with, in GB.
_LOCAL_DISK_MB = 300 * MB_PER_GB
_DATA_DISK_MB = 512 * MB_PER_GB
_REPOSITORY_GB = 10.0
# The installation image NovaLink's own install left in the library.
_INSTALL_MEDIA = 'novalink-2.0.3-ppc64le.iso'


def build_vios_storage(model, vios):
    """Give a fresh VIOS the disks and volume groups of a typical one:
    rootvg (with the media library) on a local disk and a 1 TB ``datavg``
    on two more (its SAN disks come with the system's SAN, see
    san.build_system_san)."""
    # Disks with I/O limits appear on real systems, and their elements
    # belong in the documents.
    local = [_local_disk(vios, number) for number in range(3)]
    for pv in local[1:]:
        pv.read_iops, pv.write_iops = 20000, 10000
    for pv in local:
        model.add_physical_volume(vios, pv)
    rootvg = model.add_volume_group(
        vios, ROOTVG, local[:1], serial=_vg_serial(vios, 0), max_lvs=256)
    model.add_media_repository(rootvg, _REPOSITORY_GB)
    model.add_optical_media(vios, _INSTALL_MEDIA, gb_to_bytes(2.8887))
    datavg = model.add_volume_group(
        vios, 'datavg', local[1:], serial=_vg_serial(vios, 1))
    model.add_vdisk(datavg, 'backup_lv', 20.0, label='backup',
                    read_iops=5000, write_iops=2500,
                    encryption_state='Unlocked', luks=LUKSEncryptor())


def _vg_serial(vios, index):
    return '00f8%s%08x00000001%08x' % (
        vios.parent.serial[-4:].lower(), vios.partition_id, index)


def _local_disk(vios, number):
    system = vios.parent
    serial = '%s%02X%02d' % (system.serial, vios.partition_id, number)
    unique_id = '2811350000394880%sC09MBF2600RC03IBMsas' % serial
    return PhysicalVolume(
        name='hdisk%d' % number, capacity_mb=(
            _LOCAL_DISK_MB if number == 0 else _DATA_DISK_MB),
        udid='01' + _b64('IBM-MBF2600RC-%s' % serial),
        unique_id=unique_id, description='SAS Disk Drive',
        location_code='U78CB.001.%s-P3-D%d' % (system.serial, number + 1))


def _b64(text):
    return base64.b64encode(text.encode()).decode()
