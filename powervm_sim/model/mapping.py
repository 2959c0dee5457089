"""vSCSI and virtual Fibre Channel mappings and their adapters.

A mapping joins a client LPAR to storage (vSCSI) or to a physical Fibre
Channel port (NPIV) through a pair of virtual adapters: a server adapter on
the VIOS (vhostN, vfchostN) and a client adapter on the LPAR.  A vSCSI
adapter pair is a bus that may carry several devices, each of them a
mapping of its own in the VIOS document; a bus without devices still shows
as one mapping without storage.  A VFC adapter pair is exactly one mapping.

Clients edit the mappings as desired state: they read the VIOS with the
ViosSCSIMapping or ViosFCMapping group, add or drop mapping elements and
post the document back.  :meth:`MappingOps.update_scsi_mappings` and
:meth:`MappingOps.update_fc_mappings` turn the posted lists into adapter
pairs and devices created and removed; mappings that stay keep their
adapters, slots and target devices.

Deleting a client LPAR takes its client adapters with it and leaves the
server side behind as orphans, as on real NovaLink: the server adapter
keeps the client's partition ID, which is what pypowervm's scrubbers look
for.

A migrating LPAR keeps its client adapters; the target system's VIOSes
take over their server side (:meth:`MappingOps.plan_migration`), and the
source VIOSes lose it.  Only storage a target VIOS reaches as well (a SAN
disk of the same UDID configured there, a logical unit of a cluster it is
a node of) and NPIV mappings can move; a logical volume or an optical
medium is one VIOS's own.  A virtual FC adapter moves only if the second
WWPN of its pair, which logs in on the target, reaches the LUNs the first
reaches.
"""

import dataclasses
import hashlib
import re
import time
import typing
import zlib

from powervm_sim.model import partition as part_mod
from powervm_sim.model import registry
from powervm_sim.model import ssp as ssp_mod
from powervm_sim.model import storage as stor_mod
from powervm_sim.model import system as system_mod

SCSI_CLIENT = 'VirtualSCSIClientAdapter'
FC_CLIENT = 'VirtualFibreChannelClientAdapter'
SCSI_EVENT = 'VirtualSCSIMappings'
FC_EVENT = 'VirtualFibreChannelMappings'

# Codes the simulator chose for refusals pypowervm does not inspect.
NO_CLIENT = 'HSCL8E01'
NO_STORAGE = 'HSCL8E02'
DUPLICATE_MAPPING = 'HSCL8E03'
STORAGE_IN_USE = 'HSCL8E04'
BAD_MAPPING = 'HSCL8E05'
NO_PORT = 'HSCL8E06'
BAD_WWPN = 'HSCL8E07'
PORT_FULL = 'HSCL8E08'
BAD_TARGET = 'HSCL8E09'
NO_WWPNS = 'HSCL8E0A'
NOT_MIGRATABLE = 'HSCLA31C'
VOPT_MAPPED = 'HSCLA320'
# Real: the HMC/NovaLink code for a virtual FC client adapter no VIOS of
# the destination can host (its most common cause, IBM support says, is a
# second WWPN the SAN does not let reach the partition's LUNs).
VFC_NOT_HOSTABLE = 'HSCLA319'

# Virtual ports one physical FC port serves (NPIV).
NPIV_PORTS_PER_PORT = 64
_LUA = re.compile(r'^0x[0-9a-fA-F]{16}$')
_TARGET_NAME = re.compile(r'^[A-Za-z0-9_.-]{1,15}$')
_WWPN = re.compile(r'^[0-9a-fA-F]{16}$')
# Prefix of a target device's UDID by the kind of storage it exports.
_TARGET_UDID_PREFIX = {'vdisk': '09', 'pv': '08', 'vopt': '19', 'lu': '07'}
# WWPNs the server assigns itself come from the top of the system's block;
# the GetNextWWPNs job hands them out from the bottom.
_WWPN_BLOCK = 0x10000


def _refused(message, code):
    """The error a request gets for asking what the VIOS cannot do."""
    return registry.Conflict(message, code=code, status=400)


# ------------------------------------------------------ physical FC ports
@dataclasses.dataclass(kw_only=True, eq=False)
class PhysicalFCPort:
    """One port (fcsN) of a physical Fibre Channel adapter of a VIOS."""

    name: str
    wwpn: str
    wwnn: str
    location_code: str
    vios: typing.Any = dataclasses.field(repr=False)
    total_ports: int = NPIV_PORTS_PER_PORT

    @property
    def udid(self):
        return '1a' + self.location_code

    @property
    def mapped(self):
        return [a for a in self.vios.adapters
                if isinstance(a, VFCServerAdapter) and a.port is self]

    @property
    def available_ports(self):
        return self.total_ports - len(self.mapped)

    @property
    def logged_in_wwpns(self):
        """The client WWPNs logged in to the fabric through this port
        (NPIV)."""
        return [wwpn for server in self.mapped if server.client is not None
                for wwpn in server.client.logged_in_wwpns]

    @property
    def physical_volumes(self):
        """The VIOS's disks reached through this port."""
        return [pv for pv in self.vios.physical_volumes
                if self.name in pv.fc_ports]


@dataclasses.dataclass(kw_only=True, eq=False)
class PhysicalFCAdapter(system_mod.SlotLocation):
    """A PCIe Fibre Channel card in an I/O slot assigned to a VIOS.

    Each card fills one slot, so the object is the slot as well.
    """

    drc_name: str
    drc_index: int
    ports: list = dataclasses.field(default_factory=list)
    description: str = ('8 Gigabit PCI Express Dual Port Fibre Channel '
                        'Adapter')
    feature_codes: tuple = ('5735',)
    pci_class: int = 3076
    pci_device_id: int = 61696
    pci_subsys_device_id: int = 906
    pci_manufacturer_id: int = 4319
    pci_revision_id: int = 3
    pci_vendor_id: int = 4319
    pci_subsys_vendor_id: int = 4116


