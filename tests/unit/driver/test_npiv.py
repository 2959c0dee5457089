"""How an instance's NPIV port maps are kept in its system_metadata: the
format nova-powervm 9.0.0 wrote, which nova's 255-character values
bound."""

import testtools

from nova_powervm.volume import npiv


def port_maps(count, fabric_digit=0):
    """``count`` port maps (physical port WWPN, "virtual WWPN pair")."""
    return [('10000090FA%d%05X' % (fabric_digit, n),
             'C05076%010X C05076%010X' % (2 * n, 2 * n + 1))
            for n in range(count)]


class TestSystemMetadata(testtools.TestCase):

    def test_one_map_is_port_and_pair_comma_separated(self):
        sysmeta = {}
        npiv.store_port_maps(sysmeta, 'A', [('P1', 'V1 V2')])
        self.assertEqual({'npiv_adpt_wwpns_A': 'P1,V1,V2'}, sysmeta)

    def test_what_nova_powervm_wrote_reads_back(self):
        sysmeta = {'npiv_adpt_wwpns_A': 'P1,V1,V2,P2,V3,V4,P3,V5,V6,P4,V7,V8',
                   'npiv_adpt_wwpns_A_2': 'P5,V9,V10'}
        self.assertEqual([('P1', 'V1 V2'), ('P2', 'V3 V4'), ('P3', 'V5 V6'),
                          ('P4', 'V7 V8'), ('P5', 'V9 V10')],
                         npiv.stored_port_maps(sysmeta, 'A'))

    def test_four_maps_a_key_and_values_fit_nova(self):
        sysmeta = {}
        maps = port_maps(9)
        npiv.store_port_maps(sysmeta, 'A', maps)
        self.assertEqual(['npiv_adpt_wwpns_A', 'npiv_adpt_wwpns_A_2',
                          'npiv_adpt_wwpns_A_3'], sorted(sysmeta))
        self.assertEqual([12, 12, 3], [len(sysmeta[key].split(','))
                                       for key in sorted(sysmeta)])
        self.assertLessEqual(max(len(value) for value in sysmeta.values()),
                             255)
        self.assertEqual(maps, npiv.stored_port_maps(sysmeta, 'A'))

    def test_fewer_maps_leave_no_overflow_key_behind(self):
        sysmeta = {}
        npiv.store_port_maps(sysmeta, 'A', port_maps(9))
        npiv.store_port_maps(sysmeta, 'A', port_maps(1))
        self.assertEqual(['npiv_adpt_wwpns_A'], list(sysmeta))
        self.assertEqual(port_maps(1), npiv.stored_port_maps(sysmeta, 'A'))

    def test_fabrics_and_other_keys_keep_apart(self):
        sysmeta = {'image_base_image_ref': 'x'}
        npiv.store_port_maps(sysmeta, 'A2', port_maps(5, 2))
        npiv.store_port_maps(sysmeta, 'A', port_maps(9))
        npiv.store_port_maps(sysmeta, 'A', port_maps(2))
        self.assertEqual(port_maps(5, 2), npiv.stored_port_maps(sysmeta,
                                                                'A2'))
        self.assertEqual(port_maps(2), npiv.stored_port_maps(sysmeta, 'A'))
        self.assertEqual('x', sysmeta['image_base_image_ref'])

    def test_a_fabric_never_stored_has_no_maps(self):
        self.assertEqual([], npiv.stored_port_maps({}, 'A'))
