"""The mapping model: posted vSCSI and VFC mapping lists as desired state,
slot, LUA and WWPN allocation, orphans, and the VIOS sections they render
to and parse from."""

from lxml import etree
import testtools

from powervm_sim import model as model_mod
from powervm_sim.model import builder
from powervm_sim.model import mapping
from powervm_sim.model import registry
from powervm_sim.wire import spec
from powervm_sim.wire.schemas import partition as part_schema


def built_model(test, systems=1):
    model = model_mod.Model()
    builder.build(model, systems=systems, vioses=2, lpars=2)
    test.addCleanup(model.content.close)
    return model


def new_item(lpar, **storage):
    """A posted mapping asking for a new adapter pair (as pypowervm's
    VSCSIMapping.bld / VFCMapping.bld make it)."""
    item = {'client_lpar_href': 'http://h:1' + lpar.href,
            'client.use_next_slot': True, 'server.use_next_slot': True}
    item.update(storage)
    return item


def rendered(vios):
    return spec.Renderer('http://h:1').object(part_schema.VIOS, vios)


def as_posted(vios):
    """The VIOS's fields as a client posts the document it read."""
    return spec.parse(part_schema.VIOS, etree.fromstring(rendered(vios)))


def state(model):
    """What a refused request must leave alone."""
    with model.registry.lock:
        return (len(model.registry),
                {o.uuid: (o.etag, [id(a) for a in getattr(o, 'adapters', ())])
                 for kind in ('VirtualIOServer', 'LogicalPartition')
                 for o in model.registry.of_kind(kind)},
                [(id(m), id(m.storage), id(m.target))
                 for v in model.vioses() for m in v.scsi_mappings],
                [id(m) for v in model.vioses() for m in v.fc_mappings])


class MappingModelBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        self.vios, self.vios2 = self.model.vioses()
        self.lpar, self.lpar2 = [p for p in self.model.lpars()
                                 if not p.is_mgmt]
        self.datavg = self.vios.volume_groups[1]
        self.vdisk = self.model.add_vdisk(self.datavg, 'disk_a', 1.0)

    def servers(self, vios=None):
        return [a for a in (vios or self.vios).adapters
                if isinstance(a, mapping.ServerAdapter)]

    def map_disk(self, name, lpar=None):
        vdisk = self.datavg.find_vdisk(name) or self.model.add_vdisk(
            self.datavg, name, 1.0)
        items = as_posted(self.vios)['scsi_mappings']
        items.append(new_item(lpar or self.lpar, **{'vdisk.udid':
                                                    vdisk.udid}))
        self.model.update_scsi_mappings(self.vios, items)
        return vdisk

    def assertRefused(self, code, message, func, *args):
        before = state(self.model)
        exc = self.assertRaises(registry.Conflict, func, *args)
        self.assertEqual((400, code), (exc.status, exc.code))
        self.assertIn(message, str(exc))
        self.assertEqual(before, state(self.model))


