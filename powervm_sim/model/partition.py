"""Partitions: client LPARs, Virtual I/O Servers and the NovaLink partition.
"""

import base64
import dataclasses
import hashlib
import itertools
import time
import typing

from powervm_sim.model import boot as boot_mod
from powervm_sim.model import registry
from powervm_sim.model import system as system_mod

LPAR_TYPES = ('AIX/Linux', 'OS400', 'Virtual IO Server')
NOT_ACTIVATED = 'not activated'
RUNNING = 'running'
STARTING = 'starting'
SHUTTING_DOWN = 'shutting down'
MIGRATING = 'migrating running'
ERROR = 'error'
# Slots 0 and 1 hold the virtual serial adapters of every partition.
FIRST_FREE_SLOT = 2
# The HMC's generic "not in a state under which this operation can be
# performed" (seen in pypowervm's job_response_completed_failed capture).
BAD_STATE = 'HSCL05DF'
# MigrationState values (the ones pypowervm's LPAR wrapper names).
NOT_MIGRATING = 'Not_Migrating'
MIGRATION_STARTING = 'Migration_Starting'
MIGRATION_FAILED = 'Migration_Failed'


@dataclasses.dataclass(kw_only=True, eq=False)
class Partition(registry.Resource):
    """What LPARs and VIOSes share."""

    root_level: typing.ClassVar[bool] = True
    is_vios: typing.ClassVar[bool] = False

    # NovaLink writes partition UUIDs in upper case (in links too), and
    # pypowervm compares some of them as strings.
    uuid: str = dataclasses.field(
        default_factory=lambda: registry.new_uuid().upper())
    name: str
    partition_id: int = 0
    partition_type: str = 'AIX/Linux'
    state: str = NOT_ACTIVATED
    is_mgmt: bool = False
    rmc_state: str = 'inactive'
    rmc_ip: str | None = None
    # Memory, MB.
    mem_desired: int = 2048
    mem_min: int = 1024
    mem_max: int = 4096
    # Processors.
    dedicated: bool = False
    proc_units_desired: float = 0.5
    proc_units_min: float = 0.1
    proc_units_max: float = 1.0
    vprocs_desired: int = 1
    vprocs_min: int = 1
    vprocs_max: int = 2
    sharing_mode: str = 'uncapped'
    uncapped_weight: int = 128
    shared_pool_id: int = 0
    proc_compat_mode: str = 'default'
    current_proc_compat_mode: str = 'POWER9'
    availability_priority: int = 127
    max_virtual_io_slots: int = 64
    keylock: str = 'normal'
    # The boot mode of the next start (PartitionBootMode: boot.py).
    boot_mode: str = 'Normal'
    srr_capable: bool = False
    os_version: str = 'Unknown'
    ref_code: str = '00000000'
    uptime: int = 0
    allow_perf_data: bool = False
    # The partition's NVRAM as NovaLink shows it (base64 text), None
    # until the partition is given one or its guest writes it.
    nvram: str | None = None
    # How many times the guest wrote its NVRAM (write_nvram).
    nvram_writes: int = 0
    # The NovaLink partition's files a disk may be served from: {absolute
    # path: size in MB}.
    files: dict = dataclasses.field(default_factory=dict, repr=False)
    description: str = ''
    # Secure boot policy (0 = off) for the next activation.
    pending_secure_boot: int = 0
    # IBM i only: the tagged I/O the partition loads and talks through.
    load_source: str = '0'
    console: str = 'HMC'
    alt_load_source: str = 'NONE'
    # Children kept by the model.
    adapters: list = dataclasses.field(default_factory=list, repr=False)
    # A mobility.Migration while the partition moves to another system.
    migration: typing.Any = None
    # A boot.Boot: how it was last started (the model's only: NovaLink
    # does not show it).
    last_boot: typing.Any = None

    @property
    def system(self):
        return self.parent

    @property
    def system_href(self):
        return self.parent.href

    @property
    def proc_units(self):
        """Processing capacity the partition holds on its system."""
        if self.dedicated:
            return float(self.vprocs_desired)
        return self.proc_units_desired

    @property
    def is_running(self):
        return self.state in (RUNNING, MIGRATING)

    @property
    def has_physical_io(self):
        """A VIOS with adapters and disks of its own: not the NovaLink
        partition, which serves I/O (when it does) from files and Ceph
        alone."""
        return self.is_vios and not self.is_mgmt

    @property
    def cna_hrefs(self):
        return [a.href for a in self.adapters if a.kind ==
                'ClientNetworkAdapter' and not a.is_trunk]

    @property
    def partition_uuid(self):
        return self.uuid.upper()

    @property
    def logical_serial(self):
        return '%s%X' % (self.parent.serial[:4], self.partition_id)

    @property
    def dlpar_capable(self):
        return self.rmc_state == 'active'

    @property
    def current_vprocs(self):
        return self.vprocs_desired if self.is_running else 0

    @property
    def shared_pool_href(self):
        return None

    @property
    def mac_prefix(self):
        return self.parent.partition_mac_prefix

    @property
    def rmc_address(self):
        """Where RMC reaches the partition while it is up: the address
        it was given, else its first address on a virtual Ethernet adapter.
        """
        if self.rmc_ip or self.rmc_state != 'active':
            return self.rmc_ip
        return next((adapter.ip_address for adapter in self.adapters
                     if getattr(adapter, 'ip_address', None)), None)

    @property
    def current_secure_boot(self):
        # The policy takes effect when the partition is activated.
        return self.pending_secure_boot if self.is_running else 0

    @property
    def is_ibmi(self):
        return self.partition_type == 'OS400'

    @property
    def opticonnect_pool(self):
        # Only IBM i partitions show their OptiConnect pools (none used).
        return False if self.is_ibmi else None

    @property
    def migration_data_timestamp(self):
        """When the VIOS storage data for migration was last gathered:
        the partition's creation, as NovaLink formats it."""
        return time.strftime('%a %b %d %H:%M:%S UTC %Y',
                             time.gmtime(self.created / 1000))

    @property
    def physical_cards(self):
        """The cards in the partition's physical I/O slots."""
        return list(self.io_slots)

    @property
    def profile_io_slots(self):
        """The partition's physical slots as its I/O configuration lists
        them."""
        return [system_mod.SlotView(card, self)
                for card in self.physical_cards]

    @property
    def ref_code_full(self):
        return 'refcode=%s' % self.ref_code

    @property
    def migration_state(self):
        if self.migration is None:
            return NOT_MIGRATING
        return MIGRATION_FAILED if self.migration.failed else \
            MIGRATION_STARTING

    def shared_with(self, system):
        # The system a partition migrates to serves it while it moves.
        return self.migration is not None and \
            self.migration.target is system

    @property
    def restricted_io(self):
        return self.partition_type == 'OS400'

    @property
    def ipl_source(self):
        return 'b' if self.partition_type == 'OS400' else None

    # Partition profiles: NovaLink partitions have none, but the element is
    # part of the document.
    no_profiles = ()
    # SR-IOV logical ports and vNICs are not modelled: their lists stay
    # empty.
    no_logical_ports = ()
    # Physical I/O slots assigned to the partition: a VIOS's FC cards, the
    # system's cards a client partition was given.
    io_slots: list = dataclasses.field(default_factory=list, repr=False)

    def client_adapter_hrefs(self, kind):
        return [a.href for a in self.adapters if a.kind == kind]

    @property
    def scsi_client_hrefs(self):
        return self.client_adapter_hrefs('VirtualSCSIClientAdapter')

    @property
    def vfc_client_hrefs(self):
        return self.client_adapter_hrefs('VirtualFibreChannelClientAdapter')

    @property
    def has_shared_procs(self):
        return not self.dedicated

    @property
    def current_mem(self):
        return self.mem_desired if self.is_running else 0

    @property
    def current_proc_units(self):
        return self.proc_units_desired if self.is_running else 0.0

    def used_slots(self):
        return {a.slot for a in self.adapters if a.slot is not None}

    def allocate_slot(self, wanted=None):
        used = self.used_slots()
        if wanted is not None:
            if wanted in used:
                raise registry.Conflict(
                    'Virtual slot %d of partition %s is already in use.' % (
                        wanted, self.name), code='HSCL294C', status=400)
            if not FIRST_FREE_SLOT <= wanted < self.max_virtual_io_slots:
                raise registry.Conflict(
                    'Virtual slot %d is outside the partition\'s %d slots.' % (
                        wanted, self.max_virtual_io_slots), code='HSCL294D',
                    status=400)
            return wanted
        for slot in range(FIRST_FREE_SLOT, self.max_virtual_io_slots):
            if slot not in used:
                return slot
        raise registry.Conflict(
            'Partition %s has no free virtual slot.' % self.name,
            code='HSCL294E', status=400)

    def location_code(self, slot):
        system = self.parent
        return 'U%s.%s.%s-V%d-C%d' % (
            system.machine_type, system.model, system.serial,
            self.partition_id, slot)


