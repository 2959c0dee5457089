"""Instance disks as logical volumes of a volume group on a VIOS."""

from oslo_log import log as logging
from pypowervm.tasks import partition as pvm_partition
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf
from nova_powervm.disk import driver
from nova_powervm import exception as pvm_nova_exc

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# The VIOS's own operating system volume group: never for instance disks.
ROOTVG = 'rootvg'


def find_volume_group(adapter, name=''):
    """The (VIOS, VG) wrappers of the volume group for instance disks.

    :param name: the volume group's name; empty means the first volume
                 group other than rootvg on an active VIOS.
    :raises VolumeGroupNotFound: no active VIOS has such a volume group.
    """
    for vios_w in pvm_partition.get_active_vioses(adapter):
        for vg_w in pvm_stg.VG.get(adapter, parent=vios_w):
            if vg_w.name == name or (not name and vg_w.name != ROOTVG):
                return vios_w, vg_w
    raise pvm_nova_exc.VolumeGroupNotFound(
        name=name or '(other than %s)' % ROOTVG)


class LocalStorage(driver.DiskAdapter):
    """Boot disks in one volume group (``[powervm] volume_group_name``)."""

    def __init__(self, adapter, host_uuid):
        super().__init__(adapter, host_uuid)
        vios_w, vg_w = find_volume_group(adapter,
                                         CONF.powervm.volume_group_name)
        LOG.info('Instance disks go to volume group %(vg)s of VIOS '
                 '%(vios)s.', {'vg': vg_w.name, 'vios': vios_w.name})
        self.vios_uuid = vios_w.uuid
        self.vg_uuid = vg_w.uuid

    def _volume_group(self):
        return pvm_stg.VG.get(self.adapter, uuid=self.vg_uuid,
                              parent_type=pvm_vios.VIOS,
                              parent_uuid=self.vios_uuid)

    def capacity(self):
        vg_w = self._volume_group()
        total = float(vg_w.capacity)
        return driver.DiskCapacity(
            total_gb=total, used_gb=total - float(vg_w.available_size))
