"""The storage model: volume groups as desired state, space accounting,
media repositories, and how a VolumeGroup document renders and parses."""

from lxml import etree
import testtools

from powervm_sim import model as model_mod
from powervm_sim.model import builder
from powervm_sim.model import storage
from powervm_sim.wire import spec
from powervm_sim.wire.schemas import storage as storage_schema


def built_model(test):
    """One system with one VIOS, its content removed after the test."""
    model = model_mod.Model()
    builder.build(model, systems=1, vioses=1)
    test.addCleanup(model.content.close)
    return model


def desired(vg, vdisks=None, media=None):
    """The fields a client posts back: the group as read, then edited."""
    fields = {'name': vg.name,
              'vdisks': [{'name': vd.name, 'capacity_gb': vd.capacity_gb}
                         for vd in vg.vdisks]}
    if vdisks is not None:
        fields['vdisks'] = vdisks
    if media is not None:
        fields['media_repositories'] = media
    return fields


class TestVolumeGroupUpdate(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        self.vios = self.model.vioses()[0]
        self.rootvg, self.datavg = self.vios.volume_groups
        self.etag = self.datavg.etag

    def vdisk_names(self):
        return [vd.name for vd in self.datavg.vdisks]

    def test_built_inventory(self):
        self.assertEqual(['rootvg', 'datavg'],
                         [vg.name for vg in self.vios.volume_groups])
        self.assertEqual(1024.0, self.datavg.capacity_gb)
        self.assertEqual(1004.0, self.datavg.free_gb)
        self.assertEqual(['novalink-2.0.3-ppc64le.iso'],
                         [m.name for m in self.rootvg.media_repository.media])
        self.assertEqual([False, False, False, True, True, True],
                         [pv.available for pv in self.vios.physical_volumes])
        self.assertEqual(3, sum(pv.fc_backed
                                for pv in self.vios.physical_volumes))

    def test_new_name_creates_a_disk_with_sparse_content(self):
        fields = desired(self.datavg)
        fields['vdisks'].append({'name': 'boot_vm1', 'capacity_gb': 2.0,
                                 'label': 'boot'})
        self.model.update_volume_group(self.datavg, fields)
        vdisk = self.datavg.find_vdisk('boot_vm1')
        self.assertEqual(2.0, vdisk.capacity_gb)
        self.assertTrue(vdisk.udid.startswith('03' + self.datavg.serial))
        self.assertEqual(2 * storage.GIB, self.model.content.size(vdisk.udid))
        self.assertEqual(1002.0, self.datavg.free_gb)
        self.assertNotEqual(self.etag, self.datavg.etag)

    def test_missing_name_deletes_the_disk_and_its_content(self):
        udid = self.datavg.vdisks[0].udid
        self.model.update_volume_group(self.datavg, desired(self.datavg,
                                                            vdisks=[]))
        self.assertEqual([], self.vdisk_names())
        self.assertFalse(self.model.content.exists(udid))
        self.assertEqual(1024.0, self.datavg.free_gb)

    def test_bigger_capacity_extends_smaller_is_refused(self):
        grow = desired(self.datavg, vdisks=[
            {'name': 'backup_lv', 'capacity_gb': 30.0}])
        self.model.update_volume_group(self.datavg, grow)
        self.assertEqual(30.0, self.datavg.vdisks[0].capacity_gb)
        shrink = desired(self.datavg, vdisks=[
            {'name': 'backup_lv', 'capacity_gb': 10.0}])
        exc = self.assertRaises(model_mod.Conflict,
                                self.model.update_volume_group, self.datavg,
                                shrink)
        self.assertEqual((400, storage.NO_SHRINK), (exc.status, exc.code))
        self.assertEqual(30.0, self.datavg.vdisks[0].capacity_gb)

    def test_too_big_is_refused_and_nothing_changes(self):
        fields = desired(self.datavg, vdisks=[
            {'name': 'a', 'capacity_gb': 600.0},
            {'name': 'b', 'capacity_gb': 600.0}])
        exc = self.assertRaises(model_mod.Conflict,
                                self.model.update_volume_group, self.datavg,
                                fields)
        self.assertEqual((400, storage.NO_SPACE), (exc.status, exc.code))
        self.assertIn('HSCL', str(exc))
        self.assertEqual(['backup_lv'], self.vdisk_names())
        self.assertEqual(self.etag, self.datavg.etag)

    def test_space_freed_by_a_deletion_is_usable_in_the_same_post(self):
        fields = desired(self.datavg, vdisks=[
            {'name': 'big', 'capacity_gb': 1024.0}])
        self.model.update_volume_group(self.datavg, fields)
        self.assertEqual(['big'], self.vdisk_names())
        self.assertEqual(0.0, self.datavg.free_gb)

    def test_bad_and_duplicate_names_are_refused(self):
        for vdisks, code in (
                ([{'name': 'x' * 16, 'capacity_gb': 1.0}], storage.BAD_NAME),
                ([{'name': 'a b', 'capacity_gb': 1.0}], storage.BAD_NAME),
                ([{'name': 'dup', 'capacity_gb': 1.0},
                  {'name': 'dup', 'capacity_gb': 1.0}],
                 storage.DUPLICATE_NAME),
                ([{'name': 'nosize'}], storage.NO_SPACE)):
            exc = self.assertRaises(
                model_mod.Conflict, self.model.update_volume_group,
                self.datavg, desired(self.datavg, vdisks=vdisks))
            self.assertEqual(code, exc.code)

    def test_path_names_keep_the_base_name(self):
        fields = desired(self.datavg)
        fields['vdisks'].append({'name': '/dev/lv_vm2', 'capacity_gb': 1.0})
        self.model.update_volume_group(self.datavg, fields)
        self.assertIn('lv_vm2', self.vdisk_names())

    def test_base_image_copies_the_bytes(self):
        base = self.model.add_vdisk(self.datavg, 'image', 0.001)
        self.model.content.write_stream(base.udid, [b'image ', b'bytes'])
        fields = desired(self.datavg)
        fields['vdisks'].append({'name': 'copy', 'capacity_gb': 0.002,
                                 'base_image': base.udid})
        self.model.update_volume_group(self.datavg, fields)
        copy = self.datavg.find_vdisk('copy')
        with self.model.content.open_reader(copy.udid) as blob:
            self.assertEqual(b'image bytes', blob.read(11))
        self.assertEqual(storage.gb_to_bytes(0.002),
                         self.model.content.size(copy.udid))

    def test_base_image_must_exist_and_fit(self):
        for item, code in (
                ({'name': 'c', 'capacity_gb': 25.0, 'base_image': 'nope'},
                 storage.UNKNOWN_BASE),
                ({'name': 'c', 'capacity_gb': 1.0,
                  'base_image': self.datavg.vdisks[0].udid},
                 storage.NO_SPACE)):
            fields = desired(self.datavg)
            fields['vdisks'].append(item)
            exc = self.assertRaises(model_mod.Conflict,
                                    self.model.update_volume_group,
                                    self.datavg, fields)
            self.assertEqual(code, exc.code)

    def test_absent_lists_are_left_alone(self):
        self.model.update_volume_group(self.datavg, {'name': 'datavg'})
        self.assertEqual(['backup_lv'], self.vdisk_names())

    def test_rename_is_refused(self):
        self.assertRaises(model_mod.Conflict, self.model.update_volume_group,
                          self.datavg, {'name': 'other'})


class TestMediaRepository(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        self.vios = self.model.vioses()[0]
        self.rootvg, self.datavg = self.vios.volume_groups
        self.repo = self.rootvg.media_repository

    def media_fields(self, media):
        return [{'name': self.repo.name, 'size_gb': self.repo.size_gb,
                 'media': media}]

    def test_missing_media_are_deleted_with_their_content(self):
        [medium] = self.repo.media
        vios_etag = self.vios.etag
        self.model.update_volume_group(self.rootvg, desired(
            self.rootvg, media=self.media_fields([])))
        self.assertEqual([], self.repo.media)
        self.assertFalse(self.model.content.exists(medium.content_key))
        self.assertNotEqual(vios_etag, self.vios.etag)

    def test_new_media_are_created_blank(self):
        media = [{'name': m.name} for m in self.repo.media]
        media.append({'name': 'blank1', 'size_gb': 0.5, 'mount_type': 'r'})
        self.model.update_volume_group(self.rootvg, desired(
            self.rootvg, media=self.media_fields(media)))
        blank = self.repo.find('blank1')
        self.assertEqual(('0eblank1', 'r'), (blank.udid, blank.mount_type))
        self.assertEqual(storage.GIB // 2,
                         self.model.content.size(blank.content_key))

    def test_media_must_fit_the_repository(self):
        media = [{'name': m.name} for m in self.repo.media]
        media.append({'name': 'huge', 'size_gb': 9.0})
        exc = self.assertRaises(
            model_mod.Conflict, self.model.update_volume_group, self.rootvg,
            desired(self.rootvg, media=self.media_fields(media)))
        self.assertEqual(storage.NO_SPACE, exc.code)

    def test_one_repository_per_vios(self):
        fields = desired(self.datavg, media=[
            {'name': 'vopt', 'size_gb': 1.0, 'media': []}])
        exc = self.assertRaises(model_mod.Conflict,
                                self.model.update_volume_group, self.datavg,
                                fields)
        self.assertEqual(storage.BAD_REPOSITORY, exc.code)

    def test_repository_is_created_when_the_vios_has_none(self):
        self.model.update_volume_group(self.rootvg, desired(
            self.rootvg, media=self.media_fields([])))
        self.model.update_volume_group(self.rootvg, desired(
            self.rootvg, media=[]))
        self.assertIsNone(self.rootvg.media_repository)
        self.model.update_volume_group(self.datavg, desired(
            self.datavg, media=[{'name': 'vopt', 'size_gb': 1.0}]))
        self.assertEqual('vopt', self.datavg.media_repository.name)
        self.assertEqual(1003.0, self.datavg.free_gb)

    def test_optical_media_from_an_upload(self):
        medium = self.model.add_optical_media(self.vios, 'cfg.iso', 4096)
        self.assertIs(medium, self.repo.find('cfg.iso'))
        self.assertRaises(model_mod.Conflict, self.model.add_optical_media,
                          self.vios, 'cfg.iso', 4096)


class TestVolumeGroupDocument(testtools.TestCase):
    """The VolumeGroup schema against the model, both ways."""

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        self.rootvg, self.datavg = self.model.vioses()[0].volume_groups

    def render(self, vg):
        xml = spec.Renderer('http://sim').object(
            storage_schema.VOLUME_GROUP, vg)
        return etree.fromstring(xml)

    def test_render_parse_round_trip(self):
        element = self.render(self.datavg)
        fields = spec.parse(storage_schema.VOLUME_GROUP, element)
        self.assertEqual('datavg', fields['name'])
        [vdisk] = fields['vdisks']
        self.assertEqual('http://sim' + self.datavg.href, vdisk.pop('vg_href'))
        self.assertEqual({'name': 'backup_lv', 'capacity_gb': 20.0,
                          'label': 'backup', 'read_iops': 5000,
                          'write_iops': 2500}, vdisk)
        self.assertEqual([], fields['media_repositories'])

    def test_list_containers_open_with_metadata(self):
        element = self.render(self.rootvg)
        for tag in ('MediaRepositories', 'PhysicalVolumes', 'VirtualDisks'):
            container = element.find('{%s}%s' % (spec.UOM_NS, tag))
            self.assertEqual('Metadata', spec.local_name(container[0]))

    def test_encryption_agent_wraps_one_encryptor(self):
        element = self.render(self.datavg)
        agent = element.find('.//{%s}EncryptionAgent' % spec.UOM_NS)
        self.assertEqual(['LUKSEncryptor'],
                         [spec.local_name(child) for child in agent])