@dataclasses.dataclass(kw_only=True, eq=False)
class LPAR(Partition):
    kind: typing.ClassVar[str] = 'LogicalPartition'


@dataclasses.dataclass(kw_only=True, eq=False)
class VIOS(Partition):
    kind: typing.ClassVar[str] = 'VirtualIOServer'
    is_vios: typing.ClassVar[bool] = True
    # Mappings, trunk adapters and SEAs are sections of the VIOS document.
    embedded_kinds: typing.ClassVar[frozenset] = frozenset({
        'VirtualSCSIMapping', 'VirtualFibreChannelMapping',
        'SharedEthernetAdapter', 'TrunkAdapter', 'PhysicalVolume',
        'VirtualOpticalMedia', 'VirtualMediaRepository'})

    partition_type: str = 'Virtual IO Server'
    state: str = RUNNING
    rmc_state: str = 'active'
    vios_version: str = 'VIOS 3.1.4.10'
    os_version: str = 'VIOS 3.1.4.10'
    mem_desired: int = 8192
    mem_min: int = 4096
    mem_max: int = 16384
    proc_units_desired: float = 1.0
    proc_units_min: float = 0.5
    proc_units_max: float = 4.0
    vprocs_desired: int = 2
    vprocs_max: int = 4
    max_virtual_io_slots: int = 2000
    # Storage and network owned by the VIOS (filled by the model).
    volume_groups: list = dataclasses.field(default_factory=list, repr=False)
    physical_volumes: list = dataclasses.field(default_factory=list,
                                               repr=False)
    fc_ports: list = dataclasses.field(default_factory=list, repr=False)
    scsi_mappings: list = dataclasses.field(default_factory=list, repr=False)
    fc_mappings: list = dataclasses.field(default_factory=list, repr=False)
    seas: list = dataclasses.field(default_factory=list, repr=False)
    iscsi_initiator: str = ''
    # iSCSI sessions: [target IQN, portal] (their disks are hdisks).
    iscsi_sessions: list = dataclasses.field(default_factory=list,
                                             repr=False)

    @property
    def volume_group_hrefs(self):
        return [vg.href for vg in self.volume_groups]

    @property
    def media_repositories(self):
        return [vg.media_repository for vg in self.volume_groups
                if getattr(vg, 'media_repository', None)]

    @property
    def trunk_adapters(self):
        return [a for a in self.adapters if getattr(a, 'is_trunk', False)]

    @property
    def rmc_address(self):
        # A VIOS's address moved from its port to the SEA that bridges it.
        address = super().rmc_address
        if address or self.rmc_state != 'active':
            return address
        return next((sea.ip_interface.address for sea in self.seas
                     if sea.ip_interface and sea.ip_interface.address), None)

    @property
    def profile_adapters(self):
        """The VIOS's virtual adapters, as its partition profile lists
        them."""
        views = (ProfileAdapterView(adapter) for adapter in self.adapters)
        return [view for view in views if view.known]

    @property
    def ethernet_ports(self):
        """The ports of the Ethernet card the VIOS's SEAs bridge to (known
        only through a port one of them uses)."""
        known = next((sea.port for sea in self.seas), None)
        if known is None:
            return []
        return system_mod.ethernet_card_ports(known)

    @property
    def free_ethernet_ports(self):
        """Ports no SEA uses: free for new SEAs or link aggregations."""
        used = {sea.port.device_name for sea in self.seas}
        return [port for port in self.ethernet_ports
                if port.device_name not in used]

    @property
    def physical_cards(self):
        cards = super().physical_cards
        ports = self.ethernet_ports
        if ports:
            cards.append(system_mod.ethernet_card(ports))
        return cards


