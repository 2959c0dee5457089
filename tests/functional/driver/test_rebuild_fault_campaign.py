"""Every REST call of a rebuild and of an evacuate, failed in turn (the
campaign of test_fault_campaign.py).

A rebuild on the instance's host ends in one of three ways: rebuilt; given
back as it was (nova's InstanceFaultRollback: running, its old disk's
bytes, everything mapped), when the failure came before the old disk was
deleted; or failed with the nova error of the step after that, the LPAR
whole but for its boot disk, when nova marks the instance in ERROR and a
rebuild again makes it whole.  An evacuate ends with the instance on the
destination, or refused or failed with nothing left there and the source
(down) untouched, when evacuating again brings it over.  Either way, once
the source comes back and nova deletes the instance, nothing is left on
either system.
"""

from nova.compute import power_state
from nova import exception

from tests.functional.driver import test_fault_campaign as campaign
from tests.functional.driver import test_rebuild

# The steps before the old disk is deleted, and that delete: their failure
# rolls the rebuild back.
TAKE_DOWN_STEPS = ('power_off', 'cache_image', 'unmap_old_disk',
                   'delete_old_disk')
# The nova error of a failed step after them, and of an evacuate's.
BRING_BACK_ERRORS = {
    'plug_mgmt_vif': exception.VirtualInterfacePlugException,
    'delete_cfg_drive': exception.InstanceTerminationFailure,
}
BRING_BACK_ERRORS.update(campaign.SPAWN_STEP_ERRORS)
EVACUATE_ERRORS = dict(campaign.SPAWN_STEP_ERRORS,
                       find_disk=exception.InstanceDeployFailure,
                       # The volume found and mapped by the destination's
                       # VIOSes: the volume adapter's nova error.
                       connect_volume_0=exception.NovaException)

ROLLED_BACK = 'rolled back'
ERROR = 'error'
DONE = 'done'


class TestRebuildCampaign(campaign.FaultCampaignTestCase,
                          test_rebuild.RebuildTestCase):

    def rebuild_once(self, instance):
        self.tracker.step = None
        self.rebuild(instance)

    def tidy(self, instance):
        self.tracker.step = None
        self.driver.destroy(self.context, instance, self.network_info)
        self.assert_nothing_left(instance)

    def assert_running(self, instance):
        """Running, with its VIFs, config drive and boot disk mapped from
        every VIOS that serves the disk."""
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(instance).state)
        self.assert_whole(instance)

    def ending(self, call, operation, *args):
        """How ``operation`` ended (ROLLED_BACK, ERROR or DONE), noting in
        ``self.unexpected`` an ending the failed call's step does not
        have."""
        try:
            operation(*args)
        except exception.InstanceFaultRollback:
            ending, allowed = ROLLED_BACK, call.step in TAKE_DOWN_STEPS
        except Exception as exc:
            ending = ERROR
            allowed = isinstance(exc, BRING_BACK_ERRORS.get(
                call.step, ())) or (
                # A delete whose answer was lost did delete: the disk
                # cannot be mapped again, and the undo says so.
                call.step == 'delete_old_disk' and
                isinstance(exc, exception.DiskNotFound))
            if not allowed:
                self.unexpected.append('%s: raised %s' % (
                    self.current, type(exc).__name__))
                return ending
        else:
            ending, allowed = DONE, True
        if campaign.survivable(call) and ending != DONE:
            allowed = False
        if not allowed:
            self.unexpected.append('%s: %s' % (self.current, ending))
        return ending

    def run_rebuild(self, instance, call, fault):
        lpar = self.lpar_of(instance)
        ending = self.ending(call, self.rebuild_once, instance)
        self.endings[ending] = self.endings.get(ending, 0) + 1
        if ending == ROLLED_BACK:
            self.assert_running(instance)
            self.assertEqual(self.image_data, self.disk_bytes(
                instance, len(self.image_data)))
        elif ending == ERROR:
            # nova has it in ERROR; a rebuild of it is allowed.
            self.assertIsNone(self.boot_disk(instance))
            self.rebuild_once(instance)
        if ending != ROLLED_BACK:
            self.assert_running(instance)
            self.assertEqual(self.new_data, self.disk_bytes(
                instance, len(self.new_data)))
        # The same partition throughout.
        self.assertIs(lpar, self.lpar_of(instance))
        self.tidy(instance)
        return ending != DONE

    def test_every_call_of_a_rebuild(self):
        # The new image's cache is made by the first rebuild to it; the
        # campaign is about the rebuilds after it.
        first = self.spawned()
        self.rebuild_once(first)
        self.tidy(first)
        calls = self.record(self.rebuild_once, self.spawned, self.tidy)
        steps = [call.step for call in calls]
        self.assertEqual(set(), set(steps) - set(TAKE_DOWN_STEPS) -
                         set(BRING_BACK_ERRORS))
        self.endings = {}
        tally = self.campaign(calls, self.spawned, self.run_rebuild)
        # Both ways of failing happen.
        self.assertEqual(tally.failed, self.endings[ROLLED_BACK] +
                         self.endings[ERROR])
        self.report('rebuild (%s; failed: %d rolled back, %d in error, '
                    'rebuilt again)' % (
                        self.DRIVER_OPTIONS.get('disk_driver', 'localdisk'),
                        self.endings[ROLLED_BACK], self.endings[ERROR]),
                    tally)


