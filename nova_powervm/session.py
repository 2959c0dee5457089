"""The pypowervm Session the driver talks to NovaLink through.

pypowervm's own Session sends every REST call on a new connection (over
HTTPS, a new TLS handshake) through a new ``requests.Session``, waits up
to 20 minutes for any answer and an hour for updates, and lets a logon
answer that is not XML escape as a parser error.  This Session changes
exactly that: logon, re-logon after a 401, the checks of NovaLink's
certificate and event listening stay pypowervm's own.

- Each thread keeps its connection to NovaLink open between calls
  (transport.Connection).  pypowervm makes its ``requests.Session``
  through its module's ``requests`` name, the only seam it offers: while a
  thread is inside this Session's ``request``, that name hands out the
  thread's connection, and a plain ``requests.Session`` to anybody else.
  A NovaLink reached through a proxy keeps plain requests sessions.
- Every request waits at most ``request_timeout`` seconds for each step.
- A logon answer that does not parse is an error pypowervm's callers know.
"""

import threading
import weakref

from lxml import etree
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
import requests

from nova_powervm import transport

# The calling thread's connection while it is inside Session.request.
_current = threading.local()


class BadLogonAnswer(pvm_exc.Error):
    """NovaLink answered a logon with something that is not its XML.

    Something else may be answering on NovaLink's port (a proxy, a web
    server still starting): retried like a NovaLink that is starting.
    """


class _RequestsForPypowervm:
    """What pypowervm.adapter sees as the ``requests`` module."""

    def __getattr__(self, name):
        return getattr(requests, name)

    @staticmethod
    def Session():
        connection = getattr(_current, 'connection', None)
        return connection if connection is not None else requests.Session()


pvm_adpt.requests = _RequestsForPypowervm()


class Session(pvm_adpt.Session):
    """A pypowervm Session with kept-alive connections and bounded waits.

    :param request_timeout: seconds each step of every request may wait.
    Other arguments are pypowervm's; the Session logs on when made.
    """

    def __init__(self, request_timeout, **kwargs):
        # Set before pypowervm's __init__, which logs on.
        self._connections = threading.local()
        self._all_connections = weakref.WeakSet()
        self._all_connections_lock = threading.Lock()
        self._direct = None
        super().__init__(timeout=request_timeout, **kwargs)

    def request(self, method, path, *args, timeout=-1, **kwargs):
        """pypowervm's request, on this thread's kept connection.

        Callers' own timeouts are honoured only when shorter (pypowervm
        gives updates an hour).
        """
        if timeout == -1 or timeout is None or timeout > self.timeout:
            timeout = self.timeout
        outer = getattr(_current, 'connection', None)
        _current.connection = self._thread_connection()
        try:
            return super().request(method, path, *args, timeout=timeout,
                                   **kwargs)
        finally:
            _current.connection = outer

    def _thread_connection(self):
        """This thread's connection; None through a proxy."""
        if self._direct is None:
            self._direct = not requests.utils.get_environ_proxies(self.dest)
        if not self._direct:
            return None
        connection = getattr(self._connections, 'connection', None)
        if connection is None:
            connection = transport.Connection(self.dest)
            self._connections.connection = connection
            with self._all_connections_lock:
                self._all_connections.add(connection)
        return connection

    def _logon(self, conn_tries=1):
        try:
            return super()._logon(conn_tries=conn_tries)
        except etree.XMLSyntaxError as exc:
            raise BadLogonAnswer(
                'the logon answer from %s is not XML (%s)' % (
                    self.dest, exc)) from None

    def _logoff(self):
        try:
            super()._logoff()
        finally:
            with self._all_connections_lock:
                connections = list(self._all_connections)
            for connection in connections:
                connection.retire()
