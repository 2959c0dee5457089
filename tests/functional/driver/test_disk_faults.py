"""A boot disk step of a spawn failing in NovaLink: the right nova error
and nothing of the instance left behind.

"Nothing" is: no LPAR, no boot disk (VDisk or LU), no disk mapping, no
vSCSI adapter on either side.  The image cache (the image's volume or
image LU) may stay when it was uploaded whole: it serves the next deploy
of the image.  An image whose upload failed leaves no cache behind.
"""

import fixtures as fx
from nova import exception

from powervm_sim import faults
from tests.functional.driver import fixtures

# The upload of an image's bytes (pypowervm's File API).
_UPLOAD = {'method': 'PUT', 'path': r'/rest/api/web/File/contents/'}
# The File record an upload starts with.
_FILE_RECORD = {'method': 'PUT', 'path': r'/rest/api/web/File$'}
# A logical volume's create or copy: the volume group posted back.
_VOLUME_GROUP_UPDATE = {'method': 'POST', 'resource_type': 'VolumeGroup'}
# An LU's create (image, marker or linked clone).
_LU_CREATE = {'method': 'PUT', 'resource_type': 'LogicalUnit'}
# A vSCSI mapping: the VIOS's mapping section posted back.
_VIOS_UPDATE = {'method': 'POST', 'resource_type': 'VirtualIOServer'}


class DiskFaultTestCase(fixtures.DriverTestCase):

    def arm(self, outcome, **criteria):
        return self.sim.faults.add(
            faults.FaultRule(outcome=outcome, **criteria))

    def prime_image_cache(self):
        """Deploy and destroy once: the image is in the cache now."""
        instance = self.make_instance()
        self.spawn(instance, power_on=False)
        self.driver.destroy(self.context, instance, None)

    def assert_spawn_fails(self, exc_class=exception.InstanceDeployFailure):
        instance = self.make_instance()
        err = self.assertRaises(exc_class, self.spawn, instance)
        self.assertIsNone(self.lpar_of(instance))
        self.assertEqual([], self.client_lpars())
        self.assert_storage_gone()
        return err

    def assert_next_spawn_works(self):
        self.sim.faults.clear()
        instance = self.make_instance()
        self.spawn(instance)
        self.assertEqual('running', self.lpar_of(instance).state)


class TestLocalDiskFaults(DiskFaultTestCase):

    def test_image_upload_fails(self):
        self.arm(faults.internal_error('Upload failed.'), **_UPLOAD)
        err = self.assert_spawn_fails()
        self.assertIn('Upload failed.', str(err))
        self.assertEqual([], self.image_vdisks())
        self.assert_next_spawn_works()

    def test_upload_record_answer_lost(self):
        self.arm(faults.DropConnection(), **_FILE_RECORD)
        self.assert_spawn_fails()
        self.assertEqual([], self.image_vdisks())

    def test_upload_refused_before_any_data(self):
        # pypowervm made the image volume, then the upload's File record
        # was refused: the empty volume must not pass for the image.
        self.arm(faults.internal_error('No File.'), **_FILE_RECORD)
        self.assert_spawn_fails()
        self.assertEqual([], self.image_vdisks())
        self.assert_next_spawn_works()
        [image] = self.image_vdisks()
        with self.sim.model.content.open_reader(image.udid) as blob:
            self.assertEqual(self.image_data,
                             blob.read(len(self.image_data)))

    def test_copy_fails(self):
        self.prime_image_cache()
        self.arm(faults.HttpFault(status=400, message='HSCLB001 No space.'),
                 **_VOLUME_GROUP_UPDATE)
        err = self.assert_spawn_fails()
        self.assertIn('HSCLB001', str(err))
        # The cache stays; it was whole.
        self.assertEqual(1, len(self.image_vdisks()))
        self.assert_next_spawn_works()

    def test_copy_answer_lost(self):
        self.prime_image_cache()
        self.arm(faults.DropConnection(), max_count=1,
                 **_VOLUME_GROUP_UPDATE)
        self.assert_spawn_fails()

    def test_mapping_fails(self):
        self.arm(faults.internal_error('Mapping failed.'), **_VIOS_UPDATE)
        err = self.assert_spawn_fails()
        self.assertIn('Mapping failed.', str(err))
        self.assertEqual(1, len(self.image_vdisks()))
        self.assert_next_spawn_works()

    def test_mapping_etag_conflict_is_retried(self):
        self.useFixture(fx.MockPatch('pypowervm.utils.retry.time.sleep'))
        rule_id = self.arm(faults.EtagConflict(), max_count=1,
                           **_VIOS_UPDATE)
        instance = self.make_instance()
        self.spawn(instance)
        self.assertEqual(1, self.sim.faults.counters()['by_rule'][rule_id])
        self.assertEqual(1, len(self.disk_mappings()))

    def test_power_on_fails_after_the_disk_is_attached(self):
        self.arm(faults.JobFailure('HSCL0001 Activation failed.'),
                 job='PowerOn')
        self.assert_spawn_fails(exception.InstancePowerOnFailure)


class TestSSPFaults(DiskFaultTestCase):

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def image_lus(self):
        return self.logical_units('VirtualIO_Image')

    def test_image_upload_fails(self):
        self.arm(faults.internal_error('Upload failed.'), **_UPLOAD)
        err = self.assert_spawn_fails()
        self.assertIn('Upload failed.', str(err))
        # Neither the image LU nor pypowervm's marker LU stays.
        self.assertEqual([], self.image_lus())
        self.assert_next_spawn_works()

    def test_upload_refused_before_any_data(self):
        self.arm(faults.internal_error('No File.'), **_FILE_RECORD)
        self.assert_spawn_fails()
        self.assertEqual([], self.image_lus())
        self.assert_next_spawn_works()

    def test_linked_clone_fails(self):
        self.prime_image_cache()
        self.arm(faults.HttpFault(status=400,
                                  message='HSCLC001 The pool is full.'),
                 **_LU_CREATE)
        err = self.assert_spawn_fails()
        self.assertIn('HSCLC001', str(err))
        self.assertEqual(1, len(self.image_lus()))
        self.assert_next_spawn_works()

    def test_mapping_fails_on_one_of_the_vioses(self):
        # One VIOS maps the disk, the other refuses: the undo removes the
        # mapping that was made.
        self.arm(faults.internal_error('Mapping failed.'), max_count=1,
                 **_VIOS_UPDATE)
        err = self.assert_spawn_fails()
        self.assertIn('Mapping failed.', str(err))
        self.assert_next_spawn_works()
        self.assertEqual(2, len(self.disk_mappings()))

    def test_mapping_answer_lost(self):
        self.arm(faults.DropConnection(), max_count=1, **_VIOS_UPDATE)
        self.assert_spawn_fails()
