"""An instance's network interfaces: one driver per nova VIF type.

Every VIF becomes a client network adapter (CNA) on the instance's LPAR,
with the port's MAC address, which is how the VIF is found again:

- ``pvm_sea``: the CNA sits on the port's VLAN of the default virtual
  switch, which the Virtual I/O Servers' Shared Ethernet Adapters carry to
  the physical network (networking-powervm's agent bridges the VLAN).
- ``ovs``: the CNA gets a VLAN of its own on the NovaLink I/O switch,
  shared only with a trunk adapter on the NovaLink partition; that trunk's
  device is a port of the local Open vSwitch bridge, which the management
  platform (``mgmt.Platform.plug_ovs_port``) makes on the partition.

Besides the VIFs nova asks for, each LPAR may get a management adapter on
VLAN 4094 of MGMTSWITCH, over which NovaLink's RMC daemon reaches the
operating system (needed for OS shutdown and dynamic changes).
"""

import abc
import re
import threading
import weakref

from nova import exception
from nova.network import model as network_model
from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import partition as pvm_partition
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net

from nova_powervm import conf
from nova_powervm import vm

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# Where NovaLink's RMC traffic runs: its own switch and VLAN, trunked to
# the NovaLink partition.
MGMT_VSWITCH = 'MGMTSWITCH'
MGMT_VLAN = 4094

VIF_TYPE_SEA = 'pvm_sea'
VIF_TYPE_OVS = network_model.VIF_TYPE_OVS

_MAC_DIGITS = re.compile(r'^[0-9A-F]{12}$')
_MAC_SEPARATORS = re.compile(r'[:.-]')


# --------------------------------------------------------------- MACs
def pvm_mac(mac):
    """NovaLink's form of a MAC address: 12 upper-case hex digits.

    >>> pvm_mac('fa:16:3e:00:0a:01')
    'FA163E000A01'

    :raises ValueError: ``mac`` is not a MAC address.
    """
    digits = _MAC_SEPARATORS.sub('', str(mac).strip()).upper()
    if not _MAC_DIGITS.match(digits):
        raise ValueError('%r is not a MAC address.' % (mac,))
    return digits


def nova_mac(mac):
    """nova's (and neutron's) form of a MAC address.

    >>> nova_mac('FA163E000A01')
    'fa:16:3e:00:0a:01'

    :raises ValueError: ``mac`` is not a MAC address.
    """
    digits = pvm_mac(mac).lower()
    return ':'.join(digits[i:i + 2] for i in range(0, 12, 2))


# --------------------------------------------------------- VIF fields
def _network_meta(vif, key):
    network = vif.get('network') or {}
    return (network.get('meta') or {}).get(key)


def trunk_device_name(vif):
    """The NovaLink partition's name for the trunk device of an OVS VIF.

    nova names it (``devname``: 'tap' and the start of the port ID); a VIF
    without one gets a name made the same way, within Linux's limit.
    """
    return vif.get('devname') or (
        'nic' + vif['id'])[:network_model.NIC_NAME_LEN]


def ovs_bridge(vif):
    network = vif.get('network') or {}
    return network.get('bridge') or CONF.neutron.ovs_bridge


def ovs_interface_id(vif):
    """The ID neutron's OVS agent knows the port by."""
    return vif.get('ovs_interfaceid') or vif['id']


def ovs_external_ids(vif, instance):
    """The OVS port's external IDs, as neutron's OVS agent expects them.

    The agent recognises its port by ``iface-id`` and reports it up only
    when ``attached-mac`` and ``iface-status`` are set.
    """
    return ','.join([
        'iface-id=%s' % ovs_interface_id(vif),
        'iface-status=active',
        'attached-mac=%s' % nova_mac(vif['address']),
        'vm-uuid=%s' % instance.uuid,
    ])


def sea_vlan(vif):
    """The VLAN of a ``pvm_sea`` VIF (networking-powervm puts it in the
    port's binding details).

    :raises VirtualInterfacePlugException: the VIF names no usable VLAN.
    """
    vlan = (vif.get('details') or {}).get(network_model.VIF_DETAILS_VLAN)
    try:
        vlan = int(vlan)
    except (TypeError, ValueError):
        raise exception.VirtualInterfacePlugException(
            'VIF %s of type %s has no VLAN in its binding details (%r).' % (
                vif['id'], VIF_TYPE_SEA, vlan)) from None
    if not 1 <= vlan < MGMT_VLAN:
        raise exception.VirtualInterfacePlugException(
            'VIF %s asks for VLAN %d; PowerVM client VLANs are 1-%d.' % (
                vif['id'], vlan, MGMT_VLAN - 1))
    return vlan


