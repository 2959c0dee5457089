"""vSCSI and virtual Fibre Channel mappings through pypowervm's public
mapping API (scsi_mapper, vfc_mapper, the storage scrubbers) against the
simulator; the model is only read, to check what the requests did."""

import glob
import io
import os
import threading
import uuid as uuidlib

from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm.utils import transaction as pvm_tx
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import files_api  # noqa: F401  (serves /web/File)
from powervm_sim import fixture
from powervm_sim import resources
from powervm_sim.model import mapping as mapping_model
from powervm_sim.wire import spec
from tests.recorded import paths
from tests.recorded import recordings

SMAP = pvm_const.XAG.VIO_SMAP
FMAP = pvm_const.XAG.VIO_FMAP
STOR = pvm_const.XAG.VIO_STOR


# What a mapping request may touch: the partitions, their adapters and
# the storage they export.
SNAPSHOT_KINDS = ('VirtualIOServer', 'LogicalPartition',
                  mapping_model.SCSI_CLIENT, mapping_model.FC_CLIENT,
                  'VolumeGroup', 'LogicalUnit')


def model_snapshot(model):
    """Every object a mapping request may change, rendered, with its etag,
    and the number of objects."""
    with model.registry.lock:
        rendered = {}
        for kind in SNAPSHOT_KINDS:
            schema = resources.TYPES[kind].schema
            for obj in model.registry.of_kind(kind):
                rendered[obj.uuid] = (obj.etag, spec.Renderer('').object(
                    schema, obj))
        return len(model.registry), rendered


class MappingTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=2))
        self.model = self.sim.model
        self.adapter = self.sim.adapter()
        self.host = pvm_ms.System.get(self.adapter)[0]
        self.vios, self.vios2 = self.model.vioses()
        self.lpar, self.lpar2 = [p for p in self.model.lpars()
                                 if not p.is_mgmt]
        self.datavg = self.vios.volume_groups[1]

    def read_vios(self, vios=None, xag=(SMAP,)):
        return pvm_vios.VIOS.get(self.adapter, uuid=(vios or self.vios).uuid,
                                 xag=list(xag))

    def new_vdisk(self, name, vios=None):
        vios = vios or self.vios
        return tsk_stg.crt_vdisk(self.adapter, vios.uuid,
                                 vios.volume_groups[1].uuid, name, 1)

    def map_vdisk(self, name, lpar=None, **kwargs):
        vdisk = self.new_vdisk(name)
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid,
                                      (lpar or self.lpar).uuid, vdisk,
                                      **kwargs)
        return vdisk

    def servers(self, vios=None):
        return [a for a in (vios or self.vios).adapters
                if isinstance(a, mapping_model.ServerAdapter)]

    def clients(self, lpar=None, kind=mapping_model.SCSI_CLIENT):
        return self.model.client_adapters(lpar or self.lpar, kind)

    def assertRefused(self, status, message, func, *args, **kwargs):
        """func must fail with status and message, changing nothing."""
        before = model_snapshot(self.model)
        exc = self.assertRaises(pvm_exc.HttpError, func, *args, **kwargs)
        self.assertEqual(status, exc.response.status)
        self.assertIsNotNone(exc.her_wrap, exc.response.body)
        self.assertIn(message, exc.her_wrap.message)
        self.assertEqual(before, model_snapshot(self.model))
        return exc


