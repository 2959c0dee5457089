"""Start the simulator from an inventory recorded on real hardware.

``load(path)`` reads a Ruby VCR cassette of an HMC or NovaLink inventory
walk (such as ManageIQ's refresher.yml: ManagedSystem, VirtualSwitch,
VirtualNetwork, LogicalPartition and VirtualIOServer feeds) and builds a
model holding what the recording shows: each managed system's capacity,
its switches and networks, its VIOSes (state, RMC, physical volumes,
Fibre Channel ports, media repository) and its client LPARs (names, UUIDs,
states, memory, processors).

What the model does not represent, or the recording does not hold, is
skipped and listed in ``Imported.skipped``.  What a NovaLink-managed host
needs and the recording lacks is added and listed in ``Imported.added``:
the NovaLink partition (an HMC-managed system has none), rootvg and a volume
group with free space for instance disks (an HMC walk lists a VIOS's volume
groups by link only).
"""

import base64
import dataclasses

from lxml import etree
import yaml

from powervm_sim import model as model_mod
from powervm_sim.model import mapping
from powervm_sim.model import partition
from powervm_sim.model import storage

_ATOM = '{http://www.w3.org/2005/Atom}'
# libyaml reads a cassette of several MB ten times faster, if present;
# both are safe loaders (plain data, no Python objects).
_YAML_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
# HMC shows the default switch as 'ETHERNET0(Default)'; its name is
# ETHERNET0.
_DEFAULT_SWITCH_MARK = '(Default)'
# The disk the importer gives a ready VIOS for instance disks, in MB.
INSTANCE_VG = 'novavg'
INSTANCE_VG_DISK_MB = 200 * storage.MB_PER_GB
# AIX installs the VIOS on its first disk.
ROOTVG_DISK = 'hdisk0'
_NOVALINK_FIELDS = {
    'is_mgmt': True, 'state': partition.RUNNING, 'rmc_state': 'active',
    'mem_desired': 4096, 'mem_min': 2048, 'mem_max': 8192,
    'proc_units_desired': 0.5, 'proc_units_min': 0.5,
    'proc_units_max': 2.0, 'vprocs_desired': 2, 'vprocs_max': 4,
    'os_version': 'Linux/Ubuntu 22.04'}
# Sections of the recorded documents the model has no place for.
_UNMODELLED_VIOS_PARTS = (
    ('SharedEthernetAdapters/SharedEthernetAdapter', 'SEAs'),
    ('TrunkAdapters/TrunkAdapter', 'trunk adapters'),
    ('VirtualSCSIMappings/VirtualSCSIMapping', 'vSCSI mappings'),
    ('VirtualFibreChannelMappings/VirtualFibreChannelMapping',
     'virtual FC mappings'),
)


@dataclasses.dataclass
class Imported:
    """The model built from a recording and what became of the recording.

    ``imported``: kind -> names of what came from the recording.
    ``added``: what the importer made up, and why.
    ``skipped``: what the recording holds that the model does not take.
    """

    model: model_mod.Model
    imported: dict = dataclasses.field(default_factory=dict)
    added: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)

    def note(self, kind, name):
        self.imported.setdefault(kind, []).append(name)


# ------------------------------------------------------------- recording
def _vcr_body(body):
    if not body:
        return ''
    if 'base64_string' in body:
        return base64.b64decode(body['base64_string']).decode(
            'utf-8', errors='replace')
    return body.get('string') or ''


def recorded_documents(path):
    """(request path, Atom root element) of each XML answer to a GET."""
    with open(path, encoding='utf-8') as cassette:
        document = yaml.load(cassette, Loader=_YAML_LOADER)  # noqa: S506
    parser = etree.XMLParser(resolve_entities=False, no_network=True,
                             remove_comments=True)
    for item in document.get('http_interactions') or []:
        request, response = item['request'], item['response']
        if str(request['method']).upper() != 'GET':
            continue
        if int((response.get('status') or {}).get('code', 0)) != 200:
            continue
        body = _vcr_body(response.get('body')).lstrip()
        if not body.startswith('<'):
            continue
        path_only = request['uri'].split('://', 1)[-1].split('/', 1)[-1]
        yield ('/' + path_only.split('?', 1)[0],
               etree.fromstring(body.encode('utf-8'), parser=parser))


