"""Every REST call of a volume attach, a volume detach and a spawn from a
boot volume, failed in turn (the campaign of test_fault_campaign.py).

An attach ends attached on every VIOS, or failed with VolumeAttachFailed
and nothing of the volume left; a detach ends with the volume gone, or
fails and is tried again as nova would; a boot-from-volume spawn ends
running or failed with nothing of the instance or its volume left.  The
one thing a failure may leave is an hdisk a VIOS configured while the
answer to the discovery was lost before any VIOS told its UDID: unmapped,
it belongs to no partition, and the next attach of the LUN finds it.
"""

from nova import exception

from tests.functional.driver import fixtures
from tests.functional.driver import test_fault_campaign as campaign

# A lost answer to the only discovery that ran leaves its hdisk (see the
# module's docstring).
DISCOVERY = 'LUARecovery'
LOST_ANSWERS = (campaign.DROP_AFTER.name,)


def _discovery_lost(call, fault):
    return call.job == DISCOVERY and fault.name in LOST_ANSWERS


class VolumeCampaignTestCase(campaign.FaultCampaignTestCase):

    def assert_attached(self, instance, lun):
        lpar_id = self.lpar_of(instance).partition_id
        self.assertEqual(2, len(self.hdisks_of(lun)))
        self.assertEqual(dict.fromkeys(self.hdisks_of(lun), lpar_id),
                         self.mapped_to(lun))

    def assert_not_attached(self, lun, call, fault):
        self.assertEqual({}, self.mapped_to(lun))
        if not _discovery_lost(call, fault):
            self.assertEqual({}, self.hdisks_of(lun))

    def attach(self, instance, info):
        self.tracker.step = 'attach_volume'
        self.driver.attach_volume(self.context, info, instance, '/dev/sdb')

    def detach(self, instance, info):
        self.tracker.step = 'detach_volume'
        self.driver.detach_volume(self.context, info, instance, '/dev/sdb')


class TestAttachCampaign(VolumeCampaignTestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.running_instance()

    def prepare(self):
        return self.fc_volume()

    def run_attach(self, prepared, call, fault):
        lun, info = prepared
        expected = (None if campaign.survivable(call)
                    else exception.VolumeAttachFailed)
        failed = self.ends_as(expected, self.attach, self.instance, info)
        if failed:
            self.assert_not_attached(lun, call, fault)
        else:
            self.assert_attached(self.instance, lun)
            self.detach(self.instance, info)
        self.assertEqual({}, self.mapped_to(lun))
        return failed

    def test_every_call_of_attach(self):
        calls = self.record(
            lambda prepared: self.attach(self.instance, prepared[1]),
            self.prepare,
            lambda prepared: self.detach(self.instance, prepared[1]))
        self.report('volume attach', self.campaign(calls, self.prepare,
                                                   self.run_attach))


class TestDetachCampaign(VolumeCampaignTestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.running_instance()

    def attached(self):
        lun, info = self.fc_volume()
        self.attach(self.instance, info)
        return lun, info

    def run_detach(self, prepared, call, fault):
        lun, info = prepared
        try:
            self.detach(self.instance, info)
        except exception.NovaException:
            # What nova does next: detach again, once NovaLink is back.
            self.detach(self.instance, info)
            failed = True
        else:
            failed = False
        self.assert_volume_gone(lun)
        return failed

    def test_every_call_of_detach(self):
        calls = self.record(
            lambda prepared: self.detach(self.instance, prepared[1]),
            self.attached, lambda prepared: None)
        self.report('volume detach', self.campaign(calls, self.attached,
                                                   self.run_detach))


class TestBootFromVolumeCampaign(VolumeCampaignTestCase):

    def boot_volume(self):
        """An instance to boot from a new volume."""
        lun, info = self.fc_volume(size_gb=10)
        return self.new_instance(), lun, fixtures.DriverBDM(info,
                                                            boot_index=0)

    def spawn_from(self, prepared):
        instance, _lun, bdm = prepared
        self.tracker.step = None
        self.driver.spawn(self.context, instance, self.image_meta(), [],
                          None, {}, network_info=self.network_info,
                          block_device_info=fixtures.block_device_info(bdm))

    def destroy_of(self, prepared):
        instance, lun, bdm = prepared
        self.tracker.step = None
        self.driver.destroy(self.context, instance, self.network_info,
                            block_device_info=fixtures.block_device_info(
                                bdm))
        self.assert_volume_gone(lun)
        self.assert_nothing_left(instance)

    def run_spawn(self, prepared, call, fault):
        instance, lun, _bdm = prepared
        expected = None
        if not campaign.survivable(call):
            expected = (exception.VolumeAttachFailed
                        if call.step.startswith('connect_volume')
                        else campaign.SPAWN_STEP_ERRORS[call.step])
        failed = self.ends_as(expected, self.spawn_from, prepared)
        if failed:
            self.assert_not_attached(lun, call, fault)
            self.assert_nothing_left(instance)
        else:
            self.assertEqual([], self.boot_vdisks())
            self.assert_attached(instance, lun)
        self.destroy_of(prepared)
        return failed

    def test_every_call_of_a_boot_from_volume_spawn(self):
        # The host facts a first deploy reads are kept for the later ones:
        # the campaign is about those.
        first = self.boot_volume()
        self.spawn_from(first)
        self.destroy_of(first)
        calls = self.record(self.spawn_from, self.boot_volume,
                            self.destroy_of)
        self.assertIn(DISCOVERY, {call.job for call in calls})
        self.report('boot from volume', self.campaign(
            calls, self.boot_volume, self.run_spawn))