class TestVirtualDiskMapping(MappingTestBase):

    def test_add_vscsi_mapping_builds_the_adapter_pair(self):
        vios_etag, lpar_etag = self.vios.etag, self.lpar.etag
        vdisk = self.map_vdisk('inst1_boot')
        self.assertNotEqual(vios_etag, self.vios.etag)
        self.assertNotEqual(lpar_etag, self.lpar.etag)

        [smap] = self.read_vios().scsi_mappings
        [server] = self.servers()
        [client] = self.clients()
        sadpt = smap.server_adapter
        self.assertEqual(('Server', 'vhost0', server.slot, self.lpar.
                          partition_id, client.slot),
                         (sadpt.side, sadpt.name, sadpt.vios_slot_num,
                          sadpt.lpar_id, sadpt.lpar_slot_num))
        self.assertEqual(self.vios.location_code(server.slot),
                         sadpt.loc_code)
        self.assertEqual('1e' + sadpt.loc_code, sadpt.udid)
        self.assertEqual(self.vios.partition_id, sadpt.vios_id)
        cadpt = smap.client_adapter
        self.assertEqual(('Client', self.lpar.partition_id, client.slot,
                          self.vios.partition_id, server.slot),
                         (cadpt.side, cadpt.lpar_id, cadpt.lpar_slot_num,
                          cadpt.vios_id, cadpt.vios_slot_num))
        self.assertEqual(self.lpar.location_code(client.slot),
                         cadpt.loc_code)
        self.assertIn(self.lpar.uuid, smap.client_lpar_href)
        storage = smap.backing_storage
        self.assertIsInstance(storage, pvm_stg.VDisk)
        self.assertEqual((vdisk.name, vdisk.udid),
                         (storage.name, storage.udid))
        target = smap.target_dev
        self.assertIsInstance(target, pvm_stg.VDiskTargetDev)
        self.assertEqual(('0x8100000000000000', 'vtscsi0'),
                         (target.lua, target.name))
        [mapping] = self.vios.scsi_mappings
        self.assertEqual(('inst1_boot', '0x8100000000000000'),
                         (mapping.storage.name, mapping.target.lua))

    def test_lpar_lists_and_serves_its_client_adapter(self):
        self.map_vdisk('inst1_boot')
        [client] = self.clients()
        lpar_w = pvm_lpar.LPAR.get(self.adapter, uuid=self.lpar.uuid)
        links = lpar_w.element.findall(
            'VirtualSCSIClientAdapters/link')
        self.assertEqual([self.sim.endpoints[0].simulator.base_url +
                          client.href],
                         [link.get('href') for link in links])
        feed = self.adapter.read(pvm_lpar.LPAR.schema_type, self.lpar.uuid,
                                 mapping_model.SCSI_CLIENT)
        [entry] = feed.feed.entries
        self.assertEqual(client.uuid, entry.uuid)
        element = entry.element
        self.assertEqual(str(client.slot),
                         element.findtext('VirtualSlotNumber'))
        self.assertEqual('vhost0',
                         element.findtext('ServerAdapter/AdapterName'))
        one = self.adapter.read(pvm_lpar.LPAR.schema_type, self.lpar.uuid,
                                mapping_model.SCSI_CLIENT, client.uuid)
        self.assertEqual(client.etag, one.etag)

    def test_find_maps_and_match_functions(self):
        vdisk = self.map_vdisk('inst1_boot')
        self.map_vdisk('inst2_boot', lpar=self.lpar2)
        maps = self.read_vios().scsi_mappings
        self.assertEqual(1, len(scsi_mapper.find_maps(
            maps, client_lpar_id=self.lpar.uuid, stg_elem=vdisk)))
        self.assertEqual(1, len(scsi_mapper.find_maps(
            maps, client_lpar_id=self.lpar2.partition_id)))
        match = scsi_mapper.gen_match_func(pvm_stg.VDisk,
                                           prefixes=['inst'])
        self.assertEqual(2, len(scsi_mapper.find_maps(maps,
                                                      match_func=match)))
        index = scsi_mapper.index_mappings(maps)
        self.assertEqual([vdisk.udid], [
            udid for udid, found in index['by-storage-udid'].items()
            if found[0].client_lpar_href.endswith(self.lpar.uuid)])

    def test_second_disk_joins_the_bus(self):
        self.map_vdisk('inst1_boot')
        self.map_vdisk('inst1_data')
        maps = self.read_vios().scsi_mappings
        self.assertEqual(1, len(self.servers()))
        self.assertEqual(1, len(self.clients()))
        self.assertEqual(
            {('inst1_boot', '0x8100000000000000', 'vtscsi0'),
             ('inst1_data', '0x8200000000000000', 'vtscsi1')},
            {(m.backing_storage.name, m.target_dev.lua, m.target_dev.name)
             for m in maps})
        self.assertEqual({'vhost0'}, {m.server_adapter.name for m in maps})

    def test_fuse_limit_opens_a_second_bus(self):
        self.map_vdisk('inst1_boot', fuse_limit=1)
        self.map_vdisk('inst1_data', fuse_limit=1)
        self.assertEqual(['vhost0', 'vhost1'],
                         sorted(a.name for a in self.servers()))
        self.assertEqual(2, len(self.clients()))

    def test_adding_an_existing_mapping_changes_nothing(self):
        vdisk = self.map_vdisk('inst1_boot')
        before = model_snapshot(self.model)
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      vdisk)
        self.assertEqual(before, model_snapshot(self.model))

    def test_requested_client_slot_and_lua(self):
        vdisk = self.new_vdisk('inst1_boot')
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      vdisk, lpar_slot_num=17,
                                      lua='0x8300000000000000')
        [client] = self.clients()
        self.assertEqual(17, client.slot)
        [smap] = self.read_vios().scsi_mappings
        self.assertEqual('0x8300000000000000', smap.target_dev.lua)
        self.assertEqual(17, smap.server_adapter.lpar_slot_num)

    def test_upload_new_vdisk_then_map(self):
        data = b'boot image' * 1000
        vdisk, _ = tsk_stg.upload_new_vdisk(
            self.adapter, self.vios.uuid, self.datavg.uuid,
            io.BytesIO(data), 'img_boot', len(data))
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      vdisk)
        [mapping] = self.vios.scsi_mappings
        self.assertIs(self.datavg.find_vdisk('img_boot'), mapping.storage)

    def test_remove_vdisk_mapping_frees_adapters_and_slots(self):
        self.map_vdisk('inst1_boot')
        [server] = self.servers()
        [client] = self.clients()
        lpar_etag = self.lpar.etag
        vios_w, removed = scsi_mapper.remove_vdisk_mapping(
            self.adapter, self.vios.uuid, self.lpar.uuid,
            disk_names=['inst1_boot'])
        self.assertEqual(['inst1_boot'], [vd.name for vd in removed])
        self.assertEqual([], list(vios_w.scsi_mappings))
        self.assertEqual([], self.vios.scsi_mappings)
        self.assertEqual([], self.servers())
        self.assertEqual([], self.clients())
        self.assertNotIn(server.slot, self.vios.used_slots())
        self.assertNotIn(client.slot, self.lpar.used_slots())
        self.assertNotEqual(lpar_etag, self.lpar.etag)
        self.assertIsNone(self.model.registry.find(client.uuid))
        feed = self.adapter.read(pvm_lpar.LPAR.schema_type, self.lpar.uuid,
                                 mapping_model.SCSI_CLIENT)
        self.assertEqual(204, feed.status)
        # The disk itself stays.
        self.assertIsNotNone(self.datavg.find_vdisk('inst1_boot'))

    def test_removing_one_device_keeps_the_bus(self):
        self.map_vdisk('inst1_boot')
        self.map_vdisk('inst1_data')
        first_target = self.vios.scsi_mappings[0].target
        scsi_mapper.remove_vdisk_mapping(
            self.adapter, self.vios.uuid, self.lpar.uuid,
            disk_names=['inst1_data'])
        [mapping] = self.vios.scsi_mappings
        self.assertEqual('inst1_boot', mapping.storage.name)
        # The mapping that stays is the same device, not a new one.
        self.assertIs(first_target, mapping.target)
        self.assertEqual(1, len(self.clients()))

    def test_detached_bus_shows_as_one_mapping_without_storage(self):
        self.map_vdisk('inst1_boot')
        self.map_vdisk('inst1_data')
        vios_w = self.read_vios()
        scsi_mapper.detach_storage(vios_w, self.lpar.uuid)
        vios_w = vios_w.update()
        [smap] = vios_w.scsi_mappings
        self.assertIsNone(smap.backing_storage)
        self.assertIsNone(smap.target_dev)
        self.assertIsNotNone(smap.client_adapter)
        self.assertEqual(1, len(self.servers()))
        # Storage can be attached to the empty bus again.
        self.map_vdisk('inst1_again')
        [smap] = self.read_vios().scsi_mappings
        self.assertEqual('inst1_again', smap.backing_storage.name)
        self.assertEqual('0x8100000000000000', smap.target_dev.lua)

    def test_unchanged_mappings_keep_their_identity(self):
        self.map_vdisk('inst1_boot')
        [server] = self.servers()
        [client] = self.clients()
        target = self.vios.scsi_mappings[0].target
        self.map_vdisk('inst2_boot', lpar=self.lpar2)
        first = [m for m in self.vios.scsi_mappings
                 if m.storage.name == 'inst1_boot']
        self.assertEqual(1, len(first))
        self.assertIs(server, first[0].server)
        self.assertIs(client, server.client)
        self.assertIs(target, first[0].target)
        self.assertEqual(['vtscsi0', 'vtscsi1'],
                         sorted(m.target.name for m in
                                self.vios.scsi_mappings))

    def test_vios_event_names_the_mapping_section(self):
        events = []
        self.model.registry.subscribe(
            lambda kind, obj, detail: events.append((kind, obj, detail)))
        self.map_vdisk('inst1_boot')
        self.assertIn(('MODIFY_URI', self.vios, 'VirtualSCSIMappings'),
                      events)
        [client] = self.clients()
        self.assertIn(('ADD_URI', client, 'Other'), events)

    def test_concurrent_writers_both_land_through_etag_retry(self):
        # pypowervm serialises writers that share a lock in one process, so
        # the race is between two that do not: a WrapperTask (locked on the
        # VIOS UUID) and add_vscsi_mapping (locked on 'vscsi_mapping').
        disk_a, disk_b = [self.new_vdisk(name) for name in ('con_a', 'con_b')]
        a_has_read, b_has_posted = threading.Event(), threading.Event()
        runs = []
        errors = []

        def add_a(vios_w):
            runs.append(vios_w.etag)
            scsi_mapper.add_map(vios_w, scsi_mapper.build_vscsi_mapping(
                None, vios_w, self.lpar.uuid, disk_a))
            if len(runs) == 1:
                a_has_read.set()
                b_has_posted.wait(timeout=30)
            return True

        def writer_a():
            task = pvm_tx.WrapperTask('map_a', pvm_vios.VIOS.getter(
                self.sim.adapter(), self.vios.uuid, xag=[SMAP]))
            task.add_functor_subtask(add_a)
            task.execute()

        def writer_b():
            a_has_read.wait(timeout=30)
            try:
                scsi_mapper.add_vscsi_mapping(None, self.vios.uuid,
                                              self.lpar2.uuid, disk_b)
            finally:
                b_has_posted.set()

        def guarded(func):
            try:
                func()
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=guarded, args=(func,))
                   for func in (writer_a, writer_b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], errors)
        self.assertEqual({'con_a', 'con_b'},
                         {m.storage.name for m in self.vios.scsi_mappings})
        # A posted with a stale etag, got 412, re-read and ran again.
        self.assertEqual(2, len(runs))
        self.assertNotEqual(runs[0], runs[1])
        self.assertEqual(2, len(self.servers()))


