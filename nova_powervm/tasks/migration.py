"""Tasks of a live migration: the destination's preparation and the
source's move."""

from oslo_log import log as logging
from pypowervm.tasks import management_console as pvm_mc
from taskflow import task

from nova_powervm import media
from nova_powervm import vif as pvm_vif
from nova_powervm.volume import npiv

LOG = logging.getLogger(__name__)


class AuthorizeSource(task.Task):
    """On the destination: this NovaLink's console authorizes the public
    SSH key of the source's (the migrate data's ``public_key``), which the
    source's Migrate job reaches it with as user wlp; a key there already
    is left as it is, and so are the keys others authorized.

    Nothing to revert, and nothing removes the key after the move: it is
    the source host's, not the instance's; other moves from that host,
    running now or later, need it as well (nova-powervm 9.0.0 left it
    too).
    """

    def __init__(self, adapter, data):
        super().__init__(name='authorize_source')
        self.adapter = adapter
        self.data = data

    def execute(self):
        pvm_mc.add_authorized_key(self.adapter, self.data.public_key)


class ReceiveVifs(task.Task):
    """On the destination: a trunk adapter (and Open vSwitch port) for
    each Open vSwitch VIF, on a VLAN free on this host, noted in the
    migrate data's ``vea_vlan_mappings`` (VIF MAC -> VLAN) for the move
    to put the LPAR's adapter on.  Revert removes them."""

    def __init__(self, adapter, instance, network_info, platform, data):
        super().__init__(name='receive_vifs')
        self.adapter = adapter
        self.instance = instance
        self.vifs = [vif for vif in network_info or ()
                     if vif.get('type') == pvm_vif.VIF_TYPE_OVS]
        self.platform = platform
        self.data = data
        self.received = []

    def _driver(self):
        return pvm_vif.OvsVifDriver(self.adapter, self.instance,
                                    platform=self.platform)

    def execute(self):
        vlans = dict(self.data.vea_vlan_mappings or {})
        for vif in self.vifs:
            vlan = self._driver().receive(vif)
            self.received.append(vif)
            vlans[pvm_vif.nova_mac(vif['address'])] = str(vlan)
        self.data.vea_vlan_mappings = vlans

    def revert(self, result, flow_failures, **kwargs):
        for vif in self.received:
            self._driver().release(vif)


class ReceiveVolume(task.Task):
    """On the destination: ready this host for one of the LPAR's volumes
    (VolumeAdapter.prepare_incoming).  Revert disconnects it here."""

    def __init__(self, volume, index):
        super().__init__(name='receive_volume_%d' % index)
        self.volume = volume

    def execute(self):
        self.volume.prepare_incoming()

    def revert(self, result, flow_failures, **kwargs):
        LOG.warning('Letting go of %s on this host after the failure.',
                    self.volume.describe(), instance=self.volume.instance)
        self.volume.disconnect()


class ReceiveVirtualFCPorts(task.Task):
    """On the destination: a physical port here for each virtual FC
    adapter of the LPAR the source described (npiv.plan_incoming), noted
    in the migrate data's ``vol_data`` for the move.  Nothing changes
    here, nothing to revert."""

    def __init__(self, adapter, data):
        super().__init__(name='receive_vfc_ports')
        self.adapter = adapter
        self.data = data

    def execute(self):
        vol_data = self.data.vol_data or {}
        self.data.vol_data = dict(vol_data, **npiv.plan_incoming(
            self.adapter, vol_data))


class UnmapConfigDrive(task.Task):
    """On the source: unmap the config drive, which NovaLink does not
    move (its media stay, for the source's post step to delete).  Revert
    maps it again."""

    def __init__(self, adapter, instance):
        super().__init__(name='unmap_cfg_drive')
        self.adapter = adapter
        self.instance = instance

    def execute(self):
        media.unmap_config_drive(self.adapter, self.instance)

    def revert(self, result, flow_failures, **kwargs):
        # A failure here is the flow's to raise: the LPAR would run on
        # without its config drive.
        media.map_config_drive(self.adapter, self.instance)


class MoveLPAR(task.Task):
    """On the source: move the LPAR (migration.Mover.move).  Nothing to
    revert: a move that fails leaves the LPAR where it was."""

    def __init__(self, mover, adapter, instance, data):
        super().__init__(name='move_lpar')
        self.mover = mover
        self.adapter = adapter
        self.instance = instance
        self.data = data

    def execute(self):
        self.mover.move(self.adapter, self.instance, self.data)
