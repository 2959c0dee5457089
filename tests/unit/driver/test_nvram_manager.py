"""The NVRAM manager's queue: coalescing, retries, bounds, shutdown (no
I/O: the store and NovaLink's reads are in-memory stand-ins)."""

import threading

import testtools

from nova_powervm.nvram import api
from nova_powervm.nvram import manager

LPAR = 'aaaaaaaa-0000-0000-0000-000000000001'
OTHER = 'aaaaaaaa-0000-0000-0000-000000000002'
# Bound for anything awaited: only a hang comes near it.
GUARD = 30


class MemoryStore(api.NvramStore):
    """Keeps NVRAM in a dict; fails the next ``failures`` calls; each
    call may wait on ``gate`` (signalling ``entered`` first)."""

    def __init__(self):
        self.objects = {}
        self.calls = []
        self.failures = 0
        self.gate = None
        self.entered = threading.Event()

    def _enter(self, name, uuid):
        self.calls.append((name, uuid))
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(GUARD)
        if self.failures:
            self.failures -= 1
            raise api.StoreError('store down')

    def store(self, instance_uuid, data):
        self._enter('store', instance_uuid)
        self.objects[instance_uuid] = data

    def fetch(self, instance_uuid):
        self._enter('fetch', instance_uuid)
        return self.objects.get(instance_uuid)

    def delete(self, instance_uuid):
        self._enter('delete', instance_uuid)
        self.objects.pop(instance_uuid, None)


class Partitions:
    """What NovaLink shows: LPAR UUID -> NVRAM bytes; reads may wait on
    ``gate`` (signalling ``reading`` first)."""

    def __init__(self):
        self.nvram = {LPAR: b'one', OTHER: b'other'}
        self.reads = 0
        self.gate = None
        self.reading = threading.Event()

    def read(self, lpar_uuid):
        self.reads += 1
        self.reading.set()
        if self.gate is not None:
            self.gate.wait(GUARD)
        return self.nvram.get(lpar_uuid)


def instance_of(lpar_uuid):
    return None if lpar_uuid.startswith('ffff') else 'inst-' + lpar_uuid[-1]


class ManagerTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.store = MemoryStore()
        self.parts = Partitions()

    def manager(self, **kwargs):
        kwargs.setdefault('retry_delays', (0.01, 0.01))
        mgr = manager.NvramManager(self.store, self.parts.read, instance_of,
                                   **kwargs)
        self.addCleanup(mgr.shutdown, 0)
        return mgr

    def flushed(self, mgr):
        self.assertTrue(mgr.flush(GUARD))

    def block_reads(self, mgr):
        """Hold the worker inside a read of LPAR's NVRAM; returns the gate
        that lets it go on."""
        gate = self.parts.gate = threading.Event()
        mgr.store(LPAR)
        self.assertTrue(self.parts.reading.wait(GUARD))
        return gate


class TestSaving(ManagerTestCase):

    def test_store_saves_the_latest_bytes_by_instance(self):
        mgr = self.manager()
        self.assertTrue(mgr.store(LPAR.upper()))
        self.flushed(mgr)
        self.assertEqual({'inst-1': b'one'}, self.store.objects)
        self.assertEqual(1, mgr.stats['saved'])

    def test_repeats_coalesce_into_one_save_of_the_latest(self):
        mgr = self.manager()
        gate = self.block_reads(mgr)
        # The guest writes its NVRAM again and again meanwhile.
        for n in range(50):
            self.parts.nvram[LPAR] = b'write %d' % n
            self.assertTrue(mgr.store(LPAR))
        self.assertEqual(1, mgr.pending())
        gate.set()
        self.flushed(mgr)
        self.assertEqual(b'write 49', self.store.objects['inst-1'])
        # The save in flight, then one for all 50 requests.
        self.assertEqual(2, self.parts.reads)
        self.assertEqual(49, mgr.stats['coalesced'])

    def test_unchanged_bytes_are_not_sent_again(self):
        mgr = self.manager()
        mgr.store(LPAR)
        self.flushed(mgr)
        mgr.store(LPAR)
        self.flushed(mgr)
        self.assertEqual([('store', 'inst-1')], self.store.calls)
        self.assertEqual(1, mgr.stats['unchanged'])

    def test_lpar_of_no_instance_or_gone_is_not_saved(self):
        mgr = self.manager()
        mgr.store('ffffffff-0000-0000-0000-000000000001')
        mgr.store('aaaaaaaa-0000-0000-0000-000000000009')
        self.flushed(mgr)
        self.assertEqual({}, self.store.objects)

    def test_requests_never_wait_for_a_hung_store(self):
        mgr = self.manager()
        self.store.gate = threading.Event()
        self.addCleanup(self.store.gate.set)
        mgr.store(LPAR)
        # The store hangs in that save before anything else is asked.
        self.assertTrue(self.store.entered.wait(GUARD))
        done = threading.Event()

        def ask():
            for _ in range(20):
                mgr.store(LPAR)
                mgr.store(OTHER)
            mgr.remove(OTHER, 'inst-2')
            done.set()

        threading.Thread(target=ask, daemon=True).start()
        self.assertTrue(done.wait(GUARD))
        self.assertEqual([('store', 'inst-1')], self.store.calls)

    def test_full_queue_refuses_new_lpars_only(self):
        mgr = self.manager(max_pending=1)
        gate = self.block_reads(mgr)
        self.assertTrue(mgr.store(OTHER))
        self.assertFalse(mgr.store('aaaaaaaa-0000-0000-0000-000000000003'))
        # One already waiting is still taken.
        self.assertTrue(mgr.store(OTHER))
        gate.set()
        self.flushed(mgr)
        self.assertEqual(1, mgr.stats['refused'])
        self.assertEqual({'inst-1', 'inst-2'}, set(self.store.objects))


