"""[powervm] options of VIFs and config drives: what validate refuses."""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from nova_powervm import conf


class TestNetworkOptions(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        conf.register_opts(self.conf)
        self.cfg = self.useFixture(config_fixture.Config(self.conf))
        self.conf(args=[], project='nova')

    def test_defaults_are_valid(self):
        conf.validate(self.conf)
        self.assertEqual('NovaLinkVEABridge',
                         self.conf.powervm.pvm_vswitch_for_novalink_io)
        self.assertTrue(self.conf.powervm.use_rmc_mgmt_vif)

    def test_ovs_switch_must_be_one_of_its_own(self):
        for name in ('ETHERNET0', 'mgmtswitch', '', ' '):
            self.cfg.config(pvm_vswitch_for_novalink_io=name,
                            group='powervm')
            err = self.assertRaises(conf.ConfigError, conf.validate,
                                    self.conf)
            self.assertIn('[powervm] pvm_vswitch_for_novalink_io', str(err))

    def test_media_volume_group_must_be_named(self):
        self.cfg.config(vopt_media_volume_group='', group='powervm')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('[powervm] vopt_media_volume_group', str(err))
