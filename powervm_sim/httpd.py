"""A lean HTTP/1.1 server for the simulator's WSGI application.

werkzeug's development server answers one request per connection and then
waits up to 10 ms for the client to send more before it closes; its header
parsing goes through the email package.  Both cost more than the
simulator's own work for an entry GET.  This server keeps connections
alive (HTTP/1.1, or HTTP/1.0 asking for it), serves each connection from
a worker thread of its own (kept for the next connection), parses the
request head itself and writes a small response's head and body in one
send.

What it accepts: ``Content-Length`` or chunked request bodies (the app
reads a chunked body to its end, as pypowervm's uploads send it), and
``Expect: 100-continue``.  A response without ``Content-Length`` is sent as
it comes and ends the connection.  A request body the app left unread is
read and dropped before the next request, or the connection is closed when
too much is left.

A request must arrive in time: from its first byte (from the connection's
accept for the first request, so a TLS handshake counts), its head and
body get ``request_seconds`` (and a second more for every MIN_BODY_RATE
bytes received, so that a large upload at a fair rate is never cut),
however the client spreads its bytes.  A client that is late is answered
408 (once it has sent a byte of its request) and its connection closed.

The server closes a connection lingering: it stops sending, then reads and
drops what the client still sends for a while, so that a client still
sending a body the server refused reads the answer (a 413) instead of a
connection reset.
"""

import email.utils
import io
import logging
import queue
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

LOG = logging.getLogger(__name__)

# Longest request or header line, and most header lines, accepted.
MAX_LINE = 64 * 1024
MAX_HEADERS = 100
# Seconds a connection may sit idle between requests (or a send stall)
# before it is closed.
IDLE_SECONDS = 60.0
# Seconds a request's head and body have to arrive, from its first byte.
REQUEST_SECONDS = 60.0
# Body bytes received that earn a request one second more.
MIN_BODY_RATE = 64 * 1024
# A request body the app did not read is dropped up to this many bytes;
# past that the connection is closed instead.
MAX_DRAIN = 1024 * 1024
# What a closing connection still reads and drops from the client, at
# most: enough for a client to finish sending a refused body at loopback
# speed and read the answer.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024 * 1024
# A first body piece up to this size goes out in one send with the head;
# a larger one is sent on its own rather than copied.
_JOIN_LIMIT = 64 * 1024
# Statuses whose responses never carry a body (RFC 9110 6.4.1).
_BODILESS = frozenset((204, 304))
_CRLF = b'\r\n'


class BadRequest(Exception):
    """The request head or body framing cannot be understood."""


class ClientGone(ConnectionError):
    """The client closed or broke the connection mid-exchange."""


class RequestTimeout(ClientGone):
    """The request did not arrive by its deadline (answered 408)."""


class _TimedSocket(io.RawIOBase):
    """A connection's socket: reads wait no longer than the deadline of the
    request being read (IDLE_SECONDS between requests), sends no longer
    than IDLE_SECONDS."""

    def __init__(self, sock, request_seconds):
        super().__init__()
        self._sock = sock
        self._request_seconds = request_seconds
        self._started = None
        self._received = 0

    def readable(self):
        return True

    def writable(self):
        return True

    def request_begins(self):
        """A request is on its way: its deadline runs (if it did not)."""
        if self._started is None:
            self._started = time.monotonic()
            self._received = 0

    def request_ends(self):
        self._started = None

    def readinto(self, buffer):
        self._sock.settimeout(self._read_timeout())
        try:
            read = self._sock.recv_into(buffer)
        except TimeoutError:
            if self._started is None:
                raise
            raise self._late() from None
        self._received += read
        return read

    def _read_timeout(self):
        if self._started is None:
            return IDLE_SECONDS
        deadline = (self._started + self._request_seconds +
                    self._received / MIN_BODY_RATE)
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._late()
        return min(left, IDLE_SECONDS)

    def _late(self):
        return RequestTimeout('the request did not arrive within %g '
                              'seconds' % self._request_seconds)

    def write(self, data):
        self._sock.settimeout(IDLE_SECONDS)
        self._sock.sendall(data)
        return len(data)


class _FixedBody(io.RawIOBase):
    """The request body framed by ``Content-Length``."""

    def __init__(self, rfile, length):
        super().__init__()
        self._rfile = rfile
        self.remaining = length

    def readable(self):
        return True

    def readinto(self, buffer):
        size = min(len(buffer), self.remaining)
        if size <= 0:
            return 0
        read = self._rfile.readinto(memoryview(buffer)[:size])
        if not read:
            raise ClientGone('the client closed the connection inside the '
                             'request body')
        self.remaining -= read
        return read

    def drain(self, limit):
        """Read what the app left; False when more than ``limit`` is left.
        """
        if self.remaining > limit:
            return False
        while self.remaining:
            self.read(min(self.remaining, 64 * 1024))
        return True