def _objects(root):
    """The object element of each Atom entry of a feed or entry."""
    entries = [root] if root.tag == _ATOM + 'entry' else root.findall(
        _ATOM + 'entry')
    for entry in entries:
        content = entry.find(_ATOM + 'content')
        if content is not None and len(content):
            yield content[0]


class _Recording:
    """The recorded objects, by type and by the managed system holding
    them."""

    def __init__(self, path):
        self.systems = {}
        self.children = {}
        for request_path, root in recorded_documents(path):
            parts = request_path.rstrip('/').split('/')
            for element in _objects(root):
                kind = etree.QName(element).localname
                if kind == 'ManagedSystem':
                    self.systems.setdefault(_uuid_of(element), element)
                elif len(parts) >= 7 and parts[4] == 'ManagedSystem':
                    # /rest/api/uom/ManagedSystem/{uuid}/{kind}
                    self.children.setdefault(
                        (parts[5].lower(), kind), {}).setdefault(
                            _uuid_of(element), element)

    def of(self, system_uuid, kind):
        return list(self.children.get((system_uuid, kind), {}).values())


# ---------------------------------------------------------------- values
def _text(element, path, default=None):
    found = element.find('/'.join('{*}' + name for name in path.split('/')))
    if found is None or found.text is None or not found.text.strip():
        return default
    return found.text.strip()


def _int(element, path, default=0):
    value = _text(element, path)
    return int(value) if value is not None else default


def _float(element, path, default=0.0):
    value = _text(element, path)
    return float(value) if value is not None else default


def _bool(element, path, default=False):
    value = _text(element, path)
    return value.lower() == 'true' if value is not None else default


def _all(element, path):
    return element.findall('/'.join('{*}' + name for name in path.split('/')))


def _uuid_of(element):
    uuid = _text(element, 'Metadata/Atom/AtomID')
    return uuid.lower() if uuid else None


# ---------------------------------------------------------------- system
def _system_fields(element):
    memory = 'AssociatedSystemMemoryConfiguration/'
    procs = 'AssociatedSystemProcessorConfiguration/'
    mtms = 'MachineTypeModelAndSerialNumber/'
    return {
        'uuid': _uuid_of(element), 'name': _text(element, 'SystemName'),
        'machine_type': _text(element, mtms + 'MachineType'),
        'model': _text(element, mtms + 'Model'),
        'serial': _text(element, mtms + 'SerialNumber'),
        'state': _text(element, 'State', 'operating'),
        'primary_ip': _text(element, 'PrimaryIPAddress', '127.0.0.1'),
        'memory_installed': _int(element, memory + 'InstalledSystemMemory'),
        'memory_configurable': _int(
            element, memory + 'ConfigurableSystemMemory'),
        'memory_region_size': _int(
            element, memory + 'CurrentLogicalMemoryBlockSize', 256),
        'proc_units_installed': _float(
            element, procs + 'InstalledSystemProcessorUnits'),
        'proc_units_configurable': _float(
            element, procs + 'ConfigurableSystemProcessorUnits'),
        'max_partitions': _int(element, 'MaximumPartitions', 1000),
        # Physical I/O outside the partitions is not imported.
        'io_cards': []}


def _import_switches(imported, recording, system):
    model = imported.model
    for element in recording.of(system.uuid, 'VirtualSwitch'):
        name = _text(element, 'SwitchName', '')
        if name.endswith(_DEFAULT_SWITCH_MARK):
            name = name[:-len(_DEFAULT_SWITCH_MARK)]
        model.add_vswitch(system, name, switch_id=_int(element, 'SwitchID'),
                          mode=_text(element, 'SwitchMode', 'Veb'))
        imported.note('VirtualSwitch', name)
    for element in recording.of(system.uuid, 'VirtualNetwork'):
        vnet = model.create_virtual_network(system, {
            'vswitch_id': _int(element, 'VswitchID'),
            'vlan': _int(element, 'NetworkVLANID'),
            'name': _text(element, 'NetworkName'),
            'tagged': _bool(element, 'TaggedNetwork')})
        imported.note('VirtualNetwork', vnet.name)


