"""Every REST call of a rescue and of an unrescue, failed in turn (the
campaign of test_fault_campaign.py).

A rescue ends rescued (running in SMS boot mode from its rescue disk), or
failed with a nova error and the instance as it was: running from its boot
disk, no rescue disk.  An unrescue ends running from the boot disk with
the rescue disk gone, or failed with a nova error and the instance rescued
as it was; a failure of the rescue disk's delete, the last step, is tried
once more (the instance already runs from its boot disk).  Either way the
boot disk keeps what the guest wrote, and nova's destroy then leaves
nothing.

The rescue image is in the image cache before the calls are recorded:
uploads and their failures are the spawn campaign's.
"""

from nova.compute import vm_states
from nova import exception

from tests.functional.driver import test_fault_campaign as campaign
from tests.functional.driver import test_rescue

# What the guest wrote to its boot disk before the rescue.
WRITTEN = b'written by the guest' * 8
# The unrescue's last step: a failure is tried once more (and the second
# try finds the disk gone after an answer lost).
DELETE_RESCUE_DISK = 'delete_rescue_disk'


class RescueCampaignTestCase(campaign.FaultCampaignTestCase,
                             test_rescue.RescueTestCase):

    def running_instance_written(self):
        instance = self.spawned()
        self.guest_writes(instance, WRITTEN)
        return instance

    def tidy(self, instance):
        self.tracker.step = None
        self.driver.destroy(self.context, instance, self.network_info)
        self.assert_nothing_left(instance)
        self.assertIsNone(self.rescue_disk(instance))

    def warm_up(self):
        """One rescue: the rescue image goes into the image cache."""
        instance = self.running_instance_written()
        self.rescue(instance)
        self.tidy(instance)


class TestRescueCampaign(RescueCampaignTestCase):

    def rescue_it(self, instance):
        self.tracker.step = None
        self.rescue(instance)

    def run_rescue(self, instance, call, fault):
        expected = None if campaign.survivable(call) else \
            exception.NovaException
        failed = self.ends_as(expected, self.rescue_it, instance)
        if failed:
            self.assert_not_rescued(instance, WRITTEN)
        else:
            self.assert_rescued(instance, WRITTEN)
        self.tidy(instance)
        return failed

    def test_every_call_of_a_rescue(self):
        self.warm_up()
        calls = self.record(self.rescue_it, self.running_instance_written,
                            self.tidy)
        self.report('rescue (%s)' % self.driver.disk_driver.__class__.__name__,
                    self.campaign(calls, self.running_instance_written,
                                  self.run_rescue))


class TestUnrescueCampaign(RescueCampaignTestCase):

    def rescued(self):
        instance = self.running_instance_written()
        self.rescue(instance)
        return instance

    def unrescue_it(self, instance):
        self.tracker.step = None
        self.unrescue(instance)

    def tidy_after(self, instance, rescued):
        instance.vm_state = vm_states.RESCUED if rescued else \
            vm_states.ACTIVE
        self.tidy(instance)

    def run_unrescue(self, instance, call, fault):
        expected = None if campaign.survivable(call) or \
            call.step == DELETE_RESCUE_DISK else exception.NovaException
        failed = self.ends_as(expected, self.unrescue_it, instance)
        if failed:
            self.assert_rescued(instance, WRITTEN)
        else:
            self.assert_not_rescued(instance, WRITTEN)
        self.tidy_after(instance, failed)
        return failed

    def test_every_call_of_an_unrescue(self):
        self.warm_up()
        calls = self.record(self.unrescue_it, self.rescued,
                            lambda instance: self.tidy_after(instance, False))
        self.assertIn(DELETE_RESCUE_DISK, [call.step for call in calls])
        self.report('unrescue (%s)' % (
            self.driver.disk_driver.__class__.__name__),
            self.campaign(calls, self.rescued, self.run_unrescue))


class TestRescueSSPCampaign(TestRescueCampaign):

    DRIVER_OPTIONS = dict(campaign.FaultCampaignTestCase.DRIVER_OPTIONS,
                          disk_driver='ssp')


class TestUnrescueSSPCampaign(TestUnrescueCampaign):

    DRIVER_OPTIONS = dict(campaign.FaultCampaignTestCase.DRIVER_OPTIONS,
                          disk_driver='ssp')
