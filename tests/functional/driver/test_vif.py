"""VIFs on spawn, plug_vifs and unplug_vifs, and neutron's plug events,
against the simulator."""

from nova import exception

from nova_powervm import vif as pvm_vif
from nova_powervm import vm
from tests.functional.driver import fixtures

_EXT_IDS = 'iface-id=%s,iface-status=active,attached-mac=%s,vm-uuid=%s'


class TestSpawnWithVifs(fixtures.DriverTestCase):

    def test_sea_vif_is_a_cna_on_its_vlan_of_the_default_switch(self):
        instance = self.spawn_with([fixtures.sea_vif(1, vlan=1234)])
        [cna] = self.client_cnas(instance)
        self.assertEqual(('FA163E000001', 1234, 'ETHERNET0', False),
                         (cna.mac, cna.pvid, cna.vswitch.name, cna.is_trunk))
        self.assertEqual([], self.ovs_trunks())

    def test_ovs_vif_is_a_cna_with_its_own_trunk_in_the_bridge(self):
        vif = fixtures.ovs_vif(2, mtu=1450)
        instance = self.spawn_with([vif])
        [cna] = self.client_cnas(instance)
        [trunk] = self.ovs_trunks()
        self.assertEqual('FA163E000002', cna.mac)
        self.assertEqual('NovaLinkVEABridge', cna.vswitch.name)
        # A VLAN of their own on the I/O switch.
        self.assertEqual(cna.pvid, trunk.pvid)
        self.assertIs(cna.vswitch, trunk.vswitch)
        self.assertEqual((vif['devname'], 'br-int', 1450),
                         (trunk.device_name, trunk.ovs_bridge, trunk.mtu))
        self.assertEqual(
            _EXT_IDS % (vif['id'], vif['address'], instance.uuid),
            trunk.ovs_ext_ids)
        self.assertEqual(
            {('br-int', vif['devname']): {
                'iface-id': vif['id'], 'iface-status': 'active',
                'attached-mac': vif['address'], 'vm-uuid': instance.uuid}},
            self.ovs_ports())

    def test_two_ovs_vifs_get_two_vlans(self):
        instance = self.spawn_with([fixtures.ovs_vif(2), fixtures.ovs_vif(3)])
        cnas = self.client_cnas(instance)
        self.assertEqual(2, len({cna.pvid for cna in cnas}))
        self.assertEqual({cna.pvid for cna in cnas},
                         {trunk.pvid for trunk in self.ovs_trunks()})
        self.assertEqual(2, len(self.ovs_ports()))

    def test_every_lpar_gets_one_rmc_management_adapter(self):
        instance = self.spawn_with([fixtures.sea_vif(1)])
        [mgmt] = self.mgmt_cnas(instance)
        self.assertEqual(pvm_vif.MGMT_VLAN, mgmt.pvid)

    def test_no_management_adapter_when_switched_off(self):
        self.flags(use_rmc_mgmt_vif=False, group='powervm')
        instance = self.spawn_with([fixtures.sea_vif(1)])
        self.assertEqual([], self.mgmt_cnas(instance))
        self.assertEqual(1, len(self.client_cnas(instance)))

    def test_unsupported_vif_type_is_refused_before_anything_is_made(self):
        vif = fixtures.make_vif('bridge', 3)
        err = self.assertRaises(exception.VirtualInterfacePlugException,
                                self.spawn_with, [vif])
        self.assertIn("type 'bridge'", str(err))
        self.assertEqual([], self.client_lpars())

    def test_sea_vif_without_a_vlan_is_refused_up_front(self):
        vif = fixtures.make_vif(pvm_vif.VIF_TYPE_SEA, 4)
        err = self.assertRaises(exception.VirtualInterfacePlugException,
                                self.spawn_with, [vif])
        self.assertIn('no VLAN', str(err))
        self.assertEqual([], self.client_lpars())

    def test_destroy_removes_adapters_trunks_and_ovs_ports(self):
        vifs = [fixtures.sea_vif(1), fixtures.ovs_vif(2),
                fixtures.ovs_vif(3)]
        instance = self.spawn_with(vifs)
        self.assertEqual(2, len(self.ovs_trunks()))
        self.driver.destroy(self.context, instance, vifs)
        self.assert_network_and_media_gone(instance)
        # The network bridge's own trunk adapters stay.
        self.assertTrue(all(
            sea.trunks for vios in self.sim.model.vioses(self.system)
            for sea in vios.seas))


