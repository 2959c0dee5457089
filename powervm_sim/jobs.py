"""NovaLink jobs: the ``.../do/{Op}`` templates and submissions, the
``/rest/api/uom/jobs/{id}`` resources, and the operations behind them.

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
import zlib
from xml.sax import saxutils

from oslo_log import log as logging
from werkzeug import wrappers

from powervm_sim import app as app_mod
from powervm_sim import model as model_mod
from powervm_sim.model import partition as part_mod
from powervm_sim.model import registry as registry_mod
from powervm_sim.wire import atom
from powervm_sim.wire import request as wire_request
from powervm_sim.wire import spec

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
# The HMC's generic "not in a state under which this operation can be
# performed" (seen in pypowervm's job_response_completed_failed capture).
BAD_STATE = 'HSCL05DF'
# Codes the simulator chose for failures pypowervm does not inspect.
BAD_PARAMETER = 'HSCL0B5C'
MIGRATION_TARGET_UNKNOWN = 'HSCLA318'
MIGRATION_NOT_RUNNING = 'HSCLA319'
MIGRATION_NO_SWITCH = 'HSCLA31A'
NO_MIGRATION = 'HSCLA31B'

# Finished jobs nobody deleted are forgotten, oldest first, beyond this.
DEFAULT_RETAIN = 1000
CANCEL = 'cancel'
# What a job parameter's name looks like (bootmode, VirtualDiskUDID,
# numberPairsRequested): anything else names no parameter.
_PARAMETER_NAME = re.compile(r'[A-Za-z][A-Za-z0-9_]{0,63}')


class JobError(Exception):
    """End the job with ``status`` and ``message`` (not an HTTP error)."""

    def __init__(self, message, status=COMPLETED_WITH_ERROR):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclasses.dataclass
class Plan:
    """The second half of an operation that outlives the submit request."""

    # () -> dict of results (or None); applies the end state.
    finish: typing.Callable
    # () -> None; undoes the intermediate state when the job is cancelled.
    cancel: typing.Callable | None = None


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
        outcome) skips ``start`` and ends the job with its status.
        """
        job.status = RUNNING
        job.started = registry_mod.now_ms()
        job.forced_failure = failure
        finished_early = False
        if failure is None:
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
            self._end(job, exc.status, exc.message)
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
            self._end(job, failure.status, failure.message)
            return
        try:
            results = job.plan.finish() if job.plan is not None else None
        except JobError as exc:
            self._end(job, exc.status, exc.message)
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


def _lookup(group, name):
    try:
        return OPERATIONS[(group, name)]
    except KeyError:
        raise app_mod.HttpError(
            404, 'Unknown job operation %s for %s.' % (name, group)) \
            from None


def _still_there(model, obj):
    if model.registry.find(obj.uuid) is not obj:
        raise JobError('%s %s %s no longer exists.' % (
            BAD_STATE, obj.kind, obj.uuid))


# ----------------------------------------------------------------- power
@operation('PowerOn', 'LogicalPartition', 'VirtualIOServer')
def power_on(ctx):
    part, model = ctx.target, ctx.model
    with model.registry.lock:
        if part.state in (part_mod.RUNNING, part_mod.STARTING):
            raise model_mod.Conflict(
                'Partition %s is already powered on.' % part.name,
                code=ALREADY_ON)
        if part.state != part_mod.NOT_ACTIVATED:
            raise _bad_state(part)
        model.set_partition_state(part, part_mod.STARTING, 'inactive')

    def finish():
        with model.registry.lock:
            _still_there(model, part)
            model.set_partition_state(part, part_mod.RUNNING, 'active')

    def cancel():
        with model.registry.lock:
            model.set_partition_state(part, part_mod.NOT_ACTIVATED)

    return Plan(finish, cancel)


@operation('CloseVterm', 'LogicalPartition', 'VirtualIOServer')
def close_vterm(ctx):
    """Ends the partition's virtual terminal sessions.  The simulator opens
    none over REST (consoles are the management partition's local side),
    so there is nothing to end; the partition must still exist, and its
    state does not change, as on a real NovaLink."""
    _still_there(ctx.model, ctx.target)


