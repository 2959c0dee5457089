"""pypowervm's network tasks against the simulator: CNAs, point-to-point
trunk adapters, virtual networks, the network bridge and its SEAs, and the
requests NovaLink refuses.  Only pypowervm's public API talks to the
simulator; ``.model`` is read for assertions."""

from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import network_bridger
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import fixture


def network_state(model):
    """Everything a network request could change, etags included."""
    system = model.systems[0]
    adapters = sorted(
        (part.name, cna.slot, cna.mac, cna.pvid, tuple(cna.tagged_vlans),
         cna.trunk_priority or 0, cna.vswitch.name, cna.etag)
        for part in system.partitions for cna in model.cnas(part))
    networks = sorted((vnet.vswitch.name, vnet.vlan, vnet.name, vnet.tagged)
                      for vnet in model.virtual_networks(system))
    switches = sorted((vs.switch_id, vs.name, vs.mode, vs.etag)
                      for vs in system.vswitches)
    bridges = [(nb.etag, [(sea.device_name, [t.slot for t in sea.trunks])
                          for sea in nb.seas])
               for nb in model.network_bridges(system)]
    partitions = sorted((part.name, part.etag) for part in system.partitions)
    return adapters, networks, switches, bridges, partitions


class NetworkTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=2))
        self.model = self.sim.model
        self.system = self.model.systems[0]
        self.adapter = self.sim.adapter()
        self.sys_uuid = self.system.uuid
        self.lpar = [p for p in self.model.lpars() if not p.is_mgmt][0]
        self.mgmt = [p for p in self.model.lpars() if p.is_mgmt][0]
        self.vioses = self.model.vioses(self.system)

    def vswitch_w(self, name):
        return pvm_net.VSwitch.search(
            self.adapter, parent_type=pvm_ms.System,
            parent_uuid=self.sys_uuid, one_result=True, name=name)

    def vnets(self):
        return pvm_net.VNet.get(self.adapter,
                                parent_type=pvm_ms.System.schema_type,
                                parent_uuid=self.sys_uuid)

    def bridge_w(self):
        [bridge] = pvm_net.NetBridge.get(
            self.adapter, parent_type=pvm_ms.System,
            parent_uuid=self.sys_uuid)
        return bridge

    def lpar_w(self, part=None):
        return pvm_lpar.LPAR.get(self.adapter, uuid=(part or self.lpar).uuid)

    def vios_w(self, index=0):
        return pvm_vios.VIOS.get(self.adapter, uuid=self.vioses[index].uuid,
                                 xag=[pvm_const.XAG.VIO_NET])

    def assertRefused(self, status, text, func, *args, **kwargs):
        """``func`` fails with ``status`` and ``text`` and changes nothing
        in the network model."""
        before = network_state(self.model)
        exc = self.assertRaises(pvm_exc.HttpError, func, *args, **kwargs)
        self.assertEqual(status, exc.response.status)
        self.assertIn(text, exc.response.body)
        self.assertEqual(before, network_state(self.model))
        return exc

    def events_of(self, func, *args, **kwargs):
        """(event type, kind) of every registry change ``func`` makes."""
        seen = []

        def listener(event_type, resource, detail):
            seen.append((event_type, resource.kind))
        self.model.registry.subscribe(listener)
        self.addCleanup(self.model.registry.unsubscribe, listener)
        result = func(*args, **kwargs)
        return result, seen


