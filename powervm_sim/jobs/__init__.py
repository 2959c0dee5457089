"""NovaLink jobs: their life, their store and the registry of operations.

The operations live in a module per family (power, migration, system,
storage); routes.py serves the ``.../do/{Op}`` templates and submissions
and the ``/rest/api/uom/jobs/{id}`` resources.

A job goes NOT_STARTED -> RUNNING -> one final status. An operation is a
function of a :class:`JobContext`; it validates and applies whatever state
is visible while the job runs (a partition 'starting'), and may return a
:class:`Plan` whose ``finish`` applies the end state and whose ``cancel``
undoes the intermediate one. A job completes once its simulated duration
has passed and it has been polled ``polls_to_complete`` times; with both at
zero it completes inside the submitting request, so pypowervm never sleeps.
"""

import collections
import dataclasses
import itertools
import re
import threading
import time
import typing
import uuid as uuidlib

from oslo_log import log as logging

from powervm_sim import app as app_mod
from powervm_sim import model as model_mod
from powervm_sim.model import partition as part_mod
from powervm_sim.model import registry as registry_mod

LOG = logging.getLogger(__name__)

NOT_STARTED = 'NOT_STARTED'
RUNNING = 'RUNNING'
COMPLETED_OK = 'COMPLETED_OK'
COMPLETED_WITH_WARNINGS = 'COMPLETED_WITH_WARNINGS'
COMPLETED_WITH_ERROR = 'COMPLETED_WITH_ERROR'
FAILED_BEFORE_COMPLETION = 'FAILED_BEFORE_COMPLETION'
ACTIVE_STATUSES = frozenset({NOT_STARTED, RUNNING})

# Message codes pypowervm looks for (tasks/power.py).
ALREADY_ON = 'HSCL3681'
ALREADY_OFF = 'HSCL1558'
NO_RMC = 'HSCL0DB4'
BAD_STATE = part_mod.BAD_STATE
# A code the simulator chose for failures pypowervm does not inspect.
BAD_PARAMETER = 'HSCL0B5C'

# Finished jobs nobody deleted are forgotten, oldest first, beyond this.
DEFAULT_RETAIN = 1000
CANCEL = 'cancel'
# What a job parameter's name looks like (bootmode, VirtualDiskUDID,
# numberPairsRequested): anything else names no parameter.
PARAMETER_NAME = re.compile(r'[A-Za-z][A-Za-z0-9_]{0,63}')


