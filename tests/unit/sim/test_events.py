"""The simulator's per-application event queues."""

import threading
import time

import testtools

from powervm_sim import events
from powervm_sim.events import EventType

URI = 'https://127.0.0.1/rest/api/uom/ManagedSystem/ms/LogicalPartition/%d'


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _types(event_list):
    return [event.type for event in event_list]


# Far longer than any test runs: a poll only returns early if woken.
_POLL_TIMEOUT = 3600
# Generous bound for a woken poller to finish; it only guards against a
# poller that was never woken, which the hub's close() releases at cleanup.
_JOIN_GUARD = 30


class _Poller:
    """Run one blocking poll in a thread; join() returns what it got."""

    def __init__(self, hub, appid):
        self.result = None
        self._thread = threading.Thread(
            target=self._poll, args=(hub, appid), daemon=True)
        self._thread.start()

    def _poll(self, hub, appid):
        self.result = hub.poll(appid, _POLL_TIMEOUT)

    def join(self):
        self._thread.join(_JOIN_GUARD)
        if self._thread.is_alive():
            raise AssertionError('the poll was never woken')
        return self.result


def _wait_for_pollers(hub, count):
    # Synchronises with the poller threads; asserts nothing about timing.
    while hub.waiting_pollers() < count:
        time.sleep(0.001)


