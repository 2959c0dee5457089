"""The simulator's HTTP/1.1 server (powervm_sim/httpd.py) on a real
loopback socket, with a small WSGI application that answers what it got."""

import http.client
import json
import logging
import select
import socket
import time

import fixtures
from lxml import etree
from pypowervm import const as pvm_const
import testtools

from powervm_sim import auth
from powervm_sim import fixture
from powervm_sim import server as server_mod

# The per-request deadline of the slow-client tests, seconds.
DEADLINE = 1.0
_WEB = '{%s}' % pvm_const.WEB_NS


def _echo(environ, start_response):
    """Answers the method, path, query and body it received (JSON); a
    ``skip`` query leaves the body unread, ``stream`` answers without a
    Content-Length."""
    query = environ['QUERY_STRING']
    body = b'' if query == 'skip' else environ['wsgi.input'].read()
    payload = json.dumps({
        'method': environ['REQUEST_METHOD'], 'path': environ['PATH_INFO'],
        'query': query, 'body': body.decode('latin-1'),
        'host': environ.get('HTTP_HOST')}).encode()
    headers = [('Content-Type', 'application/json')]
    if query == 'stream':
        start_response('200 OK', headers)
        return iter([payload[:5], payload[5:]])
    headers.append(('Content-Length', str(len(payload))))
    start_response('200 OK', headers)
    return [payload]


