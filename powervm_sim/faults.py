"""Fault injection and latency for the simulator.

Tests, and the standalone server's control API, arm fault rules in a
FaultRegistry. The app hands every incoming REST request and every job
submission to FaultRegistry.match() as a RequestInfo; the first rule whose
criteria match and whose probability draw succeeds decides the outcome
(an HTTP error, a failed job, an etag conflict, a dropped connection or just
a delay). LatencyModel adds the ordinary, fault-free delays.

Everything random draws from a seeded random.Random owned by the registry or
the model, so a run is reproducible from its seed and request sequence.
"""

import dataclasses
import http
import itertools
import math
import random
import re
import threading

# Job statuses a real NovaLink reports for jobs that did not end
# COMPLETED_OK; pypowervm raises JobRequestFailed for each of them.
JOB_FAILURE_STATUSES = frozenset(
    ['COMPLETED_WITH_ERROR', 'FAILED_BEFORE_COMPLETION',
     'COMPLETED_WITH_WARNINGS'])

def _reject(name, expected, value):
    raise ValueError('%s must be %s, got %r' % (name, expected, value))


def _check_number(name, value, low, high=math.inf):
    """Accept a finite int or float (not a bool) in [low, high]."""
    is_number = (isinstance(value, int | float)
                 and not isinstance(value, bool)
                 and math.isfinite(value))
    if not is_number or not low <= value <= high:
        _reject(name, 'a number%s' % _range_text(low, high), value)


def _check_int(name, value, low=-math.inf, high=math.inf):
    if (not isinstance(value, int) or isinstance(value, bool)
            or not low <= value <= high):
        _reject(name, 'an integer%s' % _range_text(low, high), value)


def _range_text(low, high):
    if high < math.inf:
        return ' between %s and %s' % (low, high)
    if low > -math.inf:
        return ' >= %s' % low
    return ''


def _check_text(name, value, optional=False):
    if optional and value is None:
        return
    if not isinstance(value, str) or not value:
        _reject(name, 'a non-empty string' + (' or null' if optional else ''),
                value)


@dataclasses.dataclass(frozen=True)
class RequestInfo:
    """What the app knows about a request when it consults the rules."""

    method: str
    path: str
    resource_type: str | None
    # The job operation name ('PowerOn') when this is a job submission.
    job: str | None = None


@dataclasses.dataclass(frozen=True)
class HttpFault:
    """Answer with an HttpErrorResponse of this status instead."""

    status: int
    message: str
    # None means the standard reason phrase for the status.
    reason_code: str | None = None

    def __post_init__(self):
        _check_int('status', self.status, 400, 599)
        _check_text('message', self.message)
        _check_text('reason_code', self.reason_code, optional=True)
        if self.reason_code is None:
            object.__setattr__(self, 'reason_code',
                               _reason_phrase(self.status))