def build_vios_fc_ports(model, vios):
    """Give a fresh VIOS a dual-port 8 Gb FC card (fcs0, fcs1)."""
    system = vios.parent
    # Cards of successive VIOSes take the free slots of the drawer from
    # C6 on: the system's own cards are in C4 and C14, the VIOSes'
    # Ethernet cards in the free slots from C10.
    slot = system.free_card_slot(6)
    drc_name = '%s-P1-C%d' % (system.io_unit, slot)
    card = PhysicalFCAdapter(drc_name=drc_name, drc_index=0x21010200 + slot)
    serial_bits = zlib.crc32(system.serial.encode()) & 0xFFF
    for number in range(2):
        unique = '%03X%02X%X' % (serial_bits, vios.partition_id & 0xFF,
                                 number)
        card.ports.append(PhysicalFCPort(
            name='fcs%d' % number, wwpn='10000090FA' + unique,
            wwnn='20000090FA' + unique, vios=vios,
            location_code='%s-T%d' % (drc_name, number + 1)))
    with model.registry.lock:
        vios.io_slots.append(card)
        vios.fc_ports.extend(card.ports)
        model.registry.changed(vios)


# ------------------------------------------------------------ adapters
@dataclasses.dataclass(kw_only=True, eq=False)
class ServerAdapter:
    """The VIOS end of an adapter pair.

    It lives in the VIOS's ``adapters`` so that its slot counts as used by
    whatever else allocates slots there (trunk adapters).
    """

    kind: typing.ClassVar[str] = ''
    udid_prefix: typing.ClassVar[str] = ''
    name_prefix: typing.ClassVar[str] = ''

    vios: typing.Any = dataclasses.field(repr=False)
    slot: int
    name: str
    client: typing.Any = dataclasses.field(default=None, repr=False)
    # The client's partition ID and slot stay when the client partition is
    # deleted: scrubbers find orphans by them.
    remote_lpar_id: int = 0
    remote_slot: int = 0
    # Request-only switch: the slot is always reported explicitly.
    use_next_slot = None

    @property
    def location_code(self):
        return self.vios.location_code(self.slot)

    @property
    def udid(self):
        return self.udid_prefix + self.location_code

    @property
    def vios_id(self):
        return self.vios.partition_id

    @property
    def client_location_code(self):
        return self.client.location_code if self.client else None


@dataclasses.dataclass(kw_only=True, eq=False)
class VSCSIServerAdapter(ServerAdapter):
    kind: typing.ClassVar[str] = 'VirtualSCSIServerAdapter'
    udid_prefix: typing.ClassVar[str] = '1e'
    name_prefix: typing.ClassVar[str] = 'vhost'

    @property
    def backing_device_name(self):
        for mapping in self.vios.scsi_mappings:
            if mapping.server is self and mapping.storage is not None:
                return mapping.storage.name
        return None


@dataclasses.dataclass(kw_only=True, eq=False)
class VFCServerAdapter(ServerAdapter):
    kind: typing.ClassVar[str] = 'VirtualFibreChannelServerAdapter'
    udid_prefix: typing.ClassVar[str] = '1d'
    name_prefix: typing.ClassVar[str] = 'vfchost'

    port: PhysicalFCPort | None = dataclasses.field(default=None,
                                                    repr=False)

    @property
    def map_port(self):
        return self.port.name if self.port else None


@dataclasses.dataclass(kw_only=True, eq=False)
class ClientAdapter(registry.Resource):
    """The LPAR end of an adapter pair, a child of the LPAR."""

    slot: int
    server: ServerAdapter = dataclasses.field(repr=False)
    # Request-only switch: the slot is always reported explicitly.
    use_next_slot = None

    @property
    def location_code(self):
        return self.parent.location_code(self.slot)

    @property
    def lpar_id(self):
        return self.parent.partition_id

    @property
    def remote_lpar_id(self):
        return self.server.vios.partition_id

    @property
    def remote_slot(self):
        return self.server.slot

    @property
    def server_location_code(self):
        return self.server.location_code

    @property
    def vios_href(self):
        return self.server.vios.href


@dataclasses.dataclass(kw_only=True, eq=False)
class VSCSIClientAdapter(ClientAdapter):
    kind: typing.ClassVar[str] = SCSI_CLIENT


@dataclasses.dataclass(frozen=True)
class NPortLogin:
    """The fabric login state of one WWPN (made for rendering only)."""

    wwpn: str
    status: str = 'Unknown'


@dataclasses.dataclass(kw_only=True, eq=False)
class VFCClientAdapter(ClientAdapter):
    kind: typing.ClassVar[str] = FC_CLIENT

    wwpns: tuple = ()
    # Which WWPN of the pair the partition logs in with: the first, until
    # a migration brings it up on the target with the other.
    login: int = 0

    @property
    def wwpn_text(self):
        return ' '.join(self.wwpns)

    @property
    def active_wwpn(self):
        return self.wwpns[self.login]

    @property
    def standby_wwpn(self):
        """The WWPN that logs in on a migration's target."""
        return self.wwpns[1 - self.login]

    @property
    def logins(self):
        return [NPortLogin(wwpn) for wwpn in self.wwpns]

    @property
    def logged_in_wwpns(self):
        """The WWPNs the adapter has logged in to the fabric: the active
        one of its pair while the partition runs, with its mapping on a
        physical port; both while it migrates (the standby one logs in on
        the target)."""
        lpar = self.parent
        if self.server.port is None or not lpar.is_running:
            return []
        if lpar.state == part_mod.MIGRATING:
            return list(self.wwpns)
        return [self.active_wwpn]


