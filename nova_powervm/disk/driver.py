"""What every disk driver (where instance boot disks live) provides.

A boot disk is made from a Glance image, mapped (vSCSI) to the instance's
LPAR by the Virtual I/O Servers that serve the storage, and found again by
its name, which comes from the instance's UUID: the steps that undo a
failed deploy, and a destroy after nova-compute lost track, need nothing
else to find it.
"""

import abc
import functools
import threading
import typing

from nova import exception
from nova.image import glance
from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import scsi_mapper as pvm_smap

from nova_powervm import exception as pvm_nova_exc
from nova_powervm import vm

LOG = logging.getLogger(__name__)

GIB = 1024 ** 3


class DiskCapacity(typing.NamedTuple):
    """Space for instance disks, in GB."""

    total_gb: float
    used_gb: float


def boot_disk_name(instance, max_len):
    """The name of ``instance``'s boot disk: 'b_' and its UUID's digits,
    as many as ``max_len`` allows (AIX logical volumes take 15)."""
    return ('b_' + instance.uuid.replace('-', ''))[:max_len]


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


def undo_quietly(undo, *args):
    """Run ``undo(*args)`` while an error propagates: log its failure
    rather than let it replace the error that made the undo necessary."""
    try:
        undo(*args)
    except Exception:
        LOG.exception('Could not undo %s%r; what it leaves behind has to '
                      'be removed by hand.', undo.__name__, args)


def undo_retrying_once(undo, *args):
    """Run ``undo(*args)`` after the work it undoes went well, once more if
    it fails: one refused or unanswered request must not leave behind what
    only an operator could remove.  A second failure is raised."""
    try:
        undo(*args)
    except Exception:
        LOG.warning('Could not undo %s%r; trying once more.',
                    undo.__name__, args, exc_info=True)
        undo(*args)


class DiskAdapter(abc.ABC):
    """Storage for instance boot disks on one managed system.

    :param adapter: the pypowervm Adapter.
    :param host_uuid: UUID of the managed system.
    """

    # pypowervm's wrapper class of this driver's disks, as a vSCSI mapping
    # shows its backing storage.
    disk_wrapper_class = None

    def __init__(self, adapter, host_uuid):
        self.adapter = adapter
        self.host_uuid = host_uuid
        # Mapping changes of deploys and teardowns running at once.
        self._mapping_changes = Batched(
            functools.partial(_apply_mapping_changes, adapter))

    @property
    @abc.abstractmethod
    def vios_uuids(self):
        """UUIDs of the VIOSes of this host that map the disks to LPARs."""

    @abc.abstractmethod
    def capacity(self):
        """A DiskCapacity read from NovaLink now (one REST call)."""

    @abc.abstractmethod
    def disk_name(self, instance):
        """The name of ``instance``'s boot disk."""

    @abc.abstractmethod
    def create_disk_from_image(self, context, instance, image_meta):
        """Make ``instance``'s boot disk holding the image; returns the
        disk's storage wrapper (to map)."""

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
        lpar_uuid = vm.get_pvm_uuid(instance)

        def add_mapping(storage, what, vios_w):
            LOG.info('Mapping %(what)s %(name)s from Virtual I/O Server '
                     '%(vios)s.', {'what': what, 'name': storage.name,
                                   'vios': vios_w.name}, instance=instance)
            mapping = pvm_smap.build_vscsi_mapping(None, vios_w, lpar_uuid,
                                                   storage)
            return pvm_smap.add_map(vios_w, mapping) is not None

        changes = [(vios_uuid, functools.partial(
            add_mapping, self._storage_for_mapping(disk), 'boot disk'))
            for vios_uuid in self.vios_uuids]
        if media is not None:
            media_vios_uuid, vopt = media
            changes.append((media_vios_uuid, functools.partial(
                add_mapping, vopt, 'config drive')))
        self._change_mappings(changes)

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

        def remove_mappings(vios_w):
            removed = pvm_smap.remove_maps(vios_w, None, match_func=match)
            for mapping in removed:
                LOG.info('Unmapping boot disk %(disk)s on Virtual I/O '
                         'Server %(vios)s.',
                         {'disk': mapping.backing_storage.name,
                          'vios': vios_w.name}, instance=instance)
            return bool(removed)

        self._change_mappings([(vios_uuid, remove_mappings)
                               for vios_uuid in self.vios_uuids])

    def _change_mappings(self, changes):
        """Apply each ``(vios_uuid, change)``'s ``change(vios_w) ->
        changed`` to the mappings of that VIOS, in the same update as the
        changes of deploys and teardowns running at the same time (one
        VIOS feed read, one update per changed VIOS; etag conflicts with
        anything else are retried).

        :raises VIOSNotActive: one of the VIOSes is not active.
        :raises: what stopped the update (it fails the changes of the
                 others in the same update too).
        """
        self._mapping_changes.do(changes)


class Batched:
    """Work that threads hand in at the same time, done together.

    ``run(items)`` does the work of several items at once (typically one
    read and one update of a PowerVM object for all of them) and returns
    each item's outcome in order: a result, or an exception for its
    caller to raise.  While one batch runs, the items handed in wait, and
    the first of them to get its turn runs all of them as the next batch.
    Changes made at once thus share an update rather than each find the
    object changed since their read (an etag conflict: read, send again).
    """

    def __init__(self, run):
        self._run = run
        self._waiting_lock = threading.Lock()
        self._waiting = []
        self._running = threading.Lock()

    def do(self, item):
        """Do ``item`` with whatever else is handed in meanwhile; returns
        its result, or raises its exception (or the batch's: a failure of
        the whole batch fails every item of it)."""
        entry = _BatchEntry(item)
        with self._waiting_lock:
            self._waiting.append(entry)
        with self._running:
            if not entry.done:
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                self._run_batch(batch)
        if isinstance(entry.outcome, Exception):
            raise entry.outcome
        return entry.outcome

    def _run_batch(self, batch):
        try:
            outcomes = self._run([entry.item for entry in batch])
        except Exception as exc:
            outcomes = [exc] * len(batch)
        for entry, outcome in zip(batch, outcomes, strict=True):
            entry.outcome = outcome
            entry.done = True


class _BatchEntry:

    def __init__(self, item):
        self.item = item
        self.outcome = None
        self.done = False


def _apply_mapping_changes(adapter, requests):
    """Apply the ``(vios_uuid, change)`` lists ``requests``: one VIOS feed
    read, one update per changed VIOS.  A request naming a VIOS that is
    not active gets VIOSNotActive and changes nothing."""
    feed_task = pvm_partition.build_active_vio_feed_task(
        adapter, name='vscsi_mappings', xag=[pvm_const.XAG.VIO_SMAP])
    # UUIDs from links and from documents may differ in case.
    by_uuid = {uuid.lower(): wrapper_task for uuid, wrapper_task
               in feed_task.wrapper_tasks.items()}
    outcomes = []
    for changes in requests:
        inactive = [vios_uuid for vios_uuid, _change in changes
                    if vios_uuid.lower() not in by_uuid]
        if inactive:
            outcomes.append(pvm_nova_exc.VIOSNotActive(vios=inactive[0]))
            continue
        for vios_uuid, change in changes:
            by_uuid[vios_uuid.lower()].add_functor_subtask(
                change, provides=None, flag_update=True)
        outcomes.append(None)
    if any(outcome is None for outcome in outcomes):
        feed_task.execute()
    return outcomes