class TestClientNetworkAdapters(NetworkTestBase):

    def test_named_vswitch(self):
        adpt = pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 7,
                               vswitch='MGMTSWITCH')
        self.assertEqual(1, adpt.vswitch_id)
        self.assertEqual(self.vswitch_w('MGMTSWITCH').related_href,
                         adpt.vswitch_uri)
        [cna] = self.model.cnas(self.lpar)
        self.assertEqual('MGMTSWITCH', cna.vswitch.name)
        self.assertFalse(adpt.is_trunk)

    def test_missing_vswitch_is_created_only_when_asked(self):
        self.assertRaises(pvm_exc.Error, pvm_cna.crt_cna, self.adapter,
                          None, self.lpar.uuid, 5, vswitch='tenant0')
        self.assertEqual(3, len(self.system.vswitches))
        adpt = pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 5,
                               vswitch='tenant0', crt_vswitch=True)
        vswitch = self.system.vswitches[-1]
        self.assertEqual(('tenant0', 3, 'Veb'),
                         (vswitch.name, vswitch.switch_id, vswitch.mode))
        self.assertEqual(3, adpt.vswitch_id)
        self.assertEqual(3, self.vswitch_w('tenant0').switch_id)

    def test_given_mac_and_slot_then_next_high_slot(self):
        adpt = pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 5,
                               mac_addr='fa:16:3e:00:00:01', slot_num=7)
        self.assertEqual('FA163E000001', adpt.mac)
        self.assertEqual(7, adpt.slot)
        self.assertTrue(adpt.loc_code.endswith('-V%d-C7' %
                                               self.lpar.partition_id))
        # Without a slot NovaLink takes the next slot above all in use.
        second = pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 5)
        self.assertEqual(8, second.slot)
        self.assertEqual([7, 8], sorted(c.slot for c in
                                        self.model.cnas(self.lpar)))

    def test_tagged_vlans(self):
        # pypowervm joins the list and then each character of the joined
        # text, so only one-digit VLANs survive crt_cna's addl_vlans.
        adpt = pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 20,
                               addl_vlans=['5', '7'])
        self.assertEqual([5, 7], adpt.tagged_vlans)
        self.assertTrue(adpt.is_tagged_vlan_supported)
        tagged = {v.vlan: v.tagged for v in self.vnets()}
        self.assertEqual({20: True, 5: True, 7: True},
                         {vlan: tagged[vlan] for vlan in (20, 5, 7)})

    def test_vlan_realizes_a_virtual_network_until_its_last_user_goes(self):
        etag = self.system.vswitches[0].etag
        adpt = pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 100)
        [vnet] = [v for v in self.vnets() if v.vlan == 100]
        self.assertEqual(('VLAN100-ETHERNET0', 0, True),
                         (vnet.name, vnet.vswitch_id, vnet.tagged))
        self.assertEqual([vnet.related_href],
                         list(adpt.get_href('VirtualNetworks/link')))
        self.assertIn(vnet.related_href,
                      self.vswitch_w('ETHERNET0').vnet_uri_list)
        self.assertNotEqual(etag, self.system.vswitches[0].etag)
        adpt.delete()
        self.assertEqual([], [v for v in self.vnets() if v.vlan == 100])
        self.assertEqual([], self.model.cnas(self.lpar))

    def system_network_doc(self):
        return self.adapter.read(pvm_ms.System.schema_type,
                                 root_id=self.sys_uuid,
                                 xag=['SystemNetwork']).body

    def test_create_emits_events_and_moves_etags(self):
        lpar_etag = self.lpar.etag
        system_doc = self.system_network_doc()
        adpt, events = self.events_of(pvm_cna.crt_cna, self.adapter, None,
                                      self.lpar.uuid, 300)
        self.assertIn(('ADD_URI', 'ClientNetworkAdapter'), events)
        self.assertIn(('ADD_URI', 'VirtualNetwork'), events)
        self.assertIn(('MODIFY_URI', 'VirtualSwitch'), events)
        # The partition document lists its adapters, the system document
        # its networks.
        self.assertIn(('MODIFY_URI', 'LogicalPartition'), events)
        self.assertIn(('MODIFY_URI', 'ManagedSystem'), events)
        self.assertNotEqual(lpar_etag, self.lpar.etag)
        [vnet] = [v for v in self.vnets() if v.vlan == 300]
        self.assertNotIn(vnet.related_href, system_doc)
        self.assertIn(vnet.related_href, self.system_network_doc())
        _, events = self.events_of(adpt.delete)
        self.assertIn(('DELETE_URI', 'ClientNetworkAdapter'), events)
        self.assertIn(('DELETE_URI', 'VirtualNetwork'), events)

    def test_update_moves_the_adapter_to_a_free_vlan(self):
        adpt = pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 1)
        adpt.enabled = False
        adpt = adpt.update()
        self.assertFalse(adpt.enabled)
        updated = pvm_cna.assign_free_vlan(
            self.adapter, None, self.vswitch_w('ETHERNET0'), adpt,
            ensure_enabled=True)
        # VLAN 1 is the SEA's; 2 is the first one no network uses.
        self.assertEqual(2, updated.pvid)
        self.assertTrue(updated.enabled)
        [cna] = self.model.cnas(self.lpar)
        self.assertEqual((2, True), (cna.pvid, cna.enabled))

    def test_management_partition_adapters(self):
        cnas = pvm_net.CNA.get(self.adapter, parent=self.lpar_w(self.mgmt),
                               xag=[pvm_const.XAG.ADV])
        public, rmc = sorted(cnas, key=lambda c: c.slot)
        self.assertEqual((1, 0, False), (public.pvid, public.vswitch_id,
                                         public.is_trunk))
        self.assertEqual('eth0', public.dev_name)
        self.assertEqual('192.168.1.10', public.ip_address)
        self.assertEqual((4094, 1, 1), (rmc.pvid, rmc.vswitch_id,
                                        rmc.trunk_pri))


