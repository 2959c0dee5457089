"""The network model: the built network, CNA and trunk rules, realized
virtual networks, and network bridge updates as desired state (and how a
NetworkBridge document renders and parses back)."""

from lxml import etree
import testtools

from powervm_sim import model as model_mod
from powervm_sim.model import builder
from powervm_sim.model import network
from powervm_sim.wire import spec
from powervm_sim.wire.schemas import network as net_schema
from powervm_sim.wire.schemas import partition as part_schema


def built_model(test, vioses=2, lpars=1):
    model = model_mod.Model()
    builder.build(model, systems=1, vioses=vioses, lpars=lpars)
    test.addCleanup(model.content.close)
    return model


def snapshot(model):
    """The values and etags a refused request must leave alone."""
    system = model.systems[0]
    adapters = sorted((p.name, c.slot, c.mac, c.pvid, c.tagged_vlans,
                       c.trunk_priority or 0, c.etag)
                      for p in system.partitions for c in model.cnas(p))
    vnets = sorted((v.vswitch.name, v.vlan, v.etag)
                   for v in model.virtual_networks(system))
    bridges = [(b.etag, [[t.slot for t in sea.trunks] for sea in b.seas])
               for b in model.network_bridges(system)]
    etags = sorted(o.etag for o in system.partitions + system.vswitches)
    return adapters, vnets, bridges, etags, len(model.registry)


def posted(bridge):
    """The bridge's fields as a client echoes them back."""
    def trunk(cna):
        return {'slot': cna.slot, 'pvid': cna.pvid,
                'tagged_vlan_text': ' '.join(map(str, cna.tagged_vlans)),
                'tagged_vlans_supported': cna.tagged_vlans_supported,
                'trunk_priority': cna.trunk_priority,
                'vswitch_href': cna.vswitch.href,
                'vswitch_id': cna.vswitch.switch_id}
    return {
        'seas': [{'vios_href': sea.vios.href, 'device_name': sea.device_name,
                  'trunks': [trunk(t) for t in sea.trunks]}
                 for sea in bridge.seas],
        'load_groups': [{'pvid': group.pvid,
                         'vnet_hrefs': [{'href': h}
                                        for h in group.vnet_hrefs]}
                        for group in bridge.load_groups]}


def new_trunk(pvid, tagged, priority=1, switch_id=0):
    return {'use_next_high_slot': True, 'pvid': pvid,
            'tagged_vlan_text': ' '.join(map(str, tagged)),
            'tagged_vlans_supported': bool(tagged),
            'trunk_priority': priority, 'vswitch_id': switch_id}


class ModelTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        self.system = self.model.systems[0]
        self.eth0, self.mgmtswitch = self.system.vswitches[:2]
        self.lpar = [p for p in self.model.lpars() if not p.is_mgmt][0]
        self.mgmt = [p for p in self.model.lpars() if p.is_mgmt][0]
        self.vioses = self.model.vioses(self.system)
        [self.bridge] = self.model.network_bridges(self.system)

    def assertRefused(self, status, text, func, *args, **kwargs):
        before = snapshot(self.model)
        exc = self.assertRaises(model_mod.Conflict, func, *args, **kwargs)
        self.assertEqual(status, exc.status)
        self.assertIn(text, str(exc))
        self.assertEqual(before, snapshot(self.model))
        return exc

    def vnet(self, vswitch, vlan):
        return vswitch.network(vlan)


