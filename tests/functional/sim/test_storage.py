"""Volume groups, virtual disks, optical media and file uploads through
pypowervm's public storage API against the simulator."""

import glob
import hashlib
import io
import logging
import os
import threading
import tracemalloc

import fixtures
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vopt as tsk_vopt
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import vios_file as pvm_file
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import files_api  # noqa: F401  (serves /web/File)
from powervm_sim import fixture
from powervm_sim.model import storage as storage_model
from tests.recorded import paths
from tests.recorded import recordings

MB = 1024 * 1024


class PatternStream:
    """A readable stream of ``size`` pseudo-random bytes made on demand, so
    the test itself never holds the whole upload."""

    def __init__(self, size, seed=b'powervm'):
        self.remaining = size
        self.block = hashlib.sha256(seed).digest() * 2048   # 64 KiB
        self.sha = hashlib.sha256()

    def read(self, size=-1):
        size = self.remaining if size < 0 else min(size, self.remaining)
        data = (self.block * (size // len(self.block) + 1))[:size]
        self.remaining -= size
        self.sha.update(data)
        return data


class StorageTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(vioses=2))
        self.addCleanup(self.sim.model.content.close)
        self.model = self.sim.model
        self.adapter = self.sim.adapter()
        self.vios = self.model.vioses()[0]
        self.rootvg, self.datavg = self.vios.volume_groups

    def read_vg(self, vg):
        return pvm_stg.VG.get(self.adapter, uuid=vg.uuid,
                              parent_type=pvm_vios.VIOS,
                              parent_uuid=self.vios.uuid)

    def content_of(self, key, length=None):
        with self.model.content.open_reader(key) as blob:
            return blob.read(length)

    def content_sha(self, key, length):
        digest = hashlib.sha256()
        with self.model.content.open_reader(key) as blob:
            while length:
                chunk = blob.read(min(MB, length))
                digest.update(chunk)
                length -= len(chunk)
        return digest.hexdigest()


class TestVolumeGroupDocument(StorageTestBase):

    def test_vg_feed_wraps_with_the_model_values(self):
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=self.vios.uuid)
        vgs = {vg.name: vg for vg in pvm_stg.VG.get(self.adapter,
                                                    parent=vios_w)}
        self.assertEqual({'rootvg', 'datavg'}, set(vgs))
        data = vgs['datavg']
        self.assertEqual(self.datavg.uuid, data.uuid)
        self.assertEqual(self.datavg.capacity_gb, data.capacity)
        self.assertEqual(self.datavg.free_gb, data.free_space)
        self.assertEqual(self.datavg.available_gb, data.available_size)
        self.assertEqual(self.datavg.serial, data.serial_id)
        [vdisk] = data.virtual_disks
        model_vdisk = self.datavg.vdisks[0]
        self.assertEqual((model_vdisk.name, model_vdisk.capacity_gb,
                          model_vdisk.udid, 'backup'),
                         (vdisk.name, vdisk.capacity, vdisk.udid,
                          vdisk.label))
        self.assertEqual(5000, vdisk.read_iops_limit)
        self.assertEqual('LogicalVolume',
                         vdisk.vdtype or 'LogicalVolume')
        self.assertIn(self.datavg.uuid, vdisk.vg_uri)
        self.assertEqual(['hdisk1', 'hdisk2'],
                         [pv.name for pv in data.phys_vols])
        self.assertEqual(524288, data.phys_vols[0].capacity)
        self.assertEqual([], list(data.vmedia_repos))
        [repo] = vgs['rootvg'].vmedia_repos
        self.assertEqual(('VMLibrary', 10.0), (repo.name, repo.size))
        [medium] = repo.optical_media
        self.assertEqual(('novalink-2.0.3-ppc64le.iso', 'rw', 2.8887),
                         (medium.name, medium.mount_type, medium.size))
        self.assertEqual('0enovalink-2.0.3-ppc64le.iso', medium.udid)

    def test_renders_the_element_paths_of_real_volume_groups(self):
        captures = []
        for pattern in ('fake_volume_group*.txt', 'get_volume_group*.txt',
                        'upload_volgrp*.txt'):
            for path in glob.glob(os.path.join(
                    recordings.pypowervm_data_dir(), pattern)):
                captures += recordings.load_pypowervm_capture(path)
        real = paths.collect_paths(captures, 'VolumeGroup')
        feed = self.adapter.read('VirtualIOServer', self.vios.uuid,
                                 'VolumeGroup')
        served = set()
        for entry in feed.feed.entries:
            served |= paths.element_paths(entry.element.element)
        result = paths.coverage(real, served)
        self.assertGreater(len(real), 60)
        # Only the old schema's PhysicalVolume/Usage is left out.
        self.assertEqual(('PhysicalVolumes/PhysicalVolume/Usage',),
                         result.missing)
        # Sibling order agrees with every captured volume group.
        real_vgs = [element for interaction in captures
                    for kind, element in recordings.iter_atom_objects(
                        interaction.response_body)
                    if kind == 'VolumeGroup']
        for served_vg in feed.feed.entries:
            for real_vg in real_vgs:
                self.assertEqual([], paths.order_disagreements(
                    real_vg, served_vg.element.element))

    def test_vios_storage_sections(self):
        vios_w = pvm_vios.VIOS.get(
            self.adapter, uuid=self.vios.uuid,
            xag=[pvm_const.XAG.VIO_STOR])
        pvs = {pv.name: pv for pv in vios_w.phys_vols}
        self.assertEqual(6, len(pvs))
        lun = pvs['hdisk3']
        self.assertTrue(lun.is_fc_backed)
        self.assertTrue(lun.avail_for_use)
        self.assertIsNotNone(lun.pg83)
        self.assertFalse(pvs['hdisk0'].avail_for_use)
        repo = vios_w.media_repository
        self.assertEqual('VMLibrary', repo.findtext('RepositoryName'))
        # The SAN LUNs are the same disks on both VIOSes.
        other = self.model.vioses()[1]
        self.assertEqual(lun.udid, other.physical_volumes[3].udid)


