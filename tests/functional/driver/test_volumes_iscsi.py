"""iSCSI volumes: every VIOS logs in (CHAP), finds the LUN as an hdisk
and maps it; a detach logs out; checked in the simulator's model."""

import fixtures as fixtures_lib
from nova import exception
from oslo_utils import uuidutils

from powervm_sim import fixture as sim_fixture
from tests.functional.driver import fixtures


class ISCSIVolumeTestCase(fixtures.DriverTestCase):

    def iscsi_volume(self, volume_type='iscsi', **kwargs):
        lun = self.sim.iscsi_lun(**kwargs)
        return lun, {'driver_volume_type': volume_type,
                     'serial': uuidutils.generate_uuid(),
                     'data': lun.connection_data()}

    def sessions(self):
        """{VIOS name: its iSCSI sessions} of the VIOSes that have any."""
        return {vios.name: list(vios.iscsi_sessions)
                for vios in self.sim.model.vioses(self.system)
                if vios.iscsi_sessions}

    def assert_logged_out(self, lun):
        self.assert_volume_gone(lun)
        self.assertEqual({}, self.sessions())


class TestISCSI(ISCSIVolumeTestCase):

    def test_attach_and_detach_with_chap(self):
        instance = self.running_instance()
        lun, info = self.iscsi_volume()
        self.assertEqual('CHAP', info['data']['auth_method'])
        self.attach(instance, info)
        self.assert_volume_attached(instance, lun, info)
        self.assertEqual(2, len(self.sessions()))
        self.detach(instance, info)
        self.assert_logged_out(lun)

    def test_the_chap_secret_is_never_logged(self):
        # Everything, down to pypowervm's request traces.
        log = self.useFixture(fixtures_lib.FakeLogger(level=1,
                                                      nuke_handlers=False))
        instance = self.running_instance()
        _lun, info = self.iscsi_volume()
        self.attach(instance, info)
        info['data']['auth_password'] = 'a-wrong-secret'
        second, second_info = self.iscsi_volume()
        second_info['data']['auth_password'] = 'another-wrong-secret'
        self.assertRaises(exception.VolumeAttachFailed, self.attach,
                          instance, second_info)
        self.assertIn('ISCSIDiscovery', log.output)
        secret = self.sim.model.san.iscsi_target(
            sim_fixture.FIXTURE_IQN).chap_secret
        for text in (secret, 'another-wrong-secret'):
            self.assertNotIn(text, log.output)

    def test_attach_to_a_stopped_lpar(self):
        instance = self.make_instance()
        self.spawn(instance, power_on=False)
        lun, info = self.iscsi_volume()
        self.attach(instance, info)
        self.assert_volume_attached(instance, lun, info)
        self.detach(instance, info)
        self.assert_logged_out(lun)

    def test_attach_over_every_portal_with_multipath(self):
        self.flags(volume_use_multipath=True, group='powervm')
        instance = self.running_instance()
        lun, info = self.iscsi_volume()
        self.attach(instance, info)
        self.assert_volume_attached(instance, lun, info)
        # Each VIOS logs in through both of the target's portals.
        self.assertEqual({2}, {len(sessions)
                               for sessions in self.sessions().values()})
        self.detach(instance, info)
        self.assert_logged_out(lun)

    def test_iser_volume(self):
        instance = self.running_instance()
        lun, info = self.iscsi_volume(volume_type='iser')
        self.attach(instance, info)
        self.assert_volume_attached(instance, lun, info)
        self.detach(instance, info)
        self.assert_logged_out(lun)

    def test_a_wrong_chap_secret_attaches_nothing(self):
        instance = self.running_instance()
        lun, info = self.iscsi_volume()
        info['data']['auth_password'] = 'not-the-secret'
        err = self.assertRaises(exception.VolumeAttachFailed, self.attach,
                                instance, info)
        self.assertIn('0 Virtual I/O Server(s) reach it', str(err))
        self.assert_logged_out(lun)

    def test_a_lun_one_vios_may_log_in_to_is_mapped_by_it(self):
        instance = self.running_instance()
        vios = self.sim.model.vioses(self.system)[0]
        lun, info = self.iscsi_volume(vioses=[vios])
        self.attach(instance, info)
        self.assert_volume_attached(instance, lun, info, vioses=1)
        self.detach(instance, info)
        self.assert_logged_out(lun)

    def test_extend_rescans_the_hdisks(self):
        instance = self.running_instance()
        lun, info = self.iscsi_volume(size_gb=1)
        self.attach(instance, info)
        self.sim.model.san.grow(lun, 2)
        self.driver.extend_volume(self.context, info, instance,
                                  2 * 1024 ** 3)
        self.assertEqual({2 * 1024}, {
            pv.capacity_mb for vios in self.sim.model.vioses(self.system)
            for pv in vios.physical_volumes if pv.udid == lun.udid})

    def test_incomplete_connection_info_is_refused(self):
        instance = self.running_instance()
        lun, info = self.iscsi_volume()
        del info['data']['target_iqn']
        err = self.assertRaises(exception.InvalidVolume, self.attach,
                                instance, info)
        self.assertIn('target_iqn', str(err))
        self.assert_logged_out(lun)

    def test_boot_from_an_iscsi_volume(self):
        instance = self.make_instance()
        lun, info = self.iscsi_volume(size_gb=10)
        bdm = fixtures.DriverBDM(info, boot_index=0)
        self.driver.spawn(self.context, instance, self.image_meta(), [],
                          None, {},
                          block_device_info=fixtures.block_device_info(bdm))
        self.assertEqual([], self.boot_vdisks())
        self.assert_volume_attached(instance, lun, info)
        self.driver.destroy(self.context, instance, [],
                            block_device_info=fixtures.block_device_info(bdm))
        self.assert_logged_out(lun)
        self.assert_nothing_left(instance)