class _ChunkedBody(io.RawIOBase):
    """The request body sent with ``Transfer-Encoding: chunked``."""

    def __init__(self, rfile):
        super().__init__()
        self._rfile = rfile
        self._chunk_left = 0
        self._done = False

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._done:
            return 0
        if not self._chunk_left:
            self._chunk_left = self._chunk_size()
            if not self._chunk_left:
                self._read_trailer()
                self._done = True
                return 0
        size = min(len(buffer), self._chunk_left)
        read = self._rfile.readinto(memoryview(buffer)[:size])
        if not read:
            raise ClientGone('the client closed the connection inside a '
                             'chunk')
        self._chunk_left -= read
        if not self._chunk_left and self._rfile.readline(3) != _CRLF:
            raise BadRequest('a chunk does not end in CRLF')
        return read

    def _chunk_size(self):
        line = self._rfile.readline(MAX_LINE)
        # Chunk extensions (after ';') carry nothing the simulator uses.
        text = line.split(b';', 1)[0].strip()
        try:
            size = int(text, 16)
        except ValueError:
            raise BadRequest('bad chunk size line %r' % line[:40]) from None
        if size < 0:
            raise BadRequest('negative chunk size')
        return size

    def _read_trailer(self):
        for _ in range(MAX_HEADERS):
            line = self._rfile.readline(MAX_LINE)
            if line in (_CRLF, b'\n', b''):
                return
        raise BadRequest('too many trailer lines')

    def drain(self, limit):
        """Read what the app left; False when more than ``limit`` is left.
        """
        left = limit
        while left >= 0:
            piece = self.read(64 * 1024)
            if not piece:
                return True
            left -= len(piece)
        return False


class _Exchange:
    """One request and its response on a connection."""

    def __init__(self, wfile, version, method, keep_alive):
        self._wfile = wfile
        self._version = version
        self._method = method
        self.keep_alive = keep_alive
        self._status = None
        self._headers = None
        self._head_sent = False

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None and self._head_sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self._status = status
        self._headers = list(headers)
        return self.write

    def write(self, data):
        if not self._head_sent:
            if self._status is None:
                raise AssertionError('write() before start_response()')
            head = self._head()
            self._head_sent = True
            if len(data) <= _JOIN_LIMIT:
                # One send: the client gets head and body together.
                data = head + data
            else:
                self._send(head)
        if data:
            self._send(data)

    def _send(self, data):
        try:
            self._wfile.write(data)
        except OSError as exc:
            raise ClientGone(str(exc)) from exc

    def finish(self):
        """Send the head if the app gave no body piece at all."""
        if not self._head_sent:
            self.write(b'')

    @property
    def head_sent(self):
        return self._head_sent

    def _head(self):
        code = int(self._status[:3])
        names = {name.lower() for name, _ in self._headers}
        bodiless = (code in _BODILESS or code < 200 or
                    self._method == 'HEAD')
        if 'content-length' not in names and not bodiless:
            # Only the end of the connection can end this body.
            self.keep_alive = False
        lines = ['HTTP/1.1 %s' % self._status]
        lines += ['%s: %s' % header for header in self._headers]
        if 'date' not in names:
            lines.append('Date: %s' % email.utils.formatdate(usegmt=True))
        if not self.keep_alive:
            lines.append('Connection: close')
        elif self._version == 'HTTP/1.0':
            lines.append('Connection: keep-alive')
        lines += ['', '']
        return '\r\n'.join(lines).encode('latin-1')


