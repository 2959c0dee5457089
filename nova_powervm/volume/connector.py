"""The volume connector: how cinder's back ends reach this host.

A NovaLink host reaches Fibre Channel storage through its Virtual I/O
Servers' physical FC ports: a back end zones and masks a volume to their
WWPNs, and the VIOS then maps the disk to the LPAR over vSCSI.
"""

from pypowervm.tasks import partition as pvm_partition


def active_fc_wwpns(adapter):
    """WWPNs of the FC ports of the active VIOSes that can log in.

    A port without NPIV ports to offer is down or not cabled (NovaLink
    reports none for it), so storage cannot be zoned to it usefully.  The
    order is the VIOSes' and the ports' own.
    """
    return [wwpn.lower()
            for vios_w in pvm_partition.get_active_vioses(adapter)
            for wwpn in vios_w.get_active_pfc_wwpns()]


def volume_connector(adapter, host, ip, multipath):
    """The connector dict of nova's ``get_volume_connector``.

    :param host: the compute host's name.
    :param ip: the host's IP address for storage traffic.
    :param multipath: whether volumes are discovered over several paths.
    """
    connector = {'host': host, 'ip': ip, 'multipath': multipath,
                 'platform': 'ppc64le', 'os_type': 'linux'}
    wwpns = active_fc_wwpns(adapter)
    # Back ends offer FC only to a connector that has WWPNs at all.
    if wwpns:
        connector['wwpns'] = wwpns
    return connector
