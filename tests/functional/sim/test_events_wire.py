"""pypowervm's event listener against the simulator's event feed: what a
long-polling client sees when partitions come, change and go, and that each
NovaLink only reports its own managed system."""

import threading

from pypowervm import adapter as pvm_adpt
from pypowervm.tasks import power
from pypowervm.tasks import power_opts
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import event as pvm_event
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
import testtools

from powervm_sim import fixture

# Upper bound for an awaited event or a stopping thread.  The fixture's
# long poll returns within a second, so only a missing event or a thread
# that never stops gets anywhere near it.
GUARD_SECONDS = 30


class Recorder(pvm_adpt.WrapperEventHandler):
    """Collects every Event wrapper the listener dispatches."""

    def __init__(self):
        self._changed = threading.Condition()
        self.events = []

    def process(self, events):
        with self._changed:
            self.events.extend(events)
            self._changed.notify_all()

    def wait_for(self, etype, data_suffix='', detail=None):
        """The first event of etype whose data ends with data_suffix."""
        def found():
            return next((e for e in self.events if e.etype == etype and
                         (e.data or '').lower().endswith(
                             data_suffix.lower()) and
                         (detail is None or
                          detail in (e.detail or '').split(','))), None)
        with self._changed:
            if not self._changed.wait_for(found, GUARD_SECONDS):
                raise AssertionError('no %s event for %r (%s); got %s' % (
                    etype, data_suffix, detail, self.summary()))
            return found()

    def summary(self):
        return [(e.etype, e.data or '', e.detail or '')
                for e in self.events]


class ActionRecorder(pvm_adpt.EventHandler):
    """Collects the {uri: action} digests of the plain EventHandler."""

    def __init__(self):
        self._changed = threading.Condition()
        self.digests = []

    def process(self, events):
        with self._changed:
            self.digests.append(dict(events))
            self._changed.notify_all()

    def wait_for(self, uri_suffix, action):
        def found():
            return any(uri.lower().endswith(uri_suffix.lower()) and
                       value == action for digest in self.digests
                       for uri, value in digest.items())
        with self._changed:
            if not self._changed.wait_for(found, GUARD_SECONDS):
                raise AssertionError('no %s of %s; got %s' % (
                    action, uri_suffix, self.digests))


def lpar_href(uuid):
    return 'LogicalPartition/%s' % uuid


class EventTestBase(testtools.TestCase):
    systems = 1

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(
            systems=self.systems))

    def listen(self, index=0, handler=None):
        """Subscribe handler (a new Recorder by default) to endpoint index.

        The listener is shut down at cleanup, and its poll thread must stop.
        """
        session = self.sim.session(index)
        listener = session.get_event_listener()
        handler = handler or Recorder()
        before = set(threading.enumerate())
        listener.subscribe(handler)
        # The poll thread is the one non-daemon thread subscribe started
        # (the server's request threads are daemons).
        pollers = [t for t in set(threading.enumerate()) - before
                   if not t.daemon]
        self.assertEqual(1, len(pollers))
        self.addCleanup(self.stop_listener, listener, pollers[0])
        return session, handler

    def stop_listener(self, listener, poller):
        listener.shutdown()
        poller.join(GUARD_SECONDS)
        if poller.is_alive():
            raise AssertionError('the event poll thread did not stop')

    def create_lpar(self, adapter, name):
        host = pvm_ms.System.get(adapter)[0]
        attrs = {lpar_builder.NAME: name, lpar_builder.MEM: 1024,
                 lpar_builder.VCPU: 1, lpar_builder.PROC_UNITS: '0.1'}
        stdz = lpar_builder.DefaultStandardize(host)
        wrapper = lpar_builder.LPARBuilder(adapter, attrs, stdz).build()
        return wrapper.create(parent=host)


