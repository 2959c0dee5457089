# Copyright 2024 The nova-powervm authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Record a driver scenario into a cassette, and replay cassettes.

    tox -e record -- SCENARIO [--output PATH] [--config FILE] [--seed N]

records scenarios.SCENARIOS[SCENARIO] against:

- a real NovaLink when NOVA_POWERVM_RECORD_HOST is set (with
  NOVA_POWERVM_RECORD_USER, NOVA_POWERVM_RECORD_PASSWORD and optionally
  NOVA_POWERVM_RECORD_PORT and NOVA_POWERVM_RECORD_PROTOCOL, https and
  12443 by default), or when --config names a nova.conf-style file whose
  [powervm] section gives host, username and password (its other options,
  such as volume_group_name, configure the driver too; the environment
  wins over the file);
- otherwise the embedded simulator, with seeded UUIDs and one poll per job
  (so the cassette holds the repeated polls a real job needs).

Every request and response goes through a tests.recorded.scrub.Scrubber
(configured from the PVM_SCRUB_* variables) before it is written.  The
written cassette is then scanned for secrets (tests.recorded.scanner) and
replayed with nothing listening; the recorder refuses, removing the file
and exiting 1, if the scan finds anything or the replay fails.  Otherwise
the cassette goes to PATH (default tests/recorded/cassettes/SCENARIO.yaml,
SCENARIO-novalink.yaml for a real NovaLink) and the replay's summary, with
the scenario's name, to the same path with the extension .result.
"""

import argparse
import configparser
import contextlib
import copy
import gzip
import itertools
import json
import os
import socket
import sys
import tempfile
import types
import urllib.parse

import fixtures

from powervm_sim import fixture as sim_fixture
from powervm_sim import jobs as sim_jobs
from tests.recorded import matchers
from tests.recorded import scanner
from tests.recorded import scenarios
from tests.recorded import scrub

CASSETTE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            'cassettes')
RESULT_EXTENSION = '.result'
SIMULATOR = 'simulator'
NOVALINK = 'novalink'
ENV_PREFIX = 'NOVA_POWERVM_RECORD_'
DEFAULT_PROTOCOL = 'https'
DEFAULT_PORTS = {'http': 12080, 'https': 12443}
# The simulator's administrator (powervm_sim.auth.DEFAULT_USERS).
SIMULATOR_USER = ('padmin', 'padmin')
# What a replay logs on with: the scrubbed logon request matches whatever
# credentials were recorded.
REPLAY_USER = ('replay-user', 'replay-password')
# Replays connect to a port nobody listens on, and links in recorded
# responses name the recorded (scrubbed) host: neither the host, the port
# nor the scheme can match.  The path, the query and the XML body of each
# request still must.
REPLAY_MATCH_ON = ('method', 'path', 'query', matchers.XML_BODY)
# The origin simulator recordings are written with (pypowervm's default
# for a NovaLink on the same partition), whatever port the simulator had.
SIMULATOR_ORIGIN = 'http://localhost:12080'
# One VIOS: each VIOS's XML is read several times per scenario, and the
# cassettes are kept small.
SIMULATOR_VIOSES = 1
# GETs a simulated job takes to finish: pypowervm polls each job twice
# (RUNNING, then the final status), as it does a real NovaLink's.
SIMULATOR_JOB_POLLS = 2
# The simulated model's clock starts at 2024-01-01T00:00:00Z.
SIMULATOR_EPOCH = 1704067200.0
_CONNECT_TIMEOUT = 2.0
# Response bodies from this many bytes on are stored gzipped.
COMPRESS_FROM = 2048


class RecordingRefused(Exception):
    """The recording was not kept; the message says why."""


def result_path(cassette_path):
    """Where the summary of the cassette at cassette_path is kept."""
    return os.path.splitext(cassette_path)[0] + RESULT_EXTENSION


def write_result(cassette_path, scenario, summary):
    with open(result_path(cassette_path), 'w', encoding='utf-8') as out:
        json.dump({'scenario': scenario, 'summary': summary}, out,
                  indent=2, sort_keys=True)
        out.write('\n')


def read_result(cassette_path):
    """(scenario name, summary) stored beside a cassette."""
    with open(result_path(cassette_path), encoding='utf-8') as result:
        document = json.load(result)
    return document['scenario'], document['summary']


def committed_cassettes(directory=CASSETTE_DIR):
    """The cassettes of directory that have a stored result, sorted."""
    return sorted(
        os.path.join(directory, name) for name in os.listdir(directory)
        if name.endswith(scanner.CASSETTE_EXTENSIONS) and
        os.path.exists(result_path(os.path.join(directory, name))))


# ------------------------------------------------------------- endpoints
def endpoint_from_config_file(path):
    """The Endpoint of a nova.conf-style file's [powervm] section."""
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(path):
        raise RecordingRefused('cannot read %s' % path)
    if not parser.has_section('powervm'):
        raise RecordingRefused('%s has no [powervm] section' % path)
    return _endpoint(dict(parser.items('powervm')), path)


