"""Boot disk steps of the spawn and destroy flows, and their undo."""

from unittest import mock

import fixtures
from nova import exception
import testtools

from nova_powervm.disk import driver as disk_drv
from nova_powervm import flows


class StorageFlowTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # One recorder for the LPAR steps and the disk driver, so the
        # tests see the order across both.
        self.calls = mock.Mock()
        self.vm = self.useFixture(fixtures.MockPatch(
            'nova_powervm.tasks.vm.vm', autospec=True)).mock
        self.vm.create_outcome_unknown.return_value = False
        self.calls.attach_mock(self.vm.create_lpar, 'create_lpar')
        self.calls.attach_mock(self.vm.power_on, 'power_on')
        self.calls.attach_mock(self.vm.power_off, 'power_off')
        self.calls.attach_mock(self.vm.delete_lpar, 'delete_lpar')
        self.disk = mock.create_autospec(disk_drv.DiskAdapter,
                                         instance=True)
        self.disk.create_disk_from_image.return_value = mock.sentinel.disk
        for name in ('create_disk_from_image', 'connect_disk',
                     'disconnect_disk', 'delete_disk'):
            self.calls.attach_mock(getattr(self.disk, name), name)
        self.instance = mock.Mock(uuid='f0b6f8f4-0000-4000-8000-000000000002')

    def _spawn(self):
        flows.run(flows.spawn(
            mock.sentinel.adapter, mock.sentinel.host, self.instance,
            mock.sentinel.image, boot_disk=flows.BootDisk(
                self.disk, mock.sentinel.context)), self.instance)

    def _steps(self):
        return [name for name, _args, _kwargs in self.calls.method_calls]


class TestSpawnWithBootDisk(StorageFlowTestCase):

    def test_disk_made_and_mapped_between_lpar_and_power_on(self):
        self._spawn()
        self.assertEqual(['create_lpar', 'create_disk_from_image',
                          'connect_disk', 'power_on'], self._steps())
        self.disk.create_disk_from_image.assert_called_once_with(
            mock.sentinel.context, self.instance, mock.sentinel.image)
        self.disk.connect_disk.assert_called_once_with(
            self.instance, mock.sentinel.disk)

    def test_config_drive_media_mapped_with_the_disk(self):
        media = self.useFixture(fixtures.MockPatch(
            'nova_powervm.tasks.network.media', autospec=True)).mock
        media.create_config_drive.return_value = mock.sentinel.cfg_media
        flows.run(flows.spawn(
            mock.sentinel.adapter, mock.sentinel.host, self.instance,
            mock.sentinel.image,
            config_drive=flows.ConfigDrive([], [], None),
            boot_disk=flows.BootDisk(self.disk, mock.sentinel.context)),
            self.instance)
        # Made but not mapped by its own step: attach_disk maps both in
        # one update of the VIOS.
        self.assertFalse(
            media.create_config_drive.call_args.kwargs['connect'])
        self.disk.connect_disk.assert_called_once_with(
            self.instance, mock.sentinel.disk, media=mock.sentinel.cfg_media)

    def test_failed_power_on_undoes_the_disk_too(self):
        self.vm.power_on.side_effect = exception.InstancePowerOnFailure(
            reason='no')
        self.assertRaises(exception.InstancePowerOnFailure, self._spawn)
        self.assertEqual(['create_lpar', 'create_disk_from_image',
                          'connect_disk', 'power_on', 'power_off',
                          'disconnect_disk', 'delete_disk', 'delete_lpar'],
                         self._steps())

    def test_failed_mapping_is_undone_itself(self):
        # Some VIOSes may have mapped the disk before one refused.
        self.disk.connect_disk.side_effect = RuntimeError('refused')
        self.assertRaises(RuntimeError, self._spawn)
        self.assertEqual(['create_lpar', 'create_disk_from_image',
                          'connect_disk', 'disconnect_disk', 'delete_disk',
                          'delete_lpar'], self._steps())

    def test_failed_disk_create_still_looks_for_the_disk(self):
        # Its answer may have been lost after NovaLink made it.
        self.disk.create_disk_from_image.side_effect = RuntimeError('lost')
        self.assertRaises(RuntimeError, self._spawn)
        self.assertEqual(['create_lpar', 'create_disk_from_image',
                          'delete_disk', 'delete_lpar'], self._steps())

    def test_failing_undo_keeps_the_original_error(self):
        self.disk.connect_disk.side_effect = RuntimeError('refused')
        self.disk.disconnect_disk.side_effect = RuntimeError('busy')
        self.disk.delete_disk.side_effect = RuntimeError('busy')
        err = self.assertRaises(RuntimeError, self._spawn)
        self.assertEqual('refused', str(err))
        # The LPAR is still removed.
        self.assertEqual('delete_lpar', self._steps()[-1])


class TestDestroyWithBootDisk(StorageFlowTestCase):

    def _destroy(self, destroy_disks=True):
        flows.run(flows.destroy(mock.sentinel.adapter, self.instance,
                                disk_driver=self.disk,
                                destroy_disks=destroy_disks), self.instance)

    def test_unmap_and_delete_before_the_lpar_goes(self):
        self._destroy()
        self.assertEqual(['power_off', 'disconnect_disk', 'delete_disk',
                          'delete_lpar'], self._steps())

    def test_keeping_the_disk_still_unmaps_it(self):
        self._destroy(destroy_disks=False)
        self.assertEqual(['power_off', 'disconnect_disk', 'delete_lpar'],
                         self._steps())

    def test_failed_delete_keeps_the_lpar(self):
        self.disk.delete_disk.side_effect = RuntimeError('busy')
        self.assertRaises(RuntimeError, self._destroy)
        self.assertNotIn('delete_lpar', self._steps())

    def test_disk_of_an_lpar_that_is_gone(self):
        flows.run(flows.remove_storage(None, self.disk, self.instance),
                  self.instance)
        self.assertEqual(['disconnect_disk', 'delete_disk'], self._steps())
