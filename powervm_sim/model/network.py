"""Virtual networking: virtual switches, the virtual networks (VLANs) on
them, client network adapters (CNAs) and trunk adapters, and the Shared
Ethernet Adapters (SEAs) and network bridges that carry VLANs out through
a VIOS's physical port.

A trunk adapter is a CNA with a trunk priority.  Only a VIOS or the
NovaLink partition may host one: on a VIOS it may belong to a SEA, on the
NovaLink partition it carries Open vSwitch or RMC traffic.

NovaLink is not "virtual network aware": a VirtualNetwork exists for every
VLAN an adapter uses on a switch (realized here as adapters come and go),
besides those a client created explicitly.  A NetworkBridge has one SEA per
VIOS (two for failover); its load groups are the SEAs' trunk adapters
grouped by port VLAN, derived rather than stored.  An update of a bridge is
desired state, all or nothing: either the SEAs' trunk adapter lists as
posted (what pypowervm edits on NovaLink) or the load groups as posted
(what it edits on an HMC).
"""

import dataclasses
import re
import typing

from powervm_sim.model import partition as part_mod
from powervm_sim.model import registry

MAX_VLAN = 4094
MAX_VSWITCHES = 16
MAX_TRUNK_PRIORITY = 15
# Additional (tagged) VLANs one virtual Ethernet adapter can carry.
MAX_TAGGED_VLANS = 20
# Trunk adapters of one SEA: the primary and 15 additional ones.
MAX_SEA_TRUNKS = 16
DEFAULT_MTU = 1500
VEB = 'Veb'
VEPA = 'Vepa'
SWITCH_MODES = (VEB, VEPA)
# Each VIOS's Ethernet card has four ports (ent0-ent3); virtual adapters
# and SEAs are named after them.
PHYSICAL_PORTS = 4
_MAC = re.compile(r'^[0-9A-F]{12}$')

# Codes the simulator chose for failures pypowervm does not inspect.
UNKNOWN_SWITCH = 'HSCL1A02'
BAD_VLAN = 'HSCL1A05'
BAD_MAC = 'HSCL1A06'
DUPLICATE_MAC = 'HSCL1A07'
TRUNK_NOT_ALLOWED = 'HSCL1A08'
BAD_TRUNK_PRIORITY = 'HSCL1A09'
DUPLICATE_NETWORK = 'HSCL1A0A'
NETWORK_IN_USE = 'HSCL1A0B'
BAD_SWITCH = 'HSCL1A0C'
ADAPTER_IN_USE = 'HSCL1A0D'
BAD_BRIDGE = 'HSCL1A0E'
NO_DLPAR = 'HSCL1A0F'
DUPLICATE_DEVICE = 'HSCL1A10'
NO_FREE_SLOT = 'HSCL294E'


def _refusal(message, code, status=400):
    """The error refusing a request (``_bad`` raises it at once)."""
    return registry.Conflict(message, code=code, status=status)


def _bad(message, code, status=400):
    raise _refusal(message, code, status)


def _uuid_of(href):
    """The UUID at the end of a link (query string ignored)."""
    path = (href or '').split('?', 1)[0].rstrip('/')
    return path.rsplit('/', 1)[-1].lower()


@dataclasses.dataclass(kw_only=True, eq=False)
class VirtualSwitch(registry.Resource):
    kind: typing.ClassVar[str] = 'VirtualSwitch'

    switch_id: int
    name: str
    mode: str = VEB
    # The VLANs defined on the switch and the bridges that carry some of
    # them to a physical network.
    networks: list = dataclasses.field(default_factory=list, repr=False)
    bridges: list = dataclasses.field(default_factory=list, repr=False)

    @property
    def vnet_hrefs(self):
        return [vnet.href for vnet in self.networks]

    def network(self, vlan):
        for vnet in self.networks:
            if vnet.vlan == vlan:
                return vnet
        return None


@dataclasses.dataclass(kw_only=True, eq=False)
class VirtualNetwork(registry.Resource):
    """A VLAN on a virtual switch."""

    kind: typing.ClassVar[str] = 'VirtualNetwork'

    name: str
    vlan: int
    vswitch: VirtualSwitch = dataclasses.field(repr=False)
    # Tagged: the VLAN tag stays on packets leaving the system.
    tagged: bool = False
    # Realized by the model for a VLAN in use (and gone with its last
    # user), rather than created by a client.
    realized: bool = False

    @property
    def vswitch_href(self):
        return self.vswitch.href

    @property
    def vswitch_id(self):
        return self.vswitch.switch_id


