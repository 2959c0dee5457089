"""Tasks of a rebuild: the old boot disk gives way to one of a new image.

The disk driver finds the boot disk by the instance alone (its name comes
from the instance's UUID), so the old disk has to be gone before the new
one is made under the same name.  The image is fetched first, so that
Glance failing leaves the old disk as it was.
"""

from oslo_log import log as logging
from taskflow import task

LOG = logging.getLogger(__name__)


class CacheImage(task.Task):
    """Have the new image in this host's storage (the image cache), so
    that the old disk goes only once the new one can be made.  Nothing to
    revert: the cache is every instance's."""

    def __init__(self, disk_driver, context, image_meta):
        super().__init__(name='cache_image')
        self.disk_driver = disk_driver
        self.context = context
        self.image_meta = image_meta

    def execute(self):
        self.disk_driver.cache_image(self.context, self.image_meta)


class UnmapOldDisk(task.Task):
    """Remove the old boot disk's mappings; revert maps it again (a
    failure before the disk is deleted gives the instance back its disk).
    A revert that finds no disk fails: the disk was deleted after all
    (its delete's answer lost), and the instance cannot be as it was."""

    def __init__(self, disk_driver, instance):
        super().__init__(name='unmap_old_disk')
        self.disk_driver = disk_driver
        self.instance = instance

    def execute(self):
        self.disk_driver.disconnect_disk(self.instance)

    def revert(self, result, flow_failures, **kwargs):
        LOG.warning('Mapping the boot disk again after the failure.',
                    instance=self.instance)
        self.disk_driver.connect_disk(
            self.instance, self.disk_driver.find_disk(self.instance))


class DeleteOldDisk(task.Task):
    """Delete the old boot disk: the last step a rebuild can undo.  There
    is nothing to revert (a delete that failed left the disk, which
    UnmapOldDisk's revert maps again)."""

    def __init__(self, disk_driver, instance):
        super().__init__(name='delete_old_disk')
        self.disk_driver = disk_driver
        self.instance = instance

    def execute(self):
        if not self.disk_driver.delete_disk(self.instance):
            LOG.info('The instance had no boot disk to replace.',
                     instance=self.instance)
