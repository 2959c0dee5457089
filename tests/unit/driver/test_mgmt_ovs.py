"""The NovaLink partition's Open vSwitch edge, through os-vif's OVSDB
library (mocked: there is no Open vSwitch here)."""

from unittest import mock

import fixtures
import testtools

from nova_powervm import mgmt


class TestNovaLinkOvs(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.load = self.useFixture(fixtures.MockPatch(
            'nova_powervm.mgmt.os_vif_ovs.OvsPlugin.load')).mock
        self.ovsdb = self.load.return_value.ovsdb
        self.platform = mgmt.NovaLinkPlatform()

    def test_plug_makes_the_trunk_device_a_neutron_port(self):
        self.platform.plug_ovs_port(mock.sentinel.adapter, 'br-int',
                                    'tap5c2a1b3e-7d', 'port-1',
                                    'fa:16:3e:00:00:01', 'inst-1')
        self.ovsdb.create_ovs_vif_port.assert_called_once_with(
            'br-int', 'tap5c2a1b3e-7d', 'port-1', 'fa:16:3e:00:00:01',
            'inst-1')
        # os-vif's OVS plugin options ([os_vif_ovs]) configure it.
        self.load.assert_called_once_with('ovs')

    def test_unplug_leaves_the_device_to_novalink(self):
        self.platform.unplug_ovs_port(mock.sentinel.adapter, 'br-int',
                                      'tap5c2a1b3e-7d')
        self.ovsdb.delete_ovs_vif_port.assert_called_once_with(
            'br-int', 'tap5c2a1b3e-7d', delete_netdev=False)

    def test_one_connection_for_all_ports(self):
        for number in range(3):
            self.platform.plug_ovs_port(None, 'br-int', 'tap%d' % number,
                                        'port', 'mac', 'inst')
        self.platform.unplug_ovs_port(None, 'br-int', 'tap0')
        self.load.assert_called_once_with('ovs')

    def test_nothing_connects_when_the_driver_loads(self):
        mgmt.NovaLinkPlatform()
        self.load.assert_not_called()