class TestPointToPoint(NetworkTestBase):

    def test_p2p_through_the_management_partition(self):
        client, [trunk] = pvm_cna.crt_p2p_cna(
            self.adapter, None, self.lpar.uuid, [self.mgmt.uuid], 'ovs0',
            crt_vswitch=True, mac_addr='fa163e00aa01', dev_name='tap0',
            ovs_bridge='br-int', ovs_ext_ids='iface-id=port1',
            configured_mtu=1450)
        # The new switch has no VLAN in use: the first one is free.
        self.assertEqual((1, 1), (client.pvid, trunk.pvid))
        self.assertEqual('FA163E00AA01', client.mac)
        self.assertEqual(client.vswitch_id, trunk.vswitch_id)
        self.assertEqual((1, 'tap0', 'br-int', 'iface-id=port1', 1450),
                         (trunk.trunk_pri, trunk.dev_name, trunk.ovs_bridge,
                          trunk.ovs_ext_ids, trunk.configured_mtu))
        [listed] = [c for c in pvm_net.CNA.get(
            self.adapter, parent=self.lpar_w(self.mgmt)) if c.is_trunk and
            c.vswitch_id == trunk.vswitch_id]
        self.assertEqual((trunk.uuid, 1), (listed.uuid, listed.trunk_pri))
        self.assertEqual([trunk.uuid], [t.uuid for t in
                                        pvm_cna.find_trunks(self.adapter,
                                                            client)])
        client.delete()
        self.assertEqual([trunk.uuid], [t.uuid for t in
                                        pvm_cna.find_orphaned_trunks(
                                            self.adapter, 'ovs0')])
        trunk.delete()
        self.assertEqual([], self.model.cnas(self.lpar))
        self.assertNotIn('tap0', [c.device_name
                                  for c in self.model.cnas(self.mgmt)])
        vswitch = self.system.vswitches[-1]
        self.assertEqual([], vswitch.networks)

    def test_p2p_through_both_vioses(self):
        client, trunks = pvm_cna.crt_p2p_cna(
            self.adapter, None, self.lpar.uuid,
            [v.uuid for v in self.vioses], 'p2p', crt_vswitch=True)
        self.assertEqual([1, 2], [t.trunk_pri for t in trunks])
        found = pvm_cna.find_trunks(self.adapter, client)
        self.assertEqual([t.uuid for t in trunks], [t.uuid for t in found])
        for index, trunk in enumerate(trunks):
            vios_w = self.vios_w(index)
            [shown] = [t for t in vios_w.trunk_adapters
                       if t.vswitch_id == client.vswitch_id]
            self.assertEqual((client.pvid, index + 1, trunk.dev_name),
                             (shown.pvid, shown.trunk_pri, shown.dev_name))
            self.assertTrue(shown.dev_name.startswith('ent'))

    def test_free_vlans_per_switch(self):
        self.assertEqual(2, pvm_cna._find_free_vlan(
            self.adapter, self.vswitch_w('ETHERNET0')))
        self.assertEqual(1, pvm_cna._find_free_vlan(
            self.adapter, self.vswitch_w('MGMTSWITCH')))
        pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 2)
        [trunk] = pvm_cna.crt_trunk_with_free_vlan(
            self.adapter, None, [self.vioses[0].uuid], 'ETHERNET0',
            crt_vswitch=False)
        self.assertEqual((3, 1), (trunk.pvid, trunk.trunk_pri))
        vios = self.vioses[0]
        [cna] = [c for c in self.model.cnas(vios) if c.pvid == 3]
        self.assertTrue(cna.is_trunk)
        self.assertIn(cna, vios.trunk_adapters)


