"""The simulator's own speed, measured through unmodified pypowervm over
loopback HTTP.

Targets (from the simulator's issue, on 2 cores): at least 1,000 entry
GETs per second, and a 1,000-LPAR feed in at most 0.2 s.

The simulator runs in a process of its own, as the standalone simulator
runs, so that client and server each have a core (in one process they would
take turns under one interpreter lock).  Two clients measure it:

- pypowervm, unmodified: what the driver sees, the client's own cost
  included (pypowervm opens a new connection for every request and parses
  every answer into wrappers);
- "lean client": http.client on keep-alive connections in a process of
  its own, over the same loopback HTTP: close to what the simulator itself
  can serve.

The 1,000-partition system is a real one's maximum (a POWER server allows
1,000 partitions, NovaLink and VIOSes included; the model hands out
partition IDs 1 to max_partitions and refuses a partition past them).
"""

import http.client
import logging
import multiprocessing
import statistics
import threading
import time
import tracemalloc

from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms

from powervm_sim import fixture
from powervm_sim import model as model_mod
from powervm_sim.model import builder
from tests import bench

GETS_PER_SECOND = 1000.0
FEED_SECONDS = 0.2
# A real POWER server's partition limit, NovaLink and VIOSes included.
MAX_PARTITIONS = 1000
VIOSES = 2
# The client LPARs that fill such a system beside NovaLink and its VIOSes.
FULL_LPARS = MAX_PARTITIONS - 1 - VIOSES
# GET rates are measured in windows, feed reads timed FEED_RUNS times.
RATE_WINDOWS = 3
RATE_WINDOW_SECONDS = 1.0
FEED_RUNS = 5
READ_THREADS = 4
LEAN_CONNECTIONS = 2
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
    """A model with one system holding ``lpars`` client LPARs."""
    model = model_mod.Model()
    [system] = builder.build(model, systems=1, vioses=VIOSES, lpars=0)
    enlarge(system, lpars)
    builder.add_lpars(model, system, lpars)
    return model


def enlarge(system, lpars):
    """Memory and processors for ``lpars`` more LPARs; the partition limit
    stays the real one."""
    system.max_partitions = MAX_PARTITIONS
    if len(system.partitions) + lpars > MAX_PARTITIONS:
        raise ValueError('%d LPARs do not fit beside the %d partitions of '
                         'a system' % (lpars, len(system.partitions)))
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

    def session_token(self):
        """A token of a file-authenticated session (for a lean client)."""
        return self._ask('token')

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
            elif command == 'token':
                token, _ = endpoint.simulator.sessions.logon_file(
                    'bench', '127.0.0.1')
                conn.send(token)
            else:
                break


class LeanClient:
    """http.client on keep-alive connections, in a process of its own.

    It costs the server what any client must (a request to parse, a
    response to send) and itself little, so its rates show what the
    simulator serves rather than what pypowervm can ask for.
    """

    def __init__(self, server):
        context = multiprocessing.get_context('spawn')
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_lean_client, daemon=True,
            args=(child_conn, server.host, server.port,
                  server.session_token()))

    def __enter__(self):
        self._process.start()
        return self

    def __exit__(self, *exc_info):
        self._conn.send(('stop',))
        self._process.join(STARTUP_SECONDS)
        if self._process.is_alive():
            self._process.kill()

    def rate(self, path, connections):
        """(GETs per second, GETs) of path, a thread per connection."""
        return self._ask('rate', path, connections)

    def get_seconds(self, path):
        """Seconds one GET of path takes, its whole body read."""
        return self._ask('time', path)

    def _ask(self, *command):
        self._conn.send(command)
        if not self._conn.poll(STARTUP_SECONDS):
            raise RuntimeError('the lean client did not answer')
        answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer


class _KeepAlive:
    """One keep-alive connection sending authenticated GETs."""

    def __init__(self, host, port, token):
        self._connection = http.client.HTTPConnection(host, port)
        self._headers = {'X-API-Session': token}

    def get(self, path):
        self._connection.request('GET', path, headers=self._headers)
        response = self._connection.getresponse()
        response.read()
        if response.status != 200:
            raise AssertionError('GET %s answered %d' % (
                path, response.status))
        if response.will_close:
            raise AssertionError('the server closed a keep-alive '
                                 'connection')

    def close(self):
        self._connection.close()


