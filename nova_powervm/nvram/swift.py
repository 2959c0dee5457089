"""``[powervm] nvram_store = swift``: NVRAM as objects in OpenStack Swift.

One object per instance, named by its UUID, in ``[powervm]
swift_container`` (made on first use), reached as ``swift_username`` of
``swift_project_name`` through Keystone (``swift_auth_version`` 3, the
default) or, for a Swift with its own authentication (tempauth),
version 1.
"""

import threading

from oslo_log import log as logging
from swiftclient import client as swift_client

from nova_powervm import conf
from nova_powervm.nvram import api

LOG = logging.getLogger(__name__)
CONF = conf.CONF
# The manager tries again itself, later: no retries within a call.
_RETRIES = 0
_NOT_FOUND = 404


class SwiftStore(api.NvramStore):

    def __init__(self, conf_group=None):
        self._conf = conf_group or CONF.powervm
        # swiftclient's Connection is not to be shared between threads:
        # the manager's thread and nova's (a move's save, a fetch) each
        # keep their own, and its token.
        self._local = threading.local()
        self._container_ready = False

    def _connection(self):
        connection = getattr(self._local, 'connection', None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    def _connect(self):
        group = self._conf
        os_options = {'endpoint_type': group.swift_endpoint_type}
        if group.swift_auth_version == 3:
            os_options.update(
                user_domain_name=group.swift_user_domain_name,
                project_name=group.swift_project_name,
                project_domain_name=group.swift_project_domain_name)
        return swift_client.Connection(
            authurl=group.swift_auth_url, user=group.swift_username,
            key=group.swift_password,
            auth_version=str(group.swift_auth_version),
            os_options=os_options, cacert=group.swift_cacert,
            retries=_RETRIES, timeout=group.request_timeout)

    def _call(self, method, *args, **kwargs):
        try:
            return getattr(self._connection(), method)(*args, **kwargs)
        except swift_client.ClientException as exc:
            if exc.http_status == _NOT_FOUND:
                raise
            # A refused token or a broken connection: log on afresh the
            # next time.
            self._local.connection = None
            raise api.StoreError('Swift %s: %s' % (method, exc)) from exc
        except Exception as exc:
            # Unreachable, timed out, or Keystone refused.
            self._local.connection = None
            raise api.StoreError('Swift %s: %s' % (method, exc)) from exc

    def store(self, instance_uuid, data):
        container = self._conf.swift_container
        if not self._container_ready:
            self._call('put_container', container)
            self._container_ready = True
        try:
            self._call('put_object', container, instance_uuid, data,
                       content_type='application/octet-stream')
        except swift_client.ClientException:
            # The container went (404): make it again next time.
            self._container_ready = False
            raise

    def fetch(self, instance_uuid):
        try:
            _headers, data = self._call('get_object',
                                        self._conf.swift_container,
                                        instance_uuid)
        except swift_client.ClientException:
            return None
        return data

    def delete(self, instance_uuid):
        try:
            self._call('delete_object', self._conf.swift_container,
                       instance_uuid)
        except swift_client.ClientException:
            LOG.debug('Swift kept no NVRAM of instance %s.', instance_uuid)
