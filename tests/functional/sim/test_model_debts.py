"""Simulator behaviour that once differed from a real NovaLink: job state a
restart lost, PCIe slots shared by two cards, mapped storage that could be
deleted.  Driven through pypowervm; the model is only read."""

import dataclasses
import io

import fixtures
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import hdisk
from pypowervm.tasks import migration
from pypowervm.tasks import power
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import fixture
from powervm_sim import state
from powervm_sim.model import storage as storage_model

IQN = 'iqn.2016-06.world.srv:target00'
SMAP = pvm_const.XAG.VIO_SMAP
FMAP = pvm_const.XAG.VIO_FMAP


class TestStateKeepsJobBookkeeping(testtools.TestCase):
    """What jobs remember is model state: a saved and loaded model goes on
    where it stopped."""

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture())
        self.path = self.useFixture(fixtures.TempDir()).path + '/state.json'

    def restarted(self):
        """A fixture serving the model saved and loaded back."""
        state.save(self.sim.model, self.path)
        return self.useFixture(fixture.NovaLinkFixture(
            model=state.load(self.path)))

    def test_wwpns_are_not_handed_out_again_after_a_restart(self):
        sys_uuid = self.sim.endpoints[0].system.uuid
        before = vfc_mapper.build_wwpn_pair(self.sim.adapter(), sys_uuid,
                                            pair_count=2)
        later = self.restarted()
        after = vfc_mapper.build_wwpn_pair(later.adapter(), sys_uuid,
                                           pair_count=2)
        self.assertEqual(set(), set(before) & set(after))
        self.assertEqual(8, later.endpoints[0].system.wwpns_issued)

    def test_iscsi_logins_and_rbd_volumes_survive_a_restart(self):
        vios = self.sim.model.vioses()[0]
        target = self.sim.model.san.add_iscsi_target(IQN, ['10.0.0.5'])
        self.sim.model.san.add_lun(target, 1,
                                   initiators=[vios.iscsi_initiator])
        name, udid = hdisk.discover_iscsi(self.sim.adapter(),
                                          '10.0.0.5:3260', None, None, IQN,
                                          vios.uuid)
        self.sim.model.san.add_rbd_image('pool/image', 1)
        later = self.restarted()
        restored = later.model.get(vios.uuid)
        self.assertEqual([[IQN, '10.0.0.5:3260']], restored.iscsi_sessions)
        self.assertEqual((name, udid), hdisk.discover_iscsi(
            later.adapter(), '10.0.0.5:3260', None, None, IQN, vios.uuid))
        self.assertTrue(hdisk.rbd_exists(later.adapter(), vios.uuid,
                                         'pool/image'))


class TestManyViosesHaveTheirOwnSlots(testtools.TestCase):

    def test_every_card_sits_in_a_slot_of_its_own(self):
        sim = self.useFixture(fixture.NovaLinkFixture(vioses=6))
        sys_w = pvm_ms.System.get(sim.adapter())[0]
        slots = sys_w.asio_config.io_slots
        names = [slot.drc_name for slot in slots]
        indexes = [slot.drc_index for slot in slots]
        # Two per VIOS (FC and Ethernet cards), and the system's two.
        self.assertEqual(14, len(slots))
        self.assertEqual(sorted(set(names)), sorted(names))
        self.assertEqual(sorted(set(indexes)), sorted(indexes))


class TestMappedStorageStays(testtools.TestCase):
    """A VIOS refuses to delete a device a virtual target still uses."""

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=1))
        self.model = self.sim.model
        self.adapter = self.sim.adapter()
        self.vios = self.model.vioses()[0]
        self.rootvg, self.datavg = self.vios.volume_groups
        [self.lpar] = [p for p in self.model.lpars() if not p.is_mgmt]

    def read_vg(self, vg):
        return pvm_stg.VG.get(self.adapter, uuid=vg.uuid,
                              parent_type=pvm_vios.VIOS,
                              parent_uuid=self.vios.uuid)

    def assert_refused(self, func, name):
        etag = self.vios.etag
        exc = self.assertRaises(pvm_exc.HttpError, func)
        self.assertEqual(409, exc.response.status)
        self.assertIn('%s cannot be removed: it is mapped to partition %d '
                      'through virtual I/O server %s' % (
                          name, self.lpar.partition_id, self.vios.name),
                      exc.response.body)
        self.assertIn(storage_model.IN_USE, exc.response.body)
        self.assertEqual(etag, self.vios.etag)

    def test_a_mapped_vdisk_cannot_be_removed(self):
        vdisk = tsk_stg.crt_vdisk(self.adapter, self.vios.uuid,
                                  self.datavg.uuid, 'boot_1', 1)
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      vdisk)
        self.assert_refused(lambda: tsk_stg.rm_vg_storage(
            self.read_vg(self.datavg), vdisks=[vdisk]), 'boot_1')
        self.assertIsNotNone(self.datavg.find_vdisk('boot_1'))
        self.assertTrue(self.model.content.exists(vdisk.udid))
        scsi_mapper.remove_vdisk_mapping(self.adapter, self.vios.uuid,
                                         self.lpar.uuid,
                                         disk_names=['boot_1'])
        tsk_stg.rm_vg_storage(self.read_vg(self.datavg), vdisks=[vdisk])
        self.assertIsNone(self.datavg.find_vdisk('boot_1'))

    def test_mapped_optical_media_cannot_be_removed(self):
        [medium] = self.read_vg(self.rootvg).vmedia_repos[0].optical_media
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      medium)
        repo = self.rootvg.media_repository
        media = list(repo.media)
        self.assert_refused(lambda: tsk_stg.rm_vg_storage(
            self.read_vg(self.rootvg), vopts=[medium]), medium.name)
        self.assertEqual(media, repo.media)