class TestVirtualNetworks(NetworkTestBase):

    def test_create_and_delete(self):
        eth0 = self.vswitch_w('ETHERNET0')
        vnet = pvm_net.VNet.bld(self.adapter, 'tenant-net', 1234,
                                eth0.related_href, True)
        vnet = vnet.create(parent_type=pvm_ms.System,
                           parent_uuid=self.sys_uuid)
        self.assertEqual(('tenant-net', 1234, 0, True),
                         (vnet.name, vnet.vlan, vnet.vswitch_id,
                          vnet.tagged))
        self.assertEqual(eth0.related_href, vnet.associated_switch_uri)
        self.assertIn(vnet.related_href,
                      self.vswitch_w('ETHERNET0').vnet_uri_list)
        model_vnet = self.model.get(vnet.uuid)
        self.assertFalse(model_vnet.realized)
        # An explicit network outlives its users.
        adpt = pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 1234)
        self.assertEqual([vnet.related_href],
                         list(adpt.get_href('VirtualNetworks/link')))
        adpt.delete()
        got = pvm_net.VNet.get(self.adapter, uuid=vnet.uuid,
                               parent_type=pvm_ms.System,
                               parent_uuid=self.sys_uuid)
        got.delete()
        self.assertNotIn(1234, [v.vlan for v in self.vnets()])
        self.assertIsNone(self.model.registry.find(vnet.uuid))

    def test_duplicate_vlan_on_a_switch(self):
        vnet = pvm_net.VNet.bld(self.adapter, 'again', 1,
                                self.vswitch_w('ETHERNET0').related_href,
                                False)
        self.assertRefused(409, 'HSCL1A0A', vnet.create,
                           parent_type=pvm_ms.System,
                           parent_uuid=self.sys_uuid)
        # The same VLAN on another switch is another network.
        other = pvm_net.VNet.bld(self.adapter, 'other', 1,
                                 self.vswitch_w('MGMTSWITCH').related_href,
                                 False)
        other.create(parent_type=pvm_ms.System, parent_uuid=self.sys_uuid)

    def test_vlan_out_of_range_and_unknown_switch(self):
        href = self.vswitch_w('ETHERNET0').related_href
        vnet = pvm_net.VNet.bld(self.adapter, 'big', 4095, href, True)
        self.assertRefused(400, 'VLAN 4095 is outside 1-4094', vnet.create,
                           parent_type=pvm_ms.System,
                           parent_uuid=self.sys_uuid)
        unknown = href[:-36] + '00000000-0000-4000-8000-000000000000'
        vnet = pvm_net.VNet.bld(self.adapter, 'lost', 10, unknown, True)
        self.assertRefused(400, 'HSCL1A02', vnet.create,
                           parent_type=pvm_ms.System,
                           parent_uuid=self.sys_uuid)

    def test_network_in_use_cannot_be_deleted(self):
        [vlan1] = [v for v in self.vnets() if v.vlan == 1 and
                   v.vswitch_id == 0]
        self.assertRefused(409, 'is in use', vlan1.delete)


