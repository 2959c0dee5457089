"""NovaLink partition state changes as nova lifecycle events.

NovaLink tells every listener when an object changes; a LogicalPartition
event whose detail names PartitionState means its power state moved.  Such
changes are held for ``[powervm] lifecycle_event_delay`` seconds (a newer
change of the same LPAR replaces a held one, so the off-and-on of a reboot
is not reported as a stop), then the LPAR's state is read once and, if it
differs from what nova recorded and nova is not itself working on the
instance, nova gets a LifecycleEvent.

A LogicalPartition event whose detail names NVRAM means the guest wrote
its NVRAM: the NVRAM store is asked to save it (nvram/, off this thread).
"""

import functools
import re
import threading

from nova import context as nova_context
from nova import exception
from nova import thread_pool_factory
from nova.virt import event as virtevent
from oslo_log import log as logging
from oslo_utils import excutils
from pypowervm import adapter as pvm_adpt
from pypowervm.wrappers import event as pvm_evt

from nova_powervm import vm

LOG = logging.getLogger(__name__)

_LPAR_URI_RE = re.compile(
    r'/LogicalPartition/([0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})'
    r'$')
# Runs each task on nova's shared pool after a fixed delay, unless the
# task's future was cancelled meanwhile (libvirt delays its events so too).
_DelayingExecutor = (
    thread_pool_factory.StaticallyDelayingCancellableTaskExecutorWrapper)
# The object still exists after these; a DELETE_URI has no state to read.
_CHANGE_TYPES = frozenset([pvm_evt.EventType.ADD_URI,
                           pvm_evt.EventType.MODIFY_URI])


def state_change_lpar_uuid(etype, data, detail):
    """The UUID of the LPAR whose state an event reports as changed.

    :returns: the LPAR's UUID, or None for any other event.
    """
    return _changed_lpar_uuid(etype, data, detail, 'PartitionState')


def nvram_change_lpar_uuid(etype, data, detail):
    """The UUID of the LPAR whose NVRAM an event reports as changed, or
    None for any other event."""
    return _changed_lpar_uuid(etype, data, detail, 'NVRAM')


def _changed_lpar_uuid(etype, data, detail, what):
    if etype not in _CHANGE_TYPES or not data or not detail:
        return None
    match = _LPAR_URI_RE.search(data)
    if match is None:
        return None
    if what not in (part.strip() for part in detail.split(',')):
        return None
    return match.group(1)


class LifecycleEventHandler(pvm_adpt.WrapperEventHandler):
    """Turns NovaLink events into the driver's lifecycle events.

    :param driver: the PowerVMDriver (its ``emit_event`` is called).
    :param adapter: the pypowervm Adapter to read partition states with.
    :param delay: seconds to hold a state change before reporting it.
    :param nvram: the NvramManager that saves changed NVRAM, or None.
    """

    def __init__(self, driver, adapter, delay, nvram=None):
        self._driver = driver
        self._adapter = adapter
        self._nvram = nvram
        self._executor = _DelayingExecutor(
            delay=delay, executor=thread_pool_factory.get_executor(
                thread_pool_factory.ExecutorType.DEFAULT))
        # Re-entrant: cancelling a future runs its done-callback (which
        # takes the lock) in the cancelling thread.
        self._lock = threading.RLock()
        self._held = {}

    def process(self, events):
        """Called by pypowervm's event thread with each batch of events."""
        for pvm_event in events:
            lpar_uuid = state_change_lpar_uuid(
                pvm_event.etype, pvm_event.data, pvm_event.detail)
            if lpar_uuid is not None:
                self._hold(lpar_uuid.lower())
            if self._nvram is not None:
                lpar_uuid = nvram_change_lpar_uuid(
                    pvm_event.etype, pvm_event.data, pvm_event.detail)
                if lpar_uuid is not None:
                    # Returns at once: the save runs on the store's thread.
                    self._nvram.store(lpar_uuid)

    def _hold(self, lpar_uuid):
        with self._lock:
            older = self._held.pop(lpar_uuid, None)
            if older is not None:
                older.cancel()
            future = self._executor.submit_with_delay(self._report,
                                                      lpar_uuid)
            self._held[lpar_uuid] = future
        future.add_done_callback(functools.partial(self._forget, lpar_uuid))

    def _forget(self, lpar_uuid, future):
        with self._lock:
            if self._held.get(lpar_uuid) is future:
                del self._held[lpar_uuid]

    def _report(self, lpar_uuid):
        try:
            self._report_state(lpar_uuid)
        except Exception:
            # Runs on a pool thread: nobody else would see the error.
            LOG.exception('Could not report the state change of LPAR %s.',
                          lpar_uuid)

    def _report_state(self, lpar_uuid):
        try:
            pvm_state = vm.get_state(self._adapter, lpar_uuid)
        except exception.InstanceNotFound:
            LOG.debug('LPAR %s was deleted before its state change was '
                      'reported.', lpar_uuid)
            return
        context = nova_context.get_admin_context()
        instance = vm.find_instances(context, [lpar_uuid]).get(lpar_uuid)
        if instance is None:
            LOG.debug('LPAR %s belongs to no nova instance.', lpar_uuid)
            return
        if instance.task_state is not None:
            # nova is stopping, starting or rebooting it right now and
            # records the outcome itself.
            LOG.debug('Not reporting state %(state)s: the instance is '
                      '%(task)s.', {'state': pvm_state,
                                    'task': instance.task_state},
                      instance=instance)
            return
        transition = vm.lifecycle_transition(pvm_state, instance.power_state)
        if transition is None:
            return
        LOG.info('LPAR state is now %s; telling nova.', pvm_state,
                 instance=instance)
        self._driver.emit_event(
            virtevent.LifecycleEvent(instance.uuid, transition))

    def stop(self):
        """Drop held state changes and stop the delay thread.

        nova-compute syncs every power state when it starts again, so
        nothing is lost by not waiting for them.
        """
        with self._lock:
            held, self._held = list(self._held.values()), {}
        for future in held:
            future.cancel()
        self._executor.shutdown(wait=True)


def start(driver, adapter, delay, nvram=None):
    """Listen for NovaLink events on ``adapter``'s session (NVRAM changes
    go to ``nvram``, an NvramManager, if given)."""
    listener = adapter.session.get_event_listener()
    handler = LifecycleEventHandler(driver, adapter, delay, nvram=nvram)
    try:
        listener.subscribe(handler)
    except Exception:
        with excutils.save_and_reraise_exception():
            handler.stop()
    return handler


def stop(adapter, handler, wait):
    """Stop listening, and let the poll in flight end.

    The listener's thread ends once nobody listens, after its poll in
    flight returns.  Logging off before that would have NovaLink refuse
    the poll (a 401), and the thread would report NovaLink down and sleep
    before it ends: wait for it, at most ``wait`` seconds.
    """
    listener = adapter.session.get_event_listener()
    # pypowervm offers no public way to the thread.
    poller = listener._pthread
    listener.unsubscribe(handler)
    handler.stop()
    if poller is not None and listener._pthread is None:
        poller.join(wait)
