"""Every REST call of a resize, failed in turn (the campaign of
test_fault_campaign.py).

A resize on the instance's own host is nova's two steps on that host:
migrate_disk_and_power_off, then finish_migration.  Each run ends with the
instance resized and running, or failed with nova's InstanceFaultRollback
and the instance running as it was: its old flavor, its VIFs, config drive,
boot disk mapping and volume.  Only the disk may have grown (a disk cannot
shrink): when the failure came once the disk was grown.
"""

from nova import exception

from tests.functional.driver import fixtures
from tests.functional.driver import test_fault_campaign as campaign
from tests.functional.driver import test_resize

# The step that grows the boot disk; it and every step after it may leave
# the disk grown.
EXTEND_DISK = 'extend_disk'


def _tried_again(call, fault):
    """Whether the call is one a volume's disconnect tries once more after
    a failure (removing the hdisk, undo.retrying_once): the disconnect
    goes on, unless the device went and the answer was lost (the second
    try finds no such device)."""
    return call.path.endswith('/do/RemoveDevice') and not (
        call.method == 'PUT' and fault is campaign.DROP_AFTER)


class TestSameHostResizeCampaign(campaign.FaultCampaignTestCase,
                                 test_resize.ResizeTestCase):

    # Whether the instance has a Fibre Channel volume attached.
    WITH_VOLUME = False

    def setUp(self):
        super().setUp()
        self.new_flavor = self.flavor()

    def prepare(self):
        """A running instance (and its volume's LUN and BDM, or None)."""
        instance = self.spawned()
        if not self.WITH_VOLUME:
            return instance, None, None
        self.sim.model.set_partition_state(self.lpar_of(instance), 'running',
                                           rmc_state='active')
        lun, info = self.fc_volume()
        self.attach(instance, info)
        return instance, lun, fixtures.DriverBDM(info)

    def resize_in_place(self, prepared):
        instance, _lun, bdm = prepared
        self.tracker.step = None
        self.resize(instance, self.new_flavor,
                    block_device_info=self.bdi(bdm))

    def bdi(self, bdm):
        return None if bdm is None else fixtures.block_device_info(bdm)

    def tidy(self, prepared):
        instance, lun, bdm = prepared
        self.tracker.step = None
        self.driver.destroy(self.context, instance, self.network_info,
                            block_device_info=self.bdi(bdm))
        self.assert_nothing_left(instance)
        if lun is not None:
            self.assert_volume_gone(lun)

    def run_resize(self, prepared, call, fault):
        instance, lun, bdm = prepared
        expected = (None if campaign.survivable(call) or
                    _tried_again(call, fault)
                    else exception.InstanceFaultRollback)
        failed = self.ends_as(expected, self.resize_in_place, prepared)
        if failed:
            self.assert_lpar_has(instance, 2048, 2)
            self.assertIn(self.boot_disk_gb(instance), (
                (1.0, 2.0) if call.step in self.grown_steps else (1.0,)))
        else:
            self.assert_lpar_has(instance, 4096, 4)
            self.assertEqual(2.0, self.boot_disk_gb(instance))
        self.assert_whole(instance)
        if lun is not None:
            self.assert_volume_attached(instance, lun, bdm['connection_info'])
        self.tidy(prepared)
        return failed

    def test_every_call_of_a_resize(self):
        calls = self.record(self.resize_in_place, self.prepare, self.tidy)
        steps = [call.step for call in calls]
        self.assertIn(EXTEND_DISK, steps)
        self.grown_steps = set(steps[steps.index(EXTEND_DISK):])
        self.report('resize (same host%s)' % (
            ', FC volume' if self.WITH_VOLUME else ''),
            self.campaign(calls, self.prepare, self.run_resize))


class TestSameHostResizeWithVolumeCampaign(TestSameHostResizeCampaign):

    WITH_VOLUME = True
