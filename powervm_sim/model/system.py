"""Managed systems: the POWER servers, their capacity, capabilities and
physical I/O."""

import dataclasses
import typing
import zlib

from powervm_sim.model import registry

# Memory the hypervisor keeps for itself on a fresh system, in MB.
FIRMWARE_MEMORY_MB = 4096
# The first three bytes of the MAC addresses the model gives virtual
# Ethernet adapters (Model counts them up from 0x1A2B3C000001).
VIRTUAL_MAC_PREFIX = 0x1A2B3C
# Logical ports a slot could host if it held an SR-IOV card.
SLOT_LOGICAL_PORT_LIMIT = 120
# Console code pages an IBM i partition of the system may use.
IBMI_CONSOLE_CODE_PAGES = (
    '37:37 United States, Canada', '273:273 Austria, Germany',
    '297:297 France', '500:500 International',
    '930:930 Japanese (Katakana)')


# ------------------------------------------------------------ physical I/O
@dataclasses.dataclass(kw_only=True, eq=False)
class IODevice:
    """What the service processor found in a slot (an IORDevice): a PCI
    function of the card, or a controller, disk or enclosure behind one.

    A field a kind of device has no value for stays None and is not shown.
    """

    device_type: str
    parent_name: str
    slot_child_id: int
    location_code: str
    description: str
    parent_drc_index: int | None = None
    pci_device_id: int | None = None
    pci_vendor_id: int | None = None
    pci_subsys_device_id: int | None = None
    pci_subsys_vendor_id: int | None = None
    pci_revision_id: int | None = None
    programming_interface: int | None = None
    pci_class: int | None = None
    primary_function: bool | None = None
    serial_number: str | None = None
    fru_number: str | None = None
    part_number: str | None = None
    ccin: str | None = None
    parent_slot_child_id: int | None = None
    enclosure_bays: int | None = None
    size_mb: int | None = None
    mac_address: str | None = None
    microcode_version: str | None = None
    wwpn: str | None = None
    wwnn: str | None = None

    @property
    def size_metric(self):
        return 'MB' if self.size_mb is not None else None


def pci_function(card, number, location_code, **vpd):
    """The IORDevice of function ``number`` (1-based) of ``card``."""
    return IODevice(
        device_type='PCIFunction', parent_name=card.drc_name,
        slot_child_id=number, location_code=location_code,
        description=card.description, parent_drc_index=card.drc_index,
        pci_device_id=card.pci_device_id, pci_vendor_id=card.pci_vendor_id,
        pci_subsys_device_id=card.pci_subsys_device_id,
        pci_subsys_vendor_id=card.pci_subsys_vendor_id,
        pci_revision_id=card.pci_revision_id, programming_interface=0,
        pci_class=card.pci_class, primary_function=number == 1, **vpd)


@dataclasses.dataclass(kw_only=True, eq=False)
class SRIOVPhysicalPort:
    """A port of an SR-IOV adapter.  No logical ports are configured on
    it: the simulator does not model SR-IOV logical ports."""

    port_id: int
    location_code: str
    mac_address: str
    # 10 Gb ports that also carry FCoE ('Cna'); the others are 1 Gb.
    converged: bool
    logical_port_limit: int
    link_up: bool = True
    label: str = ''
    sub_label: str = ''

    capabilities = ('Clear Logical Port Stat', 'Clear Physical Port Stat',
                    'IEEE8021Q_Priority', 'Mac Vlan ACL Restriction', 'Pvid')
    supported_mtus = ('E_1500', 'E_9000')
    supported_options = ('autoDuplex', 'fullDuplex', 'promiscousMode',
                         'receiveFlowControl', 'transmitFlowControl', 'Veb',
                         'Vepa')

    @property
    def port_type(self):
        return 'Cna' if self.converged else 'Ethernet'

    @property
    def current_speed(self):
        if not self.link_up:
            return 'Unknown'
        return 'E10Gbps' if self.converged else 'E1Gbps'

    @property
    def supported_speeds(self):
        if self.converged:
            return ('Auto', 'E10Gbps')
        return ('Auto', 'E100Mbps', 'E1Gbps')

    @property
    def current_options(self):
        return ('fullDuplex', 'linkUp', 'Veb') if self.link_up else ('Veb',)


