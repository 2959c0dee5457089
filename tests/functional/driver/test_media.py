"""The config drive as virtual optical media, against the simulator."""

import io
import json

import pycdlib
from pypowervm.tasks import storage as pvm_storage
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import media
from nova_powervm import vif as pvm_vif
from nova_powervm import vm
from tests.functional.driver import fixtures


class ConfigDriveTestCase(fixtures.DriverTestCase):

    def make_cd_instance(self, **fields):
        return self.make_instance(config_drive='True',
                                  metadata={'role': 'web'}, **fields)

    def read_drive(self, medium):
        """The medium's ISO image: {Rock Ridge path: bytes}."""
        with open(self.sim.model.content.path(medium.content_key),
                  'rb') as blob:
            image = io.BytesIO(blob.read())
        iso = pycdlib.PyCdlib()
        iso.open_fp(image)
        self.addCleanup(iso.close)
        self.assertEqual(b'config-2',
                         iso.pvd.volume_identifier.rstrip(b' '))
        files = {}
        for path, _dirs, names in iso.walk(rr_path='/'):
            for name in names:
                data = io.BytesIO()
                full = path.rstrip('/') + '/' + name
                iso.get_file_from_iso_fp(data, rr_path=full)
                files[full] = data.getvalue()
        return files


class TestConfigDrive(ConfigDriveTestCase):

    def setUp(self):
        super().setUp()
        self.vif = fixtures.ovs_vif(2)
        self.instance = self.make_cd_instance()
        self.spawn_with([self.vif], instance=self.instance,
                        injected_files=[('/etc/motd', b'welcome\n')],
                        admin_password='s3cret')
        [(self.vios, self.medium)] = self.config_media()
        self.files = self.read_drive(self.medium)

    def test_media_in_the_repository_holds_the_metadata(self):
        self.assertEqual(media.media_name(self.instance), self.medium.name)
        meta = json.loads(self.files['/openstack/latest/meta_data.json'])
        self.assertEqual(self.instance.uuid, meta['uuid'])
        self.assertEqual({'role': 'web'}, meta['meta'])
        self.assertEqual('s3cret', meta['admin_pass'])
        [injected] = meta['files']
        self.assertEqual('/etc/motd', injected['path'])
        self.assertEqual(
            b'welcome\n',
            self.files['/openstack' + injected['content_path']])
        self.assertIn('/ec2/latest/meta-data.json', self.files)

    def test_network_data_describes_the_vif_and_the_rmc_adapter(self):
        network = json.loads(
            self.files['/openstack/latest/network_data.json'])
        macs = sorted(link['ethernet_mac_address']
                      for link in network['links'])
        [mgmt] = self.mgmt_cnas(self.instance)
        self.assertEqual(sorted([self.vif['address'],
                                 pvm_vif.nova_mac(mgmt.mac)]), macs)
        link_local = [net for net in network['networks']
                      if net['type'] == 'ipv6']
        self.assertEqual(1, len(link_local))
        self.assertTrue(link_local[0]['ip_address'].startswith('fe80::'))

    def test_media_is_mapped_to_the_lpar(self):
        lpar = self.lpar_of(self.instance)
        [mapping] = self.vopt_mappings(lpar.partition_id)
        self.assertIs(self.medium, mapping.storage)
        self.assertIs(lpar, mapping.client.parent)
        self.assertIn(mapping, self.vios.scsi_mappings)

    def test_destroy_removes_mapping_and_media(self):
        self.driver.destroy(self.context, self.instance, [self.vif])
        self.assert_network_and_media_gone(self.instance)
        self.assert_storage_gone()
        # Other media of the repository stay.
        self.assertIsNotNone(self.vios.volume_groups[0].media_repository
                             .find('novalink-2.0.3-ppc64le.iso'))

    def test_destroy_after_the_lpar_vanished_still_removes_the_media(self):
        self.driver.power_off(self.instance)
        self.sim.adapter().delete('LogicalPartition',
                                  root_id=vm.get_pvm_uuid(self.instance))
        self.driver.destroy(self.context, self.instance, [self.vif])
        self.assertEqual([], self.config_media())
        # Its mapping, an orphan without the LPAR, went first.
        self.assertEqual([], self.vopt_mappings())


class TestWithoutConfigDrive(ConfigDriveTestCase):

    def test_no_media_unless_asked_for(self):
        instance = self.spawn_with([fixtures.sea_vif(1)])
        self.assertEqual([], self.config_media())
        self.assertEqual([], self.vopt_mappings())
        self.driver.destroy(self.context, instance, [])
        self.assertEqual([], self.client_lpars())

    def test_forced_by_configuration(self):
        self.flags(force_config_drive=True)
        instance = self.spawn_with([])
        [(_vios, medium)] = self.config_media()
        self.assertEqual(media.media_name(instance), medium.name)


class TestMediaRepository(ConfigDriveTestCase):

    def test_repository_is_made_where_none_exists(self):
        # No VIOS has one (any more): the first config drive makes one in
        # [powervm] vopt_media_volume_group.
        adapter = self.sim.adapter()
        for vios_w in pvm_vios.VIOS.get(adapter):
            for vg_w in pvm_stg.VG.get(adapter, parent=vios_w):
                if vg_w.vmedia_repos:
                    vg_w = pvm_storage.rm_vg_storage(
                        vg_w, vopts=vg_w.vmedia_repos[0].optical_media)
                    vg_w.vmedia_repos = []
                    vg_w.update()
        self.flags(vopt_media_rep_size=2, group='powervm')
        instance = self.make_cd_instance()
        self.spawn_with([], instance=instance)
        [(vios, medium)] = self.config_media()
        [vg] = [vg for vg in vios.volume_groups if vg.media_repository]
        self.assertEqual(('rootvg', 2), (vg.name,
                                         vg.media_repository.size_gb))
        self.assertEqual(media.media_name(instance), medium.name)