def endpoint_from_environ(environ, base=None):
    """The Endpoint the NOVA_POWERVM_RECORD_* variables name, or base.

    Variables override base's values; None if neither names a host.
    """
    values = {}
    if base is not None:
        values.update(base.powervm_options())
    for key, option in (('HOST', 'host'), ('USER', 'username'),
                        ('PASSWORD', 'password'), ('PORT', 'port'),
                        ('PROTOCOL', 'protocol')):
        if environ.get(ENV_PREFIX + key):
            values[option] = environ[ENV_PREFIX + key]
    if not values.get('host'):
        return None
    return _endpoint(values, 'the %s* variables' % ENV_PREFIX)


def _endpoint(values, source):
    values = dict(values)
    missing = [name for name in ('host', 'username', 'password')
               if not values.get(name)]
    if missing:
        raise RecordingRefused(
            '%s: %s missing (recording uses password authentication)'
            % (source, ', '.join(missing)))
    protocol = values.pop('protocol', None) or DEFAULT_PROTOCOL
    if protocol not in DEFAULT_PORTS:
        raise RecordingRefused('%s: protocol must be http or https' % source)
    port = values.pop('port', None) or DEFAULT_PORTS[protocol]
    return scenarios.Endpoint(
        host=values.pop('host'), port=int(port), protocol=protocol,
        username=values.pop('username'), password=values.pop('password'),
        options=tuple(sorted(values.items())))


class StepClock:
    """A clock that starts at start and moves one millisecond a call."""

    def __init__(self, start):
        self._ticks = itertools.count()
        self._start = start

    def __call__(self):
        return self._start + next(self._ticks) / 1000.0


class SimulatorTarget(fixtures.Fixture):
    """A fresh embedded simulator whose UUIDs come from seed."""

    def __init__(self, seed=0):
        super().__init__()
        self.seed = seed

    def _setUp(self):
        self.useFixture(scenarios.SeededUUIDs(self.seed))
        # The model stamps objects (AtomCreated, which pypowervm sends back
        # in the VIOS it updates) with the time: a clock of its own keeps
        # the stamps the same from one recording to the next.
        self.useFixture(fixtures.MonkeyPatch(
            'powervm_sim.model.registry.time',
            types.SimpleNamespace(time=StepClock(SIMULATOR_EPOCH))))
        # Nothing on the simulator takes time: the job polls need not wait.
        self.useFixture(scenarios.NoWaits())
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            vioses=SIMULATOR_VIOSES, seed=self.seed))
        for endpoint in self.sim.endpoints:
            sim_jobs.store_of(endpoint.simulator).polls_to_complete = (
                SIMULATOR_JOB_POLLS)
        served = self.sim.endpoints[0]
        self.endpoint = scenarios.Endpoint(
            host=served.host, port=served.port, protocol=served.protocol,
            username=SIMULATOR_USER[0], password=SIMULATOR_USER[1],
            is_simulator=True)


# -------------------------------------------------------- record, replay
class OriginRewriter:
    """vcrpy hooks writing one origin (scheme://host:port) as another.

    pypowervm builds the links in the XML it sends from its session's
    origin.  Recorded from the simulator, whose port changes from run to
    run, traffic is written as if it came from SIMULATOR_ORIGIN; replayed,
    the live origin (a port nobody listens on) is written as the origin the
    cassette was recorded with, so that the request bodies match.
    """

    def __init__(self, live, recorded):
        self.live = live
        self.recorded = recorded

    def _text(self, value):
        if isinstance(value, str):
            return value.replace(self.live, self.recorded)
        if isinstance(value, (bytes, bytearray)):
            return bytes(value).replace(self.live.encode('utf-8'),
                                        self.recorded.encode('utf-8'))
        return value

    def request(self, request):
        """before_record_request hook: a rewritten copy of request."""
        request = copy.deepcopy(request)
        request.uri = self._text(request.uri)
        # Only text or bytes are rewritten: reading the body of an upload
        # gives a new iterator over its chunks, which must not replace it.
        body = request.body
        if isinstance(body, (str, bytes)) and self._text(body) != body:
            request.body = self._text(body)
        return request

    def response(self, response):
        """before_record_response hook: a rewritten copy of response."""
        response = copy.deepcopy(response)
        headers = response.get('headers') or {}
        for name, values in headers.items():
            headers[name] = [self._text(value) for value in values]
        body = response.get('body') or {}
        if body.get('string') is not None:
            body['string'] = self._text(body['string'])
            _set_content_length(headers, body['string'])
        return response