class _Connection(socketserver.StreamRequestHandler):
    """Serves the requests of one client connection, one after another."""

    def setup(self):
        self.connection = self.request
        # Small responses go out at once, not after the client's delayed
        # ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                   True)
        self.stream = _TimedSocket(self.connection,
                                   self.server.request_seconds)
        self.rfile = io.BufferedReader(self.stream)
        self.wfile = self.stream

    def handle(self):
        self.server.opened(self.connection)
        # A client that connects and then dawdles (in its TLS handshake,
        # say) is as late as one that dawdles in its request.
        self.stream.request_begins()
        try:
            while self._serve_one():
                pass
        except (OSError, BadRequest) as exc:
            # A client that goes away, stalls or breaks the body's framing
            # ends its connection, never the server.
            LOG.debug('connection from %s ended: %s', self.client_address,
                      exc)
        finally:
            self.server.closed(self.connection)

    def _serve_one(self):
        """Serve one request; whether the connection stays open."""
        if not self.rfile.peek(1):
            return False
        self.stream.request_begins()
        try:
            return self._serve_request()
        finally:
            self.stream.request_ends()

    def _serve_request(self):
        try:
            line = self.rfile.readline(MAX_LINE + 1)
            if line == _CRLF:
                # RFC 9112 2.2: ignore an empty line before a request line.
                line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                return False
            method, target, version = _request_line(line)
            headers = self._read_headers()
            keep_alive = _keep_alive(version,
                                     headers.get('HTTP_CONNECTION', ''))
            body = _body(self.rfile, headers)
        except BadRequest as exc:
            self._refuse(400, str(exc))
            return False
        except RequestTimeout as exc:
            self._refuse(408, str(exc))
            return False
        if (version == 'HTTP/1.1' and
                headers.get('HTTP_EXPECT', '').lower() == '100-continue'):
            self.wfile.write(b'HTTP/1.1 100 Continue\r\n\r\n')
        environ = self._environ(method, target, version, headers, body)
        exchange = _Exchange(self.wfile, version, method, keep_alive)
        self._run_app(environ, exchange)
        return exchange.keep_alive and body.drain(MAX_DRAIN)

    def _read_headers(self):
        """The request's header fields as WSGI environ keys and values."""
        headers = {}
        last = None
        for _ in range(MAX_HEADERS + 1):
            line = self.rfile.readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                raise BadRequest('header line too long')
            if line in (_CRLF, b'\n', b''):
                return headers
            text = line.decode('latin-1').rstrip('\r\n')
            if text[:1] in (' ', '\t'):
                # An obsolete folded line continues the previous field.
                if last is None:
                    raise BadRequest('folded line before any header')
                headers[last] += ' ' + text.strip()
                continue
            name, sep, value = text.partition(':')
            if not sep or not name or name != name.strip():
                raise BadRequest('malformed header line %r' % text[:40])
            # Names with '_' would be confused with '-' once in environ.
            if '_' in name:
                last = None
                continue
            last = _environ_key(name)
            value = value.strip()
            if last in headers:
                value = headers[last] + ',' + value
            headers[last] = value
        raise BadRequest('too many header lines')

    def _environ(self, method, target, version, headers, body):
        path, _, query = target.partition('?')
        server_host, server_port = self.server.server_address[:2]
        environ = {
            'wsgi.version': (1, 0),
            'wsgi.url_scheme': self.server.scheme,
            'wsgi.input': body,
            # The body reader ends the body itself: read it to its end.
            'wsgi.input_terminated': True,
            'wsgi.errors': sys.stderr,
            'wsgi.multithread': True,
            'wsgi.multiprocess': False,
            'wsgi.run_once': False,
            # The app drops a connection through this (a fault rule).
            'werkzeug.socket': self.connection,
            'REQUEST_METHOD': method,
            'SCRIPT_NAME': '',
            'PATH_INFO': urllib.parse.unquote_to_bytes(path).decode(
                'latin-1'),
            'QUERY_STRING': query,
            'REQUEST_URI': target,
            'SERVER_NAME': server_host,
            'SERVER_PORT': str(server_port),
            'SERVER_PROTOCOL': version,
            'REMOTE_ADDR': self.client_address[0],
            'REMOTE_PORT': self.client_address[1],
        }
        environ.update(headers)
        return environ

    def _run_app(self, environ, exchange):
        result = None
        try:
            result = self.server.app(environ, exchange.start_response)
            for piece in result:
                exchange.write(piece)
            exchange.finish()
        except RequestTimeout as exc:
            # The body the app was reading came too slowly: say so, unless
            # an answer has begun, and end the connection, quietly.
            if not exchange.head_sent:
                self._refuse(408, str(exc))
            raise
        except ClientGone:
            # The client went away (or the app dropped the connection).
            raise
        except BadRequest as exc:
            # The body the app was reading broke its framing.
            exchange.keep_alive = False
            if exchange.head_sent:
                raise
            self._refuse(400, str(exc))
        except Exception:
            LOG.exception('the application failed on %s %s',
                          environ['REQUEST_METHOD'], environ['REQUEST_URI'])
            if exchange.head_sent:
                raise ConnectionAbortedError('response cut short') from None
            exchange.keep_alive = False
            self._refuse(500, 'The simulator failed on this request.')
        finally:
            if hasattr(result, 'close'):
                result.close()

    def _refuse(self, code, message):
        body = message.encode()
        reason = {400: 'Bad Request', 408: 'Request Timeout',
                  500: 'Internal Server Error'}[code]
        self.wfile.write(('HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n'
                          'Content-Length: %d\r\nConnection: close\r\n\r\n'
                          % (code, reason, len(body))).encode() + body)


