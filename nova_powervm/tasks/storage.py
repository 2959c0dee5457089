"""Tasks on the instance's boot disk.

The disk driver finds a boot disk by the instance alone, so each undo
works from what NovaLink holds, not from what the step returned: a step
whose answer was lost may still have made its disk or mapping.
"""

from oslo_log import log as logging
from taskflow import task

from nova_powervm import undo
from nova_powervm.volume import npiv as pvm_npiv

LOG = logging.getLogger(__name__)

# What later tasks of a flow find the new boot disk's wrapper under.
BOOT_DISK = 'boot_disk'


class CreateDiskForImage(task.Task):
    """Make the boot disk from the image (provides ``boot_disk``).

    Revert deletes it.
    """

    def __init__(self, disk_driver, context, instance, image_meta):
        super().__init__(name='create_disk_from_image', provides=BOOT_DISK)
        self.disk_driver = disk_driver
        self.context = context
        self.instance = instance
        self.image_meta = image_meta

    def execute(self):
        return self.disk_driver.create_disk_from_image(
            self.context, self.instance, self.image_meta)

    def revert(self, result, flow_failures, **kwargs):
        LOG.warning('Removing the boot disk of the failed deploy.',
                    instance=self.instance)
        undo.quietly(self.disk_driver.delete_disk, self.instance)


class AttachDisk(task.Task):
    """Map the boot disk to the LPAR (requires ``boot_disk``), and the
    config drive's media (``cfg_drive``) when an earlier step made it
    without mapping it: one update of each VIOS for both.

    Revert removes the boot disk's mappings, and with them their
    adapters; the config drive's step removes its own.
    """

    def __init__(self, disk_driver, instance):
        super().__init__(name='attach_disk', requires=[BOOT_DISK])
        self.disk_driver = disk_driver
        self.instance = instance

    def execute(self, boot_disk, cfg_drive=None):
        if cfg_drive is None:
            self.disk_driver.connect_disk(self.instance, boot_disk)
        else:
            self.disk_driver.connect_disk(self.instance, boot_disk,
                                          media=cfg_drive)

    def revert(self, result, flow_failures, **kwargs):
        LOG.warning('Unmapping the boot disk of the failed deploy.',
                    instance=self.instance)
        undo.quietly(self.disk_driver.disconnect_disk, self.instance)


class FindDisk(task.Task):
    """Find the instance's existing boot disk (provides ``boot_disk``): a
    disk another host made, in storage both reach.  Nothing to revert:
    the disk is not this step's."""

    def __init__(self, disk_driver, instance):
        super().__init__(name='find_disk', provides=BOOT_DISK)
        self.disk_driver = disk_driver
        self.instance = instance

    def execute(self):
        return self.disk_driver.find_disk(self.instance)


class ExtendDisk(task.Task):
    """Grow the boot disk to ``size_bytes`` (rounded up to whole GB).  A
    disk cannot shrink again, so there is nothing to revert: the step is
    last of those that may fail in its flow."""

    def __init__(self, disk_driver, instance, size_bytes):
        super().__init__(name='extend_disk')
        self.disk_driver = disk_driver
        self.instance = instance
        self.size_bytes = size_bytes

    def execute(self):
        self.disk_driver.extend_disk(self.instance, self.size_bytes)


class DetachDisk(task.Task):
    """Remove every mapping of the boot disk.  Nothing to revert: the
    flows that detach a disk tear the instance down."""

    def __init__(self, disk_driver, instance):
        super().__init__(name='detach_disk')
        self.disk_driver = disk_driver
        self.instance = instance

    def execute(self):
        self.disk_driver.disconnect_disk(self.instance)


class DeleteDisk(task.Task):
    """Delete the boot disk (already gone is fine); there is no undo."""

    def __init__(self, disk_driver, instance):
        super().__init__(name='delete_disk')
        self.disk_driver = disk_driver
        self.instance = instance

    def execute(self):
        if not self.disk_driver.delete_disk(self.instance):
            LOG.info('The instance has no boot disk to delete.',
                     instance=self.instance)


class ConnectVolume(task.Task):
    """Connect a Cinder volume to the LPAR; revert disconnects it.

    :param volume: the volume's VolumeAdapter.
    :param on_connected: called once it is connected (nova's block device
                         mapping keeps the connection_info the adapter
                         completed), or None.
    :param index: the volume's place among the flow's volumes (task names
                  are unique in a flow, and the same from run to run).
    """

    def __init__(self, volume, on_connected=None, index=0):
        super().__init__(name='connect_volume_%d' % index)
        self.volume = volume
        self.on_connected = on_connected

    def execute(self):
        self.volume.connect()
        if self.on_connected is not None:
            self.on_connected()

    def revert(self, result, flow_failures, **kwargs):
        LOG.warning('Disconnecting %s after the failure.',
                    self.volume.describe(), instance=self.volume.instance)
        undo.quietly(self.volume.disconnect)


class DisconnectVolume(task.Task):
    """Disconnect a Cinder volume from the LPAR.

    :param reconnect: revert connects it again (a move that failed gives
                      the instance back its volumes).  Otherwise there is
                      nothing to revert: the flows that disconnect volumes
                      detach or tear down.
    """

    def __init__(self, volume, index=0, reconnect=False):
        super().__init__(name='disconnect_volume_%d' % index)
        self.volume = volume
        self.reconnect = reconnect

    def execute(self):
        self.volume.disconnect()

    def revert(self, result, flow_failures, **kwargs):
        if self.reconnect:
            LOG.warning('Connecting %s again after the failure.',
                        self.volume.describe(), instance=self.volume.instance)
            # A failure here is the flow's to raise: the instance is not
            # as it was.
            self.volume.connect()


class RemoveVirtualFCPorts(task.Task):
    """Remove the LPAR's virtual FC ports (NPIV), which every one of its
    NPIV volumes used and which would outlive the LPAR on the VIOSes.
    Nothing to revert: the flows that remove them tear down."""

    def __init__(self, adapter, instance):
        super().__init__(name='remove_virtual_fc_ports')
        self.adapter = adapter
        self.instance = instance

    def execute(self):
        pvm_npiv.remove_ports(self.adapter, self.instance)
