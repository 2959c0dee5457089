"""The [powervm] option group: defaults, validation, generator listing."""

import os
import tempfile

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from nova_powervm import conf


class TestPowerVMOptions(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        conf.register_opts(self.conf)
        self.cfg = self.useFixture(config_fixture.Config(self.conf))

    def _load(self, text):
        fd, path = tempfile.mkstemp(suffix='.conf')
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, 'w') as f:
            f.write('[powervm]\n' + text)
        self.conf(args=['--config-file', path], project='nova')

    def test_defaults_are_local_file_auth_and_valid(self):
        self._load('')
        conf.validate(self.conf)
        self.assertEqual('localhost', self.conf.powervm.host)
        self.assertTrue(conf.uses_file_auth(self.conf.powervm))
        self.assertEqual(0.1, self.conf.powervm.proc_units_factor)
        self.assertEqual('localdisk', self.conf.powervm.disk_driver)

    def test_out_of_range_value_is_rejected_naming_the_option(self):
        self._load('proc_units_factor = 5\n')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('[powervm] proc_units_factor', str(err))
        self.assertIn('less than or equal to 1', str(err))

    def test_unknown_choice_is_rejected(self):
        self._load('disk_driver = nfs\n')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('disk_driver', str(err))
        self.assertIn('nfs', str(err))

    def test_non_numeric_value_is_rejected(self):
        self._load('uncapped_proc_weight = heavy\n')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('uncapped_proc_weight', str(err))

    def test_username_without_password_is_rejected(self):
        self._load('host = 10.0.0.5\nusername = padmin\n')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('username and password must be set together', str(err))

    def test_file_auth_to_a_remote_host_is_rejected(self):
        self._load('host = novalink.example.com\n')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('novalink.example.com', str(err))
        self.assertIn('local file authentication', str(err))

    def test_password_auth_to_a_remote_host_is_valid(self):
        self._load('host = 10.0.0.5\nusername = padmin\npassword = pw\n')
        conf.validate(self.conf)
        self.assertFalse(conf.uses_file_auth(self.conf.powervm))

    def test_password_is_secret(self):
        opts = {o.name: o for o in conf.ALL_OPTS}
        self.assertTrue(opts['password'].secret)

    def test_bad_fabric_name_is_rejected(self):
        self._load('fabrics = A,B-2\n')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('B-2', str(err))

    def test_list_opts_names_the_group_with_help_for_every_option(self):
        [(group, opts)] = conf.list_opts()
        self.assertEqual('powervm', group.name)
        self.assertEqual(len(conf.ALL_OPTS), len(opts))
        for opt in opts:
            self.assertTrue(opt.help, opt.name)
