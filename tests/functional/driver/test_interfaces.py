"""attach_interface and detach_interface on running instances, and an
instance's whole life with its network and config drive."""

from nova.compute import power_state
from nova import exception

from powervm_sim import faults
from tests.functional.driver import fixtures


class TestAttachDetach(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.first = fixtures.sea_vif(1)
        self.instance = self.spawn_with([self.first])

    def _macs(self):
        return sorted(cna.mac for cna in self.client_cnas(self.instance))

    def test_attach_and_detach_an_sea_vif(self):
        vif = fixtures.sea_vif(5, vlan=77)
        self.driver.attach_interface(self.context, self.instance,
                                     self.image_meta(), vif)
        self.assertEqual(['FA163E000001', 'FA163E000005'], self._macs())
        [cna] = [cna for cna in self.client_cnas(self.instance)
                 if cna.mac == 'FA163E000005']
        self.assertEqual(77, cna.pvid)
        self.driver.detach_interface(self.context, self.instance, vif)
        self.assertEqual(['FA163E000001'], self._macs())

    def test_attach_and_detach_an_ovs_vif(self):
        vif = fixtures.ovs_vif(6)
        self.driver.attach_interface(self.context, self.instance,
                                     self.image_meta(), vif)
        self.assertEqual(['FA163E000001', 'FA163E000006'], self._macs())
        self.assertEqual([vif['devname']],
                         [trunk.device_name for trunk in self.ovs_trunks()])
        self.assertEqual([('br-int', vif['devname'])], list(self.ovs_ports()))
        self.driver.detach_interface(self.context, self.instance, vif)
        self.assertEqual(['FA163E000001'], self._macs())
        self.assertEqual([], self.ovs_trunks())
        self.assertEqual({}, self.ovs_ports())

    def test_attach_waits_for_neutron(self):
        vif = fixtures.ovs_vif(6, active=False)
        self.driver.attach_interface(self.context, self.instance,
                                     self.image_meta(), vif)
        self.assertEqual(
            [(self.instance.uuid, [('network-vif-plugged', vif['id'])],
              300)], self.driver_fixture.virtapi.waits)

    def test_detach_of_a_vif_not_there(self):
        self.driver.detach_interface(self.context, self.instance,
                                     fixtures.sea_vif(9))
        self.assertEqual(['FA163E000001'], self._macs())

    def test_attach_refused_by_novalink_leaves_nothing(self):
        # The client adapter of an OVS VIF is refused after its trunk was
        # made: the trunk goes again.
        self.sim.faults.add(faults.FaultRule(
            outcome=faults.internal_error('Adapter create failed.'),
            method='PUT', resource_type='ClientNetworkAdapter',
            path=self.lpar_of(self.instance).uuid))
        vif = fixtures.ovs_vif(6)
        self.assertRaises(exception.InterfaceAttachFailed,
                          self.driver.attach_interface, self.context,
                          self.instance, self.image_meta(), vif)
        self.assertEqual(['FA163E000001'], self._macs())
        self.assertEqual([], self.ovs_trunks())
        self.assertEqual({}, self.ovs_ports())

    def test_attach_of_an_unsupported_type(self):
        self.assertRaises(exception.InterfaceAttachFailed,
                          self.driver.attach_interface, self.context,
                          self.instance, self.image_meta(),
                          fixtures.make_vif('vhostuser', 7))
        self.assertEqual(['FA163E000001'], self._macs())

    def test_attach_without_rmc_is_refused(self):
        # NovaLink changes a running LPAR's adapters only through RMC.
        self.lpar_of(self.instance).rmc_state = 'inactive'
        self.assertRaises(exception.InterfaceAttachFailed,
                          self.driver.attach_interface, self.context,
                          self.instance, self.image_meta(),
                          fixtures.sea_vif(5))
        self.assertEqual(['FA163E000001'], self._macs())

    def test_detach_refused_keeps_the_vif_working(self):
        vif = fixtures.ovs_vif(6)
        self.driver.attach_interface(self.context, self.instance,
                                     self.image_meta(), vif)
        self.lpar_of(self.instance).rmc_state = 'inactive'
        self.assertRaises(exception.InterfaceDetachFailed,
                          self.driver.detach_interface, self.context,
                          self.instance, vif)
        # The client adapter could not go, so its trunk and port stayed.
        self.assertEqual(['FA163E000001', 'FA163E000006'], self._macs())
        self.assertEqual(1, len(self.ovs_trunks()))
        self.assertEqual(1, len(self.ovs_ports()))

    def test_attach_to_a_missing_lpar(self):
        self.driver.destroy(self.context, self.instance, [self.first])
        self.assertRaises(exception.InterfaceAttachFailed,
                          self.driver.attach_interface, self.context,
                          self.instance, self.image_meta(),
                          fixtures.sea_vif(5))


class TestLifecycle(fixtures.DriverTestCase):

    def test_spawn_attach_detach_destroy(self):
        sea, ovs = fixtures.sea_vif(1), fixtures.ovs_vif(2)
        instance = self.make_instance(config_drive='True')
        self.spawn_with([sea, ovs], instance=instance)
        lpar_id = self.lpar_of(instance).partition_id
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(instance).state)
        self.assertEqual(2, len(self.client_cnas(instance)))
        self.assertEqual(1, len(self.mgmt_cnas(instance)))
        self.assertEqual(1, len(self.ovs_trunks()))
        self.assertEqual(1, len(self.vopt_mappings(lpar_id)))

        extra = fixtures.ovs_vif(3)
        self.driver.attach_interface(self.context, instance,
                                     self.image_meta(), extra)
        self.assertEqual(3, len(self.client_cnas(instance)))
        self.assertEqual(2, len(self.ovs_trunks()))
        self.driver.detach_interface(self.context, instance, extra)
        self.assertEqual(2, len(self.client_cnas(instance)))
        self.assertEqual([ovs['devname']],
                         [trunk.device_name for trunk in self.ovs_trunks()])

        self.driver.destroy(self.context, instance, [sea, ovs])
        self.assert_network_and_media_gone(instance)
        self.assert_storage_gone()
        self.assertEqual([], [cna for part in self.sim.model.lpars(
            self.system) for cna in self.sim.model.cnas(part)
            if cna.mac in ('FA163E000001', 'FA163E000002', 'FA163E000003')])
