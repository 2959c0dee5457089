"""Servers on neutron ports: the VIF types the driver plugs, through nova.
"""

from pypowervm.wrappers import network as pvm_net

from nova_powervm import vif as pvm_vif
from tests.functional.nova import base

_HOST = 'host1'
_VLAN = 1234
_SEA_MAC = 'fa:16:3e:12:34:01'
_OVS_MAC = 'fa:16:3e:12:34:02'
_OVS_BRIDGE = 'br-int'


class TestNetwork(base.PowerVMTestCase):

    def setUp(self):
        super().setUp()
        self.start_powervm_compute(_HOST)
        self.system = self.system_of(_HOST)
        self.flavor_id = self.create_flavor()
        self.network = self.create_vlan_network(_VLAN)

    def cna_with_mac(self, server, mac):
        return pvm_vif.find_cna(self.client_cnas(server), mac)

    def test_sea_and_ovs_ports_become_adapters_and_go_with_the_server(self):
        sea_port = self.create_sea_port(self.network, _SEA_MAC)
        ovs_port = self.create_ovs_port(_OVS_MAC)
        server = self.boot_server(self.flavor_id, networks=[
            {'port': sea_port['id']}, {'port': ovs_port['id']}])

        self.assertEqual(2, len(self.client_cnas(server)))
        # pvm_sea: on the network's VLAN of the switch the SEAs bridge.
        sea = self.cna_with_mac(server, _SEA_MAC)
        self.assertEqual(pvm_net.VSW_DEFAULT_VSWITCH, sea.vswitch.name)
        self.assertEqual(_VLAN, sea.pvid)
        self.assertFalse(sea.is_trunk)
        # ovs: a VLAN of its own on the NovaLink I/O switch, shared only
        # with its trunk on the NovaLink partition, an Open vSwitch port.
        ovs = self.cna_with_mac(server, _OVS_MAC)
        self.assertEqual(base.OVS_VSWITCH, ovs.vswitch.name)
        [trunk] = self.ovs_trunks(self.system)
        self.assertEqual(ovs.pvid, trunk.pvid)
        self.assertEqual(('tap' + ovs_port['id'])[:14], trunk.device_name)
        self.assertEqual(_OVS_BRIDGE, trunk.ovs_bridge)
        # What neutron's OVS agent needs to find its port.
        self.assertEqual(
            {(_OVS_BRIDGE, trunk.device_name): {
                'iface-id': ovs_port['id'], 'iface-status': 'active',
                'attached-mac': _OVS_MAC, 'vm-uuid': server['id']}},
            self.ovs_ports(_HOST))
        # What nova reports of the server's interfaces is the same.
        self.assertEqual(
            {(sea_port['id'], _SEA_MAC), (ovs_port['id'], _OVS_MAC)},
            {(interface['port_id'], interface['mac_addr'])
             for interface in self.api.get_port_interfaces(server['id'])})

        self._delete_server(server)
        self.assertIsNone(self.lpar_of(server))
        self.assertEqual([], self.ovs_trunks(self.system))
        self.assertEqual({}, self.ovs_ports(_HOST))
        self.assertEqual([], self.client_lpars(self.system))

    def test_boot_waits_for_neutron_to_report_the_port_up(self):
        # The NeutronFixture turns the wait off; neutron's agent reports a
        # port that was down once it sees the adapter.
        self.flags(vif_plugging_timeout=120)
        port = self.create_sea_port(self.network, _SEA_MAC, status='DOWN')
        server = self.request_server(self.flavor_id,
                                     networks=[{'port': port['id']}])
        self.wait_for(lambda: self.cna_with_mac(server, _SEA_MAC),
                      'the adapter of port %s' % port['id'])
        # The deploy stops there: not powered on, still building.
        self.assertEqual('BUILD', self.api.get_server(server['id'])['status'])
        self.assertLparState(base.LPAR_OFF, server)

        self.api.create_server_external_events([{
            'name': 'network-vif-plugged', 'server_uuid': server['id'],
            'tag': port['id'], 'status': 'completed'}])
        server = self._wait_for_build(server, 'ACTIVE')
        self.assertLparState(base.LPAR_RUNNING, server)