# ----------------------------------------------------------- lookups
def get_cnas(adapter, instance):
    """The CNA wrappers on the instance's LPAR (trunks excluded).

    :raises InstanceNotFound: the LPAR is gone.
    """
    try:
        cnas = pvm_net.CNA.get(adapter, parent_type=pvm_lpar.LPAR,
                               parent_uuid=vm.get_pvm_uuid(instance))
    except pvm_exc.HttpNotFound:
        raise exception.InstanceNotFound(instance_id=instance.uuid) from None
    return [cna for cna in cnas if not cna.is_trunk]


def find_cna(cnas, mac):
    """The CNA with MAC address ``mac`` (any notation), or None."""
    wanted = pvm_mac(mac)
    for cna in cnas:
        if pvm_mac(cna.mac) == wanted:
            return cna
    return None


class _HostNetwork:
    """What of the host's network stays put while nova-compute runs: the
    NovaLink partition (parent of the trunk adapters) and the virtual
    switches.  Read on first use rather than for every VIF.

    A switch name not known yet is read again (it may have been made
    since); ``forget_switches`` drops them all after a failed plug (a
    switch deleted and made again has a new ID).  The partition stays:
    its UUID is fixed for the host's lifetime.  ``vlans`` chooses the
    VLANs of OVS VIFs.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._mgmt_w = None
        self._switches = None
        self.vlans = _VlanChooser()

    def mgmt_partition(self, adapter):
        with self._lock:
            if self._mgmt_w is None:
                self._mgmt_w = pvm_partition.get_mgmt_partition(adapter)
            return self._mgmt_w

    def vswitch(self, adapter, name, create=False):
        """The VSwitch wrapper called ``name`` (made if ``create``), or
        None."""
        with self._lock:
            if self._switches is None or name not in self._switches:
                self._switches = {vswitch.name: vswitch
                                  for vswitch in _read_switches(adapter)}
            if name not in self._switches and create:
                self._switches[name] = pvm_net.VSwitch.bld(
                    adapter, name).create(parent_type=pvm_ms.System,
                                          parent_uuid=adapter.sys_uuid)
            return self._switches.get(name)

    def forget_switches(self):
        with self._lock:
            self._switches = None


# One per Adapter (a NovaLink session), gone with it.
_HOST_NETWORKS = weakref.WeakKeyDictionary()
_HOST_NETWORKS_LOCK = threading.Lock()


def _host_network(adapter):
    with _HOST_NETWORKS_LOCK:
        host_net = _HOST_NETWORKS.get(adapter)
        if host_net is None:
            host_net = _HOST_NETWORKS[adapter] = _HostNetwork()
        return host_net


def _read_switches(adapter):
    return pvm_net.VSwitch.get(adapter, parent_type=pvm_ms.System,
                               parent_uuid=adapter.sys_uuid)


def _switch_id(adapter, name):
    """The ID of the virtual switch called ``name``, or None."""
    vswitch = _host_network(adapter).vswitch(adapter, name)
    return None if vswitch is None else vswitch.switch_id


def _vswitch(adapter, name, create=False):
    """The virtual switch called ``name`` (made if ``create``), for a new
    adapter to name (its ``related_href``).

    :raises VirtualInterfacePlugException: there is no such switch.
    """
    vswitch = _host_network(adapter).vswitch(adapter, name, create=create)
    if vswitch is None:
        raise exception.VirtualInterfacePlugException(
            'The host has no virtual switch %s.' % name)
    return vswitch


def _used_vlans(adapter, vswitch_w):
    """The VLANs adapters use on the switch: NovaLink keeps a virtual
    network for each VLAN in use, so one feed read tells."""
    return {vnet.vlan for vnet in pvm_net.VNet.get(
        adapter, parent_type=pvm_ms.System, parent_uuid=adapter.sys_uuid)
        if vnet.associated_switch_uri == vswitch_w.related_href}


class _VlanChooser:
    """Chooses the VLAN of each OVS VIF's link on the NovaLink switch
    without a lock held over REST calls, so that deploys plug at once.

    A VLAN is taken once its trunk adapter exists, but only a read of the
    switch's VLANs begun after the trunk was made shows it.  So a VLAN
    chosen here stays reserved while its trunk is being made, and after
    that until a read begun later has been seen (a failed trunk leaves
    its VLAN free to such a read).
    """

    def __init__(self):
        self._lock = threading.Lock()
        # Trunks made (or failed) so far: what a read begun now shows.
        self._trunks_done = 0
        # VLAN -> _trunks_done once its trunk was done, None until then.
        self._reserved = {}

    def reserve(self, adapter, vswitch_w):
        """Read the switch's VLANs and reserve the lowest free one.

        :raises VirtualInterfacePlugException: no VLAN is free.
        """
        with self._lock:
            read_began = self._trunks_done
        used = _used_vlans(adapter, vswitch_w)
        with self._lock:
            for vlan, done in list(self._reserved.items()):
                if done is not None and done <= read_began:
                    del self._reserved[vlan]
            taken = used | set(self._reserved)
            for vlan in range(1, MGMT_VLAN):
                if vlan not in taken:
                    self._reserved[vlan] = None
                    return vlan
        raise exception.VirtualInterfacePlugException(
            'No free VLAN is left on virtual switch %s.' % vswitch_w.name)

    def trunk_done(self, vlan):
        """The trunk on ``vlan`` was made, or failed to be."""
        with self._lock:
            self._trunks_done += 1
            self._reserved[vlan] = self._trunks_done


def _switch_ids(adapter):
    """Virtual switch name -> ID, from one read."""
    return {vswitch.name: vswitch.switch_id
            for vswitch in _read_switches(adapter)}


# ----------------------------------------------------------- drivers
class VifDriver(abc.ABC):
    """Plugs and unplugs one type of VIF on one instance's LPAR."""

    vif_type = None

    def __init__(self, adapter, instance, platform=None, lpar_w=None):
        """:param platform: the mgmt.Platform nova-compute runs on.
        :param lpar_w: the LPAR's wrapper, if the caller has it: new
                       adapters name it as their parent, else pypowervm
                       reads the LPAR for each.
        """
        self.adapter = adapter
        self.instance = instance
        self.platform = platform
        self.lpar_w = lpar_w

    @property
    def lpar_uuid(self):
        return vm.get_pvm_uuid(self.instance)

    def _create_client_adapter(self, cna_w):
        """Create ``cna_w`` on the instance's LPAR."""
        return _create_on_lpar(cna_w, self.instance, self.lpar_w)

    def plug(self, vif, cnas):
        """Give the LPAR the VIF's adapter unless ``cnas`` already hold it.

        :param cnas: the LPAR's CNAs (``get_cnas``).
        :returns: whether an adapter was created.
        :raises VirtualInterfacePlugException: NovaLink refused; nothing
                of the VIF is left on the host.
        """
        self.check(vif)
        existing = find_cna(cnas, vif['address'])
        if existing is not None:
            LOG.debug('VIF %s is already on the LPAR (slot %s).', vif['id'],
                      existing.slot, instance=self.instance)
            self._replug(vif, existing)
            return False
        LOG.info('Plugging %s VIF %s (%s).', self.vif_type, vif['id'],
                 vif['address'], instance=self.instance)
        try:
            self._create(vif)
        except Exception as exc:
            # A switch deleted and made again has a new ID.
            _host_network(self.adapter).forget_switches()
            self._remove_leftovers(vif)
            if isinstance(exc, exception.NovaException):
                raise
            raise exception.VirtualInterfacePlugException(
                'Could not plug %s VIF %s: %s' % (
                    self.vif_type, vif['id'], exc)) from exc
        return True

    def unplug(self, vif, cnas):
        """Remove the VIF's adapter (one already gone is fine).

        :raises VirtualInterfaceUnplugException: NovaLink refused.
        """
        cna = find_cna(cnas, vif['address'])
        if cna is None:
            LOG.info('VIF %s is not on the LPAR; nothing to unplug.',
                     vif['id'], instance=self.instance)
            return
        LOG.info('Unplugging %s VIF %s (%s).', self.vif_type, vif['id'],
                 vif['address'], instance=self.instance)
        try:
            self._delete(cna)
        except pvm_exc.Error as exc:
            raise exception.VirtualInterfaceUnplugException(
                reason='VIF %s: %s' % (vif['id'], exc)) from exc

    @classmethod
    def check(cls, vif):
        """Refuse a VIF that cannot be plugged, before anything is made.

        :raises VirtualInterfacePlugException: saying what is wrong.
        """
        try:
            pvm_mac(vif['address'])
        except (KeyError, ValueError):
            raise exception.VirtualInterfacePlugException(
                'VIF %s has no valid MAC address (%r).' % (
                    vif.get('id'), vif.get('address'))) from None

    @abc.abstractmethod
    def _create(self, vif):
        """Make the VIF's adapters."""

    def _replug(self, vif, cna):
        """Re-establish what lives outside NovaLink for an existing CNA."""
        LOG.debug('VIF %s has nothing outside NovaLink to re-plug.',
                  vif['id'], instance=self.instance)

    def _delete(self, cna):
        _delete_adapter(cna)

    def _remove_leftovers(self, vif):
        """Remove whatever a failed plug may have made (best effort).

        A create whose answer was lost may still have happened.
        """
        try:
            cna = find_cna(get_cnas(self.adapter, self.instance),
                           vif['address'])
            if cna is not None:
                self._delete(cna)
        except Exception:
            LOG.exception('Could not clean up after the failed plug of VIF '
                          '%s.', vif['id'], instance=self.instance)


