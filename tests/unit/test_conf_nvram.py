"""The [powervm] NVRAM store options."""

import testtools

from nova_powervm import conf
from tests.unit import powervm_conf


class TestNVRAMStoreOptions(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = self.useFixture(powervm_conf.PowerVMConf())
        self.conf = self.cfg.conf

    def test_defaults_are_nova_powervm_s(self):
        group = self.conf.powervm
        conf.validate(self.conf)
        self.assertEqual('none', group.nvram_store)
        self.assertEqual('powervm_nvram', group.swift_container)
        self.assertEqual(3, group.swift_auth_version)
        self.assertEqual('publicURL', group.swift_endpoint_type)

    def test_unknown_store_is_rejected(self):
        self.cfg.config(nvram_store='s3')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('[powervm] nvram_store s3', str(err))
        self.assertIn('none, swift', str(err))

    def test_swift_needs_where_and_a_password(self):
        self.cfg.config(nvram_store='swift')
        err = self.assertRaises(conf.ConfigError, conf.validate, self.conf)
        self.assertIn('swift_auth_url', str(err))
        self.cfg.config(swift_auth_url='https://ks/v3',
                        swift_password='secret')
        conf.validate(self.conf)

    def test_swift_password_is_secret_and_auth_version_1_or_3(self):
        opts = {opt.name: opt for opt in conf.nvram_opts}
        self.assertTrue(opts['swift_password'].secret)
        self.assertEqual([1, 3],
                         list(opts['swift_auth_version'].type.choices))
