"""The volume connector cinder's back ends see: this host's FC WWPNs (with
NPIV the instance's own), the iSCSI initiator name of its VIOSes, and its
storage IP address."""

from powervm_sim import faults
from tests.functional.driver import fixtures

_DISCOVERY = 'ISCSIDiscovery'


class TestVolumeConnector(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.flags(my_ip='192.0.2.7', my_block_storage_ip='198.51.100.9')

    def first_active_vios(self):
        return [vios for vios in self.sim.model.vioses(self.system)
                if vios.is_running and vios.rmc_state == 'active'][0]

    def test_connector_names_fc_iscsi_and_the_storage_ip(self):
        connector = self.driver.get_volume_connector(self.make_instance())
        self.assertEqual(self.first_active_vios().iscsi_initiator,
                         connector['initiator'])
        self.assertTrue(connector['initiator'].startswith('iqn.'))
        self.assertEqual('198.51.100.9', connector['ip'])
        self.assertEqual(fixtures.HOST, connector['host'])
        self.assertEqual(sorted(
            port.wwpn.lower()
            for vios in self.sim.model.vioses(self.system)
            for port in vios.fc_ports if port.total_ports),
            sorted(connector['wwpns']))

    def test_the_initiator_is_discovered_once(self):
        # A rule that only counts the discovery jobs.
        discoveries = self.sim.faults.add(faults.FaultRule(
            outcome=faults.DelayOnly(), job=_DISCOVERY))
        first = self.driver.get_volume_connector(None)
        second = self.driver.get_volume_connector(None)
        self.assertEqual(first, second)
        self.assertEqual(
            1, self.sim.faults.counters()['by_rule'][discoveries])

    def test_failed_discovery_leaves_fc_and_is_tried_again(self):
        rule = self.sim.faults.add(faults.FaultRule(
            outcome=faults.JobFailure('iSCSI is not configured'),
            job=_DISCOVERY, max_count=1))
        connector = self.driver.get_volume_connector(None)
        self.assertNotIn('initiator', connector)
        self.assertTrue(connector['wwpns'])
        self.assertIn('iSCSI initiator', self.stdlog.logger.output)
        self.assertEqual(1, self.sim.faults.counters()['by_rule'][rule])
        connector = self.driver.get_volume_connector(None)
        self.assertEqual(self.first_active_vios().iscsi_initiator,
                         connector['initiator'])

    def port_wwpns(self, *names):
        return [port.wwpn for vios in self.sim.model.vioses(self.system)
                for port in vios.fc_ports if port.name in names]

    def use_npiv(self):
        # Fabric A (the default fabric) on the first port of each VIOS.
        self.flags(fc_attach_strategy='npiv',
                   fabric_A_port_wwpns=self.port_wwpns('fcs0'),
                   group='powervm')

    def test_npiv_gives_the_instances_wwpns_and_keeps_the_rest(self):
        self.use_npiv()
        self.flags(volume_use_multipath=True, group='powervm')
        instance = self.make_instance()
        connector = self.driver.get_volume_connector(instance)
        self.assertEqual(self.first_active_vios().iscsi_initiator,
                         connector['initiator'])
        self.assertEqual('198.51.100.9', connector['ip'])
        self.assertTrue(connector['multipath'])
        self.assertEqual('%s_%s' % (fixtures.HOST, instance.name),
                         connector['host'])
        # The virtual WWPNs of one pair (ports_per_fabric on fabric A),
        # no port's.
        self.assertEqual(2, len(set(connector['wwpns'])))
        self.assertFalse(set(connector['wwpns']) & {
            port.lower() for port in self.port_wwpns('fcs0', 'fcs1')})

    def test_npiv_host_names_keep_20_characters_of_the_host(self):
        # Arrays limit the length of their hosts' names.
        self.use_npiv()
        self.driver.init_host('compute-host-with-a-long-name')
        instance = self.make_instance()
        self.assertEqual('compute-host-with-a-_%s' % instance.name,
                         self.driver.get_volume_connector(instance)['host'])
