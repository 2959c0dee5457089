"""Serving the simulator over HTTP(S) on a real socket.

pypowervm opens a new ``requests.Session`` for every call, so the simulator
has to listen on a real port; a threaded server lets event long-polls and
job polls run beside ordinary requests.
"""

import ssl
import threading

from werkzeug import serving


class _QuietHandler(serving.WSGIRequestHandler):
    def log_request(self, code='-', size='-'):
        """Request logging is the tests' business, not the console's."""


class Server:
    """One listening socket for one simulator application."""

    def __init__(self, app, host='127.0.0.1', port=0, cert=None):
        ssl_context = None
        if cert is not None:
            ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ssl_context.load_cert_chain(*cert)
        self._server = serving.make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler,
            ssl_context=ssl_context)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_port
        self.protocol = 'https' if cert else 'http'
        self._thread = None

    @property
    def url(self):
        return '%s://%s:%d' % (self.protocol, self.host, self.port)

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