def _set_content_length(headers, data):
    for name in headers:
        if name.lower() == 'content-length':
            headers[name] = [str(len(data))]


def compress_large_body(response):
    """vcrpy response hook: a large body is stored gzipped.

    A managed system's XML alone is over 100 KB and a scenario reads it
    several times; gzipped (and base64-encoded by vcrpy) a cassette takes
    about a sixth of the room.  Small bodies (logons, jobs, errors) stay
    readable.  On replay the Scrubber's response hook inflates the body
    again; the scanner reads gzipped bodies too.
    """
    body = response.get('body') or {}
    data = body.get('string')
    if isinstance(data, str):
        data = data.encode('utf-8')
    if not isinstance(data, bytes) or len(data) < COMPRESS_FROM:
        return response
    body['string'] = gzip.compress(data, mtime=0)
    headers = response.setdefault('headers', {})
    headers['Content-Encoding'] = ['gzip']
    _set_content_length(headers, body['string'])
    return response


def record_vcr(scrubber, rewriter):
    """The vcr.VCR a recording runs under: traffic rewritten to the
    recorded origin, then scrubbed; large bodies gzipped."""
    def before_record_request(request):
        return scrubber.before_record_request(rewriter.request(request))

    def before_record_response(response):
        return compress_large_body(scrubber.before_record_response(
            rewriter.response(response)))

    return matchers.make_vcr(scrubber, record_mode='all',
                             before_record_request=before_record_request,
                             before_record_response=before_record_response,
                             record_on_exception=False)


def replay_vcr(rewriter):
    """The vcr.VCR a replay runs under: no recording, each response once.

    Each live request is written with the recorded origin and scrubbed as
    the recorded one was (credentials, job IDs) before it is matched.
    """
    scrubber = scrub.Scrubber()

    def before_record_request(request):
        return scrubber.before_record_request(rewriter.request(request))

    return matchers.make_vcr(scrubber, record_mode='none',
                             match_on=REPLAY_MATCH_ON,
                             before_record_request=before_record_request,
                             record_on_exception=False)


def recorded_origin(path):
    """scheme://host:port of the first request of the cassette at path."""
    document = scanner.load_cassette(path)
    uri = scanner.interactions_of(document)[0]['request']['uri']
    parts = urllib.parse.urlsplit(uri)
    return '%s://%s' % (parts.scheme, parts.netloc)


def record(scenario, endpoint, path, scrub_config=None):
    """Run scenario against endpoint, writing a scrubbed cassette to path.

    Returns the scenario's summary; nothing is written if it raised.
    """
    recorded = (SIMULATOR_ORIGIN if endpoint.is_simulator
                else endpoint.origin)
    rewriter = OriginRewriter(endpoint.origin, recorded)
    with record_vcr(scrub.Scrubber(scrub_config), rewriter).use_cassette(
            path):
        return scenarios.run(scenario, endpoint)


class UnusedPort(fixtures.Fixture):
    """A loopback port that is bound but never listens.

    Holding it bound keeps anyone else from listening there while a replay
    runs, so a request that got past the cassette could only be refused.
    """

    def _setUp(self):
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(holder.close)
        holder.bind(('127.0.0.1', 0))
        self.host, self.port = holder.getsockname()

    def assert_refused(self):
        """Raise AssertionError unless a connection here is refused."""
        try:
            with socket.create_connection((self.host, self.port),
                                          timeout=_CONNECT_TIMEOUT):
                pass
        except ConnectionRefusedError:
            return
        raise AssertionError('something listens on %s:%d'
                             % (self.host, self.port))