class TestSameNamedMediaOnTwoVioses(testtools.TestCase):
    """Media UDIDs are made of the name alone; each VIOS still keeps the
    image of its own medium."""

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture())
        self.model = self.sim.model
        self.adapter = self.sim.adapter()

    def image_of(self, vios, name):
        medium = vios.volume_groups[0].media_repository.find(name)
        with self.model.content.open_reader(medium.content_key) as blob:
            return blob.read()

    def test_each_vios_keeps_its_own_image(self):
        vios1, vios2 = self.model.vioses()
        for vios, data in ((vios1, b'A' * 4096), (vios2, b'B' * 4096)):
            tsk_stg.upload_vopt(self.adapter, vios.uuid, io.BytesIO(data),
                                'cfg_same.iso', f_size=len(data))
        self.assertEqual(b'A' * 4096, self.image_of(vios1, 'cfg_same.iso'))
        self.assertEqual(b'B' * 4096, self.image_of(vios2, 'cfg_same.iso'))
        rootvg2 = vios2.volume_groups[0]
        vg_w = pvm_stg.VG.get(self.adapter, uuid=rootvg2.uuid,
                              parent_type=pvm_vios.VIOS,
                              parent_uuid=vios2.uuid)
        [medium_w] = [m for m in vg_w.vmedia_repos[0].optical_media
                      if m.name == 'cfg_same.iso']
        tsk_stg.rm_vg_storage(vg_w, vopts=[medium_w])
        self.assertIsNone(rootvg2.media_repository.find('cfg_same.iso'))
        self.assertEqual(b'A' * 4096, self.image_of(vios1, 'cfg_same.iso'))


class TestMultiSectionViosPost(testtools.TestCase):
    """A VIOS posted with several groups changes all of them or none."""

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=2))
        self.model = self.sim.model
        self.adapter = self.sim.adapter()
        self.host_uuid = self.sim.endpoints[0].system.uuid
        self.vios = self.model.vioses()[0]
        self.lpar, self.lpar2 = [p for p in self.model.lpars()
                                 if not p.is_mgmt]
        self.datavg = self.vios.volume_groups[1]

    def read_vios(self):
        return pvm_vios.VIOS.get(self.adapter, uuid=self.vios.uuid,
                                 xag=[SMAP, FMAP])

    def vfc_mapping(self, lpar, wwpns):
        return pvm_vios.VFCMapping.bld(self.adapter, self.host_uuid,
                                       lpar.uuid, 'fcs0',
                                       client_wwpns=wwpns)

    def test_a_refused_fc_section_leaves_the_scsi_section_alone(self):
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.host_uuid)
        vios_w = self.read_vios()
        vios_w.vfc_mappings.append(self.vfc_mapping(self.lpar, wwpns))
        vios_w.update()
        vdisk = tsk_stg.crt_vdisk(self.adapter, self.vios.uuid,
                                  self.datavg.uuid, 'boot_2', 1)
        vios_w = self.read_vios()
        vios_w.scsi_mappings.append(pvm_vios.VSCSIMapping.bld(
            self.adapter, self.host_uuid, self.lpar2.uuid, vdisk))
        # The same WWPNs again: the FC section is refused.
        vios_w.vfc_mappings.append(self.vfc_mapping(self.lpar2, wwpns))
        etag, adapters = self.vios.etag, list(self.vios.adapters)
        clients = list(self.lpar2.adapters)
        exc = self.assertRaises(pvm_exc.HttpError, vios_w.update)
        self.assertEqual(400, exc.response.status)
        self.assertIn('WWPN %s is already in use' % wwpns[0].lower(),
                      exc.response.body)
        self.assertEqual([], self.vios.scsi_mappings)
        self.assertEqual(1, len(self.vios.fc_mappings))
        self.assertEqual(adapters, self.vios.adapters)
        self.assertEqual(clients, self.lpar2.adapters)
        self.assertEqual(etag, self.vios.etag)

    def test_both_sections_change_together_in_slots_of_their_own(self):
        vdisk = tsk_stg.crt_vdisk(self.adapter, self.vios.uuid,
                                  self.datavg.uuid, 'boot_3', 1)
        vios_w = self.read_vios()
        vios_w.scsi_mappings.append(pvm_vios.VSCSIMapping.bld(
            self.adapter, self.host_uuid, self.lpar.uuid, vdisk))
        vios_w.vfc_mappings.append(self.vfc_mapping(
            self.lpar, vfc_mapper.build_wwpn_pair(self.adapter,
                                                  self.host_uuid)))
        vios_w.update()
        self.assertEqual(1, len(self.vios.scsi_mappings))
        self.assertEqual(1, len(self.vios.fc_mappings))
        for part in (self.vios, self.lpar):
            slots = [a.slot for a in part.adapters]
            self.assertEqual(sorted(set(slots)), sorted(slots))


