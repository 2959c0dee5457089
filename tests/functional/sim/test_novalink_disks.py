"""Disks the NovaLink partition serves itself, through unmodified
pypowervm: Ceph RBD images and files on the partition, mapped over vSCSI
from the NovaLink partition (in the VIOS feed when it hosts I/O) to a
client LPAR."""

from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import hdisk
from pypowervm.tasks import partition as pvm_par
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from tests.functional.sim import test_bad_input

SMAP = pvm_const.XAG.VIO_SMAP
IMAGE = 'volumes/volume-1'


class NovaLinkDiskTestBase(test_bad_input.BadInputTestBase):
    novalink_io = True

    def setUp(self):
        super().setUp()
        self.mgmt = pvm_par.get_mgmt_partition(self.adapter)
        self.vios = [v for v in self.model.vioses() if not v.is_mgmt][0]
        self.lpar_w = self.build_lpar('client').create(parent=self.host)

    def map(self, storage, vios_uuid=None):
        scsi_mapper.add_vscsi_mapping(None, vios_uuid or self.mgmt.uuid,
                                      self.lpar_w.uuid, storage)

    def mappings(self):
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=self.mgmt.uuid,
                                   xag=[SMAP])
        return scsi_mapper.find_maps(vios_w.scsi_mappings,
                                     client_lpar_id=self.lpar_w.id)

    def unmap(self, name):
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=self.mgmt.uuid,
                                   xag=[SMAP])
        scsi_mapper.remove_maps(vios_w, self.lpar_w.id, match_func=(
            scsi_mapper.gen_match_func(pvm_stg.VDisk, names=[name])))
        vios_w.update()


class TestTheNovaLinkPartitionHostsIo(NovaLinkDiskTestBase):

    def test_it_is_the_management_vios(self):
        self.assertIsInstance(self.mgmt, pvm_vios.VIOS)
        self.assertTrue(self.mgmt.is_mgmt_partition)
        self.assertNotIn(self.mgmt.uuid,
                         [w.uuid for w in pvm_lpar.LPAR.get(self.adapter)])
        # It has no disks or FC cards of its own, is no cluster node and
        # bridges no network.
        mgmt = self.model.get(self.mgmt.uuid)
        self.assertEqual(([], [], []), (mgmt.physical_volumes,
                                        mgmt.fc_ports, mgmt.seas))
        self.assertTrue(mgmt.iscsi_initiator.startswith('iqn.'))


class TestNovaLinkIsAnLparByDefault(test_bad_input.BadInputTestBase):

    def test_default(self):
        self.assertIsInstance(pvm_par.get_mgmt_partition(self.adapter),
                              pvm_lpar.LPAR)


class TestRbd(NovaLinkDiskTestBase):

    def setUp(self):
        super().setUp()
        self.model.san.add_rbd_image(IMAGE, 2)

    def test_rbd_exists_answers_from_the_pools(self):
        self.assertTrue(hdisk.rbd_exists(self.adapter, self.mgmt.uuid,
                                         IMAGE))
        self.assertFalse(hdisk.rbd_exists(self.adapter, self.mgmt.uuid,
                                          'volumes/volume-9'))
        self.assertFalse(hdisk.rbd_exists(self.adapter, self.mgmt.uuid,
                                          'images/volume-1'))
        self.model.san.remove_rbd_image(IMAGE)
        self.assertFalse(hdisk.rbd_exists(self.adapter, self.mgmt.uuid,
                                          IMAGE))

    def test_map_an_image_then_another_then_unmap(self):
        self.map(pvm_stg.RBD.bld_ref(self.adapter, IMAGE, tag='vol-1',
                                     user='cinder'))
        [smap] = self.mappings()
        disk = smap.backing_storage
        self.assertIsInstance(disk, pvm_stg.VDisk)
        self.assertEqual((IMAGE, IMAGE, 2.0),
                         (disk.name, disk.label, disk.capacity))
        self.assertTrue(disk.udid)
        xml = disk.toxmlstring().decode()
        for text in ('<VirtualDiskType', '>RBD<', '>user:rbd<',
                     '>cinder<'):
            self.assertIn(text, xml)
        self.model.san.add_rbd_image('volumes/volume-2', 1)
        self.map(pvm_stg.RBD.bld_ref(self.adapter, 'volumes/volume-2'))
        udids = {m.backing_storage.name: m.backing_storage.udid
                 for m in self.mappings()}
        self.assertEqual(disk.udid, udids[IMAGE])
        self.unmap(IMAGE)
        self.assertEqual(['volumes/volume-2'],
                         [m.backing_storage.name for m in self.mappings()])

    def test_an_unknown_image_is_refused(self):
        self.assertRefused(400, 'volumes/volume-9', self.map,
                           pvm_stg.RBD.bld_ref(self.adapter,
                                               'volumes/volume-9'))

    def test_a_vios_serves_no_rbd(self):
        self.assertRefused(400, 'NovaLink partition', self.map,
                           pvm_stg.RBD.bld_ref(self.adapter, IMAGE),
                           self.vios.uuid)

    def test_the_name_needs_a_pool(self):
        self.assertRefused(400, 'pool/image', self.map,
                           pvm_stg.RBD.bld_ref(self.adapter, 'volume-1'))

    def test_fixture_image(self):
        name = self.sim.rbd_image(size_gb=3)
        self.assertTrue(hdisk.rbd_exists(self.adapter, self.mgmt.uuid, name))
        self.assertRaises(pvm_exc.JobRequestFailed, hdisk.rbd_exists,
                          self.adapter, self.mgmt.uuid, '')


