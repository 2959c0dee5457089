"""Rescue and unrescue: an instance booted from a rescue disk, and back.

A rescue stops the LPAR, makes a rescue disk from the rescue image (the
instance's own image when nova names none) with the disk driver, maps it to
the LPAR beside everything it has (its boot disk stays mapped, untouched)
and starts the LPAR in SMS boot mode, from the rescue disk: the disk
mapped last.  An unrescue stops it, unmaps the rescue disk, starts it
normally (its boot list: its boot disk) and deletes the rescue disk.

The rescue disk is found by its name ('r_' and the instance UUID's
digits: DiskAdapter.for_rescue), so an undo, a destroy or a later rescue
needs nothing else to find it.  Each flow undoes what it did when a step
fails: the instance is as it was (running or stopped; rescued or not).

An instance that boots from a volume is refused (no stable-device
rescue): nova's API refuses it first unless the host declares
COMPUTE_RESCUE_BFV, which this driver does not.
"""

from nova.compute import task_states
from nova.compute import vm_states
from nova import exception
from nova.image import glance
from nova import objects
from oslo_log import log as logging
from taskflow.patterns import linear_flow

from nova_powervm.tasks import rescue as tf_rescue
from nova_powervm.tasks import storage as tf_stg
from nova_powervm import vm

LOG = logging.getLogger(__name__)

# nova's states of an instance that may have a rescue disk: rescued, on
# its way in or out, or in error after either failed.
_MAY_HAVE_RESCUE_DISK = (vm_states.RESCUED, vm_states.ERROR)
_RESCUE_TASKS = (task_states.RESCUING, task_states.UNRESCUING)


def check_rescuable(instance, boots_from_volume):
    """Refuse, before anything changes, a rescue this driver cannot make.

    :raises nova.exception.InstanceNotRescuable: the instance boots from a
            volume.
    """
    if boots_from_volume:
        raise exception.InstanceNotRescuable(
            instance_id=instance.uuid,
            reason='the PowerVM driver does not rescue an instance that '
                   'boots from a volume')


def rescue_image(context, instance, image_meta):
    """The image to make the rescue disk from: ``image_meta``, or the
    instance's own image when it names none.

    :raises nova.exception.InstanceNotRescuable: neither names an image.
    """
    if image_meta.obj_attr_is_set('id'):
        return image_meta
    if not instance.image_ref:
        raise exception.InstanceNotRescuable(
            instance_id=instance.uuid,
            reason='no rescue image, and the instance has no image of its '
                   'own')
    return objects.ImageMeta.from_image_ref(context, glance.API(),
                                            instance.image_ref)


def may_have_rescue_disk(instance):
    """Whether ``instance`` may have a rescue disk, which its destroy (or
    a new rescue) then removes."""
    return instance.vm_state in _MAY_HAVE_RESCUE_DISK or \
        instance.task_state in _RESCUE_TASKS


def rescue_flow(adapter, disk_driver, context, instance, image_meta):
    """The flow that boots ``instance``'s LPAR from a rescue disk holding
    ``image_meta``; a failure leaves the LPAR as it was (started again if
    it ran) and no rescue disk.

    :param disk_driver: the instance's disk driver (not its rescue view).
    """
    rescue_disks = disk_driver.for_rescue()
    flow = linear_flow.Flow('rescue_%s' % instance.uuid)
    flow.add(tf_rescue.Stop(adapter, instance, restore_mode=vm.BOOT_NORMAL))
    if may_have_rescue_disk(instance):
        # A rescue or unrescue that died with nova-compute, or one whose
        # undo failed, may have left one: a new rescue starts afresh.
        flow.add(tf_rescue.RemoveRescueDisk(rescue_disks, instance,
                                            name='remove_old_rescue_disk'))
    flow.add(tf_stg.CreateDiskForImage(rescue_disks, context, instance,
                                       image_meta))
    flow.add(tf_stg.AttachDisk(rescue_disks, instance))
    flow.add(tf_rescue.Start(adapter, instance, vm.BOOT_SMS))
    return flow


def unrescue_flow(adapter, disk_driver, instance):
    """The flow that boots ``instance``'s LPAR from its boot disk again and
    deletes its rescue disk; a failure leaves it rescued as it was."""
    rescue_disks = disk_driver.for_rescue()
    flow = linear_flow.Flow('unrescue_%s' % instance.uuid)
    flow.add(tf_rescue.FindRescueDisk(rescue_disks, instance))
    # Restarted in SMS mode (from the rescue disk) by the undo, if it has
    # one.
    flow.add(tf_rescue.Stop(adapter, instance))
    flow.add(tf_rescue.UnmapRescueDisk(rescue_disks, instance))
    flow.add(tf_rescue.Start(adapter, instance, vm.BOOT_NORMAL))
    flow.add(tf_rescue.DeleteRescueDisk(rescue_disks, instance))
    return flow
