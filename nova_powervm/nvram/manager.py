"""Saving LPARs' NVRAM off nova's request path.

NovaLink reports each change of a partition's NVRAM (a LogicalPartition
MODIFY event whose detail names NVRAM); a guest changing its boot list
writes it several times in a row.  Each report only asks for a save: the
bytes are read when the save runs, so of many reports of one LPAR waiting
together one save remains, and it reads the latest bytes.  Saves (and
removals) run on one thread of the manager's own, never on the thread
that asked, and a failed one is tried again later; nova's operations never
wait for the store, except a move's explicit save_now, which the store's
own timeouts bound.
"""

import dataclasses
import hashlib
import threading
import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

STORE = 'store'
DELETE = 'delete'
# Waiting saves and removals, one per LPAR: a host runs at most about a
# thousand partitions, so this is only reached when the store is down for
# long and the host is busy; what does not fit is refused and logged.
MAX_PENDING = 4096
# Seconds before each new attempt of a failed save or removal; then it is
# given up (logged).  A newer request of the same LPAR starts afresh.
RETRY_DELAYS = (1, 2, 4, 8, 16, 32, 64)
# Locks taken while an LPAR's NVRAM is read and stored, shared by LPARs
# whose UUIDs hash alike: a fixed set, never one per LPAR ever seen.
_IO_LOCKS = 64


@dataclasses.dataclass
class _Work:
    op: str
    # The nova instance's UUID; None when only the LPAR is known (an
    # event), and found when the save runs.
    instance_uuid: str | None
    due: float
    attempts: int = 0


