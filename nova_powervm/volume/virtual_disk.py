"""Volumes the NovaLink partition itself serves as virtual disks: files
it sees (Cinder's ``local``, ``nfs`` and ``gpfs`` volumes, through FileIO)
and Ceph RBD images (through its RBD client).

Only a NovaLink partition that hosts I/O (installed as a VIOS: it is in
the VIOS feed) can do this; on any other such a volume is refused before
anything changes.  Connecting is one vSCSI mapping, made on the NovaLink
partition, of a virtual disk that names the file or image: NovaLink makes
the disk with the mapping and removes it with it.
"""

import abc
import os

from nova import exception
from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm.tasks import hdisk as pvm_hdisk
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.tasks import storage as pvm_storage
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from nova_powervm import conf
from nova_powervm import mappings
from nova_powervm import vm
from nova_powervm.volume import driver

LOG = logging.getLogger(__name__)
CONF = conf.CONF


class ManagementDiskVolume(driver.VolumeAdapter):
    """A volume the NovaLink partition maps as a virtual disk."""

    @property
    @abc.abstractmethod
    def disk_name(self):
        """The virtual disk's name: the file's path, the image's name."""

    @abc.abstractmethod
    def build_disk(self):
        """The storage wrapper a new mapping names."""

    def check_backing(self, mgmt_uuid):
        """Refuse (VolumeAttachFailed) a file or image that is not there,
        before mapping it."""

    def connect_to_lpar(self):
        mgmt_uuid = self._management_vios()
        self.check_backing(mgmt_uuid)
        mappings.change(self.adapter, [(mgmt_uuid, mappings.add_vscsi(
            self.instance, self.build_disk(), self.describe()))])

    def disconnect(self):
        match = pvm_smap.gen_match_func(pvm_stg.VDisk,
                                        names=[self.disk_name])
        lpar_uuid = vm.get_pvm_uuid(self.instance)

        def unmap(vios_w):
            removed = pvm_smap.remove_maps(vios_w, lpar_uuid,
                                           match_func=match)
            for _mapping in removed:
                LOG.info('Unmapping %s from the NovaLink partition.',
                         self.describe(), instance=self.instance)
            return bool(removed)

        mappings.change(self.adapter, [(self._management_vios(), unmap)])

    def extend(self):
        """Have the NovaLink partition look at the file or image again, so
        that the virtual disk takes its new size."""
        mgmt_uuid = self._management_vios()
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=mgmt_uuid,
                                   xag=[pvm_const.XAG.VIO_SMAP])
        disks = [mapping.backing_storage for mapping in vios_w.scsi_mappings
                 if mapping.backing_storage is not None and
                 mapping.backing_storage.name == self.disk_name]
        if not disks:
            raise exception.VolumeExtendFailed(
                volume_id=self.volume_id,
                reason='the NovaLink partition does not map it')
        pvm_storage.rescan_vstor(mgmt_uuid, disks[0].udid,
                                 adapter=self.adapter)

    def check_movable(self):
        raise exception.MigrationPreCheckError(
            reason='%s is served by the NovaLink partition of this host, '
            'which no migrating partition takes along' % self.describe())

    def _management_vios(self):
        """The UUID of the NovaLink partition, which must host I/O."""
        mgmt_w = pvm_partition.get_mgmt_partition(self.adapter)
        if not isinstance(mgmt_w, pvm_vios.VIOS):
            raise self.attach_failed(
                'the NovaLink partition of this host does not host I/O (it '
                'is not a Virtual I/O Server), so it cannot serve %s' %
                self.describe())
        return mgmt_w.uuid


class FileVolume(ManagementDiskVolume):
    """A file the NovaLink partition sees: a ``local`` or ``gpfs`` volume
    (``device_path``) or an ``nfs`` one (``export`` and ``name``, under
    the mount point nova's NFS client gives it)."""

    def describe(self):
        return '%s volume %s' % (
            self.connection_info.get('driver_volume_type'), self.volume_id)

    def check(self):
        if self.connection_info.get('driver_volume_type') == 'nfs':
            if not (self.data.get('export') and self.data.get('name')):
                raise self.invalid('it has no export and name')
        elif not self.data.get('device_path'):
            raise self.invalid('it has no device_path')

    @property
    def disk_name(self):
        if self.connection_info.get('driver_volume_type') == 'nfs':
            return os.path.join(self.data['export'], self.data['name'])
        return self.data['device_path']

    def build_disk(self):
        return pvm_stg.FileIO.bld_ref(
            self.adapter, self.disk_name,
            backstore_type=pvm_stg.BackStoreType.LOOP)


class RBDVolume(ManagementDiskVolume):
    """A Ceph RBD image ('pool/image'), read through the NovaLink
    partition's RBD client as ``[powervm] rbd_user``."""

    def describe(self):
        return 'RBD volume %s' % self.volume_id

    def check(self):
        if not self.data.get('name'):
            raise self.invalid('it has no name')

    @property
    def disk_name(self):
        return self.data['name']

    def check_backing(self, mgmt_uuid):
        if not pvm_hdisk.rbd_exists(self.adapter, mgmt_uuid,
                                    self.disk_name):
            raise self.attach_failed('Ceph has no image %s' %
                                     self.disk_name)

    def build_disk(self):
        return pvm_stg.RBD.bld_ref(self.adapter, self.disk_name,
                                   user=CONF.powervm.rbd_user or None)
