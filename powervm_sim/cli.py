"""``powervm-sim``: the NovaLink simulator as a standalone server.

``powervm-sim serve`` builds (or loads) a model of managed systems and
serves each system on its own port, as each POWER server has its own
NovaLink, until SIGINT or SIGTERM.  At start it prints one line per
endpoint, then ``ready``::

    endpoint 0: url=http://127.0.0.1:12080 system=Server-... uuid=...
        auth=file
    control: header=X-Sim-Token token=...
    ready

With ``--https`` each endpoint line also carries ``user=``, ``password=``
(generated for this run) and ``cert=``, the server certificate; pypowervm
logs on with ``REQUESTS_CA_BUNDLE`` naming that file (see auth.py for why
not its certpath pinning).  Password logon is off otherwise, unless
``--users FILE`` names the users it accepts (their names are printed as
``users=``, their passwords stay in the file).  The control token guards the
/sim/ API (see control.py).  Secrets go to this console only, never to the
log.
"""

import argparse
import contextlib
import ipaddress
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading

from powervm_sim import app as app_mod
from powervm_sim import auth
from powervm_sim import control
from powervm_sim import faults as faults_mod
from powervm_sim import model as model_mod
from powervm_sim import server as server_mod
from powervm_sim import state
from powervm_sim.model import builder

HTTP_PORT = 12080
HTTPS_PORT = 12443
USER = 'padmin'
AUTOSAVE_SECONDS = 1.0
MAX_PORT = 65535
# Recognised to name the certificate, not to bind to.
_WILDCARDS = ('0.0.0.0', '::')  # noqa: S104


def _count(low):
    def parse(text):
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError('must be at least %d' % low)
        return value
    return parse


def _seconds(text):
    value = float(text)
    if not value >= 0 or value == float('inf'):
        raise argparse.ArgumentTypeError('must be a finite number >= 0')
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog='powervm-sim',
        description='A stateful NovaLink REST simulator that unmodified '
                    'pypowervm talks to.')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    serve = commands.add_parser(
        'serve', help='serve simulated NovaLinks until SIGINT/SIGTERM',
        description='Serve one NovaLink endpoint per managed system, on '
                    'ports PORT, PORT+1, ...')
    serve.add_argument('--systems', type=_count(1), default=1,
                       help='managed systems (default 1)')
    serve.add_argument('--lpars', type=_count(0), default=0,
                       help='client LPARs per system at start (default 0)')
    serve.add_argument('--vioses', type=_count(0), default=2,
                       help='VIOSes per system (default 2)')
    serve.add_argument('--shared-ssp', action='store_true',
                       help='one SSP cluster of the VIOSes of every '
                            'system (default: one per system)')
    serve.add_argument('--port', type=_count(0), default=None,
                       help='port of the first system (default %d, or %d '
                            'with --https; 0: ephemeral ports)' % (
                                HTTP_PORT, HTTPS_PORT))
    serve.add_argument('--host', default='127.0.0.1',
                       help='address to listen on (default 127.0.0.1; '
                            'file authentication allows loopback only)')
    auth_mode = serve.add_mutually_exclusive_group()
    auth_mode.add_argument('--file-auth', dest='https',
                           action='store_false',
                           help='HTTP with local file authentication '
                                '(default)')
    auth_mode.add_argument('--https', dest='https', action='store_true',
                           help='HTTPS with password authentication and a '
                                'generated certificate')
    serve.set_defaults(https=False)
    serve.add_argument('--users', metavar='FILE',
                       help='accept password logons of the users in FILE, '
                            'one NAME:PASSWORD a line, readable by its '
                            'owner only (without it only --https takes '
                            'passwords: a generated one for %s)' % USER)
    serve.add_argument('--latency-ms', type=_seconds, default=0.0,
                       help='delay added to every request, milliseconds')
    serve.add_argument('--job-seconds', type=_seconds, default=0.0,
                       help='how long every job runs, seconds')
    serve.add_argument('--state', metavar='FILE',
                       help='load the model from FILE if it exists and '
                            'save it there (disk contents in FILE.d/)')
    serve.add_argument('--seed', type=int, default=0,
                       help='seed of fault probabilities and latency '
                            'jitter (default 0)')
    return parser


