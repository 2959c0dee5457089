"""The management partition platforms: NovaLink's device discovery on a
fake sysfs and /dev, consoles, lparcfg, loading by name."""

import os
from unittest import mock

import fixtures
from nova.console import type as console_type
from nova import exception
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
import testtools

from nova_powervm import conf
from nova_powervm import exception as pvm_nova_exc
from nova_powervm import mgmt
from powervm_sim import platform as sim_platform

UDID = '01M0lCTTIxNDUxMjQ2MDA1MDc2ODAxODI4MTAwMDAwMDAwMDAwMDAwMDM='
SLOT = 10
BUS = '3000000a'
INSTANCE_UUID = 'c0ffee00-0000-4000-8000-000000000001'


class FakeLinux:
    """sysfs and /dev of a partition under ``root``: a bus scan makes the
    disk's device appear, a write to its delete file makes it go.

    :param appears: how many devices a scan brings up for the UDID.
    :param goes: whether deleting the device removes it.
    """

    def __init__(self, root, appears=1, goes=True):
        self.root = root
        self.appears = appears
        self.goes = goes
        self.writes = []
        self.scan = self.path('sys/bus/vio/devices/%s/host0/scsi_host/'
                              'host0/scan' % BUS)
        self._touch(self.scan)
        os.makedirs(self.path('dev/disk/by-id'))

    def path(self, relative):
        return os.path.join(self.root, relative)

    @staticmethod
    def _touch(path, data=b''):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)

    def write_as_root(self, path, text):
        self.writes.append((path, text))
        if path == self.scan:
            for number in range(self.appears):
                self._add_device('sd%s' % 'bcd'[number], number)
        elif path.endswith('/device/delete') and self.goes:
            device = self.path('dev/%s' % path.split('/')[-3])
            by_id = self.path('dev/disk/by-id')
            for link in os.listdir(by_id):
                if os.path.realpath(os.path.join(by_id, link)) == device:
                    os.unlink(os.path.join(by_id, link))
            os.unlink(device)

    def _add_device(self, name, number):
        self._touch(self.path('dev/' + name), b'disk bytes')
        self._touch(self.path('sys/block/%s/device/delete' % name))
        # udev names the link after the disk's UDID (its end).
        os.symlink('../../' + name, self.path(
            'dev/disk/by-id/scsi-%d%s' % (number, UDID[-32:])))