class TestBuiltNetwork(ModelTestBase):

    def test_each_vios_bridges_ethernet0_through_a_sea(self):
        self.assertEqual(2, len(self.bridge.seas))
        self.assertTrue(self.bridge.failover)
        self.assertEqual((1, self.eth0), (self.bridge.pvid,
                                          self.bridge.vswitch))
        for number, (vios, sea) in enumerate(
                zip(self.vioses, self.bridge.seas, strict=True), start=1):
            self.assertEqual([sea], vios.seas)
            self.assertIs(vios, sea.vios)
            self.assertEqual(('ent5', 'ent0', 'ent4', 1, number),
                             (sea.device_name, sea.port.device_name,
                              sea.primary.device_name, sea.pvid,
                              sea.primary.trunk_priority))
            self.assertEqual(vios.trunk_adapters, sea.trunks)
            self.assertEqual('192.168.1.%d' % (20 + number),
                             sea.ip_interface.address)
        self.assertEqual([True, False],
                         [sea.is_primary for sea in self.bridge.seas])

    def test_used_vlans_have_realized_networks(self):
        vlan1 = self.vnet(self.eth0, 1)
        rmc = self.vnet(self.mgmtswitch, 4094)
        self.assertEqual(('VLAN1-ETHERNET0', True, False),
                         (vlan1.name, vlan1.realized, vlan1.tagged))
        self.assertEqual('VLAN4094-MGMTSWITCH', rmc.name)
        self.assertEqual([vlan1.href], self.bridge.vnet_hrefs)
        self.assertEqual([], self.system.vswitches[2].networks)

    def test_novalink_partition_adapters(self):
        public, rmc = self.model.cnas(self.mgmt)
        self.assertEqual(('eth0', self.eth0, 1, None, '192.168.1.10'),
                         (public.device_name, public.vswitch, public.pvid,
                          public.trunk_priority, public.ip_address))
        self.assertEqual(('eth1', self.mgmtswitch, 4094, 1),
                         (rmc.device_name, rmc.vswitch, rmc.pvid,
                          rmc.trunk_priority))
        self.assertEqual([public.href], self.mgmt.cna_hrefs)


class TestAdapters(ModelTestBase):

    def create(self, part=None, **fields):
        fields.setdefault('vswitch_id', 0)
        fields.setdefault('pvid', 10)
        return self.model.create_cna(part or self.lpar, fields)

    def test_slots(self):
        self.assertEqual(2, self.create().slot)
        self.assertEqual(9, self.create(slot=9).slot)
        self.assertEqual(10, self.create(use_next_high_slot=True).slot)
        self.assertEqual(3, self.create(use_next_slot=True).slot)

    def test_device_names(self):
        vios = self.vioses[0]
        trunk = self.create(vios, trunk_priority=1)
        self.assertEqual('ent6', trunk.device_name)
        self.assertIsNone(self.create().device_name)
        self.assertEqual('eth2', self.create(self.mgmt).device_name)
        self.assertEqual('tap9', self.create(
            self.mgmt, device_name='tap9').device_name)
        self.assertRefused(409, 'Device tap9 already exists', self.create,
                           self.mgmt, device_name='tap9')

    def test_refusals_change_nothing(self):
        cases = [
            (400, 'VLAN 4095 is outside', {'pvid': 4095}),
            (400, 'need TaggedVLANSupported',
             {'tagged_vlan_text': '5', 'tagged_vlans_supported': False}),
            (400, 'at most 20 tagged VLANs',
             {'tagged_vlan_text': ' '.join(map(str, range(100, 121)))}),
            (400, 'must all differ', {'tagged_vlan_text': '10'}),
            (400, 'not a list of numbers', {'tagged_vlan_text': '1,2'}),
            (400, 'cannot host a trunk adapter', {'trunk_priority': 1}),
            (400, 'HSCL1A02', {'vswitch_id': 7}),
            (400, 'HSCL1A06', {'mac': '12345'}),
            (409, 'HSCL1A07', {'mac': self.model.cnas(self.mgmt)[0].mac}),
            (400, 'HSCL294D', {'slot': 0}),
        ]
        for status, text, fields in cases:
            self.assertRefused(status, text, self.create, None, **fields)
        self.assertRefused(400, 'Trunk priority 0 is outside', self.create,
                           self.vioses[0], trunk_priority=0)

    def test_update_validates_before_it_changes(self):
        cna = self.create()
        self.assertRefused(400, 'outside', self.model.update_cna, cna,
                           {'pvid': 11, 'tagged_vlan_text': '0'})
        self.assertRefused(400, 'cannot become one', self.model.update_cna,
                           cna, {'pvid': 11, 'trunk_priority': 2})
        self.model.update_cna(cna, {'pvid': 11, 'tagged_vlan_text': '12',
                                    'tagged_vlans_supported': True})
        self.assertEqual((11, (12,)), (cna.pvid, cna.tagged_vlans))
        self.assertIsNone(self.vnet(self.eth0, 10))
        self.assertTrue(self.vnet(self.eth0, 12).tagged)

    def test_delete_of_a_sea_trunk_is_refused(self):
        self.assertRefused(409, 'belongs to Shared Ethernet Adapter ent5',
                           self.model.delete_cna,
                           self.bridge.seas[0].primary)