@dataclasses.dataclass(frozen=True)
class ProfileAdapterView:
    """A virtual adapter of a VIOS as its ProfileVirtualIOAdapters list
    shows it: exactly one of the is_* properties holds (made for rendering
    only)."""

    adapter: typing.Any

    def _is(self, kind, trunk=False):
        adapter = self.adapter
        return (adapter.kind == kind and
                bool(getattr(adapter, 'is_trunk', False)) == trunk)

    @property
    def is_cna(self):
        return self._is('ClientNetworkAdapter')

    @property
    def is_trunk(self):
        return self._is('ClientNetworkAdapter', trunk=True)

    @property
    def is_fc_server(self):
        return self._is('VirtualFibreChannelServerAdapter')

    @property
    def is_scsi_server(self):
        return self._is('VirtualSCSIServerAdapter')

    @property
    def is_scsi_client(self):
        return self._is('VirtualSCSIClientAdapter')

    @property
    def known(self):
        return (self.is_cna or self.is_trunk or self.is_fc_server or
                self.is_scsi_server or self.is_scsi_client)

    @property
    def tagged_vlans(self):
        # The profile always lists the adapter's tagged VLANs, maybe none.
        return ' '.join(str(vlan) for vlan in self.adapter.tagged_vlans)


# Fields a client may set when it creates or updates a partition.
_WRITABLE = {
    'name', 'partition_type', 'mem_desired', 'mem_min', 'mem_max',
    'dedicated', 'proc_units_desired', 'proc_units_min', 'proc_units_max',
    'vprocs_desired', 'vprocs_min', 'vprocs_max', 'sharing_mode',
    'uncapped_weight', 'shared_pool_id', 'proc_compat_mode',
    'availability_priority', 'max_virtual_io_slots', 'keylock', 'boot_mode',
    'load_source', 'console', 'alt_load_source', 'pending_secure_boot',
    'srr_capable', 'allow_perf_data', 'description', 'nvram',
}
_SHARING_MODES = {
    'capped', 'uncapped', 'keep idle procs', 'sre idle proces',
    'sre idle procs active', 'sre idle procs always'}