class NvramManager:
    """Saves and removes instances' NVRAM in ``store`` on its own thread.

    :param store: the api.NvramStore.
    :param read: ``read(lpar_uuid)``: the LPAR's NVRAM as bytes, or None
                 when the LPAR is gone or has none (NovaLink's).
    :param resolve: ``resolve(lpar_uuid)``: the UUID of the nova instance
                    of an LPAR, or None when it is no instance's.
    """

    def __init__(self, store, read, resolve, max_pending=MAX_PENDING,
                 retry_delays=RETRY_DELAYS, clock=time.monotonic):
        self._store = store
        self._read = read
        self._resolve = resolve
        self._max_pending = max_pending
        self._retry_delays = retry_delays
        self._clock = clock
        self._cond = threading.Condition()
        # LPAR UUID (lower case) -> _Work, oldest request first.
        self._pending = {}
        # Held while an LPAR's NVRAM is read and stored, so that a later
        # read is never stored before an earlier one.
        self._io_locks = [threading.Lock() for _ in range(_IO_LOCKS)]
        # LPAR UUID -> digest of the bytes last stored: unchanged bytes
        # are not sent again.
        self._stored = {}
        self._stopping = False
        self._deadline = None
        # Requests taken off _pending and not done yet.
        self._in_flight = 0
        self.stats = dict.fromkeys(
            ('requested', 'coalesced', 'saved', 'unchanged', 'removed',
             'failed', 'given_up', 'refused'), 0)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='powervm-nvram')
        self._thread.start()

    # ------------------------------------------------------- requests
    def store(self, lpar_uuid, instance_uuid=None):
        """Save the LPAR's NVRAM soon; returns at once.

        :returns: whether the request was taken (False: refused, logged).
        """
        return self._request(lpar_uuid, STORE, instance_uuid)

    def remove(self, lpar_uuid, instance_uuid):
        """Forget the instance's NVRAM soon; returns at once.  A failing
        store is tried again, never failing the caller."""
        return self._request(lpar_uuid, DELETE, instance_uuid)

    def save_now(self, lpar_uuid, instance_uuid):
        """Save the LPAR's NVRAM on this thread (before a move), taking
        the place of a save waiting for it.  Sent even when this host
        stored the same bytes last: another host's LPAR of the instance
        may have stored others since.

        :returns: whether the store holds the LPAR's NVRAM now.  On
                  failure it is logged and saved later in the background.
        """
        key = lpar_uuid.lower()
        with self._cond:
            waiting = self._pending.get(key)
            if waiting is not None and waiting.op == STORE:
                del self._pending[key]
                self.stats['coalesced'] += 1
            self._stored.pop(key, None)
        work = _Work(STORE, instance_uuid, self._clock())
        return self._do(key, work)

    def fetch(self, instance_uuid, lpar_uuid=None):
        """The instance's NVRAM from the store (bytes), or None: none
        kept, or the store failed (logged: the LPAR then starts with a
        fresh NVRAM rather than not at all).  ``lpar_uuid``: the LPAR
        that starts with it, whose NVRAM the store then holds.
        """
        try:
            data = self._store.fetch(instance_uuid)
        except Exception:
            LOG.exception('Could not read the NVRAM of instance %s from '
                          'the store; its LPAR starts with a new one.',
                          instance_uuid)
            return None
        if lpar_uuid is not None:
            with self._cond:
                if data is None:
                    self._stored.pop(lpar_uuid.lower(), None)
                else:
                    self._stored[lpar_uuid.lower()] = hashlib.sha256(
                        data).digest()
        return data

    def pending(self):
        """How many saves and removals wait."""
        with self._cond:
            return len(self._pending)

    def flush(self, timeout):
        """Wait up to ``timeout`` seconds until nothing waits or runs
        (a retry waiting counts); returns whether that is so."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._pending and not self._in_flight, timeout)

    def shutdown(self, timeout):
        """Stop: what is due within ``timeout`` seconds is still done,
        the rest is dropped (logged).  Returns whether the thread ended.
        """
        with self._cond:
            self._stopping = True
            self._deadline = self._clock() + timeout
            self._cond.notify_all()
        self._thread.join(timeout + 1)
        return not self._thread.is_alive()

    def _request(self, lpar_uuid, op, instance_uuid):
        key = lpar_uuid.lower()
        with self._cond:
            self.stats['requested'] += 1
            if self._stopping:
                LOG.warning('Not %s the NVRAM of LPAR %s: the NVRAM store '
                            'is stopping.', _doing(op), key)
                self.stats['refused'] += 1
                return False
            waiting = self._pending.get(key)
            if waiting is None and len(self._pending) >= self._max_pending:
                LOG.error('Not %s the NVRAM of LPAR %s: %d saves and '
                          'removals already wait for the NVRAM store.',
                          _doing(op), key, len(self._pending))
                self.stats['refused'] += 1
                return False
            if waiting is not None:
                self.stats['coalesced'] += 1
                if waiting.op == DELETE and op == STORE:
                    # The instance is being deleted: its removal stays.
                    return True
                instance_uuid = instance_uuid or waiting.instance_uuid
                # The request replaces the waiting one but keeps its place.
                self._pending[key] = _Work(op, instance_uuid, self._clock())
            else:
                self._pending[key] = _Work(op, instance_uuid, self._clock())
            self._cond.notify_all()
            return True

    # --------------------------------------------------------- worker
    def _run(self):
        while True:
            with self._cond:
                found = self._next()
            if found is None:
                return
            try:
                self._do(*found)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _next(self):
        """(key, work) of the first request due, waiting for one; None
        once stopping and nothing is due before the deadline."""
        while True:
            now = self._clock()
            due = [(work.due, key) for key, work in self._pending.items()]
            first = min(due) if due else None
            if self._stopping and (first is None or now >= self._deadline
                                   or first[0] > self._deadline):
                # Nothing more can be done in time: do not wait for it.
                self._drop_pending()
                return None
            if first is not None and first[0] <= now:
                key = first[1]
                self._in_flight += 1
                return key, self._pending.pop(key)
            wait = None if first is None else first[0] - now
            if self._stopping:
                left = self._deadline - now
                wait = left if wait is None else min(wait, left)
            self._cond.wait(wait)

    def _drop_pending(self):
        if self._pending:
            LOG.warning('The NVRAM store stops with %d saves and removals '
                        'not done: %s', len(self._pending),
                        ', '.join(sorted(self._pending)))
            self._pending.clear()

    def _do(self, key, work):
        with self._io_locks[hash(key) % _IO_LOCKS]:
            try:
                if work.op == STORE:
                    self._save(key, work)
                else:
                    self._store.delete(work.instance_uuid)
                    self._forget(key)
                    self._count('removed')
                return True
            except Exception as exc:
                self._retry(key, work, exc)
                return False

    def _save(self, key, work):
        instance_uuid = work.instance_uuid or self._resolve(key)
        if instance_uuid is None:
            LOG.debug('LPAR %s is no instance\'s: its NVRAM is not kept.',
                      key)
            return
        work.instance_uuid = instance_uuid
        data = self._read(key)
        if data is None:
            LOG.debug('LPAR %s is gone or has no NVRAM: nothing to save.',
                      key)
            return
        digest = hashlib.sha256(data).digest()
        with self._cond:
            unchanged = self._stored.get(key) == digest
        if unchanged:
            self._count('unchanged')
            return
        self._store.store(instance_uuid, data)
        with self._cond:
            self._stored[key] = digest
        self._count('saved')
        LOG.debug('Saved the NVRAM of instance %s (%d bytes).',
                  instance_uuid, len(data))

    def _forget(self, key):
        with self._cond:
            self._stored.pop(key, None)

    def _retry(self, key, work, exc):
        work.attempts += 1
        with self._cond:
            self.stats['failed'] += 1
            # Stopping, a failure is not tried again: a store that is down
            # would otherwise hold nova-compute's stop until the deadline.
            if self._stopping or work.attempts > len(self._retry_delays):
                self.stats['given_up'] += 1
                LOG.error('Gave up %s the NVRAM of LPAR %s after %d '
                          'attempts: %s', _doing(work.op), key,
                          work.attempts, exc)
                return
            delay = self._retry_delays[work.attempts - 1]
            LOG.warning('Could not %s the NVRAM of LPAR %s (attempt %d), '
                        'trying again in %s seconds: %s', work.op, key,
                        work.attempts, delay, exc)
            if key in self._pending:
                # A newer request of the LPAR takes this one's place.
                return
            work.due = self._clock() + delay
            self._pending[key] = work
            self._cond.notify_all()

    def _count(self, name):
        with self._cond:
            self.stats[name] += 1
            self._cond.notify_all()


def _doing(op):
    return 'saving' if op == STORE else 'removing'