class TestVirtualNetworks(ModelTestBase):

    def test_realized_network_follows_its_users(self):
        first = self.model.create_cna(self.lpar, {'vswitch_id': 0,
                                                  'pvid': 50})
        second = self.model.create_cna(self.lpar, {'vswitch_id': 0,
                                                   'pvid': 50})
        vnet = self.vnet(self.eth0, 50)
        self.assertEqual((True, True), (vnet.realized, vnet.tagged))
        self.assertEqual([vnet.href], first.vnet_hrefs)
        self.model.delete_cna(first)
        self.assertIs(vnet, self.vnet(self.eth0, 50))
        self.model.delete_cna(second)
        self.assertIsNone(self.vnet(self.eth0, 50))
        self.assertIsNone(self.model.registry.find(vnet.uuid))

    def test_explicit_network_stays_and_is_not_duplicated(self):
        vnet = self.model.create_virtual_network(self.system, {
            'name': 'net', 'vlan': 60, 'vswitch_href': self.eth0.href,
            'tagged': True})
        cna = self.model.create_cna(self.lpar, {'vswitch_id': 0,
                                                'pvid': 60})
        self.assertEqual([vnet.href], cna.vnet_hrefs)
        self.assertRefused(409, 'is in use',
                           self.model.delete_virtual_network, vnet)
        self.model.delete_cna(cna)
        self.assertIs(vnet, self.vnet(self.eth0, 60))
        self.assertRefused(409, 'already has virtual network net',
                           self.model.create_virtual_network, self.system,
                           {'name': 'again', 'vlan': 60, 'vswitch_id': 0})
        self.model.delete_virtual_network(vnet)
        self.assertIsNone(self.vnet(self.eth0, 60))

    def test_network_needs_name_vlan_and_switch(self):
        for fields, text in (({'vlan': 5, 'vswitch_id': 0}, 'NetworkName'),
                             ({'name': 'n', 'vswitch_id': 0},
                              'NetworkVLANID'),
                             ({'name': 'n', 'vlan': 5}, 'No virtual switch')):
            self.assertRefused(400, text, self.model.create_virtual_network,
                               self.system, fields)


class TestSwitches(ModelTestBase):

    def test_switch_rules(self):
        vswitch = self.model.create_vswitch(self.system, {'name': 'x'})
        self.assertEqual((3, 'Veb'), (vswitch.switch_id, vswitch.mode))
        self.assertRefused(409, 'already exists', self.model.create_vswitch,
                           self.system, {'name': 'x'})
        self.assertRefused(400, 'Switch mode', self.model.create_vswitch,
                           self.system, {'name': 'y', 'mode': 'Hub'})
        for number in range(4, network.MAX_VSWITCHES):
            self.model.create_vswitch(self.system, {'name': 's%d' % number})
        self.assertRefused(409, 'already has 16', self.model.create_vswitch,
                           self.system, {'name': 'one too many'})