class TestOpticalMapping(MappingTestBase):

    def test_upload_map_and_remove_media(self):
        data = b'an iso image' * 1000
        vopt, _ = tsk_stg.upload_vopt(self.adapter, self.vios.uuid,
                                      io.BytesIO(data), 'cfg_inst1.iso',
                                      f_size=len(data))
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      vopt)
        [smap] = self.read_vios().scsi_mappings
        self.assertIsInstance(smap.backing_storage, pvm_stg.VOptMedia)
        self.assertEqual('cfg_inst1.iso', smap.backing_storage.media_name)
        self.assertIsInstance(smap.target_dev, pvm_stg.VOptTargetDev)
        self.assertEqual('vtopt0', smap.target_dev.name)
        self.assertEqual('cfg_inst1.iso',
                         smap.server_adapter.backing_dev_name)
        vios_w, removed = scsi_mapper.remove_vopt_mapping(
            self.adapter, self.vios.uuid, self.lpar.uuid,
            media_name='cfg_inst1.iso')
        self.assertEqual(['cfg_inst1.iso'], [m.name for m in removed])
        self.assertEqual([], self.vios.scsi_mappings)
        self.assertEqual([], self.clients())

    def test_media_by_reference(self):
        ref = pvm_stg.VOptMedia.bld_ref(self.adapter,
                                        'novalink-2.0.3-ppc64le.iso')
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      ref)
        [mapping] = self.vios.scsi_mappings
        self.assertEqual('0enovalink-2.0.3-ppc64le.iso',
                         mapping.storage.udid)