class TestHttpd(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.server = server_mod.Server(_echo).start()
        self.addCleanup(self.server.stop)

    def connection(self):
        conn = http.client.HTTPConnection(self.server.host, self.server.port,
                                          timeout=10)
        self.addCleanup(conn.close)
        return conn

    def ask(self, conn, method, path, body=None, headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, json.loads(response.read())

    def test_one_connection_serves_many_requests(self):
        conn = self.connection()
        for number in range(3):
            response, echo = self.ask(conn, 'GET', '/a%%20b/%d?x=1' % number)
            self.assertEqual(200, response.status)
            self.assertFalse(response.will_close)
            self.assertEqual('/a b/%d' % number, echo['path'])
            self.assertEqual('x=1', echo['query'])
        self.assertEqual('%s:%d' % (self.server.host, self.server.port),
                         echo['host'])

    def test_chunked_body_is_read_to_its_end(self):
        conn = self.connection()
        pieces = [b'abc', b'', b'x' * 70000, b'end']
        # http.client sends an iterable body chunked.
        response, echo = self.ask(conn, 'PUT', '/upload',
                                  body=iter(pieces))
        self.assertEqual(b''.join(pieces).decode(), echo['body'])
        # The connection is still in step for the next request.
        _, echo = self.ask(conn, 'GET', '/after')
        self.assertEqual('/after', echo['path'])

    def test_an_unread_body_does_not_leak_into_the_next_request(self):
        conn = self.connection()
        _, echo = self.ask(conn, 'POST', '/first?skip', body=b'GET /x')
        self.assertEqual('', echo['body'])
        _, echo = self.ask(conn, 'POST', '/second', body=b'data')
        self.assertEqual(('/second', 'data'), (echo['path'], echo['body']))

    def test_a_response_without_length_ends_the_connection(self):
        conn = self.connection()
        response, echo = self.ask(conn, 'GET', '/s?stream')
        self.assertEqual('/s', echo['path'])
        self.assertTrue(response.will_close)

    def test_http_1_0_closes_unless_asked_to_keep_alive(self):
        for headers, closes in (({}, True),
                                ({'Connection': 'keep-alive'}, False)):
            with socket.create_connection((self.server.host,
                                           self.server.port)) as sock:
                head = ''.join('%s: %s\r\n' % h for h in headers.items())
                sock.sendall(('GET /old HTTP/1.0\r\n%s\r\n' % head).encode())
                answer = _read_head(sock)
            self.assertTrue(answer.startswith('HTTP/1.1 200 OK'), answer)
            self.assertEqual(closes, 'Connection: close' in answer)

    def test_a_malformed_request_line_is_answered_400(self):
        with socket.create_connection((self.server.host,
                                       self.server.port)) as sock:
            sock.sendall(b'NONSENSE\r\n\r\n')
            answer = _read_head(sock)
        self.assertTrue(answer.startswith('HTTP/1.1 400 Bad Request'),
                        answer)

    def test_a_bad_chunk_size_is_answered_400(self):
        with socket.create_connection((self.server.host,
                                       self.server.port)) as sock:
            sock.sendall(b'PUT /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: '
                         b'chunked\r\n\r\nzz\r\n')
            answer = sock.makefile('rb').read().decode()
        # The app's read fails; the connection ends after the answer.
        self.assertTrue(answer.startswith('HTTP/1.1 400 Bad Request'),
                        answer)
        self.assertIn('bad chunk size', answer)

    def test_stop_ends_idle_keep_alive_connections(self):
        conn = self.connection()
        self.ask(conn, 'GET', '/')
        self.server.stop()
        self.assertRaises((ConnectionError, http.client.HTTPException),
                          self.ask, conn, 'GET', '/')


class TestOversizedBody(testtools.TestCase):
    """A body over the limit is refused with a 413 the client reads, even
    while it is still sending the body (the server closes lingering)."""

    # Far more than the socket buffers of both ends hold: the client is
    # still sending when the answer comes.
    SIZE = 32 * 1024 * 1024

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture())
        self.sim.simulator.max_body = 1024
        endpoint = self.sim.endpoints[0]
        self.conn = http.client.HTTPConnection(endpoint.host, endpoint.port,
                                               timeout=30)
        self.addCleanup(self.conn.close)

    def assert413(self, body):
        # The logon reads its body before any session is checked.
        self.conn.request('PUT', '/rest/api/web/Logon', body=body)
        response = self.conn.getresponse()
        status, message = http_error(response.read())
        self.assertEqual((413, 413), (response.status, status))
        self.assertIn('larger than 1024 bytes', message)

    def test_client_still_sending_reads_the_413(self):
        self.assert413(b'x' * self.SIZE)

    def test_client_still_sending_chunks_reads_the_413(self):
        # http.client sends an iterable body chunked, as pypowervm's
        # uploads are.
        chunk = b'x' * (64 * 1024)
        self.assert413(iter([chunk] * (self.SIZE // len(chunk))))


def http_error(body):
    """HTTPStatus and Message of the HttpErrorResponse an entry holds."""
    [error] = etree.fromstring(body).iter(_WEB + 'HttpErrorResponse')
    return int(error.findtext(_WEB + 'HTTPStatus')), error.findtext(
        _WEB + 'Message')


class TestSlowClients(testtools.TestCase):
    """A request has DEADLINE seconds to arrive, however its client spreads
    the bytes; a late client is answered 408 and cut off, quietly, and the
    server serves others all the while."""

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.server = server_mod.Server(_echo,
                                        request_seconds=DEADLINE).start()
        self.addCleanup(self.server.stop)

    def ask_quickly(self):
        """A normal request on its own connection: served at once."""
        started = time.monotonic()
        conn = http.client.HTTPConnection(self.server.host, self.server.port,
                                          timeout=DEADLINE)
        self.addCleanup(conn.close)
        conn.request('GET', '/other')
        self.assertEqual(200, conn.getresponse().status)
        self.assertLess(time.monotonic() - started, DEADLINE / 2)

    def dribble(self, head, byte=b'a', interval=DEADLINE / 8, server=None):
        """Send ``head``, then ``byte`` every ``interval`` seconds (or
        nothing more: None) until the server answers or closes; returns
        what it answered and how long after connecting.
        """
        server = server or self.server
        sock = socket.create_connection((server.host, server.port))
        self.addCleanup(sock.close)
        started = time.monotonic()
        sock.sendall(head)
        while time.monotonic() - started < 5 * DEADLINE:
            if select.select([sock], [], [], interval or DEADLINE)[0]:
                answer = sock.makefile('rb').read()
                return answer.decode('latin-1'), time.monotonic() - started
            if interval:
                sock.sendall(byte)
                self.ask_quickly()
        raise self.failureException(
            'the server still waits for the request after %.1f seconds' %
            (time.monotonic() - started))

    def assertCutOffAtTheDeadline(self, answer, elapsed):
        self.assertTrue(answer.startswith('HTTP/1.1 408 Request Timeout'),
                        answer)
        self.assertIn('Connection: close', answer)
        self.assertClosedAtTheDeadline(elapsed)

    def assertClosedAtTheDeadline(self, elapsed):
        # The server's clock starts a moment before or after this test's.
        self.assertGreater(elapsed, DEADLINE * 0.9)
        self.assertLess(elapsed, DEADLINE * 3)
        self.assertNotIn('Traceback', self.log.output)
        self.ask_quickly()

    def test_a_client_that_sends_nothing_is_closed(self):
        # Not even its TLS handshake, over HTTPS.
        https = server_mod.Server(
            _echo, cert=auth.generate_self_signed_cert(
                self.useFixture(fixtures.TempDir()).path),
            request_seconds=DEADLINE).start()
        self.addCleanup(https.stop)
        for server in (self.server, https):
            answer, elapsed = self.dribble(b'', interval=None, server=server)
            self.assertEqual('', answer)
            self.assertClosedAtTheDeadline(elapsed)

    def test_a_body_a_byte_at_a_time_is_cut_off(self):
        self.assertCutOffAtTheDeadline(*self.dribble(
            b'PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n'
            b'\r\n'))

    def test_a_head_a_byte_at_a_time_is_cut_off(self):
        self.assertCutOffAtTheDeadline(*self.dribble(
            b'GET /slow HTTP/1.1\r\nX-Slow: ', byte=b'.'))

    def test_a_body_that_stops_coming_is_cut_off(self):
        self.assertCutOffAtTheDeadline(*self.dribble(
            b'PUT /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n'
            b'\r\nhalf', interval=None))

    def test_a_large_body_at_a_fair_rate_may_take_longer(self):
        conn = http.client.HTTPConnection(self.server.host, self.server.port,
                                          timeout=10)
        self.addCleanup(conn.close)
        chunk = b'x' * (1024 * 1024)

        def slowly():
            for _ in range(3):
                yield chunk
                time.sleep(DEADLINE / 2)

        started = time.monotonic()
        conn.request('PUT', '/upload', body=slowly())
        response = conn.getresponse()
        self.assertEqual(200, response.status)
        self.assertEqual(3 * len(chunk),
                         len(json.loads(response.read())['body']))
        self.assertGreater(time.monotonic() - started, DEADLINE)


def _read_head(sock):
    data = b''
    while b'\r\n\r\n' not in data:
        piece = sock.recv(4096)
        if not piece:
            break
        data += piece
    return data.decode('latin-1')
