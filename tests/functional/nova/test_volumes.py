"""Cinder Fibre Channel (vSCSI) and iSCSI volumes through nova's API: boot
from a volume, data volumes at boot, attach, detach, extend, shelve and
delete; checked in the simulator's model (the hdisks the VIOSes configured
for each SAN LUN and the mappings that give them to the server's LPAR)."""

from tests.functional.nova import base

_HOST = 'host1'
# The volume nova's CinderFixture reports bootable.
BOOT_VOLUME = base.SANCinderFixture.IMAGE_BACKED_VOL


class SANVolumeTests:
    """What every SAN volume does through nova, whatever its protocol
    (``create_volume`` makes one)."""

    def setUp(self):
        super().setUp()
        self.start_powervm_compute(_HOST)
        self.system = self.system_of(_HOST)
        self.flavor_id = self.create_flavor()

    # ------------------------------------------------------------ helpers
    def boot_from_volume(self, volume_id, **kwargs):
        return self.boot_server_from_volume(self.flavor_id, volume_id,
                                            **kwargs)

    def vios_names(self):
        return sorted(vios.name for vios in self.sim.model.vioses(self.system))

    def hdisk_sizes_mb(self, lun):
        """{VIOS name: MB} of the hdisks of ``lun``."""
        return {vios: hdisk.capacity_mb for vios, hdisk in
                self.lun_hdisks(self.system, lun).items()}

    def assert_mapped_from_every_vios(self, server, lun):
        """Each VIOS has an hdisk of ``lun``, mapped to the server's LPAR
        and to nothing else."""
        lpar_id = self.lpar_of(server).partition_id
        self.assertEqual([(vios, lpar_id) for vios in self.vios_names()],
                         self.lun_mappings(self.system, lun))
        self.assertEqual(self.vios_names(),
                         sorted(self.lun_hdisks(self.system, lun)))

    def assert_lun_gone(self, lun):
        """Neither mapped nor configured on any VIOS."""
        self.assertEqual([], self.lun_mappings(self.system, lun))
        self.assertEqual({}, self.lun_hdisks(self.system, lun))

    def assert_no_lpar_and_luns_gone(self, server, *luns):
        self.assertIsNone(self.lpar_of(server))
        self.assertEqual([], self.client_lpars(self.system))
        for lun in luns:
            self.assert_lun_gone(lun)

    def assert_deleted_without_trace(self, server, *luns):
        self._delete_server(server)
        self.assert_no_lpar_and_luns_gone(server, *luns)

    def assert_no_cinder_attachment(self, volume_id):
        self.assertEqual({}, self.cinder.volume_to_attachment[volume_id])

    # ------------------------------------------------------------ booting
    def test_boot_from_volume_maps_its_lun_and_makes_no_boot_disk(self):
        volume_id, lun = self.create_volume(volume_id=BOOT_VOLUME)
        server = self.boot_from_volume(volume_id)
        self.assertEqual([volume_id], self.attached_volumes(server))
        self.assertEqual([], self.boot_vdisks(self.system))
        self.assert_mapped_from_every_vios(server, lun)
        self.assertLparState(base.LPAR_RUNNING, server)
        self.assert_deleted_without_trace(server, lun)
        self.assert_no_cinder_attachment(volume_id)

    def test_boot_from_volume_with_a_data_volume(self):
        boot_id, boot_lun = self.create_volume(volume_id=BOOT_VOLUME)
        data_id, data_lun = self.create_volume()
        server = self.boot_from_volume(boot_id, data_volumes=[data_id])
        self.assertEqual([], self.boot_vdisks(self.system))
        self.assert_mapped_from_every_vios(server, boot_lun)
        self.assert_mapped_from_every_vios(server, data_lun)
        self.assert_deleted_without_trace(server, boot_lun, data_lun)

    def test_boot_from_the_image_with_a_data_volume(self):
        volume_id, lun = self.create_volume()
        server = self.boot_server(self.flavor_id, block_device_mapping_v2=[
            self.image_bdm(), base.volume_bdm(volume_id)])
        self.assertEqual([volume_id], self.attached_volumes(server))
        self.assertEqual(1, len(self.boot_vdisks(self.system)))
        self.assert_mapped_from_every_vios(server, lun)
        self.assert_deleted_without_trace(server, lun)
        self.assertEqual([], self.boot_vdisks(self.system))

    def test_shelve_offload_and_unshelve_a_server_booted_from_volume(self):
        self.flags(shelved_offload_time=0)
        volume_id, lun = self.create_volume(volume_id=BOOT_VOLUME)
        server = self._shelve_server(self.boot_from_volume(volume_id))
        self.assert_no_lpar_and_luns_gone(server, lun)

        server = self._unshelve_server(server)
        self.assertEqual([], self.boot_vdisks(self.system))
        self.assert_mapped_from_every_vios(server, lun)

    # ------------------------------------------------- attach and detach
    def test_attach_and_detach_on_a_running_server(self):
        server = self.boot_server(self.flavor_id)
        volume_id, lun = self.create_volume()
        self._attach_volume(server, volume_id)
        self.assertEqual([volume_id], self.attached_volumes(server))
        self.assert_mapped_from_every_vios(server, lun)

        self.detach_volume(server, volume_id)
        self.assertEqual([], self.attached_volumes(server))
        self.assert_lun_gone(lun)
        self.assertLparState(base.LPAR_RUNNING, server)

    def test_attach_and_detach_on_a_stopped_server(self):
        server = self._stop_server(self.boot_server(self.flavor_id))
        volume_id, lun = self.create_volume()
        self._attach_volume(server, volume_id)
        self.assert_mapped_from_every_vios(server, lun)
        self.assertLparState(base.LPAR_OFF, server)

        self.detach_volume(server, volume_id)
        self.assert_lun_gone(lun)

    def test_extend_shows_the_vioses_the_grown_lun(self):
        server = self.boot_server(self.flavor_id)
        volume_id, lun = self.create_volume(size_gb=1)
        self._attach_volume(server, volume_id)
        self.sim.model.san.grow(lun, 3)
        # Nothing but the driver makes the VIOSes look at the LUN again.
        self.assertEqual(dict.fromkeys(self.vios_names(), 1024),
                         self.hdisk_sizes_mb(lun))

        self.send_volume_extended(server, volume_id)
        self.wait_for(lambda: set(self.hdisk_sizes_mb(lun).values()) ==
                      {3 * 1024}, 'the VIOSes to see the grown LUN')
        self.assertEqual(self.vios_names(), sorted(self.hdisk_sizes_mb(lun)))
        self.assert_mapped_from_every_vios(server, lun)

    def test_delete_a_server_with_a_volume_attached(self):
        server = self.boot_server(self.flavor_id)
        volume_id, lun = self.create_volume()
        self._attach_volume(server, volume_id)
        self.assert_mapped_from_every_vios(server, lun)
        self.assert_deleted_without_trace(server, lun)
        self.assert_no_cinder_attachment(volume_id)

    # ------------------------------------------------------ failed attach
    def assert_attach_fails_cleanly(self, server, volume_id, lun, exception,
                                    message):
        """The attach fails in the driver with ``exception`` (its message
        holding ``message``); the server stays ACTIVE with no attachment,
        and no VIOS keeps anything of the LUN."""
        fault = self.failed_volume_attach(server, volume_id)
        self.assertEqual(exception, fault['exception'])
        self.assertIn(message, fault['exception_message'])
        self.assertEqual('ACTIVE', self.api.get_server(server['id'])['status'])
        self.assertEqual([], self.attached_volumes(server))
        self.assert_no_cinder_attachment(volume_id)
        self.assert_lun_gone(lun)
        self.assertLparState(base.LPAR_RUNNING, server)

    def test_attach_to_a_running_server_without_rmc(self):
        server = self.boot_server(self.flavor_id)
        self.lose_rmc(server)
        volume_id, lun = self.create_volume()
        self.assert_attach_fails_cleanly(server, volume_id, lun,
                                         'VolumeAttachFailed', 'RMC')