# ------------------------------------------------------------ mappings
@dataclasses.dataclass(kw_only=True, eq=False)
class TargetDevice:
    """The virtual target device (vtscsiN, vtoptN) exporting storage."""

    lua: str
    name: str
    udid: str


class _MappingView:
    """What the VIOS document shows of either kind of mapping."""

    @property
    def client(self):
        return self.server.client

    @property
    def has_client(self):
        return self.server.client is not None

    @property
    def client_lpar_href(self):
        return self.client.parent.href if self.client else None


@dataclasses.dataclass(kw_only=True, eq=False)
class VSCSIMapping(_MappingView):
    """One device on a vSCSI bus, or an empty bus (no storage)."""

    server: VSCSIServerAdapter
    storage: typing.Any = None
    target: TargetDevice | None = None
    # When it was made (ns since the epoch): what a partition boots from
    # follows the order of its disks' mappings (boot.py).
    made: int = dataclasses.field(default_factory=time.time_ns)

    @property
    def storage_kind(self):
        return storage_kind(self.storage)

    def _storage_if(self, kind):
        return self.storage if self.storage_kind == kind else None

    @property
    def vdisk(self):
        return self._storage_if('vdisk')

    @property
    def pv(self):
        return self._storage_if('pv')

    @property
    def vopt(self):
        return self._storage_if('vopt')

    @property
    def lu(self):
        return self._storage_if('lu')

    @property
    def is_vdisk(self):
        return self.storage_kind == 'vdisk'

    @property
    def is_pv(self):
        return self.storage_kind == 'pv'

    @property
    def is_vopt(self):
        return self.storage_kind == 'vopt'

    @property
    def is_lu(self):
        return self.storage_kind == 'lu'

    @property
    def has_storage(self):
        return self.storage is not None


@dataclasses.dataclass(kw_only=True, eq=False)
class VFCMapping(_MappingView):
    """A VFC adapter pair and the physical port it logs in through."""

    server: VFCServerAdapter

    @property
    def port(self):
        return self.server.port

    @property
    def has_port(self):
        return self.server.port is not None


def storage_kind(storage):
    """'vdisk', 'pv', 'vopt', 'lu' or None for what a mapping exports."""
    if storage is None:
        return None
    if isinstance(storage, stor_mod.VirtualDisk | stor_mod.ServedDisk):
        return 'vdisk'
    if isinstance(storage, stor_mod.PhysicalVolume):
        return 'pv'
    if isinstance(storage, stor_mod.OpticalMedia):
        return 'vopt'
    if isinstance(storage, ssp_mod.LogicalUnit):
        return 'lu'
    raise TypeError('%r is not mappable storage' % storage)


# --------------------------------------------------------------- plans
@dataclasses.dataclass
class _Device:
    """A device a posted mapping asks for."""

    storage: typing.Any
    lua: str | None
    target_name: str | None


@dataclasses.dataclass
class _NewPair:
    """An adapter pair a posted mapping asks for."""

    lpar: typing.Any
    server_slot: int
    client_slot: int
    devices: list = dataclasses.field(default_factory=list)
    port: PhysicalFCPort | None = None
    wwpns: tuple = ()


@dataclasses.dataclass
class _ScsiPlan:
    keep: list = dataclasses.field(default_factory=list)      # mappings
    drop: list = dataclasses.field(default_factory=list)      # mappings
    drop_buses: list = dataclasses.field(default_factory=list)
    # (server adapter, _Device) on buses that stay.
    add: list = dataclasses.field(default_factory=list)
    new_buses: list = dataclasses.field(default_factory=list)  # _NewPair


@dataclasses.dataclass
class _FcPlan:
    drop: list = dataclasses.field(default_factory=list)      # mappings
    # (mapping, port or None) for mappings whose port changes.
    repoint: list = dataclasses.field(default_factory=list)
    new_pairs: list = dataclasses.field(default_factory=list)  # _NewPair


