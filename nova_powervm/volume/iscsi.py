"""iSCSI (and iSER) volumes, optionally with CHAP and over several paths.

Every active VIOS logs in to the target with its own initiator (NovaLink's
ISCSIDiscovery job) and finds the LUN as an hdisk, which is mapped to the
LPAR over vSCSI; disconnecting logs the VIOS out again (ISCSIRemove),
which removes the hdisk.  A VIOS that cannot log in (a wrong CHAP secret,
a target it cannot reach) does not serve the volume; none that can fails
the attach.
"""

from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import hdisk as pvm_hdisk
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import storage as pvm_storage

from nova_powervm import conf
from nova_powervm import undo
from nova_powervm.volume import hdisk

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# Keys of a multipath target: all of them, or none.
_PATH_KEYS = ('target_portals', 'target_iqns', 'target_luns')
# The iSCSI interface NovaLink uses for iSER.
_ISER_IFACE = 'iser'


class ISCSIVolume(hdisk.HdiskVolume):
    """A LUN of an iSCSI target, logged in to by every VIOS."""

    def describe(self):
        return 'iSCSI volume %s' % self.volume_id

    def check(self):
        missing = [key for key in ('target_portal', 'target_iqn',
                                   'target_lun') if self.data.get(key) is None]
        if missing:
            raise self.invalid('it has no %s' % ', '.join(missing))
        given = [key for key in _PATH_KEYS if self.data.get(key)]
        if given and len(given) != len(_PATH_KEYS):
            raise self.invalid('it gives %s but not all of %s' % (
                ', '.join(given), ', '.join(_PATH_KEYS)))

    def _multipath(self):
        return CONF.powervm.volume_use_multipath and all(
            self.data.get(key) for key in _PATH_KEYS)

    def _targets(self):
        """(portals, IQNs, LUNs): lists with multipath, else the one
        target's values."""
        if self._multipath():
            return tuple(self.data[key] for key in _PATH_KEYS)
        return (self.data['target_portal'], self.data['target_iqn'],
                self.data['target_lun'])

    def _iface(self):
        if self.connection_info.get('driver_volume_type') == 'iser':
            return _ISER_IFACE
        return CONF.powervm.iscsi_iface

    def discover(self, vios_w):
        portals, iqns, luns = self._targets()
        try:
            return pvm_hdisk.discover_iscsi(
                self.adapter, portals, self.data.get('auth_username'),
                self.data.get('auth_password'), iqns, vios_w.uuid,
                lunid=luns, iface_name=self._iface(),
                auth=self.data.get('auth_method'),
                discovery_auth=self.data.get('discovery_auth_method'),
                discovery_username=self.data.get('discovery_auth_username'),
                discovery_password=self.data.get('discovery_auth_password'),
                multipath=self._multipath())
        except pvm_exc.ISCSIDiscoveryFailed as exc:
            LOG.warning('Virtual I/O Server %(vios)s could not log in to '
                        '%(volume)s: %(reason)s',
                        {'vios': vios_w.name, 'volume': self.describe(),
                         'reason': exc}, instance=self.instance)
            # A login may have worked where the LUN did not show: log out.
            undo.quietly(self.remove_hdisk, vios_w.uuid, None)
            return None

    def remove_hdisk(self, vios_uuid, name):
        """Log the VIOS out of the LUN, which removes its hdisk."""
        portals, iqns, luns = self._targets()
        pvm_hdisk.remove_iscsi(self.adapter, iqns, vios_uuid,
                               iface_name=self._iface(), lun=luns,
                               portal=portals, multipath=self._multipath())

    def extend(self):
        """Have every VIOS rescan the hdisk, so that it takes the LUN's
        new size."""
        udid = self.data.get(hdisk.UDID_KEY)
        if udid is None:
            raise self.invalid('it was not attached by this driver (no %s)'
                               % hdisk.UDID_KEY)
        for vios_w in pvm_partition.get_active_vioses(self.adapter):
            try:
                pvm_storage.rescan_vstor(vios_w, udid, adapter=self.adapter)
            except pvm_exc.VstorNotFound:
                # That VIOS does not serve the volume.
                LOG.debug('Virtual I/O Server %s has no hdisk of %s.',
                          vios_w.name, self.describe())
