"""Volumes a VIOS sees as a disk of its own (an hdisk) and maps to the
LPAR over vSCSI: Fibre Channel LUNs (vSCSI strategy) and iSCSI LUNs.

Each VIOS that reaches the volume discovers it as an hdisk; every such
hdisk is mapped to the instance's LPAR in one batched update of the VIOSes
(multipathing across them is the LPAR's).  The volume's UDID is recorded in
its connection_info (``target_UDID``): disconnecting finds the hdisk by it
on each VIOS, removes the mapping and then the hdisk, unless another
mapping still uses it.
"""

import abc

from oslo_log import log as logging
from oslo_utils import excutils
from pypowervm import const as pvm_const
from pypowervm.tasks import hdisk as pvm_hdisk
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.wrappers import storage as pvm_stg

from nova_powervm import conf
from nova_powervm import mappings
from nova_powervm import undo
from nova_powervm import vm
from nova_powervm.volume import driver

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# Where the volume's UDID is kept, as the earlier PowerVM drivers kept it.
UDID_KEY = 'target_UDID'
# The VIOS sections that show hdisks (by UDID) and their mappings.
_STORAGE_AND_MAPPINGS = (pvm_const.XAG.VIO_SMAP, pvm_const.XAG.VIO_STOR)


class HdiskVolume(driver.VolumeAdapter):
    """A volume each VIOS that reaches it sees as an hdisk."""

    @abc.abstractmethod
    def discover(self, vios_w):
        """Find the volume on ``vios_w`` now.

        :returns: ``(hdisk name, UDID)``, or None when that VIOS does not
                  reach the volume.
        """

    def required_vioses(self):
        """How many VIOSes must reach the volume for an attach to do."""
        return 1

    def remove_hdisk(self, vios_uuid, name):
        """Remove the hdisk ``name`` from the VIOS (nothing maps it)."""
        pvm_hdisk.remove_hdisk(self.adapter, CONF.host, name, vios_uuid)

    def connect_to_lpar(self):
        found = self._discover_everywhere()
        udid = next(iter(found.values()))[1]
        try:
            mappings.change(self.adapter, [
                (vios_uuid, mappings.add_vscsi(
                    self.instance, pvm_stg.PV.bld(self.adapter, name,
                                                  udid=udid),
                    self.describe()))
                for vios_uuid, (name, udid) in found.items()])
        except Exception:
            with excutils.save_and_reraise_exception():
                # By UDID on every VIOS: a mapping, or a discovery on
                # another VIOS, whose answer was lost may exist too.
                undo.quietly(self._unmap_and_remove_udid, udid)
        self.data[UDID_KEY] = udid

    def prepare_incoming(self):
        """Have this host's VIOSes find the volume, unmapped: NovaLink
        moves the LPAR's mappings of it onto the VIOSes that have it."""
        found = self._discover_everywhere()
        self.data[UDID_KEY] = next(iter(found.values()))[1]

    def _discover_everywhere(self):
        """``{vios_uuid: (hdisk name, UDID)}`` of the active VIOSes that
        find the volume, at least required_vioses() of them.

        :raises nova.exception.VolumeAttachFailed: too few found it (what
                they found is removed again).
        """
        found = {}
        try:
            for vios_w in pvm_partition.get_active_vioses(self.adapter):
                hdisk = self.discover(vios_w)
                if hdisk is not None:
                    found[vios_w.uuid] = hdisk
            if len(found) < self.required_vioses():
                raise self.attach_failed(
                    '%d Virtual I/O Server(s) reach it; %d must' % (
                        len(found), self.required_vioses()))
        except Exception:
            with excutils.save_and_reraise_exception():
                if found:
                    undo.quietly(self._unmap_and_remove_udid,
                                 next(iter(found.values()))[1])
        return found

    def disconnect(self):
        udid = self.data.get(UDID_KEY)
        if udid is None:
            # Never connected here, or by a driver that kept no UDID: look
            # for it as connect would.
            hdisks = {vios_w.uuid: hdisk[0] for vios_w, hdisk in (
                (vios_w, self.discover(vios_w))
                for vios_w in pvm_partition.get_active_vioses(self.adapter))
                if hdisk is not None}
            self._unmap_and_remove(hdisks)
        else:
            self._unmap_and_remove_udid(udid)

    # ------------------------------------------------------------ undoing
    def _unmap_and_remove_udid(self, udid):
        """Unmap the hdisk with ``udid`` from the LPAR on every VIOS that
        has it, and remove it where nothing maps it any more."""
        unused = {}

        def unmap(vios_w):
            name = vios_w.hdisk_from_uuid(udid)
            return name is not None and self._unmap(vios_w, name, unused)

        mappings.change(self.adapter, [(mappings.EVERY_VIOS, unmap)],
                        xags=_STORAGE_AND_MAPPINGS)
        self._remove(unused)

    def _unmap_and_remove(self, hdisks):
        """Unmap ``{vios_uuid: hdisk name}`` from the LPAR, and remove
        each hdisk that nothing maps any more."""
        if not hdisks:
            return
        unused = {}
        mappings.change(self.adapter, [
            (vios_uuid, lambda vios_w, name=name: self._unmap(
                vios_w, name, unused))
            for vios_uuid, name in hdisks.items()])
        self._remove(unused)

    def _unmap(self, vios_w, name, unused):
        """Remove the mappings of hdisk ``name`` to the instance's LPAR,
        and those a deleted LPAR left (they have no client adapter), from
        ``vios_w``; note the hdisk in ``unused`` when no mapping of it is
        left."""
        match = pvm_smap.gen_match_func(pvm_stg.PV, names=[name])
        lpar_uuid = vm.get_pvm_uuid(self.instance)
        removed = [mapping for mapping in pvm_smap.find_maps(
            vios_w.scsi_mappings, None, match_func=match,
            include_orphans=True) if _maps_to(mapping, lpar_uuid)]
        for mapping in removed:
            vios_w.scsi_mappings.remove(mapping)
            LOG.info('Unmapping %(volume)s (%(hdisk)s) on Virtual I/O '
                     'Server %(vios)s.', {'volume': self.describe(),
                                          'hdisk': name,
                                          'vios': vios_w.name},
                     instance=self.instance)
        if not pvm_smap.find_maps(vios_w.scsi_mappings, None,
                                  match_func=match, include_orphans=True):
            unused[vios_w.uuid] = name
        return bool(removed)

    def _remove(self, unused):
        for vios_uuid, name in unused.items():
            LOG.info('Removing %(hdisk)s of %(volume)s from Virtual I/O '
                     'Server %(vios)s.', {'hdisk': name,
                                          'volume': self.describe(),
                                          'vios': vios_uuid},
                     instance=self.instance)
            undo.retrying_once(self.remove_hdisk, vios_uuid, name)


def _maps_to(mapping, lpar_uuid):
    """Whether ``mapping`` goes to the LPAR, or to none any more."""
    if mapping.client_adapter is None:
        return True
    href = mapping.client_lpar_href or ''
    return href.rstrip('/').rsplit('/', 1)[-1].upper() == lpar_uuid