class TestFailures(ManagerTestCase):

    def test_failed_save_is_tried_again(self):
        mgr = self.manager()
        self.store.failures = 2
        mgr.store(LPAR)
        self.flushed(mgr)
        self.assertEqual({'inst-1': b'one'}, self.store.objects)
        self.assertEqual(2, mgr.stats['failed'])

    def test_failing_store_is_given_up_after_the_retries(self):
        mgr = self.manager()
        self.store.failures = 100
        mgr.store(LPAR)
        self.flushed(mgr)
        self.assertEqual(3, len(self.store.calls))
        self.assertEqual(1, mgr.stats['given_up'])

    def test_removal_is_retried_and_never_raises(self):
        mgr = self.manager()
        self.store.objects['inst-1'] = b'one'
        self.store.failures = 1
        self.assertTrue(mgr.remove(LPAR, 'inst-1'))
        self.flushed(mgr)
        self.assertEqual({}, self.store.objects)
        self.assertEqual(1, mgr.stats['removed'])

    def test_fetch_of_a_failing_store_is_none(self):
        mgr = self.manager()
        self.store.objects['inst-1'] = b'one'
        self.assertEqual(b'one', mgr.fetch('inst-1'))
        self.store.failures = 1
        self.assertIsNone(mgr.fetch('inst-1'))


class TestOrder(ManagerTestCase):

    def test_removal_replaces_a_waiting_save(self):
        mgr = self.manager()
        gate = self.block_reads(mgr)
        mgr.store(OTHER)
        mgr.remove(OTHER, 'inst-2')
        gate.set()
        self.flushed(mgr)
        self.assertNotIn(('store', 'inst-2'), self.store.calls)
        self.assertIn(('delete', 'inst-2'), self.store.calls)

    def test_save_does_not_replace_a_waiting_removal(self):
        mgr = self.manager()
        gate = self.block_reads(mgr)
        mgr.remove(OTHER, 'inst-2')
        mgr.store(OTHER)
        gate.set()
        self.flushed(mgr)
        self.assertNotIn(('store', 'inst-2'), self.store.calls)

    def test_save_now_takes_the_place_of_a_waiting_save(self):
        mgr = self.manager()
        gate = self.block_reads(mgr)
        mgr.store(OTHER)
        gate.set()
        self.assertTrue(mgr.save_now(OTHER, 'inst-2'))
        self.flushed(mgr)
        self.assertEqual(1, self.store.calls.count(('store', 'inst-2')))

    def test_save_now_sends_even_what_this_host_sent_last(self):
        # Another host's LPAR of the instance may have stored others.
        mgr = self.manager()
        mgr.store(LPAR)
        self.flushed(mgr)
        self.store.objects['inst-1'] = b'another host'
        self.assertTrue(mgr.save_now(LPAR, 'inst-1'))
        self.assertEqual(b'one', self.store.objects['inst-1'])

    def test_fetch_for_an_lpar_is_what_the_store_holds_of_it(self):
        mgr = self.manager()
        self.store.objects['inst-1'] = b'one'
        self.assertEqual(b'one', mgr.fetch('inst-1', LPAR))
        # The LPAR started with those bytes: nothing to send.
        mgr.store(LPAR)
        self.flushed(mgr)
        self.assertEqual(1, mgr.stats['unchanged'])
        self.assertNotIn(('store', 'inst-1'), self.store.calls)

    def test_failed_save_now_is_saved_later(self):
        mgr = self.manager()
        self.store.failures = 1
        self.assertFalse(mgr.save_now(LPAR, 'inst-1'))
        self.flushed(mgr)
        self.assertEqual({'inst-1': b'one'}, self.store.objects)


class TestShutdown(ManagerTestCase):

    def test_shutdown_finishes_what_is_due_then_refuses(self):
        mgr = self.manager()
        mgr.store(LPAR)
        mgr.store(OTHER)
        self.assertTrue(mgr.shutdown(GUARD))
        self.assertEqual({'inst-1', 'inst-2'}, set(self.store.objects))
        self.assertFalse(mgr.store(LPAR))

    def test_shutdown_tries_a_failing_save_once_more_only(self):
        mgr = self.manager(retry_delays=(0.01,) * 1000)
        self.store.failures = 10 ** 6
        mgr.store(LPAR)
        with mgr._cond:
            self.assertTrue(mgr._cond.wait_for(
                lambda: mgr.stats['failed'] >= 1, GUARD))
        # A store that stays down does not hold the stop until its
        # deadline: what fails while stopping is given up.
        self.assertTrue(mgr.shutdown(GUARD))
        self.assertLess(mgr.stats['failed'], 100)
        self.assertEqual(1, mgr.stats['given_up'])

    def test_shutdown_drops_what_is_not_due_in_time(self):
        mgr = self.manager(retry_delays=(GUARD * 10,))
        self.store.failures = 1
        failed = threading.Event()
        self.store.gate = failed
        mgr.store(LPAR)
        failed.set()
        # Its retry waits far beyond any shutdown.
        self.assertFalse(mgr.flush(0.5))
        self.assertEqual(1, mgr.pending())
        self.assertTrue(mgr.shutdown(0))
        self.assertEqual(0, mgr.pending())