class TestFileIO(NovaLinkDiskTestBase):

    def setUp(self):
        super().setUp()
        self.path = self.sim.novalink_file(size_gb=1)

    def map_file(self, path=None, **kwargs):
        self.map(pvm_stg.FileIO.bld_ref(self.adapter, path or self.path,
                                        **kwargs))

    def test_map_a_file_then_unmap(self):
        self.map_file(backstore_type=pvm_stg.BackStoreType.LOOP, tag='v')
        [smap] = self.mappings()
        disk = smap.backing_storage
        self.assertEqual((self.path, self.path, 1.0),
                         (disk.name, disk.label, disk.capacity))
        xml = disk.toxmlstring().decode()
        self.assertIn('>File<', xml)
        self.assertIn('>loop<', xml)
        self.unmap(self.path)
        self.assertEqual([], self.mappings())

    def test_a_missing_or_relative_path_is_refused(self):
        self.assertRefused(400, '/no/such/file', self.map_file,
                           '/no/such/file')
        self.assertRefused(400, 'File', self.map_file, 'relative/file')
        self.assertRefused(400, 'back store', self.map_file,
                           backstore_type=pvm_stg.BackStoreType.USER_RBD)

    def test_a_vios_serves_no_file(self):
        self.assertRefused(400, 'NovaLink partition', self.map,
                           pvm_stg.FileIO.bld_ref(self.adapter, self.path),
                           self.vios.uuid)

    def test_rescan_sees_a_grown_file(self):
        self.map_file()
        self.model.grow_novalink_file(self.model.systems[0], self.path, 3)
        self.assertEqual(1.0, self.mappings()[0].backing_storage.capacity)
        # The FileIO adapter rescans by path.
        tsk_stg.rescan_vstor(self.mgmt.uuid, self.path, adapter=self.adapter)
        disk = self.mappings()[0].backing_storage
        self.assertEqual(3.0, disk.capacity)
        tsk_stg.rescan_vstor(self.mgmt.uuid, disk.udid, adapter=self.adapter)

    def test_rescan_of_an_unknown_disk(self):
        before = test_bad_input.model_snapshot(self.model)
        self.assertRaises(pvm_exc.VstorNotFound, tsk_stg.rescan_vstor,
                          self.mgmt.uuid, '/var/lib/nothing',
                          adapter=self.adapter)
        self.assertEqual(before, test_bad_input.model_snapshot(self.model))


class TestRescanRbd(NovaLinkDiskTestBase):

    def test_rescan_sees_a_grown_image(self):
        name = self.sim.rbd_image(size_gb=1)
        self.map(pvm_stg.RBD.bld_ref(self.adapter, name))
        self.model.san.grow_rbd_image(name, 4)
        [smap] = self.mappings()
        tsk_stg.rescan_vstor(self.mgmt.uuid, smap.backing_storage.udid,
                             adapter=self.adapter)
        self.assertEqual(4.0, self.mappings()[0].backing_storage.capacity)
