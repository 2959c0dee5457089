"""NovaLink's event queues: one long-poll queue per client application.

pypowervm identifies its queue by an application id (md5 of the session
token). The first read of a new id must answer NEW_CLIENT; every event
published afterwards is queued for each registered application until it is
read. Queues that overflow collapse into MISSING_EVENTS and idle queues are
dropped, as NovaLink does; clients then refresh everything they cache.
"""

import dataclasses
import enum
import itertools
import threading
import time


class EventType(enum.StrEnum):
    NEW_CLIENT = 'NEW_CLIENT'
    CACHE_CLEARED = 'CACHE_CLEARED'
    MISSING_EVENTS = 'MISSING_EVENTS'
    ADD_URI = 'ADD_URI'
    MODIFY_URI = 'MODIFY_URI'
    DELETE_URI = 'DELETE_URI'
    INVALID_URI = 'INVALID_URI'
    HIDDEN_URI = 'HIDDEN_URI'
    VISIBLE_URI = 'VISIBLE_URI'
    CUSTOM_CLIENT_EVENT = 'CUSTOM_CLIENT_EVENT'


@dataclasses.dataclass(frozen=True)
class Event:
    """One event as the feed shows it.

    :param type: an EventType.
    :param id: decimal string of a hub-wide, ever increasing counter.
    :param data: the object's URI, or a custom event's data.
    :param detail: comma separated detail, e.g. 'PartitionState,Other'.
    """

    type: EventType
    id: str
    data: str = ''
    detail: str = ''


def _fault_count(n):
    if n < 0:
        raise ValueError('A fault count must not be negative, not %d' % n)
    return n


class _Queue:
    def __init__(self, now):
        self.events = []
        self.last_used = now
        self.waiters = 0


class EventHub:
    """Every application's event queue, shared by all request threads.

    :param max_queue: pending events one queue may hold; beyond that they
                      are replaced by a single MISSING_EVENTS.
    :param idle_expiry: seconds after which a queue nobody polls is dropped.
    :param clock: monotonic time source, replaceable in tests.
    """

    def __init__(self, max_queue=10000, idle_expiry=3600.0,
                 clock=time.monotonic):
        self._max_queue = max_queue
        self._idle_expiry = idle_expiry
        self._clock = clock
        self._queues = {}
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self._closed = False
        self._drops = 0
        self._duplicates = 0

    def poll(self, appid, timeout):
        """Return appid's pending events, waiting up to timeout seconds.

        A new (or expired) appid is registered and gets [NEW_CLIENT] at
        once. Returns [] on timeout or when the hub closes.
        """
        with self._changed:
            if self._closed:
                return []
            self._drop_idle_queues()
            queue = self._queues.get(appid)
            if queue is None:
                self._queues[appid] = _Queue(self._clock())
                return [self._new_event(EventType.NEW_CLIENT)]
            queue.waiters += 1
            try:
                self._changed.wait_for(
                    lambda: queue.events or self._closed, timeout)
            finally:
                queue.waiters -= 1
                queue.last_used = self._clock()
            if self._closed:
                return []
            events, queue.events = queue.events, []
            return events

    def publish(self, type, data, detail=''):
        """Queue an event for every registered application.

        :returns: the Event, or None when a drop_next fault swallowed it.
        :raises ValueError: for an unknown event type.
        """
        event_type = EventType(type)
        with self._changed:
            if self._drops:
                self._drops -= 1
                return None
            event = self._new_event(event_type, data, detail)
            copies = 1
            if self._duplicates:
                self._duplicates -= 1
                copies = 2
            for queue in self._queues.values():
                queue.events.extend([event] * copies)
                self._collapse_overflow(queue)
            self._changed.notify_all()
            return event

    def publish_custom(self, data, detail=''):
        """Broadcast a client's custom event (PUT /rest/api/uom/Event)."""
        return self.publish(EventType.CUSTOM_CLIENT_EVENT, data, detail)

    def clear(self, appid=None):
        """Replace pending events with CACHE_CLEARED, for appid or everyone.

        :raises KeyError: if appid has no queue.
        """
        with self._changed:
            queues = (self._queues.values() if appid is None
                      else [self._queues[appid]])
            for queue in queues:
                queue.events = [self._new_event(EventType.CACHE_CLEARED)]
            self._changed.notify_all()

    def drop_next(self, n):
        """Fault: silently lose the next n published events."""
        with self._changed:
            self._drops = _fault_count(n)

    def duplicate_next(self, n):
        """Fault: deliver each of the next n published events twice."""
        with self._changed:
            self._duplicates = _fault_count(n)

    def waiting_pollers(self):
        """How many polls are blocked waiting for events right now."""
        with self._changed:
            return sum(queue.waiters for queue in self._queues.values())

    def close(self):
        """Wake every waiting poller with [] and refuse later polls."""
        with self._changed:
            self._closed = True
            self._queues.clear()
            self._changed.notify_all()

    def _new_event(self, event_type, data='', detail=''):
        return Event(event_type, str(next(self._ids)), data, detail)

    def _collapse_overflow(self, queue):
        if len(queue.events) > self._max_queue:
            queue.events = [self._new_event(EventType.MISSING_EVENTS)]

    def _drop_idle_queues(self):
        oldest_allowed = self._clock() - self._idle_expiry
        idle = [appid for appid, queue in self._queues.items()
                if not queue.waiters and queue.last_used < oldest_allowed]
        for appid in idle:
            del self._queues[appid]
