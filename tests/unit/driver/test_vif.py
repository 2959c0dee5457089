"""VIF logic that needs no NovaLink: MACs, VIF fields, driver choice."""

from unittest import mock

import fixtures
import hypothesis
from hypothesis import strategies as st
from nova import exception
from nova.network import model as network_model
from oslo_config import fixture as config_fixture
import testtools

from nova_powervm import conf
from nova_powervm import vif as pvm_vif

_PORT_ID = '5c2a1b3e-7d64-4c7e-9f0e-1a2b3c4d5e6f'


def _vif(**fields):
    values = {'id': _PORT_ID, 'address': 'fa:16:3e:12:ab:0c',
              'type': pvm_vif.VIF_TYPE_OVS,
              'network': network_model.Network(bridge='br-int')}
    values.update(fields)
    return network_model.VIF(**values)


class TestMacs(testtools.TestCase):

    def test_nova_to_novalink(self):
        self.assertEqual('FA163E12AB0C', pvm_vif.pvm_mac('fa:16:3e:12:ab:0c'))

    def test_other_notations(self):
        for mac in ('FA-16-3E-12-AB-0C', 'fa16.3e12.ab0c', ' fa163e12ab0c ',
                    'FA163E12AB0C'):
            self.assertEqual('FA163E12AB0C', pvm_vif.pvm_mac(mac), mac)

    def test_novalink_to_nova(self):
        self.assertEqual('fa:16:3e:12:ab:0c', pvm_vif.nova_mac('FA163E12AB0C'))

    def test_not_a_mac(self):
        for bad in ('', 'fa:16:3e:12:ab', 'fa:16:3e:12:ab:0c:00',
                    'fa:16:3e:12:ab:0g', None):
            self.assertRaises(ValueError, pvm_vif.pvm_mac, bad)
            self.assertRaises(ValueError, pvm_vif.nova_mac, bad)

    @hypothesis.given(st.binary(min_size=6, max_size=6))
    def test_round_trip(self, raw):
        nova_form = ':'.join('%02x' % byte for byte in raw)
        novalink_form = pvm_vif.pvm_mac(nova_form)
        self.assertEqual(raw.hex().upper(), novalink_form)
        self.assertEqual(nova_form, pvm_vif.nova_mac(novalink_form))


class TestVifFields(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(conf.CONF))

    def test_sea_vlan_from_the_binding_details(self):
        for vlan in (100, '100'):
            self.assertEqual(100, pvm_vif.sea_vlan(
                _vif(details={network_model.VIF_DETAILS_VLAN: vlan})))

    def test_sea_vif_without_a_usable_vlan(self):
        for details in ({}, {'vlan': None}, {'vlan': 'x'}, {'vlan': 0},
                        {'vlan': pvm_vif.MGMT_VLAN}):
            err = self.assertRaises(
                exception.VirtualInterfacePlugException, pvm_vif.sea_vlan,
                _vif(details=details))
            self.assertIn(_PORT_ID, str(err))

    def test_ovs_external_ids(self):
        instance = mock.Mock(uuid='0c5d3c3e-0000-4000-8000-000000000001')
        self.assertEqual(
            'iface-id=%s,iface-status=active,attached-mac=fa:16:3e:12:ab:0c,'
            'vm-uuid=%s' % (_PORT_ID, instance.uuid),
            pvm_vif.ovs_external_ids(_vif(address='FA163E12AB0C'), instance))

    def test_ovs_interface_id_wins_over_the_port_id(self):
        ids = pvm_vif.ovs_external_ids(_vif(ovs_interfaceid='other'),
                                       mock.Mock(uuid='u'))
        self.assertTrue(ids.startswith('iface-id=other,'))

    def test_trunk_device_name(self):
        self.assertEqual('tapabc', pvm_vif.trunk_device_name(
            _vif(devname='tapabc')))
        name = pvm_vif.trunk_device_name(_vif(devname=None))
        self.assertEqual(('nic' + _PORT_ID)[:network_model.NIC_NAME_LEN],
                         name)

    def test_ovs_bridge_defaults_to_novas_integration_bridge(self):
        self.conf.config(ovs_bridge='br-test', group='neutron')
        self.assertEqual('br-int', pvm_vif.ovs_bridge(_vif()))
        self.assertEqual('br-test', pvm_vif.ovs_bridge(
            _vif(network=network_model.Network())))


class TestDriverChoice(testtools.TestCase):

    def test_driver_per_type(self):
        self.assertIsInstance(
            pvm_vif.driver_for(None, None, _vif(type='pvm_sea')),
            pvm_vif.SeaVifDriver)
        self.assertIsInstance(
            pvm_vif.driver_for(None, None, _vif(type='ovs')),
            pvm_vif.OvsVifDriver)

    def test_bad_fields_are_refused_up_front(self):
        for vif in (_vif(address='fa:16:3e'), _vif(type='pvm_sea')):
            self.assertRaises(exception.VirtualInterfacePlugException,
                              pvm_vif.check_supported, [vif])

    def test_unsupported_type_is_named(self):
        for vif_type in ('bridge', 'pvm_sriov', None):
            err = self.assertRaises(
                exception.VirtualInterfacePlugException,
                pvm_vif.check_supported, [_vif(type='ovs'),
                                          _vif(type=vif_type)])
            self.assertIn(repr(vif_type), str(err))
            self.assertIn('ovs, pvm_sea', str(err))

    def test_nothing_to_check(self):
        pvm_vif.check_supported(None)
        pvm_vif.check_supported([])

    def test_find_cna_compares_macs_in_any_notation(self):
        cnas = [mock.Mock(mac='FA163E000001'), mock.Mock(mac='FA163E12AB0C')]
        self.assertIs(cnas[1], pvm_vif.find_cna(cnas, 'fa:16:3e:12:ab:0c'))
        self.assertIsNone(pvm_vif.find_cna(cnas, 'fa:16:3e:12:ab:0d'))


class TestPlugRefusals(testtools.TestCase):
    """A VIF that cannot be plugged is refused before NovaLink is asked.
    """

    def setUp(self):
        super().setUp()
        self.adapter = mock.Mock()
        self.cna = self.useFixture(fixtures.MockPatch(
            'nova_powervm.vif.pvm_cna', autospec=True)).mock

    def test_bad_mac(self):
        driver = pvm_vif.SeaVifDriver(self.adapter, mock.Mock())
        self.assertRaises(exception.VirtualInterfacePlugException,
                          driver.plug, _vif(address='nope',
                                            details={'vlan': 5}), [])
        self.assertEqual([], self.adapter.method_calls)
        self.assertEqual([], self.cna.method_calls)

    def test_sea_without_vlan(self):
        driver = pvm_vif.SeaVifDriver(self.adapter, mock.Mock())
        self.assertRaises(exception.VirtualInterfacePlugException,
                          driver.plug, _vif(type='pvm_sea'), [])
        self.assertEqual([], self.cna.method_calls)

    def test_existing_adapter_is_kept(self):
        driver = pvm_vif.SeaVifDriver(self.adapter, mock.Mock())
        created = driver.plug(_vif(type='pvm_sea', details={'vlan': 5}),
                              [mock.Mock(mac='FA163E12AB0C')])
        self.assertFalse(created)
        self.assertEqual([], self.cna.method_calls)