class MappingOps:
    """Mapping behaviour of the model (mixed into ``Model``)."""

    # ------------------------------------------------------------ reads
    def client_adapters(self, part, kind):
        return [a for a in part.adapters if a.kind == kind]

    def scsi_mappings_of(self, storage):
        """Every vSCSI mapping, on any VIOS, that exports ``storage``."""
        with self.registry.lock:
            return [m for vios in self.vioses() for m in vios.scsi_mappings
                    if m.storage is storage]

    # ------------------------------------------------------------- vSCSI
    def update_scsi_mappings(self, vios, items):
        """Make the vSCSI mappings of ``vios`` match a posted list."""
        with self.registry.lock:
            change = self.plan_scsi_mappings(vios, items, SlotReservation())
            if change is not None:
                change()

    def plan_scsi_mappings(self, vios, items, reserved):
        """Validate a posted vSCSI mapping list of ``vios`` (model lock
        held); the function that applies it, or None if nothing changes.

        :param reserved: the SlotReservation of the request.
        """
        plan = self._plan_scsi(vios, items, reserved)
        if not (plan.drop or plan.drop_buses or plan.add or plan.new_buses):
            return None

        def apply():
            self._apply_scsi(vios, plan)
            self.registry.changed(vios, SCSI_EVENT)
        return apply

    def _plan_scsi(self, vios, items, reserved):
        buses = {a.slot: a for a in vios.adapters
                 if isinstance(a, VSCSIServerAdapter)}
        wanted = {}          # existing server adapter -> [_Device]
        plan = _ScsiPlan()
        for item in items:
            server = _existing_pair(buses, item)
            device = self._requested_device(vios, item)
            if server is not None:
                self._check_same_client(vios, server, item)
                wanted.setdefault(server, [])
                if device is not None:
                    wanted[server].append(device)
                continue
            pair = self._new_pair(vios, item, reserved)
            if device is not None:
                pair.devices.append(device)
            plan.new_buses.append(pair)
        for mapping in vios.scsi_mappings:
            devices = wanted.get(mapping.server)
            if devices is None:
                plan.drop.append(mapping)
                continue
            match = _take_device(devices, mapping.storage)
            if match is not None or mapping.storage is None:
                plan.keep.append(mapping)
            else:
                plan.drop.append(mapping)
        plan.drop_buses = [s for s in buses.values() if s not in wanted]
        plan.add = [(server, device) for server, devices in wanted.items()
                    for device in devices]
        self._check_scsi_plan(vios, plan)
        return plan

    def _requested_device(self, vios, item):
        storage = self._requested_storage(vios, item)
        if storage is None:
            return None
        lua = item.get('target.lua') or None
        if lua is not None and not _LUA.match(lua):
            raise _refused('%r is not a logical unit address (0x and 16 '
                           'hex digits).' % lua, BAD_TARGET)
        name = item.get('target.name') or None
        if name is not None and not _TARGET_NAME.match(name):
            raise _refused('%r is not a valid target device name.' %
                           name, BAD_TARGET)
        return _Device(storage, lua, name)

    def _requested_storage(self, vios, item):
        if item.get('vdisk.udid') or item.get('vdisk.name'):
            if item.get('vdisk.disk_type') in stor_mod.BACKSTORES:
                return self._served_disk(vios, item)
            return _find_vdisk(vios, item)
        if item.get('pv.udid') or item.get('pv.name'):
            return _find_pv(vios, item)
        if item.get('vopt.name') or item.get('vopt.udid'):
            return _find_vopt(vios, item)
        # A LogicalUnit's fields are the only unprefixed ones of a mapping.
        if item.get('udid'):
            return self._find_lu(vios, item['udid'])
        return None

    def _served_disk(self, vios, item):
        """The file or RBD disk a mapping names: the one an existing
        mapping exports (by UDID), or a new one."""
        udid = item.get('vdisk.udid')
        if not udid:
            return self.new_served_disk(
                vios, item['vdisk.disk_type'], item.get('vdisk.name'),
                item.get('vdisk.backstore'), item.get('vdisk.rbd_user'))
        for mapping in vios.scsi_mappings:
            if isinstance(mapping.storage, stor_mod.ServedDisk) and \
                    mapping.storage.udid == udid:
                return mapping.storage
        raise _no_vdisk(udid, vios)

    def _find_lu(self, vios, udid):
        found = self.find_logical_unit(udid)
        if found is None:
            raise _refused('Logical unit %s does not exist.' % udid,
                           NO_STORAGE)
        self.check_node_reaches(vios, found)
        return found

    def _check_same_client(self, vios, server, item):
        lpar = self._requested_client(vios, item, required=False)
        if lpar is not None and server.client is not None and \
                lpar is not server.client.parent:
            raise _refused(
                'Server adapter %s of %s serves partition %s, not %s.' % (
                    server.name, vios.name, server.client.parent.name,
                    lpar.name), BAD_MAPPING)

    def _requested_client(self, vios, item, required=True):
        href = item.get('client_lpar_href')
        if href:
            return _client_by_href(self, vios, href)
        lpar_id = item.get('client.lpar_id')
        if lpar_id is not None:
            for lpar in self.lpars(vios.parent):
                if lpar.partition_id == lpar_id:
                    return lpar
            raise _refused('Client partition ID %d does not exist on %s.'
                           % (lpar_id, vios.parent.name), NO_CLIENT)
        if required:
            raise _refused('A new mapping needs a client partition '
                           '(AssociatedLogicalPartition).', BAD_MAPPING)
        return None

    def _new_pair(self, vios, item, reserved):
        lpar = self._requested_client(vios, item)
        server_slot = reserved.pick(
            vios, _explicit_slot(item, 'server.'))
        client_slot = reserved.pick(lpar, _explicit_slot(item, 'client.'))
        return _NewPair(lpar, server_slot, client_slot)

    def _check_scsi_plan(self, vios, plan):
        exports = [(m.server.client.parent if m.server.client else None,
                    m.storage) for m in plan.keep if m.storage is not None]
        exports += [(s.client.parent if s.client else None, d.storage)
                    for s, d in plan.add]
        exports += [(pair.lpar, d.storage) for pair in plan.new_buses
                    for d in pair.devices]
        seen = set()
        for lpar, storage in exports:
            key = (id(lpar), id(storage))
            if lpar is not None and key in seen:
                raise _refused(
                    '%s %s is mapped to partition %s more than once.' % (
                        _describe(storage), storage.name, lpar.name),
                    DUPLICATE_MAPPING)
            seen.add(key)
        for storage in {id(s): s for _, s in exports}.values():
            users = sum(1 for _, s in exports if s is storage)
            if storage_kind(storage) == 'vdisk' and users > 1:
                raise _refused('Logical volume %s can back only one virtual '
                               'target device.' % storage.name,
                               STORAGE_IN_USE)
        _check_targets(vios, plan)

    def _apply_scsi(self, vios, plan):
        touched = [m.storage for m in plan.drop if m.storage is not None]
        for mapping in plan.drop:
            vios.scsi_mappings.remove(mapping)
        for server in plan.drop_buses:
            self._remove_pair(vios, server)
        for server, device in plan.add:
            self._add_device(vios, server, device)
        for pair in plan.new_buses:
            server = self._create_pair(vios, pair, VSCSIServerAdapter,
                                       VSCSIClientAdapter)
            for device in pair.devices:
                self._add_device(vios, server, device)
        touched += [d.storage for _, d in plan.add]
        touched += [d.storage for p in plan.new_buses for d in p.devices]
        _settle_empty_buses(vios)
        self._settle_storage(vios, touched)

    def _settle_storage(self, vios, touched):
        """Update what storage shows about its use: a physical volume is
        available while no volume group or mapping holds it, and a logical
        unit shows whether it is mapped."""
        in_vgs = {id(pv) for vg in vios.volume_groups
                  for pv in vg.physical_volumes}
        mapped = {id(m.storage) for m in vios.scsi_mappings}
        for storage in {id(s): s for s in touched}.values():
            kind = storage_kind(storage)
            if kind == 'pv':
                storage.available = id(storage) not in in_vgs | mapped
            elif kind == 'lu':
                self.registry.changed(storage)

    def _add_device(self, vios, server, device):
        kind = storage_kind(device.storage)
        on_bus = {m.target.lua for m in vios.scsi_mappings
                  if m.server is server and m.target}
        names = {m.target.name for m in vios.scsi_mappings if m.target}
        lua = device.lua or _next_lua(on_bus)
        name = device.target_name or _next_name(
            'vtopt' if kind == 'vopt' else 'vtscsi', names)
        # Appended at once: later devices of the request see its LUA and
        # name.
        vios.scsi_mappings.append(VSCSIMapping(
            server=server, storage=device.storage, target=TargetDevice(
                lua=lua, name=name, udid=_target_udid(vios, kind, name))))

    # --------------------------------------------------------------- VFC
    def update_fc_mappings(self, vios, items):
        """Make the VFC mappings of ``vios`` match a posted list."""
        with self.registry.lock:
            change = self.plan_fc_mappings(vios, items, SlotReservation())
            if change is not None:
                change()

    def plan_fc_mappings(self, vios, items, reserved):
        """Validate a posted VFC mapping list of ``vios`` (model lock
        held); the function that applies it, or None if nothing changes.

        :param reserved: the SlotReservation of the request.
        """
        plan = self._plan_fc(vios, items, reserved)
        if not (plan.drop or plan.repoint or plan.new_pairs):
            return None

        def apply():
            self._apply_fc(vios, plan)
            self.registry.changed(vios, FC_EVENT)
        return apply

    def _plan_fc(self, vios, items, reserved):
        pairs = {a.slot: a for a in vios.adapters
                 if isinstance(a, VFCServerAdapter)}
        by_server = {m.server: m for m in vios.fc_mappings}
        plan = _FcPlan()
        listed = set()
        load = {}            # port -> mappings this request adds or moves
        for item in items:
            port = _requested_port(vios, item)
            server = _existing_pair(pairs, item)
            if server is not None:
                self._check_same_client(vios, server, item)
                listed.add(server)
                if port is not server.port and port is not None:
                    plan.repoint.append((by_server[server], port))
                    load[port] = load.get(port, 0) + 1
                continue
            pair = self._new_pair(vios, item, reserved)
            pair.port = port
            pair.wwpns = _requested_wwpns(item)
            plan.new_pairs.append(pair)
            if port is not None:
                load[port] = load.get(port, 0) + 1
        plan.drop = [m for m in vios.fc_mappings if m.server not in listed]
        for port, extra in load.items():
            if extra > port.available_ports:
                raise _refused(
                    'Physical port %s of %s has %d free NPIV ports; %d are '
                    'needed.' % (port.name, vios.name, port.available_ports,
                                 extra), PORT_FULL)
        self._check_wwpns(vios.parent, plan)
        return plan

    def _check_wwpns(self, system, plan):
        in_use = {w for a in self.registry.of_kind(FC_CLIENT)
                  for w in a.wwpns}
        for pair in plan.new_pairs:
            for wwpn in pair.wwpns:
                if wwpn in in_use:
                    raise _refused('WWPN %s is already in use.' % wwpn,
                                   BAD_WWPN)
                in_use.add(wwpn)
        wanted = 2 * sum(1 for p in plan.new_pairs if not p.wwpns)
        if system.available_wwpns < wanted:
            raise _refused('The managed system has no free WWPNs left.',
                           NO_WWPNS)

    def _apply_fc(self, vios, plan):
        for mapping in plan.drop:
            vios.fc_mappings.remove(mapping)
            self._remove_pair(vios, mapping.server)
        for mapping, port in plan.repoint:
            mapping.server.port = port
        for pair in plan.new_pairs:
            wwpns = pair.wwpns or self._issue_wwpns(pair.lpar.parent)
            server = self._create_pair(vios, pair, VFCServerAdapter,
                                       VFCClientAdapter, wwpns=wwpns)
            server.port = pair.port
            vios.fc_mappings.append(VFCMapping(server=server))

    def _issue_wwpns(self, system):
        in_use = {w for a in self.registry.of_kind(FC_CLIENT)
                  for w in a.wwpns}
        base = (zlib.crc32(system.serial.encode()) & 0xFFFFFF) << 16
        issued = []
        for offset in range(_WWPN_BLOCK - 1, -1, -1):
            wwpn = ('%s%010X' % (system.wwpn_prefix, base + offset)).lower()
            if wwpn not in in_use:
                issued.append(wwpn)
                if len(issued) == 2:
                    break
        system.available_wwpns -= len(issued)
        return tuple(issued)

    # ---------------------------------------------------- adapter pairs
    def _create_pair(self, vios, pair, server_cls, client_cls, **client):
        names = {a.name for a in vios.adapters if isinstance(a, server_cls)}
        server = server_cls(
            vios=vios, slot=pair.server_slot,
            name=_next_name(server_cls.name_prefix, names),
            remote_lpar_id=pair.lpar.partition_id,
            remote_slot=pair.client_slot)
        adapter = client_cls(parent=pair.lpar, slot=pair.client_slot,
                             server=server, **client)
        server.client = adapter
        vios.adapters.append(server)
        pair.lpar.adapters.append(adapter)
        self.registry.add(adapter)
        # The LPAR document lists its client adapters.
        self.registry.changed(pair.lpar)
        return server

    def _remove_pair(self, vios, server):
        vios.adapters.remove(server)
        adapter = server.client
        if adapter is None:
            return
        server.client = None
        adapter.parent.adapters.remove(adapter)
        self.registry.remove(adapter)
        self.registry.changed(adapter.parent)

    # -------------------------------------------------------- migration
    def plan_migration(self, lpar, target, placements):
        """Where the server side of each storage adapter of ``lpar`` goes
        on system ``target`` (model lock held); changes nothing.

        :param placements: {client slot: Placement} the migration's
                           mapping parameters ask for; the other adapters
                           go where their storage is reached.
        :raises registry.Conflict: a target VIOS cannot take one over.
        """
        reserved = SlotReservation()
        moves = []
        ports = {}           # target port -> adapters this plan adds
        for client in lpar.adapters:
            placement = placements.get(client.slot)
            if isinstance(client, VSCSIClientAdapter):
                moves.append(self._plan_scsi_move(lpar, client, target,
                                                  placement, reserved))
            elif isinstance(client, VFCClientAdapter):
                self._check_standby_wwpn(lpar, client)
                moves.append(_plan_fc_move(lpar, client, target, placement,
                                           reserved, ports))
        return moves

    def _plan_scsi_move(self, lpar, client, target, placement, reserved):
        source = client.server.vios
        devices = [m for m in source.scsi_mappings
                   if m.server is client.server and m.storage is not None]
        for mapping in devices:
            _check_movable(lpar, client, mapping.storage, source)
        for vios in _candidates(source, target, placement):
            found = [_reachable(vios, m.storage) for m in devices]
            if None in found:
                continue
            # Each device keeps its LUN on the new bus.
            luas = [m.target.lua if m.target else None for m in devices]
            return ServerMove(client, vios, _slot(reserved, vios, placement),
                              [_Device(storage, lua, None) for storage, lua
                               in zip(found, luas, strict=True)])
        if placement is None:
            raise _unmovable(lpar, client, 'no Virtual I/O Server of %s '
                             'reaches its storage' % target.name)
        raise _unmovable(lpar, client, '%s does not reach its storage' %
                         placement.vios.name)

    def _check_standby_wwpn(self, lpar, client):
        """The standby WWPN logs in on the target: the SAN must let it
        reach every LUN the active one reaches (else NovaLink refuses with
        HSCLA319)."""
        if client.server.port is None:
            return
        reached = {id(lun): lun for _, lun in self.san.fc_paths(
            client.active_wwpn)}
        kept = {id(lun) for _, lun in self.san.fc_paths(
            client.standby_wwpn)}
        missed = [lun.name for key, lun in reached.items()
                  if key not in kept]
        if missed:
            raise _fc_not_hostable(lpar, client, 'its WWPN %s, which logs '
                                   'in on the destination, reaches no %s' %
                                   (client.standby_wwpn, ', '.join(missed)))

    def move_mappings(self, lpar, moves):
        """Hand the server side of ``lpar``'s adapters to the target
        VIOSes ``moves`` (plan_migration's) names; call after the partition
        has its ID on the target."""
        for move in moves:
            old = move.client.server
            self._drop_server_side(old)
            server_cls = type(old)
            names = {a.name for a in move.vios.adapters
                     if isinstance(a, server_cls)}
            server = server_cls(
                vios=move.vios, slot=move.slot, client=move.client,
                name=_next_name(server_cls.name_prefix, names),
                remote_lpar_id=lpar.partition_id,
                remote_slot=move.client.slot)
            move.vios.adapters.append(server)
            move.client.server = server
            if isinstance(server, VFCServerAdapter):
                server.port = move.port
                # Up on the target with the standby WWPN, it stays with it.
                move.client.login = 1 - move.client.login
                move.vios.fc_mappings.append(VFCMapping(server=server))
                self.registry.changed(move.vios, FC_EVENT)
                continue
            for device in move.devices:
                self._add_device(move.vios, server, device)
            _settle_empty_buses(move.vios)
            self._settle_storage(move.vios,
                                 [d.storage for d in move.devices])
            self.registry.changed(move.vios, SCSI_EVENT)

    def _drop_server_side(self, server):
        vios = server.vios
        vios.adapters.remove(server)
        if isinstance(server, VFCServerAdapter):
            vios.fc_mappings[:] = [m for m in vios.fc_mappings
                                   if m.server is not server]
            self.registry.changed(vios, FC_EVENT)
            return
        touched = [m.storage for m in vios.scsi_mappings
                   if m.server is server and m.storage is not None]
        vios.scsi_mappings[:] = [m for m in vios.scsi_mappings
                                 if m.server is not server]
        self._settle_storage(vios, touched)
        self.registry.changed(vios, SCSI_EVENT)

    def watch_client_adapters(self):
        """Orphan the server side of client adapters deleted with their
        partition (``delete_partition`` removes them like any adapter).

        Idempotent: subscribing again replaces the earlier subscription.
        """
        self.registry.unsubscribe(self._on_registry_change)
        self.registry.subscribe(self._on_registry_change)

    def _on_registry_change(self, event_type, resource, detail):
        if event_type != registry.DELETE or \
                not isinstance(resource, ClientAdapter):
            return
        server = resource.server
        if server.client is not resource:
            return
        server.client = None
        self.registry.changed(server.vios, SCSI_EVENT if isinstance(
            server, VSCSIServerAdapter) else FC_EVENT)


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a migration's mapping parameter puts the server side of a
    client adapter: a target VIOS, maybe its slot and (FC) physical port.
    """

    vios: typing.Any
    slot: int | None = None
    port: str | None = None


@dataclasses.dataclass
class ServerMove:
    """A client adapter's new server side on a migration's target."""

    client: ClientAdapter
    vios: typing.Any
    slot: int
    devices: list = dataclasses.field(default_factory=list)   # _Device
    port: PhysicalFCPort | None = None


def _plan_fc_move(lpar, client, target, placement, reserved, ports):
    source = client.server.vios
    old_port = client.server.port
    for vios in _candidates(source, target, placement):
        if old_port is None:
            return ServerMove(client, vios, _slot(reserved, vios, placement))
        free = [p for p in vios.fc_ports
                if p.available_ports > ports.get(id(p), 0) and
                (placement is None or placement.port in (None, p.name))]
        # The port of the same name, where it is free, else any free one.
        free.sort(key=lambda p: p.name != old_port.name)
        if free:
            ports[id(free[0])] = ports.get(id(free[0]), 0) + 1
            return ServerMove(client, vios, _slot(reserved, vios, placement),
                              port=free[0])
    if placement is None:
        raise _fc_not_hostable(lpar, client, 'no Virtual I/O Server of %s '
                               'has a free NPIV port' % target.name)
    raise _fc_not_hostable(lpar, client, '%s has no free NPIV port %s' % (
        placement.vios.name, placement.port or ''))


def _candidates(source, target, placement):
    """The target VIOSes that may take over an adapter of ``source``: the
    one its mapping parameter names, else every one, the one in the source
    VIOS's place first (so the paths of a client stay on different
    VIOSes)."""
    if placement is not None:
        return [placement.vios]
    olds = [p for p in source.parent.partitions if p.has_physical_io]
    news = [p for p in target.partitions if p.has_physical_io]
    place = olds.index(source)
    if place < len(news):
        news.insert(0, news.pop(place))
    return news


def _slot(reserved, vios, placement):
    return reserved.pick(vios, placement.slot if placement else None)


def _check_movable(lpar, client, storage, source):
    kind = storage_kind(storage)
    if kind == 'vopt':
        raise registry.Conflict(
            'Partition %s cannot migrate: virtual optical media %s is mapped '
            'to it (slot %d); remove the mapping first.' % (
                lpar.name, storage.name, client.slot), code=VOPT_MAPPED,
            status=400)
    if kind == 'vdisk':
        raise _unmovable(lpar, client, '%s %s is on %s alone' % (
            _describe(storage), storage.name, source.name))


def _reachable(vios, storage):
    """``vios``'s own object for shared ``storage``, or None."""
    if storage_kind(storage) == 'lu':
        cluster = storage.pool.parent
        return storage if vios in cluster.vioses else None
    return next((pv for pv in vios.physical_volumes
                 if pv.udid == storage.udid), None)


