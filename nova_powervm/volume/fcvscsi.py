"""Fibre Channel volumes mapped over vSCSI (``fc_attach_strategy =
vscsi``).

The storage back end zones and masks the LUN to the WWPNs of the VIOSes'
physical FC ports (the volume connector offers them); Cinder answers with
an initiator-target map.  Each VIOS whose ports are initiators in it runs
NovaLink's LUARecovery job over the initiator-target-LUN paths (ITLs) to
find the LUN as an hdisk.
"""

import base64

from oslo_log import log as logging
from pypowervm.tasks import hdisk as pvm_hdisk
from pypowervm.tasks import partition as pvm_partition

from nova_powervm import conf
from nova_powervm.volume import hdisk

LOG = logging.getLogger(__name__)
CONF = conf.CONF


def _wwpn(text):
    """A WWPN as pypowervm compares them: lower case, no colons."""
    return text.replace(':', '').lower()


class FCVscsiVolume(hdisk.HdiskVolume):
    """A LUN on the SAN, found by each VIOS as an hdisk."""

    def describe(self):
        return 'Fibre Channel volume %s' % self.volume_id

    def check(self):
        itmap = self.data.get('initiator_target_map')
        if not itmap or not isinstance(itmap, dict):
            raise self.invalid('it has no initiator_target_map')
        if self.data.get('target_lun') is None:
            raise self.invalid('it has no target_lun')

    def required_vioses(self):
        return CONF.powervm.vscsi_vios_connections_required

    def discover(self, vios_w):
        ports = {_wwpn(wwpn) for wwpn in vios_w.get_active_pfc_wwpns()}
        itmap = self.data['initiator_target_map']
        initiators = [wwpn for wwpn in itmap if _wwpn(wwpn) in ports]
        if not initiators:
            return None
        targets = sorted({target for wwpn in initiators
                          for target in itmap[wwpn]})
        itls = pvm_hdisk.build_itls(initiators, targets,
                                    self.data['target_lun'])
        status, name, udid = pvm_hdisk.discover_hdisk(
            self.adapter, vios_w.uuid, itls, device_id=self._device_id())
        if not pvm_hdisk.good_discovery(status, name):
            LOG.warning('Virtual I/O Server %(vios)s did not find '
                        '%(volume)s over %(paths)d path(s) (LUARecovery '
                        'status %(status)s).',
                        {'vios': vios_w.name, 'volume': self.describe(),
                         'paths': len(itls), 'status': status},
                        instance=self.instance)
            return None
        return name, udid

    def _device_id(self):
        # The LUN's page-83 NAA identifier, when Cinder gives it, tells the
        # VIOS exactly which device is meant.
        naa = self.data.get('pg83NAA')
        return base64.b64encode(naa.encode()).decode() if naa else None

    def extend(self):
        """Have every VIOS that reaches the LUN find it again: its hdisk
        takes the LUN's new size, which the LPAR then sees on its own
        rescan of the disk."""
        for vios_w in pvm_partition.get_active_vioses(self.adapter):
            self.discover(vios_w)