@dataclasses.dataclass(kw_only=True, eq=False)
class CNA(registry.Resource):
    kind: typing.ClassVar[str] = 'ClientNetworkAdapter'

    slot: int
    mac: str
    vswitch: VirtualSwitch = dataclasses.field(default=None, repr=False)
    pvid: int = 1
    tagged_vlans: tuple = ()
    tagged_vlans_supported: bool = False
    trunk_priority: int | None = None
    enabled: bool = True
    mtu: int = DEFAULT_MTU
    ovs_bridge: str | None = None
    ovs_ext_ids: str | None = None
    device_name: str | None = None
    # What RMC reports of the interface's IP configuration.
    ip_address: str | None = None
    subnet_mask: str | None = None
    gateway: str | None = None
    # Request-only switches: the slot is always reported explicitly.
    use_next_slot = None
    use_next_high_slot = None

    @property
    def is_trunk(self):
        return self.trunk_priority is not None

    @property
    def owner(self):
        return self.parent

    @property
    def location_code(self):
        return self.parent.location_code(self.slot)

    @property
    def vswitch_id(self):
        return self.vswitch.switch_id

    @property
    def vswitch_href(self):
        return self.vswitch.href

    @property
    def vlans(self):
        return (self.pvid,) + tuple(self.tagged_vlans)

    @property
    def tagged_vlan_text(self):
        # An adapter that takes tagged VLANs shows the (maybe empty) list;
        # one that does not leaves the element out.
        if not self.tagged_vlans_supported and not self.tagged_vlans:
            return None
        return ' '.join(str(v) for v in self.tagged_vlans)

    @property
    def vnet_hrefs(self):
        found = (self.vswitch.network(vlan) for vlan in self.vlans)
        return [vnet.href for vnet in found if vnet is not None]


@dataclasses.dataclass(kw_only=True, eq=False)
class IPInterface:
    """An IP interface (enN) configured on a VIOS device."""

    name: str
    address: str | None = None
    netmask: str | None = None
    state: str = 'Active'


@dataclasses.dataclass(kw_only=True, eq=False)
class EthernetPort:
    """A physical Ethernet port of a VIOS (entN), backing a SEA."""

    device_name: str
    location_code: str
    description: str = ('4-Port Gigabit Ethernet PCI-Express Adapter '
                        '(e414571614102004)')
    adapter_id: int = 1
    ip_interface: IPInterface | None = None

    @property
    def udid(self):
        return '13' + self.location_code


@dataclasses.dataclass(kw_only=True, eq=False)
class SharedEthernetAdapter:
    """A VIOS device bridging trunk adapters to a physical port.

    ``trunks`` holds the primary trunk adapter (the one whose port VLAN is
    the SEA's) first.
    """

    vios: part_mod.VIOS = dataclasses.field(repr=False)
    device_name: str
    port: EthernetPort
    trunks: list = dataclasses.field(default_factory=list)
    udid: str
    is_primary: bool = True
    ha_mode: str = 'disabled'
    control_channel: str | None = None
    ip_interface: IPInterface | None = None

    @property
    def vios_href(self):
        return self.vios.href

    @property
    def primary(self):
        return self.trunks[0]

    @property
    def pvid(self):
        return self.primary.pvid

    @property
    def vswitch(self):
        return self.primary.vswitch

    def vlans(self):
        return {vlan for trunk in self.trunks for vlan in trunk.vlans}


@dataclasses.dataclass(kw_only=True, eq=False)
class LoadGroup:
    """Trunk adapters (one per SEA) sharing a port VLAN: computed for each
    rendering of a bridge, never stored."""

    pvid: int
    trunks: list
    tagged: tuple

    @property
    def vnet_hrefs(self):
        vswitch = self.trunks[0].vswitch
        found = (vswitch.network(vlan) for vlan in (self.pvid,) + self.tagged)
        return [vnet.href for vnet in found if vnet is not None]


@dataclasses.dataclass(kw_only=True, eq=False)
class NetworkBridge(registry.Resource):
    """The SEAs (one per VIOS) that bridge one switch's VLANs."""

    kind: typing.ClassVar[str] = 'NetworkBridge'

    seas: list = dataclasses.field(default_factory=list)
    udid: str = '0'
    control_channel_id: int | None = None
    load_balance: bool = False

    @property
    def vswitch(self):
        return self.seas[0].vswitch

    @property
    def pvid(self):
        return self.seas[0].pvid

    @property
    def failover(self):
        return len(self.seas) > 1

    @property
    def load_groups(self):
        groups = []
        for trunk in self.seas[0].trunks:
            peers = [peer for sea in self.seas[1:] for peer in sea.trunks
                     if peer.pvid == trunk.pvid]
            groups.append(LoadGroup(pvid=trunk.pvid, trunks=[trunk] + peers,
                                    tagged=tuple(trunk.tagged_vlans)))
        return groups

    @property
    def vnet_hrefs(self):
        hrefs = [href for group in self.load_groups
                 for href in group.vnet_hrefs]
        return list(dict.fromkeys(hrefs))

    def vlans(self):
        return set().union(*(sea.vlans() for sea in self.seas))


@dataclasses.dataclass(kw_only=True, eq=False)
class _TrunkPlan:
    """One trunk adapter of a SEA as a bridge update wants it (transient:
    built and applied within one update)."""

    existing: CNA | None
    pvid: int
    tagged: tuple
    supported: bool
    priority: int
    vswitch: VirtualSwitch
    slot: int | None = None
    mac: str | None = None
    device_name: str | None = None

    @property
    def vlans(self):
        return (self.pvid,) + self.tagged

    def signature(self):
        slot = self.existing.slot if self.existing is not None else 0
        return (slot, self.pvid, tuple(sorted(self.tagged)))


def _current_plan(trunk):
    return _TrunkPlan(existing=trunk, pvid=trunk.pvid,
                      tagged=tuple(trunk.tagged_vlans),
                      supported=trunk.tagged_vlans_supported,
                      priority=trunk.trunk_priority, vswitch=trunk.vswitch)


def _signatures(plans):
    return sorted(plan.signature() for plan in plans)


# ------------------------------------------------------------ validation