def _unmovable(lpar, client, why):
    return registry.Conflict(
        'Partition %s cannot migrate: the virtual SCSI adapter in slot %d '
        'cannot move (%s).' % (lpar.name, client.slot, why),
        code=NOT_MIGRATABLE, status=400)


def _fc_not_hostable(lpar, client, why):
    return registry.Conflict(
        "The migrating partition %s's virtual fibre channel client adapter "
        '%d cannot be hosted by the existing Virtual I/O Server (VIOS) '
        'partitions on the destination managed system (%s).' % (
            lpar.name, client.slot, why), code=VFC_NOT_HOSTABLE, status=400)


# ------------------------------------------------------------- helpers
class SlotReservation:
    """Slots promised to new adapters of one request, per partition."""

    def __init__(self):
        self._slots = {}

    def pick(self, part, wanted):
        taken = self._slots.setdefault(id(part), set())
        if wanted is not None and wanted in taken:
            raise _refused('Virtual slot %d of partition %s is requested '
                           'twice.' % (wanted, part.name), 'HSCL294C')
        if wanted is not None:
            slot = part.allocate_slot(wanted)
        else:
            slot = _first_free_slot(part, taken)
        taken.add(slot)
        return slot


def _first_free_slot(part, taken):
    used = part.used_slots() | taken
    for slot in range(part_mod.FIRST_FREE_SLOT, part.max_virtual_io_slots):
        if slot not in used:
            return slot
    raise registry.Conflict('Partition %s has no free virtual slot.' %
                            part.name, code='HSCL294E', status=400)