class TestEventFeed(EventTestBase):

    def test_new_application_is_greeted_with_new_client(self):
        adapter = self.sim.adapter()
        first = pvm_event.Event.get(adapter, 'a-fresh-application-id')
        self.assertEqual([pvm_event.EventType.NEW_CLIENT],
                         [e.etype for e in first])
        # The greeting is given once per application id.
        self.create_lpar(adapter, 'after greeting')
        second = pvm_event.Event.get(adapter, 'a-fresh-application-id')
        self.assertNotIn(pvm_event.EventType.NEW_CLIENT,
                         [e.etype for e in second])
        self.assertIn(pvm_event.EventType.ADD_URI,
                      [e.etype for e in second])

    def test_partition_lifecycle_events(self):
        # get_event_listener() itself fails unless the first read for the
        # new application id answers NEW_CLIENT.
        session, recorder = self.listen()
        adapter = pvm_adpt.Adapter(session)

        lpar_w = self.create_lpar(adapter, 'evented')
        added = recorder.wait_for(pvm_event.EventType.ADD_URI,
                                  lpar_href(lpar_w.uuid))
        self.assertTrue(added.data.startswith(
            self.sim.endpoints[0].server.url + '/rest/api/uom/'))

        power.power_on(lpar_w, None)
        recorder.wait_for(pvm_event.EventType.MODIFY_URI,
                          lpar_href(lpar_w.uuid), detail='PartitionState')
        power.PowerOp.stop(lpar_w, power_opts.PowerOffOpts().vsp_hard())
        adapter.delete(pvm_lpar.LPAR.schema_type, root_id=lpar_w.uuid)
        deleted = recorder.wait_for(pvm_event.EventType.DELETE_URI,
                                    lpar_href(lpar_w.uuid))

        ids = [int(e.eid) for e in recorder.events]
        self.assertEqual(sorted(ids), ids)
        self.assertEqual(len(ids), len(set(ids)))
        self.assertLess(int(added.eid), int(deleted.eid))
        own = [e.etype for e in recorder.events
               if (e.data or '').lower().endswith(
                   lpar_href(lpar_w.uuid).lower())]
        self.assertEqual(pvm_event.EventType.ADD_URI, own[0])
        self.assertEqual(pvm_event.EventType.DELETE_URI, own[-1])

    def test_plain_handler_gets_uri_actions(self):
        session, actions = self.listen(handler=ActionRecorder())
        adapter = pvm_adpt.Adapter(session)
        lpar_w = self.create_lpar(adapter, 'digested')
        actions.wait_for(lpar_href(lpar_w.uuid), 'add')
        adapter.delete(pvm_lpar.LPAR.schema_type, root_id=lpar_w.uuid)
        actions.wait_for(lpar_href(lpar_w.uuid), 'delete')

    def test_custom_event_reaches_every_listener(self):
        session, first = self.listen()
        _, second = self.listen()
        pvm_event.Event.bld(pvm_adpt.Adapter(session), 'vif plugged',
                            'port-1,up').create()
        for recorder in (first, second):
            custom = recorder.wait_for(
                pvm_event.EventType.CUSTOM_CLIENT_EVENT, 'vif plugged')
            self.assertEqual('port-1,up', custom.detail)

    def test_listener_shuts_down_cleanly(self):
        session = self.sim.session()
        listener = session.get_event_listener()
        before = set(threading.enumerate())
        recorder = Recorder()
        listener.subscribe(recorder)
        [poller] = [t for t in set(threading.enumerate()) - before
                    if not t.daemon]
        self.create_lpar(pvm_adpt.Adapter(session), 'before shutdown')
        recorder.wait_for(pvm_event.EventType.ADD_URI)
        listener.shutdown()
        poller.join(GUARD_SECONDS)
        self.assertFalse(poller.is_alive())
        self.assertEqual([], listener.handlers)


class TestEventsPerSystem(EventTestBase):
    systems = 2

    def test_events_stay_with_their_system(self):
        sessions, recorders = zip(*(self.listen(i) for i in (0, 1)),
                                  strict=True)
        adapters = [pvm_adpt.Adapter(s) for s in sessions]
        lpars = [self.create_lpar(adapter, 'on system %d' % i)
                 for i, adapter in enumerate(adapters)]
        # Each endpoint queues its events in order: once a marker sent
        # after both creations has arrived, a leaked ADD would have too.
        for adapter in adapters:
            pvm_event.Event.bld(adapter, 'marker', None).create()
        for i, recorder in enumerate(recorders):
            recorder.wait_for(pvm_event.EventType.CUSTOM_CLIENT_EVENT,
                              'marker')
            recorder.wait_for(pvm_event.EventType.ADD_URI,
                              lpar_href(lpars[i].uuid))
            other = lpars[1 - i].uuid.lower()
            self.assertEqual([], [e for e in recorder.summary()
                                  if other in e[1].lower()])
            url = self.sim.endpoints[i].server.url + '/rest/api/uom/'
            self.assertEqual([], [e for e in recorder.summary()
                                  if e[0].endswith('_URI') and
                                  not e[1].startswith(url)])

    def test_custom_event_stays_with_its_endpoint(self):
        sessions, recorders = zip(*(self.listen(i) for i in (0, 1)),
                                  strict=True)
        pvm_event.Event.bld(pvm_adpt.Adapter(sessions[0]), 'only here',
                            'system 0').create()
        pvm_event.Event.bld(pvm_adpt.Adapter(sessions[1]), 'marker',
                            'system 1').create()
        recorders[0].wait_for(pvm_event.EventType.CUSTOM_CLIENT_EVENT,
                              'only here')
        recorders[1].wait_for(pvm_event.EventType.CUSTOM_CLIENT_EVENT,
                              'marker')
        self.assertEqual([], [e for e in recorders[1].summary()
                              if e[1] == 'only here'])