class JobError(Exception):
    """End the job with ``status`` and ``message`` (not an HTTP error),
    and ``results`` a client reads from a failed job (an iSCSI job's
    RETURN_CODE)."""

    def __init__(self, message, status=COMPLETED_WITH_ERROR, results=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.results = results or {}


@dataclasses.dataclass
class Plan:
    """The second half of an operation that outlives the submit request."""

    # () -> dict of results (or None); applies the end state.
    finish: typing.Callable
    # () -> None; undoes the intermediate state when the job is cancelled.
    cancel: typing.Callable | None = None
    # () -> None; what a failure midway (a JobFailure fault with midway)
    # leaves of the intermediate state; the cancel when None.
    fail: typing.Callable | None = None

    def undo_on_failure(self):
        undo = self.fail or self.cancel
        if undo is not None:
            undo()


@dataclasses.dataclass(eq=False)
class Job:
    job_id: str
    operation: str
    group: str
    request_url: str
    target_uuid: str | None
    # (name, value) in the order the client sent them.
    params: list
    status: str = NOT_STARTED
    started: int = 0
    completed: int = 0
    results: dict = dataclasses.field(default_factory=dict)
    message: str = ''
    entry_uuid: str = dataclasses.field(
        default_factory=lambda: str(uuidlib.uuid4()))
    # Completion conditions: a monotonic deadline and polls still owed.
    deadline: float = 0.0
    polls_left: int = 0
    plan: Plan | None = dataclasses.field(default=None, repr=False)
    # A JobFailure fault that decides how the job ends.
    forced_failure: typing.Any = None

    @property
    def active(self):
        return self.status in ACTIVE_STATUSES


class JobStore:
    """The jobs of one simulator endpoint.

    :param polls_to_complete: GETs of a job it takes before the job reports
                              a final status (0: no polling needed).
    :param retain: how many finished, undeleted jobs to remember.
    """

    def __init__(self, polls_to_complete=0, retain=DEFAULT_RETAIN,
                 clock=time.monotonic):
        self.polls_to_complete = polls_to_complete
        self.retain = retain
        self._clock = clock
        # Re-entrant: an operation's finish may cancel another job.
        self._lock = threading.RLock()
        self._jobs = collections.OrderedDict()
        self._ids = itertools.count(1)
        self._timers = {}

    # ------------------------------------------------------------ public
    def new_job(self, operation, group, request_url, target_uuid, params):
        return Job(job_id=str(next(self._ids)), operation=operation,
                   group=group, request_url=request_url,
                   target_uuid=target_uuid, params=list(params))

    def submit(self, job, start, duration=0.0, failure=None):
        """Start ``job`` by calling ``start()`` and keep it.

        ``start`` returns a Plan, a results dict or None; JobError and
        model Conflicts end the job at once. ``failure`` (a JobFailure
        outcome) ends the job with its status: at once, skipping
        ``start``, or, midway, when it would have completed.
        """
        job.status = RUNNING
        job.started = registry_mod.now_ms()
        job.forced_failure = failure
        finished_early = False
        if failure is None or failure.midway:
            finished_early = self._start(job, start)
        with self._lock:
            self._jobs[job.job_id] = job
            self._forget_old()
            if finished_early:
                return job
            job.deadline = self._clock() + max(duration, 0.0)
            job.polls_left = self.polls_to_complete
            if self._due(job):
                self._complete(job)
            elif duration > 0:
                self._schedule(job, duration)
        return job

    def get(self, job_id):
        with self._lock:
            try:
                return self._jobs[job_id]
            except KeyError:
                raise model_mod.NotFound('job %s' % job_id) from None

    def poll(self, job_id):
        """Read a job as a client poll does: it may complete the job."""
        with self._lock:
            job = self.get(job_id)
            if job.active:
                job.polls_left = max(job.polls_left - 1, 0)
                if self._due(job):
                    self._complete(job)
            return job

    def cancel(self, job_id):
        with self._lock:
            job = self.get(job_id)
            if not job.active:
                raise model_mod.Conflict(
                    'Job %s has already finished (%s).' % (
                        job_id, job.status), status=409)
            self._unschedule(job)
            if job.plan is not None and job.plan.cancel is not None:
                job.plan.cancel()
            self._end(job, FAILED_BEFORE_COMPLETION,
                      'Job %s (%s) was cancelled on request.' % (
                          job_id, job.operation))
            return job

    def delete(self, job_id):
        with self._lock:
            job = self.get(job_id)
            if job.active:
                raise model_mod.Conflict(
                    'Job %s is still running; cancel it first.' % job_id,
                    status=409)
            del self._jobs[job_id]

    def active_jobs(self, operation, target_uuid):
        with self._lock:
            return [j for j in self._jobs.values() if j.active and
                    j.operation == operation and
                    (j.target_uuid or '').lower() == target_uuid.lower()]

    def close(self):
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()

    def __len__(self):
        return len(self._jobs)

    # ----------------------------------------------------------- internal
    def _start(self, job, start):
        """Run the operation's first half; True if that ended the job."""
        try:
            outcome = start()
        except JobError as exc:
            self._fail(job, exc)
            return True
        except model_mod.Conflict as exc:
            self._end(job, COMPLETED_WITH_ERROR, str(exc))
            return True
        if isinstance(outcome, Plan):
            job.plan = outcome
        elif outcome:
            job.results.update(outcome)
        return False

    def _due(self, job):
        return job.polls_left <= 0 and self._clock() >= job.deadline

    def _schedule(self, job, delay):
        timer = threading.Timer(delay, self._on_deadline, (job,))
        timer.daemon = True
        self._timers[job.job_id] = timer
        timer.start()

    def _unschedule(self, job):
        timer = self._timers.pop(job.job_id, None)
        if timer is not None:
            timer.cancel()

    def _on_deadline(self, job):
        with self._lock:
            self._timers.pop(job.job_id, None)
            if job.active and self._due(job):
                self._complete(job)

    def _complete(self, job):
        self._unschedule(job)
        failure = job.forced_failure
        if failure is not None:
            if job.plan is not None:
                job.plan.undo_on_failure()
            self._end(job, failure.status, failure.message)
            return
        try:
            results = job.plan.finish() if job.plan is not None else None
        except JobError as exc:
            self._fail(job, exc)
            return
        except model_mod.Conflict as exc:
            self._end(job, COMPLETED_WITH_ERROR, str(exc))
            return
        except Exception as exc:
            # A finish running on a timer thread has nobody to raise to;
            # the client should see the failure in the job instead.
            LOG.exception('Job %s (%s) failed', job.job_id, job.operation)
            self._end(job, FAILED_BEFORE_COMPLETION, str(exc))
            return
        job.results.update(results or {})
        self._end(job, COMPLETED_OK, '')

    def _fail(self, job, exc):
        job.results.update(exc.results)
        self._end(job, exc.status, exc.message)

    def _end(self, job, status, message):
        job.status = status
        job.message = message
        job.completed = registry_mod.now_ms()

    def _forget_old(self):
        excess = len(self._jobs) - self.retain
        if excess <= 0:
            return
        for job_id in [j.job_id for j in self._jobs.values()
                       if not j.active][:excess]:
            del self._jobs[job_id]


_STORE_LOCK = threading.Lock()


def store_of(sim):
    """The simulator's JobStore, created on first use."""
    if sim.jobs is None:
        with _STORE_LOCK:
            if sim.jobs is None:
                sim.jobs = JobStore()
    return sim.jobs


# -------------------------------------------------------------- operations
@dataclasses.dataclass
class JobContext:
    sim: typing.Any
    target: typing.Any
    job: Job
    params: dict

    @property
    def model(self):
        return self.sim.model

    @property
    def store(self):
        return store_of(self.sim)

    def param(self, name, default=None):
        return self.params.get(name, default)

    def required(self, name):
        value = self.params.get(name)
        if value is None or not value.strip():
            raise JobError('%s The job parameter %s is required.' % (
                BAD_PARAMETER, name))
        return value.strip()

    def flag(self, name):
        value = self.params.get(name, 'false').strip().lower()
        if value not in ('true', 'false'):
            raise JobError('%s The job parameter %s must be true or false, '
                           'not %r.' % (BAD_PARAMETER, name, value))
        return value == 'true'

    def integer(self, name, low, high):
        text = self.required(name)
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise JobError('%s The job parameter %s must be a whole number '
                           'from %d to %d, not %r.' % (
                               BAD_PARAMETER, name, low, high, text))
        return value


@dataclasses.dataclass(frozen=True)
class Operation:
    name: str
    func: typing.Callable


OPERATIONS = {}


def operation(name, *groups):
    """Register ``func(ctx)`` as job ``name`` of each resource type."""
    def register(func):
        for group in groups:
            OPERATIONS[(group, name)] = Operation(name, func)
        return func
    return register


def lookup(group, name):
    try:
        return OPERATIONS[(group, name)]
    except KeyError:
        raise app_mod.HttpError(
            404, 'Unknown job operation %s for %s.' % (name, group)) \
            from None


def still_there(model, obj):
    if not model.registry.holds(obj):
        raise JobError('%s %s %s no longer exists.' % (
            BAD_STATE, obj.kind, obj.uuid))


# The operations register themselves (and the routes their handlers) on
# import.
from powervm_sim.jobs import migration  # noqa: E402,F401
from powervm_sim.jobs import power  # noqa: E402,F401
from powervm_sim.jobs import routes  # noqa: E402,F401
from powervm_sim.jobs import storage  # noqa: E402,F401
from powervm_sim.jobs import system  # noqa: E402,F401