@dataclasses.dataclass(frozen=True)
class UnconfiguredLogicalPort:
    """A virtual function of an SR-IOV adapter no logical port uses yet
    (made for rendering only)."""

    drc_index: int
    drc_name: str
    location_code: str


class SlotLocation:
    """Where a card sits, read from its slot's DRC name
    (``U78CB.001.<serial>-P1-C6``: the I/O unit, then the slot)."""

    @property
    def io_unit(self):
        return self.drc_name.split('-', 1)[0]

    @property
    def physical_location(self):
        return self.drc_name.rsplit('-', 1)[1]

    @property
    def adapter_id(self):
        return self.drc_index


@dataclasses.dataclass(kw_only=True, eq=False)
class IOCard(SlotLocation):
    """A PCIe card of the system that no partition holds in its I/O slots:
    an SR-IOV adapter in shared mode (the hypervisor owns it) or a card left
    unassigned.

    Its attributes are named like those of the partitions' cards
    (mapping.PhysicalFCAdapter), so the system lists both alike.
    """

    drc_name: str
    drc_index: int
    description: str
    feature_codes: tuple = ()
    pci_class: int
    pci_device_id: int
    pci_subsys_device_id: int
    pci_manufacturer_id: int
    pci_revision_id: int
    pci_vendor_id: int
    pci_subsys_vendor_id: int
    ccin: str
    serial_number: str
    # What the service processor reports under the slot.
    devices: list = dataclasses.field(default_factory=list)
    # SR-IOV adapters only: the adapter's number and its ports.
    sriov_adapter_id: int | None = None
    sriov_ports: list = dataclasses.field(default_factory=list)
    max_logical_ports: int = 0
    # Set by the partition that holds the card in its I/O slots: whether
    # the partition may not be activated without it (IsRequired).
    required: bool = False

    # No SR-IOV logical port is modelled, so none is listed.
    logical_port_hrefs = ()

    @property
    def converged_ports(self):
        return [port for port in self.sriov_ports if port.converged]

    @property
    def ethernet_ports(self):
        return [port for port in self.sriov_ports if not port.converged]

    @property
    def unconfigured_logical_ports(self):
        # Virtual function n of adapter a sits at DRC index
        # 0x27000000 + a * 0x4000 + n, as on real SR-IOV adapters.
        base = self.sriov_adapter_id * 0x4000
        first_port = self.sriov_ports[0].location_code
        return [UnconfiguredLogicalPort(
            drc_index=0x27000000 + base + number,
            drc_name='PHB %d' % (base + number),
            location_code='%s-S%d' % (first_port, number))
            for number in range(1, self.max_logical_ports + 1)]


# Vital product data of the partitions' Fibre Channel cards, by feature
# code (the cards themselves carry only what their own documents show).
_FC_CARD_VPD = {
    '5735': {'ccin': '577D', 'fru_number': '10N9824',
             'part_number': '10N9824', 'microcode_version': '0320080f'},
}