class TestBridgeUpdates(ModelTestBase):

    def update(self, fields):
        return self.model.update_network_bridge(self.bridge, fields)

    def test_unchanged_post_changes_nothing(self):
        before = snapshot(self.model)
        self.update(posted(self.bridge))
        self.assertEqual(before, snapshot(self.model))

    def test_sea_trunks_are_desired_state(self):
        fields = posted(self.bridge)
        for number, sea in enumerate(fields['seas'], start=1):
            sea['trunks'].append(new_trunk(4094, [100, 200], number))
        del fields['load_groups']
        etags = [v.etag for v in self.vioses] + [self.bridge.etag]
        self.update(fields)
        self.assertNotEqual(etags, [v.etag for v in self.vioses] +
                            [self.bridge.etag])
        for vios, sea in zip(self.vioses, self.bridge.seas, strict=True):
            primary, added = sea.trunks
            self.assertEqual((4094, (100, 200), 'ent6'),
                             (added.pvid, added.tagged_vlans,
                              added.device_name))
            self.assertEqual(primary.slot + 1, added.slot)
            self.assertIn(added, vios.adapters)
            self.assertIs(added, self.model.registry.find(added.uuid))
        self.assertEqual([(1, ()), (4094, (100, 200))],
                         [(g.pvid, g.tagged) for g in self.bridge.load_groups])
        self.assertFalse(self.vnet(self.eth0, 4094).tagged)
        self.assertTrue(self.vnet(self.eth0, 100).tagged)

        fields = posted(self.bridge)
        for sea in fields['seas']:
            sea['trunks'][1]['tagged_vlan_text'] = '200'
        self.update(fields)
        self.assertIsNone(self.vnet(self.eth0, 100))
        fields = posted(self.bridge)
        for sea in fields['seas']:
            del sea['trunks'][1]
        removed = self.bridge.seas[0].trunks[1]
        self.update(fields)
        self.assertEqual([[1], [1]], [[t.pvid for t in sea.trunks]
                                      for sea in self.bridge.seas])
        self.assertIsNone(self.model.registry.find(removed.uuid))
        self.assertNotIn(removed, self.vioses[0].adapters)

    def test_only_the_changed_vios_moves(self):
        fields = posted(self.bridge)
        fields['seas'][0]['trunks'].append(new_trunk(4000, [5]))
        # A SEA posted without its trunk adapters keeps them.
        del fields['seas'][1]['trunks']
        del fields['load_groups']
        etags = [vios.etag for vios in self.vioses]
        self.update(fields)
        self.assertEqual([[1, 4000], [1]], [[t.pvid for t in sea.trunks]
                                            for sea in self.bridge.seas])
        self.assertNotEqual(etags[0], self.vioses[0].etag)
        self.assertEqual(etags[1], self.vioses[1].etag)

    def test_load_groups_are_desired_state(self):
        tenant = self.model.create_virtual_network(self.system, {
            'name': 'tenant', 'vlan': 300, 'vswitch_id': 0, 'tagged': True})
        fields = posted(self.bridge)
        fields['load_groups'].append(
            {'pvid': 3000, 'vnet_hrefs': [{'href': tenant.href}]})
        self.update(fields)
        self.assertEqual([(1, ()), (3000, (300,))],
                         [(g.pvid, g.tagged) for g in self.bridge.load_groups])
        self.assertEqual([2, 2], [len(g.trunks)
                                  for g in self.bridge.load_groups])
        self.assertEqual([1, 2], [sea.trunks[1].trunk_priority
                                  for sea in self.bridge.seas])
        fields = posted(self.bridge)
        del fields['load_groups'][1]
        self.update(fields)
        self.assertEqual([1], [g.pvid for g in self.bridge.load_groups])

    def test_refused_updates_change_nothing(self):
        def edited(edit):
            fields = posted(self.bridge)
            edit(fields)
            return fields

        def add_trunk(*args, **kwargs):
            return lambda f: f['seas'][0]['trunks'].append(
                new_trunk(*args, **kwargs))

        cases = [
            (lambda f: f['seas'][0]['trunks'].pop(0), 'primary trunk'),
            (lambda f: f['seas'][0]['trunks'][0].update(pvid=2),
             'primary trunk'),
            (lambda f: f['seas'].pop(), 'cannot add or remove'),
            (lambda f: f['seas'][0]['trunks'][0].update(slot=77),
             'Slot 77 is not a trunk adapter'),
            (add_trunk(4000, [1]), 'VLAN 1 is on two trunk adapters'),
            (add_trunk(4000, [5], priority=16), 'Trunk priority 16'),
            (add_trunk(4000, [5], switch_id=1), 'must be on switch'),
            (add_trunk(4000, [5], switch_id=9), 'HSCL1A02'),
            (lambda f: [f['seas'][0]['trunks'].append(new_trunk(v, [])) for
                        v in range(2000, 2016)], 'at most 16 trunk'),
            (lambda f: (f['seas'][0]['trunks'].append(new_trunk(9, [])),
                        f['load_groups'].append({'pvid': 8})), 'not both'),
            (lambda f: f['load_groups'].append(
                {'pvid': 8, 'vnet_hrefs': [{'href': '/x/VirtualNetwork/'
                                                    'nothing'}]}),
             'does not exist'),
            (lambda f: f['load_groups'].append(
                {'pvid': 8, 'vnet_hrefs': [{'href': self.vnet(
                    self.mgmtswitch, 4094).href}]}), 'not on ETHERNET0'),
            (lambda f: f['load_groups'].append({'pvid': 1}),
             'same port VLAN'),
        ]
        for edit, text in cases:
            self.assertRefused(400, text, self.update, edited(edit))

    def test_vlan_of_another_bridge_on_the_switch(self):
        vios = self.vioses[0]
        port = network.EthernetPort(device_name='ent1',
                                    location_code='U78CB.001.X-P1-C9-T2')
        sea = self.model.add_shared_ethernet_adapter(vios, self.eth0, port,
                                                     pvid=2)
        other = self.model.add_network_bridge(self.system, [sea])
        self.assertEqual([self.bridge, other],
                         self.model.network_bridges(self.system))
        fields = posted(self.bridge)
        fields['seas'][0]['trunks'].append(new_trunk(4000, [2]))
        self.assertRefused(409, 'already bridged by network bridge %s' %
                           other.uuid, self.update, fields)

    def test_no_rmc_to_the_vios(self):
        self.model.set_partition_state(self.vioses[1], 'running', 'inactive')
        fields = posted(self.bridge)
        fields['seas'][1]['trunks'].append(new_trunk(4000, [5], 2))
        self.assertRefused(409, 'HSCL1A0F', self.update, fields)