class SeaVifDriver(VifDriver):
    """``pvm_sea``: a CNA on the port's VLAN of the default switch."""

    vif_type = VIF_TYPE_SEA

    @classmethod
    def check(cls, vif):
        super().check(vif)
        sea_vlan(vif)

    def _create(self, vif):
        vswitch_w = _vswitch(self.adapter, pvm_net.VSW_DEFAULT_VSWITCH)
        self._create_client_adapter(pvm_net.CNA.bld(
            self.adapter, sea_vlan(vif), vswitch_w.related_href,
            mac_addr=pvm_mac(vif['address'])))


class OvsVifDriver(VifDriver):
    """``ovs``: a point-to-point VLAN between the CNA and a trunk adapter
    on the NovaLink partition whose device is an Open vSwitch port."""

    vif_type = VIF_TYPE_OVS

    def _create(self, vif):
        # pypowervm's crt_p2p_cna does the same in twice the REST calls,
        # holding its VLAN lock throughout: concurrent spawns queued.
        vswitch_w, trunk = self._create_trunk(vif)
        self._create_client_adapter(pvm_net.CNA.bld(
            self.adapter, trunk.pvid, vswitch_w.related_href,
            mac_addr=pvm_mac(vif['address'])))
        self._plug_edge(vif, trunk.dev_name)

    def _create_trunk(self, vif):
        """Make the VIF's trunk adapter on the NovaLink partition, on a
        free VLAN of the NovaLink I/O switch; returns the switch and the
        trunk."""
        vswitch_w = _vswitch(self.adapter,
                             CONF.powervm.pvm_vswitch_for_novalink_io,
                             create=True)
        host_net = _host_network(self.adapter)
        mgmt_w = host_net.mgmt_partition(self.adapter)
        vlan = host_net.vlans.reserve(self.adapter, vswitch_w)
        try:
            trunk = pvm_net.CNA.bld(
                self.adapter, vlan, vswitch_w.related_href, trunk_pri=1,
                dev_name=trunk_device_name(vif), ovs_bridge=ovs_bridge(vif),
                ovs_ext_ids=ovs_external_ids(vif, self.instance),
                configured_mtu=_network_meta(vif, 'mtu')).create(
                    parent=mgmt_w)
        finally:
            host_net.vlans.trunk_done(vlan)
        return vswitch_w, trunk

    def receive(self, vif):
        """Ready this host for the VIF of an LPAR that migrates here:
        its trunk adapter and Open vSwitch port, on a VLAN free here.

        :returns: the VLAN, to which the migration moves the client
                  adapter.
        :raises VirtualInterfacePlugException: NovaLink refused; nothing
                of the VIF is left on the host.
        """
        LOG.info('Making the trunk adapter of VIF %s for the incoming '
                 'LPAR.', vif['id'], instance=self.instance)
        try:
            _vswitch_w, trunk = self._create_trunk(vif)
            self._plug_edge(vif, trunk.dev_name)
        except Exception as exc:
            _host_network(self.adapter).forget_switches()
            self.release(vif)
            raise exception.VirtualInterfacePlugException(
                'Could not make the trunk adapter of VIF %s: %s' % (
                    vif['id'], exc)) from exc
        return trunk.pvid

    def release(self, vif):
        """Remove what ``receive`` made (best effort: logged)."""
        try:
            remove_trunks_named(self.adapter, trunk_device_name(vif),
                                self.platform)
        except Exception:
            LOG.exception('Could not remove the trunk adapter of VIF %s.',
                          vif['id'], instance=self.instance)

    def _plug_edge(self, vif, dev_name):
        self.platform.plug_ovs_port(
            self.adapter, ovs_bridge(vif), dev_name, ovs_interface_id(vif),
            nova_mac(vif['address']), self.instance.uuid)

    def _replug(self, vif, cna):
        # After a reboot of the NovaLink partition its OVS ports may be
        # gone although NovaLink kept the trunk adapters.
        for trunk in pvm_cna.find_trunks(self.adapter, cna):
            self._plug_edge(vif, trunk.dev_name)

    def _delete(self, cna):
        # The client adapter first: when NovaLink refuses that (a running
        # LPAR without RMC), the VIF still works.
        trunks = own_trunks(self.adapter, cna)
        _delete_adapter(cna)
        for trunk in trunks:
            _remove_trunk(self.adapter, trunk, self.platform)

    def _remove_leftovers(self, vif):
        super()._remove_leftovers(vif)
        # The trunk is made first: it outlives a client adapter that
        # NovaLink refused.
        self.release(vif)