class TestRebuildSSPCampaign(TestRebuildCampaign):

    DRIVER_OPTIONS = dict(campaign.FaultCampaignTestCase.DRIVER_OPTIONS,
                          disk_driver='ssp')


class TestEvacuateCampaign(campaign.FaultCampaignTestCase,
                           test_rebuild.EvacuateTestCase):
    """The source (system 0) is down; the instance is evacuated to the
    destination (system 1), both nodes of one storage pool."""

    SHARED_SSP = True
    DRIVER_OPTIONS = dict(campaign.FaultCampaignTestCase.DRIVER_OPTIONS,
                          disk_driver='ssp')

    # Whether the instance has a Fibre Channel volume attached.
    WITH_VOLUME = False

    def prepare(self):
        """A running instance on the source, what the source has of it
        and its volume: (LUN, the source's block_device_info, the
        destination's), or None."""
        if not self.WITH_VOLUME:
            instance = self.spawned()
            return instance, self.footprint(0, instance), None
        instance, lun, info, bdi = test_rebuild.with_fc_volume(self)
        return instance, self.footprint(0, instance), (
            lun, bdi, self.connection_for(1, lun, info))

    def evacuate_once(self, prepared):
        instance, _before, volume = prepared
        self.tracker.step = None
        if volume is None:
            self.evacuate(instance)
        else:
            _lun, bdi, new_bdi = volume
            self.evacuate(instance, bdi, new_block_device_info=new_bdi)

    def tidy(self, prepared):
        """The source comes back (nova's clean-up of evacuated instances)
        and nova deletes the instance: nothing is left anywhere."""
        instance, _before, volume = prepared
        new_bdi = None if volume is None else volume[2]
        self.tracker.step = None
        self.come_back(instance, new_bdi)
        self.dest.destroy(self.context, instance, self.network_info,
                          new_bdi)
        for index in range(self.SYSTEMS):
            self.assertEqual(self.NOTHING, self.footprint(index, instance))
            if volume is not None:
                self.assertEqual({}, self.volume_on(index, volume[0]))
        self.assertEqual([], self.logical_units('VirtualIO_Disk'))

    def assert_evacuated(self, instance, before, volume):
        """The destination has all the source had: the same adapters,
        config drive and LU; the volume mapped from both its VIOSes."""
        after = self.footprint(1, instance)
        if volume is None:
            self.assertEqual(before, after)
            return
        lun = volume[0]
        lpar_id = self.lpar_on(1, instance).partition_id
        self.assertEqual([lpar_id, lpar_id], [
            partition for _hdisk, partition
            in self.volume_on(1, lun).values()])
        hdisks = sorted(hdisk for hdisk, _id in self.volume_on(
            1, lun).values())
        self.assertEqual(
            sorted(name for name in before['mappings']
                   if not name.startswith('hdisk')),
            sorted(name for name in after['mappings']
                   if name not in hdisks))
        self.assertEqual(
            {key: value for key, value in before.items()
             if key != 'mappings'},
            {key: value for key, value in after.items()
             if key != 'mappings'})

    def run_evacuate(self, prepared, call, fault):
        instance, before, volume = prepared
        lu = self.boot_lu(instance)
        try:
            self.evacuate_once(prepared)
        except exception.InstanceFaultRollback:
            # Refused: the disk could not be looked up.
            failed = True
            allowed = call.step is None
        except Exception as exc:
            failed = True
            allowed = isinstance(exc, EVACUATE_ERRORS.get(call.step, ()))
        else:
            failed = False
            allowed = True
        if campaign.survivable(call) and failed:
            allowed = False
        if not allowed:
            self.unexpected.append('%s: %s' % (
                self.current, 'failed' if failed else 'done'))
        # The source, down, is as it was whatever happened.
        self.assertEqual(before, self.footprint(0, instance))
        if failed:
            self.assertEqual(self.NOTHING, self.footprint(1, instance))
            if volume is not None:
                # No mapping of the volume (an hdisk whose discovery's
                # answer was lost may stay, unmapped, for the next one).
                self.assertEqual(set(), {
                    partition for _hdisk, partition
                    in self.volume_on(1, volume[0]).values()} - {None})
            # nova marks the migration failed; evacuating again works.
            self.evacuate_once(prepared)
        self.assert_evacuated(instance, before, volume)
        self.assertIs(lu, self.boot_lu(instance))
        self.tidy(prepared)
        return failed

    def test_every_call_of_an_evacuate(self):
        # What the destination looks up once (its switches, its media
        # repository) it keeps: the campaign is about the evacuates after
        # the first.
        first = self.prepare()
        self.evacuate_once(first)
        self.tidy(first)
        calls = self.record(self.evacuate_once, self.prepare, self.tidy)
        steps = [call.step for call in calls]
        self.assertEqual(set(), set(steps) - {None} - set(EVACUATE_ERRORS))
        self.report('evacuate%s' % (
            ' (FC volume)' if self.WITH_VOLUME else ''),
            self.campaign(calls, self.prepare, self.run_evacuate))


class TestEvacuateWithVolumeCampaign(TestEvacuateCampaign):

    WITH_VOLUME = True