_POWER_OFF_OPERATIONS = ('shutdown', 'osshutdown', 'dumprestart')


@operation('PowerOff', 'LogicalPartition', 'VirtualIOServer')
def power_off(ctx):
    part, model = ctx.target, ctx.model
    kind = ctx.param('operation', 'shutdown').strip()
    if kind not in _POWER_OFF_OPERATIONS:
        raise JobError('%s Unknown power off operation %r.' % (
            BAD_PARAMETER, kind))
    # Validated only: a simulated OS stops the same way either way.
    ctx.flag('immediate')
    restart = ctx.flag('restart') or kind == 'dumprestart'
    with model.registry.lock:
        if part.state == part_mod.NOT_ACTIVATED:
            raise model_mod.Conflict(
                'Partition %s is already powered off.' % part.name,
                code=ALREADY_OFF)
        if part.state not in (part_mod.RUNNING, part_mod.STARTING):
            raise _bad_state(part)
        if kind == 'osshutdown' and part.rmc_state != 'active' and \
                part.partition_type != 'OS400':
            raise model_mod.Conflict(
                'An operating system shutdown of partition %s needs an '
                'active RMC connection.' % part.name, code=NO_RMC)
        before = (part.state, part.rmc_state)
        model.set_partition_state(part, part_mod.SHUTTING_DOWN, 'inactive')

    def finish():
        with model.registry.lock:
            _still_there(model, part)
            model.set_partition_state(part, part_mod.NOT_ACTIVATED)
            if restart:
                model.set_partition_state(part, part_mod.STARTING)
                model.set_partition_state(part, part_mod.RUNNING, 'active')

    def cancel():
        with model.registry.lock:
            model.set_partition_state(part, *before)

    return Plan(finish, cancel)


def _bad_state(part):
    return model_mod.Conflict(
        'The partition %s is not in a state under which this operation can '
        'be performed (%s).' % (part.name, part.state), code=BAD_STATE)


# ------------------------------------------------------------- migration
def _migration_check(ctx):
    """Validate a migration; return (lpar, target, _Landing)."""
    lpar, model = ctx.target, ctx.model
    name = ctx.required('TargetManagedSystemName')
    target = next((s for s in model.systems if s.name == name), None)
    if target is None:
        raise JobError('%s The target managed system %s is not known.' % (
            MIGRATION_TARGET_UNKNOWN, name))
    if target is lpar.parent:
        raise JobError('%s Partition %s is already on managed system %s.' %
                       (MIGRATION_TARGET_UNKNOWN, lpar.name, name))
    if lpar.state != part_mod.RUNNING:
        raise JobError('%s Partition %s must be running to migrate; it is '
                       '%s.' % (MIGRATION_NOT_RUNNING, lpar.name,
                                lpar.state))
    if not target.active_lpm_capable:
        raise JobError('%s Managed system %s cannot receive active '
                       'migrations.' % (MIGRATION_TARGET_UNKNOWN, name))
    return lpar, target, _target_ready(ctx.model, lpar, target)


class _Landing:
    """What ``lpar`` finds on the target: each CNA's virtual switch (by
    adapter UUID) and the new server side of each storage adapter."""

    def __init__(self, switches, mappings):
        self.switches = switches
        self.mappings = mappings


def _target_ready(model, lpar, target):
    """Check the target can take ``lpar``; return its _Landing."""
    target.check_capacity(lpar.mem_desired, lpar.proc_units)
    return _Landing(_switch_map(lpar, target),
                    model.plan_migration(lpar, target))


def _switch_map(lpar, target):
    """Each CNA's switch on the target: the switch of the same name."""
    by_name = {s.name: s for s in target.vswitches}
    mapping = {}
    for adapter in lpar.adapters:
        vswitch = getattr(adapter, 'vswitch', None)
        if vswitch is None:
            continue
        if vswitch.name not in by_name:
            raise JobError('%s Managed system %s has no virtual switch %s '
                           'for adapter %d of partition %s.' % (
                               MIGRATION_NO_SWITCH, target.name,
                               vswitch.name, adapter.slot, lpar.name))
        mapping[adapter.uuid] = by_name[vswitch.name]
    return mapping