class TestBadAdapters(NetworkTestBase):

    def eth0_href(self):
        return self.vswitch_w('ETHERNET0').related_href

    def test_pvid_out_of_range(self):
        for pvid in (0, 4095):
            self.assertRefused(400, 'HSCL1A05', pvm_cna.crt_cna,
                               self.adapter, None, self.lpar.uuid, pvid)
        # crt_cna mangles a two-digit additional VLAN into '5 0'.
        self.assertRefused(400, 'VLAN 0 is outside', pvm_cna.crt_cna,
                           self.adapter, None, self.lpar.uuid, 5,
                           addl_vlans=['50'])

    def test_unknown_vswitch_link_or_id(self):
        unknown = self.eth0_href()[:-36] + \
            '00000000-0000-4000-8000-000000000000'
        adpt = pvm_net.CNA.bld(self.adapter, 10, unknown)
        self.assertRefused(400, 'HSCL1A02 Virtual switch', adpt.create,
                           parent=self.lpar_w())
        adpt = pvm_net.CNA.bld(self.adapter, 10, self.eth0_href())
        adpt.element.remove(adpt.element.find('AssociatedVirtualSwitch'))
        adpt.set_parm_value('VirtualSwitchID', 9)
        self.assertRefused(400, 'Virtual switch 9 does not exist',
                           adpt.create, parent=self.lpar_w())
        # A link and an ID that disagree are refused too.
        adpt = pvm_net.CNA.bld(self.adapter, 10, self.eth0_href())
        adpt.set_parm_value('VirtualSwitchID', 1)
        self.assertRefused(400, 'does not match', adpt.create,
                           parent=self.lpar_w())

    def test_duplicate_mac(self):
        [public, _] = self.model.cnas(self.mgmt)
        self.assertRefused(409, 'HSCL1A07 MAC address %s' % public.mac,
                           pvm_cna.crt_cna, self.adapter, None,
                           self.lpar.uuid, 5, mac_addr=public.mac.lower())
        self.assertRefused(400, 'HSCL1A06', pvm_cna.crt_cna, self.adapter,
                           None, self.lpar.uuid, 5, mac_addr='not-a-mac')

    def test_slot_in_use(self):
        pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 5, slot_num=4)
        self.assertRefused(400, 'HSCL294C', pvm_cna.crt_cna, self.adapter,
                           None, self.lpar.uuid, 6, slot_num=4)

    def test_trunk_only_on_vios_or_management_partition(self):
        trunk = pvm_net.CNA.bld(self.adapter, 10, self.eth0_href(),
                                trunk_pri=1)
        self.assertRefused(400, 'HSCL1A08', trunk.create,
                           parent=self.lpar_w())
        trunk = pvm_net.CNA.bld(self.adapter, 10, self.eth0_href(),
                                trunk_pri=16)
        self.assertRefused(400, 'Trunk priority 16 is outside 1-15',
                           trunk.create, parent=self.vios_w())

    def test_malformed_element(self):
        adpt = pvm_net.CNA.bld(self.adapter, 10, self.eth0_href())
        adpt.pvid = 'ten'
        self.assertRefused(400, "'ten' is not a valid int", adpt.create,
                           parent=self.lpar_w())

    def test_running_partition_without_rmc(self):
        self.model.set_partition_state(self.lpar, 'running', 'inactive')
        self.assertRefused(409, 'HSCL1A0F', pvm_cna.crt_cna, self.adapter,
                           None, self.lpar.uuid, 5)

    def test_sea_trunk_is_changed_only_through_its_bridge(self):
        [trunk] = [c for c in pvm_net.CNA.get(
            self.adapter, parent=self.vios_w()) if c.is_trunk]
        self.assertRefused(409, 'HSCL1A0D', trunk.delete)
        trunk.pvid = 77
        self.assertRefused(409, 'through its network bridge', trunk.update)