def _parse_vlans(text):
    items = text if isinstance(text, (tuple, list)) else (text or '').split()
    try:
        return tuple(int(v) for v in items)
    except ValueError:
        raise _refusal('Tagged VLAN list %r is not a list of numbers.' %
                       (text,), BAD_VLAN) from None


def _check_vlan(vlan):
    if not isinstance(vlan, int) or not 1 <= vlan <= MAX_VLAN:
        _bad('VLAN %s is outside 1-%d.' % (vlan, MAX_VLAN), BAD_VLAN)


def _check_vlans(pvid, tagged, supported):
    for vlan in (pvid,) + tuple(tagged):
        _check_vlan(vlan)
    if tagged and not supported:
        _bad('Tagged VLANs %s need TaggedVLANSupported set.' % (
            ' '.join(str(v) for v in tagged)), BAD_VLAN)
    if len(tagged) > MAX_TAGGED_VLANS:
        _bad('An adapter carries at most %d tagged VLANs (%d given).' % (
            MAX_TAGGED_VLANS, len(tagged)), BAD_VLAN)
    if pvid in tagged or len(set(tagged)) != len(tagged):
        _bad('VLANs %s of one adapter must all differ.' % (
            ' '.join(str(v) for v in (pvid,) + tuple(tagged))), BAD_VLAN)


def _check_priority(priority):
    if not isinstance(priority, int) or \
            not 1 <= priority <= MAX_TRUNK_PRIORITY:
        _bad('Trunk priority %s is outside 1-%d.' % (
            priority, MAX_TRUNK_PRIORITY), BAD_TRUNK_PRIORITY)


def _check_trunk_host(part):
    # The hypervisor bridges only through a VIOS; NovaLink also lets its
    # own partition host trunks (for Open vSwitch).
    if not (part.is_vios or part.is_mgmt):
        _bad('Partition %s is neither a Virtual I/O Server nor the '
             'management partition, so it cannot host a trunk adapter.' %
             part.name, TRUNK_NOT_ALLOWED)


def _check_dlpar(part):
    """Adapters of a running partition change only through RMC."""
    if part.state == part_mod.NOT_ACTIVATED:
        return
    if part.state != part_mod.RUNNING or part.rmc_state != 'active':
        _bad('The virtual adapters of partition %s cannot change while it '
             'is %s with RMC %s.' % (part.name, part.state, part.rmc_state),
             NO_DLPAR, status=409)


def _normalised_mac(text):
    mac = re.sub('[:.-]', '', str(text).strip()).upper()
    if not _MAC.match(mac):
        _bad('%r is not a MAC address (12 hexadecimal digits).' % text,
             BAD_MAC)
    return mac


def _free_slot(part, taken=(), high=False):
    """The slot a 'next available (high) slot' request gets."""
    used = part.used_slots() | set(taken)
    if high:
        # Next above every slot in use, as NovaLink assigns high slots.
        slot = max(used | {part_mod.FIRST_FREE_SLOT - 1}) + 1
        if slot < part.max_virtual_io_slots:
            return slot
    for slot in range(part_mod.FIRST_FREE_SLOT, part.max_virtual_io_slots):
        if slot not in used:
            return slot
    raise _refusal('Partition %s has no free virtual slot.' % part.name,
                   NO_FREE_SLOT)


def _switch_named(system, name):
    for vswitch in system.vswitches:
        if vswitch.name == name:
            return vswitch
    raise registry.NotFound('VirtualSwitch %s' % name)