VIF_DRIVERS = {driver.vif_type: driver
               for driver in (SeaVifDriver, OvsVifDriver)}


def _driver_class(vif):
    vif_type = vif.get('type')
    try:
        return VIF_DRIVERS[vif_type]
    except KeyError:
        raise exception.VirtualInterfacePlugException(
            'VIF %s has type %r, which the PowerVM driver does not support '
            '(supported: %s).' % (vif.get('id'), vif_type,
                                  ', '.join(sorted(VIF_DRIVERS)))) from None


def driver_for(adapter, instance, vif, platform=None, lpar_w=None):
    """The VifDriver for ``vif``'s type.

    :raises VirtualInterfacePlugException: the type is not supported.
    """
    return _driver_class(vif)(adapter, instance, platform=platform,
                              lpar_w=lpar_w)


def check_supported(network_info):
    """Refuse VIFs the driver cannot plug (their type, MAC or VLAN),
    before anything is made.

    :raises VirtualInterfacePlugException: naming the first such VIF.
    """
    for vif in network_info or ():
        _driver_class(vif).check(vif)


# ------------------------------------------------------------ trunks
def _create_on_lpar(cna_w, instance, lpar_w=None):
    """Create the client adapter ``cna_w`` on ``instance``'s LPAR.

    Given the LPAR's wrapper, pypowervm needs no read of the LPAR to pick
    the adapter's slot.
    """
    if lpar_w is not None:
        return cna_w.create(parent=lpar_w)
    return cna_w.create(parent_type=pvm_lpar.LPAR,
                        parent_uuid=vm.get_pvm_uuid(instance))


