"""Tasks on the instance's network adapters and its config drive."""

import contextlib

from nova import exception
from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc
from taskflow import task

from nova_powervm import conf
from nova_powervm import media
from nova_powervm import vif as pvm_vif

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# What later tasks of a flow find the management adapter's wrapper under
# (None without one).
MGMT_CNA = 'mgmt_cna'
# ... and the config drive's (vios_uuid, VOptMedia).
CFG_DRIVE = 'cfg_drive'


def _current_cnas(adapter, instance, lpar_wrap):
    """The LPAR's client adapters; none when the flow made the LPAR (a
    flow that did passes its wrapper, ``lpar_wrap``), so a deploy need
    not read them."""
    if lpar_wrap is not None:
        return []
    with _as_plug_failure(instance):
        return pvm_vif.get_cnas(adapter, instance)


def plug_events(network_info, missing):
    """The neutron events to wait for once ``missing`` VIFs are plugged.

    Only a port neutron has not reported active goes from down to up when
    its adapter appears; waiting for any other would only time out.
    """
    missing_ids = {vif['id'] for vif in missing}
    return [('network-vif-plugged', vif['id']) for vif in network_info
            if vif['id'] in missing_ids and vif.get('active', True) is False]


@contextlib.contextmanager
def _as_plug_failure(instance):
    """NovaLink errors of a plug step (reading the LPAR's adapters or the
    switches, not only creating adapters) are plug failures to nova."""
    try:
        yield
    except pvm_exc.Error as exc:
        raise exception.VirtualInterfacePlugException(
            'Could not plug the VIFs of instance %s: %s' % (instance.uuid,
                                                            exc)) from exc


class PlugVifs(task.Task):
    """Give the LPAR an adapter for each VIF it lacks and wait for neutron
    to report those ports up ([DEFAULT] vif_plugging_timeout, _is_fatal).

    Uses ``lpar_wrap`` when the flow made the LPAR.  Revert unplugs the
    VIFs this task plugged, and only those.
    """

    def __init__(self, virtapi, adapter, instance, network_info, platform):
        super().__init__(name='plug_vifs')
        self.virtapi = virtapi
        self.adapter = adapter
        self.instance = instance
        self.network_info = list(network_info or [])
        self.platform = platform
        self.plugged = []

    def execute(self, lpar_wrap=None):
        cnas = _current_cnas(self.adapter, self.instance, lpar_wrap)
        missing = [vif for vif in self.network_info
                   if pvm_vif.find_cna(cnas, vif['address']) is None]
        events = (plug_events(self.network_info, missing)
                  if CONF.vif_plugging_timeout else [])
        if not events:
            self._plug(cnas, lpar_wrap)
            return
        try:
            with self.virtapi.wait_for_instance_event(
                    self.instance, events,
                    timeout=CONF.vif_plugging_timeout,
                    error_callback=self._event_failed):
                self._plug(cnas, lpar_wrap)
        except exception.InstanceEventTimeout:
            if CONF.vif_plugging_is_fatal:
                raise exception.VirtualInterfaceCreateException() from None
            LOG.warning('Neutron did not report the ports %s up within '
                        '%d seconds; going on (vif_plugging_is_fatal is '
                        'False).', [tag for _name, tag in events],
                        CONF.vif_plugging_timeout, instance=self.instance)

    def _plug(self, cnas, lpar_w):
        # VIFs already there are plugged too: what lives outside NovaLink
        # (an Open vSwitch port) may need making again.
        for vif in self.network_info:
            if pvm_vif.plug(self.adapter, self.instance, vif, cnas,
                            self.platform, lpar_w=lpar_w):
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

    def execute(self, lpar_wrap=None):
        cnas = _current_cnas(self.adapter, self.instance, lpar_wrap)
        with _as_plug_failure(self.instance):
            cna, created = pvm_vif.plug_mgmt_vif(
                self.adapter, self.instance, cnas, lpar_w=lpar_wrap)
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
    """Build the config drive, upload it and map it to the LPAR (provides
    ``cfg_drive``).

    Uses ``mgmt_cna`` when a management adapter was plugged (its
    link-local address goes into the drive).  With ``connect`` False
    (step ``create_cfg_drive``) the mapping is left to a later step,
    which makes it together with the boot disk's.  Revert removes the
    mapping and the media, whichever of them exists.
    """

    def __init__(self, adapter, instance, injected_files, network_info,
                 admin_password, connect=True):
        super().__init__(name='create_and_connect_cfg_drive' if connect
                         else 'create_cfg_drive', provides=CFG_DRIVE)
        self.adapter = adapter
        self.instance = instance
        self.injected_files = injected_files
        self.network_info = network_info
        self.admin_password = admin_password
        self.connect = connect

    def execute(self, mgmt_cna=None):
        return media.create_config_drive(
            self.adapter, self.instance, self.injected_files,
            self.network_info, self.admin_password, mgmt_cna=mgmt_cna,
            connect=self.connect)

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
