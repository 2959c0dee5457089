"""How the Swift back end logs on, from the [powervm] options (no I/O:
swiftclient connects on first use)."""

import testtools

from nova_powervm.nvram import swift
from tests.unit import powervm_conf


class TestSwiftConnection(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = self.useFixture(powervm_conf.PowerVMConf())
        self.conf = self.cfg.conf
        self.cfg.config(nvram_store='swift',
                        swift_auth_url='https://keystone.example:5000/v3',
                        swift_username='nvram', swift_password='secret',
                        swift_project_name='service',
                        swift_user_domain_name='Users',
                        swift_project_domain_name='Projects',
                        swift_endpoint_type='internalURL',
                        swift_cacert='/etc/ca.pem', request_timeout=7)

    def connection(self):
        return swift.SwiftStore(self.conf.powervm)._connection()

    def test_keystone_v3(self):
        connection = self.connection()
        self.assertEqual(('https://keystone.example:5000/v3', 'nvram',
                          'secret', '3', '/etc/ca.pem', 7),
                         (connection.authurl, connection.user,
                          connection.key, connection.auth_version,
                          connection.cacert, connection.timeout))
        self.assertEqual({'endpoint_type': 'internalURL',
                          'project_name': 'service',
                          'user_domain_name': 'Users',
                          'project_domain_name': 'Projects'},
                         connection.os_options)
        # The manager tries again itself.
        self.assertEqual(0, connection.retries)

    def test_v1_takes_no_keystone_scope(self):
        self.cfg.config(swift_auth_version=1)
        connection = self.connection()
        self.assertEqual('1', connection.auth_version)
        self.assertEqual({'endpoint_type': 'internalURL'},
                         connection.os_options)

    def test_each_thread_keeps_its_connection(self):
        store = swift.SwiftStore(self.conf.powervm)
        self.assertIs(store._connection(), store._connection())
