"""A kept-alive HTTP connection to NovaLink that pypowervm can call.

pypowervm's ``Session.request`` makes a ``requests.Session`` for every REST
call and asks of it only this: ``verify``, ``request(method, url, data=,
headers=, timeout=, stream=)`` and ``close()``; of the answer
``status_code``, ``reason``, ``headers``, ``text`` and ``iter_content``;
and it knows requests' ``Timeout``, ``ConnectionError`` and ``SSLError``.
``Connection`` gives it exactly that over one ``http.client`` connection
that stays open from call to call.  requests itself costs several times
more per call than the connection does: it reads every proxy and CA bundle
variable of the environment, merges settings, cookies and hooks, and goes
through urllib3's pool each time.

What requests did that stays the same: certificates checked against
certifi's bundle, or against the bundle ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE`` names (read once per connection; as with requests, that
bundle applies even where pypowervm asks for no verification), with the
host name; gzip and deflate answers decoded; text decoded by the charset
of ``Content-Type``.  What it leaves out, because NovaLink needs none of
it: proxies (a NovaLink reached through a proxy keeps requests, see
session.py), cookies (pypowervm never kept them), redirects and ``.netrc``
credentials.  Without a charset, text is UTF-8, XML's own default, where
requests would guess the encoding from the bytes.
"""

import functools
import http.client
import os
import select
import ssl
import threading
import time
import urllib.parse
import weakref
import zlib

from requests import exceptions as rqex
from requests import structures
from requests import utils as rq_utils

# A connection idle this long is closed rather than reused: the server may
# be closing it just as the next request goes out.  NovaLink's web server
# closes idle connections after 30 seconds.
MAX_IDLE_SECONDS = 15.0

_DEFAULT_PORTS = {'http': 80, 'https': 443}
# wbits for zlib: gzip framing, zlib framing.
_DECODERS = {'gzip': 16 + zlib.MAX_WBITS, 'deflate': zlib.MAX_WBITS}


class Answer:
    """What pypowervm reads of a requests.Response.

    The body is read at once, unless the caller streams it (downloads).
    """

    def __init__(self, response, stream):
        self.status_code = response.status
        self.reason = response.reason
        self.headers = structures.CaseInsensitiveDict()
        for name, value in response.getheaders():
            old = self.headers.get(name)
            self.headers[name] = value if old is None else '%s, %s' % (
                old, value)
        self._response = response
        self._decoder = _decoder(self.headers.get('Content-Encoding'))
        self.content = None if stream else b''.join(self.iter_content(
            64 * 1024))

    @property
    def finished(self):
        """Whether the body was read to its end (a streamed one may not
        be), so that the connection can carry the next request."""
        return self._response.isclosed()

    @functools.cached_property
    def text(self):
        return self.content.decode(_charset(self.headers), 'replace')

    def iter_content(self, chunk_size):
        while True:
            piece = self._response.read(chunk_size)
            if not piece:
                break
            if self._decoder is not None:
                piece = self._decoder.decompress(piece)
            if piece:
                yield piece
        if self._decoder is not None:
            tail = self._decoder.flush()
            if tail:
                yield tail


def _decoder(content_encoding):
    encoding = (content_encoding or '').strip().lower()
    if encoding in _DECODERS:
        return zlib.decompressobj(_DECODERS[encoding])
    return None


def _charset(headers):
    """The charset parameter of Content-Type; UTF-8 without one."""
    for param in headers.get('Content-Type', '').split(';')[1:]:
        name, _sep, value = param.partition('=')
        if name.strip().lower() == 'charset' and value.strip(' \'"'):
            return value.strip(' \'"')
    return 'utf-8'


@functools.lru_cache(maxsize=8)
def _tls_context(verify):
    """The TLS context for requests' ``verify`` value."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    bundle = rq_utils.DEFAULT_CA_BUNDLE_PATH if verify is True else verify
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


def _closed_by_peer(sock):
    """Whether an idle connection's socket has something to read: the
    server closed it (or broke the protocol)."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, TypeError):
        return True