class NetworkOps:
    """Network behaviour of the model (mixed into ``Model``)."""

    # ----------------------------------------------------------- switches
    def add_vswitch(self, system, name, switch_id=None, mode=VEB):
        with self.registry.lock:
            name = (name or '').strip()
            if not name:
                _bad('A virtual switch needs a name.', BAD_SWITCH)
            if any(v.name == name for v in system.vswitches):
                _bad('Virtual switch %s already exists.' % name, BAD_SWITCH,
                     status=409)
            if mode not in SWITCH_MODES:
                _bad('Switch mode %r is not one of %s.' % (
                    mode, ', '.join(SWITCH_MODES)), BAD_SWITCH)
            used = {v.switch_id for v in system.vswitches}
            if switch_id is None:
                free = [i for i in range(MAX_VSWITCHES) if i not in used]
                if not free:
                    _bad('The managed system already has %d virtual '
                         'switches.' % MAX_VSWITCHES, BAD_SWITCH, status=409)
                switch_id = free[0]
            elif switch_id in used:
                _bad('Virtual switch ID %d is in use.' % switch_id,
                     BAD_SWITCH, status=409)
            vswitch = VirtualSwitch(parent=system, switch_id=switch_id,
                                    name=name, mode=mode)
            system.vswitches.append(vswitch)
            self.registry.add(vswitch)
            self._system_network_changed(system)
            return vswitch

    def create_vswitch(self, system, fields):
        return self.add_vswitch(system, fields.get('name'),
                                mode=fields.get('mode') or VEB)

    def vswitch_by_href(self, system, href):
        wanted = _uuid_of(href)
        for vswitch in system.vswitches:
            if vswitch.uuid.lower() == wanted:
                return vswitch
        raise _refusal('Virtual switch %s does not exist on the managed '
                       'system.' % href, UNKNOWN_SWITCH)

    def vswitch_by_id(self, system, switch_id):
        for vswitch in system.vswitches:
            if vswitch.switch_id == switch_id:
                return vswitch
        raise _refusal('Virtual switch %s does not exist on the managed '
                       'system.' % switch_id, UNKNOWN_SWITCH)

    def _vswitch_of(self, system, fields, default=None):
        """The switch a body names by link or ID (they must agree)."""
        href, switch_id = fields.get('vswitch_href'), fields.get('vswitch_id')
        if href:
            vswitch = self.vswitch_by_href(system, href)
            if switch_id is not None and switch_id != vswitch.switch_id:
                _bad('Virtual switch ID %d does not match the linked switch '
                     '%s (ID %d).' % (switch_id, vswitch.name,
                                      vswitch.switch_id), UNKNOWN_SWITCH)
            return vswitch
        if switch_id is not None:
            return self.vswitch_by_id(system, switch_id)
        if default is None:
            _bad('No virtual switch given (AssociatedVirtualSwitch or '
                 'VirtualSwitchID).', UNKNOWN_SWITCH)
        return default

    # ----------------------------------------------------------- networks
    def virtual_networks(self, system):
        return [vnet for vswitch in system.vswitches
                for vnet in vswitch.networks]

    def create_virtual_network(self, system, fields):
        with self.registry.lock:
            vswitch = self._vswitch_of(system, fields)
            vlan = fields.get('vlan')
            if vlan is None:
                _bad('A virtual network needs a NetworkVLANID.', BAD_VLAN)
            _check_vlan(vlan)
            name = (fields.get('name') or '').strip()
            if not name:
                _bad('A virtual network needs a NetworkName.',
                     DUPLICATE_NETWORK)
            existing = vswitch.network(vlan)
            if existing is not None:
                _bad('VLAN %d already has virtual network %s on switch %s.'
                     % (vlan, existing.name, vswitch.name), DUPLICATE_NETWORK,
                     status=409)
            vnet = VirtualNetwork(parent=system, name=name, vlan=vlan,
                                  vswitch=vswitch,
                                  tagged=bool(fields.get('tagged', False)))
            vswitch.networks.append(vnet)
            self.registry.add(vnet)
            self.registry.changed(vswitch)
            self._system_network_changed(system)
            return vnet

    def delete_virtual_network(self, vnet):
        with self.registry.lock:
            users = [a for a in self._system_cnas(vnet.parent)
                     if a.vswitch is vnet.vswitch and vnet.vlan in a.vlans]
            if users:
                _bad('Virtual network %s is in use by the adapter in slot %d '
                     'of partition %s.' % (vnet.name, users[0].slot,
                                           users[0].parent.name),
                     NETWORK_IN_USE, status=409)
            self._drop_network(vnet)
            self.registry.changed(vnet.vswitch)
            self._system_network_changed(vnet.parent)

    def sync_virtual_networks(self, system):
        """Realize a VirtualNetwork for each VLAN in use on each switch of
        ``system`` and drop realized ones nothing uses any more."""
        with self.registry.lock:
            in_use = self._vlans_in_use(system)
            changed = [vswitch for vswitch in system.vswitches
                       if self._sync_switch(system, vswitch,
                                            in_use.get(vswitch, {}))]
            for vswitch in changed:
                self.registry.changed(vswitch)
            if changed:
                self._system_network_changed(system)

    def _system_network_changed(self, system):
        # The system document links every switch, network and bridge.
        self.registry.changed(system)

    def _sync_switch(self, system, vswitch, in_use):
        changed = False
        for vnet in list(vswitch.networks):
            if vnet.realized and vnet.vlan not in in_use:
                self._drop_network(vnet)
                changed = True
        defined = {vnet.vlan for vnet in vswitch.networks}
        for vlan in sorted(set(in_use) - defined):
            # A trunk's port VLAN leaves the system untagged.
            vnet = VirtualNetwork(
                parent=system, name='VLAN%d-%s' % (vlan, vswitch.name),
                vlan=vlan, vswitch=vswitch, tagged=not in_use[vlan],
                realized=True)
            vswitch.networks.append(vnet)
            self.registry.add(vnet)
            changed = True
        return changed

    def _drop_network(self, vnet):
        vnet.vswitch.networks.remove(vnet)
        self.registry.remove(vnet)

    def _vlans_in_use(self, system):
        """switch -> {vlan: whether some trunk has it as port VLAN}."""
        in_use = {}
        for cna in self._system_cnas(system):
            if cna.vswitch is None or cna.vswitch.parent is not system:
                continue
            vlans = in_use.setdefault(cna.vswitch, {})
            vlans[cna.pvid] = vlans.get(cna.pvid, False) or cna.is_trunk
            for vlan in cna.tagged_vlans:
                vlans.setdefault(vlan, False)
        return in_use

    def _network_by_href(self, system, href):
        vnet = self.registry.find(_uuid_of(href))
        if vnet is None or vnet.kind != VirtualNetwork.kind or \
                vnet.parent is not system:
            _bad('Virtual network %s does not exist on the managed system.'
                 % href, BAD_BRIDGE)
        return vnet

    # ----------------------------------------------------------- adapters
    def cnas(self, part):
        return [a for a in part.adapters if a.kind == CNA.kind]

    def _system_cnas(self, system):
        return [a for part in system.partitions for a in self.cnas(part)]

    def create_cna(self, part, fields):
        """A CNA (a trunk adapter with a trunk priority) on ``part``.

        Besides what a client may send, the model's own callers may give
        the IP configuration RMC reports (ip_address, subnet_mask,
        gateway).
        """
        with self.registry.lock:
            system = part.parent
            vswitch = self._vswitch_of(system, fields)
            priority = fields.get('trunk_priority')
            if priority is not None:
                _check_trunk_host(part)
                _check_priority(priority)
            pvid = fields.get('pvid', 1)
            tagged = _parse_vlans(fields.get('tagged_vlan_text'))
            supported = fields.get('tagged_vlans_supported', bool(tagged))
            _check_vlans(pvid, tagged, supported)
            mac = self._new_mac(system, fields.get('mac'))
            device_name = self._new_device_name(part,
                                                fields.get('device_name'))
            slot = self._requested_slot(part, fields)
            _check_dlpar(part)
            cna = CNA(parent=part, slot=slot, mac=mac, vswitch=vswitch,
                      pvid=pvid, tagged_vlans=tagged,
                      tagged_vlans_supported=supported,
                      trunk_priority=priority,
                      enabled=fields.get('enabled', True),
                      mtu=fields.get('mtu') or DEFAULT_MTU,
                      ovs_bridge=fields.get('ovs_bridge') or None,
                      ovs_ext_ids=fields.get('ovs_ext_ids') or None,
                      device_name=device_name,
                      ip_address=fields.get('ip_address'),
                      subnet_mask=fields.get('subnet_mask'),
                      gateway=fields.get('gateway'))
            part.adapters.append(cna)
            # Networks first: the adapter's first rendering links them.
            self.sync_virtual_networks(system)
            self.registry.add(cna)
            # The partition document lists its adapters.
            self.registry.changed(part)
            return cna

    def update_cna(self, cna, fields):
        with self.registry.lock:
            system = cna.parent.parent
            wanted = self._cna_changes(cna, fields)
            _check_vlans(wanted['pvid'], wanted['tagged_vlans'],
                         wanted['tagged_vlans_supported'])
            bridging = ('pvid', 'tagged_vlans', 'vswitch', 'trunk_priority')
            if self._sea_of(cna) is not None and any(
                    wanted[name] != getattr(cna, name) for name in bridging):
                _bad('Trunk adapter %s belongs to a Shared Ethernet Adapter; '
                     'change it through its network bridge.' %
                     cna.location_code, ADAPTER_IN_USE, status=409)
            for name, value in wanted.items():
                setattr(cna, name, value)
            self.sync_virtual_networks(system)
            self.registry.changed(cna)
            if cna.is_trunk:
                # Trunk adapters are shown in their partition's document.
                self.registry.changed(cna.parent)
            return cna

    def _cna_changes(self, cna, fields):
        """Every updatable attribute, as the update would leave it."""
        wanted = {
            'pvid': fields.get('pvid', cna.pvid),
            'tagged_vlans': _parse_vlans(fields['tagged_vlan_text'])
            if 'tagged_vlan_text' in fields else cna.tagged_vlans,
            'tagged_vlans_supported': fields.get(
                'tagged_vlans_supported', cna.tagged_vlans_supported),
            'enabled': fields.get('enabled', cna.enabled),
            'mtu': fields.get('mtu') or cna.mtu,
            'vswitch': cna.vswitch,
            'trunk_priority': cna.trunk_priority,
        }
        for name in ('ovs_bridge', 'ovs_ext_ids'):
            wanted[name] = (fields[name] or None) if name in fields \
                else getattr(cna, name)
        if fields.get('vswitch_href'):
            wanted['vswitch'] = self.vswitch_by_href(cna.parent.parent,
                                                     fields['vswitch_href'])
        priority = fields.get('trunk_priority')
        if priority is not None:
            if not cna.is_trunk:
                _bad('The adapter in slot %d is not a trunk adapter and '
                     'cannot become one.' % cna.slot, TRUNK_NOT_ALLOWED)
            _check_priority(priority)
            wanted['trunk_priority'] = priority
        return wanted

    def delete_cna(self, cna):
        with self.registry.lock:
            part = cna.parent
            sea = self._sea_of(cna)
            if sea is not None:
                _bad('Trunk adapter %s belongs to Shared Ethernet Adapter %s '
                     'of %s.' % (cna.location_code, sea.device_name,
                                 part.name), ADAPTER_IN_USE, status=409)
            _check_dlpar(part)
            self.remove_adapter(cna)
            self.registry.changed(part)

    def remove_adapter(self, adapter):
        """Drop any virtual adapter from its partition (no checks)."""
        with self.registry.lock:
            part = adapter.parent
            part.adapters.remove(adapter)
            if adapter.kind == CNA.kind:
                self.sync_virtual_networks(part.parent)
            self.registry.remove(adapter)

    def _requested_slot(self, part, fields):
        if fields.get('use_next_slot'):
            return _free_slot(part)
        if fields.get('use_next_high_slot'):
            return _free_slot(part, high=True)
        if fields.get('slot') is not None:
            return part.allocate_slot(fields['slot'])
        return _free_slot(part)

    def _new_mac(self, system, wanted, taken=()):
        in_use = {a.mac for a in self._system_cnas(system)} | set(taken)
        if wanted:
            mac = _normalised_mac(wanted)
            if mac in in_use:
                _bad('MAC address %s is already in use on the managed '
                     'system.' % mac, DUPLICATE_MAC, status=409)
            return mac
        mac = self._next_mac()
        while mac in in_use:
            mac = self._next_mac()
        return mac

    def _next_mac(self):
        return '%012X' % next(self._macs)

    def _new_device_name(self, part, wanted, taken=()):
        """The OS device name of a new adapter on ``part``.

        A VIOS names every Ethernet device entN; the NovaLink partition
        takes the name a client asks for (pypowervm's dev_name) or the next
        ethN; the names inside other partitions are not known.
        """
        in_use = self._device_names(part) | set(taken)
        if part.has_physical_io:
            return _next_name('ent', PHYSICAL_PORTS, in_use)
        if not part.is_mgmt:
            return None
        if wanted:
            if wanted in in_use:
                _bad('Device %s already exists on partition %s.' % (
                    wanted, part.name), DUPLICATE_DEVICE, status=409)
            return wanted
        return _next_name('eth', 0, in_use)

    @staticmethod
    def _device_names(part):
        names = {a.device_name for a in part.adapters
                 if getattr(a, 'device_name', None)}
        for sea in getattr(part, 'seas', ()):
            names |= {sea.device_name, sea.port.device_name}
        return names

    @staticmethod
    def _sea_of(cna):
        for sea in getattr(cna.parent, 'seas', ()):
            if cna in sea.trunks:
                return sea
        return None

    # ------------------------------------------------------------ bridges
    def network_bridges(self, system):
        return [bridge for vswitch in system.vswitches
                for bridge in vswitch.bridges]

    def add_shared_ethernet_adapter(self, vios, vswitch, port,
                                    trunk_priority=1, pvid=1, address=None,
                                    netmask=None):
        """A SEA on ``vios`` bridging ``pvid`` of ``vswitch`` to ``port``
        through a new primary trunk adapter; ``address`` is the VIOS's IP
        on the SEA's interface."""
        with self.registry.lock:
            system = vios.parent
            trunk = CNA(parent=vios, slot=_free_slot(vios),
                        mac=self._new_mac(system, None), vswitch=vswitch,
                        pvid=pvid, trunk_priority=trunk_priority,
                        device_name=self._new_device_name(vios, None))
            vios.adapters.append(trunk)
            name = self._new_device_name(vios, None)
            interface = None
            if address:
                interface = IPInterface(name=name.replace('ent', 'en'),
                                        address=address, netmask=netmask)
            sea = SharedEthernetAdapter(
                vios=vios, device_name=name, port=port, trunks=[trunk],
                udid='10' + registry.new_uuid().replace('-', '')[:16],
                ip_interface=interface)
            vios.seas.append(sea)
            self.sync_virtual_networks(system)
            self.registry.add(trunk)
            self.registry.changed(vios)
            return sea

    def add_network_bridge(self, system, seas):
        """A bridge of ``seas`` (one per VIOS; the first is primary, more
        than one fail over)."""
        with self.registry.lock:
            for index, sea in enumerate(seas):
                sea.is_primary = index == 0
                sea.ha_mode = 'auto' if len(seas) > 1 else 'disabled'
            bridge = NetworkBridge(
                parent=system, seas=list(seas),
                udid=str(len(self.network_bridges(system))))
            bridge.vswitch.bridges.append(bridge)
            self.registry.add(bridge)
            self._system_network_changed(system)
            for sea in seas:
                self.registry.changed(sea.vios)
            return bridge

    def update_network_bridge(self, bridge, fields):
        """Make the bridge's SEAs carry what the posted body describes."""
        with self.registry.lock:
            by_seas = self._wanted_from_seas(bridge, fields.get('seas'))
            by_groups = self._wanted_from_groups(
                bridge, fields.get('load_groups'))
            if by_seas and by_groups:
                _bad('Change either the load groups or the Shared Ethernet '
                     'Adapters\' trunk adapters of a network bridge, not '
                     'both.', BAD_BRIDGE)
            wanted = by_seas or by_groups
            if not wanted:
                return bridge
            for sea, plans in wanted.items():
                wanted[sea] = self._checked_sea_plans(sea, plans)
            self._check_other_bridges(bridge, wanted)
            self._place_new_trunks(bridge.parent, wanted)
            self._apply_bridge(bridge, wanted)
            return bridge

    def _wanted_from_seas(self, bridge, items):
        """SEA -> trunk plans from posted SEAs; None if they are as now."""
        if items is None:
            return None
        wanted = {}
        for sea, item in self._matched_seas(bridge, items):
            # A SEA posted without its TrunkAdapters keeps them.
            wanted[sea] = (
                self._sea_trunk_plans(sea, item['trunks'])
                if 'trunks' in item else
                [_current_plan(trunk) for trunk in sea.trunks])
        if all(_signatures(plans) == _signatures(
                _current_plan(t) for t in sea.trunks)
               for sea, plans in wanted.items()):
            return None
        return wanted

    @staticmethod
    def _matched_seas(bridge, items):
        """Pair each posted SEA with the bridge's (by VIOS, else order)."""
        if len(items) != len(bridge.seas):
            _bad('Network bridge %s has %d Shared Ethernet Adapters; an '
                 'update cannot add or remove any (%d given).' % (
                     bridge.uuid, len(bridge.seas), len(items)), BAD_BRIDGE)
        pairs, left = [], list(bridge.seas)
        for index, item in enumerate(items):
            uuid = _uuid_of(item.get('vios_href'))
            name = item.get('device_name')
            found = [sea for sea in left if (
                sea.vios.uuid.lower() == uuid if uuid else
                sea is bridge.seas[index]) and name in (None, '',
                                                       sea.device_name)]
            if not found:
                _bad('Shared Ethernet Adapter %s of %s is not part of '
                     'network bridge %s.' % (name, item.get('vios_href'),
                                             bridge.uuid), BAD_BRIDGE)
            left.remove(found[0])
            pairs.append((found[0], item))
        return pairs

    def _sea_trunk_plans(self, sea, items):
        by_slot = {trunk.slot: trunk for trunk in sea.trunks}
        plans, seen = [], set()
        for item in items:
            existing = None
            if item.get('slot') is not None and not (
                    item.get('use_next_slot') or
                    item.get('use_next_high_slot')):
                existing = by_slot.get(item['slot'])
                if existing is None or existing in seen:
                    _bad('Slot %s is not a trunk adapter of Shared Ethernet '
                         'Adapter %s (or is listed twice).' % (
                             item['slot'], sea.device_name), BAD_BRIDGE)
                seen.add(existing)
            plans.append(self._trunk_plan(sea, existing, item))
        return plans

    def _trunk_plan(self, sea, existing, item):
        if item.get('pvid') is None:
            _bad('A trunk adapter of Shared Ethernet Adapter %s has no '
                 'PortVLANID.' % sea.device_name, BAD_VLAN)
        tagged = _parse_vlans(item.get('tagged_vlan_text'))
        base = existing if existing is not None else sea.primary
        vswitch = self._vswitch_of(sea.vios.parent, item,
                                   default=base.vswitch)
        priority = item.get('trunk_priority', base.trunk_priority)
        supported = item.get(
            'tagged_vlans_supported',
            bool(tagged) or (existing is not None and
                             existing.tagged_vlans_supported))
        return _TrunkPlan(existing=existing, pvid=item['pvid'], tagged=tagged,
                          supported=supported, priority=priority,
                          vswitch=vswitch)

    def _wanted_from_groups(self, bridge, items):
        """SEA -> trunk plans from posted load groups; None if as now."""
        if items is None:
            return None
        groups = [self._posted_group(bridge, item) for item in items]
        current = [(g.pvid, tuple(sorted(g.tagged)))
                   for g in bridge.load_groups]
        if sorted((pvid, tuple(sorted(tagged))) for pvid, tagged in groups) \
                == sorted(current):
            return None
        pvids = [pvid for pvid, _ in groups]
        if len(set(pvids)) != len(pvids):
            _bad('Two load groups of network bridge %s have the same port '
                 'VLAN.' % bridge.uuid, BAD_BRIDGE)
        wanted = {}
        for sea in bridge.seas:
            by_pvid = {trunk.pvid: trunk for trunk in sea.trunks}
            wanted[sea] = [
                self._group_trunk_plan(sea, by_pvid.get(pvid), pvid, tagged)
                for pvid, tagged in groups]
        return wanted

    def _posted_group(self, bridge, item):
        """(port VLAN, tagged VLANs) of a posted load group, the tagged ones
        read from its virtual networks."""
        pvid = item.get('pvid')
        if pvid is None:
            _bad('A load group of network bridge %s has no PortVLANID.' %
                 bridge.uuid, BAD_VLAN)
        tagged = []
        for link in item.get('vnet_hrefs') or []:
            vnet = self._network_by_href(bridge.parent, link.get('href'))
            if vnet.vswitch is not bridge.vswitch:
                _bad('Virtual network %s is on switch %s, not on %s of '
                     'network bridge %s.' % (
                         vnet.name, vnet.vswitch.name, bridge.vswitch.name,
                         bridge.uuid), BAD_BRIDGE)
            if vnet.vlan != pvid and vnet.vlan not in tagged:
                tagged.append(vnet.vlan)
        return pvid, tuple(tagged)

    @staticmethod
    def _group_trunk_plan(sea, existing, pvid, tagged):
        base = existing if existing is not None else sea.primary
        supported = bool(tagged) or (existing is not None and
                                     existing.tagged_vlans_supported)
        return _TrunkPlan(existing=existing, pvid=pvid, tagged=tagged,
                          supported=supported, priority=base.trunk_priority,
                          vswitch=base.vswitch)

    @staticmethod
    def _checked_sea_plans(sea, plans):
        """Validate one SEA's wanted trunks; return them primary first."""
        primary = [plan for plan in plans if plan.existing is sea.primary]
        if not primary or primary[0].pvid != sea.pvid:
            _bad('The primary trunk adapter of Shared Ethernet Adapter %s '
                 '(slot %d, port VLAN %d) cannot be removed or given another '
                 'port VLAN.' % (sea.device_name, sea.primary.slot,
                                 sea.pvid), BAD_BRIDGE)
        plans = primary + [plan for plan in plans if plan is not primary[0]]
        if len(plans) > MAX_SEA_TRUNKS:
            _bad('A Shared Ethernet Adapter has at most %d trunk adapters '
                 '(%d given).' % (MAX_SEA_TRUNKS, len(plans)), BAD_BRIDGE)
        seen = set()
        for plan in plans:
            _check_vlans(plan.pvid, plan.tagged, plan.supported)
            _check_priority(plan.priority)
            if plan.vswitch is not sea.vswitch:
                _bad('Every trunk adapter of Shared Ethernet Adapter %s must '
                     'be on switch %s.' % (sea.device_name,
                                           sea.vswitch.name), BAD_BRIDGE)
            clash = seen.intersection(plan.vlans)
            if clash:
                _bad('VLAN %d is on two trunk adapters of Shared Ethernet '
                     'Adapter %s.' % (min(clash), sea.device_name),
                     BAD_BRIDGE)
            seen.update(plan.vlans)
        _check_dlpar(sea.vios)
        return plans

    @staticmethod
    def _check_other_bridges(bridge, wanted):
        ours = {vlan for plans in wanted.values() for plan in plans
                for vlan in plan.vlans}
        for other in bridge.vswitch.bridges:
            clash = ours & other.vlans() if other is not bridge else ()
            if clash:
                _bad('VLAN %d is already bridged by network bridge %s.' % (
                    min(clash), other.uuid), BAD_BRIDGE, status=409)

    def _place_new_trunks(self, system, wanted):
        """Pick slot, MAC and device name of each new trunk adapter."""
        macs = set()
        for sea, plans in wanted.items():
            slots, names = set(), set()
            for plan in plans:
                if plan.existing is not None:
                    continue
                plan.slot = _free_slot(sea.vios, slots, high=True)
                plan.mac = self._new_mac(system, None, macs)
                plan.device_name = self._new_device_name(sea.vios, None,
                                                         names)
                slots.add(plan.slot)
                macs.add(plan.mac)
                names.add(plan.device_name)

    def _apply_bridge(self, bridge, wanted):
        added, removed, changed = [], [], []
        for sea, plans in wanted.items():
            kept = {plan.existing for plan in plans}
            for trunk in sea.trunks:
                if trunk not in kept:
                    sea.vios.adapters.remove(trunk)
                    removed.append(trunk)
            sea.trunks = [self._realized_trunk(sea, plan, added, changed)
                          for plan in plans]
        self.sync_virtual_networks(bridge.parent)
        for trunk in removed:
            self.registry.remove(trunk)
        for trunk in added:
            self.registry.add(trunk)
        for trunk in changed:
            self.registry.changed(trunk)
        # Each VIOS document shows its SEAs and trunk adapters.
        touched = {id(t.parent): t.parent for t in added + removed + changed}
        for vios in touched.values():
            self.registry.changed(vios)
        self.registry.changed(bridge)

    @staticmethod
    def _realized_trunk(sea, plan, added, changed):
        trunk = plan.existing
        if trunk is None:
            trunk = CNA(parent=sea.vios, slot=plan.slot, mac=plan.mac,
                        vswitch=plan.vswitch, pvid=plan.pvid,
                        tagged_vlans=plan.tagged,
                        tagged_vlans_supported=plan.supported,
                        trunk_priority=plan.priority,
                        device_name=plan.device_name)
            sea.vios.adapters.append(trunk)
            added.append(trunk)
            return trunk
        now = (trunk.pvid, tuple(trunk.tagged_vlans),
               trunk.tagged_vlans_supported, trunk.trunk_priority)
        if now != (plan.pvid, plan.tagged, plan.supported, plan.priority):
            trunk.pvid, trunk.tagged_vlans = plan.pvid, plan.tagged
            trunk.tagged_vlans_supported = plan.supported
            trunk.trunk_priority = plan.priority
            changed.append(trunk)
        return trunk