class TestNetworkBridge(NetworkTestBase):

    def test_fresh_system_bridges_ethernet0(self):
        bridge = self.bridge_w()
        self.assertEqual((1, 0), (bridge.pvid, bridge.vswitch_id))
        self.assertEqual([1], [lg.pvid for lg in bridge.load_grps])
        self.assertEqual([1], bridge.list_vlans())
        self.assertEqual(2, len(bridge.load_grps[0].trunk_adapters))
        self.assertEqual([True, False], [s.is_primary for s in bridge.seas])
        self.assertEqual(['auto', 'auto'], [s.ha_mode for s in bridge.seas])
        for index, sea in enumerate(bridge.seas):
            vios = self.vioses[index]
            self.assertTrue(sea.vio_uri.lower().endswith(vios.uuid.lower()))
            self.assertEqual(('ent5', 1, 'ent4', index + 1),
                             (sea.dev_name, sea.pvid,
                              sea.primary_adpt.dev_name,
                              sea.primary_adpt.trunk_pri))
            backing = sea.backing_device
            self.assertEqual('ent0', backing.dev_name)
            self.assertEqual('U78CB.001.%s-P1-C%d-T1' % (
                self.system.serial, 10 + index),
                backing.element.findtext('PhysicalLocation'))
            # The VIOS document shows the same SEA and trunk adapter.
            vios_w = self.vios_w(index)
            [vios_sea] = vios_w.seas
            self.assertEqual((sea.dev_name, sea.pvid),
                             (vios_sea.dev_name, vios_sea.pvid))
            self.assertEqual([sea.primary_adpt.dev_name],
                             [t.dev_name for t in vios_w.trunk_adapters])
        [vlan1] = [v for v in self.vnets() if v.vlan == 1 and
                   v.vswitch_id == 0]
        self.assertEqual([vlan1.related_href], list(bridge.vnet_uri_list))
        self.assertFalse(vlan1.tagged)

    def test_ensure_and_remove_vlans(self):
        bridge = self.bridge_w()
        vios_etags = [v.etag for v in self.vioses]
        _, events = self.events_of(network_bridger.ensure_vlans_on_nb,
                                   self.adapter, self.sys_uuid, bridge.uuid,
                                   [100, 200])
        bridge = self.bridge_w()
        self.assertTrue(bridge.supports_vlan(100))
        self.assertEqual([1, 4094], [lg.pvid for lg in bridge.load_grps])
        self.assertEqual([100, 200], bridge.load_grps[1].tagged_vlans)
        for sea in self.model.network_bridges(self.system)[0].seas:
            self.assertEqual([(1, ()), (4094, (100, 200))],
                             [(t.pvid, t.tagged_vlans) for t in sea.trunks])
            self.assertEqual({sea.primary.trunk_priority},
                             {t.trunk_priority for t in sea.trunks})
        self.assertEqual(2, events.count(('ADD_URI',
                                          'ClientNetworkAdapter')))
        self.assertIn(('MODIFY_URI', 'NetworkBridge'), events)
        self.assertNotEqual(vios_etags, [v.etag for v in self.vioses])
        tagged = {v.vlan: v.tagged for v in self.vnets()}
        self.assertEqual((True, True, False),
                         (tagged[100], tagged[200], tagged[4094]))

        # Already there: nothing changes.
        etag = bridge.etag
        network_bridger.ensure_vlan_on_nb(self.adapter, self.sys_uuid,
                                          bridge.uuid, 100)
        self.assertEqual(etag, self.bridge_w().etag)

        network_bridger.remove_vlan_from_nb(self.adapter, self.sys_uuid,
                                            bridge.uuid, 100)
        self.assertEqual([1, 200], self.bridge_w().list_vlans())
        network_bridger.remove_vlan_from_nb(self.adapter, self.sys_uuid,
                                            bridge.uuid, 200)
        self.assertEqual([1], self.bridge_w().list_vlans())
        for vios in self.vioses:
            self.assertEqual([1], [t.pvid for t in vios.trunk_adapters])
        self.assertNotIn(4094, [v.vlan for v in self.vnets()
                                if v.vswitch_id == 0])

    def test_orphan_trunk_vlan_is_refused_by_pypowervm(self):
        [trunk] = pvm_cna.crt_trunk_with_free_vlan(
            self.adapter, None, [self.vioses[0].uuid], 'ETHERNET0',
            crt_vswitch=False)
        self.assertRaises(pvm_exc.OrphanVLANFoundOnProvision,
                          network_bridger.ensure_vlans_on_nb, self.adapter,
                          self.sys_uuid, self.bridge_w().uuid, [trunk.pvid])

    def test_load_groups_are_desired_state(self):
        href = self.vswitch_w('ETHERNET0').related_href
        made = [pvm_net.VNet.bld(self.adapter, name, vlan, href, tagged)
                .create(parent_type=pvm_ms.System, parent_uuid=self.sys_uuid)
                for name, vlan, tagged in (('arbitrary', 3000, False),
                                           ('tenant', 300, True))]
        bridge = self.bridge_w()
        bridge.load_grps.append(pvm_net.LoadGroup.bld(
            self.adapter, 3000, [v.related_href for v in made]))
        bridge = bridge.update()
        self.assertEqual([1, 3000], [lg.pvid for lg in bridge.load_grps])
        self.assertEqual([300], bridge.load_grps[1].tagged_vlans)
        self.assertEqual(2, len(bridge.load_grps[1].trunk_adapters))
        for vios in self.vioses:
            self.assertEqual([1, 3000], [t.pvid for t in vios.trunk_adapters])
        bridge.load_grps.remove(bridge.load_grps[1])
        bridge = bridge.update()
        self.assertEqual([1], [lg.pvid for lg in bridge.load_grps])
        for vios in self.vioses:
            self.assertEqual([1], [t.pvid for t in vios.trunk_adapters])