def replay(scenario, path):
    """Run scenario on the cassette at path alone; returns its summary.

    :raises vcr.errors.CannotOverwriteExistingCassetteException: the
        driver sent a request the cassette does not hold (or sent it more
        often than recorded).
    :raises AssertionError: something listens on the replay's port, or
        the driver left recorded requests unsent.
    """
    with contextlib.ExitStack() as stack:
        port = stack.enter_context(UnusedPort())
        port.assert_refused()
        stack.enter_context(scenarios.NoWaits())
        endpoint = scenarios.Endpoint(
            host=port.host, port=port.port, protocol='http',
            username=REPLAY_USER[0], password=REPLAY_USER[1])
        rewriter = OriginRewriter(endpoint.origin, recorded_origin(path))
        cassette = stack.enter_context(replay_vcr(rewriter).use_cassette(
            path, allow_playback_repeats=False))
        summary = scenarios.run(scenario, endpoint)
        if not cassette.all_played:
            raise AssertionError(
                '%s: %d of %d recorded requests were not sent' % (
                    path, len(cassette) - len(cassette.play_counts),
                    len(cassette)))
    return summary


def differences(recorded, replayed, prefix=''):
    """'key: recorded != replayed' lines where two summaries differ."""
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        lines = []
        for key in sorted(set(recorded) | set(replayed)):
            lines.extend(differences(recorded.get(key), replayed.get(key),
                                     '%s%s.' % (prefix, key)))
        return lines
    if recorded == replayed:
        return []
    return ['%s: %r != %r' % (prefix.rstrip('.') or '(summary)',
                              recorded, replayed)]


def check_and_keep(scenario, written, output, live_summary, strict):
    """Scan and replay the cassette at written; move it to output.

    strict: the replay must give the live run's summary exactly (a
    simulator recording); for a real NovaLink, summaries that differ only
    where values were scrubbed are reported and the replay's is kept.
    """
    findings = scanner.scan_file(written)
    if findings:
        raise RecordingRefused('secrets left in the cassette:\n' + '\n'.join(
            str(finding) for finding in findings))
    replayed = replay(scenario, written)
    lines = differences(live_summary, replayed)
    if lines and strict:
        raise RecordingRefused('the replay differs from the recording:\n'
                               + '\n'.join(lines))
    for line in lines:
        print('note: after scrubbing, %s' % line, file=sys.stderr)
    os.replace(written, output)
    write_result(output, scenario, replayed)
    return replayed


def record_checked(scenario, endpoint, output, strict, scrub_config=None):
    """Record, scan, replay and keep a cassette; returns the summary.

    :raises RecordingRefused: with nothing left at output's temporary
        name (a cassette already at output stays as it was).
    """
    directory = os.path.dirname(os.path.abspath(output))
    handle, written = tempfile.mkstemp(suffix='.yaml', prefix='.recording-',
                                       dir=directory)
    os.close(handle)
    os.remove(written)
    try:
        live = record(scenario, endpoint, written, scrub_config)
        return check_and_keep(scenario, written, output, live, strict)
    finally:
        if os.path.exists(written):
            os.remove(written)


# ------------------------------------------------------------ the command
def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='tox -e record --',
        description='Record a driver scenario into a scrubbed cassette.')
    parser.add_argument('scenario', choices=sorted(scenarios.SCENARIOS))
    parser.add_argument('--output', metavar='PATH',
                        help='cassette to write (default: under %s)'
                             % CASSETTE_DIR)
    parser.add_argument('--config', metavar='FILE',
                        help='nova.conf-style file with a [powervm] '
                             'section naming a real NovaLink')
    parser.add_argument('--seed', type=int, default=0,
                        help="seed of the simulator's UUIDs")
    return parser.parse_args(argv)


def _target_endpoint(args, environ):
    base = (endpoint_from_config_file(args.config) if args.config
            else None)
    return endpoint_from_environ(environ, base)


def main(argv=None, environ=None):
    """Command line entry; returns the exit status."""
    environ = os.environ if environ is None else environ
    args = _parse_args(argv)
    scrub_config = scrub.ScrubConfig.from_environ(environ)
    try:
        endpoint = _target_endpoint(args, environ)
        target = SIMULATOR if endpoint is None else NOVALINK
        output = args.output or os.path.join(CASSETTE_DIR, '%s%s.yaml' % (
            args.scenario, '' if endpoint is None else '-' + NOVALINK))
        with contextlib.ExitStack() as stack:
            if endpoint is None:
                endpoint = stack.enter_context(
                    SimulatorTarget(args.seed)).endpoint
            summary = record_checked(args.scenario, endpoint, output,
                                     strict=target == SIMULATOR,
                                     scrub_config=scrub_config)
    except RecordingRefused as refused:
        print('refused: %s' % refused, file=sys.stderr)
        return 1
    print('recorded %s against the %s: %s (%d bytes), summary %s' % (
        args.scenario, target, output, os.path.getsize(output),
        scenarios.digest(summary)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