def _next_name(prefix, first, in_use):
    number = first
    while '%s%d' % (prefix, number) in in_use:
        number += 1
    return '%s%d' % (prefix, number)


def build_system_network(model, system):
    """Give a fresh system the network of a typical NovaLink install.

    Each VIOS bridges ETHERNET0's VLAN 1 through a trunk adapter to its
    port ent0 with a SEA; the SEAs form one network bridge (failing over
    when there are two VIOSes).  The NovaLink partition reaches the
    outside through that bridge (its public interface on VLAN 1) and hosts
    the trunk adapter of the RMC network (VLAN 4094 of MGMTSWITCH) the
    client LPARs' RMC adapters talk to.
    """
    subnet = '192.168.%d.' % (model.systems.index(system) + 1)
    netmask = '255.255.255.0'
    ethernet0 = _switch_named(system, 'ETHERNET0')
    seas = []
    vioses = [part for part in system.partitions if part.has_physical_io]
    for number, vios in enumerate(vioses, start=1):
        # The VIOS's address moved from the port to the SEA when the SEA
        # was made, so the port's interface is left disconnected.
        address = subnet + str(20 + number)
        port = EthernetPort(
            device_name='ent0',
            location_code='%s-P1-C%d-T1' % (system.io_unit,
                                            system.free_card_slot(10)),
            ip_interface=IPInterface(name='en0', address=address,
                                     netmask=netmask, state='Disconnected'))
        seas.append(model.add_shared_ethernet_adapter(
            vios, ethernet0, port, trunk_priority=number, address=address,
            netmask=netmask))
    if seas:
        model.add_network_bridge(system, seas)
    novalink = [part for part in system.partitions if part.is_mgmt]
    for mgmt in novalink:
        model.create_cna(mgmt, {
            'vswitch_id': ethernet0.switch_id, 'pvid': 1,
            'device_name': 'eth0', 'ip_address': subnet + '10',
            'subnet_mask': netmask, 'gateway': subnet + '1'})
        model.create_cna(mgmt, {
            'vswitch_id': _switch_named(system, 'MGMTSWITCH').switch_id,
            'pvid': MAX_VLAN, 'trunk_priority': 1, 'device_name': 'eth1'})