class TestDocuments(ModelTestBase):

    def render(self, schema, obj, groups=None):
        xml = spec.Renderer('http://sim', groups).object(schema, obj)
        return etree.fromstring(xml)

    def test_bridge_round_trip_is_a_no_op(self):
        element = self.render(net_schema.NETWORK_BRIDGE, self.bridge)
        fields = spec.parse(net_schema.NETWORK_BRIDGE, element)
        self.assertEqual([1], [lg['pvid'] for lg in fields['load_groups']])
        self.assertEqual([[(t['slot'], t['pvid'], t['trunk_priority'])
                           for t in sea['trunks']] for sea in fields['seas']],
                         [[(t.slot, 1, t.trunk_priority)
                           for t in sea.trunks] for sea in self.bridge.seas])
        before = snapshot(self.model)
        self.model.update_network_bridge(self.bridge, fields)
        self.assertEqual(before, snapshot(self.model))

    def test_vios_network_sections_are_read_only(self):
        vios = self.vioses[0]
        element = self.render(part_schema.VIOS, vios)
        fields = spec.parse(part_schema.VIOS, element)
        [sea] = fields['seas']
        self.assertEqual({'vios_href', 'trunks'}, set(sea))
        # Only links come through; no value a client could change.
        self.assertEqual([{'vswitch_href', 'vnet_hrefs'}],
                         [set(trunk) for trunk in sea['trunks']])
        self.assertNotIn('seas', spec.parse(
            part_schema.VIOS, self.render(part_schema.VIOS, vios,
                                          groups=frozenset())))

    def test_client_adapter_shows_no_trunk_priority(self):
        cna = self.model.create_cna(self.lpar, {'vswitch_id': 0, 'pvid': 9})
        element = self.render(net_schema.CNA, cna)
        names = {spec.local_name(child) for child in element}
        self.assertNotIn('TrunkPriority', names)
        self.assertNotIn('TaggedVLANIDs', names)
        self.assertIn('VirtualNetworks', names)
        trunk = self.render(net_schema.CNA, self.bridge.seas[0].primary)
        self.assertEqual('1', trunk.findtext('{%s}TrunkPriority' %
                                             spec.UOM_NS))