def _is_loopback_host(host):
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv=None):
    """Parse and check the command line (argparse exits on errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error('a command is required (serve)')
    if not args.https and not _is_loopback_host(args.host):
        parser.error('file authentication trusts whoever can read a local '
                     'token file, so it only listens on loopback, not on '
                     '%s; use --https to listen there' % args.host)
    if args.port is None:
        args.port = HTTPS_PORT if args.https else HTTP_PORT
    if args.port and args.port + args.systems - 1 > MAX_PORT:
        parser.error('ports %d to %d do not all exist' % (
            args.port, args.port + args.systems - 1))
    return args


class _Endpoint:
    def __init__(self, index, system, server):
        self.index = index
        self.system = system
        self.server = server


class Service:
    """What one ``serve`` run starts; stop() undoes it in reverse order."""

    def __init__(self, args, out):
        self.args = args
        self.out = out
        self.endpoints = []
        self.control_token = auth.new_secret()
        # A generated password when --https names no users of its own.
        self.password = auth.new_secret() if (
            args.https and not args.users) else None
        self.users = {}
        self.cert_path = None
        self.saver = None
        self.state_loaded = False
        self._cleanup = contextlib.ExitStack()

    def start(self):
        """Start everything; call stop() afterwards even if this raises."""
        self.users = self._password_users()
        model = self._open_model()
        cert = self._certificate() if self.args.https else None
        if self.args.state:
            self.saver = state.AutoSaver(model, self.args.state,
                                         AUTOSAVE_SECONDS)
            self._cleanup.callback(self.saver.stop)
            # Fail now, not at the first change, if the file is unwritable.
            self.saver.save_now()
        faults = faults_mod.FaultRegistry(seed=self.args.seed)
        latency = faults_mod.LatencyModel(
            per_request=self.args.latency_ms / 1000.0,
            per_job=self.args.job_seconds, seed=self.args.seed)
        for index, system in enumerate(model.systems):
            self._start_endpoint(index, model, system, cert, faults,
                                 latency)

    def stop(self):
        """Stop the servers, save the state one last time, clean up."""
        self._cleanup.close()

    def _password_users(self):
        """Who may log on with a password: nobody unless configured."""
        if self.args.users:
            return auth.load_users(self.args.users)
        if self.password:
            return {USER: self.password}
        return {}

    def _open_model(self):
        def build(model):
            builder.build(model, self.args.systems, self.args.vioses,
                          self.args.lpars, shared_ssp=self.args.shared_ssp)

        if self.args.state:
            self.state_loaded = os.path.exists(self.args.state)
            model = state.open_model(self.args.state, build)
            # A state file saved before the simulator had consoles.
            model.add_missing_consoles()
            # No job outlives its process: a migration one ran has failed.
            model.fail_interrupted_moves()
            return model
        model = model_mod.Model()
        # The contents of a model without a state file go with the run.
        self._cleanup.callback(model.content.close)
        build(model)
        return model

    def _certificate(self):
        certdir = tempfile.mkdtemp(prefix='powervm-sim-tls-')
        self._cleanup.callback(shutil.rmtree, certdir, True)
        hosts = ['127.0.0.1', 'localhost']
        host = self.args.host
        if host in _WILDCARDS:
            hosts.append(socket.getfqdn())
        elif host not in hosts:
            hosts.append(host)
        cert = auth.generate_self_signed_cert(certdir, hosts)
        self.cert_path = cert[0]
        return cert

    def _start_endpoint(self, index, model, system, cert, faults, latency):
        sessions = auth.SessionStore(users=self.users)
        self._cleanup.callback(sessions.close)
        simulator = app_mod.Simulator(model, scope=system, sessions=sessions,
                                      faults=faults, latency=latency)
        self._cleanup.callback(simulator.close)
        port = self.args.port + index if self.args.port else 0
        server = server_mod.Server(simulator, host=self.args.host,
                                   port=port, cert=cert)
        simulator.base_url = server.url
        control.configure(simulator, token=self.control_token,
                          save_state=self.saver.save_now if self.saver
                          else None)
        server.start()
        self._cleanup.callback(server.stop)
        self.endpoints.append(_Endpoint(index, system, server))

    def announce(self):
        """Print the endpoints, credentials and control token."""
        for endpoint in self.endpoints:
            words = ['url=%s' % endpoint.server.url,
                     'system=%s' % endpoint.system.name,
                     'uuid=%s' % endpoint.system.uuid]
            words += self._auth_words()
            self._print('endpoint %d: %s' % (endpoint.index,
                                             ' '.join(words)))
        if self.args.https:
            self._print('trust: REQUESTS_CA_BUNDLE=%s' % self.cert_path)
        if self.args.state:
            self._print('state: %s (%s)' % (
                os.path.abspath(self.args.state),
                'loaded' if self.state_loaded else 'new'))
        self._print('control: header=%s token=%s' % (
            control.CONTROL_HEADER, self.control_token))
        self._print('ready')

    def _auth_words(self):
        if self.args.users:
            words = ['auth=%s' % ('password' if self.args.https else
                                  'file,password'),
                     'users=%s' % ','.join(sorted(self.users))]
        elif self.args.https:
            words = ['auth=password', 'user=%s' % USER,
                     'password=%s' % self.password]
        else:
            words = ['auth=file']
        if self.args.https:
            words.append('cert=%s' % self.cert_path)
        return words

    def _print(self, line):
        print(line, file=self.out, flush=True)


@contextlib.contextmanager
def _stop_on_signals(stop):
    if threading.current_thread() is not threading.main_thread():
        # Only the main thread may handle signals; embedders set stop.
        yield
        return

    def handle(signum, frame):
        stop.set()

    previous = {signum: signal.signal(signum, handle)
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def serve(args, out=None, stop=None):
    """Run until SIGINT/SIGTERM (or until ``stop`` is set); exit status."""
    out = out or sys.stdout
    stop = stop or threading.Event()
    service = Service(args, out)
    try:
        with _stop_on_signals(stop):
            try:
                service.start()
                service.announce()
                stop.wait()
            finally:
                service.stop()
    except (OSError, state.StateError, auth.UsersFileError) as exc:
        print('powervm-sim: %s' % exc, file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING,
                        format='%(asctime)s %(levelname)s %(name)s '
                               '%(message)s')
    return serve(args)