class TestMigrationMovesMappings(testtools.TestCase):
    """The target system's VIOSes take over a migrated LPAR's mappings; the
    source VIOSes lose them."""

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(systems=2,
                                                           lpars=1))
        self.model = self.sim.model
        self.adapter = self.sim.adapter()
        self.source, self.target = self.model.systems
        self.vios1, self.vios2 = self.model.vioses(self.source)
        self.new_vios1, self.new_vios2 = self.model.vioses(self.target)
        [self.lpar] = [p for p in self.source.partitions
                       if not p.is_mgmt and not p.is_vios]
        # The target's namesake would refuse the migration (HSCLA321).
        [namesake] = [p for p in self.target.partitions
                      if p.name == self.lpar.name]
        self.model.delete_partition(namesake)
        self.lpar_w = pvm_lpar.LPAR.get(self.adapter, uuid=self.lpar.uuid)
        self.sim.trust_migrations()

    def read_vioses(self, index):
        return pvm_vios.VIOS.get(self.sim.adapter(index), xag=[SMAP, FMAP])

    def map_san_disk(self):
        """hdisk3 of the source's first VIOS, zoned to the target's first
        VIOS as well (as hdisk9 there)."""
        [pv] = [p for p in self.vios1.physical_volumes if p.name == 'hdisk3']
        self.model.add_physical_volume(
            self.new_vios1, dataclasses.replace(pv, name='hdisk9'))
        scsi_mapper.add_vscsi_mapping(
            None, self.vios1.uuid, self.lpar.uuid,
            pvm_stg.PV.bld(self.adapter, 'hdisk3'))
        return pv.udid

    def map_npiv(self):
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.source.uuid)
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=self.vios2.uuid,
                                   xag=[FMAP])
        vios_w.vfc_mappings.append(pvm_vios.VFCMapping.bld(
            self.adapter, self.source.uuid, self.lpar.uuid, 'fcs1',
            client_wwpns=wwpns))
        vios_w.update()
        return [w.lower() for w in wwpns]

    def test_the_target_vioses_take_over_the_mappings(self):
        udid = self.map_san_disk()
        wwpns = self.map_npiv()
        power.power_on(self.lpar_w, None)
        migration.migrate_lpar(self.lpar_w, self.target.name)
        for vios_w in self.read_vioses(0):
            self.assertEqual([], [m for m in vios_w.scsi_mappings
                                  if m.backing_storage is not None])
            self.assertEqual([], list(vios_w.vfc_mappings))
        new1_w, new2_w = self.read_vioses(1)
        [smap] = new1_w.scsi_mappings
        self.assertEqual(udid, smap.backing_storage.udid)
        self.assertEqual('hdisk9', smap.backing_storage.name)
        self.assertEqual(self.lpar.partition_id,
                         smap.client_adapter.lpar_id)
        self.assertEqual(self.lpar.partition_id, smap.server_adapter.lpar_id)
        [fmap] = new2_w.vfc_mappings
        self.assertEqual(wwpns, [w.lower() for w in
                                 fmap.client_adapter.wwpns])
        self.assertEqual('fcs1', fmap.backing_port.name)
        # The client adapters kept their slots and point at the new VIOSes.
        remote = sorted((a.remote_lpar_id, a.slot) for a in
                        self.lpar.adapters)
        self.assertEqual(sorted([
            (self.new_vios1.partition_id, smap.client_adapter.lpar_slot_num),
            (self.new_vios2.partition_id,
             fmap.client_adapter.lpar_slot_num)]), remote)

    def test_a_logical_volume_keeps_the_lpar_home(self):
        datavg = self.vios1.volume_groups[1]
        vdisk = tsk_stg.crt_vdisk(self.adapter, self.vios1.uuid,
                                  datavg.uuid, 'local_1', 1)
        scsi_mapper.add_vscsi_mapping(None, self.vios1.uuid, self.lpar.uuid,
                                      vdisk)
        power.power_on(self.lpar_w, None)
        etags = [v.etag for v in self.model.vioses()]
        exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                migration.migrate_lpar, self.lpar_w,
                                self.target.name, validate_only=True)
        self.assertIn('HSCLA31C Partition %s cannot migrate: the virtual '
                      'SCSI adapter in slot' % self.lpar.name, str(exc))
        self.assertIn('Virtual disk local_1 is on vios1 alone', str(exc))
        self.assertIs(self.source, self.lpar.parent)
        self.assertEqual(etags, [v.etag for v in self.model.vioses()])