class TestPhysicalVolumeMapping(MappingTestBase):

    def test_map_and_remove_a_san_disk(self):
        pv = pvm_stg.PV.bld(self.adapter, 'hdisk3')
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      pv)
        vios_w = self.read_vios(xag=(SMAP, STOR))
        [smap] = vios_w.scsi_mappings
        self.assertIsInstance(smap.backing_storage, pvm_stg.PV)
        self.assertEqual('hdisk3', smap.backing_storage.name)
        self.assertIsInstance(smap.target_dev, pvm_stg.PVTargetDev)
        hdisk3 = [p for p in vios_w.phys_vols if p.name == 'hdisk3'][0]
        self.assertFalse(hdisk3.avail_for_use)
        scsi_mapper.remove_pv_mapping(self.adapter, self.vios.uuid,
                                      self.lpar.uuid, 'hdisk3')
        vios_w = self.read_vios(xag=(SMAP, STOR))
        hdisk3 = [p for p in vios_w.phys_vols if p.name == 'hdisk3'][0]
        self.assertTrue(hdisk3.avail_for_use)
        self.assertEqual([], list(vios_w.scsi_mappings))

    def test_a_shared_disk_maps_to_two_partitions(self):
        for lpar in (self.lpar, self.lpar2):
            scsi_mapper.add_vscsi_mapping(
                None, self.vios.uuid, lpar.uuid,
                pvm_stg.PV.bld(self.adapter, 'hdisk4'))
        self.assertEqual(2, len(self.model.scsi_mappings_of(
            self.vios.physical_volumes[4])))

    def test_disk_of_a_volume_group_is_refused(self):
        pv = pvm_stg.PV.bld(self.adapter, 'hdisk1')
        self.assertRefused(
            400, 'Physical volume hdisk1 is in use',
            scsi_mapper.add_vscsi_mapping, None, self.vios.uuid,
            self.lpar.uuid, pv)


class TestLogicalUnitMapping(MappingTestBase):

    def test_map_and_remove_a_logical_unit(self):
        [tier] = pvm_stg.Tier.get(self.adapter)
        tier, lu = tsk_stg.crt_lu(tier, 'boot_inst1', 1)
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      lu)
        [smap] = self.read_vios().scsi_mappings
        self.assertIsInstance(smap.backing_storage, pvm_stg.LU)
        self.assertEqual((lu.name, lu.udid), (smap.backing_storage.name,
                                              smap.backing_storage.udid))
        self.assertIsInstance(smap.target_dev, pvm_stg.LUTargetDev)
        self.assertTrue(pvm_stg.LUEnt.get(
            self.adapter, parent=tier, uuid=lu.uuid).in_use)
        scsi_mapper.remove_lu_mapping(self.adapter, self.vios.uuid,
                                      self.lpar.uuid, disk_names=[lu.name])
        self.assertEqual([], self.vios.scsi_mappings)
        self.assertFalse(pvm_stg.LUEnt.get(
            self.adapter, parent=tier, uuid=lu.uuid).in_use)

    def test_unknown_logical_unit_is_refused(self):
        lu = pvm_stg.LU.bld_ref(self.adapter, 'ghost', '27' + 'AB' * 16)
        self.assertRefused(
            400, 'Logical unit 27%s does not exist' % ('AB' * 16),
            scsi_mapper.add_vscsi_mapping, None, self.vios.uuid,
            self.lpar.uuid, lu)