class TestVirtualDisks(StorageTestBase):

    def test_crt_vdisk_creates_a_disk_and_moves_the_etags(self):
        vg_etag, vios_etag = self.datavg.etag, self.vios.etag
        vdisk = tsk_stg.crt_vdisk(self.adapter, self.vios.uuid,
                                  self.datavg.uuid, 'boot_inst1', 2)
        model_vdisk = self.datavg.find_vdisk('boot_inst1')
        self.assertEqual((model_vdisk.udid, 2.0),
                         (vdisk.udid, vdisk.capacity))
        self.assertEqual(2 * storage_model.GIB,
                         self.model.content.size(vdisk.udid))
        self.assertNotEqual(vg_etag, self.datavg.etag)
        self.assertEqual(vios_etag, self.vios.etag)
        self.assertEqual(1002.0, self.read_vg(self.datavg).free_space)

    def test_crt_vdisk_too_big_is_refused(self):
        exc = self.assertRaises(
            pvm_exc.HttpError, tsk_stg.crt_vdisk, self.adapter,
            self.vios.uuid, self.datavg.uuid, 'huge', 2000)
        self.assertEqual(400, exc.response.status)
        self.assertIn(storage_model.NO_SPACE, exc.response.body.decode()
                      if isinstance(exc.response.body, bytes)
                      else exc.response.body)
        self.assertIsNone(self.datavg.find_vdisk('huge'))

    def test_concurrent_crt_vdisk_both_land(self):
        # Each POSTs the whole group back; neither may drop the other's
        # disk.  (pypowervm also serialises crt_vdisk inside one process;
        # the 412 path is the stale update test below.)
        errors = []

        def create(name):
            try:
                tsk_stg.crt_vdisk(self.sim.adapter(), self.vios.uuid,
                                  self.datavg.uuid, name, 1)
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(name,))
                   for name in ('disk_a', 'disk_b')]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], errors)
        self.assertEqual({'backup_lv', 'disk_a', 'disk_b'},
                         {vd.name for vd in self.datavg.vdisks})

    def test_stale_update_gets_412_and_rm_vg_storage_retries(self):
        stale = self.read_vg(self.datavg)
        tsk_stg.crt_vdisk(self.adapter, self.vios.uuid, self.datavg.uuid,
                          'other', 1)
        self.assertRaises(pvm_exc.HttpError, stale.update)
        stale = self.read_vg(self.datavg)
        backup = [vd for vd in stale.virtual_disks
                  if vd.name == 'backup_lv']
        tsk_stg.crt_vdisk(self.adapter, self.vios.uuid, self.datavg.uuid,
                          'another', 1)
        tsk_stg.rm_vg_storage(stale, vdisks=backup)
        self.assertEqual({'other', 'another'},
                         {vd.name for vd in self.datavg.vdisks})

    def test_extend_and_refuse_shrink(self):
        vg_w = self.read_vg(self.datavg)
        vg_w.virtual_disks[0].capacity = 25
        vg_w = vg_w.update()
        self.assertEqual(25.0, self.datavg.vdisks[0].capacity_gb)
        self.assertEqual(25 * storage_model.GIB,
                         self.model.content.size(self.datavg.vdisks[0].udid))
        vg_w.virtual_disks[0].capacity = 5
        exc = self.assertRaises(pvm_exc.HttpError, vg_w.update)
        self.assertEqual(400, exc.response.status)

    def test_upload_new_vdisk_bytes_land_in_the_disk(self):
        data = b'boot sector' + bytes(range(256)) * 100
        vdisk, maybe_file = tsk_stg.upload_new_vdisk(
            self.adapter, self.vios.uuid, self.datavg.uuid,
            io.BytesIO(data), 'img_disk', len(data))
        self.assertIsNone(maybe_file)
        self.assertEqual(data, self.content_of(vdisk.udid, len(data)))
        # The disk keeps its size; the image fills its start.
        self.assertEqual(storage_model.GIB,
                         self.model.content.size(vdisk.udid))
        # The File record was cleaned up by pypowervm.
        self.assertEqual([], self.model.file_registry.list())

    def test_upload_50mb_streams_with_bounded_memory(self):
        size = 50 * MB
        stream = PatternStream(size)
        tracemalloc.start()
        self.addCleanup(tracemalloc.stop)
        vdisk, _ = tsk_stg.upload_new_vdisk(
            self.adapter, self.vios.uuid, self.datavg.uuid, stream,
            'big_img', size)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # Client and server share this process and stream in chunks; a
        # buffered upload would need at least its 50 MB.
        self.assertLess(peak, 16 * MB)
        self.assertEqual(stream.sha.hexdigest(),
                         self.content_sha(vdisk.udid, size))

    def test_crt_copy_vdisk_copies_the_bytes(self):
        data = b'golden image' * 1000
        source, _ = tsk_stg.upload_new_vdisk(
            self.adapter, self.vios.uuid, self.datavg.uuid,
            io.BytesIO(data), 'image_1', len(data))
        copy = tsk_stg.crt_copy_vdisk(
            self.adapter, self.vios.uuid, self.datavg.uuid, source.udid,
            len(data), 'boot_copy', d_size=3 * storage_model.GIB)
        self.assertEqual(3.0, copy.capacity)
        self.assertEqual(data, self.content_of(copy.udid, len(data)))
        self.assertEqual(3 * storage_model.GIB,
                         self.model.content.size(copy.udid))

    def test_rm_vg_storage_removes_disk_and_vopt(self):
        vdisk = tsk_stg.crt_vdisk(self.adapter, self.vios.uuid,
                                  self.datavg.uuid, 'gone', 1)
        tsk_stg.rm_vg_storage(self.read_vg(self.datavg), vdisks=[vdisk])
        self.assertIsNone(self.datavg.find_vdisk('gone'))
        self.assertFalse(self.model.content.exists(vdisk.udid))
        root_w = self.read_vg(self.rootvg)
        [medium] = root_w.vmedia_repos[0].optical_media
        vios_etag = self.vios.etag
        tsk_stg.rm_vg_storage(root_w, vopts=[medium])
        self.assertEqual([], self.rootvg.media_repository.media)
        self.assertFalse(self.model.content.exists(
            storage_model.media_content_key(self.vios, medium.name)))
        self.assertNotEqual(vios_etag, self.vios.etag)


