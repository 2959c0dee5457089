"""The driver's connection to NovaLink: what a REST call costs the client,
and what keeping connections alive saves, against pypowervm as shipped (a
new requests.Session and TCP connection, over HTTPS a TLS handshake, for
every call), measured in one run.

Targets (from the hardening issue):

- entry GETs through the driver's adapter (its session and helpers), one
  thread, the simulator in a process of its own: 2,000 a second;
- TLS handshakes per spawn over HTTPS: at most one per thread that calls
  NovaLink during the spawn.
"""

import logging
import statistics
import threading
import time

from pypowervm import adapter as pvm_adpt
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm import adapter as pvm_adapter
from nova_powervm import demo
from nova_powervm import session as pvm_session
from tests.bench import driver as bench_driver
from tests.bench import sim as bench_sim
from tests import bench

GETS_PER_SECOND = 2000.0
REQUEST_TIMEOUT = 60.0
# Spawns timed per connection mode (the median counts), alternating.
SPAWNS = 3
# pypowervm as shipped, and the driver's session.
SHIPPED = 'pypowervm as shipped'
KEPT = 'kept connections'


def run(report):
    for name in ('pypowervm', 'taskflow', 'stevedore', 'nova_powervm'):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    _gets(report)
    _spawns(report)


# ------------------------------------------------------------------ GETs
def _gets(report):
    with bench_sim.ServerProcess() as server:
        session = pvm_session.Session(
            REQUEST_TIMEOUT, host=server.host, port=server.port,
            protocol='http', conn_tries=1)
        try:
            adapters = {
                SHIPPED: server.adapter(),
                KEPT: pvm_adpt.Adapter(
                    session, helpers=list(pvm_adapter.HELPERS))}
            costs = {mode: _get_cost(server, adapter)
                     for mode, adapter in adapters.items()}
        finally:
            session._logoff()
    for mode, (_rate, cpu) in costs.items():
        report.measure('client CPU per entry GET, %s' % mode, cpu * 1000,
                       'ms')
    report.measure('client CPU per entry GET, shipped / kept',
                   costs[SHIPPED][1] / costs[KEPT][1], 'x', note=(
                       'the driver\'s session keeps an http.client '
                       'connection per thread and skips requests\' '
                       'per-call work (environment, settings, urllib3 '
                       'pool); pypowervm\'s own parse of the answer is '
                       'most of what is left'))
    report.measure('entry GETs/s via pypowervm as shipped, 1 thread',
                   costs[SHIPPED][0], 'GET/s')
    report.measure('entry GETs/s via the driver\'s adapter, 1 thread',
                   costs[KEPT][0], 'GET/s', GETS_PER_SECOND, note=(
                       'the simulator in its own process, over loopback '
                       'HTTP; the driver\'s helpers (secret marking, '
                       'logging, VIOS-busy retries) included'))


def _get_cost(server, adapter):
    """(GETs a second, client CPU seconds per GET) of one thread."""
    def read(adapter):
        adapter.read(pvm_lpar.LPAR.schema_type, root_id=server.uuid)

    for _ in range(50):
        read(adapter)
    before = time.process_time()
    rate, count = bench_sim.calls_per_second([adapter], read)
    return rate, (time.process_time() - before) / count


# ---------------------------------------------------------------- spawns
class CallingThreads:
    """Which threads call NovaLink through ``session`` (since the last
    ``reset``)."""

    def __init__(self, session):
        self.idents = set()
        request = session.request

        def counted(*args, **kwargs):
            self.idents.add(threading.get_ident())
            return request(*args, **kwargs)

        session.request = counted

    def reset(self):
        self.idents = set()


def _spawns(report):
    with demo.ComputeHost(https=True, disk_driver='localdisk') as host:
        numbers = iter(range(1, 10000))
        session = host.driver.adapter.session
        server = host.sim.endpoints[0].server
        # The first spawn of an image uploads it; not what is compared.
        bench_driver._destroy(host, bench_driver._spawn(host, next(numbers)))
        results = {}
        for latency in (False, True):
            results[latency] = _compare_spawns(host, session, server,
                                               numbers, latency)
    for latency, (handshakes, threads, seconds) in results.items():
        label = ('at %d ms a call, %g s a job' % (
            bench_driver.LATENCY_PER_CALL * 1000,
            bench_driver.LATENCY_PER_JOB) if latency else 'no latency')
        for mode in (SHIPPED, KEPT):
            report.measure('spawn over HTTPS, %s, %s: time' % (label, mode),
                           seconds[mode], 's')
        report.measure('spawn over HTTPS, %s: time shipped / kept' % label,
                       seconds[SHIPPED] / seconds[KEPT], 'x')
        if latency:
            continue
        report.measure('TLS handshakes per spawn, %s' % SHIPPED,
                       handshakes[SHIPPED], 'handshakes')
        report.measure('TLS handshakes per spawn, %s' % KEPT,
                       handshakes[KEPT], 'handshakes', threads[KEPT],
                       bench.LOWER, note=(
                           'target: the %d threads that called NovaLink '
                           'during the spawn (its own, the event '
                           'listener\'s, pypowervm\'s workers)'
                           % threads[KEPT]))


def _compare_spawns(host, session, server, numbers, latency):
    """({mode: handshakes}, {mode: threads that called}, {mode: seconds}),
    the medians of SPAWNS spawns per mode, the modes alternating."""
    calling = CallingThreads(session)
    model = host.sim.latency
    if latency:
        model.per_request = bench_driver.LATENCY_PER_CALL
        model.per_job = bench_driver.LATENCY_PER_JOB
    runs = {SHIPPED: [], KEPT: []}
    try:
        for _ in range(SPAWNS):
            for mode in (SHIPPED, KEPT):
                # The proxy path: a plain requests.Session per call.
                session._direct = mode == KEPT
                runs[mode].append(_timed_spawn(host, server, numbers,
                                               calling))
    finally:
        model.per_request = model.per_job = 0.0
        session._direct = True

    def median(field):
        return {mode: statistics.median(run[field] for run in measured)
                for mode, measured in runs.items()}

    return median(0), median(1), median(2)


def _timed_spawn(host, server, numbers, calling):
    """(connections the server accepted, threads that called, seconds) of
    one spawn, then its destroy (not counted)."""
    before = server.connections_accepted
    calling.reset()
    began = time.monotonic()
    spawned = bench_driver._spawn(host, next(numbers))
    seconds = time.monotonic() - began
    handshakes = server.connections_accepted - before
    threads = len(calling.idents)
    bench_driver._destroy(host, spawned)
    return handshakes, threads, seconds