@operation('MigrateValidate', 'LogicalPartition')
def migrate_validate(ctx):
    with ctx.model.registry.lock:
        _migration_check(ctx)


@operation('Migrate', 'LogicalPartition')
def migrate(ctx):
    model = ctx.model
    with model.registry.lock:
        lpar, target, _ = _migration_check(ctx)
        model.set_partition_state(lpar, part_mod.MIGRATING)

    def finish():
        with model.registry.lock:
            _still_there(model, lpar)
            try:
                # The target may have filled up while the job ran.
                landing = _target_ready(model, lpar, target)
            except (JobError, model_mod.Conflict):
                model.set_partition_state(lpar, part_mod.RUNNING)
                raise
            _move_partition(model, lpar, target, landing)
            model.set_partition_state(lpar, part_mod.RUNNING)

    def cancel():
        with model.registry.lock:
            model.set_partition_state(lpar, part_mod.RUNNING)

    return Plan(finish, cancel)


def _move_partition(model, lpar, target, landing):
    """Re-home ``lpar`` (and its adapters) on ``target``; the target's
    VIOSes take over the server side of its storage adapters.

    The source NovaLink reports the partition deleted and the target's
    reports it added, as each only sees its own system.
    """
    source = lpar.parent
    model.registry.remove(lpar)
    source.partitions.remove(lpar)
    lpar.parent = target
    lpar.partition_id = target.next_partition_id()
    target.partitions.append(lpar)
    for adapter in lpar.adapters:
        if adapter.uuid in landing.switches:
            adapter.vswitch = landing.switches[adapter.uuid]
    model.move_mappings(lpar, landing.mappings)
    model.registry.add(lpar)
    for adapter in lpar.adapters:
        model.registry.changed(adapter)


@operation('MigrateAbort', 'LogicalPartition')
def migrate_abort(ctx):
    running = ctx.store.active_jobs('Migrate', ctx.target.uuid)
    if not running:
        raise JobError('%s Partition %s has no migration in progress.' % (
            NO_MIGRATION, ctx.target.name))
    for job in running:
        ctx.store.cancel(job.job_id)


@operation('MigrateRecover', 'LogicalPartition')
def migrate_recover(ctx):
    lpar, model = ctx.target, ctx.model
    # Validated only: recovery never meets errors worth forcing through.
    ctx.flag('Force')
    if ctx.store.active_jobs('Migrate', lpar.uuid):
        raise JobError('%s The migration of partition %s is still running; '
                       'abort it instead.' % (BAD_STATE, lpar.name))
    with model.registry.lock:
        if lpar.state != part_mod.MIGRATING:
            raise JobError('%s Partition %s has no failed migration to '
                           'recover.' % (NO_MIGRATION, lpar.name))
        model.set_partition_state(lpar, part_mod.RUNNING)


# ------------------------------------------------------- managed system
# The REST API hands out at most this many pairs per request.
MAX_WWPN_PAIRS = 8


@operation('GetNextWWPNs', 'ManagedSystem')
def get_next_wwpns(ctx):
    system, model = ctx.target, ctx.model
    pairs = ctx.integer('numberPairsRequested', 1, MAX_WWPN_PAIRS)
    with model.registry.lock:
        if system.available_wwpns < pairs * 2:
            raise JobError('%s Managed system %s has no free WWPNs left.' % (
                BAD_STATE, system.name))
        # Each system draws from its own block, so WWPNs stay unique
        # across the systems of one model.
        used = system.wwpns_issued
        system.wwpns_issued = used + pairs * 2
        system.available_wwpns -= pairs * 2
    base = (zlib.crc32(system.serial.encode()) & 0xFFFFFF) << 16
    wwpns = ['%s%010X' % (system.wwpn_prefix, base + used + i)
             for i in range(pairs * 2)]
    return {'wwpnList': ','.join(wwpns)}