def _requests_error(exc, method, url):
    """The requests exception pypowervm expects for ``exc``."""
    text = '%s for %s %s: %s' % (type(exc).__name__, method, url, exc)
    if isinstance(exc, TimeoutError):
        return rqex.Timeout(text)
    if isinstance(exc, ssl.SSLError):
        return rqex.SSLError(text)
    return rqex.ConnectionError(text)


def _close_held(held):
    if held[0] is not None:
        held[0].close()


class Connection:
    """One connection to the origin of ``url``, kept open between calls.

    Used like a requests.Session by pypowervm, by one thread at a time.
    """

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or _DEFAULT_PORTS[parts.scheme]
        self._ca_bundle = (os.environ.get('REQUESTS_CA_BUNDLE') or
                           os.environ.get('CURL_CA_BUNDLE'))
        self.verify = True
        # [the http.client connection]: a list, so that the finalizer can
        # close it without holding this object.
        self._held = [None]
        self._held_verify = None
        self._last_used = 0.0
        self._last_answer = None
        # Whether a request is under way, and whether the connection is to
        # be closed when it ends (see retire).
        self._state_lock = threading.Lock()
        self._busy = False
        self._retiring = False
        weakref.finalize(self, _close_held, self._held)

    def request(self, method, url, data=None, headers=None, timeout=None,
                stream=False):
        with self._state_lock:
            self._busy = True
        try:
            answer = self._exchange(method, url, data, headers, timeout,
                                    stream)
        finally:
            with self._state_lock:
                self._busy = False
                if self._retiring:
                    self._retiring = False
                    self.discard()
        return answer

    def _exchange(self, method, url, data, headers, timeout, stream):
        conn = self._ready(timeout)
        body = data or None
        if isinstance(body, str):
            body = body.encode('utf-8')
        try:
            conn.request(method, _target(url), body=body,
                         headers=headers or {})
            answer = Answer(conn.getresponse(), stream)
        except (OSError, http.client.HTTPException) as exc:
            self.discard()
            raise _requests_error(exc, method, url) from exc
        self._last_used = time.monotonic()
        self._last_answer = answer
        return answer

    def close(self):
        """pypowervm's close after every call: the connection stays."""

    def discard(self):
        """Close the connection (the next request opens a new one)."""
        # Not through the module's _close_held: pypowervm logs off from
        # __del__, maybe while the interpreter has emptied the modules.
        conn = self._held[0]
        if conn is not None:
            conn.close()

    def retire(self):
        """Close the connection from any thread: now if it is idle, else
        when its request ends (an event poll in flight ends normally
        rather than on a socket closed under it)."""
        with self._state_lock:
            if self._busy:
                self._retiring = True
            else:
                self.discard()

    def _ready(self, timeout):
        """The connection, ready for a request; a new one if the last was
        closed by the server, idle too long or verified otherwise."""
        verify = self._ca_bundle or self.verify
        conn = self._held[0]
        if conn is not None and (
                verify != self._held_verify or conn.sock is None or
                not self._last_answer.finished or
                time.monotonic() - self._last_used > MAX_IDLE_SECONDS or
                _closed_by_peer(conn.sock)):
            self.discard()
            conn = None
        if conn is None:
            conn = self._held[0] = self._new_connection(verify, timeout)
            self._held_verify = verify
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _new_connection(self, verify, timeout):
        # Looked up now, not at import: recorders (vcrpy) replace it.
        if self._scheme == 'https':
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout,
                context=_tls_context(verify))
        return http.client.HTTPConnection(self._host, self._port,
                                          timeout=timeout)


def _target(url):
    """The request target (path and query) of ``url``."""
    parts = urllib.parse.urlsplit(url)
    return parts.path + ('?' + parts.query if parts.query else '')