@dataclasses.dataclass(eq=False)
class SlotView:
    """A card in a physical slot as the ManagedSystem document shows it,
    with the partition that owns the slot, if any (made for each rendering,
    never stored).

    Every slot of these systems sits on its own PCIe host bridge, so the
    view is the slot's I/O bus as well.
    """

    card: typing.Any
    owner: typing.Any = None

    @property
    def drc_index(self):
        return self.card.drc_index

    @property
    def required(self):
        # The VIOSes' Fibre Channel cards (mapping.PhysicalFCAdapter) come
        # with the VIOS and are never marked required.
        return getattr(self.card, 'required', False)

    @property
    def is_fc_card(self):
        """Whether the card is a Fibre Channel card (it has FC ports)."""
        return not isinstance(self.card, IOCard)

    @property
    def is_generic_card(self):
        """Whether the card shows as a plain I/O adapter."""
        return isinstance(self.card, IOCard)

    @property
    def bus_id(self):
        return self.card.drc_index & 0xFF

    @property
    def bus_drc_index(self):
        return 0x20000000 + self.bus_id

    @property
    def bus_drc_name(self):
        return 'PHB %d' % self.bus_id

    @property
    def backplane(self):
        return self.card.io_unit + '-P1'

    @property
    def bus_slots(self):
        return [self]

    @property
    def sriov_capable(self):
        return bool(getattr(self.card, 'sriov_adapter_id', None))

    @property
    def logical_port_limit(self):
        if self.sriov_capable:
            return self.card.max_logical_ports
        return SLOT_LOGICAL_PORT_LIMIT

    @property
    def ccin(self):
        return getattr(self.card, 'ccin', None) or self._fc_vpd.get('ccin')

    @property
    def serial_number(self):
        serial = getattr(self.card, 'serial_number', None)
        return serial or 'YL10%08X' % self.card.drc_index

    @property
    def devices(self):
        if isinstance(self.card, IOCard):
            return self.card.devices
        # A Fibre Channel card shows one PCI function per port.
        return [pci_function(
            self.card, number, port.location_code,
            serial_number=self.serial_number, wwpn=port.wwpn.lower(),
            wwnn=port.wwnn.lower(), **self._fc_vpd)
            for number, port in enumerate(self.card.ports, start=1)]

    @property
    def _fc_vpd(self):
        codes = getattr(self.card, 'feature_codes', ())
        return next((_FC_CARD_VPD[code] for code in codes
                     if code in _FC_CARD_VPD), {})


# A VIOS's Ethernet card has four ports, ent0-ent3 at -T1 to -T4.
ETHERNET_CARD_PORTS = 4


@dataclasses.dataclass(frozen=True)
class PhysicalEthernetPort:
    """A port (entN) of a VIOS's Ethernet card (made for rendering only)."""

    device_name: str
    location_code: str
    description: str
    adapter_id: int = 1

    @property
    def udid(self):
        return '13' + self.location_code

    @property
    def interface_name(self):
        return 'en' + self.device_name[len('ent'):]

    @property
    def mac_address(self):
        return '%012x' % (0x00145E000000 | (zlib.crc32(
            self.location_code.encode()) & 0xFFFFFF))


def ethernet_card(ports):
    """The 4-port 1 Gb Ethernet card holding ``ports``, as the system
    lists it among its slots."""
    drc_name = ports[0].location_code.rsplit('-', 1)[0]
    slot = int(drc_name.rsplit('-C', 1)[1])
    card = IOCard(
        drc_name=drc_name, drc_index=0x21010200 + slot,
        description='1 Gigabit Ethernet (UTP) 4 Port Adapter PCIE-4x/Short',
        feature_codes=('5899',), pci_class=512, pci_device_id=5719,
        pci_subsys_device_id=1056, pci_manufacturer_id=5348,
        pci_revision_id=1, pci_vendor_id=5348, pci_subsys_vendor_id=4116,
        ccin='576F', serial_number='YL12%08X' % (zlib.crc32(
            drc_name.encode()) & 0xFFFFFFFF))
    card.devices = [pci_function(
        card, number, port.location_code, serial_number=card.serial_number,
        fru_number='74Y4064', part_number='74Y4063', ccin=card.ccin,
        mac_address=port.mac_address, microcode_version='0509060f')
        for number, port in enumerate(ports, start=1)]
    return card


def ethernet_card_ports(known):
    """Every port of the VIOS Ethernet card that holds port ``known``."""
    card = known.location_code.rsplit('-', 1)[0]
    return [PhysicalEthernetPort(
        device_name='ent%d' % number, description=known.description,
        location_code='%s-T%d' % (card, number + 1))
        for number in range(ETHERNET_CARD_PORTS)]