# Memory the hypervisor reserves per partition, in MB, and per adapter.
_HPT_RATIO = 128
_RESERVED_BASE_MB = 256
_RESERVED_PER_ADAPTER_MB = 2


@operation('QueryReservedMemoryRequiredForPartition', 'ManagedSystem')
def reserved_memory(ctx):
    system = ctx.target
    desired = ctx.integer('DesiredMemory', 0, 1 << 30)
    maximum = ctx.integer('MaximumMemory', 0, 1 << 30)
    adapters = sum(ctx.integer(name, 0, 1 << 16) if name in ctx.params
                   else 0 for name in (
                       'NumberOfVirtualEthernetAdapter',
                       'NumberOfVirtualSCSIAdapter',
                       'NumberOfVirtualFibreChannelAdapter'))
    region = system.memory_region_size
    # The hardware page table is a fraction of the maximum memory, rounded
    # up to whole memory regions, like the hypervisor's own reservation.
    hpt = -(-max(maximum, region) // _HPT_RATIO // region) * region
    overhead = _RESERVED_BASE_MB + hpt + adapters * _RESERVED_PER_ADAPTER_MB
    return {'RequiredMemory': str(desired + overhead),
            'CurrentAvailableSystemMemory': str(system.memory_available)}


# ------------------------------------------------------------------ VIOS
@operation('RBDExists', 'VirtualIOServer')
def rbd_exists(ctx):
    name = ctx.required('name')
    exists = name in ctx.model.rbd_volumes
    return {'exists': 'true' if exists else 'false'}


# hdisk/_iscsi.py's ISCSIStatus values.
ISCSI_SUCCESS = '0'
ISCSI_ERR_NO_OBJS_FOUND = '21'


@operation('ISCSIDiscovery', 'VirtualIOServer')
def iscsi_discovery(ctx):
    """Log in to a target: one hdisk per target, reached by all its IQNs.

    With no parameters the job reports the VIOS's initiator name instead.
    """
    vios, model = ctx.target, ctx.model
    if not ctx.params:
        return {'RETURN_CODE': ISCSI_SUCCESS,
                'InitiatorName': vios.iscsi_initiator}
    iqns = _list_param(ctx.required('targetIQN'))
    portals = _list_param(ctx.required('hostIP'))
    with model.registry.lock:
        devices = vios.iscsi_devices
        known = [devices[iqn] for iqn in iqns if iqn in devices]
        if known:
            device = known[0]
        else:
            name = 'hdisk%d' % _next_hdisk(vios)
            udid = '01M0lCTTIxNDUxMjQ2%s' % uuidlib.uuid5(
                uuidlib.NAMESPACE_URL, ','.join(portals + iqns)).hex
            device = [name, udid]
        for iqn in iqns:
            devices[iqn] = device
    lines = ['%s %s %s' % (iqn, device[0], device[1]) for iqn in iqns]
    return {'RETURN_CODE': ISCSI_SUCCESS, 'DEV_OUTPUT': repr(lines)}


@operation('ISCSIRemove', 'VirtualIOServer')
def iscsi_remove(ctx):
    iqns = _list_param(ctx.required('targetIQN'))
    with ctx.model.registry.lock:
        devices = ctx.target.iscsi_devices
        gone = [iqn for iqn in iqns if devices.pop(iqn, None)]
    return {'RETURN_CODE': ISCSI_SUCCESS if gone else
            ISCSI_ERR_NO_OBJS_FOUND}


def _list_param(text):
    """pypowervm sends lists as '[a,b]' (hdisk/_iscsi.py)."""
    if text.startswith('[') and text.endswith(']'):
        return [v.strip() for v in text[1:-1].split(',') if v.strip()]
    return [text]


def _next_hdisk(vios):
    taken = {name for name, _ in vios.iscsi_devices.values()}
    taken |= {getattr(pv, 'name', None) for pv in vios.physical_volumes}
    return next(n for n in itertools.count(100)
                if 'hdisk%d' % n not in taken)


@operation('RescanVirtualDisk', 'VirtualIOServer')
def rescan_virtual_disk(ctx):
    ctx.required('VirtualDiskUDID')
    return {'RETURN_CODE': '0'}


@operation('RemoveDevice', 'VirtualIOServer')
def remove_device(ctx):
    name = ctx.required('devName')
    with ctx.model.registry.lock:
        devices = ctx.target.iscsi_devices
        for iqn in [i for i, dev in devices.items() if dev[0] == name]:
            del devices[iqn]
    return {'RETURN_CODE': '0'}


# ----------------------------------------------------------------- routes
@app_mod.handler('do')
def handle_do(sim, request, target, tail):
    if len(tail) != 1:
        raise app_mod.HttpError(404, 'A job path ends in do/{Operation}.')
    op = _lookup(target.rtype.name, tail[0])
    obj = target.obj
    if obj is not None and not sim.in_scope(obj):
        raise app_mod.HttpError(404, '%s %s is not managed here.' % (
            obj.kind, obj.uuid))
    # Every operation served acts on one object named by its UUID.
    if obj is None:
        raise app_mod.HttpError(404, 'Job %s needs a %s UUID in the URL.' %
                                (op.name, target.rtype.name))
    if request.method == 'GET':
        return _template_response(request, target.rtype.name, op.name)
    if request.method == 'PUT':
        return _submit(sim, request, target, op)
    raise app_mod.HttpError(405, 'Jobs take GET (template) or PUT.')


@app_mod.handler('jobs')
def handle_jobs(sim, request, segments):
    store = store_of(sim)
    if len(segments) == 1 and request.method == 'GET':
        return _job_response(request, store.poll(segments[0]))
    if len(segments) == 1 and request.method == 'DELETE':
        store.delete(segments[0])
        return wrappers.Response(status=204)
    if len(segments) == 2 and segments[1] == CANCEL and \
            request.method == 'POST':
        return _job_response(request, store.cancel(segments[0]))
    if len(segments) in (1, 2):
        raise app_mod.HttpError(405, '%s is not allowed here.' %
                                request.method)
    raise app_mod.HttpError(404, 'Unknown jobs resource.')


def _submit(sim, request, target, op):
    params = _parse_job_request(_read_body(sim, request), target.rtype.name,
                                op.name)
    obj = target.obj
    base = request.host_url.rstrip('/')
    store = store_of(sim)
    job = store.new_job(op.name, target.rtype.name, base + request.path,
                        obj.uuid.upper() if obj is not None else None,
                        params)
    ctx = JobContext(sim, obj, job, dict(params))
    store.submit(job, lambda: op.func(ctx),
                 duration=sim.latency.job_duration(op.name),
                 failure=request.environ.get('powervm_sim.job_failure'))
    return _job_response(request, job)


def _read_body(sim, request):
    data = request.stream.read(sim.max_body + 1)
    if len(data) > sim.max_body:
        raise app_mod.HttpError(413, 'The request body is larger than %d '
                                'bytes.' % sim.max_body)
    return data


def _children(element, tag):
    return [c for c in element if spec.local_name(c) == tag]


def _child_text(element, tag):
    found = _children(element, tag)
    return (found[0].text or '').strip() if found else None


def _parse_job_request(data, group, name):
    """The (name, value) parameters of a JobRequest for ``group``/``name``.
    """
    root = wire_request.parse_body(data)
    if spec.local_name(root) != 'JobRequest':
        raise spec.SchemaError('Expected a JobRequest, got %s.' %
                               spec.local_name(root))
    requested = _children(root, 'RequestedOperation')
    if not requested:
        raise spec.SchemaError('The JobRequest has no RequestedOperation.')
    sent = (_child_text(requested[0], 'GroupName'),
            _child_text(requested[0], 'OperationName'))
    if sent != (group, name):
        raise spec.SchemaError('The JobRequest is for %s/%s but was sent to '
                               '%s/do/%s.' % (sent + (group, name)))
    holders = _children(root, 'JobParameters')
    if not holders:
        raise spec.SchemaError('The JobRequest has no JobParameters.')
    params = []
    for param in _children(holders[0], 'JobParameter'):
        key = _child_text(param, 'ParameterName')
        if not key:
            raise spec.SchemaError('A JobParameter has no ParameterName.')
        if not _PARAMETER_NAME.fullmatch(key):
            raise spec.SchemaError('%r is not a job parameter name.' %
                                   key[:40])
        values = _children(param, 'ParameterValue')
        # CDATA sections arrive merged into the text by the parser.
        params.append((key, (values[0].text or '') if values else ''))
    return params


# --------------------------------------------------------------- rendering
def _nested(tag, children_xml, kb='CUR'):
    return ('<%s kb="%s" kxe="false" schemaVersion="V1_0"><Metadata><Atom/>'
            '</Metadata>%s</%s>' % (tag, kb, children_xml, tag))


def _parameter(name, value):
    return ('<JobParameter schemaVersion="V1_0"><Metadata><Atom/></Metadata>'
            '%s%s</JobParameter>' % (atom.leaf('ParameterName', name),
                                     atom.leaf('ParameterValue', value,
                                               kb='CUR')))


def _requested_operation(group, name):
    return _nested('RequestedOperation', atom.leaf('OperationName', name) +
                   atom.leaf('GroupName', group))


def _template_response(request, group, name):
    body = atom.web_object('JobRequest', _requested_operation(group, name) +
                           _nested('JobParameters', ''))
    href = request.host_url.rstrip('/') + request.full_path.rstrip('?')
    xml = atom.entry(body, 'JobRequest', uuidlib.uuid4(), '0', href,
                     content_type=atom.WEB_CONTENT)
    return wrappers.Response(xml, status=200, content_type=atom.ATOM_TYPE)


def _progress(job):
    messages = [('Started', 'STARTED')]
    if not job.active:
        messages.append(('Completed', 'COMPLETE'))
    tasks = ''.join(
        '<NLSMessage schemaVersion="V1_0"><Metadata><Atom/></Metadata>%s%s'
        '</NLSMessage>' % (atom.leaf('UntranslatedMessage', text),
                           atom.leaf('MessageKey', key))
        for text, key in messages)
    fraction = '0.0' if job.active else '1.0'
    return _nested('Progress', _nested('CompletedTasks', tasks, kb='ROR') +
                   atom.leaf('LinearProgress', fraction), kb='ROO')


def render_job(job):
    """The JobResponse object of ``job``."""
    failure = ''
    if job.message and job.status != COMPLETED_OK:
        failure = _nested('ResponseException',
                          atom.leaf('Message', job.message), kb='ROR')
    instance = _nested(
        'JobRequestInstance', _requested_operation(job.group, job.operation) +
        _nested('JobParameters', ''.join(
            _parameter(k, v) for k, v in job.params)), kb='ROR')
    results = _nested('Results', ''.join(
        _parameter(k, v) for k, v in job.results.items()), kb='ROR')
    body = ''.join((
        '<RequestURL kb="ROR" kxe="false" href="%s" rel="via" title="The '
        'URL to which the JobRequest was submitted."/>' % saxutils.escape(
            job.request_url, {'"': '&quot;'}),
        atom.leaf('TargetUuid', job.target_uuid),
        atom.leaf('JobID', job.job_id),
        atom.leaf('TimeStarted', job.started),
        atom.leaf('TimeCompleted', job.completed),
        atom.leaf('Status', job.status),
        failure, instance, _progress(job), results))
    return atom.web_object('JobResponse', body)


def _job_response(request, job):
    base = request.host_url.rstrip('/')
    xml = atom.entry(render_job(job), 'JobResponse', job.entry_uuid, '0',
                     '%s/rest/api/uom/jobs/%s' % (base, job.job_id),
                     content_type=atom.WEB_CONTENT)
    return wrappers.Response(xml, status=200, content_type=atom.ATOM_TYPE)