# ------------------------------------------------------------ partitions
def _partition_fields(element):
    memory = 'PartitionMemoryConfiguration/'
    procs = 'PartitionProcessorConfiguration/'
    dedicated = _bool(element, procs + 'HasDedicatedProcessors')
    fields = {
        'uuid': _text(element, 'PartitionUUID').upper(),
        'name': _text(element, 'PartitionName'),
        'partition_id': _int(element, 'PartitionID'),
        'partition_type': _text(element, 'PartitionType', 'AIX/Linux'),
        'state': _text(element, 'PartitionState', partition.NOT_ACTIVATED),
        'rmc_state': _text(element, 'ResourceMonitoringControlState',
                           'inactive'),
        'os_version': _text(element, 'OperatingSystemVersion', 'Unknown'),
        'mem_desired': _int(element, memory + 'DesiredMemory'),
        'mem_min': _int(element, memory + 'MinimumMemory'),
        'mem_max': _int(element, memory + 'MaximumMemory'),
        'dedicated': dedicated,
        'proc_compat_mode': _text(
            element, 'PendingProcessorCompatibilityMode', 'default'),
        'current_proc_compat_mode': _text(
            element, 'CurrentProcessorCompatibilityMode', 'default'),
        'availability_priority': _int(element, 'AvailabilityPriority', 127)}
    if dedicated:
        config = procs + 'DedicatedProcessorConfiguration/'
        fields.update(
            vprocs_desired=_int(element, config + 'DesiredProcessors'),
            vprocs_min=_int(element, config + 'MinimumProcessors'),
            vprocs_max=_int(element, config + 'MaximumProcessors'))
    else:
        config = procs + 'SharedProcessorConfiguration/'
        fields.update(
            proc_units_desired=_float(element,
                                      config + 'DesiredProcessingUnits'),
            proc_units_min=_float(element, config + 'MinimumProcessingUnits'),
            proc_units_max=_float(element, config + 'MaximumProcessingUnits'),
            vprocs_desired=_int(element, config + 'DesiredVirtualProcessors'),
            vprocs_min=_int(element, config + 'MinimumVirtualProcessors'),
            vprocs_max=_int(element, config + 'MaximumVirtualProcessors'),
            uncapped_weight=_int(element, config + 'UncappedWeight', 128),
            sharing_mode=_text(element, procs + 'SharingMode', 'uncapped'))
    return fields


def _import_lpars(imported, recording, system):
    adapters = 0
    for element in recording.of(system.uuid, 'LogicalPartition'):
        fields = _partition_fields(element)
        fields['is_mgmt'] = _bool(element, 'IsManagementPartition')
        imported.model.add_partition(system, partition.LPAR, **fields)
        imported.note('LogicalPartition', fields['name'])
        adapters += sum(len(_all(element, path)) for path in (
            'ClientNetworkAdapters/link',
            'VirtualFibreChannelClientAdapters/link',
            'VirtualSCSIClientAdapters/link'))
    if adapters:
        imported.skipped.append(
            '%d client adapters of the LPARs of %s (network, vSCSI and '
            'virtual FC)' % (adapters, system.name))


def _add_novalink(imported, system):
    """An HMC-managed system has no NovaLink partition; the driver needs
    one to run on."""
    if any(part.is_mgmt for part in system.partitions):
        return
    name = 'novalink_%s' % system.serial
    imported.model.add_partition(system, partition.LPAR, name=name,
                                 **_NOVALINK_FIELDS)
    imported.added.append('NovaLink partition %s: the recording has no '
                          'management partition' % name)