def _sriov_card(serial, unit):
    """A 4-port SR-IOV adapter (2 x 10 Gb FCoE, 2 x 1 Gb) in shared mode."""
    drc_name = unit + '-P1-C4'
    card = IOCard(
        drc_name=drc_name, drc_index=0x21010220,
        description='PCIe2 4-port (10Gb FCoE & 1GbE) SR&RJ45 Adapter',
        feature_codes=('EN0J',), pci_class=512, pci_device_id=57888,
        pci_subsys_device_id=1039, pci_manufacturer_id=4319,
        pci_revision_id=48, pci_vendor_id=4319, pci_subsys_vendor_id=4116,
        ccin='2CC1', serial_number='YL30%s' % serial[-8:],
        sriov_adapter_id=1, max_logical_ports=48)
    mac_base = 0x98BE94000000 + ((zlib.crc32(serial.encode()) & 0xFFFF) << 8)
    for number in range(4):
        converged = number < 2
        port = SRIOVPhysicalPort(
            port_id=number, location_code='%s-T%d' % (drc_name, number + 1),
            mac_address='%012x' % (mac_base + number), converged=converged,
            logical_port_limit=20 if converged else 4,
            # Only the first 10 Gb port is cabled.
            link_up=number in (0, 2))
        card.sriov_ports.append(port)
        card.devices.append(pci_function(
            card, number + 1, port.location_code,
            serial_number=card.serial_number, fru_number='00E3801',
            part_number='00E3802', ccin=card.ccin,
            mac_address=port.mac_address, microcode_version='10050780'))
    return card


def _sas_card(serial, unit):
    """The CEC's internal SAS RAID controller with its disk backplane:
    two 600 GB disks in a six-bay enclosure.  No partition owns it (the
    VIOSes boot from SAN)."""
    drc_name = unit + '-P1-C14'
    card = IOCard(
        drc_name=drc_name, drc_index=0x21030215,
        description='PCIe3 x8 SAS RAID Internal Adapter 6Gb',
        feature_codes=('EJ0J',), pci_class=260, pci_device_id=842,
        pci_subsys_device_id=1023, pci_manufacturer_id=4116,
        pci_revision_id=2, pci_vendor_id=4116, pci_subsys_vendor_id=4116,
        ccin='57D7', serial_number='YR10%s' % serial[-8:])
    port = drc_name + '-T1'
    function = pci_function(
        card, 1, port, serial_number=card.serial_number,
        fru_number='00MH962', part_number='00MH963', ccin=card.ccin,
        microcode_version='13511e00')
    bus = IODevice(device_type='SASBusController', parent_name=port,
                   slot_child_id=2, parent_slot_child_id=1,
                   location_code=port, description='SAS Bus Controller')
    card.devices += [function, bus]
    for bay in (1, 2):
        card.devices.append(IODevice(
            device_type='SASDevice', parent_name=port,
            slot_child_id=2 + bay, parent_slot_child_id=2,
            location_code='%s-P2-D%d' % (unit, bay), description='Disk',
            serial_number='S7M0%04X' % (zlib.crc32(
                ('%s%d' % (serial, bay)).encode()) & 0xFFFF),
            fru_number='00E9914', part_number='00E9911', ccin='59E4',
            size_mb=600000, microcode_version='37363130'))
    card.devices.append(IODevice(
        device_type='SASDevice', parent_name=port, slot_child_id=5,
        parent_slot_child_id=2, location_code=unit + '-P2',
        description='SES Controller', serial_number='YL10%s' % serial[-8:],
        fru_number='00E1945', ccin='2B09', enclosure_bays=6,
        microcode_version='03'))
    return card


def _plain_number(value):
    return int(value) if float(value).is_integer() else value


def standard_io_cards(serial):
    """The cards of a fresh system that no partition owns."""
    unit = 'U78CB.001.%s' % serial
    return [_sriov_card(serial, unit), _sas_card(serial, unit)]