class TestOpticalMedia(StorageTestBase):

    def setUp(self):
        super().setUp()
        # pypowervm remembers the repository it found in module globals:
        # none yet.  (MonkeyPatch sets None; MockPatch's None would mean
        # "a MagicMock", which pypowervm would take for a remembered UUID.)
        for name in ('_cur_vg_uuid', '_cur_vios_uuid'):
            self.useFixture(fixtures.MonkeyPatch(
                '%s.%s' % (tsk_vopt.__name__, name), None))
        # pypowervm's check of the repository it remembers logs whatever
        # exception it meets and searches again, so a bad value there only
        # shows in this log: the tests look at it.
        self.vopt_log = self.useFixture(fixtures.FakeLogger(
            name=tsk_vopt.__name__, level=logging.WARNING))

    def test_upload_vopt_creates_media_with_the_bytes(self):
        vios_uuid, vg_uuid = tsk_vopt.validate_vopt_repo_exists(
            self.adapter)
        self.assertEqual(self.rootvg.uuid, vg_uuid)
        self.assertEqual('', self.vopt_log.output)
        iso = b'CD001' * 2000
        ref, maybe_file = tsk_stg.upload_vopt(
            self.adapter, vios_uuid, io.BytesIO(iso), 'cfg_inst1.iso',
            f_size=len(iso))
        self.assertIsNone(maybe_file)
        self.assertEqual('cfg_inst1.iso', ref.name)
        medium = self.rootvg.media_repository.find('cfg_inst1.iso')
        self.assertEqual(iso, self.content_of(medium.content_key))
        names = [m.name for m in
                 self.read_vg(self.rootvg).vmedia_repos[0].optical_media]
        self.assertIn('cfg_inst1.iso', names)

    def test_upload_vopt_twice_is_refused(self):
        tsk_stg.upload_vopt(self.adapter, self.vios.uuid,
                            io.BytesIO(b'x' * 10), 'dup.iso', f_size=10)
        self.assertRaises(pvm_exc.Error, tsk_stg.upload_vopt, self.adapter,
                          self.vios.uuid, io.BytesIO(b'y' * 10), 'dup.iso',
                          f_size=10)
        medium = self.rootvg.media_repository.find('dup.iso')
        self.assertEqual(b'x' * 10, self.content_of(medium.content_key))

    def test_validate_vopt_repo_exists_creates_a_missing_repository(self):
        for vios in self.model.vioses():
            rootvg = vios.volume_groups[0]
            rootvg.media_repository.media.clear()
            self.model.update_volume_group(rootvg, {
                'vdisks': [], 'media_repositories': []})
        vios_uuid, vg_uuid = tsk_vopt.validate_vopt_repo_exists(
            self.adapter, vopt_media_volume_group='rootvg',
            vopt_media_rep_size=2)
        vg = self.model.get(vg_uuid, 'VolumeGroup')
        self.assertEqual('rootvg', vg.name)
        self.assertEqual(('vopt', 2.0), (vg.media_repository.name,
                                         vg.media_repository.size_gb))
        self.assertEqual('', self.vopt_log.output)

    def test_the_remembered_repository_is_found_again(self):
        found = tsk_vopt.validate_vopt_repo_exists(self.adapter)
        self.assertEqual(found,
                         tsk_vopt.validate_vopt_repo_exists(self.adapter))
        self.assertEqual('', self.vopt_log.output)


