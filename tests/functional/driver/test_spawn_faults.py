"""A spawn step failing in NovaLink: the right nova error, nothing left."""

import fixtures as fx
from nova import exception

from powervm_sim import faults
from tests.functional.driver import fixtures

# The create of an LPAR: PUT on the system's LogicalPartition feed.
_CREATE = {'method': 'PUT', 'resource_type': 'LogicalPartition'}
# The PowerOn job: its template is read, then submitted.
_POWER_ON_TEMPLATE = {'method': 'GET', 'path': r'/do/PowerOn$'}
_POWER_ON_SUBMIT = {'job': 'PowerOn'}


class TestSpawnFaults(fixtures.DriverTestCase):

    def _arm(self, outcome, **criteria):
        return self.sim.faults.add(
            faults.FaultRule(outcome=outcome, **criteria))

    def _count_lpar_deletes(self):
        """Arm a rule that only counts LPAR deletes; returns a counter."""
        rule_id = self._arm(faults.DelayOnly(), method='DELETE',
                            resource_type='LogicalPartition')
        return lambda: self.sim.faults.counters()['by_rule'][rule_id]

    def _assert_spawn_fails(self, exc_class):
        instance = self.make_instance()
        err = self.assertRaises(exc_class, self.spawn, instance)
        self.assertIsNone(self.lpar_of(instance))
        self.assertEqual([], self.client_lpars())
        return err

    def test_create_refused(self):
        self._arm(faults.internal_error('Partition create failed.'),
                  **_CREATE)
        deletes = self._count_lpar_deletes()
        err = self._assert_spawn_fails(exception.InstanceDeployFailure)
        self.assertIn('Partition create failed.', str(err))
        # NovaLink said no: there is nothing to delete.
        self.assertEqual(0, deletes())

    def test_create_refused_for_capacity_by_novalink(self):
        self._arm(faults.HttpFault(
            status=400, message='HSCL1544 There is not enough memory '
                                'available on the managed system.'),
            **_CREATE)
        err = self._assert_spawn_fails(exception.InstanceDeployFailure)
        self.assertIn('HSCL1544', str(err))

    def test_create_answer_lost(self):
        self._arm(faults.DropConnection(), **_CREATE)
        deletes = self._count_lpar_deletes()
        self._assert_spawn_fails(exception.InstanceDeployFailure)
        # Without an answer the LPAR may exist: the undo deletes it.
        self.assertEqual(1, deletes())

    def test_create_etag_conflict(self):
        self._arm(faults.EtagConflict(), **_CREATE)
        self._assert_spawn_fails(exception.InstanceDeployFailure)

    def test_power_on_job_fails(self):
        self._arm(faults.JobFailure('HSCL0001 The partition failed to '
                                    'activate.'), **_POWER_ON_SUBMIT)
        err = self._assert_spawn_fails(exception.InstancePowerOnFailure)
        self.assertIn('failed to activate', str(err))

    def test_power_on_template_unreadable(self):
        self._arm(faults.internal_error(), **_POWER_ON_TEMPLATE)
        self._assert_spawn_fails(exception.InstancePowerOnFailure)

    def test_power_on_answer_lost(self):
        self._arm(faults.DropConnection(), **_POWER_ON_SUBMIT)
        self._assert_spawn_fails(exception.InstancePowerOnFailure)

    def test_busy_vios_answers_are_retried(self):
        # The driver's adapter retries "VIOS busy" answers (pypowervm's
        # helper), waiting 5 s, then 10 s; the waits are skipped here.
        sleep = self.useFixture(
            fx.MockPatch('pypowervm.helpers.vios_busy.SLEEP')).mock
        self._arm(faults.vios_busy(), max_count=2, **_CREATE)
        instance = self.make_instance()
        self.spawn(instance, power_on=False)
        self.assertIsNotNone(self.lpar_of(instance))
        self.assertEqual([((5,),), ((10,),)], sleep.call_args_list)

    def test_failed_undo_does_not_hide_the_failure(self):
        # Power on fails, then deleting the LPAR fails too: the spawn
        # reports why it failed, and the LPAR stays for an operator.
        self._arm(faults.JobFailure('HSCL0001 Activation failed.'),
                  **_POWER_ON_SUBMIT)
        self._arm(faults.internal_error('Delete failed.'), method='DELETE',
                  resource_type='LogicalPartition')
        instance = self.make_instance()
        err = self.assertRaises(exception.InstancePowerOnFailure,
                                self.spawn, instance)
        self.assertIn('Activation failed.', str(err))
        self.assertIsNotNone(self.lpar_of(instance))