def _lean_client(conn, host, port, token):
    """The lean client's process: answer commands until told to stop."""
    while True:
        command, *args = conn.recv()
        if command == 'stop':
            return
        try:
            conn.send(_lean_command(command, args, host, port, token))
        except Exception as exc:
            conn.send(exc)


def _lean_command(command, args, host, port, token):
    if command == 'rate':
        path, count = args
        clients = [_KeepAlive(host, port, token) for _ in range(count)]
        try:
            for client in clients:
                client.get(path)
            return calls_per_second(clients,
                                    lambda client: client.get(path))
        finally:
            for client in clients:
                client.close()
    [path] = args
    client = _KeepAlive(host, port, token)
    try:
        began = time.perf_counter()
        client.get(path)
        return time.perf_counter() - began
    finally:
        client.close()


# ------------------------------------------------------------------ GETs
def _entry_gets(report):
    with ServerProcess() as server:
        _pypowervm_gets(report, server)
        _lean_gets(report, server)
    with Simulated() as sim:
        adapter = sim.adapter()
        uuid = next(p.uuid for p in sim.model.lpars() if p.is_mgmt)
        rate, _ = calls_per_second([adapter], lambda a: a.read(
            pvm_lpar.LPAR.schema_type, root_id=uuid))
    report.measure('entry GETs/s, client and server in one process', rate,
                   'GET/s', note='pypowervm, as the functional tests run')


def _pypowervm_gets(report, server):
    adapters = [server.adapter() for _ in range(READ_THREADS)]

    def read(adapter):
        adapter.read(pvm_lpar.LPAR.schema_type, root_id=server.uuid)

    for _ in range(50):
        read(adapters[0])
    server_before = server.cpu_seconds()
    client_before = time.process_time()
    rate, count = calls_per_second([adapters[0]], read)
    client_per_get = (time.process_time() - client_before) / count
    cpu_per_get = (server.cpu_seconds() - server_before) / count
    report.measure('entry GETs/s via pypowervm, 1 thread', rate, 'GET/s',
                   GETS_PER_SECOND, note=(
                       'CPU time per GET: pypowervm %.3f ms (a new '
                       'connection and requests.Session for every request, '
                       'the answer parsed into wrappers), the server %.3f ms'
                       % (client_per_get * 1000, cpu_per_get * 1000)))
    rate, _ = calls_per_second(adapters, read)
    report.measure('entry GETs/s via pypowervm, %d threads' % READ_THREADS,
                   rate, 'GET/s', GETS_PER_SECOND, note=(
                       'one client process: its threads share one '
                       'interpreter lock, so the client\'s CPU time per GET '
                       'bounds the rate'))


def _lean_gets(report, server):
    path = '/rest/api/uom/LogicalPartition/%s' % server.uuid
    with LeanClient(server) as client:
        client.rate(path, 1)
        server_before = server.cpu_seconds()
        rate, count = client.rate(path, 1)
        cpu_per_get = (server.cpu_seconds() - server_before) / count
        report.measure('entry GETs/s, lean client, 1 connection', rate,
                       'GET/s', GETS_PER_SECOND, note=(
                           'http.client with keep-alive in its own process '
                           'over loopback HTTP; server CPU time per GET '
                           '%.3f ms' % (cpu_per_get * 1000)))
        rate, _ = client.rate(path, LEAN_CONNECTIONS)
        report.measure('entry GETs/s, lean client, %d connections' %
                       LEAN_CONNECTIONS, rate, 'GET/s', GETS_PER_SECOND)
    report.measure('entry GETs/s one server core serves', 1 / cpu_per_get,
                   'GET/s', GETS_PER_SECOND, note=(
                       'the inverse of the server process\'s CPU time per '
                       'GET under the lean client, its HTTP server included'))


