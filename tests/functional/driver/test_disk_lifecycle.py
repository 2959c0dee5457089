"""An instance's whole life on each disk driver, against the simulator:
spawn with a config drive and network, reboot, snapshot, power off and
on, attach and detach an interface, destroy."""

from nova.compute import power_state

from nova_powervm import vif as pvm_vif
from tests.functional.driver import fixtures

GIB = 1024 ** 3
MIB = 1024 * 1024


class LifecycleMixin:

    def _state(self, instance):
        return self.driver.get_info(instance).state

    def _client_macs(self, instance):
        return sorted(cna.mac for cna in self.client_cnas(instance))

    def _spawn(self):
        self.network_info = [fixtures.sea_vif(1), fixtures.ovs_vif(2)]
        instance = self.make_instance(config_drive='True')
        self.spawn_with(self.network_info, instance=instance)
        self.assertEqual(power_state.RUNNING, self._state(instance))
        self.assertEqual(
            sorted(pvm_vif.pvm_mac(vif['address'])
                   for vif in self.network_info),
            self._client_macs(instance))
        self.assertEqual(1, len(self.mgmt_cnas(instance)))
        self.assertEqual(1, len(self.ovs_trunks()))
        [(_vios, medium)] = self.config_media()
        self.assertEqual([medium.name], [
            mapping.storage.name for mapping in
            self.vopt_mappings(self.lpar_of(instance).partition_id)])
        return instance

    def _reboot(self, instance):
        for reboot_type in ('SOFT', 'HARD'):
            self.driver.reboot(self.context, instance, self.network_info,
                               reboot_type)
            self.assertEqual(power_state.RUNNING, self._state(instance))

    def _snapshot(self, instance):
        image_id = self.glance.add_snapshot_target()
        self.driver.snapshot(self.context, instance, image_id,
                             lambda **kwargs: None)
        upload = self.glance.uploads[image_id]
        self.assertEqual(GIB, upload.size)
        self.assertEqual(self.image_data,
                         upload.read(0, len(self.image_data)))
        # The rest of the disk is zeros: only the image's chunks came.
        self.assertEqual(len(self.image_data) // MIB + 1,
                         len(upload.chunks))

    def _power_cycle(self, instance):
        self.driver.power_off(instance)
        self.assertEqual(power_state.SHUTDOWN, self._state(instance))
        self.driver.power_on(self.context, instance, self.network_info)
        self.assertEqual(power_state.RUNNING, self._state(instance))

    def _attach_and_detach(self, instance):
        before = self._client_macs(instance)
        extra = fixtures.ovs_vif(3)
        self.driver.attach_interface(self.context, instance,
                                     self.image_meta(), extra)
        self.assertIn(pvm_vif.pvm_mac(extra['address']),
                      self._client_macs(instance))
        self.assertEqual(2, len(self.ovs_trunks()))
        self.driver.detach_interface(self.context, instance, extra)
        self.assertEqual(before, self._client_macs(instance))
        self.assertEqual(1, len(self.ovs_trunks()))

    def test_life_of_an_instance(self):
        instance = self._spawn()
        self._reboot(instance)
        self._snapshot(instance)
        self._power_cycle(instance)
        self._attach_and_detach(instance)

        self.driver.destroy(self.context, instance, self.network_info)
        self.assertFalse(self.driver.instance_exists(instance))
        self.assert_nothing_left(instance)
        # Only the image cache stays, for the next deploy of the image.
        self.assertEqual(1, len(self.image_cache()))


class TestLocalDiskLifecycle(LifecycleMixin, fixtures.DriverTestCase):

    def image_cache(self):
        return self.image_vdisks()


class TestSSPLifecycle(LifecycleMixin, fixtures.DriverTestCase):

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def image_cache(self):
        return self.logical_units('VirtualIO_Image')
