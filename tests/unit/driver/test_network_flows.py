"""Where the network and config drive tasks sit in the driver's flows."""

from unittest import mock

import testtools

from nova_powervm import flows


def _names(flow):
    return [atom.name for atom in flow]


class TestNetworkFlows(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.instance = mock.Mock(uuid='f0b6f8f4-0000-4000-8000-000000000001')
        self.network = flows.Network(mock.sentinel.virtapi, [{'id': 'p1'}],
                                     mock.sentinel.platform)

    def test_spawn_order(self):
        flow = flows.spawn(
            mock.sentinel.adapter, mock.sentinel.host, self.instance,
            mock.sentinel.image, network=self.network,
            config_drive=flows.ConfigDrive([], [], None),
            boot_disk=flows.BootDisk(mock.sentinel.disk, None))
        names = _names(flow)
        # VIFs before the management adapter, which the config drive
        # describes; everything before the power on.
        self.assertEqual(['create_lpar', 'plug_vifs', 'plug_mgmt_vif'],
                         names[:3])
        # The drive's media is mapped with the boot disk: one update of
        # the VIOS for both.
        self.assertEqual(['create_cfg_drive', 'attach_disk', 'power_on'],
                         names[-3:])

    def test_spawn_without_boot_disk_maps_the_drive_itself(self):
        flow = flows.spawn(
            mock.sentinel.adapter, mock.sentinel.host, self.instance,
            mock.sentinel.image, network=self.network,
            config_drive=flows.ConfigDrive([], [], None))
        self.assertEqual(['create_and_connect_cfg_drive', 'power_on'],
                         _names(flow)[-2:])

    def test_spawn_without_vifs_or_management_adapter(self):
        network = flows.Network(None, [], None, mgmt_vif=False)
        flow = flows.spawn(mock.sentinel.adapter, mock.sentinel.host,
                           self.instance, mock.sentinel.image,
                           network=network)
        self.assertEqual(['create_lpar', 'power_on'], _names(flow))

    def test_destroy_unplugs_and_removes_the_drive_before_the_delete(self):
        flow = flows.destroy(mock.sentinel.adapter, self.instance,
                             platform=mock.sentinel.platform,
                             config_drive=True)
        self.assertEqual(['power_off', 'unplug_all_vifs',
                          'delete_cfg_drive', 'delete_lpar'], _names(flow))

    def test_plug_vifs_flow(self):
        self.assertEqual(
            ['plug_vifs', 'plug_mgmt_vif'],
            _names(flows.plug_vifs(mock.sentinel.adapter, self.instance,
                                   self.network)))
