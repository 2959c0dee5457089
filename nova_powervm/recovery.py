"""Rebuild and evacuate: an instance made anew from an image on its own
host, or recreated on this host from its disk while its own host is down.

A rebuild keeps the instance's LPAR (its partition ID, network adapters,
management adapter and volume mappings) and replaces only what comes from
the image: the boot disk, and the config drive, written anew with what
nova gives (new metadata, files, password).  It goes in two parts: up to
and including the old disk's delete, a failure gives the instance back as
it was (running again, its old disk mapped); after it, the instance has no
disk of an image until it is rebuilt again, and nova marks it in ERROR.

An evacuate makes the instance's LPAR here as a move to this host would
(resize.py): the boot disk found in a shared storage pool both hosts'
VIOSes reach, or a boot volume; its VIFs, config drive and volumes.  A
boot disk in a volume group is only on its own host, which is down: such
an instance is refused before anything changes.
"""

from nova.compute import task_states
from nova import exception
from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc
from taskflow.patterns import linear_flow

from nova_powervm import conf
from nova_powervm.tasks import network as tf_net
from nova_powervm.tasks import recovery as tf_rcv
from nova_powervm.tasks import storage as tf_stg
from nova_powervm.tasks import vm as tf_vm

LOG = logging.getLogger(__name__)
CONF = conf.CONF


def rebuild_error(instance):
    """What a rebuild that gave the instance back as it was tells nova,
    inside its InstanceFaultRollback (flows.run_or_roll_back)."""
    def error(exc):
        return exception.BuildAbortException(instance_uuid=instance.uuid,
                                             reason=exc)
    return error


def _refuse(instance, reason):
    """Refuse, before anything changed: nova puts the instance back in
    its state, and records the reason as its fault."""
    raise exception.InstanceFaultRollback(
        inner_exception=exception.BuildAbortException(
            instance_uuid=instance.uuid, reason=reason))


def check_rebuild(instance, preserve_ephemeral):
    """Refuse what a rebuild of a PowerVM instance cannot do.

    :raises nova.exception.InstanceFaultRollback:
    """
    if preserve_ephemeral:
        # The driver makes no ephemeral disks: nothing could be kept.
        raise exception.InstanceFaultRollback(
            inner_exception=exception.PreserveEphemeralNotSupported())


def check_evacuable(disk_driver, instance):
    """Refuse, before anything changes, an instance this host cannot
    recreate from its disk.

    :param disk_driver: the disk driver of its boot disk; None when it
                        boots from a volume (which this host reaches
                        through Cinder).
    :raises nova.exception.InstanceFaultRollback: of a
            BuildAbortException saying why.
    """
    if disk_driver is None:
        return
    if not disk_driver.shared:
        _refuse(instance, 'its boot disk is in a volume group of its own '
                'host, which no other host reaches; instances with their '
                'boot disk in a shared storage pool, or booted from a '
                'volume, can be evacuated')
    try:
        on_disk = disk_driver.instance_on_disk(instance)
    except pvm_exc.Error as exc:
        _refuse(instance, 'its boot disk could not be looked up in the '
                'shared storage pool: %s' % exc)
    if not on_disk:
        _refuse(instance, 'its boot disk %s is not in the shared storage '
                'pool %s this host reaches' % (
                    disk_driver.disk_name(instance), disk_driver.storage_id))


def reconnect_volumes(context, instance, bdms, detach_block_devices,
                      attach_block_devices):
    """Move the instance's volume attachments to this host, as nova's own
    rebuild does (its callbacks): the attachments of the host that is
    down go, new ones come with this host's connector.

    :returns: the block_device_info with this host's connection_info.
    """
    instance.task_state = task_states.REBUILD_BLOCK_DEVICE_MAPPING
    instance.save(expected_task_state=[task_states.REBUILDING])
    detach_block_devices(context, bdms)
    block_device_info = attach_block_devices(context, instance, bdms)
    spawning(instance, task_states.REBUILD_BLOCK_DEVICE_MAPPING)
    return block_device_info


def spawning(instance, expected=task_states.REBUILDING):
    """The task state nova's rebuild expects once the driver is done."""
    instance.task_state = task_states.REBUILD_SPAWNING
    instance.save(expected_task_state=[expected])


def take_down(adapter, disk_driver, context, instance, image_meta):
    """The first part of a rebuild on the instance's host: stop the LPAR
    (its operating system gets [DEFAULT] shutdown_timeout), fetch the new
    image, unmap and delete the old boot disk.  Each step reverts (the
    LPAR started again if it ran, the disk mapped again).

    :param disk_driver: None for an instance that boots from a volume:
                        then the LPAR only stops.
    """
    flow = linear_flow.Flow('rebuild_take_down_%s' % instance.uuid)
    flow.add(tf_vm.PowerOff(adapter, instance,
                            timeout=CONF.shutdown_timeout, restore=True))
    if disk_driver is not None:
        flow.add(tf_rcv.CacheImage(disk_driver, context, image_meta),
                 tf_rcv.UnmapOldDisk(disk_driver, instance),
                 tf_rcv.DeleteOldDisk(disk_driver, instance))
    return flow


def bring_back(adapter, instance, image_meta, boot_disk=None,
               config_drive=None, mgmt_vif=True):
    """The second part: the new boot disk (a flows.BootDisk, or None for
    an instance that boots from a volume), the config drive written anew
    (a flows.ConfigDrive, or None for an instance without one), both
    mapped, and the LPAR started.  A failure removes what it made.

    :param mgmt_vif: the LPAR has an RMC management adapter, which the
                     config drive describes.
    """
    flow = linear_flow.Flow('rebuild_bring_back_%s' % instance.uuid)
    if config_drive is not None:
        if mgmt_vif:
            # Finds the adapter the LPAR has (makes one only if it lacks
            # it), for the drive's network data.
            flow.add(tf_net.PlugMgmtVif(adapter, instance))
        flow.add(tf_net.DeleteCfgDrive(adapter, instance))
    if boot_disk is not None:
        flow.add(boot_disk.task(instance, image_meta))
    if config_drive is not None:
        # With a boot disk, its step maps the drive with it: one update
        # of the VIOS for both.
        flow.add(tf_net.CreateAndConnectCfgDrive(
            adapter, instance, config_drive.injected_files,
            config_drive.network_info, config_drive.admin_password,
            connect=boot_disk is None))
    if boot_disk is not None:
        flow.add(tf_stg.AttachDisk(boot_disk.disk_driver, instance))
    flow.add(tf_vm.PowerOn(adapter, instance))
    return flow
