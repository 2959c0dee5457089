"""The simulator's HTTP/1.1 server (powervm_sim/httpd.py) on a real
loopback socket, with a small WSGI application that answers what it got."""

import http.client
import json
import socket

import testtools

from powervm_sim import server as server_mod


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


def _read_head(sock):
    data = b''
    while b'\r\n\r\n' not in data:
        piece = sock.recv(4096)
        if not piece:
            break
        data += piece
    return data.decode('latin-1')
