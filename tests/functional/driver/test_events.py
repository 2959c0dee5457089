"""NovaLink state changes reach nova as delayed lifecycle events."""

import time

from nova.compute import power_state
from nova.compute import task_states
from nova.virt import event as virtevent
from pypowervm.tasks import power as pvm_power
from pypowervm.wrappers import logical_partition as pvm_lpar

from powervm_sim import faults
from tests.functional.driver import fixtures

# Long enough for the delay, the state read and the database lookup.
_WAIT = 10 * fixtures.EVENT_DELAY + 5


class TestLifecycleEvents(fixtures.DriverTestCase):

    SIM_LPARS = 1

    def setUp(self):
        super().setUp()
        self.events = self.driver_fixture.events
        # As in nova: the spawn runs under a task state, and nova records
        # its outcome itself, so the spawn's own changes are not reported.
        self.instance = self.make_instance(task_state=task_states.SPAWNING)
        self.spawn(self.instance)
        self.instance.power_state = power_state.RUNNING
        self.instance.vm_state = 'active'
        self.instance.task_state = None
        self.instance.save()
        self.lpar = self.lpar_of(self.instance)

    def _wait_for_events(self, count=1):
        deadline = time.monotonic() + _WAIT
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        # Long enough for an unexpected further event to show up.
        time.sleep(3 * fixtures.EVENT_DELAY)
        return list(self.events)

    def _assert_no_event(self):
        # Several delays: a held change would have been reported by now.
        time.sleep(5 * fixtures.EVENT_DELAY)
        self.assertEqual([], self.events)

    def test_power_off_behind_novas_back_is_reported_after_the_delay(self):
        started = time.monotonic()
        self.sim.model.set_partition_state(self.lpar, 'not activated')
        events = self._wait_for_events()
        self.assertGreaterEqual(time.monotonic() - started,
                                fixtures.EVENT_DELAY)
        self.assertEqual(1, len(events))
        self.assertIsInstance(events[0], virtevent.LifecycleEvent)
        self.assertEqual(self.instance.uuid, events[0].uuid)
        self.assertEqual(virtevent.EVENT_LIFECYCLE_STOPPED,
                         events[0].transition)

    def test_start_behind_novas_back_is_reported(self):
        self.instance.power_state = power_state.SHUTDOWN
        self.instance.save()
        self.sim.model.set_partition_state(self.lpar, 'not activated')
        self.sim.model.set_partition_state(self.lpar, 'starting')
        events = self._wait_for_events()
        self.assertEqual([virtevent.EVENT_LIFECYCLE_STARTED],
                         [event.transition for event in events])

    def test_a_quick_off_and_on_is_not_reported(self):
        # A reboot: off, starting, running within the delay.  Each change
        # replaces the held one, so the state is read once, at the end,
        # and it is what nova knows.
        state_reads = self._count(r'/quick/PartitionState$')
        for state in ('shutting down', 'not activated', 'starting',
                      'running'):
            self.sim.model.set_partition_state(self.lpar, state)
        self._assert_no_event()
        self.assertEqual(1, state_reads())

    def _count(self, path):
        rule_id = self.sim.faults.add(faults.FaultRule(
            outcome=faults.DelayOnly(), path=path))
        return lambda: self.sim.faults.counters()['by_rule'][rule_id]

    def test_no_event_while_nova_drives_a_task(self):
        self.instance.task_state = task_states.POWERING_OFF
        self.instance.save()
        self.sim.model.set_partition_state(self.lpar, 'not activated')
        self._assert_no_event()

    def test_lpars_nova_did_not_create_are_ignored(self):
        other = [lpar for lpar in self.client_lpars()
                 if lpar is not self.lpar][0]
        self.sim.model.set_partition_state(other, 'running')
        self._assert_no_event()

    def test_power_off_through_pypowervm_is_reported(self):
        # A stop made through NovaLink's REST API (another client).
        adapter = self.sim.adapter()
        lpar_w = pvm_lpar.LPAR.get(adapter, uuid=self.lpar.uuid)
        pvm_power.power_off_progressive(lpar_w)
        events = self._wait_for_events()
        self.assertEqual([virtevent.EVENT_LIFECYCLE_STOPPED],
                         [event.transition for event in events])

    def test_no_events_after_cleanup_host(self):
        self.driver.cleanup_host(fixtures.HOST)
        self.sim.model.set_partition_state(self.lpar, 'not activated')
        self._assert_no_event()
