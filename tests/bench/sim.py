"""The simulator's own speed, measured through unmodified pypowervm over
loopback HTTP.

Targets (from the simulator's issue, on 2 cores): at least 1,000 entry
GETs per second, and a 1,000-LPAR feed in at most 0.2 s.

The rows measured through pypowervm run the simulator in a process of its
own, as the standalone simulator runs, so that client and server each have
a core (in one process they would take turns under one interpreter lock).
The "server only" rows leave the client out: they are what the simulator
itself costs.
"""

import logging
import multiprocessing
import statistics
import threading
import time
import tracemalloc

from pypowervm import adapter as pvm_adpt
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from werkzeug import test as werkzeug_test

from powervm_sim import fixture
from powervm_sim import model as model_mod
from powervm_sim.model import builder
from powervm_sim.model import partition
from tests import bench

GETS_PER_SECOND = 1000.0
FEED_SECONDS = 0.2
FEED_LPARS = 1000
CREATE_LPARS = 1000
# GET rates are measured in windows, feed reads timed FEED_RUNS times.
RATE_WINDOWS = 3
RATE_WINDOW_SECONDS = 1.0
FEED_RUNS = 5
READ_THREADS = 4
STARTUP_SECONDS = 120
FEED_PATH = '/rest/api/uom/LogicalPartition?group=None'


def run(report):
    # pypowervm warns about plain HTTP on every logon.
    logging.getLogger('pypowervm').setLevel(logging.ERROR)
    _entry_gets(report)
    _feed_reads(report)
    _model_memory(report)
    _creates(report)


# ------------------------------------------------------------------ model
def big_model(lpars):
    """A model with one system holding ``lpars`` client LPARs.

    The system is enlarged to hold them: a real one stops at 1,000
    partitions, NovaLink and VIOSes included.
    """
    model = model_mod.Model()
    [system] = builder.build(model, systems=1, vioses=2, lpars=0)
    enlarge(system, lpars)
    for number in range(1, lpars + 1):
        model.add_partition(
            system, partition.LPAR, name='lpar%04d' % number,
            mem_desired=1024, mem_min=512, mem_max=2048,
            proc_units_desired=0.1, proc_units_min=0.05,
            proc_units_max=0.5, vprocs_desired=1, vprocs_max=1)
    return model


def enlarge(system, lpars):
    system.max_partitions = lpars + 100
    system.memory_installed = system.memory_configurable = (
        system.memory_configurable + lpars * 1024)
    system.proc_units_installed = system.proc_units_configurable = (
        system.proc_units_configurable + lpars * 0.1)


def change_every_lpar(model):
    """A new etag on every LPAR: nothing rendered before is reusable."""
    with model.registry.lock:
        for lpar in model.lpars():
            model.registry.changed(lpar)


class Simulated:
    """A NovaLinkFixture used outside a test case."""

    def __init__(self, model=None):
        self.fixture = fixture.NovaLinkFixture(model=model)
        self.own_model = model

    def __enter__(self):
        self.fixture.setUp()
        return self.fixture

    def __exit__(self, *exc_info):
        self.fixture.cleanUp()
        if self.own_model is not None:
            self.own_model.content.close()


class ServerProcess:
    """A simulator endpoint served by a child process.

    :param lpars: client LPARs of the child's model (0: the fixture's
                  standard model).
    """

    def __init__(self, lpars=0):
        context = multiprocessing.get_context('spawn')
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(target=_serve,
                                        args=(child_conn, lpars),
                                        daemon=True)
        self.host = self.port = self.uuid = None
        self._sessions = []

    def __enter__(self):
        self._process.start()
        if not self._conn.poll(STARTUP_SECONDS):
            self._process.kill()
            raise RuntimeError('the simulator process did not start')
        self.host, self.port, self.uuid = self._conn.recv()
        return self

    def __exit__(self, *exc_info):
        for session in self._sessions:
            # pypowervm would log off from __del__, after the server stops.
            session._logoff()
        self._conn.send('stop')
        self._process.join(STARTUP_SECONDS)
        if self._process.is_alive():
            self._process.kill()

    def adapter(self):
        session = pvm_adpt.Session(host=self.host, port=self.port,
                                   protocol='http', conn_tries=1)
        self._sessions.append(session)
        return pvm_adpt.Adapter(session)

    def cpu_seconds(self):
        """CPU time the server process has used so far."""
        return self._ask('cpu')

    def change_every_lpar(self):
        self._ask('change')

    def _ask(self, command):
        self._conn.send(command)
        return self._conn.recv()