class TestPlugAndUnplugVifs(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.vifs = [fixtures.sea_vif(1), fixtures.ovs_vif(2)]
        self.instance = self.spawn_with(self.vifs)

    def _adapters(self):
        return sorted((cna.mac, cna.pvid) for cna in
                      self.cnas_of(self.instance))

    def test_plug_vifs_of_a_complete_instance_changes_nothing(self):
        before = self._adapters()
        self.driver.plug_vifs(self.instance, self.vifs)
        self.assertEqual(before, self._adapters())
        self.assertEqual(1, len(self.ovs_trunks()))

    def test_plug_vifs_restores_a_lost_ovs_port(self):
        # The NovaLink partition rebooted: NovaLink kept the trunk, Open
        # vSwitch lost the port.
        partition = fixtures.sim_platform.partition_of(self.driver.adapter)
        [(bridge, port)] = list(self.ovs_ports())
        partition.remove_ovs_port(bridge, port)
        self.driver.plug_vifs(self.instance, self.vifs)
        self.assertEqual([(bridge, port)], list(self.ovs_ports()))

    def test_plug_vifs_adds_what_is_missing(self):
        self.driver.power_off(self.instance)
        self.driver.unplug_vifs(self.instance, self.vifs[1:])
        self.assertEqual(['FA163E000001'],
                         [cna.mac for cna in self.client_cnas(self.instance)])
        self.driver.plug_vifs(self.instance, self.vifs)
        self.assertEqual(['FA163E000001', 'FA163E000002'], sorted(
            cna.mac for cna in self.client_cnas(self.instance)))
        self.assertEqual(1, len(self.ovs_trunks()))
        self.assertEqual(1, len(self.mgmt_cnas(self.instance)))

    def test_unplug_vifs_removes_adapters_trunk_and_port(self):
        self.driver.unplug_vifs(self.instance, self.vifs)
        self.assertEqual([], self.client_cnas(self.instance))
        self.assertEqual([], self.ovs_trunks())
        self.assertEqual({}, self.ovs_ports())
        # Again: nothing left to unplug is fine.
        self.driver.unplug_vifs(self.instance, self.vifs)

    def test_unplug_vifs_of_a_missing_lpar(self):
        self.driver.destroy(self.context, self.instance, self.vifs)
        self.driver.unplug_vifs(self.instance, self.vifs)

    def test_plug_vifs_of_a_missing_lpar(self):
        # At nova-compute's start: only this exception is handled there.
        self.driver.destroy(self.context, self.instance, self.vifs)
        self.assertRaises(exception.VirtualInterfacePlugException,
                          self.driver.plug_vifs, self.instance, self.vifs)


class TestPlugEvents(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.virtapi = self.driver_fixture.virtapi

    def test_spawn_waits_for_the_ports_neutron_has_not_reported_up(self):
        self.flags(vif_plugging_timeout=120)
        down, up = fixtures.ovs_vif(2, active=False), fixtures.sea_vif(1)
        instance = self.spawn_with([up, down])
        self.assertEqual(
            [(instance.uuid, [('network-vif-plugged', down['id'])], 120)],
            self.virtapi.waits)

    def test_no_wait_for_ports_already_up(self):
        self.spawn_with([fixtures.sea_vif(1), fixtures.ovs_vif(2)])
        self.assertEqual([], self.virtapi.waits)

    def test_no_wait_without_a_timeout(self):
        self.flags(vif_plugging_timeout=0)
        self.spawn_with([fixtures.ovs_vif(2, active=False)])
        self.assertEqual([], self.virtapi.waits)

    def test_event_that_never_comes_fails_the_spawn_and_reverts(self):
        self.virtapi.outcome = self.virtapi.NEVER
        instance = self.make_instance(config_drive='True')
        self.assertRaises(exception.VirtualInterfaceCreateException,
                          self.spawn_with, [fixtures.sea_vif(1),
                                            fixtures.ovs_vif(2, active=False)],
                          instance=instance)
        self.assertEqual(1, len(self.virtapi.waits))
        self.assert_network_and_media_gone(instance)
        self.assert_storage_gone()

    def test_event_that_never_comes_is_ignored_unless_fatal(self):
        self.flags(vif_plugging_is_fatal=False)
        self.virtapi.outcome = self.virtapi.NEVER
        instance = self.spawn_with([fixtures.ovs_vif(2, active=False)])
        self.assertEqual(1, len(self.client_cnas(instance)))
        self.assertEqual('running', self.lpar_of(instance).state)

    def test_port_neutron_reports_failed(self):
        self.virtapi.outcome = self.virtapi.FAILED
        instance = self.make_instance()
        self.assertRaises(exception.VirtualInterfaceCreateException,
                          self.spawn_with, [fixtures.ovs_vif(2, active=False)],
                          instance=instance)
        self.assert_network_and_media_gone(instance)


class TestManagementVif(fixtures.DriverTestCase):

    def test_an_existing_management_adapter_is_kept(self):
        instance = self.spawn_with([])
        [mgmt] = self.mgmt_cnas(instance)
        self.driver.plug_vifs(instance, [])
        self.assertEqual([mgmt], self.mgmt_cnas(instance))

    def test_plug_vifs_adds_a_missing_management_adapter(self):
        self.flags(use_rmc_mgmt_vif=False, group='powervm')
        instance = self.spawn_with([], power_on=False)
        self.assertEqual([], self.mgmt_cnas(instance))
        self.flags(use_rmc_mgmt_vif=True, group='powervm')
        self.driver.plug_vifs(instance, [])
        [mgmt] = self.mgmt_cnas(instance)
        self.assertEqual(pvm_vif.MGMT_VLAN, mgmt.pvid)
        self.assertEqual(vm.get_pvm_uuid(instance).lower(),
                         mgmt.parent.uuid.lower())
