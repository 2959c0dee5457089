"""Boot disks in a volume group (localdisk) against the simulator."""

import threading

from nova import exception

from nova_powervm import vm
from tests.functional.driver import fixtures

GIB = 1024 ** 3


class LocalDiskTestCase(fixtures.DriverTestCase):

    def content(self, storage, size=None):
        """The first ``size`` bytes (default: all) of a disk's content."""
        with self.sim.model.content.open_reader(storage.udid) as blob:
            return blob.read(-1 if size is None else size)

    def boot_disk_of(self, instance):
        name = self.driver.disk_driver.disk_name(instance)
        found = [vdisk for vdisk in self.boot_vdisks() if vdisk.name == name]
        return found[0] if found else None

    def mappings_to(self, instance):
        lpar = self.lpar_of(instance)
        return [mapping for mapping in self.disk_mappings()
                if mapping.client is not None and
                mapping.client.parent is lpar]


class TestLocalDiskSpawn(LocalDiskTestCase):

    def test_boot_disk_is_a_copy_of_the_image_mapped_to_the_lpar(self):
        instance = self.make_instance()
        self.spawn(instance)
        [image] = self.image_vdisks()
        self.assertEqual('i_' + self.image['id'].replace('-', '')[:13],
                         image.name)
        self.assertEqual(self.image_data,
                         self.content(image, len(self.image_data)))
        disk = self.boot_disk_of(instance)
        self.assertEqual('b_' + instance.uuid.replace('-', '')[:13],
                         disk.name)
        # The flavor's root disk (1 GB), holding the image's bytes.
        self.assertEqual(1.0, disk.capacity_gb)
        self.assertEqual(self.image_data,
                         self.content(disk, len(self.image_data)))
        [mapping] = self.mappings_to(instance)
        self.assertIs(disk, mapping.storage)
        # On the VIOS of the volume group.
        self.assertIs(disk.vg.parent, mapping.server.vios)
        self.assertEqual('running', self.lpar_of(instance).state)

    def test_larger_root_disk(self):
        instance = self.make_instance()
        instance.flavor.root_gb = 3
        self.spawn(instance, power_on=False)
        self.assertEqual(3.0, self.boot_disk_of(instance).capacity_gb)

    def test_root_gb_zero_takes_the_size_of_the_image(self):
        instance = self.make_instance()
        instance.flavor.root_gb = 0
        self.spawn(instance, power_on=False)
        [image] = self.image_vdisks()
        self.assertEqual(image.capacity_gb,
                         self.boot_disk_of(instance).capacity_gb)

    def test_an_image_is_uploaded_once(self):
        first, second = self.make_instance(), self.make_instance()
        self.spawn(first, power_on=False)
        self.spawn(second, power_on=False)
        self.assertEqual(1, self.glance.downloads[self.image['id']])
        self.assertEqual(1, len(self.image_vdisks()))
        self.assertEqual(2, len(self.boot_vdisks()))

    def test_concurrent_deploys_of_one_image_upload_it_once(self):
        instances = [self.make_instance() for _ in range(3)]
        errors = []

        def deploy(instance):
            try:
                self.spawn(instance, power_on=False)
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=deploy, args=(instance,))
                   for instance in instances]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], errors)
        self.assertEqual(1, self.glance.downloads[self.image['id']])
        self.assertEqual(1, len(self.image_vdisks()))
        for instance in instances:
            self.assertEqual(self.image_data, self.content(
                self.boot_disk_of(instance), len(self.image_data)))
            self.assertEqual(1, len(self.mappings_to(instance)))

    def test_each_image_has_its_own_cache_volume(self):
        other = self.glance.add_image(fixtures.image_bytes(
            1024 * 1024, seed=b'other'))
        self.spawn(self.make_instance(), power_on=False)
        self.spawn(self.make_instance(), power_on=False,
                   image_meta=self.image_meta(image=other))
        self.assertEqual(2, len(self.image_vdisks()))

    def test_image_without_data_is_refused(self):
        empty = self.glance.add_image(b'')
        instance = self.make_instance()
        self.assertRaises(exception.ImageUnacceptable, self.spawn, instance,
                          image_meta=self.image_meta(image=empty))
        self.assertEqual([], self.client_lpars())
        self.assert_storage_gone()

    def test_image_in_another_format_is_refused(self):
        qcow2 = self.glance.add_image(b'QFI\xfb' + bytes(1020),
                                      disk_format='qcow2')
        instance = self.make_instance()
        err = self.assertRaises(exception.ImageUnacceptable, self.spawn,
                                instance,
                                image_meta=self.image_meta(image=qcow2))
        self.assertIn('raw disk images only', str(err))
        self.assertEqual(0, self.glance.downloads[qcow2['id']])
        self.assertEqual([], self.client_lpars())
        self.assert_storage_gone()

    def test_used_disk_space_follows_the_disks(self):
        before = self.driver.get_available_resource(fixtures.HOST)
        self.spawn(self.make_instance(), power_on=False)
        after = self.driver.get_available_resource(fixtures.HOST)
        # The image cache (1 GB) and the boot disk (1 GB).
        self.assertEqual(before['local_gb_used'] + 2,
                         after['local_gb_used'])


class TestLocalDiskDestroy(LocalDiskTestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.make_instance()
        self.spawn(self.instance)

    def test_destroy_removes_mapping_adapters_and_disk(self):
        self.driver.destroy(self.context, self.instance, None)
        self.assertEqual([], self.client_lpars())
        self.assert_storage_gone()
        # The image cache stays for the next deploy of the image.
        self.assertEqual(1, len(self.image_vdisks()))

    def test_destroy_keeping_the_disk(self):
        disk = self.boot_disk_of(self.instance)
        self.driver.destroy(self.context, self.instance, None,
                            destroy_disks=False)
        self.assertEqual([disk], self.boot_vdisks())
        self.assertEqual([], self.disk_mappings())
        self.assertEqual([], self.vscsi_client_adapters())

    def test_destroy_after_the_lpar_was_deleted_outside_nova(self):
        # Its mapping stays as an orphan (the VIOS keeps its server side).
        lpar = self.lpar_of(self.instance)
        self.sim.model.set_partition_state(lpar, 'not activated')
        self.sim.model.delete_partition(lpar)
        self.assertEqual(1, len(self.disk_mappings()))
        self.driver.destroy(self.context, self.instance, None)
        self.assert_storage_gone()

    def test_destroy_twice(self):
        self.driver.destroy(self.context, self.instance, None)
        self.driver.destroy(self.context, self.instance, None)
        self.assert_storage_gone()

    def test_destroy_leaves_other_instances_alone(self):
        other = self.make_instance()
        self.spawn(other, power_on=False)
        self.driver.destroy(self.context, self.instance, None)
        self.assertEqual([self.boot_disk_of(other)], self.boot_vdisks())
        self.assertEqual(1, len(self.mappings_to(other)))
        self.assertEqual(vm.get_pvm_uuid(other).upper(),
                         self.lpar_of(other).uuid)