def calls_per_second(adapters, func):
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
    entries = FULL_LPARS + 1    # and the NovaLink partition
    with ServerProcess(FULL_LPARS) as server:
        adapter = server.adapter()

        def read():
            feed = adapter.read(pvm_lpar.LPAR.schema_type)
            if len(feed.feed.entries) != entries:
                raise AssertionError('feed has %d entries, expected %d' % (
                    len(feed.feed.entries), entries))

        cold = _median_time(read, before=server.change_every_lpar)
        warm = _median_time(read)
        report.measure('full-system LPAR feed via pypowervm, first read',
                       cold, 's', FEED_SECONDS, bench.LOWER, note=(
                           'median of %d reads of the LogicalPartition feed '
                           'of a system at its %d-partition limit: %d '
                           'entries (NovaLink included; the %d VIOSes are '
                           'the VirtualIOServer feed); "first read" after '
                           'every LPAR changed, so nothing rendered before '
                           'is reused.  pypowervm\'s parse of the feed '
                           '(some 12 MB) is most of it' % (
                               FEED_RUNS, MAX_PARTITIONS, entries, VIOSES)))
        report.measure('full-system LPAR feed via pypowervm, unchanged',
                       warm, 's', FEED_SECONDS, bench.LOWER)
        with LeanClient(server) as client:
            cold = _median_time(lambda: client.get_seconds(FEED_PATH),
                                before=server.change_every_lpar,
                                timer=True)
            warm = _median_time(lambda: client.get_seconds(FEED_PATH),
                                timer=True)
    report.measure('full-system LPAR feed, lean client, first read', cold,
                   's', FEED_SECONDS, bench.LOWER, note=(
                       'the same feed over loopback HTTP to http.client, '
                       'timed in the client from request to last byte'))
    report.measure('full-system LPAR feed, lean client, unchanged', warm,
                   's', FEED_SECONDS, bench.LOWER)


def _median_time(func, before=None, timer=False):
    """Median seconds of FEED_RUNS calls of func (after one unmeasured).

    :param timer: func returns the seconds to count itself.
    """
    func()
    times = []
    for _ in range(FEED_RUNS):
        if before is not None:
            before()
        began = time.perf_counter()
        seconds = func()
        times.append(seconds if timer else time.perf_counter() - began)
    return statistics.median(times)


# ---------------------------------------------------------------- memory
def _model_memory(report):
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model = big_model(FULL_LPARS)
        model_only = tracemalloc.get_traced_memory()[0] - before
        with Simulated(model) as sim:
            # Read once so the rendered documents the server keeps count.
            sim.adapter().read(pvm_lpar.LPAR.schema_type)
            used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    report.measure('model memory, %d partitions' % MAX_PARTITIONS,
                   model_only / 2 ** 20, 'MB', note=(
                       'Python allocations (tracemalloc)'))
    report.measure('model + server memory, %d partitions' % MAX_PARTITIONS,
                   used / 2 ** 20, 'MB', note=(
                       'the model, a running endpoint and the rendered '
                       'documents it keeps for reuse after one feed read'))


# --------------------------------------------------------------- creates
def _creates(report):
    model = model_mod.Model()
    [system] = builder.build(model, systems=1, vioses=VIOSES, lpars=0)
    enlarge(system, FULL_LPARS)
    with Simulated(model) as sim:
        adapter = sim.adapter()
        host = pvm_ms.System.get(adapter)[0]
        stdz = lpar_builder.DefaultStandardize(host)

        def create(number):
            attrs = {lpar_builder.NAME: 'new%04d' % number,
                     lpar_builder.MEM: 1024, lpar_builder.VCPU: 1,
                     lpar_builder.PROC_UNITS: '0.1'}
            lpar_builder.LPARBuilder(adapter, attrs, stdz).build().create(
                parent=host)

        began = time.perf_counter()
        for number in range(FULL_LPARS):
            create(number)
        elapsed = time.perf_counter() - began
        created = len(model.lpars()) - 1
        _check_partition_limit(create)
    if created != FULL_LPARS:
        raise AssertionError('created %d LPARs, expected %d' % (
            created, FULL_LPARS))
    report.measure('create %d LPARs' % FULL_LPARS, elapsed, 's', note=(
        'filling a system to its %d-partition limit; one client thread in '
        'the server\'s process; each create builds its wrapper with '
        'LPARBuilder, as nova does, then PUTs it' % MAX_PARTITIONS))


def _check_partition_limit(create):
    """The system is full: one more LPAR must be refused."""
    try:
        create(MAX_PARTITIONS)
    except pvm_exc.HttpError as exc:
        if 'HSCL1562' not in exc.response.body:
            raise
        return
    raise AssertionError('a partition past the %d-partition limit was '
                         'created' % MAX_PARTITIONS)