class TestFileApi(StorageTestBase):

    def create_file(self, udid, size=None):
        return pvm_file.File.bld(
            self.adapter, 'img', pvm_file.FileType.DISK_IMAGE,
            self.vios.uuid, f_size=size, tdev_udid=udid).create()

    def test_file_record_upload_download_delete(self):
        # A small disk: a download streams the whole disk.
        vdisk = self.model.add_vdisk(self.datavg, 'small', 0.0001)
        record = self.create_file(vdisk.udid, size=4)
        self.assertEqual((4, vdisk.udid, pvm_file.FileType.DISK_IMAGE),
                         (record.expected_file_size, record.tdev_udid,
                          record.enum_type))
        self.adapter.upload_file(record.element, io.BytesIO(b'abcd'))
        self.assertEqual(4, pvm_file.File.get(
            self.adapter, record.uuid, service='web').current_file_size)
        sink = io.BytesIO()
        self.adapter.download_file(record.element, sink)
        self.assertEqual(vdisk.size_bytes, len(sink.getvalue()))
        self.assertEqual(b'abcd\0', sink.getvalue()[:5])
        self.adapter.delete('File', root_id=record.uuid, service='web')
        self.assertRaises(pvm_exc.HttpNotFound, self.adapter.delete, 'File',
                          root_id=record.uuid, service='web')

    def test_a_file_of_an_image_beyond_4_gib_is_taken(self):
        # Its size is an xs:long: images are often larger than 2**31 bytes.
        vdisk = self.model.add_vdisk(self.datavg, 'large', 8)
        size = 5 * 1024 ** 3 + 7
        record = self.create_file(vdisk.udid, size=size)
        self.assertEqual(size, record.expected_file_size)
        self.adapter.delete('File', root_id=record.uuid, service='web')

    def test_wrong_size_upload_is_refused_and_the_disk_kept(self):
        vdisk = self.datavg.vdisks[0]
        record = self.create_file(vdisk.udid, size=4)
        self.assertRaises(pvm_exc.HttpError, self.adapter.upload_file,
                          record.element, io.BytesIO(b'abc'))
        self.assertEqual(vdisk.size_bytes,
                         self.model.content.size(vdisk.udid))

    def test_unknown_target_disk_is_refused(self):
        exc = self.assertRaises(pvm_exc.HttpError, self.create_file,
                                'no-such-udid')
        self.assertEqual(400, exc.response.status)
