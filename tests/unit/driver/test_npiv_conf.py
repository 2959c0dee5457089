"""The NPIV fabric options: fabric_<name>_port_wwpns for each name in
[powervm] fabrics, read from a real configuration file."""

import os
import tempfile

from oslo_config import cfg
import testtools

from nova_powervm import conf

_PORT_1 = '10000090FA1B2C3D'
_PORT_2 = '10:00:00:90:fa:1b:2c:3e'


class TestFabricOptions(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        conf.register_opts(self.conf)

    def load(self, text):
        fd, path = tempfile.mkstemp(suffix='.conf')
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, 'w') as f:
            f.write('[powervm]\n' + text)
        self.conf(args=['--config-file', path], project='nova')

    def test_each_named_fabric_has_its_ports(self):
        # B's option is known only from the fabrics the file names.
        self.load('fc_attach_strategy = npiv\nfabrics = A,B\n'
                  'fabric_A_port_wwpns = %s\n'
                  'fabric_B_port_wwpns = %s,%s\n' % (_PORT_1, _PORT_1,
                                                     _PORT_2))
        conf.validate(self.conf)
        self.assertEqual({'A': [_PORT_1], 'B': [_PORT_1, _PORT_2]},
                         conf.fabric_port_wwpns(self.conf))

    def test_only_the_named_fabrics_count(self):
        self.load('fabrics = B\nfabric_A_port_wwpns = %s\n'
                  'fabric_B_port_wwpns = %s\n' % (_PORT_1, _PORT_2))
        self.assertEqual({'B': [_PORT_2]}, conf.fabric_port_wwpns(self.conf))

    def test_a_port_that_is_no_wwpn_is_refused_naming_the_option(self):
        self.load('fabrics = A,B\nfabric_B_port_wwpns = %s,10000090FA1B\n'
                  % _PORT_1)
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('[powervm] fabric_B_port_wwpns', str(err))
        self.assertIn('10000090FA1B', str(err))

    def test_npiv_refuses_a_fabric_without_ports(self):
        self.load('fc_attach_strategy = NPIV\nfabrics = A,B\n'
                  'fabric_A_port_wwpns = %s\n' % _PORT_1)
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('[powervm] fabric_B_port_wwpns', str(err))

    def test_npiv_refuses_no_fabric_at_all(self):
        self.load('fc_attach_strategy = npiv\nfabrics =\n')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('[powervm] fabrics', str(err))

    def test_vscsi_needs_no_fabric_ports(self):
        self.load('')
        conf.validate(self.conf)
        self.assertEqual({'A': []}, conf.fabric_port_wwpns(self.conf))

    def test_at_most_eight_ports_per_fabric(self):
        # NovaLink hands out at most 8 WWPN pairs at a time.
        self.load('ports_per_fabric = 9\n')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('[powervm] ports_per_fabric', str(err))

    def test_the_sample_file_documents_the_default_fabrics_option(self):
        [(_group, opts)] = conf.list_opts()
        opt = {o.name: o for o in opts}['fabric_A_port_wwpns']
        self.assertIn('fabric_<name>_port_wwpns', opt.help)