class PartitionOps:
    """Partition behaviour of the model (mixed into ``Model``)."""

    def create_lpar(self, system, fields):
        with self.registry.lock:
            uuid = (fields.get('uuid') or registry.new_uuid()).upper()
            # Another system's partition may have the UUID: this NovaLink
            # does not know it.
            if self.registry.find(uuid, within=system) is not None:
                raise registry.Conflict(
                    'A partition with UUID %s already exists.' % uuid,
                    code='HSCL3A3C')
            lpar = LPAR(uuid=uuid, parent=system, name=fields['name'])
            self._apply_partition_fields(lpar, fields, creating=True)
            cards = _wanted_io_cards(lpar, fields)
            system.check_capacity(lpar.mem_desired, lpar.proc_units)
            lpar.partition_id = system.next_partition_id()
            system.partitions.append(lpar)
            _assign_io_cards(lpar, cards)
            self.registry.add(lpar)
            return lpar

    def update_partition(self, part, fields):
        with self.registry.lock:
            if part.migration is not None:
                raise registry.Conflict(
                    'Partition %s cannot change while it migrates.' %
                    part.name, code=BAD_STATE)
            before = dataclasses.replace(part)
            try:
                self._apply_partition_fields(part, fields, creating=False)
                self._check_resize(before, part)
                cards = _wanted_io_cards(part, fields)
                _check_io_change(part, cards)
            except registry.Conflict:
                # A refused update leaves the partition as it was.
                for name in _WRITABLE:
                    setattr(part, name, getattr(before, name))
                raise
            _assign_io_cards(part, cards)
            self.registry.changed(part)
            return part

    def delete_partition(self, part):
        with self.registry.lock:
            if part.is_running:
                raise registry.Conflict(
                    'Partition %s must be powered off before it is '
                    'deleted.' % part.name, code='HSCL1548')
            # Client adapters go with the partition; the VIOS side of its
            # mappings stays behind, as on real NovaLink, for the client to
            # clean up (pypowervm's scrubbers look for exactly these).
            for adapter in list(part.adapters):
                self.remove_adapter(adapter)
            if not part.is_vios:
                # Its physical slots go back to the system.
                _assign_io_cards(part, [])
            part.parent.partitions.remove(part)
            self.registry.remove(part)

    def set_partition_state(self, part, state, rmc_state=None):
        with self.registry.lock:
            part.state = state
            if rmc_state is not None:
                part.rmc_state = rmc_state
            part.ref_code = '00000000' if state != STARTING else 'CA00E1F1'
            self.registry.changed(part, detail='PartitionState,Other')

    def write_nvram(self, part, text=None):
        """The guest of ``part`` writes its NVRAM: ``text`` (base64), or
        bytes of its own that differ from every earlier write.  NovaLink
        reports it as a MODIFY of the partition with detail NVRAM.

        :returns: the partition's NVRAM now.
        """
        with self.registry.lock:
            if part.is_vios:
                raise registry.Conflict(
                    'Partition %s is a Virtual I/O Server.' % part.name,
                    status=400)
            if text is None:
                text = _guest_nvram(part.uuid, next(_GUEST_WRITES))
            else:
                _check_nvram(text)
            part.nvram_writes += 1
            part.nvram = text or None
            self.registry.changed(part, detail='NVRAM')
            return part.nvram

    def lpars(self, system=None):
        parts = self.registry.of_kind(LPAR.kind)
        if system is not None:
            parts = [p for p in parts if p.parent is system]
        return parts

    def vioses(self, system=None):
        parts = self.registry.of_kind(VIOS.kind)
        if system is not None:
            parts = [p for p in parts if p.parent is system]
        return parts

    # -------------------------------------------------------------- helpers
    def _apply_partition_fields(self, part, fields, creating):
        for name, value in fields.items():
            if name not in _WRITABLE:
                continue
            if name == 'partition_type' and not creating and \
                    value != part.partition_type:
                raise registry.Conflict(
                    'The partition type cannot be changed.', code='HSCL1557',
                    status=400)
            if name == 'nvram':
                _check_nvram(value)
                # An empty PartitionNVRAM is no NVRAM.
                value = value or None
            setattr(part, name, value)
        _validate_partition(part)

    def _check_resize(self, before, after):
        if before.is_running and (
                after.mem_desired != before.mem_desired or
                after.proc_units != before.proc_units) and \
                after.rmc_state != 'active':
            raise registry.Conflict(
                'Partition %s cannot be resized while running without an '
                'active RMC connection.' % after.name, code='HSCL2926')
        after.parent.check_capacity(after.mem_desired, after.proc_units,
                                    replacing=before)