class TestFibreChannelMapping(MappingTestBase):

    def vioses(self):
        return pvm_vios.VIOS.get(self.adapter, xag=[FMAP])

    def npiv_maps(self, pairs=2):
        vioses = self.vioses()
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.host.uuid,
                                           pair_count=pairs)
        ports = [p.wwpn for vios_w in vioses for p in vios_w.pfc_ports]
        return vfc_mapper.derive_npiv_map(vioses, ports, wwpns)

    def add_maps(self, port_maps, lpar=None):
        for port_map in port_maps:
            vios_w = vfc_mapper.find_vios_for_port_map(self.vioses(),
                                                       port_map)
            vfc_mapper.add_map(vios_w, self.host.uuid,
                               (lpar or self.lpar).uuid, port_map)
            vios_w.update()

    def test_each_vios_has_two_physical_ports(self):
        for vios_w in self.vioses():
            ports = vios_w.pfc_ports
            self.assertEqual(['fcs0', 'fcs1'], [p.name for p in ports])
            self.assertEqual([64, 64], [p.npiv_total_ports for p in ports])
            self.assertEqual([64, 64],
                             [p.npiv_available_ports for p in ports])
            self.assertEqual(2, len({p.wwpn for p in ports}))
            self.assertTrue(all(p.loc_code.endswith(('-T1', '-T2'))
                                for p in ports))
            self.assertEqual({p.wwpn for p in ports},
                             vios_w.get_pfc_wwpns())
            # The FC card's slot, then the slot of the SEA's Ethernet card.
            fc_slot, _ethernet_slot = vios_w.io_config.io_slots
            self.assertIsInstance(fc_slot.io_adapter, pvm_bp.PhysFCAdapter)

    def test_npiv_mappings_spread_over_the_vioses(self):
        port_maps = self.npiv_maps()
        self.add_maps(port_maps)
        for vios, (port_wwpn, fused) in zip((self.vios, self.vios2),
                                            port_maps, strict=True):
            [vfc] = vios.fc_mappings
            self.assertEqual(port_wwpn, vfc.port.wwpn)
            self.assertEqual(fused.lower().split(),
                             list(vfc.client.wwpns))
            self.assertEqual(63, vfc.port.available_ports)
        vios_w = self.read_vios(xag=(FMAP,))
        [vmap] = vios_w.vfc_mappings
        self.assertEqual(port_maps[0][0], vmap.backing_port.wwpn)
        self.assertEqual('vfchost0', vmap.server_adapter.name)
        self.assertEqual(vmap.backing_port.name,
                         vmap.server_adapter.map_port)
        self.assertEqual(set(port_maps[0][1].split()),
                         set(vmap.client_adapter.wwpns))
        self.assertEqual(self.lpar.partition_id,
                         vmap.server_adapter.lpar_id)
        self.assertEqual({frozenset(port_maps[0][1].lower().split())},
                         vios_w.get_vfc_wwpns())
        # Deriving again preserves what exists.
        self.assertEqual(sorted(port_maps), sorted(
            vfc_mapper.derive_npiv_map(
                self.vioses(), [p[0] for p in port_maps],
                [w for p in port_maps for w in p[1].split()])))

    def test_lpar_serves_its_vfc_client_adapters(self):
        port_maps = self.npiv_maps()
        self.add_maps(port_maps)
        adapters = pvm_stg.VFCClientAdapter.get(
            self.adapter, parent_type=pvm_lpar.LPAR,
            parent_uuid=self.lpar.uuid)
        self.assertEqual(sorted(set(p[1].split()) for p in port_maps),
                         sorted(set(a.wwpns) for a in adapters))
        self.assertEqual({self.vios.partition_id, self.vios2.partition_id},
                         {a.vios_id for a in adapters})
        lpar_w = pvm_lpar.LPAR.get(self.adapter, uuid=self.lpar.uuid)
        self.assertEqual(2, len(lpar_w.element.findall(
            'VirtualFibreChannelClientAdapters/link')))

    def test_remove_maps_removes_both_adapters(self):
        port_maps = self.npiv_maps(pairs=1)
        self.add_maps(port_maps)
        vios_w = vfc_mapper.find_vios_for_port_map(self.vioses(),
                                                   port_maps[0])
        removed = vfc_mapper.remove_maps(vios_w, self.lpar.uuid,
                                         port_map=port_maps[0])
        self.assertEqual(1, len(removed))
        vios_w.update()
        self.assertEqual([], [m for v in self.model.vioses()
                              for m in v.fc_mappings])
        self.assertEqual([], self.clients(kind=mapping_model.FC_CLIENT))
        self.assertEqual([], [a for v in self.model.vioses()
                              for a in self.servers(v)])
        self.assertTrue(all(p.available_ports == 64
                            for v in self.model.vioses()
                            for p in v.fc_ports))

    def test_server_assigns_wwpns_when_none_are_given(self):
        system = self.model.systems[0]
        available = system.available_wwpns
        vioses = self.vioses()
        ports = [p.wwpn for p in vioses[0].pfc_ports]
        [port_map] = vfc_mapper.derive_base_npiv_map(vioses[:1], ports, 1)
        vfc_mapper.add_map(vioses[0], self.host.uuid, self.lpar.uuid,
                           port_map)
        vioses[0].update()
        [client] = self.clients(kind=mapping_model.FC_CLIENT)
        self.assertEqual(2, len(set(client.wwpns)))
        self.assertTrue(all(w.startswith('c05076') for w in client.wwpns))
        self.assertEqual(available - 2, system.available_wwpns)
        issued = vfc_mapper.build_wwpn_pair(self.adapter, self.host.uuid)
        self.assertFalse({w.lower() for w in issued} &
                         set(client.wwpns))

    def test_port_added_to_a_portless_mapping(self):
        vios_w = self.read_vios(xag=(FMAP,))
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.host.uuid)
        vios_w.vfc_mappings.append(pvm_vios.VFCMapping.bld(
            self.adapter, self.host.uuid, self.lpar.uuid, 'fcs0',
            client_wwpns=wwpns))
        new_map = vios_w.vfc_mappings[-1].element
        new_map.remove(new_map.find('Port'))
        vios_w = vios_w.update()
        [vfc] = self.vios.fc_mappings
        self.assertIsNone(vfc.port)
        server = vfc.server
        port_map = (self.vios.fc_ports[1].wwpn, ' '.join(wwpns))
        self.assertIsNotNone(vfc_mapper.add_map(
            vios_w, self.host.uuid, self.lpar.uuid, port_map))
        vios_w.update()
        self.assertIs(self.vios.fc_ports[1], vfc.port)
        self.assertIs(server, self.vios.fc_mappings[0].server)


