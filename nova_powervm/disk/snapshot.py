"""Instance snapshots: the boot disk's bytes, streamed to Glance.

nova-compute runs on the NovaLink (management) partition: the disk driver
names a disk holding the boot disk's bytes, which is mapped to this
partition, found as a local block device, read straight into Glance, and
unmapped again, whether the upload worked or not.
"""

import contextlib

from nova.compute import task_states
from nova import exception
from nova.image import glance
from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.utils import transaction as pvm_tx
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import exception as pvm_nova_exc
from nova_powervm import mgmt
from nova_powervm import undo
from nova_powervm import vm

LOG = logging.getLogger(__name__)


def image_metadata(instance):
    """What the snapshot image says about itself in Glance: a raw disk."""
    properties = {
        'image_location': 'snapshot',
        'image_state': 'available',
        'owner_id': instance.project_id,
    }
    if instance.os_type:
        properties['os_type'] = instance.os_type
    return {'disk_format': 'raw', 'container_format': 'bare',
            'properties': properties}


def snapshot(context, adapter, disk_driver, platform, instance, image_id,
             update_task_state):
    """Upload ``instance``'s boot disk to the Glance image ``image_id``.

    Task states as nova expects them: pending upload while the disk is
    made readable, uploading while the bytes flow.

    :raises InstanceNotRunning: the instance has no LPAR (nova-compute then
        deletes the image it queued).
    """
    _check_lpar_exists(adapter, instance)
    update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
    with contextlib.ExitStack() as stack:
        vios_uuid, disk = stack.enter_context(
            disk_driver.snapshot_source(instance))
        stream = stack.enter_context(disk_on_management_partition(
            adapter, platform, vios_uuid, disk))
        update_task_state(task_state=task_states.IMAGE_UPLOADING,
                          expected_state=task_states.IMAGE_PENDING_UPLOAD)
        LOG.info('Uploading the boot disk to image %s.', image_id,
                 instance=instance)
        glance.API().update(context, image_id, image_metadata(instance),
                            data=stream)
    LOG.info('Snapshot %s uploaded.', image_id, instance=instance)


def _check_lpar_exists(adapter, instance):
    # Without its LPAR, an instance's boot disk (if any is left) is no
    # longer the instance's: nothing to snapshot.
    try:
        vm.get_state(adapter, vm.get_pvm_uuid(instance))
    except exception.InstanceNotFound:
        raise exception.InstanceNotRunning(
            instance_id=instance.uuid) from None


@contextlib.contextmanager
def disk_on_management_partition(adapter, platform, vios_uuid, disk):
    """``disk`` as a binary file, mapped to this partition meanwhile.

    :param vios_uuid: the VIOS that serves ``disk``.
    :param disk: its storage wrapper (VDisk, LU).
    """
    mgmt_w = pvm_partition.get_mgmt_partition(adapter)
    this_id = mgmt.this_partition_id(platform, adapter)
    if this_id != mgmt_w.id:
        raise pvm_nova_exc.NotOnManagementPartition(this=this_id,
                                                    mgmt=mgmt_w.id)
    # The unmap runs even when the map seemed to fail: its answer may
    # have been lost after NovaLink made it.
    with _undone_on_exit(unmap_from_partition, adapter, vios_uuid,
                         mgmt_w.uuid, disk):
        mapping = map_to_partition(adapter, vios_uuid, mgmt_w.uuid, disk)
        path = platform.discover_disk(adapter, mapping)
        with _undone_on_exit(platform.remove_disk, path), \
                platform.open_disk(path) as stream:
            yield stream


@contextlib.contextmanager
def _undone_on_exit(undo_func, *args):
    """Run ``undo_func(*args)`` when the block ends; if it ends with an
    error, that error stays the one raised."""
    try:
        yield
    except Exception:
        undo.quietly(undo_func, *args)
        raise
    undo.retrying_once(undo_func, *args)


def map_to_partition(adapter, vios_uuid, lpar_uuid, disk):
    """Map ``disk`` to the partition; returns the new VSCSIMapping."""
    LOG.info('Mapping disk %(disk)s to the management partition from '
             'Virtual I/O Server %(vios)s.',
             {'disk': disk.name, 'vios': vios_uuid})
    vios_w = pvm_smap.add_vscsi_mapping(None, vios_uuid, lpar_uuid, disk)
    return pvm_smap.find_maps(vios_w.scsi_mappings, client_lpar_id=lpar_uuid,
                              stg_elem=disk)[0]


def unmap_from_partition(adapter, vios_uuid, lpar_uuid, disk):
    """Remove the mappings of ``disk`` to the partition (if any)."""
    def remove(vios_w):
        return bool(pvm_smap.remove_maps(vios_w, lpar_uuid, match_func=match))

    match = pvm_smap.gen_match_func(type(disk), names=[disk.name])
    LOG.info('Unmapping disk %(disk)s from the management partition.',
             {'disk': disk.name})
    unmap = pvm_tx.WrapperTask('unmap_from_mgmt', pvm_vios.VIOS.getter(
        adapter, vios_uuid, xag=[pvm_const.XAG.VIO_SMAP]))
    unmap.add_functor_subtask(remove)
    unmap.execute()
