"""createImage through nova's API: the boot disk's bytes reach Glance."""

from nova import exception

from powervm_sim import faults
from tests.functional.nova import base

_HOST = 'host1'


class TestSnapshot(base.PowerVMTestCase):

    def setUp(self):
        super().setUp()
        self.start_powervm_compute(_HOST)
        self.system = self.system_of(_HOST)
        self.server = self.boot_server(self.create_flavor(disk=1))
        [self.boot_disk] = self.boot_vdisks(self.system)

    def snapshot(self):
        """Ask for a snapshot of the server; its image's ID."""
        answer = self.api.post_server_action(
            self.server['id'], {'createImage': {'name': 'snap'}})
        return answer['image_id']

    def wait_for_snapshot_end(self):
        """The server, once nova has no task running on it any more."""
        return self._wait_for_server_parameter(
            self.server, {'status': 'ACTIVE',
                          'OS-EXT-STS:task_state': None}, max_retries=60)

    def assert_only_the_boot_disk_is_left(self):
        """No copy of the disk, nothing mapped to NovaLink; the LPAR still
        has its disk and runs."""
        self.assertEqual([self.boot_disk.name],
                         [vdisk.name for vdisk in
                          self.boot_vdisks(self.system)])
        lpar = self.lpar_of(self.server)
        self.assertEqual([(lpar.partition_id, self.boot_disk.name)],
                         [(mapping.server.remote_lpar_id,
                           mapping.storage.name) for mapping in
                          self.disk_mappings(self.system)])
        self.assertEqual(base.LPAR_RUNNING, lpar.state)

    def test_snapshot_uploads_the_boot_disk(self):
        image_id = self.snapshot()
        self.notifier.wait_for_versioned_notifications(
            'instance.snapshot.end', timeout=60)
        self.wait_for_snapshot_end()

        upload = self.snapshot_uploads[image_id]
        disk_size = self.boot_disk.size_bytes
        self.assertEqual(disk_size, upload.size)
        self.assertEqual(base.IMAGE_DATA,
                         upload.read(0, len(base.IMAGE_DATA)))
        image = self.glance.show(None, image_id)
        self.assertEqual(('active', 'raw', 'bare', disk_size),
                         (image['status'], image['disk_format'],
                          image['container_format'], image['size']))
        self.assertEqual('snapshot', image['properties']['image_location'])
        self.assertEqual(self.server['id'],
                         image['properties']['instance_uuid'])
        self.assert_only_the_boot_disk_is_left()

    def snapshot_error(self):
        """The exception the snapshot raised on the compute.

        nova snapshots on a thread of its own after the instance action's
        event ended: the error shows only in the compute.exception
        notification (and the instance's faults).

        :returns: the notification's ExceptionPayload fields.
        """
        [notification] = self.notifier.wait_for_versioned_notifications(
            'compute.exception', timeout=60)
        return notification['payload']['nova_object.data']

    def _assert_failed_snapshot_left_nothing(self, image_id):
        server = self.wait_for_snapshot_end()
        self.assertEqual('ACTIVE', server['status'])
        # nova deletes the image of a snapshot that failed.
        self.assertRaises(exception.ImageNotFound, self.glance.show, None,
                          image_id)
        self.assertNotIn(image_id, self.snapshot_uploads)
        self.assert_only_the_boot_disk_is_left()

    def test_snapshot_whose_disk_novalink_cannot_map(self):
        self.sim.faults.add(faults.FaultRule(
            outcome=faults.internal_error('Mapping failed.'),
            method='POST', resource_type='VirtualIOServer', max_count=1))
        image_id = self.snapshot()
        error = self.snapshot_error()
        self.assertEqual('HttpError', error['exception'])
        self.assertIn('Mapping failed.', error['exception_message'])
        self._assert_failed_snapshot_left_nothing(image_id)

    def test_snapshot_whose_upload_fails(self):
        self.snapshot_upload_failure = OSError('Glance went away')
        image_id = self.snapshot()
        error = self.snapshot_error()
        self.assertEqual('OSError', error['exception'])
        self._assert_failed_snapshot_left_nothing(image_id)