class TestEventHub(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        self.hub = events.EventHub(clock=self.clock)
        self.addCleanup(self.hub.close)

    def _register(self, *appids):
        for appid in appids:
            self.assertEqual([EventType.NEW_CLIENT],
                             _types(self.hub.poll(appid, 0)))

    def test_first_poll_is_new_client_then_empty(self):
        first = self.hub.poll('app', 0)
        self.assertEqual(1, len(first))
        self.assertEqual('NEW_CLIENT', first[0].type)
        self.assertEqual([], self.hub.poll('app', 0))

    def test_events_before_registration_are_not_delivered(self):
        self.hub.publish('ADD_URI', URI % 1)
        self._register('app')
        self.assertEqual([], self.hub.poll('app', 0))

    def test_pending_events_come_at_once_in_order(self):
        self._register('app')
        self.hub.publish('ADD_URI', URI % 1, 'Other')
        self.hub.publish(EventType.MODIFY_URI, URI % 1, 'PartitionState,Other')
        self.hub.publish('DELETE_URI', URI % 1)
        got = self.hub.poll('app', 0)
        self.assertEqual(['ADD_URI', 'MODIFY_URI', 'DELETE_URI'], _types(got))
        self.assertEqual([URI % 1] * 3, [event.data for event in got])
        self.assertEqual(['Other', 'PartitionState,Other', ''],
                         [event.detail for event in got])
        self.assertEqual([], self.hub.poll('app', 0))

    def test_ids_increase_and_are_shared_across_queues(self):
        self._register('a', 'b')
        published = [self.hub.publish('MODIFY_URI', URI % n)
                     for n in range(5)]
        for_a = self.hub.poll('a', 0)
        for_b = self.hub.poll('b', 0)
        self.assertEqual(published, for_a)
        self.assertEqual(published, for_b)
        ids = [int(event.id) for event in for_a]
        self.assertEqual(sorted(set(ids)), ids)
        self.assertTrue(all(isinstance(e.id, str) for e in for_a))

    def test_new_client_ids_come_from_the_same_counter(self):
        self._register('a')
        event = self.hub.publish('ADD_URI', URI % 1)
        new_client = self.hub.poll('b', 0)[0]
        self.assertGreater(int(new_client.id), int(event.id))

    def test_unknown_type_is_rejected(self):
        self._register('app')
        self.assertRaises(ValueError, self.hub.publish, 'NOT_A_TYPE', 'x')
        self.assertEqual([], self.hub.poll('app', 0))

    def test_custom_event_reaches_every_queue(self):
        self._register('sender', 'other')
        self.hub.publish_custom('vif plugged', 'VIF')
        for appid in ('sender', 'other'):
            got = self.hub.poll(appid, 0)
            self.assertEqual(['CUSTOM_CLIENT_EVENT'], _types(got))
            self.assertEqual(('vif plugged', 'VIF'),
                             (got[0].data, got[0].detail))

    def test_blocked_poll_wakes_on_publish(self):
        self._register('app')
        poller = _Poller(self.hub, 'app')
        _wait_for_pollers(self.hub, 1)
        event = self.hub.publish('ADD_URI', URI % 1)
        self.assertEqual([event], poller.join())
        self.assertEqual(0, self.hub.waiting_pollers())

    def test_poll_times_out_empty(self):
        self._register('app')
        self.assertEqual([], self.hub.poll('app', 0.01))

    def test_overflow_collapses_into_missing_events(self):
        hub = events.EventHub(max_queue=3)
        self.addCleanup(hub.close)
        hub.poll('slow', 0)
        hub.poll('fast', 0)
        for n in range(2):
            hub.publish('MODIFY_URI', URI % n)
        self.assertEqual(2, len(hub.poll('fast', 0)))
        for n in range(2, 4):
            hub.publish('MODIFY_URI', URI % n)
        latest = hub.publish('ADD_URI', URI % 9)
        slow = hub.poll('slow', 0)
        self.assertEqual(['MISSING_EVENTS', 'ADD_URI'], _types(slow))
        self.assertEqual(latest, slow[1])
        # The queue that kept up was never over the limit.
        self.assertEqual(['MODIFY_URI', 'MODIFY_URI', 'ADD_URI'],
                         _types(hub.poll('fast', 0)))

    def test_queue_at_the_limit_is_kept(self):
        hub = events.EventHub(max_queue=3)
        self.addCleanup(hub.close)
        hub.poll('app', 0)
        for n in range(3):
            hub.publish('MODIFY_URI', URI % n)
        self.assertEqual(['MODIFY_URI'] * 3, _types(hub.poll('app', 0)))

    def test_clear_one_queue(self):
        self._register('a', 'b')
        self.hub.publish('ADD_URI', URI % 1)
        self.hub.clear('a')
        self.assertEqual(['CACHE_CLEARED'], _types(self.hub.poll('a', 0)))
        self.assertEqual(['ADD_URI'], _types(self.hub.poll('b', 0)))

    def test_clear_all_queues(self):
        self._register('a', 'b')
        self.hub.clear()
        self.assertEqual(['CACHE_CLEARED'], _types(self.hub.poll('a', 0)))
        self.assertEqual(['CACHE_CLEARED'], _types(self.hub.poll('b', 0)))

    def test_clear_unknown_appid_raises(self):
        self.assertRaises(KeyError, self.hub.clear, 'nobody')

    def test_clear_wakes_a_blocked_poll(self):
        self._register('app')
        poller = _Poller(self.hub, 'app')
        _wait_for_pollers(self.hub, 1)
        self.hub.clear('app')
        self.assertEqual(['CACHE_CLEARED'], _types(poller.join()))

    def test_close_wakes_pollers_and_ends_polling(self):
        self._register('a', 'b')
        pollers = [_Poller(self.hub, 'a'), _Poller(self.hub, 'b')]
        _wait_for_pollers(self.hub, 2)
        self.hub.close()
        self.assertEqual([[], []], [poller.join() for poller in pollers])
        self.assertEqual([], self.hub.poll('a', _POLL_TIMEOUT))
        self.assertEqual([], self.hub.poll('new', _POLL_TIMEOUT))

    def test_idle_queue_expires_into_a_new_client(self):
        self._register('app')
        self.hub.publish('ADD_URI', URI % 1)
        self.clock.now += 3601
        self.assertEqual(['NEW_CLIENT'], _types(self.hub.poll('app', 0)))
        self.assertEqual([], self.hub.poll('app', 0))

    def test_polling_keeps_a_queue_alive(self):
        self._register('app')
        for _ in range(3):
            self.clock.now += 3000
            self.assertEqual([], self.hub.poll('app', 0))
        self.hub.publish('ADD_URI', URI % 1)
        self.assertEqual(['ADD_URI'], _types(self.hub.poll('app', 0)))

    def test_a_waiting_queue_is_not_idle(self):
        self._register('app')
        poller = _Poller(self.hub, 'app')
        _wait_for_pollers(self.hub, 1)
        self.clock.now += 7200
        # Another client's poll sweeps idle queues; the waiter's survives.
        self._register('other')
        event = self.hub.publish('ADD_URI', URI % 1)
        self.assertEqual([event], poller.join())

    def test_drop_next_loses_events(self):
        self._register('app')
        self.hub.drop_next(2)
        self.assertIsNone(self.hub.publish('ADD_URI', URI % 1))
        self.assertIsNone(self.hub.publish('ADD_URI', URI % 2))
        kept = self.hub.publish('ADD_URI', URI % 3)
        self.assertEqual([kept], self.hub.poll('app', 0))

    def test_duplicate_next_delivers_twice(self):
        self._register('a', 'b')
        self.hub.duplicate_next(1)
        twice = self.hub.publish('ADD_URI', URI % 1)
        once = self.hub.publish('ADD_URI', URI % 2)
        self.assertEqual([twice, twice, once], self.hub.poll('a', 0))
        self.assertEqual([twice, twice, once], self.hub.poll('b', 0))

    def test_negative_fault_counts_are_rejected(self):
        self.assertRaises(ValueError, self.hub.drop_next, -1)
        self.assertRaises(ValueError, self.hub.duplicate_next, -1)

    def test_concurrent_publishers_lose_nothing(self):
        hub = events.EventHub()
        self.addCleanup(hub.close)
        hub.poll('app', 0)
        per_thread, thread_count = 200, 8

        def publish_many(worker):
            for n in range(per_thread):
                hub.publish('MODIFY_URI', '%d/%d' % (worker, n))

        threads = [threading.Thread(target=publish_many, args=(w,))
                   for w in range(thread_count)]
        for thread in threads:
            thread.start()
        received = []
        while len(received) < per_thread * thread_count:
            received.extend(hub.poll('app', _POLL_TIMEOUT))
        for thread in threads:
            thread.join()
        ids = [int(event.id) for event in received]
        self.assertEqual(sorted(set(ids)), ids)
        self.assertEqual(
            {'%d/%d' % (w, n) for w in range(thread_count)
             for n in range(per_thread)},
            {event.data for event in received})
