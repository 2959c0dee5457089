"""Snapshots: the boot disk's bytes reach Glance; nothing stays mapped."""

import fixtures as fx
from nova.compute import task_states
from nova import exception
from pypowervm import exceptions as pvm_exc

from nova_powervm import exception as pvm_nova_exc
from powervm_sim import faults
from powervm_sim import platform as sim_platform
from tests.functional.driver import fixtures
from tests.functional.driver import glance_fake

GIB = 1024 ** 3
# Where the tests write as if the instance had written its disk.
GUEST_WRITE_OFFSET = 512 * 1024 * 1024 + 7
GUEST_BYTES = b'written by the instance after it booted'


class SnapshotTestCase(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.make_instance()
        self.spawn(self.instance)
        self.states = []

    def update_task_state(self, task_state, expected_state=None):
        self.states.append((task_state, expected_state))

    def snapshot(self):
        image_id = self.glance.add_snapshot_target()
        self.driver.snapshot(self.context, self.instance, image_id,
                             self.update_task_state)
        return image_id

    def mgmt_mappings(self):
        """Disk mappings to the NovaLink partition."""
        return [mapping for mapping in self.disk_mappings()
                if mapping.client is not None and
                mapping.client.parent.is_mgmt]

    def lpar_mappings(self):
        lpar = self.lpar_of(self.instance)
        return [mapping for mapping in self.disk_mappings()
                if mapping.client is not None and
                mapping.client.parent is lpar]

    def write_as_guest(self, disk):
        """Change the boot disk the way the running instance would."""
        with open(self.sim.model.content.path(disk.udid), 'r+b') as blob:
            blob.seek(GUEST_WRITE_OFFSET)
            blob.write(GUEST_BYTES)

    def assert_uploaded_disk(self, image_id, disk_bytes, guest_wrote=False):
        upload = self.glance.uploads[image_id]
        self.assertEqual(disk_bytes, upload.size)
        self.assertEqual(self.image_data,
                         upload.read(0, len(self.image_data)))
        # Nothing but zeros elsewhere (what the guest wrote aside).
        chunk = glance_fake.CHUNK
        expected = set(range(0, len(self.image_data), chunk))
        if guest_wrote:
            self.assertEqual(GUEST_BYTES, upload.read(GUEST_WRITE_OFFSET,
                                                      len(GUEST_BYTES)))
            expected.add(GUEST_WRITE_OFFSET // chunk * chunk)
        self.assertEqual(expected, set(upload.chunks))
        tail = chunk - len(self.image_data) % chunk
        self.assertEqual(bytes(tail), upload.read(len(self.image_data),
                                                  tail))
        meta = self.glance.show(self.context, image_id)
        self.assertEqual(('raw', 'bare', 'active'),
                         (meta['disk_format'], meta['container_format'],
                          meta['status']))
        self.assertEqual('snapshot', meta['properties']['image_location'])
        self.assertEqual(self.instance.project_id,
                         meta['properties']['owner_id'])

    def assert_task_states(self):
        self.assertEqual(
            [(task_states.IMAGE_PENDING_UPLOAD, None),
             (task_states.IMAGE_UPLOADING,
              task_states.IMAGE_PENDING_UPLOAD)], self.states)


class TestLocalDiskSnapshot(SnapshotTestCase):

    def boot_disk(self):
        name = self.driver.disk_driver.disk_name(self.instance)
        return next(vdisk for vdisk in self.boot_vdisks()
                    if vdisk.name == name)

    def copies(self):
        return [vdisk for vdisk in self.boot_vdisks()
                if vdisk.name.startswith('s_')]

    def test_snapshot_uploads_the_disk_as_the_instance_left_it(self):
        self.write_as_guest(self.boot_disk())
        image_id = self.snapshot()
        self.assert_uploaded_disk(image_id, GIB, guest_wrote=True)
        self.assert_task_states()

    def test_a_copy_is_mapped_to_the_novalink_partition_meanwhile(self):
        seen = []
        self.glance.during_upload = lambda: seen.append(
            [mapping.storage for mapping in self.mgmt_mappings()])
        self.snapshot()
        [[mapped]] = seen
        self.assertEqual(self.copies(), [])
        self.assertTrue(mapped.name.startswith('s_'))
        # Afterwards: no mapping to NovaLink, no copy; the LPAR keeps its
        # disk and runs on.
        self.assertEqual([], self.mgmt_mappings())
        self.assertEqual([self.boot_disk()],
                         [m.storage for m in self.lpar_mappings()])
        self.assertEqual('running', self.lpar_of(self.instance).state)
        mgmt_lpar = next(lpar for lpar in self.sim.model.lpars(self.system)
                         if lpar.is_mgmt)
        self.assertEqual([], [a for a in mgmt_lpar.adapters
                              if a.kind == 'VirtualSCSIClientAdapter'])

    def test_failed_upload_unmaps_and_removes_the_copy(self):
        self.glance.fail_upload = OSError('Glance went away')
        self.assertRaises(OSError, self.snapshot)
        self.assertEqual([], self.mgmt_mappings())
        self.assertEqual([], self.copies())
        self.assertEqual(1, len(self.lpar_mappings()))

    def test_refused_mapping_removes_the_copy(self):
        self.sim.faults.add(faults.FaultRule(
            outcome=faults.internal_error('Mapping failed.'),
            method='POST', resource_type='VirtualIOServer'))
        err = self.assertRaises(pvm_exc.HttpError, self.snapshot)
        self.assertIn('Mapping failed.', str(err))
        self.assertEqual([], self.copies())
        self.assertEqual([], self.mgmt_mappings())
        self.assertNotIn(task_states.IMAGE_UPLOADING,
                         [state for state, _ in self.states])

    def test_snapshot_needs_nova_compute_on_the_novalink_partition(self):
        self.useFixture(fx.MockPatchObject(
            sim_platform.SimulatedPlatform, 'lparcfg',
            return_value={'partition_id': '7'}))
        self.assertRaises(pvm_nova_exc.NotOnManagementPartition,
                          self.snapshot)
        self.assertEqual([], self.copies())
        self.assertEqual([], self.mgmt_mappings())

    def test_disk_that_does_not_show_up(self):
        self.useFixture(fx.MockPatchObject(
            sim_platform.SimulatedPlatform, 'discover_disk',
            side_effect=pvm_nova_exc.DiskDiscoveryFailed(udid='x',
                                                         reason='no')))
        self.assertRaises(pvm_nova_exc.DiskDiscoveryFailed, self.snapshot)
        self.assertEqual([], self.copies())
        self.assertEqual([], self.mgmt_mappings())

    def test_two_snapshots_in_a_row(self):
        first, second = self.snapshot(), self.snapshot()
        self.assert_uploaded_disk(first, GIB)
        self.assert_uploaded_disk(second, GIB)
        self.assertEqual([], self.copies())


class TestSnapshotWithoutLpar(SnapshotTestCase):
    """nova-compute deletes the queued image when the snapshot says the
    instance is not running (or not found); a DiskNotFound or anything
    else would leave it behind."""

    def assert_refused_untouched(self, instance):
        image_id = self.glance.add_snapshot_target()
        self.assertRaises(exception.InstanceNotRunning, self.driver.snapshot,
                          self.context, instance, image_id,
                          self.update_task_state)
        self.assertEqual([], self.states)
        self.assertNotIn(image_id, self.glance.uploads)
        self.assertEqual([], self.mgmt_mappings())

    def test_instance_never_spawned(self):
        self.assert_refused_untouched(self.make_instance())

    def test_lpar_deleted_outside_nova(self):
        lpar = self.lpar_of(self.instance)
        self.sim.model.set_partition_state(lpar, 'not activated')
        self.sim.model.delete_partition(lpar)
        self.assert_refused_untouched(self.instance)
        # Its boot disk stays for nova's destroy; no copy of it was made.
        self.assertEqual(1, len(self.boot_vdisks()))


class TestSSPSnapshot(SnapshotTestCase):

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def boot_lu(self):
        name = self.driver.disk_driver.disk_name(self.instance)
        return next(lu for lu in self.logical_units('VirtualIO_Disk')
                    if lu.name == name)

    def test_snapshot_uploads_the_disk_as_the_instance_left_it(self):
        self.write_as_guest(self.boot_lu())
        image_id = self.snapshot()
        self.assert_uploaded_disk(image_id, GIB, guest_wrote=True)
        self.assert_task_states()

    def test_the_lu_itself_is_mapped_to_the_novalink_partition(self):
        seen = []
        self.glance.during_upload = lambda: seen.append(
            [mapping.storage for mapping in self.mgmt_mappings()])
        self.snapshot()
        self.assertEqual([[self.boot_lu()]], seen)
        self.assertEqual([], self.mgmt_mappings())
        # Both VIOSes still map it to the LPAR.
        self.assertEqual(2, len(self.lpar_mappings()))

    def test_failed_upload_unmaps(self):
        self.glance.fail_upload = OSError('Glance went away')
        self.assertRaises(OSError, self.snapshot)
        self.assertEqual([], self.mgmt_mappings())
        self.assertEqual(2, len(self.lpar_mappings()))
        self.assertEqual(1, len(self.logical_units('VirtualIO_Disk')))
