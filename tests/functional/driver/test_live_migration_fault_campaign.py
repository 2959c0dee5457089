"""Every REST call of a live migration, failed in turn (the campaign of
test_fault_campaign.py), over nova's steps on both hosts
(test_live_migration.py).

Whichever call fails, the instance is never lost and nothing is left
that nova does not know about:

- a failed check refuses (MigrationPreCheckError) and a failed
  preparation of the destination fails (MigrationError): the instance
  runs on the source as it was, the destination has nothing of it;
- a failed move is rolled back through nova's recover_method: the
  instance runs on the source as it was, the destination (asked by the
  source's rollback) has nothing of it;
- otherwise the instance runs on the destination with everything it had,
  and the source has nothing of it: the post steps try each removal
  twice, the destination writes its config drive twice.
"""

from nova import exception

from tests.functional.driver import test_fault_campaign as campaign
from tests.functional.driver import test_live_migration as lpm

# What a failure in each of nova's steps ends in, when it ends in an error.
STEP_ERRORS = {
    lpm.CHECK_DESTINATION: exception.MigrationPreCheckError,
    lpm.CHECK_SOURCE: exception.MigrationPreCheckError,
    lpm.PRE_LIVE_MIGRATION: exception.MigrationError,
}
# The steps of the destination's preparation (TaskFlow's names).
PRE_STEPS = {lpm.PRE_LIVE_MIGRATION, 'authorize_source', 'receive_vifs',
             'receive_vfc_ports'}


class TestLiveMigrationCampaign(campaign.FaultCampaignTestCase,
                                lpm.LiveMigrationTestCase):

    DRIVER_OPTIONS = dict(campaign.FaultCampaignTestCase.DRIVER_OPTIONS,
                          disk_driver='ssp')

    def at(self, step):
        self.tracker.step = step

    def prepare(self):
        """A running instance, and what the source has of it."""
        instance = self.running()
        return instance, self.serving(0, instance)

    def move(self, prepared):
        return self.live_migrate(prepared[0])

    def tidy(self, prepared):
        """Delete the instance where it runs; nothing is left on either
        system."""
        instance, _before = prepared
        self.tracker.step = None
        driver = self.dest if self.lpar_on(1, instance) else self.driver
        driver.destroy(self.context, instance, self.network_info)
        for index in range(self.SYSTEMS):
            self.assertEqual(self.NOTHING, self.footprint(index, instance))
        self.assertEqual([], self.logical_units('VirtualIO_Disk'))

    def run_move(self, prepared, call, fault):
        instance, before = prepared
        outcome = []
        expected = STEP_ERRORS.get(
            lpm.PRE_LIVE_MIGRATION if call.step in PRE_STEPS else call.step)
        if campaign.survivable(call):
            expected = None
        failed = self.ends_as(expected, lambda: outcome.append(
            self.move(prepared)))
        if outcome and outcome[0].post:
            self.assertEqual([1], self.systems_with_lpar(instance))
            self.assertEqual(before, self.serving(1, instance))
            self.assertEqual(self.NOTHING, self.footprint(0, instance))
        else:
            self.assert_home(instance, before)
            failed = True
        self.tidy(prepared)
        return failed

    def test_every_call_of_a_live_migration(self):
        # What each host looks up once (its switches, its media
        # repository) it keeps for the moves after the first: the campaign
        # is about those.
        first = self.prepare()
        self.move(first)
        self.tidy(first)
        calls = self.record(self.move, self.prepare, self.tidy)
        steps = {call.step for call in calls}
        self.assertIn('move_lpar', steps)
        self.assertIn(lpm.POST_AT_DESTINATION, steps)
        self.report('live migration', self.campaign(
            calls, self.prepare, self.run_move))