def _reason_phrase(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return 'Error'


@dataclasses.dataclass(frozen=True)
class JobFailure:
    """Accept the job, then end it with this failed status and message.

    The job changes nothing; or, ``midway``, it starts (its intermediate
    state shows: a partition starting, migrating) and fails when it would
    have completed, leaving what its operation leaves on such a failure
    (a power job undoes its start; a migration waits for MigrateRecover).
    """

    message: str
    status: str = 'FAILED_BEFORE_COMPLETION'
    midway: bool = False

    def __post_init__(self):
        _check_text('message', self.message)
        if self.status not in JOB_FAILURE_STATUSES:
            _reject('status', 'one of %s' % sorted(JOB_FAILURE_STATUSES),
                    self.status)
        if not isinstance(self.midway, bool):
            _reject('midway', 'true or false', self.midway)


@dataclasses.dataclass(frozen=True)
class EtagConflict:
    """Answer 412 as if the request's If-Match had not matched."""


@dataclasses.dataclass(frozen=True)
class DropConnection:
    """Close the socket without answering.

    By default the request is dropped before the simulator acts on it;
    with after_processing it is carried out first and only its answer is
    lost, as when a connection breaks while NovaLink replies.
    """

    after_processing: bool = False

    def __post_init__(self):
        if not isinstance(self.after_processing, bool):
            _reject('after_processing', 'true or false',
                    self.after_processing)


@dataclasses.dataclass(frozen=True)
class DelayOnly:
    """Serve the request normally after the rule's delay."""


Outcome = HttpFault | JobFailure | EtagConflict | DropConnection | DelayOnly

# The names outcomes carry in the control API's JSON.
_OUTCOME_TYPES = {
    'http': HttpFault,
    'job_failure': JobFailure,
    'etag_conflict': EtagConflict,
    'drop_connection': DropConnection,
    'delay_only': DelayOnly,
}
_OUTCOME_NAMES = {cls: name for name, cls in _OUTCOME_TYPES.items()}


def vios_busy():
    """The 503 a NovaLink returns while a VIOS serves another request.

    pypowervm's vios_busy_retry_helper retries it: on the status alone, and
    on the HSCL3205 code in the message. Only the code is real; no capture
    holds the full HSCL3205 text, so the wording after it is ours.
    """
    return HttpFault(
        status=503,
        message=('HSCL3205 The Virtual I/O Server is busy processing '
                 'another request. Retry the operation later.'),
        reason_code='Service Unavailable')


def internal_error(message='Unexpected error occurred while processing '
                           'the request.'):
    """A 500 that pypowervm does not retry."""
    # The reason code of the real NovaLink 500 that pypowervm captured in
    # tests/data/fake_httperror.txt.
    return HttpFault(status=500, message=message,
                     reason_code='Unknown internal error.')


@dataclasses.dataclass(frozen=True, kw_only=True)
class FaultRule:
    """Which requests to disturb, how often, and how.

    Every criterion left as None matches anything. method compares
    case-insensitively, path is a regular expression searched
    case-insensitively in the URL path, resource_type and job compare
    exactly. A rule with a job criterion matches only submissions of that
    job; a rule whose outcome is a JobFailure matches only job submissions,
    because only a job can end failed.
    """

    outcome: Outcome
    method: str | None = None
    path: str | None = None
    resource_type: str | None = None
    job: str | None = None
    probability: float = 1.0
    # Let this many matching requests through before firing ("fail the
    # third": skip=2); they count neither as fired nor towards max_count.
    skip: int = 0
    # Fire at most this many times ("fail the first 2"), then stop matching.
    max_count: int | None = None
    delay: float = 0.0
    rule_id: str | None = None
    _path_re: re.Pattern | None = dataclasses.field(
        init=False, repr=False, compare=False, default=None)

    def __post_init__(self):
        if not isinstance(self.outcome, Outcome):
            _reject('outcome', 'one of %s' % sorted(
                cls.__name__ for cls in _OUTCOME_NAMES), self.outcome)
        _check_text('method', self.method, optional=True)
        if self.method is not None:
            object.__setattr__(self, 'method', self.method.upper())
        _check_text('resource_type', self.resource_type, optional=True)
        _check_text('job', self.job, optional=True)
        _check_text('rule_id', self.rule_id, optional=True)
        _check_number('probability', self.probability, 0, 1)
        _check_number('delay', self.delay, 0)
        _check_int('skip', self.skip, 0)
        if self.max_count is not None:
            _check_int('max_count', self.max_count, 1)
        object.__setattr__(self, '_path_re', _compile_path(self.path))

    def criteria_match(self, info):
        """Whether info satisfies every criterion (ignores probability)."""
        if self.job is not None and self.job != info.job:
            return False
        if isinstance(self.outcome, JobFailure) and info.job is None:
            return False
        if self.method is not None and self.method != info.method.upper():
            return False
        if (self.resource_type is not None
                and self.resource_type != info.resource_type):
            return False
        return self._path_re is None or bool(self._path_re.search(info.path))


def _compile_path(path):
    if path is None:
        return None
    if not isinstance(path, str):
        _reject('path', 'a regular expression string or null', path)
    try:
        return re.compile(path, re.IGNORECASE)
    except re.error as exc:
        raise ValueError('path is not a valid regular expression (%s): %r'
                         % (exc, path)) from exc


@dataclasses.dataclass(frozen=True)
class Fired:
    """A rule that fired for a request: what to do and how long to wait."""

    rule_id: str
    outcome: Outcome
    delay: float


@dataclasses.dataclass
class _ArmedRule:
    rule: FaultRule
    # Times fired since the rule was added; drives max_count and survives
    # reset_counters() so that resetting statistics does not re-arm rules.
    fired: int = 0
    # Matching requests let through so far because of the rule's skip.
    skipped: int = 0

    def exhausted(self):
        return (self.rule.max_count is not None
                and self.fired >= self.rule.max_count)

    def skips(self):
        """Whether to let this matching request through (and count it)."""
        if self.skipped >= self.rule.skip:
            return False
        self.skipped += 1
        return True


class FaultRegistry:
    """The armed fault rules, matched in the order they were added."""

    def __init__(self, seed=0):
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._armed = []
        self._ids = itertools.count(1)
        self._by_rule = {}
        self._by_outcome = {}
        self._requests_seen = 0
        self._zero_counters()

    def add(self, rule):
        """Arm rule after the existing ones; return its rule_id.

        A rule that brings its own rule_id keeps it; otherwise the registry
        names it 'rule-<n>'.
        """
        if not isinstance(rule, FaultRule):
            raise TypeError('expected a FaultRule, got %r' % (rule,))
        with self._lock:
            taken = {armed.rule.rule_id for armed in self._armed}
            rule_id = rule.rule_id or self._fresh_id(taken)
            if rule_id in taken:
                raise ValueError('a fault rule with id %r is already armed'
                                 % rule_id)
            rule = dataclasses.replace(rule, rule_id=rule_id)
            self._armed.append(_ArmedRule(rule))
            self._by_rule.setdefault(rule_id, 0)
        return rule_id

    def _fresh_id(self, taken):
        candidates = ('rule-%d' % number for number in self._ids)
        return next(rule_id for rule_id in candidates
                    if rule_id not in taken)

    def remove(self, rule_id):
        """Disarm one rule; KeyError if no rule has that id."""
        with self._lock:
            for index, armed in enumerate(self._armed):
                if armed.rule.rule_id == rule_id:
                    del self._armed[index]
                    return
        raise KeyError('no fault rule with id %r' % (rule_id,))

    def clear(self):
        """Disarm every rule (the counters stay until reset_counters)."""
        with self._lock:
            self._armed.clear()

    def rules(self):
        """The armed rules, with their ids, in matching order."""
        with self._lock:
            return [armed.rule for armed in self._armed]

    def reseed(self, seed):
        """Restart the probability draws from seed."""
        with self._lock:
            self._random.seed(seed)

    def match(self, info):
        """Return the Fired of the first rule that fires for info, or None.

        The probability is drawn only for rules whose criteria match, and
        only when it is strictly between 0 and 1, so requests no rule cares
        about leave the random sequence untouched.  Requests a rule skips
        draw nothing either.
        """
        with self._lock:
            self._requests_seen += 1
            for armed in self._armed:
                if armed.exhausted() or not armed.rule.criteria_match(info):
                    continue
                if armed.skips():
                    continue
                if not self._draw(armed.rule.probability):
                    continue
                return self._fire(armed)
        return None

    def _draw(self, probability):
        if probability >= 1:
            return True
        if probability <= 0:
            return False
        return self._random.random() < probability

    def _fire(self, armed):
        armed.fired += 1
        rule = armed.rule
        self._by_rule[rule.rule_id] = self._by_rule.get(rule.rule_id, 0) + 1
        self._by_outcome[type(rule.outcome).__name__] += 1
        return Fired(rule.rule_id, rule.outcome, rule.delay)

    def counters(self):
        """How often each rule and each outcome type fired, and requests."""
        with self._lock:
            return {
                'by_rule': dict(self._by_rule),
                'by_outcome': dict(self._by_outcome),
                'requests_seen': self._requests_seen,
            }

    def reset_counters(self):
        """Zero the statistics; rules keep their progress towards max_count."""
        with self._lock:
            self._zero_counters()

    def _zero_counters(self):
        self._by_rule = {armed.rule.rule_id: 0 for armed in self._armed}
        self._by_outcome = {cls.__name__: 0 for cls in _OUTCOME_NAMES}
        self._requests_seen = 0


def _init_fields(cls):
    return [field for field in dataclasses.fields(cls) if field.init]


def _check_keys(what, data, cls, ignore=()):
    """Reject non-dicts, unknown keys and missing required keys."""
    if not isinstance(data, dict):
        raise ValueError('%s must be a JSON object, got %r' % (what, data))
    fields = _init_fields(cls)
    allowed = {field.name for field in fields} | set(ignore)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError('%s has unknown key(s) %s; allowed keys: %s'
                         % (what, ', '.join(unknown),
                            ', '.join(sorted(allowed))))
    missing = [field.name for field in fields
               if field.default is dataclasses.MISSING
               and field.default_factory is dataclasses.MISSING
               and field.name not in data]
    if missing:
        raise ValueError('%s is missing required key(s) %s'
                         % (what, ', '.join(missing)))


def _build(what, cls, kwargs):
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ValueError('%s: %s' % (what, exc)) from exc


def outcome_from_dict(data):
    """Build an outcome from {'type': 'http', 'status': 503, ...}."""
    if not isinstance(data, dict) or 'type' not in data:
        raise ValueError('fault outcome must be a JSON object with a "type" '
                         'key, got %r' % (data,))
    cls = _OUTCOME_TYPES.get(data['type'])
    if cls is None:
        raise ValueError('fault outcome type must be one of %s, got %r'
                         % (', '.join(sorted(_OUTCOME_TYPES)), data['type']))
    what = 'fault outcome %r' % data['type']
    _check_keys(what, data, cls, ignore=('type',))
    kwargs = {key: value for key, value in data.items() if key != 'type'}
    return _build(what, cls, kwargs)


def outcome_to_dict(outcome):
    """The JSON-friendly form outcome_from_dict reads back."""
    return {'type': _OUTCOME_NAMES[type(outcome)],
            **dataclasses.asdict(outcome)}


def rule_from_dict(data):
    """Build a FaultRule from its JSON form; ValueError says what is wrong.

    Example: {"method": "PUT", "resource_type": "LogicalPartition",
    "max_count": 2, "outcome": {"type": "http", "status": 503,
    "message": "HSCL3205 ..."}}
    """
    _check_keys('fault rule', data, FaultRule)
    kwargs = dict(data, outcome=outcome_from_dict(data['outcome']))
    return _build('fault rule', FaultRule, kwargs)


def rule_to_dict(rule):
    """The JSON-friendly form rule_from_dict reads back."""
    data = {field.name: getattr(rule, field.name)
            for field in _init_fields(FaultRule)}
    data['outcome'] = outcome_to_dict(rule.outcome)
    return data


class LatencyModel:
    """Fault-free delays, in seconds, for requests and jobs.

    A request waits per_request plus its method's per_method entry; a job
    runs per_job plus its operation's per_job_operation entry. Each draws
    extra jitter uniformly from [0, jitter]. All zero by default, so tests
    run at full speed.
    """

    def __init__(self, per_request=0.0, per_job=0.0, jitter=0.0, seed=0,
                 per_method=None, per_job_operation=None):
        _check_number('per_request', per_request, 0)
        _check_number('per_job', per_job, 0)
        _check_number('jitter', jitter, 0)
        _check_int('seed', seed)
        self.per_request = per_request
        self.per_job = per_job
        self.jitter = jitter
        self.seed = seed
        self.per_method = _check_delay_map(
            'per_method', per_method, str.upper)
        self.per_job_operation = _check_delay_map(
            'per_job_operation', per_job_operation, str)
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def request_delay(self, info):
        """Seconds to hold the request described by info."""
        extra = self.per_method.get(info.method.upper(), 0.0)
        return self.per_request + extra + self._draw_jitter()

    def job_duration(self, job_name):
        """Seconds the job named job_name spends running."""
        extra = self.per_job_operation.get(job_name, 0.0)
        return self.per_job + extra + self._draw_jitter()

    def reseed(self, seed):
        """Restart the jitter draws from seed."""
        _check_int('seed', seed)
        with self._lock:
            self.seed = seed
            self._random.seed(seed)

    def _draw_jitter(self):
        # No draw without jitter: the default model consumes no randomness.
        if not self.jitter:
            return 0.0
        with self._lock:
            return self._random.uniform(0.0, self.jitter)


def _check_delay_map(name, mapping, normalise_key):
    """Validate {name: seconds} and return a copy with normalised keys."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        _reject(name, 'an object of name to seconds', mapping)
    checked = {}
    for key, seconds in mapping.items():
        _check_text('%s key' % name, key)
        _check_number('%s[%r]' % (name, key), seconds, 0)
        checked[normalise_key(key)] = seconds
    return checked


_LATENCY_KEYS = ('per_request', 'per_job', 'jitter', 'seed', 'per_method',
                 'per_job_operation')


def latency_from_dict(data):
    """Build a LatencyModel from its JSON form; missing keys default."""
    if not isinstance(data, dict):
        raise ValueError('latency model must be a JSON object, got %r'
                         % (data,))
    unknown = sorted(set(data) - set(_LATENCY_KEYS))
    if unknown:
        raise ValueError('latency model has unknown key(s) %s; allowed '
                         'keys: %s' % (', '.join(unknown),
                                       ', '.join(sorted(_LATENCY_KEYS))))
    try:
        return LatencyModel(**data)
    except ValueError as exc:
        raise ValueError('latency model: %s' % exc) from exc


def latency_to_dict(model):
    """The JSON-friendly form latency_from_dict reads back."""
    data = {key: getattr(model, key) for key in _LATENCY_KEYS}
    data['per_method'] = dict(model.per_method)
    data['per_job_operation'] = dict(model.per_job_operation)
    return data