class TestRefusedMappings(MappingTestBase):

    def post_scsi_mapping(self, lpar_uuid, storage, **kwargs):
        vios_w = self.read_vios()
        vios_w.scsi_mappings.append(pvm_vios.VSCSIMapping.bld(
            self.adapter, None, lpar_uuid, storage, **kwargs))
        return vios_w

    def test_mapping_to_a_partition_that_does_not_exist(self):
        ghost = str(uuidlib.uuid4())
        vios_w = self.post_scsi_mapping(ghost, self.new_vdisk('orphan'))
        self.assertRefused(
            400, 'Client partition %s does not exist' % ghost,
            vios_w.update)

    def test_mapping_to_a_vios_is_refused(self):
        vios_w = self.post_scsi_mapping(self.vios2.uuid,
                                        self.new_vdisk('to_vios'))
        vios_w.scsi_mappings[-1]._client_lpar_href(
            vios_w.scsi_mappings[-1].client_lpar_href.replace(
                'LogicalPartition', 'VirtualIOServer'))
        self.assertRefused(400, 'does not exist', vios_w.update)

    def test_storage_of_another_vios(self):
        vdisk = self.new_vdisk('elsewhere', vios=self.vios2)
        vios_w = self.post_scsi_mapping(self.lpar.uuid, vdisk)
        self.assertRefused(
            400, 'Virtual disk %s does not exist on vios1' % vdisk.udid,
            vios_w.update)

    def test_media_that_does_not_exist(self):
        vios_w = self.post_scsi_mapping(
            self.lpar.uuid, pvm_stg.VOptMedia.bld_ref(self.adapter,
                                                      'nothing.iso'))
        self.assertRefused(
            400, 'Virtual optical media nothing.iso does not exist',
            vios_w.update)

    def test_same_storage_twice_to_one_partition(self):
        vdisk = self.map_vdisk('twice')
        # add_vscsi_mapping de-duplicates; a raw second mapping on a new
        # adapter pair is what NovaLink itself must refuse.
        vios_w = self.post_scsi_mapping(self.lpar.uuid, vdisk)
        self.assertRefused(
            400, 'Virtual disk twice is mapped to partition %s more than '
            'once' % self.lpar.name, vios_w.update)

    def test_logical_volume_to_two_partitions(self):
        vdisk = self.map_vdisk('exclusive')
        vios_w = self.post_scsi_mapping(self.lpar2.uuid, vdisk)
        self.assertRefused(
            400, 'Logical volume exclusive can back only one virtual '
            'target device', vios_w.update)

    def test_malformed_slot_number(self):
        vios_w = self.post_scsi_mapping(self.lpar.uuid,
                                        self.new_vdisk('bad_slot'),
                                        lpar_slot_num=5)
        vios_w.scsi_mappings[-1].element.find(
            'ClientAdapter/VirtualSlotNumber').text = 'five'
        self.assertRefused(
            400, "ClientAdapter/VirtualSlotNumber: 'five' is not a valid "
            "int", vios_w.update)

    def test_mapping_without_a_client(self):
        vios_w = self.post_scsi_mapping(self.lpar.uuid,
                                        self.new_vdisk('no_client'))
        element = vios_w.scsi_mappings[-1].element
        element.remove(element.find('AssociatedLogicalPartition'))
        element.remove(element.find('ClientAdapter'))
        self.assertRefused(400, 'A new mapping needs a client partition',
                           vios_w.update)

    def test_bad_logical_unit_address(self):
        vios_w = self.post_scsi_mapping(self.lpar.uuid,
                                        self.new_vdisk('bad_lua'),
                                        lua='LUN one')
        self.assertRefused(
            400, "'LUN one' is not a logical unit address", vios_w.update)

    def test_client_slot_already_in_use(self):
        self.map_vdisk('first')
        [client] = self.clients()
        vios_w = self.post_scsi_mapping(self.lpar2.uuid,
                                        self.new_vdisk('second'))
        self.map_vdisk('third', lpar=self.lpar2)
        [taken] = self.clients(self.lpar2)
        vios_w = self.post_scsi_mapping(self.lpar2.uuid,
                                        self.new_vdisk('fourth'),
                                        lpar_slot_num=taken.slot)
        exc = self.assertRefused(
            400, 'Virtual slot %d of partition %s is already in use' % (
                taken.slot, self.lpar2.name), vios_w.update)
        self.assertIn('HSCL294C', exc.her_wrap.message)
        self.assertEqual(1, len(self.clients()))
        self.assertIs(client, self.clients()[0])

    def test_vfc_mapping_to_a_port_that_does_not_exist(self):
        vios_w = self.read_vios(xag=(FMAP,))
        vios_w.vfc_mappings.append(pvm_vios.VFCMapping.bld(
            self.adapter, self.host.uuid, self.lpar.uuid, 'fcs7',
            client_wwpns=['c050760000000a00', 'c050760000000a01']))
        self.assertRefused(
            400, 'Physical Fibre Channel port fcs7 does not exist on vios1',
            vios_w.update)

    def test_vfc_mapping_with_malformed_wwpns(self):
        vios_w = self.read_vios(xag=(FMAP,))
        vios_w.vfc_mappings.append(pvm_vios.VFCMapping.bld(
            self.adapter, self.host.uuid, self.lpar.uuid, 'fcs0',
            client_wwpns=['c05076', 'c050760000000a01']))
        self.assertRefused(400, 'is not a pair of distinct WWPNs',
                           vios_w.update)

    def test_vfc_wwpns_already_in_use(self):
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.host.uuid)
        for lpar in (self.lpar, self.lpar2):
            vios_w = self.read_vios(xag=(FMAP,))
            vios_w.vfc_mappings.append(pvm_vios.VFCMapping.bld(
                self.adapter, self.host.uuid, lpar.uuid, 'fcs0',
                client_wwpns=wwpns))
            if lpar is self.lpar:
                vios_w.update()
        self.assertRefused(400, 'WWPN %s is already in use' %
                           wwpns[0].lower(), vios_w.update)

    def test_refused_section_leaves_the_vios_alone(self):
        self.map_vdisk('keep_me')
        vios_w = self.read_vios()
        # Drop the existing mapping and add a bad one in the same post:
        # nothing happens at all.
        vios_w.scsi_mappings.remove(vios_w.scsi_mappings[0])
        vios_w.scsi_mappings.append(pvm_vios.VSCSIMapping.bld(
            self.adapter, None, self.lpar.uuid,
            pvm_stg.VOptMedia.bld_ref(self.adapter, 'missing.iso')))
        self.assertRefused(400, 'missing.iso does not exist', vios_w.update)
        self.assertEqual(['keep_me'], [m.storage.name for m in
                                       self.vios.scsi_mappings])