class TestFCVolumes(SANVolumeTests, base.PowerVMTestCase):
    """Fibre Channel LUNs over vSCSI ([powervm] fc_attach_strategy's
    default)."""

    def create_volume(self, volume_id=None, **lun_args):
        return self.create_fc_volume(volume_id, **lun_args)

    def test_boot_from_a_volume_too_few_vioses_reach(self):
        self.flags(vscsi_vios_connections_required=2, group='powervm')
        [vios, _other] = self.sim.model.vioses(self.system)
        volume_id, lun = self.create_fc_volume(volume_id=BOOT_VOLUME,
                                               vioses=[vios])
        server = self.boot_from_volume(volume_id, expected_state='ERROR')
        fault = self.build_error()
        self.assertEqual('VolumeAttachFailed', fault['exception'])
        self.assertIn('1 Virtual I/O Server(s) reach it; 2 must',
                      fault['exception_message'])
        self.assert_no_lpar_and_luns_gone(server, lun)
        self.assert_no_cinder_attachment(volume_id)

    def test_attach_of_a_lun_too_few_vioses_reach(self):
        self.flags(vscsi_vios_connections_required=2, group='powervm')
        server = self.boot_server(self.flavor_id)
        [vios, _other] = self.sim.model.vioses(self.system)
        volume_id, lun = self.create_fc_volume(vioses=[vios])
        self.assert_attach_fails_cleanly(
            server, volume_id, lun, 'VolumeAttachFailed',
            '1 Virtual I/O Server(s) reach it; 2 must')

    def test_attach_of_a_lun_no_vios_reaches(self):
        # Cinder gives the initiator-target map it believes in, but the
        # fabric zones none of the VIOS ports with the target.
        server = self.boot_server(self.flavor_id)
        volume_id, lun = self.create_fc_volume()
        for initiator in lun.initiators:
            self.sim.model.san.unzone(initiator, lun.target)
        self.assert_attach_fails_cleanly(
            server, volume_id, lun, 'VolumeAttachFailed',
            '0 Virtual I/O Server(s) reach it; 1 must')

    def test_attach_of_a_volume_without_initiators(self):
        # A LUN masked to no initiator: Cinder's map is empty.
        server = self.boot_server(self.flavor_id)
        volume_id, lun = self.create_fc_volume(vioses=[])
        self.assert_attach_fails_cleanly(server, volume_id, lun,
                                         'InvalidVolume',
                                         'initiator_target_map')


class TestISCSIVolumes(SANVolumeTests, base.PowerVMTestCase):
    """iSCSI LUNs of a CHAP target every VIOS logs in to."""

    def create_volume(self, volume_id=None, **lun_args):
        return self.create_iscsi_volume(volume_id, **lun_args)

    def sessions(self):
        return [(vios.name, session)
                for vios in self.sim.model.vioses(self.system)
                for session in vios.iscsi_sessions]

    def assert_lun_gone(self, lun):
        super().assert_lun_gone(lun)
        self.assertEqual([], self.sessions())

    def test_attach_with_a_wrong_chap_secret(self):
        server = self.boot_server(self.flavor_id)
        volume_id, lun = self.create_volume()
        self.cinder.VOLUME_CONNECTION_INFO[volume_id]['data'][
            'auth_password'] = 'not-the-secret'
        self.assert_attach_fails_cleanly(
            server, volume_id, lun, 'VolumeAttachFailed',
            '0 Virtual I/O Server(s) reach it; 1 must')