# ------------------------------------------------------------------ system
@dataclasses.dataclass(kw_only=True, eq=False)
class ManagedSystem(registry.Resource):
    kind: typing.ClassVar[str] = 'ManagedSystem'
    # The system document lists its partitions, switches, networks and
    # bridges and adds up the partitions' resources: its etag moves with
    # theirs.
    embedded_kinds: typing.ClassVar[frozenset] = frozenset({
        'LogicalPartition', 'VirtualIOServer', 'VirtualSwitch',
        'VirtualNetwork', 'NetworkBridge'})

    name: str
    machine_type: str = '9009'
    model: str = '42A'
    serial: str = '21EE2DV'
    state: str = 'operating'
    primary_ip: str = '127.0.0.1'
    memory_installed: int = 262144
    memory_configurable: int = 262144
    memory_region_size: int = 256
    proc_units_installed: float = 20.0
    proc_units_configurable: float = 20.0
    max_partitions: int = 1000
    max_procs_per_partition: int = 64
    max_vcpus_per_partition: int = 128
    min_proc_units_per_cpu: float = 0.05
    proc_compat_modes: tuple = (
        'default', 'POWER7', 'POWER8', 'POWER9_Base', 'POWER9')
    active_lpm_capable: bool = True
    inactive_lpm_capable: bool = True
    ibmi_capable: bool = True
    srr_capable: bool = True
    max_active_migrations: int = 16
    max_inactive_migrations: int = 16
    firmware_level: str = 'FW950.80 (56)'
    service_processor_version: str = '00090000'
    attention_led: bool = False
    available_wwpns: int = 65000
    wwpn_prefix: str = 'C05076'
    # WWPNs GetNextWWPNs has handed out: the next ones follow them.
    wwpns_issued: int = 0
    # Cards no partition owns (None: the standard set of a fresh system).
    io_cards: list | None = None
    # Filled by the model as partitions come and go.
    partitions: list = dataclasses.field(default_factory=list, repr=False)
    # Partitions migrating here: the system holds their memory, processors
    # and partition IDs, and its NovaLink serves them, until they arrive.
    incoming: list = dataclasses.field(default_factory=list, repr=False)
    vswitches: list = dataclasses.field(default_factory=list, repr=False)
    # Its NovaLink's ManagementConsole (model.console), given by the model.
    console: typing.Any = dataclasses.field(default=None, repr=False)

    def __post_init__(self):
        if self.io_cards is None:
            self.io_cards = standard_io_cards(self.serial)

    # ------------------------------------------------------------ capacity
    @property
    def memory_used_by_firmware(self):
        return FIRMWARE_MEMORY_MB

    @property
    def served_partitions(self):
        """Its partitions and those migrating here: what its NovaLink
        lists."""
        return self.partitions + self.incoming

    @property
    def memory_assigned(self):
        return sum(p.mem_desired for p in self.served_partitions)

    @property
    def memory_available(self):
        return (self.memory_configurable - self.memory_used_by_firmware -
                self.memory_assigned)

    @property
    def proc_units_assigned(self):
        return round(sum(p.proc_units for p in self.served_partitions), 2)

    @property
    def proc_units_available(self):
        return round(self.proc_units_configurable -
                     self.proc_units_assigned, 2)

    # NovaLink writes whole processing units without a fraction ('20').
    @property
    def installed_units_text(self):
        return _plain_number(self.proc_units_installed)

    @property
    def configurable_units_text(self):
        return _plain_number(self.proc_units_configurable)

    @property
    def available_units_text(self):
        return _plain_number(self.proc_units_available)

    @property
    def mtms(self):
        return '%s-%s*%s' % (self.machine_type, self.model, self.serial)

    @property
    def active_migrations(self):
        leaving = [p for p in self.partitions if p.migration is not None]
        return len(leaving) + len(self.incoming)

    @property
    def activated_level(self):
        """The firmware's service pack number: 'FW950.80 (56)' -> 56."""
        return self.firmware_level.rsplit('(', 1)[-1].rstrip(')')

    @property
    def system_time(self):
        return registry.now_ms()

    @property
    def ibmi_console_code_pages(self):
        return IBMI_CONSOLE_CODE_PAGES if self.ibmi_capable else ()

    # ------------------------------------------------------------------ I/O
    @property
    def io_slots(self):
        """Every card of the system, in DRC index order, with its owner."""
        views = [SlotView(card) for card in self.io_cards]
        views += [SlotView(card, part) for part in self.partitions
                  for card in part.physical_cards]
        return sorted(views, key=lambda view: view.card.drc_index)

    @property
    def sriov_adapters(self):
        return [card for card in self.io_cards if card.sriov_adapter_id]

    def slot(self, drc_index):
        """The SlotView of the card in slot ``drc_index``, or None."""
        return next((view for view in self.io_slots
                     if view.card.drc_index == drc_index), None)

    @property
    def wwpn_prefix_number(self):
        """The WWPN prefix as NovaLink shows it: a decimal 64-bit WWPN."""
        return int(self.wwpn_prefix.ljust(16, '0'), 16)

    @property
    def mac_prefix_text(self):
        return '%06X' % VIRTUAL_MAC_PREFIX

    @property
    def partition_mac_prefix(self):
        """The MAC prefix a partition document shows: the three prefix
        bytes followed by three zero bytes, as a decimal number."""
        return VIRTUAL_MAC_PREFIX << 24

    # ---------------------------------------------------------------- links
    @property
    def lpar_hrefs(self):
        return [p.href for p in self.served_partitions if not p.is_vios]

    @property
    def vswitch_hrefs(self):
        return [v.href for v in self.vswitches]

    @property
    def vnet_hrefs(self):
        return [n.href for v in self.vswitches for n in v.networks]

    @property
    def bridge_hrefs(self):
        return [b.href for v in self.vswitches for b in v.bridges]

    @property
    def vios_hrefs(self):
        return [p.href for p in self.partitions if p.is_vios]

    @property
    def io_unit(self):
        """The location of the system's I/O unit (its PCIe slots are
        ``<io_unit>-P1-C<n>``)."""
        return 'U78CB.001.%s' % self.serial

    def free_card_slot(self, first):
        """The lowest PCIe slot number from ``first`` holding no card."""
        taken = {view.card.drc_name for view in self.io_slots}
        slot = first
        while '%s-P1-C%d' % (self.io_unit, slot) in taken:
            slot += 1
        return slot

    def partition_ids_in_use(self):
        return {p.partition_id for p in self.partitions} | {
            p.migration.target_id for p in self.incoming}

    @property
    def mgmt_partition(self):
        """The NovaLink partition (an LPAR, or the management VIOS when it
        hosts I/O), or None."""
        return next((p for p in self.partitions if p.is_mgmt), None)

    def next_partition_id(self):
        used = self.partition_ids_in_use()
        for candidate in range(1, self.max_partitions + 1):
            if candidate not in used:
                return candidate
        raise registry.Conflict(
            'The managed system has no free partition ID.',
            code='HSCL1562')

    def check_capacity(self, mem_mb, proc_units, replacing=None):
        """Raise a NovaLink-style Conflict when resources are short."""
        mem_free = self.memory_available
        units_free = self.proc_units_available
        if replacing is not None:
            mem_free += replacing.mem_desired
            units_free += replacing.proc_units
        if mem_mb > mem_free:
            raise registry.Conflict(
                'There is not enough memory available on the managed system: '
                '%d MB requested, %d MB available.' % (mem_mb, mem_free),
                code='HSCL1544', status=400)
        if proc_units > units_free + 1e-9:
            raise registry.Conflict(
                'There are not enough processing units available on the '
                'managed system: %.2f requested, %.2f available.' % (
                    proc_units, units_free),
                code='HSCL1545', status=400)
