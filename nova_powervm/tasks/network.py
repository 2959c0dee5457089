"""Tasks on the instance's network adapters and its config drive."""

from nova import exception
from oslo_log import log as logging
from taskflow import task

from nova_powervm import conf
from nova_powervm import media
from nova_powervm import vif as pvm_vif

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# What later tasks of a flow find the management adapter's wrapper under
# (None without one).
MGMT_CNA = 'mgmt_cna'


def plug_events(network_info, missing):
    """The neutron events to wait for once ``missing`` VIFs are plugged.

    Only a port neutron has not reported active goes from down to up when
    its adapter appears; waiting for any other would only time out.
    """
    missing_ids = {vif['id'] for vif in missing}
    return [('network-vif-plugged', vif['id']) for vif in network_info
            if vif['id'] in missing_ids and vif.get('active', True) is False]


class PlugVifs(task.Task):
    """Give the LPAR an adapter for each VIF it lacks and wait for neutron
    to report those ports up ([DEFAULT] vif_plugging_timeout, _is_fatal).

    Revert unplugs the VIFs this task plugged, and only those.
    """

    def __init__(self, virtapi, adapter, instance, network_info, platform):
        super().__init__(name='plug_vifs')
        self.virtapi = virtapi
        self.adapter = adapter
        self.instance = instance
        self.network_info = list(network_info or [])
        self.platform = platform
        self.plugged = []

    def execute(self):
        cnas = pvm_vif.get_cnas(self.adapter, self.instance)
        missing = [vif for vif in self.network_info
                   if pvm_vif.find_cna(cnas, vif['address']) is None]
        events = (plug_events(self.network_info, missing)
                  if CONF.vif_plugging_timeout else [])
        if not events:
            self._plug(cnas)
            return
        try:
            with self.virtapi.wait_for_instance_event(
                    self.instance, events,
                    timeout=CONF.vif_plugging_timeout,
                    error_callback=self._event_failed):
                self._plug(cnas)
        except exception.InstanceEventTimeout:
            if CONF.vif_plugging_is_fatal:
                raise exception.VirtualInterfaceCreateException() from None
            LOG.warning('Neutron did not report the ports %s up within '
                        '%d seconds; going on (vif_plugging_is_fatal is '
                        'False).', [tag for _name, tag in events],
                        CONF.vif_plugging_timeout, instance=self.instance)

    def _plug(self, cnas):
        # VIFs already there are plugged too: what lives outside NovaLink
        # (an Open vSwitch port) may need making again.
        for vif in self.network_info:
            if pvm_vif.plug(self.adapter, self.instance, vif, cnas,
                            self.platform):
                self.plugged.append(vif)

    def _event_failed(self, event_name, instance):
        LOG.error('Neutron reported a failure of event %s.', event_name,
                  instance=instance)
        if CONF.vif_plugging_is_fatal:
            raise exception.VirtualInterfaceCreateException()
        # Keep waiting for the other ports.
        return True

    def revert(self, result, flow_failures, **kwargs):
        if not self.plugged:
            return
        LOG.warning('Unplugging the VIFs of the failed operation.',
                    instance=self.instance)
        try:
            cnas = pvm_vif.get_cnas(self.adapter, self.instance)
            for vif in reversed(self.plugged):
                pvm_vif.unplug(self.adapter, self.instance, vif, cnas,
                               self.platform)
        except Exception:
            LOG.exception('Could not unplug the VIFs of the failed '
                          'operation.', instance=self.instance)


class UnplugAllVifs(task.Task):
    """Remove every VIF adapter of the LPAR and the trunks serving them
    (before the LPAR is deleted: trunk adapters do not go with it)."""

    def __init__(self, adapter, instance, platform):
        super().__init__(name='unplug_all_vifs')
        self.adapter = adapter
        self.instance = instance
        self.platform = platform

    def execute(self):
        pvm_vif.unplug_all(self.adapter, self.instance, self.platform)


class PlugMgmtVif(task.Task):
    """Give the LPAR its RMC management adapter (provides ``mgmt_cna``).

    Revert deletes the adapter if this task made it.
    """

    def __init__(self, adapter, instance):
        super().__init__(name='plug_mgmt_vif', provides=MGMT_CNA)
        self.adapter = adapter
        self.instance = instance
        self.created = None

    def execute(self):
        cnas = pvm_vif.get_cnas(self.adapter, self.instance)
        cna, created = pvm_vif.plug_mgmt_vif(self.adapter, self.instance,
                                             cnas)
        if created:
            self.created = cna
        return cna

    def revert(self, result, flow_failures, **kwargs):
        if self.created is None:
            return
        try:
            pvm_vif.delete_mgmt_vif(self.instance, self.created)
        except Exception:
            LOG.exception('Could not delete the management adapter of the '
                          'failed deploy.', instance=self.instance)


class CreateAndConnectCfgDrive(task.Task):
    """Build the config drive, upload it and map it to the LPAR.

    Uses ``mgmt_cna`` when a management adapter was plugged (its
    link-local address goes into the drive).  Revert removes the mapping
    and the media, whichever of them exists.
    """

    def __init__(self, adapter, instance, injected_files, network_info,
                 admin_password):
        super().__init__(name='create_and_connect_cfg_drive')
        self.adapter = adapter
        self.instance = instance
        self.injected_files = injected_files
        self.network_info = network_info
        self.admin_password = admin_password

    def execute(self, mgmt_cna=None):
        media.create_config_drive(
            self.adapter, self.instance, self.injected_files,
            self.network_info, self.admin_password, mgmt_cna=mgmt_cna)

    def revert(self, result, flow_failures, **kwargs):
        LOG.warning('Removing the config drive of the failed deploy.',
                    instance=self.instance)
        try:
            media.delete_config_drive(self.adapter, self.instance)
        except Exception:
            LOG.exception('Could not remove the config drive of the failed '
                          'deploy.', instance=self.instance)


class DeleteCfgDrive(task.Task):
    """Unmap and delete the config drive.  Nothing to revert."""

    def __init__(self, adapter, instance):
        super().__init__(name='delete_cfg_drive')
        self.adapter = adapter
        self.instance = instance

    def execute(self):
        media.delete_config_drive(self.adapter, self.instance)
