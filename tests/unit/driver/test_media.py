"""The config drive image and the names and VIFs that go with it."""

import io
import json
import types
from unittest import mock

from nova.network import model as network_model
from oslo_config import fixture as config_fixture
import pycdlib
import testtools

from nova_powervm import conf
from nova_powervm import media

_META_DATA = {'uuid': '0c5d3c3e-0000-4000-8000-000000000001',
              'hostname': 'vm1', 'meta': {'role': 'web'}}
_FILES = [
    ('ec2/latest/meta-data.json', b'{"instance-id": "i-00000001"}'),
    ('openstack/latest/meta_data.json', json.dumps(_META_DATA)),
    ('openstack/latest/user_data', b'#cloud-config\n'),
    ('openstack/latest/vendor_data.json', b'{}'),
    ('openstack/latest/vendor_data2.json', b'{}'),
    ('openstack/latest/network_data.json', b'{"links": []}'),
    ('openstack/content/0000', b'\x00\xffbinary'),
]


def _read(iso, **path):
    out = io.BytesIO()
    iso.get_file_from_iso_fp(out, **path)
    return out.getvalue()


class TestWriteIso(testtools.TestCase):

    def setUp(self):
        super().setUp()
        image = io.BytesIO()
        media.write_iso(_FILES, image, publisher='nova test')
        image.seek(0)
        self.iso = pycdlib.PyCdlib()
        self.iso.open_fp(image)
        self.addCleanup(self.iso.close)

    def test_meta_data_reads_back(self):
        data = _read(self.iso, rr_path='/openstack/latest/meta_data.json')
        self.assertEqual(_META_DATA, json.loads(data))

    def test_every_file_under_every_name_scheme(self):
        # Rock Ridge (Linux, AIX), Joliet (Windows) and the primary ISO
        # 9660 names all keep nova's paths.
        for path, data in _FILES:
            if isinstance(data, str):
                data = data.encode('utf-8')
            for scheme in ('rr_path', 'joliet_path', 'iso_path'):
                self.assertEqual(data, _read(self.iso, **{scheme: '/' + path}),
                                 '%s %s' % (scheme, path))

    def test_volume_label_is_what_cloud_init_looks_for(self):
        self.assertEqual(b'config-2',
                         self.iso.pvd.volume_identifier.rstrip(b' '))
        self.assertEqual('config-2', self.iso.joliet_vd.volume_identifier
                         .decode('utf-16-be').rstrip(' '))

    def test_publisher(self):
        self.assertEqual(b'nova test',
                         self.iso.pvd.publisher_identifier.text.rstrip(b' '))

    def test_each_directory_once(self):
        names = sorted(child.rock_ridge.name().decode()
                       for child in self.iso.list_children(
                           rr_path='/openstack')
                       if child.is_dir() and child.rock_ridge is not None
                       and not child.is_dot() and not child.is_dotdot())
        self.assertEqual(['content', 'latest'], names)


class TestNames(testtools.TestCase):

    def test_media_name_from_the_instance_name(self):
        self.assertEqual('cfg_instance_0000002a.iso', media.media_name(
            types.SimpleNamespace(name='instance-0000002a')))

    def test_media_name_fits_novalink(self):
        name = media.media_name(
            types.SimpleNamespace(name='a very long name ' * 5))
        self.assertEqual(37, len(name))
        self.assertTrue(name.startswith('cfg_a_very_long_name'))
        self.assertTrue(name.endswith('.iso'))


class TestManagementVif(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(conf.CONF))

    def test_link_local_address_from_the_mac(self):
        vif = media.mgmt_vif('FA163E000A01')
        self.assertEqual('fa:16:3e:00:0a:01', vif['address'])
        [subnet] = vif['network']['subnets']
        self.assertEqual((6, 'fe80::/64'), (subnet['version'],
                                            subnet['cidr']))
        # Modified EUI-64: ff:fe in the middle, the universal bit flipped.
        self.assertEqual('fe80::f816:3eff:fe00:a01',
                         subnet['ips'][0]['address'])

    def test_drive_describes_the_management_adapter(self):
        nova_vif = network_model.VIF(id='port-1', address='fa:16:3e:00:00:01')
        vifs = media.drive_network_info([nova_vif],
                                        mock.Mock(mac='FA163E000A01'))
        self.assertEqual(['port-1', media.MGMT_VIF_ID],
                         [vif['id'] for vif in vifs])

    def test_not_without_the_ipv6_scheme_or_an_adapter(self):
        nova_vif = network_model.VIF(id='port-1', address='fa:16:3e:00:00:01')
        self.assertEqual(['port-1'], [vif['id'] for vif in
                                      media.drive_network_info([nova_vif])])
        self.conf.config(use_rmc_ipv6_scheme=False, group='powervm')
        self.assertEqual(['port-1'], [
            vif['id'] for vif in media.drive_network_info(
                [nova_vif], mock.Mock(mac='FA163E000A01'))])