def _linger(sock):
    """Read and drop what the client still sends, until it closes its side
    or LINGER_SECONDS or LINGER_BYTES run out.

    Closing a socket with unread bytes resets the connection, and the
    reset can destroy the answer before the client reads it.
    """
    deadline = time.monotonic() + LINGER_SECONDS
    left = LINGER_BYTES
    while left > 0:
        wait = deadline - time.monotonic()
        if wait <= 0:
            return
        sock.settimeout(wait)
        try:
            piece = sock.recv(min(left, 64 * 1024))
        except TimeoutError:
            return
        if not piece:
            return
        left -= len(piece)


def _request_line(line):
    if len(line) > MAX_LINE:
        raise BadRequest('request line too long')
    parts = line.decode('latin-1').split()
    if len(parts) != 3 or parts[2] not in ('HTTP/1.0', 'HTTP/1.1'):
        raise BadRequest('malformed request line %r' % line[:60])
    return parts


def _environ_key(name):
    key = name.upper().replace('-', '_')
    if key in ('CONTENT_TYPE', 'CONTENT_LENGTH'):
        return key
    return 'HTTP_' + key


def _keep_alive(version, connection):
    tokens = {token.strip().lower() for token in connection.split(',')}
    if version == 'HTTP/1.1':
        return 'close' not in tokens
    return 'keep-alive' in tokens


def _body(rfile, headers):
    """The reader of the request's body, as its head frames it."""
    coding = headers.get('HTTP_TRANSFER_ENCODING', '').lower()
    if coding:
        if [t.strip() for t in coding.split(',')][-1] != 'chunked':
            raise BadRequest('unsupported transfer coding %r' % coding)
        # RFC 9112 6.3: chunked framing wins over any Content-Length.
        headers.pop('CONTENT_LENGTH', None)
        return _ChunkedBody(rfile)
    length = headers.get('CONTENT_LENGTH', '')
    if not length:
        return _FixedBody(rfile, 0)
    if not length.isdigit():
        raise BadRequest('bad Content-Length %r' % length)
    return _FixedBody(rfile, int(length))


class HTTPServer(socketserver.BaseServer):
    """Serves ``app`` on ``listener``, a socket already listening.

    Each connection is served by a daemon worker thread; a worker that is
    done with one waits for the next, so a client that connects for every
    request (pypowervm does) costs no thread start.  ``server_close()``
    ends the open connections too, so a client holding one alive cannot
    reach a server that was stopped.
    """

    def __init__(self, listener, app, scheme='http',
                 request_seconds=REQUEST_SECONDS):
        super().__init__(listener.getsockname(), _Connection)
        self.socket = listener
        self.app = app
        self.scheme = scheme
        self.request_seconds = request_seconds
        self._open = set()
        self._lock = threading.Lock()
        self._accepted = queue.SimpleQueue()
        self._workers = 0
        self._idle = 0
        # Connections accepted so far: over HTTPS, each is a TLS handshake.
        self.connections_accepted = 0

    # socketserver's hooks for a socket it did not make itself.
    def fileno(self):
        return self.socket.fileno()

    def get_request(self):
        return self.socket.accept()

    def process_request(self, request, client_address):
        with self._lock:
            self.connections_accepted += 1
            if self._idle:
                # That worker takes this connection off the queue.
                self._idle -= 1
            else:
                self._workers += 1
                threading.Thread(target=self._work, daemon=True,
                                 name='powervm-sim-conn').start()
        self._accepted.put((request, client_address))

    def _work(self):
        while True:
            accepted = self._accepted.get()
            if accepted is None:
                return
            request, client_address = accepted
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
            with self._lock:
                self._idle += 1

    def shutdown_request(self, request):
        try:
            request.shutdown(socket.SHUT_WR)
            _linger(request)
        except OSError:
            LOG.debug('connection already shut down')
        request.close()

    def opened(self, connection):
        with self._lock:
            self._open.add(connection)

    def closed(self, connection):
        with self._lock:
            self._open.discard(connection)

    def server_close(self):
        """Stop listening, end every open connection and the workers."""
        self.socket.close()
        with self._lock:
            connections = list(self._open)
            workers = self._workers
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                LOG.debug('connection already closed')
        for _ in range(workers):
            self._accepted.put(None)
