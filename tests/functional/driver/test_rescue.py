"""Rescue and unrescue on the simulator (nova_powervm/rescue.py).

What the LPAR booted from is the simulator's record of its last PowerOn
(powervm_sim/model/boot.py): the boot mode, and the disk the guest then
started from (normal: the first disk mapped to it; SMS: the disk mapped
last).
"""

from nova.compute import power_state
from nova.compute import vm_states
from nova import exception
from nova import objects

from tests.functional.driver import fixtures


class RescueTestCase(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.network_info = [fixtures.sea_vif(1)]
        self.rescue_data = fixtures.image_bytes(fixtures.IMAGE_SIZE,
                                                seed=b'rescue')
        self.rescue_image = self.glance.add_image(self.rescue_data)

    # ------------------------------------------------------- operations
    def running(self, **fields):
        """A running instance with a config drive and a VIF, made from the
        test's image (its image_ref)."""
        instance = self.make_instance(config_drive='True',
                                      image_ref=self.image['id'], **fields)
        self.spawn_with(self.network_info, instance=instance)
        return instance

    def rescue(self, instance, image=None, block_device_info=None):
        image_meta = objects.ImageMeta.from_dict(
            {} if image is False else dict(image or self.rescue_image))
        self.driver.rescue(self.context, instance, self.network_info,
                           image_meta, 'password', block_device_info,
                           objects.ShareMappingList())
        instance.vm_state = vm_states.RESCUED

    def unrescue(self, instance):
        self.driver.unrescue(self.context, instance)
        instance.vm_state = vm_states.ACTIVE

    # ------------------------------------------------------------ disks
    def disk_named(self, name):
        """The model's disk (logical volume or unit) called ``name``."""
        found = [vdisk for vdisk in self.boot_vdisks() if vdisk.name == name]
        found += [lu for lu in self.logical_units('VirtualIO_Disk')
                  if lu.name == name]
        return found[0] if found else None

    def boot_disk(self, instance):
        return self.disk_named(self.driver.disk_driver.disk_name(instance))

    def rescue_disk_name(self, instance):
        return self.driver.disk_driver.for_rescue().disk_name(instance)

    def rescue_disk(self, instance):
        return self.disk_named(self.rescue_disk_name(instance))

    def content(self, disk, size):
        with self.sim.model.content.open_reader(disk.udid) as blob:
            return blob.read(size)

    def guest_writes(self, instance, data):
        """The guest writes ``data`` at the start of its boot disk."""
        disk = self.boot_disk(instance)
        # In place, as a guest writes: the disk stays as sparse as it was
        # (rewriting the whole blob cost a campaign seconds a run).
        with open(self.sim.model.content.path(disk.udid), 'r+b') as blob:
            blob.write(data)

    def mapped_disk_names(self, instance):
        """Names of the disks mapped to the instance's LPAR."""
        lpar_id = self.lpar_of(instance).partition_id
        return sorted({mapping.storage.name
                       for mapping in self.disk_mappings()
                       if mapping.server.remote_lpar_id == lpar_id})

    def last_boot(self, instance):
        boot = self.lpar_of(instance).last_boot
        return boot.mode, boot.device

    # ------------------------------------------------------- assertions
    def assert_rescued(self, instance, data=None):
        """Running, booted in SMS mode from its rescue disk, which holds
        the rescue image; the boot disk stays mapped, holding ``data``
        (the test image's bytes by default)."""
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(instance).state)
        self.assertEqual(('sms', self.rescue_disk_name(instance)),
                         self.last_boot(instance))
        self.assertEqual(self.rescue_data, self.content(
            self.rescue_disk(instance), len(self.rescue_data)))
        self.assert_boot_disk_intact(instance, data)
        self.assertIn(self.rescue_disk_name(instance),
                      self.mapped_disk_names(instance))

    def assert_boot_disk_intact(self, instance, data=None):
        data = data or self.image_data
        self.assertEqual(data, self.content(self.boot_disk(instance),
                                            len(data)))
        self.assertIn(self.driver.disk_driver.disk_name(instance),
                      self.mapped_disk_names(instance))

    def assert_not_rescued(self, instance, data=None):
        """Running from its boot disk (normal boot); no rescue disk."""
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(instance).state)
        self.assertEqual(
            ('norm', self.driver.disk_driver.disk_name(instance)),
            self.last_boot(instance))
        self.assertIsNone(self.rescue_disk(instance))
        self.assertNotIn(self.rescue_disk_name(instance),
                         self.mapped_disk_names(instance))
        self.assert_boot_disk_intact(instance, data)
        lpar_id = self.lpar_of(instance).partition_id
        self.assertEqual(1, len(self.vopt_mappings(lpar_id)))
        self.assertEqual(len(self.network_info),
                         len(self.client_cnas(instance)))