class TestNovaLinkDisks(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.linux = FakeLinux(self.root)
        self.platform = mgmt.NovaLinkPlatform(
            sys_root=self.linux.path('sys'), dev_root=self.linux.path('dev'),
            proc_root=self.linux.path('proc'), timeout=0.2,
            poll_interval=0.01)
        self.useFixture(fixtures.MockPatchObject(
            mgmt.NovaLinkPlatform, '_write_as_root',
            side_effect=lambda path, text: self.linux.write_as_root(
                path, text)))
        self.chown = self.useFixture(fixtures.MockPatchObject(
            mgmt.NovaLinkPlatform, '_chown_as_root')).mock
        self.mapping = mock.Mock()
        self.mapping.backing_storage.udid = UDID
        self.mapping.client_adapter.lpar_slot_num = SLOT

    def test_scan_of_the_adapters_bus_finds_the_disk_by_udid(self):
        path = self.platform.discover_disk(None, self.mapping)
        self.assertEqual(os.path.realpath(self.linux.path('dev/sdb')), path)
        self.assertEqual([(self.linux.scan, '- - -')], self.linux.writes)

    def test_disk_that_never_appears(self):
        self.linux.appears = 0
        err = self.assertRaises(pvm_nova_exc.DiskDiscoveryFailed,
                                self.platform.discover_disk, None,
                                self.mapping)
        self.assertIn(UDID[-32:], str(err))
        self.assertIn('0 devices', str(err))

    def test_two_devices_with_the_udid(self):
        self.linux.appears = 2
        err = self.assertRaises(pvm_nova_exc.DiskDiscoveryFailed,
                                self.platform.discover_disk, None,
                                self.mapping)
        self.assertIn('2 devices', str(err))

    def test_adapter_without_scsi_host(self):
        self.mapping.client_adapter.lpar_slot_num = SLOT + 1
        err = self.assertRaises(pvm_nova_exc.DiskDiscoveryFailed,
                                self.platform.discover_disk, None,
                                self.mapping)
        self.assertIn('3000000b', str(err))
        self.assertEqual([], self.linux.writes)

    def test_remove_deletes_the_device(self):
        path = self.platform.discover_disk(None, self.mapping)
        self.platform.remove_disk(path)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(
            (self.linux.path('sys/block/sdb/device/delete'), '1'),
            self.linux.writes[-1])

    def test_device_that_does_not_go(self):
        path = self.platform.discover_disk(None, self.mapping)
        self.linux.goes = False
        self.assertRaises(pvm_nova_exc.DeviceRemovalFailed,
                          self.platform.remove_disk, path)

    def test_remove_of_a_device_sysfs_does_not_know(self):
        self.assertRaises(pvm_nova_exc.DeviceRemovalFailed,
                          self.platform.remove_disk,
                          self.linux.path('dev/sdz'))
        self.assertEqual([], self.linux.writes)

    def test_open_a_readable_device(self):
        path = self.platform.discover_disk(None, self.mapping)
        with self.platform.open_disk(path) as stream:
            self.assertEqual(b'disk bytes', stream.read())
        self.chown.assert_not_called()

    def test_open_a_device_only_root_reads(self):
        path = self.platform.discover_disk(None, self.mapping)
        self.useFixture(fixtures.MockPatch('nova_powervm.mgmt.os.access',
                                           return_value=False))
        owner = os.stat(path).st_uid
        with self.platform.open_disk(path) as stream:
            # Owned by us only while it was opened.
            self.assertEqual([mock.call(path, os.getuid()),
                              mock.call(path, owner)],
                             self.chown.call_args_list)
            self.assertEqual(b'disk bytes', stream.read())

    def test_lparcfg(self):
        FakeLinux._touch(self.linux.path('proc/ppc64/lparcfg'),
                         b'lparcfg 1.9\nserial_number=IBM,0221EE2D0\n'
                         b'partition_id=3\n\nR4=0x3c\n')
        self.assertEqual({'serial_number': 'IBM,0221EE2D0',
                          'partition_id': '3', 'R4': '0x3c'},
                         self.platform.lparcfg(None))
        self.assertEqual(3, mgmt.this_partition_id(self.platform, None))


class TestConsoles(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(conf.CONF))
        self.conf.config(server_proxyclient_address='192.0.2.9',
                         group='vnc')
        self.instance = mock.Mock(uuid=INSTANCE_UUID)
        self.lpar_uuid = '40FFEE00-0000-4000-8000-000000000001'
        self.vterm = self.useFixture(fixtures.MockPatch(
            'nova_powervm.mgmt.pvm_vterm', autospec=True)).mock

    def test_novalink_opens_a_remotable_console_behind_a_path(self):
        self.conf.config(vnc_use_x509_auth=True, vnc_ca_certs='/ca',
                         vnc_server_cert='/cert', vnc_server_key='/key',
                         group='powervm')
        self.vterm.open_remotable_vnc_vterm.return_value = 5901
        console = mgmt.get_vnc_console(mgmt.NovaLinkPlatform(),
                                       mock.sentinel.adapter, self.instance)
        self.vterm.open_remotable_vnc_vterm.assert_called_once_with(
            mock.sentinel.adapter, self.lpar_uuid, '192.0.2.9',
            vnc_path=self.lpar_uuid, use_x509_auth=True, ca_certs='/ca',
            server_cert='/cert', server_key='/key')
        self.assertIsInstance(console, console_type.ConsoleVNC)
        self.assertEqual(('192.0.2.9', 5901, self.lpar_uuid),
                         (console.host, console.port,
                          console.internal_access_path))

    def test_console_of_a_missing_lpar(self):
        self.vterm.open_remotable_vnc_vterm.side_effect = (
            pvm_exc.HttpNotFound(_response(404)))
        self.assertRaises(exception.InstanceNotFound, mgmt.get_vnc_console,
                          mgmt.NovaLinkPlatform(), None, self.instance)

    def test_console_novalink_cannot_open(self):
        self.vterm.open_remotable_vnc_vterm.side_effect = (
            pvm_exc.ConsoleNotLocal())
        self.assertRaises(exception.ConsoleTypeUnavailable,
                          mgmt.get_vnc_console, mgmt.NovaLinkPlatform(),
                          None, self.instance)

    def test_close_console_never_fails(self):
        platform = mgmt.NovaLinkPlatform()
        for failure in (pvm_exc.HttpNotFound(_response(404)),
                        pvm_exc.Error('rmvterm failed')):
            self.vterm.close_vterm.side_effect = failure
            mgmt.close_console(platform, mock.sentinel.adapter,
                               self.instance)
        self.vterm.close_vterm.assert_called_with(mock.sentinel.adapter,
                                                  self.lpar_uuid)


class TestLoading(testtools.TestCase):

    def test_platforms_by_entry_point_name(self):
        self.assertIsInstance(mgmt.load_platform('novalink'),
                              mgmt.NovaLinkPlatform)
        self.assertIsInstance(mgmt.load_platform('simulator'),
                              sim_platform.SimulatedPlatform)

    def test_configured_platform(self):
        fixture = self.useFixture(config_fixture.Config(conf.CONF))
        fixture.config(mgmt_platform='simulator', group='powervm')
        self.assertIsInstance(mgmt.load_platform(),
                              sim_platform.SimulatedPlatform)

    def test_unknown_platform_is_a_configuration_error(self):
        own = cfg.ConfigOpts()
        conf.register_opts(own)
        self.useFixture(config_fixture.Config(own)).config(
            mgmt_platform='hmc', group='powervm')
        err = self.assertRaises(conf.ConfigError, conf.validate, own)
        self.assertIn('mgmt_platform hmc', str(err))
        self.assertIn('novalink, simulator', str(err))


def _response(status):
    return pvm_adpt.Response('GET', '/rest/api/uom/LogicalPartition/x',
                             status, 'Not Found', {})