# Bytes of the NVRAM a simulated guest writes: as much as a small real
# partition's.
_GUEST_NVRAM_BYTES = 4096


# Numbers the writes of every guest of the process: a partition made
# again with the same UUID (on another system, or after a delete) never
# writes what an earlier one did.
_GUEST_WRITES = itertools.count(1)


def _guest_nvram(uuid, write):
    """The base64 NVRAM the guest of partition ``uuid`` writes as the
    process's ``write``-th guest write: different for every write."""
    seed = ('%s/%d' % (uuid, write)).encode()
    data = b''.join(hashlib.sha256(seed + b'/%d' % block).digest()
                    for block in range(_GUEST_NVRAM_BYTES // 32))
    return base64.b64encode(data).decode()


def _check_nvram(text):
    """Refuse (400) NVRAM that is not base64 text."""
    try:
        if not isinstance(text, str):
            raise ValueError(text)
        base64.b64decode(text, validate=True)
    except ValueError:
        raise registry.Conflict('PartitionNVRAM must be base64 text.',
                                code='HSCL1553', status=400) from None


def _wanted_io_cards(part, fields):
    """[(card, required)] for the physical slots a client's body assigns
    to ``part``, or None when it leaves them as they are.

    A VIOS's slots hold the cards its storage and Shared Ethernet Adapters
    are built on; the simulator does not move them, so a VIOS body's
    ProfileIOSlots are not read.
    """
    items = fields.get('profile_io_slots')
    if items is None or part.is_vios:
        return None
    wanted = []
    for item in items:
        drc_index = item.get('drc_index')
        if drc_index is None:
            raise registry.Conflict(
                'An I/O slot must be named by its '
                'SlotDynamicReconfigurationConnectorIndex.',
                code='HSCL1570', status=400)
        view = part.parent.slot(drc_index)
        if view is None:
            raise registry.Conflict(
                'The managed system has no I/O slot with DRC index %d.' %
                drc_index, code='HSCL1571', status=400)
        if view.sriov_capable:
            raise registry.Conflict(
                'The I/O slot %s holds an SR-IOV adapter in shared mode: '
                'its logical ports are assigned instead.' %
                view.card.drc_name, code='HSCL1572', status=400)
        if view.owner is not None and view.owner is not part:
            raise registry.Conflict(
                'The I/O slot %s is assigned to partition %s.' % (
                    view.card.drc_name, view.owner.name), code='HSCL1573')
        if view.card in dict(wanted):
            raise registry.Conflict(
                'The I/O slot %s is listed twice.' % view.card.drc_name,
                code='HSCL1574', status=400)
        wanted.append((view.card, item.get('required', False)))
    return wanted


def _check_io_change(part, wanted):
    # Moving a slot in or out of a running partition is a dynamic LPAR
    # operation: the partition's RMC connection has to be up.
    if wanted is None or not part.is_running or part.rmc_state == 'active':
        return
    if set(dict(wanted)) != set(part.io_slots):
        raise registry.Conflict(
            'The I/O slots of partition %s cannot be changed while it is '
            'running without an active RMC connection.' % part.name,
            code='HSCL2926')


def _assign_io_cards(part, wanted):
    """Give ``part`` exactly the cards of ``wanted`` (see
    _wanted_io_cards); the cards it gives up go back to the system."""
    if wanted is None:
        return
    system = part.parent
    kept = dict(wanted)
    for card in part.io_slots:
        if card not in kept:
            card.required = False
            system.io_cards.append(card)
    for card, required in kept.items():
        if card in system.io_cards:
            system.io_cards.remove(card)
        card.required = required
    part.io_slots[:] = sorted(kept, key=lambda card: card.drc_index)


def _validate_partition(part):
    def bad(message, code='HSCL1553'):
        raise registry.Conflict(message, code=code, status=400)

    if not part.name or len(part.name) > 47:
        bad('The partition name must be 1 to 47 characters long.')
    if part.partition_type not in LPAR_TYPES:
        bad('Unknown partition type %r.' % part.partition_type)
    if not part.mem_min <= part.mem_desired <= part.mem_max:
        bad('Memory must satisfy minimum <= desired <= maximum '
            '(%d, %d, %d MB).' % (part.mem_min, part.mem_desired,
                                  part.mem_max))
    region = part.parent.memory_region_size
    for value in (part.mem_min, part.mem_desired, part.mem_max):
        if value % region:
            bad('Memory values must be multiples of the %d MB memory '
                'region size (got %d).' % (region, value))
    if not part.vprocs_min <= part.vprocs_desired <= part.vprocs_max:
        bad('Virtual processors must satisfy minimum <= desired <= maximum.')
    if not part.dedicated:
        if not (part.proc_units_min <= part.proc_units_desired <=
                part.proc_units_max):
            bad('Processing units must satisfy minimum <= desired <= '
                'maximum.')
        if part.proc_units_desired < part.vprocs_desired * 0.05 - 1e-9:
            bad('At least 0.05 processing units are needed per virtual '
                'processor.')
    if not 0 <= part.pending_secure_boot <= 9:
        bad('The secure boot policy must be 0 to 9.')
    if part.boot_mode not in boot_mod.PARTITION_BOOT_MODES:
        bad('Unknown boot mode %r.' % part.boot_mode)
    if part.sharing_mode not in _SHARING_MODES:
        bad('Unknown sharing mode %r.' % part.sharing_mode)
    if not 0 <= part.uncapped_weight <= 255:
        bad('Uncapped weight must be 0 to 255.')
    if part.proc_compat_mode not in part.parent.proc_compat_modes:
        bad('Processor compatibility mode %r is not supported by the '
            'managed system.' % part.proc_compat_mode)
