"""Tasks of a rescue and an unrescue (rescue.py): stopping and starting the
LPAR in a boot mode, and the rescue disk's mappings.

The rescue disk itself is made, mapped and deleted by the storage tasks,
with the disk driver's rescue view (DiskAdapter.for_rescue).
"""

from nova import exception
from oslo_log import log as logging
from taskflow import task

from nova_powervm import undo
from nova_powervm import vm

LOG = logging.getLogger(__name__)

# What later tasks of an unrescue find the rescue disk's wrapper under
# (None: the instance has none).
RESCUE_DISK = 'rescue_disk'


class Stop(task.Task):
    """Stop the LPAR; revert starts it again, in ``restore_mode`` (a
    power_opts.BootMode), if this step stopped it: the instance is as it
    was.

    :param restore_mode: or None to take it from ``rescue_disk`` (an
                         earlier FindRescueDisk): SMS when the instance has
                         one (it ran rescued), normal otherwise.
    """

    def __init__(self, adapter, instance, restore_mode=None):
        super().__init__(name='power_off')
        self.adapter = adapter
        self.instance = instance
        self.restore_mode = restore_mode
        self.was_on = False

    def execute(self, rescue_disk=None):
        # Read first: a stop that failed (or whose answer was lost) may
        # have stopped it all the same.
        lpar_w = vm.get_lpar(self.adapter, self.instance)
        self.was_on = vm.is_on(lpar_w)
        vm.power_off(self.adapter, self.instance, lpar_w=lpar_w)

    def revert(self, result, flow_failures, rescue_disk=None, **kwargs):
        if not self.was_on:
            return
        mode = self.restore_mode
        if mode is None:
            mode = vm.BOOT_SMS if rescue_disk is not None else vm.BOOT_NORMAL
        LOG.warning('Starting the LPAR again (boot mode %s) after the '
                    'failure.', mode, instance=self.instance)
        # A failure here is the flow's to raise: the instance is not as it
        # was.
        vm.power_on(self.adapter, self.instance, boot_mode=mode)


class Start(task.Task):
    """Start the LPAR in ``boot_mode``; revert stops it at once (hard),
    before the earlier steps' undo unmaps and deletes its rescue disk."""

    def __init__(self, adapter, instance, boot_mode):
        super().__init__(name='power_on')
        self.adapter = adapter
        self.instance = instance
        self.boot_mode = boot_mode

    def execute(self):
        vm.power_on(self.adapter, self.instance, boot_mode=self.boot_mode)

    def revert(self, result, flow_failures, **kwargs):
        LOG.warning('Stopping the LPAR after the failure.',
                    instance=self.instance)
        vm.power_off(self.adapter, self.instance, timeout=0)


class FindRescueDisk(task.Task):
    """Find the instance's rescue disk (provides ``rescue_disk``, None when
    it has none: an unrescue of an instance not rescued).  Nothing to
    revert: it only reads."""

    def __init__(self, rescue_disks, instance):
        super().__init__(name='find_rescue_disk', provides=RESCUE_DISK)
        self.rescue_disks = rescue_disks
        self.instance = instance

    def execute(self):
        try:
            return self.rescue_disks.find_disk(self.instance)
        except exception.DiskNotFound:
            LOG.info('The instance has no rescue disk.',
                     instance=self.instance)
            return None


class UnmapRescueDisk(task.Task):
    """Remove the rescue disk's mappings (requires ``rescue_disk``; None:
    there is none, nothing to do); revert maps it again."""

    def __init__(self, rescue_disks, instance):
        super().__init__(name='unmap_rescue_disk', requires=[RESCUE_DISK])
        self.rescue_disks = rescue_disks
        self.instance = instance

    def execute(self, rescue_disk):
        if rescue_disk is not None:
            self.rescue_disks.disconnect_disk(self.instance)

    def revert(self, result, flow_failures, rescue_disk=None, **kwargs):
        if rescue_disk is None:
            return
        LOG.warning('Mapping the rescue disk again after the failure.',
                    instance=self.instance)
        # A failure here is the flow's to raise.
        self.rescue_disks.connect_disk(self.instance, rescue_disk)


class DeleteRescueDisk(task.Task):
    """Delete the unmapped rescue disk (requires ``rescue_disk``; None:
    there is none), the instance running from its boot disk again.  Tried
    once more after a failure: the disk only goes now, and nothing else
    would delete it.  Nothing to revert."""

    def __init__(self, rescue_disks, instance):
        super().__init__(name='delete_rescue_disk', requires=[RESCUE_DISK])
        self.rescue_disks = rescue_disks
        self.instance = instance

    def execute(self, rescue_disk):
        if rescue_disk is not None:
            undo.retrying_once(self.rescue_disks.delete_disk, self.instance)


class RemoveRescueDisk(task.Task):
    """Unmap and delete the instance's rescue disk, if it has one (of a
    destroy, or left by an earlier rescue).  Nothing to revert: a rescue
    disk is never needed back."""

    def __init__(self, rescue_disks, instance, name='remove_rescue_disk'):
        super().__init__(name=name)
        self.rescue_disks = rescue_disks
        self.instance = instance

    def execute(self):
        self.rescue_disks.disconnect_disk(self.instance)
        if self.rescue_disks.delete_disk(self.instance):
            LOG.info('Deleted the rescue disk.', instance=self.instance)
