"""The pypowervm Session and Adapter the driver talks to NovaLink through.

By default nova-compute runs on the NovaLink partition and logs on with
local file authentication (no credentials).  A NovaLink that is still
starting (after a host reboot) is retried with growing waits; one that
never answers stops nova-compute with an error that says where it looked.
"""

import re
import time

from oslo_log import log as logging
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
from pypowervm.helpers import log_helper as pvm_log
from pypowervm.helpers import vios_busy as pvm_vios_busy

from nova_powervm import conf
from nova_powervm import exception as pvm_nova_exc
from nova_powervm import session as pvm_session

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# Waits between start-up attempts never grow beyond this: NovaLink comes up
# within minutes of its partition, and waiting longer only delays nova.
MAX_RETRY_INTERVAL = 30.0

# HTTP statuses a NovaLink answers while its REST server is still starting.
_STARTING_STATUSES = frozenset([404, 503])

# Request bodies carrying credentials: job parameters such as an iSCSI CHAP
# password, or a logon request.  pypowervm logs request bodies unless the
# request is marked sensitive.
_SECRET_RE = re.compile(rb'passw(or)?d|secret|chap', re.IGNORECASE)


def mark_secrets_sensitive(func):
    """Adapter helper: never log a request body that holds a secret.

    pypowervm only hides bodies its caller marked sensitive, and several of
    its own jobs (iSCSI discovery with CHAP) do not.  This marks every body
    that mentions a password or secret, so neither pypowervm's trace log nor
    log_helper's dump of recent requests can show it.
    """
    def request(*args, **kwargs):
        if _holds_secret(kwargs.get('body')):
            kwargs['sensitive'] = True
        return func(*args, **kwargs)
    return request


def _holds_secret(body):
    if not body:
        return False
    if isinstance(body, str):
        body = body.encode('utf-8', 'replace')
    return bool(_SECRET_RE.search(body))


# Outermost first: the secret check must run before log_helper stashes the
# request, and VIOS-busy retries must happen inside the logging.
HELPERS = (mark_secrets_sensitive, pvm_log.log_helper,
           pvm_vios_busy.vios_busy_retry_helper)


def session_kwargs(group):
    """pypowervm Session arguments for the ``[powervm]`` group ``group``.

    No password means local file authentication; unset protocol and port
    keep pypowervm's defaults for the authentication mode.
    """
    kwargs = {'host': group.host, 'conn_tries': 1}
    if group.protocol:
        kwargs['protocol'] = group.protocol
    if group.port:
        kwargs['port'] = group.port
    if not conf.uses_file_auth(group):
        kwargs.update(username=group.username, password=group.password,
                      certpath=group.certpath)
    return kwargs


def describe_endpoint(group):
    """Where the driver connects and how, for messages (no password)."""
    protocol = group.protocol or ('http' if conf.uses_file_auth(group)
                                  else 'https')
    port = group.port or (12080 if protocol == 'http' else 12443)
    auth = ('local file authentication' if conf.uses_file_auth(group)
            else 'user %s' % group.username)
    return '%s://%s:%d (%s)' % (protocol, group.host, port, auth)


def retry_delays(tries, first_delay, max_delay=MAX_RETRY_INTERVAL):
    """The waits between ``tries`` attempts: doubling from first_delay.

    >>> retry_delays(5, 2.0)
    [2.0, 4.0, 8.0, 16.0]
    """
    return [min(first_delay * 2 ** attempt, max_delay)
            for attempt in range(tries - 1)]


def is_starting_error(exc):
    """Whether ``exc`` means NovaLink is down or still starting.

    Such errors are worth retrying; a refused logon or a bad certificate
    is not going to get better by waiting.
    """
    if isinstance(exc, (pvm_exc.ConnectionError, pvm_exc.TimeoutError,
                        pvm_session.BadLogonAnswer)):
        return True
    return (isinstance(exc, pvm_exc.HttpError) and exc.response is not None
            and exc.response.status in _STARTING_STATUSES)


def connect(group=None, sleep=time.sleep):
    """Log on to NovaLink and return a pypowervm Adapter.

    :param group: the ``[powervm]`` option group (the global one if None).
    :param sleep: how to wait between attempts (tests pass their own).
    :raises NovaLinkUnavailable: NovaLink refused the logon, or did not
        answer after ``connection_retries`` attempts.
    """
    group = group if group is not None else CONF.powervm
    endpoint = describe_endpoint(group)
    LOG.info('Connecting to NovaLink at %s.', endpoint)
    session = _logon(group, endpoint, sleep)
    LOG.info('Connected to NovaLink at %s.', endpoint)
    return pvm_adpt.Adapter(session, helpers=list(HELPERS))


def _logon(group, endpoint, sleep):
    delays = retry_delays(group.connection_retries,
                          group.connection_retry_interval)
    attempt = 0
    while True:
        attempt += 1
        try:
            return pvm_session.Session(group.request_timeout,
                                       **session_kwargs(group))
        except pvm_exc.Error as exc:
            if attempt > len(delays) or not is_starting_error(exc):
                raise pvm_nova_exc.NovaLinkUnavailable(
                    endpoint=endpoint, tries=attempt, reason=exc) from exc
            delay = delays[attempt - 1]
            LOG.warning('NovaLink at %(endpoint)s is not answering '
                        '(attempt %(attempt)d of %(tries)d: %(reason)s); '
                        'trying again in %(delay).1f seconds.',
                        {'endpoint': endpoint, 'attempt': attempt,
                         'tries': len(delays) + 1, 'reason': exc,
                         'delay': delay})
            sleep(delay)


def disconnect(adapter):
    """Log the adapter's session off NovaLink.

    pypowervm only logs off from Session.__del__, which may run long after
    the driver let go of it (or never, with the event listener's thread
    still polling); log off now so the session token dies with the driver.
    """
    # pypowervm has no public log-off; _logoff is what __del__ calls and
    # is safe to call twice.
    adapter.session._logoff()