class TestBadBridgeUpdates(NetworkTestBase):

    def test_primary_trunk_cannot_be_removed(self):
        bridge = self.bridge_w()
        bridge.seas[0].replace_list('TrunkAdapters', [])
        self.assertRefused(400, 'HSCL1A0E The primary trunk adapter',
                           bridge.update)

    def test_vlan_twice_on_one_sea(self):
        bridge = self.bridge_w()
        vswitch = self.vswitch_w('ETHERNET0')
        sea = bridge.seas[0]
        sea.addl_adpts.append(pvm_net.TrunkAdapter.bld(
            self.adapter, 4000, [1], vswitch, trunk_pri=1))
        self.assertRefused(400, 'VLAN 1 is on two trunk adapters',
                           bridge.update)

    def test_sea_and_load_groups_changed_together(self):
        bridge = self.bridge_w()
        vswitch = self.vswitch_w('ETHERNET0')
        bridge.seas[0].addl_adpts.append(pvm_net.TrunkAdapter.bld(
            self.adapter, 4000, [10], vswitch, trunk_pri=1))
        [vlan1] = [v for v in self.vnets() if v.vlan == 1]
        bridge.load_grps.append(pvm_net.LoadGroup.bld(
            self.adapter, 4001, [vlan1.related_href]))
        self.assertRefused(400, 'not both', bridge.update)

    def test_load_group_with_an_unknown_network(self):
        bridge = self.bridge_w()
        [vlan1] = [v for v in self.vnets() if v.vlan == 1]
        missing = vlan1.related_href[:-36] + \
            '00000000-0000-4000-8000-000000000000'
        bridge.load_grps.append(pvm_net.LoadGroup.bld(
            self.adapter, 4001, [missing]))
        self.assertRefused(400, 'does not exist', bridge.update)

    def test_stale_etag(self):
        bridge = self.bridge_w()
        network_bridger.ensure_vlans_on_nb(self.adapter, self.sys_uuid,
                                           bridge.uuid, [100])
        bridge.seas[0].addl_adpts.append(pvm_net.TrunkAdapter.bld(
            self.adapter, 4000, [10], self.vswitch_w('ETHERNET0'),
            trunk_pri=1))
        self.assertRefused(412, 'has changed', bridge.update)

    def test_vios_without_rmc(self):
        vios = self.vioses[1]
        self.model.set_partition_state(vios, 'running', 'inactive')
        self.assertRefused(409, 'HSCL1A0F', network_bridger.ensure_vlans_on_nb,
                           self.adapter, self.sys_uuid,
                           self.bridge_w().uuid, [100])
        self.assertEqual([1], [t.pvid for t in vios.trunk_adapters])