def _explicit_slot(item, prefix):
    if item.get(prefix + 'use_next_slot'):
        return None
    return item.get(prefix + 'slot')


def _existing_pair(pairs, item):
    """The server adapter a posted mapping names, if it already exists."""
    if item.get('server.use_next_slot'):
        return None
    return pairs.get(item.get('server.slot'))


def _client_by_href(model, vios, href):
    segments = href.split('?', 1)[0].rstrip('/').split('/')
    kind, uuid = segments[-2:] if len(segments) > 1 else ('', href)
    lpar = model.registry.find(uuid, part_mod.LPAR.kind, within=vios.parent)
    if kind != part_mod.LPAR.kind or lpar is None or \
            lpar.parent is not vios.parent:
        raise _refused('Client partition %s does not exist on %s.' % (
            uuid, vios.parent.name), NO_CLIENT)
    return lpar


def _find_vdisk(vios, item):
    udid, name = item.get('vdisk.udid'), item.get('vdisk.name')
    for vg in vios.volume_groups:
        for vdisk in vg.vdisks:
            if (udid and vdisk.udid == udid) or \
                    (not udid and vdisk.name == name):
                return vdisk
    raise _no_vdisk(udid or name, vios)


def _no_vdisk(ident, vios):
    return _refused('Virtual disk %s does not exist on %s.' % (
        ident, vios.name), NO_STORAGE)


