"""Every REST call of a resize and of a cold migration, failed in turn (the
campaign of test_fault_campaign.py).

A resize on the instance's own host is nova's two steps on that host:
migrate_disk_and_power_off, then finish_migration.  Each run ends with the
instance resized and running, or failed with nova's InstanceFaultRollback
and the instance running as it was: its old flavor, its VIFs, config drive,
boot disk mapping and volume.  Only the disk may have grown (a disk cannot
shrink): when the failure came once the disk was grown.  A cold migration
is TestColdMigrationCampaign's.
"""

from nova import exception

from nova_powervm import resize
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


# The steps of finish_migration on the destination: a spawn's, the boot
# disk found rather than made.
FINISH_STEPS = (set(campaign.SPAWN_STEP_ERRORS) - {'create_disk_from_image'}
                | {'find_disk'})


class TestColdMigrationCampaign(campaign.FaultCampaignTestCase,
                                test_resize.TwoHostsTestCase):
    """A move to another system with a shared storage pool: the source's
    migrate_disk_and_power_off, then the destination's finish_migration.

    A failure on the source rolls back (InstanceFaultRollback) to the
    instance running there as it was; a failure on the destination leaves
    nothing there and the source's LPAR as it was but stopped (nova puts
    the instance in error on the destination: nova has no way back to the
    source).  Nothing is left on either system once nova deletes the
    instance (see tidy).
    """

    SHARED_SSP = True
    DRIVER_OPTIONS = dict(campaign.FaultCampaignTestCase.DRIVER_OPTIONS,
                          disk_driver='ssp')

    def setUp(self):
        super().setUp()
        self.new_flavor = self.flavor()

    def prepare(self):
        """A running instance, and what the source has of it."""
        instance = self.spawned()
        return instance, self.footprint(0, instance)

    def move_to_dest(self, prepared):
        self.tracker.step = None
        self.move(prepared[0], self.new_flavor)

    def tidy(self, prepared):
        """What nova does after the move, and then to delete the server:
        a move that finished is confirmed (the source's LPAR goes) and the
        server deleted on the destination.  One that failed on the
        destination has the server deleted there, which leaves the disk
        the source's LPAR maps, then reaped on the source
        (running_deleted_instance_action).  One that failed on the source
        has the server deleted there.  Nothing is left anywhere."""
        instance, _before = prepared
        self.tracker.step = None
        if self.lpar_on(1, instance) is not None:
            self.nova.confirm(self.driver, instance,
                              resize.migration_of(self.context, instance))
            self.assertEqual(self.NOTHING, self.footprint(0, instance))
            self.dest.destroy(self.context, instance, self.network_info)
        else:
            if instance.host == test_resize.DEST_HOST:
                self.dest.destroy(self.context, instance, self.network_info)
            self.driver.destroy(self.context, instance, self.network_info)
        for index in range(self.SYSTEMS):
            self.assertEqual(self.NOTHING, self.footprint(index, instance))
        self.assertEqual([], self.logical_units('VirtualIO_Disk'))

    def run_move(self, prepared, call, fault):
        instance, before = prepared
        on_source = call.step in self.source_steps
        expected = None
        if not campaign.survivable(call):
            # On the destination, the error of the step (as a spawn's), or
            # ResizeError for a NovaLink error that is no step's own.
            expected = (exception.InstanceFaultRollback if on_source
                        else exception.NovaException)
        failed = self.ends_as(expected, self.move_to_dest, prepared)
        if not failed:
            self.assertEqual(self.stopped(before),
                             self.footprint(0, instance))
            self.assertEqual(before, self.footprint(1, instance))
        elif on_source:
            self.assertEqual(before, self.footprint(0, instance))
            self.assertEqual(self.NOTHING, self.footprint(1, instance))
        else:
            self.assertEqual(self.stopped(before),
                             self.footprint(0, instance))
            self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.tidy(prepared)
        return failed

    def test_every_call_of_a_cold_migration(self):
        # What the destination looks up once (its switches, its media
        # repository) it keeps for the moves after the first: the campaign
        # is about those.
        first = self.prepare()
        self.move_to_dest(first)
        self.tidy(first)
        calls = self.record(self.move_to_dest, self.prepare, self.tidy)
        steps = [call.step for call in calls]
        # The source's steps come first; the destination's begin with its
        # LPAR.
        self.source_steps = set(steps[:steps.index('create_lpar')])
        self.assertEqual(set(), set(steps) - self.source_steps -
                         FINISH_STEPS)
        self.report('cold migration', self.campaign(
            calls, self.prepare, self.run_move))