def _delete_adapter(cna):
    try:
        cna.delete()
    except pvm_exc.HttpNotFound:
        LOG.debug('Adapter %s was already deleted.', cna.uuid)


def own_trunks(adapter, cna):
    """The trunk adapters serving ``cna`` alone.

    Only a CNA on the NovaLink I/O switch has trunks of its own; on any
    other switch the trunks with its VLAN belong to a Shared Ethernet
    Adapter and must stay.
    """
    if cna.vswitch_id != _switch_id(
            adapter, CONF.powervm.pvm_vswitch_for_novalink_io):
        return []
    return pvm_cna.find_trunks(adapter, cna)


def remove_trunks_named(adapter, dev_name, platform):
    """Delete the NovaLink partition's OVS trunk adapters named
    ``dev_name`` (those of a plug that did not finish)."""
    switch_id = _switch_id(adapter, CONF.powervm.pvm_vswitch_for_novalink_io)
    if switch_id is None:
        return
    mgmt_w = _host_network(adapter).mgmt_partition(adapter)
    for trunk in pvm_net.CNA.get(adapter, parent=mgmt_w):
        if trunk.is_trunk and trunk.dev_name == dev_name and \
                trunk.vswitch_id == switch_id:
            _remove_trunk(adapter, trunk, platform)


