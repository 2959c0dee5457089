"""Serving the simulator over HTTP(S) on a real socket.

pypowervm opens a new ``requests.Session`` for every call, so the simulator
has to listen on a real port; a threaded server lets event long-polls and
job polls run beside ordinary requests.
"""

import socket
import ssl
import threading

from werkzeug import serving


class _QuietHandler(serving.WSGIRequestHandler):
    def log_request(self, code='-', size='-'):
        """Request logging is the tests' business, not the console's."""


def _listen(host, port):
    """A socket listening on host and port (OSError if it cannot)."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as exc:
        listener.close()
        raise OSError(exc.errno, 'Cannot listen on %s port %d: %s' % (
            host, port, exc.strerror)) from None
    return listener


class Server:
    """One listening socket for one simulator application."""

    def __init__(self, app, host='127.0.0.1', port=0, cert=None):
        # Bound here, not by werkzeug, which answers a bind error by
        # printing it and exiting the process; a library raises.
        with _listen(host, port) as listener:
            self._server = serving.make_server(
                host, port, app, threaded=True,
                request_handler=_QuietHandler, fd=listener.fileno())
        self._server.daemon_threads = True
        if cert is not None:
            self._serve_tls(cert)
        self.host = host
        self.port = self._server.port
        self.protocol = 'https' if cert else 'http'
        self._thread = None

    def _serve_tls(self, cert):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(*cert)
        # Handshake in each connection's own thread (on its first read),
        # not in the accepting one, where one silent client would stall
        # every other.
        self._server.socket = context.wrap_socket(
            self._server.socket, server_side=True,
            do_handshake_on_connect=False)
        # werkzeug's request handler reads the scheme from here.
        self._server.ssl_context = context

    @property
    def url(self):
        host = '[%s]' % self.host if ':' in self.host else self.host
        return '%s://%s:%d' % (self.protocol, host, self.port)

    def start(self):
        self._thread = threading.Thread(
            target=self._server.serve_forever, name='powervm-sim-%d' %
            self.port, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
