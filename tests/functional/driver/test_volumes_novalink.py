"""Volumes the NovaLink partition serves itself: files (local, NFS, GPFS)
through FileIO and Ceph RBD images, mapped as virtual disks from the
NovaLink partition when it hosts I/O; refused when it does not."""

import os

from nova import exception
from oslo_utils import uuidutils

from tests.functional.driver import fixtures


class NovaLinkVolumeTestCase(fixtures.DriverTestCase):

    NOVALINK_IO = True

    def volume(self, volume_type, **data):
        return {'driver_volume_type': volume_type,
                'serial': uuidutils.generate_uuid(), 'data': data}

    def served(self):
        """{disk name: (type, partition ID it is mapped to)} of the
        virtual disks the NovaLink partition serves."""
        novalink = self.system.mgmt_partition
        return {mapping.vdisk.name: (mapping.vdisk.disk_type,
                                     mapping.server.remote_lpar_id)
                for mapping in novalink.scsi_mappings
                if mapping.vdisk is not None and
                getattr(mapping.vdisk, 'disk_type', None) is not None}


class TestFileVolumes(NovaLinkVolumeTestCase):

    def test_local_file_attach_and_detach(self):
        instance = self.running_instance()
        path = self.sim.novalink_file()
        info = self.volume('local', device_path=path)
        self.attach(instance, info)
        self.assertEqual({path: ('File', self.lpar_of(instance).partition_id)},
                         self.served())
        self.detach(instance, info)
        self.assertEqual({}, self.served())

    def test_file_to_a_stopped_lpar(self):
        instance = self.make_instance()
        self.spawn(instance, power_on=False)
        path = self.sim.novalink_file()
        info = self.volume('gpfs', device_path=path)
        self.attach(instance, info)
        self.assertEqual({path: ('File', self.lpar_of(instance).partition_id)},
                         self.served())
        self.detach(instance, info)
        self.assertEqual({}, self.served())

    def test_nfs_file_by_export_and_name(self):
        instance = self.running_instance()
        path = self.sim.novalink_file()
        export, name = os.path.split(path)
        info = self.volume('nfs', export=export, name=name)
        self.attach(instance, info)
        self.assertEqual([path], list(self.served()))
        self.detach(instance, info)
        self.assertEqual({}, self.served())

    def test_a_missing_file_attaches_nothing(self):
        instance = self.running_instance()
        info = self.volume('gpfs', device_path='/gpfs/no/such/volume')
        self.assertRaises(exception.VolumeAttachFailed, self.attach,
                          instance, info)
        self.assertEqual({}, self.served())

    def test_extend_shows_the_grown_file(self):
        instance = self.running_instance()
        path = self.sim.novalink_file(size_gb=1)
        info = self.volume('local', device_path=path)
        self.attach(instance, info)
        self.sim.model.grow_novalink_file(self.system, path, 2)
        self.driver.extend_volume(self.context, info, instance,
                                  2 * 1024 ** 3)
        [disk] = [mapping.vdisk
                  for mapping in self.system.mgmt_partition.scsi_mappings
                  if mapping.vdisk is not None and mapping.vdisk.name == path]
        self.assertEqual(2, disk.capacity_gb)

    def test_boot_from_a_file_volume(self):
        instance = self.make_instance()
        path = self.sim.novalink_file(size_gb=2)
        bdm = fixtures.DriverBDM(self.volume('local', device_path=path),
                                 boot_index=0)
        self.driver.spawn(self.context, instance, self.image_meta(), [],
                          None, {},
                          block_device_info=fixtures.block_device_info(bdm))
        self.assertEqual([], self.boot_vdisks())
        self.assertEqual([path], list(self.served()))
        self.driver.destroy(self.context, instance, [],
                            block_device_info=fixtures.block_device_info(bdm))
        self.assertEqual({}, self.served())
        self.assert_nothing_left(instance)


class TestRBDVolumes(NovaLinkVolumeTestCase):

    def test_attach_and_detach_as_the_rbd_user(self):
        self.flags(rbd_user='cinder', group='powervm')
        instance = self.running_instance()
        name = self.sim.rbd_image()
        info = self.volume('rbd', name=name)
        self.attach(instance, info)
        self.assertEqual({name: ('RBD', self.lpar_of(instance).partition_id)},
                         self.served())
        [disk] = [mapping.vdisk
                  for mapping in self.system.mgmt_partition.scsi_mappings
                  if mapping.vdisk is not None]
        self.assertEqual('cinder', disk.rbd_user)
        self.detach(instance, info)
        self.assertEqual({}, self.served())

    def test_rbd_to_a_stopped_lpar_and_extend(self):
        instance = self.make_instance()
        self.spawn(instance, power_on=False)
        name = self.sim.rbd_image(size_gb=1)
        info = self.volume('rbd', name=name)
        self.attach(instance, info)
        self.sim.model.san.grow_rbd_image(name, 3)
        self.driver.extend_volume(self.context, info, instance,
                                  3 * 1024 ** 3)
        [disk] = [mapping.vdisk
                  for mapping in self.system.mgmt_partition.scsi_mappings
                  if mapping.vdisk is not None and mapping.vdisk.name == name]
        self.assertEqual(3, disk.capacity_gb)
        self.detach(instance, info)
        self.assertEqual({}, self.served())

    def test_an_image_ceph_does_not_have_is_refused_first(self):
        instance = self.running_instance()
        info = self.volume('rbd', name='volumes/volume-404')
        err = self.assertRaises(exception.VolumeAttachFailed, self.attach,
                                instance, info)
        self.assertIn('Ceph has no image volumes/volume-404', str(err))
        self.assertEqual({}, self.served())


class TestWithoutNovaLinkIO(fixtures.DriverTestCase):

    def test_file_and_rbd_volumes_are_refused(self):
        instance = self.running_instance()
        for info in ({'driver_volume_type': 'local', 'serial': 'v1',
                      'data': {'device_path': '/var/lib/nova/volumes/x'}},
                     {'driver_volume_type': 'rbd', 'serial': 'v2',
                      'data': {'name': 'volumes/volume-1'}}):
            err = self.assertRaises(
                exception.VolumeAttachFailed, self.driver.attach_volume,
                self.context, info, instance, '/dev/sdb')
            self.assertIn('does not host I/O', str(err))