def _remove_trunk(adapter, trunk, platform):
    LOG.info('Deleting trunk adapter %s.', trunk.dev_name)
    if trunk.ovs_bridge and trunk.dev_name:
        platform.unplug_ovs_port(adapter, trunk.ovs_bridge, trunk.dev_name)
    _delete_adapter(trunk)


# ------------------------------------------------------- whole LPAR
def plug(adapter, instance, vif, cnas, platform, lpar_w=None):
    """Plug one VIF; returns whether an adapter was created.

    :param lpar_w: the LPAR's wrapper, if the caller has it (saves a read
                   per adapter made).
    """
    return driver_for(adapter, instance, vif, platform,
                      lpar_w=lpar_w).plug(vif, cnas)


def unplug(adapter, instance, vif, cnas, platform):
    """Unplug one VIF (of any type, even one no longer supported)."""
    vif_type = vif.get('type')
    cls = VIF_DRIVERS.get(vif_type)
    if cls is None:
        # Whatever made it, its adapter is a CNA found by MAC; trunks go
        # with it if it sits on the OVS switch.
        cls = OvsVifDriver
    cls(adapter, instance, platform=platform).unplug(vif, cnas)


def unplug_all(adapter, instance, platform):
    """Remove every VIF adapter of the LPAR and the trunks serving them.

    The management adapter stays: it goes with the LPAR.

    :raises VirtualInterfaceUnplugException: NovaLink refused.
    """
    switch_ids = _switch_ids(adapter)
    mgmt_switch_id = switch_ids.get(MGMT_VSWITCH)
    ovs_switch_id = switch_ids.get(CONF.powervm.pvm_vswitch_for_novalink_io)
    for cna in get_cnas(adapter, instance):
        if cna.vswitch_id == mgmt_switch_id:
            continue
        LOG.info('Unplugging the adapter with MAC %s.', nova_mac(cna.mac),
                 instance=instance)
        try:
            trunks = (pvm_cna.find_trunks(adapter, cna)
                      if cna.vswitch_id == ovs_switch_id else [])
            # The trunks first: their client adapter is how a destroy tried
            # again finds them, should a delete fail or lose its answer.
            for trunk in trunks:
                _remove_trunk(adapter, trunk, platform)
            _delete_adapter(cna)
        except pvm_exc.Error as exc:
            raise exception.VirtualInterfaceUnplugException(
                reason='adapter %s: %s' % (nova_mac(cna.mac), exc)) from exc


# ------------------------------------------------------- management
def plug_mgmt_vif(adapter, instance, cnas, lpar_w=None):
    """Give the LPAR its RMC management adapter unless it has one.

    :param lpar_w: the LPAR's wrapper, if the caller has it.
    :returns: the management CNA's wrapper and whether it was created.
    :raises VirtualInterfacePlugException: NovaLink refused.
    """
    existing = find_mgmt_cna(adapter, cnas)
    if existing is not None:
        return existing, False
    LOG.info('Creating the RMC management adapter.', instance=instance)
    try:
        vswitch_w = _vswitch(adapter, MGMT_VSWITCH, create=True)
        cna = _create_on_lpar(
            pvm_net.CNA.bld(adapter, MGMT_VLAN, vswitch_w.related_href),
            instance, lpar_w)
    except pvm_exc.Error as exc:
        _host_network(adapter).forget_switches()
        raise exception.VirtualInterfacePlugException(
            'Could not create the RMC management adapter: %s' % exc
        ) from exc
    return cna, True


def find_mgmt_cna(adapter, cnas):
    """The LPAR's RMC management adapter among ``cnas``, or None."""
    if not cnas:
        return None
    switch_id = _switch_id(adapter, MGMT_VSWITCH)
    for cna in cnas:
        if cna.vswitch_id == switch_id and cna.pvid == MGMT_VLAN:
            return cna
    return None


def delete_mgmt_vif(instance, cna):
    """Delete the management adapter ``cna`` (already gone is fine)."""
    LOG.info('Deleting the RMC management adapter.', instance=instance)
    _delete_adapter(cna)