def _serve(conn, lpars):
    """The child process: serve until told to stop, answer commands."""
    logging.getLogger('pypowervm').setLevel(logging.ERROR)
    model = big_model(lpars) if lpars else None
    with Simulated(model) as sim:
        endpoint = sim.endpoints[0]
        uuid = next(p.uuid for p in sim.model.lpars() if p.is_mgmt)
        conn.send((endpoint.host, endpoint.port, uuid))
        while True:
            command = conn.recv()
            if command == 'cpu':
                conn.send(time.process_time())
            elif command == 'change':
                change_every_lpar(sim.model)
                conn.send(None)
            else:
                break


# ------------------------------------------------------------------ GETs
def _entry_gets(report):
    with ServerProcess() as server:
        adapters = [server.adapter() for _ in range(READ_THREADS)]

        def read(adapter):
            adapter.read(pvm_lpar.LPAR.schema_type, root_id=server.uuid)

        for _ in range(50):
            read(adapters[0])
        server_before = server.cpu_seconds()
        client_before = time.process_time()
        rate, count = _rate([adapters[0]], read)
        client_per_get = (time.process_time() - client_before) / count
        cpu_per_get = (server.cpu_seconds() - server_before) / count
        report.measure('entry GETs/s, 1 client thread', rate, 'GET/s',
                       GETS_PER_SECOND, note=(
                           'CPU time per GET: pypowervm %.3f ms (it opens a '
                           'new connection for every request), the server '
                           '%.3f ms' % (client_per_get * 1000,
                                        cpu_per_get * 1000)))
        rate, _ = _rate(adapters, read)
        report.measure('entry GETs/s, %d client threads' % READ_THREADS,
                       rate, 'GET/s', GETS_PER_SECOND)
        report.measure('entry GETs/s one server core serves',
                       1 / cpu_per_get, 'GET/s', GETS_PER_SECOND, note=(
                           'the inverse of the server process\'s CPU time '
                           'per GET, %.3f ms, its HTTP server included' % (
                               cpu_per_get * 1000)))
    with Simulated() as sim:
        adapter = sim.adapter()
        uuid = next(p.uuid for p in sim.model.lpars() if p.is_mgmt)
        rate, _ = _rate([adapter], lambda a: a.read(
            pvm_lpar.LPAR.schema_type, root_id=uuid))
    report.measure('entry GETs/s, client and server in one process', rate,
                   'GET/s', note='as the functional tests run')


def _rate(adapters, func):
    """(calls per second, calls) of func(adapter), a thread per adapter.

    The rate is the best of RATE_WINDOWS windows: a burst of other work on
    the machine slows one window, not the result.
    """
    counts = [0] * len(adapters)
    windows = []
    for _ in range(RATE_WINDOWS):
        before = sum(counts)
        elapsed = _run_window(adapters, func, counts)
        windows.append((sum(counts) - before) / elapsed)
    return max(windows), sum(counts)


def _run_window(adapters, func, counts):
    start = threading.Barrier(len(adapters) + 1)
    deadline = []

    def loop(index):
        start.wait()
        while time.monotonic() < deadline[0]:
            func(adapters[index])
            counts[index] += 1

    threads = [threading.Thread(target=loop, args=(i,))
               for i in range(len(adapters))]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline.append(began + RATE_WINDOW_SECONDS)
    start.wait()
    for thread in threads:
        thread.join()
    return time.monotonic() - began


