"""The volume connector: how cinder's back ends reach this host.

A NovaLink host reaches storage through its Virtual I/O Servers: Fibre
Channel through their physical FC ports (a back end zones and masks a
volume to their WWPNs), iSCSI through their initiator; the VIOS then maps
the disk to the LPAR over vSCSI.  With NPIV (``fc_attach_strategy =
npiv``) the instance's LPAR logs in to the FC fabrics itself, with WWPNs
of its own (npiv.py): those are the connector's.
"""

import threading
import weakref

from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import hdisk as pvm_hdisk
from pypowervm.tasks import partition as pvm_partition

from nova_powervm import conf
from nova_powervm.volume import npiv

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# Each Adapter's (NovaLink session's) iSCSI initiator name: a VIOS keeps
# its name, and finding it out takes a job.
_INITIATORS = weakref.WeakKeyDictionary()
_INITIATORS_LOCK = threading.Lock()


def active_fc_wwpns(vioses):
    """WWPNs of the FC ports of ``vioses`` that can log in.

    A port without NPIV ports to offer is down or not cabled (NovaLink
    reports none for it), so storage cannot be zoned to it usefully.  The
    order is the VIOSes' and the ports' own.
    """
    return [wwpn.lower() for vios_w in vioses
            for wwpn in vios_w.get_active_pfc_wwpns()]


def iscsi_initiator(adapter, vioses):
    """The iSCSI initiator name (IQN) of the first of ``vioses``, or None
    when it cannot be found out now (logged; asked again next time)."""
    with _INITIATORS_LOCK:
        known = _INITIATORS.get(adapter)
    if known is not None or not vioses:
        return known
    vios_w = vioses[0]
    try:
        name = pvm_hdisk.discover_iscsi_initiator(adapter, vios_w.uuid)
    except pvm_exc.Error as exc:
        LOG.warning('Could not find the iSCSI initiator name of Virtual I/O '
                    'Server %(vios)s: %(reason)s.  The volume connector '
                    'offers Fibre Channel only.',
                    {'vios': vios_w.name, 'reason': exc})
        return None
    if name:
        with _INITIATORS_LOCK:
            _INITIATORS[adapter] = name
    return name or None


def volume_connector(adapter, instance, host, ip, multipath):
    """The connector dict of nova's ``get_volume_connector``.

    :param instance: the instance whose volumes the connector is for.
    :param host: the compute host's name.
    :param ip: the host's IP address for storage traffic.
    :param multipath: whether volumes are discovered over several paths.
    """
    connector = {'host': host, 'ip': ip, 'multipath': multipath,
                 'platform': 'ppc64le', 'os_type': 'linux'}
    vioses = pvm_partition.get_active_vioses(adapter)
    if CONF.powervm.fc_attach_strategy.lower() == 'npiv':
        # WWPNs of its own make the instance a host of its own on the
        # array, named after the compute host (its first 20 characters:
        # arrays limit host names) and the instance, as nova-powervm did.
        connector['host'] = '%s_%s' % (host[:20], instance.name)
        wwpns = npiv.client_wwpns(adapter, instance, vioses)
    else:
        wwpns = active_fc_wwpns(vioses)
    # Back ends offer FC only to a connector that has WWPNs at all, and
    # iSCSI only to one with an initiator.
    if wwpns:
        connector['wwpns'] = wwpns
    initiator = iscsi_initiator(adapter, vioses)
    if initiator:
        connector['initiator'] = initiator
    return connector