class TestRescue(RescueTestCase):

    def test_rescue_boots_the_rescue_disk(self):
        instance = self.running()
        self.assertEqual(('norm', self.driver.disk_driver.disk_name(
            instance)), self.last_boot(instance))
        written = b'the guest wrote this' * 10
        self.guest_writes(instance, written)
        self.rescue(instance)
        self.assert_rescued(instance, written)
        lpar_id = self.lpar_of(instance).partition_id
        # The config drive and the VIF stay.
        self.assertEqual(1, len(self.vopt_mappings(lpar_id)))
        self.assertEqual(1, len(self.client_cnas(instance)))

    def test_unrescue_boots_the_boot_disk_again(self):
        instance = self.running()
        written = b'the guest wrote this' * 10
        self.guest_writes(instance, written)
        self.rescue(instance)
        self.unrescue(instance)
        self.assert_not_rescued(instance, written)

    def test_rescue_without_an_image_takes_the_instances_own(self):
        instance = self.running()
        self.rescue(instance, image=False)
        self.assertEqual(('sms', self.rescue_disk_name(instance)),
                         self.last_boot(instance))
        self.assertEqual(self.image_data, self.content(
            self.rescue_disk(instance), len(self.image_data)))

    def test_rescue_of_a_stopped_instance(self):
        instance = self.running()
        self.driver.power_off(instance)
        self.rescue(instance)
        self.assert_rescued(instance)

    def test_rescue_twice_over(self):
        instance = self.running()
        for _round in range(2):
            self.rescue(instance)
            self.assert_rescued(instance)
            self.unrescue(instance)
            self.assert_not_rescued(instance)

    def test_unrescue_of_an_instance_not_rescued(self):
        instance = self.running()
        self.unrescue(instance)
        self.assert_not_rescued(instance)

    def test_destroy_while_rescued_leaves_nothing(self):
        instance = self.running()
        self.rescue(instance)
        self.driver.destroy(self.context, instance, self.network_info)
        self.assert_nothing_left(instance)
        self.assertIsNone(self.rescue_disk(instance))

    def test_rescue_after_an_unrescue_left_its_disk(self):
        # An unrescue that failed, undone: nova puts the instance in error,
        # rescued; a rescue from there starts afresh.
        instance = self.running()
        self.rescue(instance)
        instance.vm_state = vm_states.ERROR
        self.rescue(instance)
        self.assert_rescued(instance)
        self.unrescue(instance)
        self.assert_not_rescued(instance)

    def test_failed_rescue_leaves_the_instance_as_it_was(self):
        instance = self.running()
        bad = self.glance.add_image(b'QFI\xfb' + bytes(1020),
                                    disk_format='qcow2')
        self.assertRaises(exception.ImageUnacceptable, self.rescue,
                          instance, image=bad)
        self.assert_not_rescued(instance)

    def test_boot_from_volume_is_refused(self):
        instance = self.running()
        _lun, info = self.fc_volume()
        bdi = fixtures.block_device_info(
            fixtures.DriverBDM(info, boot_index=0))
        self.assertRaises(exception.InstanceNotRescuable, self.rescue,
                          instance, block_device_info=bdi)
        self.assert_not_rescued(instance)


class TestRescueWithVolume(RescueTestCase):

    def test_rescue_and_unrescue_keep_the_volume(self):
        instance = self.running()
        self.sim.model.set_partition_state(self.lpar_of(instance), 'running',
                                           rmc_state='active')
        lun, info = self.fc_volume()
        self.attach(instance, info)
        self.rescue(instance)
        self.assert_rescued(instance)
        self.assert_volume_attached(instance, lun, info)
        self.unrescue(instance)
        self.assert_not_rescued(instance)
        self.assert_volume_attached(instance, lun, info)
        self.driver.destroy(self.context, instance, self.network_info,
                            block_device_info=fixtures.block_device_info(
                                fixtures.DriverBDM(info)))
        self.assert_nothing_left(instance)
        self.assert_volume_gone(lun)


class TestRescueSSP(TestRescue):

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}