# ------------------------------------------------------------------ feed
def _feed_reads(report):
    entries = FEED_LPARS + 1    # and the NovaLink partition
    with ServerProcess(FEED_LPARS) as server:
        adapter = server.adapter()

        def read():
            feed = adapter.read(pvm_lpar.LPAR.schema_type)
            if len(feed.feed.entries) != entries:
                raise AssertionError('feed has %d entries, expected %d' % (
                    len(feed.feed.entries), entries))

        cold = _median_time(read, before=server.change_every_lpar)
        warm = _median_time(read)
    report.measure('%d-LPAR feed, first read' % FEED_LPARS, cold, 's',
                   FEED_SECONDS, bench.LOWER, note=(
                       'median of %d reads of %d entries (NovaLink partition '
                       'included); "first read" after every LPAR changed, '
                       'so nothing rendered before is reused' % (
                           FEED_RUNS, entries)))
    report.measure('%d-LPAR feed, unchanged' % FEED_LPARS, warm, 's',
                   FEED_SECONDS, bench.LOWER)

    model = big_model(FEED_LPARS)
    with Simulated(model) as sim:
        simulator = sim.endpoints[0].simulator
        token, _ = simulator.sessions.logon_file('bench', '127.0.0.1')
        client = werkzeug_test.Client(simulator)

        def serve():
            response = client.get(FEED_PATH, headers={'X-API-Session': token})
            if response.status_code != 200:
                raise AssertionError('the feed read answered %s' % (
                    response.status,))

        cold = _median_time(serve, before=lambda: change_every_lpar(model))
        warm = _median_time(serve)
    report.measure('%d-LPAR feed, first read, server only' % FEED_LPARS,
                   cold, 's', FEED_SECONDS, bench.LOWER, note=(
                       'the same feed from the WSGI application: no socket, '
                       'no client.  pypowervm\'s parse of the 10 MB feed (as '
                       'large as real NovaLink\'s) is most of the rest'))
    report.measure('%d-LPAR feed, unchanged, server only' % FEED_LPARS,
                   warm, 's', FEED_SECONDS, bench.LOWER)


def _median_time(func, before=None):
    """Median seconds of FEED_RUNS calls of func (after one unmeasured)."""
    func()
    times = []
    for _ in range(FEED_RUNS):
        if before is not None:
            before()
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


# ---------------------------------------------------------------- memory
def _model_memory(report):
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model = big_model(FEED_LPARS)
        model_only = tracemalloc.get_traced_memory()[0] - before
        with Simulated(model) as sim:
            # Read once so the rendered documents the server keeps count.
            sim.adapter().read(pvm_lpar.LPAR.schema_type)
            used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    report.measure('model memory, %d LPARs' % FEED_LPARS,
                   model_only / 2 ** 20, 'MB', note=(
                       'Python allocations (tracemalloc)'))
    report.measure('model + server memory, %d LPARs' % FEED_LPARS,
                   used / 2 ** 20, 'MB', note=(
                       'the model, a running endpoint and the rendered '
                       'documents it keeps for reuse after one feed read'))


# --------------------------------------------------------------- creates
def _creates(report):
    model = model_mod.Model()
    [system] = builder.build(model, systems=1, vioses=2, lpars=0)
    enlarge(system, CREATE_LPARS)
    with Simulated(model) as sim:
        adapter = sim.adapter()
        host = pvm_ms.System.get(adapter)[0]
        stdz = lpar_builder.DefaultStandardize(host)
        began = time.perf_counter()
        for number in range(CREATE_LPARS):
            attrs = {lpar_builder.NAME: 'new%04d' % number,
                     lpar_builder.MEM: 1024, lpar_builder.VCPU: 1,
                     lpar_builder.PROC_UNITS: '0.1'}
            lpar_builder.LPARBuilder(adapter, attrs, stdz).build().create(
                parent=host)
        elapsed = time.perf_counter() - began
        created = len(model.lpars()) - 1
    if created != CREATE_LPARS:
        raise AssertionError('created %d LPARs, expected %d' % (
            created, CREATE_LPARS))
    report.measure('create %d LPARs' % CREATE_LPARS, elapsed, 's', note=(
        'one client thread in the server\'s process; each create builds '
        'its wrapper with LPARBuilder, as nova does, then PUTs it'))