# ---------------------------------------------------------------- VIOSes
def _physical_volume(element):
    return storage.PhysicalVolume(
        name=_text(element, 'VolumeName'),
        udid=_text(element, 'UniqueDeviceID'),
        capacity_mb=_int(element, 'VolumeCapacity'),
        unique_id=_text(element, 'VolumeUniqueID', ''),
        location_code=_text(element, 'LocationCode', ''),
        description=_text(element, 'Description', ''),
        fc_backed=_bool(element, 'IsFibreChannelBacked'),
        available=_bool(element, 'AvailableForUsage'),
        state=_text(element, 'VolumeState', 'active'),
        reserve_policy=_text(element, 'ReservePolicy', 'NoReserve'),
        reserve_algorithm=_text(element, 'ReservePolicyAlgorithm',
                                'Failover'),
        reserve_key=_text(element, 'PersistentReserveKeyValue', 'none'),
        storage_label=_text(element, 'StorageLabel'),
        page83=_text(element, 'DescriptorPage83'))


def _fc_cards(element, vios):
    """The VIOS's Fibre Channel cards with their ports, as recorded."""
    cards = []
    for slot in _all(element, 'PartitionIOConfiguration/ProfileIOSlots/'
                              'ProfileIOSlot/AssociatedIOSlot'):
        adapter = slot.find('{*}RelatedIOAdapter/'
                            '{*}PhysicalFibreChannelAdapter')
        if adapter is None:
            continue
        card = mapping.PhysicalFCAdapter(
            drc_name=_text(slot, 'SlotDynamicReconfigurationConnectorName'),
            drc_index=_int(slot, 'SlotDynamicReconfigurationConnectorIndex'),
            description=_text(adapter, 'Description', ''))
        for port in _all(adapter, 'PhysicalFibreChannelPorts/'
                                  'PhysicalFibreChannelPort'):
            # Only ports that can log in report NPIV ports; others 0.
            card.ports.append(mapping.PhysicalFCPort(
                name=_text(port, 'PortName'), wwpn=_text(port, 'WWPN'),
                wwnn=_text(port, 'WWNN', ''),
                location_code=_text(port, 'LocationCode', ''), vios=vios,
                total_ports=_int(port, 'TotalPorts')))
            _place_disks(vios, port)
        cards.append(card)
    return cards


def _place_disks(vios, port):
    """Note which of the VIOS's (already imported) disks the recorded port
    lists as reached through it."""
    names = {_text(pv, 'VolumeName')
             for pv in _all(port, 'PhysicalVolumes/PhysicalVolume')}
    for pv in vios.physical_volumes:
        if pv.name in names:
            pv.fc_ports.append(_text(port, 'PortName'))


def _import_vios_storage(imported, element, vios):
    model = imported.model
    pvs = [_physical_volume(pv)
           for pv in _all(element, 'PhysicalVolumes/PhysicalVolume')]
    for pv in pvs:
        model.add_physical_volume(vios, pv)
    groups = _all(element, 'StoragePools/link')
    if groups:
        imported.skipped.append(
            '%d volume groups of %s (recorded as links only)'
            % (len(groups), vios.name))
    repository = element.find('{*}MediaRepositories/'
                              '{*}VirtualMediaRepository')
    root_disk = next((pv for pv in pvs if pv.name == ROOTVG_DISK), None)
    if repository is None or root_disk is None:
        return
    # The recording shows the media repository but not the volume group
    # holding it: rootvg, on the disk the VIOS was installed on.
    root_disk.available = True
    rootvg = model.add_volume_group(vios, storage.ROOTVG, [root_disk],
                                    serial=_vg_serial(vios, 0))
    imported.added.append('rootvg of %s on %s, to hold its recorded media '
                          'repository' % (vios.name, ROOTVG_DISK))
    model.add_media_repository(
        rootvg, _float(repository, 'RepositorySize'),
        name=_text(repository, 'RepositoryName', storage.MEDIA_LIBRARY))
    for medium in _all(repository, 'OpticalMedia/VirtualOpticalMedia'):
        model.add_optical_media(
            vios, _text(medium, 'MediaName'),
            storage.gb_to_bytes(_float(medium, 'Size')),
            mount_type=_text(medium, 'MountType', 'rw'))
        imported.note('VirtualOpticalMedia', _text(medium, 'MediaName'))


