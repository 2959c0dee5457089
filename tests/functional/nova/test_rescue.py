"""Rescue and unrescue through nova's API (POST /servers/{id}/action),
checked in the simulator: what the LPAR booted from, its disks."""

from powervm_sim import faults
from tests.functional.nova import base

_HOST = 'host1'
RESCUE_DATA = b'nova-powervm functional rescue image\n' * 1024


class TestRescue(base.PowerVMTestCase):

    def setUp(self):
        super().setUp()
        self.start_powervm_compute(_HOST)
        self.system = self.system_of(_HOST)
        self.flavor_id = self.create_flavor()
        self.rescue_image_id = self.create_image(data=RESCUE_DATA)

    def vdisks(self):
        """{name: logical volume} of the system's VIOSes."""
        return {vdisk.name: vdisk
                for vios in self.sim.model.vioses(self.system)
                for vg in vios.volume_groups for vdisk in vg.vdisks}

    def disk_name(self, server, prefix):
        """The name of a disk of ``server``: the instance UUID's digits
        (not the LPAR's, whose top bit PowerVM clears)."""
        return (prefix + server['id'].replace('-', ''))[:15]

    def content(self, vdisk, size):
        with self.sim.model.content.open_reader(vdisk.udid) as blob:
            return blob.read(size)

    def last_boot(self, server):
        boot = self.lpar_of(server).last_boot
        return boot.mode, boot.device

    def rescue(self, server, **args):
        self.api.post_server_action(server['id'], {'rescue': args})
        return self._wait_for_state_change(server, 'RESCUE')

    def unrescue(self, server):
        self.api.post_server_action(server['id'], {'unrescue': None})
        return self._wait_for_state_change(server, 'ACTIVE')

    def test_rescue_boots_the_rescue_image_and_unrescue_the_server(self):
        server = self.boot_server(self.flavor_id)
        boot_name = self.disk_name(server, 'b_')
        rescue_name = self.disk_name(server, 'r_')
        self.assertEqual(('norm', boot_name), self.last_boot(server))

        self.rescue(server, rescue_image_ref=self.rescue_image_id)
        self.assertLparState(base.LPAR_RUNNING, server)
        self.assertEqual(('sms', rescue_name), self.last_boot(server))
        disks = self.vdisks()
        self.assertEqual(RESCUE_DATA,
                         self.content(disks[rescue_name], len(RESCUE_DATA)))
        self.assertEqual(base.IMAGE_DATA, self.content(
            disks[boot_name], len(base.IMAGE_DATA)))

        self.unrescue(server)
        self.assertLparState(base.LPAR_RUNNING, server)
        self.assertEqual(('norm', boot_name), self.last_boot(server))
        self.assertNotIn(rescue_name, self.vdisks())
        self.assertEqual(base.IMAGE_DATA, self.content(
            self.vdisks()[boot_name], len(base.IMAGE_DATA)))

    def test_rescue_without_an_image_boots_the_servers_own(self):
        server = self.boot_server(self.flavor_id)
        self.rescue(server)
        rescue_name = self.disk_name(server, 'r_')
        self.assertEqual(('sms', rescue_name), self.last_boot(server))
        self.assertEqual(base.IMAGE_DATA, self.content(
            self.vdisks()[rescue_name], len(base.IMAGE_DATA)))

    def test_delete_of_a_rescued_server_leaves_nothing(self):
        server = self.boot_server(self.flavor_id)
        self.rescue(server, rescue_image_ref=self.rescue_image_id)
        self._delete_server(server)
        self.assertIsNone(self.lpar_of(server))
        self.assertEqual([], [name for name in self.vdisks()
                              if name.startswith(('b_', 'r_'))])
        self.assertEqual([], [
            mapping for vios in self.sim.model.vioses(self.system)
            for mapping in vios.scsi_mappings if mapping.has_storage])

    def test_failed_rescue_leaves_no_rescue_disk(self):
        server = self.boot_server(self.flavor_id)
        boot_name = self.disk_name(server, 'b_')
        self.sim.faults.add(faults.FaultRule(
            job='PowerOn', max_count=1, outcome=faults.JobFailure(
                'HSCL0001 The partition failed to activate.')))
        self.api.post_server_action(
            server['id'], {'rescue': {'rescue_image_ref':
                                      self.rescue_image_id}})
        server = self._wait_for_state_change(server, 'ERROR')
        # nova stopped the server before the rescue; the failed rescue
        # took its disk away again.
        self.assertLparState(base.LPAR_OFF, server)
        self.assertNotIn(self.disk_name(server, 'r_'), self.vdisks())
        # A hard reboot brings it back, from its boot disk.
        self.notifier.reset()
        self._reboot_server(server, hard=True)
        self.assertLparState(base.LPAR_RUNNING, server)
        self.assertEqual(('norm', boot_name), self.last_boot(server))
