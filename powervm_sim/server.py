"""Serving the simulator over HTTP(S) on a real socket.

pypowervm opens a new ``requests.Session`` for every call, so the simulator
has to listen on a real port; a thread per connection lets event long-polls
and job polls run beside ordinary requests (see httpd.py for the server).
"""

import socket
import ssl
import threading

from powervm_sim import httpd


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


def _tls(listener, cert):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(*cert)
    # Handshake in each connection's own thread (on its first read), not
    # in the accepting one, where one silent client would stall every
    # other.
    return context.wrap_socket(listener, server_side=True,
                               do_handshake_on_connect=False)


STOP_POLL_SECONDS = 0.02


class Server:
    """One listening socket for one simulator application.

    :param request_seconds: how long a request's head and body may take to
                            arrive (see httpd.py).
    """

    def __init__(self, app, host='127.0.0.1', port=0, cert=None,
                 request_seconds=httpd.REQUEST_SECONDS):
        listener = _listen(host, port)
        self.protocol = 'https' if cert else 'http'
        if cert is not None:
            try:
                listener = _tls(listener, cert)
            except (OSError, ValueError):
                listener.close()
                raise
        self._server = httpd.HTTPServer(listener, app, self.protocol,
                                        request_seconds)
        self.host = host
        self.port = listener.getsockname()[1]
        self._thread = None

    @property
    def url(self):
        host = '[%s]' % self.host if ':' in self.host else self.host
        return '%s://%s:%d' % (self.protocol, host, self.port)

    @property
    def connections_accepted(self):
        """TCP connections (over HTTPS, TLS handshakes) served so far."""
        return self._server.connections_accepted

    def start(self):
        self._thread = threading.Thread(
            target=self.serve_forever, name='powervm-sim-%d' % self.port,
            daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        # How often the loop looks for stop(): socketserver's 0.5 s would
        # make every stop (one per test) wait that long.
        self._server.serve_forever(poll_interval=STOP_POLL_SECONDS)

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
