"""Disks the NovaLink partition serves: its files, Ceph images, the
virtual disks mappings make of them, and rescans."""

import testtools

from powervm_sim import model as model_mod
from powervm_sim.model import builder
from powervm_sim.model import storage


class TestNovaLinkDisks(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = model_mod.Model()
        builder.build(self.model, vioses=1, lpars=1, novalink_io=True)
        self.addCleanup(self.model.content.close)
        self.system = self.model.systems[0]
        self.mgmt = self.system.mgmt_partition
        [self.vios] = [v for v in self.model.vioses() if not v.is_mgmt]
        self.model.add_novalink_file(self.system, '/srv/volume-1', 2)

    def test_the_management_vios(self):
        self.assertTrue(self.mgmt.is_vios and self.mgmt.is_mgmt)
        self.assertFalse(self.mgmt.has_physical_io)
        self.assertTrue(self.vios.has_physical_io)
        self.assertEqual({'/srv/volume-1': 2048}, self.mgmt.files)

    def test_files_are_absolute_plain_paths(self):
        for path in ('relative', '/a/../b', '/a//b', '/', '/srv/volume-1'):
            self.assertRaises(model_mod.Conflict,
                              self.model.add_novalink_file, self.system,
                              path, 1)
        self.assertRaises(model_mod.Conflict, self.model.grow_novalink_file,
                          self.system, '/srv/volume-1', 1)
        self.assertRaises(model_mod.Conflict,
                          self.model.remove_novalink_file, self.system,
                          '/srv/nothing')
        self.assertEqual({'/srv/volume-1': 2048}, self.mgmt.files)

    def test_a_served_disk_reads_its_backing(self):
        disk = self.model.new_served_disk(self.mgmt, storage.FILE_DISK,
                                          '/srv/volume-1')
        self.assertEqual(('loop', 2.0), (disk.backstore, disk.capacity_gb))
        self.model.san.add_rbd_image('volumes/v1', 3)
        disk = self.model.new_served_disk(self.mgmt, storage.RBD_DISK,
                                          'volumes/v1', rbd_user='cinder')
        self.assertEqual(('user:rbd', 3.0, 'cinder'), (
            disk.backstore, disk.capacity_gb, disk.rbd_user))

    def test_what_cannot_be_served(self):
        for vios, disk_type, name, backstore in (
                (self.vios, storage.FILE_DISK, '/srv/volume-1', None),
                (self.mgmt, storage.FILE_DISK, '/srv/volume-9', None),
                (self.mgmt, storage.FILE_DISK, '/srv/volume-1', 'user:rbd'),
                (self.mgmt, storage.RBD_DISK, 'volumes/v9', None)):
            self.assertRaises(model_mod.Conflict, self.model.new_served_disk,
                              vios, disk_type, name, backstore)

    def test_rescan_refreshes_a_mapped_disk(self):
        [lpar] = [p for p in self.model.lpars() if not p.is_mgmt]
        self.model.update_scsi_mappings(self.mgmt, [{
            'client_lpar_href': lpar.href, 'vdisk.name': '/srv/volume-1',
            'vdisk.disk_type': storage.FILE_DISK}])
        [mapping] = [m for m in self.mgmt.scsi_mappings if m.storage]
        self.model.grow_novalink_file(self.system, '/srv/volume-1', 5)
        self.assertTrue(self.model.rescan_disk(self.mgmt, '/srv/volume-1'))
        self.assertEqual(5.0, mapping.storage.capacity_gb)
        self.assertFalse(self.model.rescan_disk(self.mgmt, '/srv/none'))
        self.model.remove_novalink_file(self.system, '/srv/volume-1')
        self.assertFalse(self.model.rescan_disk(self.mgmt,
                                                mapping.storage.udid))