def _find_pv(vios, item):
    udid, name = item.get('pv.udid'), item.get('pv.name')
    for pv in vios.physical_volumes:
        if (udid and pv.udid == udid) or (not udid and pv.name == name):
            break
    else:
        raise _refused('Physical volume %s does not exist on %s.' % (
            udid or name, vios.name), NO_STORAGE)
    # A disk may back several mappings (shared volumes), but nothing that
    # holds it otherwise, such as a volume group.
    if not pv.available and not any(m.storage is pv
                                    for m in vios.scsi_mappings):
        raise _refused('Physical volume %s is in use and cannot be '
                       'mapped.' % pv.name, STORAGE_IN_USE)
    return pv


def _find_vopt(vios, item):
    udid, name = item.get('vopt.udid'), item.get('vopt.name')
    for repo in vios.media_repositories:
        for medium in repo.media:
            if (name and medium.name == name) or \
                    (not name and medium.udid == udid):
                return medium
    raise _refused('Virtual optical media %s does not exist on %s.' % (
        name or udid, vios.name), NO_STORAGE)


def _requested_port(vios, item):
    name = item.get('port.name')
    if not name:
        return None
    for port in vios.fc_ports:
        if port.name == name:
            return port
    raise _refused('Physical Fibre Channel port %s does not exist on %s.'
                   % (name, vios.name), NO_PORT)