class TestOrphans(MappingTestBase):

    def delete_lpar(self, lpar):
        self.adapter.delete(pvm_lpar.LPAR.schema_type, root_id=lpar.uuid)

    def test_deleting_the_client_leaves_an_orphan_server_side(self):
        self.map_vdisk('orphaned')
        [server] = self.servers()
        [client] = self.clients()
        vios_etag = self.vios.etag
        lpar_id = self.lpar.partition_id
        self.delete_lpar(self.lpar)
        self.assertNotEqual(vios_etag, self.vios.etag)
        self.assertIsNone(self.model.registry.find(client.uuid))
        [smap] = self.read_vios().scsi_mappings
        self.assertIsNone(smap.client_adapter)
        self.assertIsNone(smap.client_lpar_href)
        self.assertEqual(lpar_id, smap.server_adapter.lpar_id)
        self.assertEqual('orphaned', smap.backing_storage.name)
        self.assertEqual([lpar_id],
                         tsk_stg.find_stale_lpars(self.read_vios(
                             xag=(SMAP, FMAP))))
        self.assertEqual([server], self.servers())

    def test_comprehensive_scrub_removes_orphans_and_their_disks(self):
        self.map_vdisk('scrub_me')
        self.map_vdisk('keep_me', lpar=self.lpar2)
        self.delete_lpar(self.lpar)
        tsk_stg.ComprehensiveScrub(self.adapter).execute()
        self.assertEqual(['keep_me'], [m.storage.name for m in
                                       self.vios.scsi_mappings])
        self.assertEqual(1, len(self.servers()))
        self.assertIsNone(self.datavg.find_vdisk('scrub_me'))
        self.assertIsNotNone(self.datavg.find_vdisk('keep_me'))

    def test_vfc_orphan_is_scrubbed(self):
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.host.uuid)
        vios_w = self.read_vios(xag=(FMAP,))
        vfc_mapper.add_map(vios_w, self.host.uuid, self.lpar.uuid,
                           (self.vios.fc_ports[0].wwpn, ' '.join(wwpns)))
        vios_w.update()
        self.delete_lpar(self.lpar)
        [vmap] = self.read_vios(xag=(FMAP,)).vfc_mappings
        self.assertIsNone(vmap.client_adapter)
        tsk_stg.ComprehensiveScrub(self.adapter).execute()
        self.assertEqual([], self.vios.fc_mappings)
        self.assertEqual(64, self.vios.fc_ports[0].available_ports)


