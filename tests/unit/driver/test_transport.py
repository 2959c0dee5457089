"""The kept-alive connection's answers and errors, as pypowervm reads
them (no sockets: an http.client response stand-in feeds the answer)."""

import gzip
import http.client
import io
import ssl
import zlib

from requests import exceptions as rqex
import testtools

from nova_powervm import transport


class FakeResponse:
    """What Answer reads of an http.client.HTTPResponse."""

    def __init__(self, body, headers=(), status=200, reason='OK'):
        self.status = status
        self.reason = reason
        self._headers = list(headers)
        self._body = io.BytesIO(body)

    def getheaders(self):
        return self._headers

    def read(self, size):
        return self._body.read(size)

    def isclosed(self):
        return self._body.tell() == len(self._body.getvalue())


class TestAnswer(testtools.TestCase):

    def test_status_headers_and_text(self):
        answer = transport.Answer(FakeResponse(
            'détail'.encode(), [('Content-Type', 'application/xml'),
                                       ('ETag', '12')], 201, 'Created'),
            stream=False)
        self.assertEqual((201, 'Created'), (answer.status_code,
                                            answer.reason))
        self.assertEqual('12', answer.headers['etag'])
        # No charset: XML's own default, UTF-8.
        self.assertEqual('détail', answer.text)
        self.assertTrue(answer.finished)

    def test_charset_of_content_type(self):
        answer = transport.Answer(FakeResponse(
            'détail'.encode('latin-1'),
            [('Content-Type', 'text/plain; charset="ISO-8859-1"')]),
            stream=False)
        self.assertEqual('détail', answer.text)

    def test_repeated_headers_are_joined(self):
        answer = transport.Answer(FakeResponse(
            b'', [('Warning', 'a'), ('warning', 'b')]), stream=False)
        self.assertEqual('a, b', answer.headers['WARNING'])

    def test_gzip_and_deflate_bodies_are_decoded(self):
        data = b'<feed/>' * 1000
        for encoding, body in (('gzip', gzip.compress(data)),
                               ('deflate', zlib.compress(data))):
            answer = transport.Answer(FakeResponse(
                body, [('Content-Encoding', encoding)]), stream=False)
            self.assertEqual(data, answer.content)

    def test_streamed_body_is_read_by_the_caller(self):
        answer = transport.Answer(FakeResponse(b'x' * 10), stream=True)
        self.assertFalse(answer.finished)
        self.assertEqual([b'xxxx', b'xxxx', b'xx'],
                         list(answer.iter_content(4)))
        self.assertTrue(answer.finished)


class TestErrors(testtools.TestCase):
    """pypowervm knows requests' Timeout, SSLError and ConnectionError."""

    def _error(self, exc):
        return transport._requests_error(exc, 'GET', 'http://nl/rest')

    def test_timeout(self):
        error = self._error(TimeoutError('timed out'))
        self.assertIsInstance(error, rqex.Timeout)
        self.assertIn('GET http://nl/rest', str(error))

    def test_certificate(self):
        self.assertIsInstance(self._error(ssl.SSLCertVerificationError(
            1, 'CERTIFICATE_VERIFY_FAILED')), rqex.SSLError)

    def test_dropped_connection(self):
        for exc in (ConnectionResetError(104, 'reset'),
                    http.client.RemoteDisconnected('closed'),
                    ConnectionRefusedError(111, 'refused')):
            error = self._error(exc)
            self.assertIsInstance(error, rqex.ConnectionError)
            self.assertNotIsInstance(error, rqex.Timeout)


class TestTarget(testtools.TestCase):

    def test_path_and_query(self):
        self.assertEqual(
            '/rest/api/uom/Event?QUEUE_APPLICATIONID=1&group=None',
            transport._target('https://nl:12443/rest/api/uom/Event?'
                              'QUEUE_APPLICATIONID=1&group=None'))
        self.assertEqual('/rest/api/web/Logon',
                         transport._target('http://nl/rest/api/web/Logon'))