class TestScsiMappings(MappingModelBase):

    def test_new_mapping_makes_an_adapter_pair_and_a_device(self):
        vios_etag, lpar_etag = self.vios.etag, self.lpar.etag
        self.map_disk('disk_a')
        [server] = self.servers()
        [client] = self.model.client_adapters(self.lpar,
                                              mapping.SCSI_CLIENT)
        self.assertEqual(('vhost0', self.lpar.partition_id, client.slot),
                         (server.name, server.remote_lpar_id,
                          server.remote_slot))
        self.assertIs(server, client.server)
        self.assertIs(client, server.client)
        self.assertIn(server.slot, self.vios.used_slots())
        self.assertIs(client, self.model.registry.get(client.uuid))
        [device] = self.vios.scsi_mappings
        self.assertIs(self.vdisk, device.storage)
        self.assertEqual(('0x8100000000000000', 'vtscsi0'),
                         (device.target.lua, device.target.name))
        self.assertTrue(device.target.udid.startswith('09'))
        self.assertNotEqual(vios_etag, self.vios.etag)
        self.assertNotEqual(lpar_etag, self.lpar.etag)

    def test_document_posted_back_as_read_changes_nothing(self):
        self.map_disk('disk_a')
        self.map_disk('disk_b')
        before = state(self.model)
        targets = [m.target for m in self.vios.scsi_mappings]
        self.model.update_scsi_mappings(
            self.vios, as_posted(self.vios)['scsi_mappings'])
        self.assertEqual(before, state(self.model))
        self.assertEqual(targets, [m.target for m in self.vios.scsi_mappings])

    def test_storage_renders_as_the_only_child_of_its_wrapper(self):
        self.map_disk('disk_a')
        doc = etree.fromstring(rendered(self.vios))
        [storage] = doc.iter('{%s}Storage' % spec.UOM_NS)
        self.assertEqual(['VirtualDisk'],
                         [spec.local_name(c) for c in storage])
        [target] = doc.iter('{%s}TargetDevice' % spec.UOM_NS)
        self.assertEqual(['LogicalVolumeVirtualTargetDevice'],
                         [spec.local_name(c) for c in target])

    def test_second_device_on_a_bus_gets_the_next_lua(self):
        self.map_disk('disk_a')
        items = as_posted(self.vios)['scsi_mappings']
        disk_b = self.model.add_vdisk(self.datavg, 'disk_b', 1.0)
        clone = dict(items[0], **{'vdisk.udid': disk_b.udid,
                                  'vdisk.name': disk_b.name})
        del clone['target.lua'], clone['target.name']
        self.model.update_scsi_mappings(self.vios, items + [clone])
        self.assertEqual(1, len(self.servers()))
        self.assertEqual(
            [('disk_a', '0x8100000000000000', 'vtscsi0'),
             ('disk_b', '0x8200000000000000', 'vtscsi1')],
            [(m.storage.name, m.target.lua, m.target.name)
             for m in self.vios.scsi_mappings])

    def test_requested_lua_and_target_name_are_kept(self):
        item = new_item(self.lpar, **{
            'vdisk.udid': self.vdisk.udid, 'target.lua': '0x8500000000000000',
            'target.name': 'boot_vtd'})
        self.model.update_scsi_mappings(self.vios, [item])
        [device] = self.vios.scsi_mappings
        self.assertEqual(('0x8500000000000000', 'boot_vtd'),
                         (device.target.lua, device.target.name))

    def test_dropped_item_removes_the_pair_and_frees_the_slots(self):
        self.map_disk('disk_a')
        [server] = self.servers()
        [client] = self.model.client_adapters(self.lpar,
                                              mapping.SCSI_CLIENT)
        self.model.update_scsi_mappings(self.vios, [])
        self.assertEqual([], self.vios.scsi_mappings)
        self.assertEqual([], self.servers())
        self.assertNotIn(server.slot, self.vios.used_slots())
        self.assertNotIn(client.slot, self.lpar.used_slots())
        self.assertIsNone(self.model.registry.find(client.uuid))

    def test_bus_listed_without_storage_stays_empty(self):
        self.map_disk('disk_a')
        self.map_disk('disk_b')
        [item] = as_posted(self.vios)['scsi_mappings'][:1]
        for key in ('vdisk.udid', 'vdisk.name', 'target.lua',
                    'target.name'):
            item.pop(key, None)
        self.model.update_scsi_mappings(self.vios, [item])
        [placeholder] = self.vios.scsi_mappings
        self.assertIsNone(placeholder.storage)
        self.assertIsNotNone(placeholder.server.client)
        doc = etree.fromstring(rendered(self.vios))
        self.assertEqual([], list(doc.iter('{%s}Storage' % spec.UOM_NS)))

    def test_new_pairs_of_one_request_get_distinct_slots(self):
        disk_b = self.model.add_vdisk(self.datavg, 'disk_b', 1.0)
        self.model.update_scsi_mappings(self.vios, [
            new_item(self.lpar, **{'vdisk.udid': self.vdisk.udid}),
            new_item(self.lpar, **{'vdisk.udid': disk_b.udid})])
        slots = sorted(a.slot for a in self.model.client_adapters(
            self.lpar, mapping.SCSI_CLIENT))
        self.assertEqual(2, len(set(slots)))
        self.assertEqual(2, len({a.slot for a in self.servers()}))

    def test_the_same_slot_twice_in_one_request_is_refused(self):
        disk_b = self.model.add_vdisk(self.datavg, 'disk_b', 1.0)
        items = [new_item(self.lpar, **{'vdisk.udid': vd.udid,
                                        'client.use_next_slot': False,
                                        'client.slot': 9})
                 for vd in (self.vdisk, disk_b)]
        self.assertRefused('HSCL294C', 'requested twice',
                           self.model.update_scsi_mappings, self.vios,
                           items)

    def test_refused_request_changes_nothing(self):
        self.map_disk('disk_a')
        items = as_posted(self.vios)['scsi_mappings'][1:]
        items.append(new_item(self.lpar2, **{'vopt.name': 'none.iso'}))
        self.assertRefused(mapping.NO_STORAGE,
                           'Virtual optical media none.iso does not exist',
                           self.model.update_scsi_mappings, self.vios,
                           items)

    def test_client_must_be_a_partition_of_the_same_system(self):
        item = new_item(self.lpar, **{'vdisk.udid': self.vdisk.udid})
        item['client_lpar_href'] = item['client_lpar_href'].replace(
            self.lpar.uuid, self.vios2.uuid)
        self.assertRefused(mapping.NO_CLIENT, 'does not exist',
                           self.model.update_scsi_mappings, self.vios,
                           [item])

    def test_client_found_by_partition_id_without_a_link(self):
        item = new_item(self.lpar, **{'vdisk.udid': self.vdisk.udid,
                                      'client.lpar_id':
                                      self.lpar2.partition_id})
        del item['client_lpar_href']
        self.model.update_scsi_mappings(self.vios, [item])
        self.assertEqual(1, len(self.model.client_adapters(
            self.lpar2, mapping.SCSI_CLIENT)))

    def test_bus_of_another_partition_is_refused(self):
        self.map_disk('disk_a')
        [item] = as_posted(self.vios)['scsi_mappings']
        item['client_lpar_href'] = 'http://h:1' + self.lpar2.href
        self.assertRefused(mapping.BAD_MAPPING, 'serves partition',
                           self.model.update_scsi_mappings, self.vios,
                           [item])

    def test_physical_volume_availability_follows_its_mappings(self):
        hdisk3 = self.vios.physical_volumes[3]
        self.assertTrue(hdisk3.available)
        self.model.update_scsi_mappings(self.vios, [
            new_item(self.lpar, **{'pv.name': 'hdisk3'})])
        self.assertFalse(hdisk3.available)
        self.model.update_scsi_mappings(self.vios, [])
        self.assertTrue(hdisk3.available)

    def test_disk_of_a_volume_group_is_refused(self):
        self.assertRefused(mapping.STORAGE_IN_USE,
                           'Physical volume hdisk1 is in use',
                           self.model.update_scsi_mappings, self.vios,
                           [new_item(self.lpar, **{'pv.name': 'hdisk1'})])

    def test_logical_unit_mapping_marks_it_in_use(self):
        [pool] = self.model.shared_storage_pools()
        [tier] = pool.tiers
        lu = self.model.create_logical_unit(
            tier, {'name': 'lu_a', 'capacity_gb': 1.0})
        lu_etag = lu.etag
        self.model.update_scsi_mappings(self.vios, [
            new_item(self.lpar, udid=lu.udid)])
        self.assertTrue(lu.in_use)
        self.assertNotEqual(lu_etag, lu.etag)
        [device] = self.vios.scsi_mappings
        self.assertEqual('lu', device.storage_kind)
        self.assertTrue(device.target.udid.startswith('07'))

    def test_scsi_mappings_of_storage(self):
        self.map_disk('disk_a')
        self.assertEqual([self.vios.scsi_mappings[0]],
                         self.model.scsi_mappings_of(self.vdisk))


