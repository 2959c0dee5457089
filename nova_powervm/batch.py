"""Work that threads hand in at the same time, done together."""

import threading


class Batched:
    """Work that threads hand in at the same time, done together.

    ``run(items)`` does the work of several items at once (typically one
    read and one update of a PowerVM object for all of them) and returns
    each item's outcome in order: a result, or an exception for its
    caller to raise.  While one batch runs, the items handed in wait, and
    the first of them to get its turn runs all of them as the next batch.
    Changes made at once thus share an update rather than each find the
    object changed since their read (an etag conflict: read, send again).
    """

    def __init__(self, run):
        self._run = run
        self._waiting_lock = threading.Lock()
        self._waiting = []
        self._running = threading.Lock()

    def do(self, item):
        """Do ``item`` with whatever else is handed in meanwhile; returns
        its result, or raises its exception (or the batch's: a failure of
        the whole batch fails every item of it)."""
        entry = _BatchEntry(item)
        with self._waiting_lock:
            self._waiting.append(entry)
        with self._running:
            if not entry.done:
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                self._run_batch(batch)
        if isinstance(entry.outcome, Exception):
            raise entry.outcome
        return entry.outcome

    def _run_batch(self, batch):
        try:
            outcomes = self._run([entry.item for entry in batch])
        except Exception as exc:
            outcomes = [exc] * len(batch)
        for entry, outcome in zip(batch, outcomes, strict=True):
            entry.outcome = outcome
            entry.done = True


class _BatchEntry:

    def __init__(self, item):
        self.item = item
        self.outcome = None
        self.done = False