class TestDocumentsMatchRealOnes(MappingTestBase):
    """Element paths of the mapping sections and client adapters against
    real VIOS and LPAR documents."""

    @staticmethod
    def real_interactions():
        found = []
        data = recordings.pypowervm_data_dir()
        for pattern in ('fake_vios*.txt', 'vio_multi_vscsi_mapping.txt',
                        'vfc_client_adapter_feed.txt'):
            for path in sorted(glob.glob(os.path.join(data, pattern))):
                found += recordings.load_pypowervm_capture(path)
        shared = recordings.shared_recordings_dir()
        for path in sorted(glob.glob(os.path.join(shared, '*',
                                                  'refresher*.yml'))):
            found += recordings.load_ruby_vcr(path)
        return found

    def map_everything(self):
        self.map_vdisk('conf_lv')
        scsi_mapper.add_vscsi_mapping(
            None, self.vios.uuid, self.lpar.uuid,
            pvm_stg.VOptMedia.bld_ref(self.adapter,
                                      'novalink-2.0.3-ppc64le.iso'))
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      pvm_stg.PV.bld(self.adapter, 'hdisk3'))
        [tier] = pvm_stg.Tier.get(self.adapter)
        _, lu = tsk_stg.crt_lu(tier, 'conf_lu', 1)
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      lu)
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.host.uuid)
        vios_w = self.read_vios(xag=(FMAP,))
        vfc_mapper.add_map(vios_w, self.host.uuid, self.lpar.uuid,
                           (self.vios.fc_ports[0].wwpn, ' '.join(wwpns)))
        vios_w.update()

    def served(self, path):
        resp = self.adapter.read(pvm_vios.VIOS.schema_type, self.vios.uuid,
                                 xag=[])
        element = resp.entry.element.element
        found = set()
        for nested in paths.nested_objects(element, path):
            found |= paths.element_paths(nested)
        return found, paths.nested_objects(element, path)

    def test_mapping_sections_and_client_adapters(self):
        self.map_everything()
        real = self.real_interactions()
        rows = []
        for path in ('VirtualSCSIMappings/VirtualSCSIMapping',
                     'VirtualFibreChannelMappings/'
                     'VirtualFibreChannelMapping'):
            section, kind = path.split('/')
            real_paths = paths.collect_nested_paths(real, 'VirtualIOServer',
                                                    section, kind)
            served, served_maps = self.served(path)
            rows.append((kind, paths.coverage(real_paths, served)))
            self.assertEqual([], self.order_disagreements(
                real, path, served_maps))
        feed = self.adapter.read(pvm_lpar.LPAR.schema_type, self.lpar.uuid,
                                 mapping_model.FC_CLIENT)
        served = set()
        for entry in feed.feed.entries:
            served |= paths.element_paths(entry.element.element)
        rows.append((mapping_model.FC_CLIENT, paths.coverage(
            paths.collect_paths(real, mapping_model.FC_CLIENT), served)))
        self.addDetail('coverage', testtools.content.text_content(
            paths.format_table(rows)))
        for kind, result in rows:
            self.assertGreaterEqual(result.ratio, 0.9, (kind,
                                                        result.missing))

    @staticmethod
    def order_disagreements(real, path, served_maps):
        """Sibling orders the served mappings get wrong.  Real documents
        disagree among themselves in places (an edited capture has Port
        before ClientAdapter): an order some real document uses is right.
        """
        shapes = {}
        for interaction in real:
            for kind, vios in recordings.iter_atom_objects(
                    interaction.response_body):
                for found in (paths.nested_objects(vios, path)
                              if kind == 'VirtualIOServer' else ()):
                    shapes.setdefault(
                        tuple(paths.iter_element_paths(found)), found)
        contested = {pair for first in shapes.values()
                     for second in shapes.values()
                     for pair in paths.order_disagreements(first, second)}
        return sorted({pair for real_map in shapes.values()
                       for served_map in served_maps
                       for pair in paths.order_disagreements(
                           real_map, served_map)} - contested)
