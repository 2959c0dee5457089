"""vSCSI and VFC mappings on the host's VIOSes, changed in batches.

Boot disks, config drives and volumes reach an LPAR through mappings each
VIOS keeps in its own document: every change is a read of the VIOS and an
update of it.  Changes that deploys, attaches and teardowns running at the
same time hand in share the read and the update (batch.Batched), rather
than each find the VIOS changed since its read and send again.
"""

import functools
import threading
import weakref

from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import scsi_mapper as pvm_smap

from nova_powervm import batch
from nova_powervm import exception as pvm_nova_exc
from nova_powervm import vm

LOG = logging.getLogger(__name__)

# The VIOS sections vSCSI mappings are read and written with.
VSCSI = (pvm_const.XAG.VIO_SMAP,)
# In place of a VIOS UUID: the change applies to every active VIOS.
EVERY_VIOS = '*'

# One batch of changes per Adapter (a NovaLink session), gone with it.
_BATCHES = weakref.WeakKeyDictionary()
_BATCHES_LOCK = threading.Lock()


def change(adapter, changes, xags=VSCSI):
    """Apply each ``(vios_uuid, change)``'s ``change(vios_w) -> changed``
    to that VIOS (to every active one for EVERY_VIOS), in the same update
    as the changes handed in at the same time (one VIOS feed read, one
    update per changed VIOS; etag conflicts with anything else are
    retried).

    :param xags: the VIOS sections the changes need read.
    :raises VIOSNotActive: one of the VIOSes is not active (nothing of
            ``changes`` is applied).
    :raises: what stopped the update (it fails the changes of the others
             in the same update too).
    """
    with _BATCHES_LOCK:
        batched = _BATCHES.get(adapter)
        if batched is None:
            batched = _BATCHES[adapter] = batch.Batched(
                functools.partial(_apply, adapter))
    batched.do((changes, tuple(xags)))


def add_vscsi(instance, storage, what):
    """A change that maps ``storage`` (a storage wrapper) to ``instance``'s
    LPAR; ``what`` names it in the log (boot disk, config drive …)."""
    lpar_uuid = vm.get_pvm_uuid(instance)

    def add_mapping(vios_w):
        LOG.info('Mapping %(what)s %(name)s from Virtual I/O Server '
                 '%(vios)s.', {'what': what, 'name': storage.name,
                               'vios': vios_w.name}, instance=instance)
        mapping = pvm_smap.build_vscsi_mapping(None, vios_w, lpar_uuid,
                                               storage)
        return pvm_smap.add_map(vios_w, mapping) is not None

    return add_mapping


def remove_vscsi(instance, match_func, what):
    """A change that removes every vSCSI mapping whose storage
    ``match_func`` (pypowervm's gen_match_func) matches, to whatever
    partition it goes."""

    def remove_mappings(vios_w):
        removed = pvm_smap.remove_maps(vios_w, None, match_func=match_func)
        for mapping in removed:
            LOG.info('Unmapping %(what)s %(name)s on Virtual I/O Server '
                     '%(vios)s.', {'what': what,
                                   'name': mapping.backing_storage.name,
                                   'vios': vios_w.name}, instance=instance)
        return bool(removed)

    return remove_mappings


def _apply(adapter, requests):
    """Apply the ``(changes, xags)`` ``requests``: one VIOS feed read, one
    update per changed VIOS.  A request naming a VIOS that is not active
    gets VIOSNotActive and changes nothing."""
    xags = sorted({xag for _changes, wanted in requests for xag in wanted})
    feed_task = pvm_partition.build_active_vio_feed_task(
        adapter, name='vios_mappings', xag=xags)
    # UUIDs from links and from documents may differ in case.
    by_uuid = {uuid.lower(): wrapper_task for uuid, wrapper_task
               in feed_task.wrapper_tasks.items()}
    outcomes = []
    for changes, _xags in requests:
        inactive = [vios_uuid for vios_uuid, _change in changes
                    if vios_uuid != EVERY_VIOS and
                    vios_uuid.lower() not in by_uuid]
        if inactive:
            outcomes.append(pvm_nova_exc.VIOSNotActive(vios=inactive[0]))
            continue
        for vios_uuid, func in changes:
            targets = (by_uuid.values() if vios_uuid == EVERY_VIOS
                       else [by_uuid[vios_uuid.lower()]])
            for wrapper_task in targets:
                wrapper_task.add_functor_subtask(func, provides=None,
                                                 flag_update=True)
        outcomes.append(None)
    if any(outcome is None for outcome in outcomes):
        feed_task.execute()
    return outcomes
