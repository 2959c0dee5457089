"""Disk drivers: where instance boot disks live.

``[powervm] disk_driver`` picks one; ``load`` makes it for a host.
"""

from nova_powervm import conf
from nova_powervm.disk import localdisk
from nova_powervm.disk import ssp
from nova_powervm import exception as pvm_nova_exc

CONF = conf.CONF

DRIVERS = {
    'localdisk': localdisk.LocalStorage,
    'ssp': ssp.SSPDiskAdapter,
}


def load(adapter, host_uuid):
    """The configured disk driver for the managed system ``host_uuid``.

    :raises UnsupportedDiskDriver: the configured driver is not shipped.
    """
    name = CONF.powervm.disk_driver.lower()
    try:
        cls = DRIVERS[name]
    except KeyError:
        raise pvm_nova_exc.UnsupportedDiskDriver(
            name=name, available=', '.join(sorted(DRIVERS))) from None
    return cls(adapter, host_uuid)