def _vg_serial(vios, index):
    return '00f8%s%08x00000001%08x' % (
        vios.parent.serial[-4:].lower(), vios.partition_id, index)


def _import_vioses(imported, recording, system):
    model = imported.model
    for element in recording.of(system.uuid, 'VirtualIOServer'):
        fields = _partition_fields(element)
        fields['vios_version'] = fields['os_version']
        vios = model.add_partition(system, partition.VIOS, **fields)
        imported.note('VirtualIOServer', vios.name)
        _import_vios_storage(imported, element, vios)
        for card in _fc_cards(element, vios):
            vios.io_slots.append(card)
            vios.fc_ports.extend(card.ports)
            for port in card.ports:
                imported.note('PhysicalFCPort',
                              '%s/%s' % (vios.name, port.name))
        model.registry.changed(vios)
        for path, what in _UNMODELLED_VIOS_PARTS:
            found = len(_all(element, path))
            if found:
                imported.skipped.append('%d %s of %s' % (found, what,
                                                         vios.name))


def _add_instance_volume_group(imported, system):
    """A volume group with free space on the first ready VIOS.

    The recording does not say what the VIOS's volume groups hold, and
    every recorded disk is in use; instance disks need somewhere to go.
    """
    ready = [part for part in system.partitions if part.is_vios and
             part.is_running and part.rmc_state == 'active']
    if not ready:
        return
    vios = ready[0]
    number = 1 + max((int(pv.name[len('hdisk'):])
                      for pv in vios.physical_volumes
                      if pv.name[len('hdisk'):].isdigit()), default=-1)
    disk = storage.PhysicalVolume(
        name='hdisk%d' % number, capacity_mb=INSTANCE_VG_DISK_MB,
        udid='01%s%04d' % (system.serial, number),
        unique_id='%s%04dIMPORTED' % (system.serial, number),
        location_code='%s-imported-D%d' % (system.serial, number),
        description='Disk added by the importer')
    imported.model.add_physical_volume(vios, disk)
    imported.model.add_volume_group(vios, INSTANCE_VG, [disk],
                                    serial=_vg_serial(vios, 1))
    imported.added.append(
        '%s of %s on a new %d GB disk %s: no recorded volume group is '
        'known to have free space' % (INSTANCE_VG, vios.name,
                                      INSTANCE_VG_DISK_MB //
                                      storage.MB_PER_GB, disk.name))


# ------------------------------------------------------------------ load
def load(path, systems=None):
    """An Imported model of the inventory recorded in ``path``.

    :param path: a Ruby VCR cassette of an inventory walk.
    :param systems: UUIDs or names of the managed systems to import (in
                    this order); all recorded ones by default.
    :raises ValueError: a requested system is not in the recording.
    """
    recording = _Recording(path)
    imported = Imported(model=model_mod.Model())
    for element in _chosen_systems(recording, systems):
        _import_system(imported, recording, element)
    return imported


def _chosen_systems(recording, wanted):
    if wanted is None:
        return list(recording.systems.values())
    by_name = {_text(element, 'SystemName'): element
               for element in recording.systems.values()}
    chosen = []
    for key in wanted:
        element = recording.systems.get(key.lower()) or by_name.get(key)
        if element is None:
            raise ValueError('Managed system %s is not in the recording.'
                             % key)
        chosen.append(element)
    return chosen


def _import_system(imported, recording, element):
    model = imported.model
    system = model.add_system(**_system_fields(element))
    imported.note('ManagedSystem', system.name)
    imported.skipped.append(
        'hypervisor memory of %s (the model reserves %d MB)' % (
            system.name, system.memory_used_by_firmware))
    _import_switches(imported, recording, system)
    _import_vioses(imported, recording, system)
    _import_lpars(imported, recording, system)
    _add_novalink(imported, system)
    _add_instance_volume_group(imported, system)
    model.sync_virtual_networks(system)
    return system