def _requested_wwpns(item):
    text = (item.get('client.wwpn_text') or '').strip()
    if not text:
        return ()
    wwpns = tuple(w.lower() for w in text.split())
    if len(wwpns) != 2 or len(set(wwpns)) != 2 or \
            not all(_WWPN.match(w) for w in wwpns):
        raise _refused('%r is not a pair of distinct WWPNs (16 hex digits '
                       'each).' % text, BAD_WWPN)
    return wwpns


def _take_device(devices, storage):
    """Remove and return the requested device exporting ``storage``."""
    for device in devices:
        if device.storage is storage:
            devices.remove(device)
            return device
    return None


def _check_targets(vios, plan):
    names = [m.target.name for m in plan.keep if m.target]
    luas = {(id(m.server), m.target.lua.lower()) for m in plan.keep
            if m.target}
    requests = [(id(s), d) for s, d in plan.add]
    requests += [(id(pair), d) for pair in plan.new_buses
                 for d in pair.devices]
    for bus, device in requests:
        if device.target_name:
            if device.target_name in names:
                raise _refused('Target device %s already exists on %s.' % (
                    device.target_name, vios.name), BAD_TARGET)
            names.append(device.target_name)
        if device.lua:
            if (bus, device.lua.lower()) in luas:
                raise _refused('Logical unit address %s is already in use '
                               'on the adapter.' % device.lua, BAD_TARGET)
            luas.add((bus, device.lua.lower()))


def _settle_empty_buses(vios):
    """Show each bus without devices as one mapping without storage."""
    busy = {id(m.server) for m in vios.scsi_mappings if m.storage}
    settled = []
    for mapping in vios.scsi_mappings:
        if mapping.storage is None:
            if id(mapping.server) in busy:
                continue
            busy.add(id(mapping.server))
        settled.append(mapping)
    settled += [VSCSIMapping(server=server) for server in vios.adapters
                if isinstance(server, VSCSIServerAdapter) and
                id(server) not in busy]
    vios.scsi_mappings[:] = settled


def _next_lua(used):
    # The first device on a bus answers at LUN 1: 0x81 and fourteen zeros;
    # the next at 0x82...
    used = {lua.lower() for lua in used}
    for lun in range(1, 0x80):
        lua = '0x%02x00000000000000' % (0x80 + lun)
        if lua not in used:
            return lua
    raise _refused('The adapter has no free logical unit address.',
                   BAD_TARGET)


def _next_name(prefix, used):
    number = 0
    while '%s%d' % (prefix, number) in used:
        number += 1
    return '%s%d' % (prefix, number)


def _target_udid(vios, kind, name):
    digest = hashlib.sha256(('%s/%s' % (vios.uuid, name)).encode())
    return _TARGET_UDID_PREFIX[kind] + digest.hexdigest()[:16]


def _describe(storage):
    return {'vdisk': 'Virtual disk', 'pv': 'Physical volume',
            'vopt': 'Virtual optical media',
            'lu': 'Logical unit'}[storage_kind(storage)]