class TestOrphans(MappingModelBase):

    def test_deleting_the_client_partition_orphans_the_server_side(self):
        self.map_disk('disk_a')
        [server] = self.servers()
        lpar_id, client_slot = self.lpar.partition_id, server.remote_slot
        vios_etag = self.vios.etag
        self.model.delete_partition(self.lpar)
        self.assertIsNone(server.client)
        self.assertEqual((lpar_id, client_slot),
                         (server.remote_lpar_id, server.remote_slot))
        self.assertNotEqual(vios_etag, self.vios.etag)
        [device] = self.vios.scsi_mappings
        self.assertIs(self.vdisk, device.storage)
        xml = rendered(self.vios)
        self.assertNotIn('<ClientAdapter', xml)
        self.assertNotIn('<AssociatedLogicalPartition', xml)

    def test_orphan_dropped_from_the_list_is_removed(self):
        self.map_disk('disk_a')
        self.model.delete_partition(self.lpar)
        self.model.update_scsi_mappings(self.vios, [])
        self.assertEqual([], self.servers())
        self.assertEqual([], self.vios.scsi_mappings)


class TestFibreChannel(MappingModelBase):

    def fc_item(self, lpar=None, port='fcs0', wwpns=None):
        item = new_item(lpar or self.lpar, **{'port.name': port})
        if wwpns:
            item['client.wwpn_text'] = wwpns
        return item

    def test_each_vios_gets_a_dual_port_card(self):
        model = built_model(self, systems=2)
        wwpns = [p.wwpn for v in model.vioses() for p in v.fc_ports]
        self.assertEqual(8, len(set(wwpns)))
        for vios in model.vioses():
            [card] = vios.io_slots
            self.assertEqual(card.ports, vios.fc_ports)
            self.assertEqual(['fcs0', 'fcs1'],
                             [p.name for p in card.ports])
            self.assertEqual(['1a' + card.drc_name + '-T1',
                              '1a' + card.drc_name + '-T2'],
                             [p.udid for p in card.ports])

    def test_new_mapping_with_client_wwpns(self):
        self.model.update_fc_mappings(self.vios, [self.fc_item(
            wwpns='C050760000000A00 C050760000000A01')])
        [vfc] = self.vios.fc_mappings
        self.assertEqual(('c050760000000a00', 'c050760000000a01'),
                         vfc.client.wwpns)
        self.assertEqual('vfchost0', vfc.server.name)
        self.assertIs(self.vios.fc_ports[0], vfc.port)
        self.assertEqual(63, vfc.port.available_ports)
        self.assertEqual(64, self.vios.fc_ports[1].available_ports)

    def test_server_assigns_wwpns_from_the_top_of_the_block(self):
        system = self.model.systems[0]
        available = system.available_wwpns
        self.model.update_fc_mappings(self.vios, [self.fc_item(),
                                                  self.fc_item()])
        issued = [w for m in self.vios.fc_mappings for w in m.client.wwpns]
        self.assertEqual(4, len(set(issued)))
        self.assertTrue(all(w.endswith(('ffff', 'fffe', 'fffd', 'fffc'))
                            for w in issued))
        self.assertEqual(available - 4, system.available_wwpns)

    def test_listed_mapping_gets_a_new_port(self):
        self.model.update_fc_mappings(self.vios, [self.fc_item(port=None)])
        [vfc] = self.vios.fc_mappings
        self.assertIsNone(vfc.port)
        [item] = as_posted(self.vios)['fc_mappings']
        item['port.name'] = 'fcs1'
        self.model.update_fc_mappings(self.vios, [item])
        self.assertIs(self.vios.fc_ports[1], vfc.port)
        self.assertEqual([vfc], self.vios.fc_mappings)

    def test_full_port_is_refused(self):
        self.vios.fc_ports[0].total_ports = 0
        self.assertRefused(mapping.PORT_FULL, 'has 0 free NPIV ports',
                           self.model.update_fc_mappings, self.vios,
                           [self.fc_item()])

    def test_unknown_port_is_refused(self):
        self.assertRefused(mapping.NO_PORT, 'fcs9 does not exist',
                           self.model.update_fc_mappings, self.vios,
                           [self.fc_item(port='fcs9')])

    def test_odd_wwpns_are_refused(self):
        self.assertRefused(mapping.BAD_WWPN, 'pair of distinct WWPNs',
                           self.model.update_fc_mappings, self.vios,
                           [self.fc_item(wwpns='c050760000000a00 '
                                               'c050760000000a00')])

    def test_dropped_mapping_frees_the_port(self):
        self.model.update_fc_mappings(self.vios, [self.fc_item()])
        self.model.update_fc_mappings(self.vios, [])
        self.assertEqual([], self.vios.fc_mappings)
        self.assertEqual([], self.servers())
        self.assertEqual([], self.model.client_adapters(
            self.lpar, mapping.FC_CLIENT))
        self.assertEqual(64, self.vios.fc_ports[0].available_ports)

    def test_posted_back_as_read_changes_nothing(self):
        self.model.update_fc_mappings(self.vios, [self.fc_item()])
        before = state(self.model)
        self.model.update_fc_mappings(self.vios,
                                      as_posted(self.vios)['fc_mappings'])
        self.assertEqual(before, state(self.model))
