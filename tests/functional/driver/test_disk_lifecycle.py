"""An instance's whole life on each disk driver, against the simulator:
spawn, reboot, snapshot, power off and on, destroy."""

from nova.compute import power_state

from tests.functional.driver import fixtures

GIB = 1024 ** 3


class LifecycleMixin:

    def _state(self, instance):
        return self.driver.get_info(instance).state

    def test_life_of_an_instance(self):
        instance = self.make_instance()
        self.spawn(instance)
        self.assertEqual(power_state.RUNNING, self._state(instance))

        self.driver.reboot(self.context, instance, None, 'HARD')
        self.assertEqual(power_state.RUNNING, self._state(instance))

        image_id = self.glance.add_snapshot_target()
        self.driver.snapshot(self.context, instance, image_id,
                             lambda **kwargs: None)
        upload = self.glance.uploads[image_id]
        self.assertEqual(GIB, upload.size)
        self.assertEqual(self.image_data,
                         upload.read(0, len(self.image_data)))
        # The rest of the disk is zeros: only the image's chunks came.
        self.assertEqual(len(self.image_data) // (1024 * 1024) + 1,
                         len(upload.chunks))

        self.driver.power_off(instance)
        self.assertEqual(power_state.SHUTDOWN, self._state(instance))
        self.driver.power_on(self.context, instance, None)
        self.assertEqual(power_state.RUNNING, self._state(instance))

        self.driver.destroy(self.context, instance, None)
        self.assertFalse(self.driver.instance_exists(instance))
        self.assertEqual([], self.client_lpars())
        self.assert_storage_gone()
        # Only the image cache stays, for the next deploy of the image.
        self.assertEqual(1, len(self.image_cache()))


class TestLocalDiskLifecycle(LifecycleMixin, fixtures.DriverTestCase):

    def image_cache(self):
        return self.image_vdisks()


class TestSSPLifecycle(LifecycleMixin, fixtures.DriverTestCase):

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def image_cache(self):
        return self.logical_units('VirtualIO_Image')
