"""The storage network behind the VIOSes: storage targets exporting LUNs,
fabric zoning and LUN masking, and the hdisks a VIOS configures for the
LUNs it reaches.

One SAN serves every managed system of a model, as one fabric serves
several POWER servers: a LUN masked to the ports of two hosts' VIOSes is the
same volume on both.

A Fibre Channel path is an ITL: an initiator port (a VIOS's physical FC
port, or a client's virtual WWPN under NPIV), a target port and a logical
unit address.  It reaches a LUN when the target accepts logins, the
initiator is zoned with that target port, and the LUN is exported and
masked to the initiator.  The SAN changes under the VIOSes without telling
them, as a real one does: a VIOS sees a new, grown or vanished LUN only when
it looks again (LUARecovery, a rescan).

WWPNs are compared as pypowervm writes them in ITLs (lower case, without
colons) but kept as they were given, so that an initiator-target map built
from a VIOS's own port WWPNs has exactly the keys the VIOS's document shows
(pypowervm's volume adapters compare them as plain strings).
"""

import base64
import dataclasses
import re
import threading
import typing

from powervm_sim.model import registry
from powervm_sim.model import storage

MB_PER_GB = storage.MB_PER_GB
# Codes the simulator chose for refusals of the SAN's own (control) API.
BAD_SAN_REQUEST = 'SIMSAN01'
DUPLICATE = 'SIMSAN02'
UNKNOWN = 'SIMSAN03'
# IEEE company IDs of the NAA identifiers generated for new LUNs, and of
# the target WWPNs made for new targets: IBM's, as on the recorded systems.
_IBM_OUI = '005076'
_WWPN = re.compile(r'^[0-9a-f]{16}$')
_NAA = re.compile(r'^[0-9a-fA-F]{32}$')
_NAME = re.compile(r'^[A-Za-z0-9_.:-]{1,63}$')
# SCSI inquiry data: vendor (8) and product (16) identification.
_INQUIRY = re.compile(r'^[A-Za-z0-9_.-]{1,16}$')


def _refused(message, code=BAD_SAN_REQUEST):
    return registry.Conflict(message, code=code, status=400)


def wwpn_key(wwpn):
    """A WWPN as pypowervm writes it in an ITL: lower case, no colons."""
    return str(wwpn).strip().lower().replace(':', '')


def checked_wwpn(wwpn):
    key = wwpn_key(wwpn) if isinstance(wwpn, str) else ''
    if not _WWPN.match(key):
        raise _refused('%r is not a WWPN (16 hex digits).' % (wwpn,))
    return key


def checked_wwpns(wwpns):
    """The keys of a list of WWPNs (a control request may send anything)."""
    if not isinstance(wwpns, list | tuple):
        raise _refused('%r is not a list of WWPNs.' % (wwpns,))
    return [checked_wwpn(w) for w in wwpns]


def lua_of(lun_id):
    """The logical unit address PowerVM uses for LUN ``lun_id``: the LUN in
    hex, then zeros up to eight bytes (eight zeros after an eight-digit
    LUN, twelve after any other), as pypowervm builds its ITLs."""
    digits = '%x' % lun_id
    return digits + '0' * (8 if len(digits) == 8 else 12)


def location_lun(lua):
    """The ``-L`` part of an FC disk's location code: the LUA without its
    leading zeros (``L0`` for LUN 0)."""
    return 'L' + (lua.lstrip('0') or '0')


def _b64(text):
    return base64.b64encode(text.encode()).decode()


class LuaStatus:
    """LUARecovery's answer for a device (pypowervm's LUAStatus values)."""

    DEVICE_IN_USE = '1'
    ITL_NOT_RELIABLE = '2'
    DEVICE_AVAILABLE = '3'
    STORAGE_NOT_INTEREST = '4'
    LUA_NOT_INTEREST = '5'
    INCORRECT_ITL = '6'
    FOUND_DEVICE_UNKNOWN_UDID = '7'
    FOUND_ITL_ERR = '8'


@dataclasses.dataclass(kw_only=True, eq=False)
class LUN:
    """A volume a target exports: what a VIOS turns into an hdisk."""

    lun_id: int
    name: str
    size_mb: int
    # The SCSI page 0x83 NAA identifier, 32 hex digits.
    naa: str
    target: typing.Any = dataclasses.field(repr=False)
    # LUN masking: the initiators that may see the volume, as given.
    initiators: list = dataclasses.field(default_factory=list)
    exported: bool = True

    @property
    def lua(self):
        return lua_of(self.lun_id)

    @property
    def size_gb(self):
        return self.size_mb / MB_PER_GB

    @property
    def udid(self):
        # As a VIOS makes it of the disk's inquiry data (recordings: '01'
        # and the base64 of '3IBM2145524' and the NAA identifier).
        return '01' + _b64('3%s%s524%s' % (self.target.vendor,
                                           self.target.product, self.naa))

    @property
    def page83(self):
        """The NAA identifier, base64-encoded (DescriptorPage83)."""
        return _b64(self.naa)

    @property
    def unique_id(self):
        """AIX's unique_id of the disk (VolumeUniqueID): five digits, the
        NAA identifier in upper case, then the model and transport."""
        return '33213%s04214503%s%s' % (self.naa.upper(), self.target.vendor,
                                        self.target.transport)

    @property
    def description(self):
        return self.target.disk_description

    def masked_to(self, initiator):
        return wwpn_key(initiator) in {wwpn_key(i) for i in self.initiators}

    @property
    def initiator_target_map(self):
        """{initiator as given: [target WWPNs it is zoned with]} over the
        initiators the LUN is masked to (zoned ones only), as Cinder's FC
        drivers return it."""
        found = {}
        for initiator in self.initiators:
            targets = self.target.zoned_ports(initiator)
            if targets:
                found[initiator] = targets
        return found

    def connection_data(self):
        """What a Cinder driver's initialize_connection puts in
        connection_info['data'] for this volume."""
        return self.target.connection_data(self)

    def describe(self):
        return {'naa': self.naa, 'udid': self.udid, 'lun_id': self.lun_id,
                'lua': self.lua, 'name': self.name, 'size_mb': self.size_mb,
                'exported': self.exported, 'target': self.target.name,
                'initiators': list(self.initiators),
                'connection_data': self.connection_data()}


@dataclasses.dataclass(kw_only=True, eq=False)
class FCTarget:
    """A Fibre Channel storage system: its target ports and its LUNs."""

    transport: typing.ClassVar[str] = 'fcp'

    name: str
    wwpns: list
    vendor: str = 'IBM'
    product: str = '2145'
    luns: list = dataclasses.field(default_factory=list)
    # Fabric zoning: [initiator key, target WWPN] pairs that may talk.
    zones: list = dataclasses.field(default_factory=list)
    # A broken target: its ports answer no login.
    refuses_logins: bool = False

    @property
    def disk_description(self):
        if self.vendor == 'IBM':
            return 'MPIO IBM 2076 FC Disk'
        return 'MPIO Other FC SCSI Disk Drive'

    def zoned_ports(self, initiator):
        key = wwpn_key(initiator)
        return [wwpn for wwpn in self.wwpns if [key, wwpn] in self.zones]

    def lun(self, lua):
        """The LUN at logical unit address ``lua`` (hex), or None."""
        address = int(lua, 16)
        return next((lun for lun in self.luns
                     if int(lun.lua, 16) == address), None)

    def connection_data(self, lun):
        return {'target_discovered': False, 'target_lun': lun.lun_id,
                'target_wwn': list(self.wwpns),
                'initiator_target_map': lun.initiator_target_map}

    def describe(self):
        return {'name': self.name, 'wwpns': list(self.wwpns),
                'vendor': self.vendor, 'product': self.product,
                'refuses_logins': self.refuses_logins,
                'zones': [list(pair) for pair in self.zones],
                'luns': [lun.naa for lun in self.luns]}


@dataclasses.dataclass(kw_only=True, eq=False)
class SAN:
    """Every storage target the VIOSes of the model may reach."""

    fc_targets: list = dataclasses.field(default_factory=list)
    # Counters that make identities unique within the SAN.
    volumes_made: int = 0
    ports_made: int = 0

    @property
    def lock(self):
        """Guards the SAN's lists; never held while taking the model's
        registry lock, so either may be taken first."""
        # Not a field: a lock is not state, and a loaded SAN makes its own.
        return self.__dict__.setdefault('_lock', threading.RLock())

    # ------------------------------------------------------------ targets
    def add_fc_target(self, name, wwpns=None, vendor='IBM', product='2145',
                      ports=2):
        """A new FC storage system with target ports ``wwpns`` (``ports``
        made up when not given)."""
        with self.lock:
            _check_name(name, 'storage target')
            for value in (vendor, product):
                if not isinstance(value, str) or not _INQUIRY.match(value):
                    raise _refused('%r is not a SCSI vendor or product '
                                   'identification.' % (value,))
            if self.fc_target(name) is not None:
                raise _refused('Storage target %s already exists.' % name,
                               DUPLICATE)
            if wwpns is None:
                if not isinstance(ports, int) or not 0 < ports <= 16:
                    raise _refused('A target has 1 to 16 ports, not %r.' %
                                   (ports,))
                wwpns = [self._new_target_wwpn() for _ in range(ports)]
            keys = checked_wwpns(wwpns)
            taken = {w for t in self.fc_targets for w in t.wwpns}
            if not keys or len(set(keys)) != len(keys) or taken & set(keys):
                raise _refused('Target ports need distinct WWPNs that no '
                               'other target uses: %s.' % ', '.join(keys),
                               DUPLICATE)
            target = FCTarget(name=name, wwpns=keys, vendor=vendor,
                              product=product)
            self.fc_targets.append(target)
            return target

    def fc_target(self, name):
        """The FC target called ``name`` or owning the port ``name``."""
        key = wwpn_key(name)
        return next((t for t in self.fc_targets
                     if t.name == name or key in t.wwpns), None)

    def set_refuses_logins(self, target, refuses):
        self.update_fc_target(target, refuses_logins=refuses)

    def update_fc_target(self, target, refuses_logins=None, zone=(),
                         unzone=(), target_wwpns=None):
        """Change a target at once: whether it refuses logins, and the
        initiators zoned with (or unzoned from) its ports ``target_wwpns``
        (all by default).  Nothing changes unless all of it is valid."""
        with self.lock:
            ports = self._ports_of(target, target_wwpns)
            zoned = checked_wwpns(zone)
            unzoned = checked_wwpns(unzone)
            if refuses_logins is not None:
                target.refuses_logins = _checked_bool(refuses_logins)
            for key in zoned:
                self._zone(key, target, ports)
            for key in unzoned:
                self._unzone(key, target, ports)

    def _new_target_wwpn(self):
        # NAA type 5: the company ID and nine digits of its own.
        self.ports_made += 1
        return '5%s%09x' % (_IBM_OUI, 0x80B215660 + self.ports_made)

    # --------------------------------------------------------------- LUNs
    def add_lun(self, target, size_gb, initiators=(), lun_id=None,
                name=None, naa=None):
        """A new volume on ``target``, masked to ``initiators`` and each of
        them zoned with every port of the target (what a storage admin does
        to give a host a volume)."""
        with self.lock:
            size_mb = _size_mb(size_gb)
            keys = checked_wwpns(initiators)
            lun_id = self._free_lun_id(target, lun_id)
            if name is not None:
                _check_name(name, 'volume')
            naa = self._new_naa(naa)
            lun = LUN(lun_id=lun_id, size_mb=size_mb, naa=naa, target=target,
                      name=name or 'volume-%s' % naa[-8:].lower())
            target.luns.append(lun)
            for initiator, key in zip(initiators, keys, strict=True):
                self._mask(lun, initiator)
                self._zone(key, target, target.wwpns)
            return lun

    def find_lun(self, ident):
        """The LUN whose NAA identifier or UDID is ``ident``, or None."""
        return next((lun for t in self.fc_targets for lun in t.luns
                     if ident in (lun.naa, lun.udid)), None)

    @property
    def luns(self):
        return [lun for t in self.fc_targets for lun in t.luns]

    def grow(self, lun, size_gb):
        self.update_lun(lun, size_gb=size_gb)

    def set_exported(self, lun, exported):
        """Export the LUN again, or take it away from every host (a volume
        that disappears)."""
        self.update_lun(lun, exported=exported)

    def update_lun(self, lun, size_gb=None, exported=None, mask=(),
                   unmask=()):
        """Change a volume at once: grow it, export or hide it, mask it to
        more initiators or fewer.  Nothing changes unless all of it is
        valid."""
        with self.lock:
            size_mb = lun.size_mb if size_gb is None else _size_mb(size_gb)
            if size_mb < lun.size_mb:
                raise _refused('Volume %s cannot shrink from %d MB to %d MB.'
                               % (lun.name, lun.size_mb, size_mb))
            checked_wwpns(mask)
            checked_wwpns(unmask)
            if exported is not None:
                lun.exported = _checked_bool(exported)
            lun.size_mb = size_mb
            for initiator in mask:
                self._mask(lun, initiator)
            for initiator in unmask:
                self._unmask(lun, initiator)

    def remove_lun(self, lun):
        with self.lock:
            lun.target.luns.remove(lun)

    def mask(self, lun, initiator):
        self.update_lun(lun, mask=[initiator])

    def unmask(self, lun, initiator):
        self.update_lun(lun, unmask=[initiator])

    @staticmethod
    def _unmask(lun, initiator):
        key = wwpn_key(initiator)
        lun.initiators[:] = [i for i in lun.initiators if wwpn_key(i) != key]

    @staticmethod
    def _mask(lun, initiator):
        if not lun.masked_to(initiator):
            lun.initiators.append(initiator)

    def _free_lun_id(self, target, wanted):
        used = {lun.lun_id for lun in target.luns}
        if wanted is None:
            return next(n for n in range(1, len(used) + 2) if n not in used)
        if isinstance(wanted, bool) or not isinstance(wanted, int) or \
                not 0 <= wanted < 2 ** 32:
            raise _refused('%r is not a LUN id.' % (wanted,))
        if wanted in used:
            raise _refused('Target %s already exports LUN %d.' % (
                target.name, wanted), DUPLICATE)
        return wanted

    def _new_naa(self, wanted):
        if wanted is not None:
            if not isinstance(wanted, str) or not _NAA.match(wanted):
                raise _refused('%r is not an NAA identifier (32 hex '
                               'digits).' % (wanted,))
            if self.find_lun(wanted.upper()) is not None:
                raise _refused('A volume with NAA identifier %s exists.' %
                               wanted, DUPLICATE)
            return wanted.upper()
        self.volumes_made += 1
        # NAA type 6 (IEEE registered extended), IBM's company ID, then
        # the array's own digits (as on the recorded systems) and a serial.
        return '6%s8100DC48%017X' % (_IBM_OUI, self.volumes_made)

    # ------------------------------------------------------------- zoning
    def zone(self, initiator, target, target_wwpns=None):
        """Let ``initiator`` talk to ``target``'s ports (all by default)."""
        self.update_fc_target(target, zone=[initiator],
                              target_wwpns=target_wwpns)

    def unzone(self, initiator, target, target_wwpns=None):
        self.update_fc_target(target, unzone=[initiator],
                              target_wwpns=target_wwpns)

    @staticmethod
    def _unzone(key, target, ports):
        target.zones[:] = [pair for pair in target.zones
                           if not (pair[0] == key and pair[1] in ports)]

    @staticmethod
    def _zone(key, target, ports):
        for wwpn in ports:
            if [key, wwpn] not in target.zones:
                target.zones.append([key, wwpn])

    @staticmethod
    def _ports_of(target, wwpns):
        if wwpns is None:
            return list(target.wwpns)
        keys = checked_wwpns(wwpns)
        stray = [k for k in keys if k not in target.wwpns]
        if stray:
            raise _refused('Target %s has no port %s.' % (
                target.name, ', '.join(stray)), UNKNOWN)
        return keys

    # --------------------------------------------------------------- paths
    def reachable_lun(self, initiator, target_wwpn, lua):
        """The LUN the ITL (``initiator``, ``target_wwpn``, ``lua``)
        reaches, or None."""
        with self.lock:
            key, port = wwpn_key(initiator), wwpn_key(target_wwpn)
            target = next((t for t in self.fc_targets if port in t.wwpns),
                          None)
            if target is None or target.refuses_logins or \
                    [key, port] not in target.zones:
                return None
            lun = target.lun(lua)
            if lun is None or not lun.exported or not lun.masked_to(key):
                return None
            return lun

    def fc_paths(self, initiator):
        """[(target WWPN, LUN)] of every LUN ``initiator`` reaches."""
        with self.lock:
            return [(port, lun) for target in self.fc_targets
                    for lun in target.luns
                    for port in target.zoned_ports(initiator)
                    if self.reachable_lun(initiator, port, lun.lua)]

    def describe(self):
        """The SAN as plain JSON values."""
        with self.lock:
            return {'fc_targets': [t.describe() for t in self.fc_targets],
                    'luns': [lun.describe() for lun in self.luns]}


def _size_mb(size_gb):
    if isinstance(size_gb, bool) or not isinstance(size_gb, int | float) \
            or not 0 < size_gb <= 2 ** 20:
        raise _refused('A volume needs a size in GB greater than 0, not %r.'
                       % (size_gb,))
    return int(round(size_gb * MB_PER_GB))


def _checked_bool(value):
    if not isinstance(value, bool):
        raise _refused('%r is not true or false.' % (value,))
    return value


def _check_name(name, what):
    if not isinstance(name, str) or not _NAME.match(name):
        raise _refused('%r is not a valid %s name.' % (name, what))


# ------------------------------------------------------------------ hdisks
@dataclasses.dataclass
class LuaOutcome:
    """What LUARecovery found for one device."""

    status: str
    pv: typing.Any = None
    message: str = ''


@dataclasses.dataclass
class _Path:
    port: typing.Any
    target_wwpn: str
    lun: LUN


class SanOps:
    """How the VIOSes of the model meet the SAN (mixed into ``Model``)."""

    def recover_lua(self, vios, itls, vendor=None, device_id=None,
                    reliable=False):
        """LUARecovery of one device on ``vios``: find the LUN the ITLs
        (initiator, target WWPN, LUA) reach and configure its hdisk.

        :param vendor: the LUAType the caller expects (None or OTHER: any).
        :param device_id: the base64 page 83 identifier it expects.
        :param reliable: whether the caller vouches for every ITL.
        """
        with self.registry.lock:
            paths, failed = self._walk_itls(vios, itls)
            if not paths:
                return LuaOutcome(LuaStatus.INCORRECT_ITL, message=(
                    'No device was found on any of the %d ITLs.' % len(itls)))
            refusal = _refusal(paths, failed, vendor, device_id, reliable)
            if refusal is not None:
                return refusal
            pv = self.configure_hdisk(vios, paths[0].lun, _location(paths[0]),
                                      [p.port.name for p in paths])
            if not pv.available:
                return LuaOutcome(LuaStatus.DEVICE_IN_USE, pv,
                                  '%s is in use.' % pv.name)
            if failed:
                return LuaOutcome(LuaStatus.FOUND_ITL_ERR, pv, (
                    '%s was not found on ITLs %s.' % (pv.name, ', '.join(
                        '/'.join(itl) for itl in failed))))
            return LuaOutcome(LuaStatus.DEVICE_AVAILABLE, pv)

    def _walk_itls(self, vios, itls):
        """([_Path] the ITLs reach, in the VIOS's port order, [ITL] that
        reach nothing)."""
        ports = {wwpn_key(p.wwpn): p for p in vios.fc_ports}
        paths, failed = [], []
        for initiator, target_wwpn, lua in itls:
            port = ports.get(wwpn_key(initiator))
            lun = port and self.san.reachable_lun(initiator, target_wwpn,
                                                  lua)
            if lun:
                paths.append(_Path(port, wwpn_key(target_wwpn), lun))
            else:
                failed.append((initiator, target_wwpn, lua))
        # pypowervm sends its ITLs in no particular order; the disk takes
        # its location from the first port and target port that reach it.
        paths.sort(key=lambda path: (
            vios.fc_ports.index(path.port),
            path.lun.target.wwpns.index(path.target_wwpn)))
        return paths, failed

    def configure_hdisk(self, vios, lun, location_code, fc_ports=()):
        """The hdisk of ``lun`` on ``vios``, made now if the VIOS has none
        (the lowest free hdisk number), its size and paths refreshed.

        Every transport makes its hdisks here.
        """
        with self.registry.lock:
            pv = next((p for p in vios.physical_volumes
                       if p.udid == lun.udid), None)
            ports = list(dict.fromkeys(fc_ports))
            if pv is None:
                pv = self._new_hdisk(vios, lun, location_code)
            elif (pv.capacity_mb, pv.fc_ports) == (lun.size_mb, ports):
                return pv
            pv.capacity_mb = lun.size_mb
            pv.fc_ports = ports
            self.registry.changed(vios)
            return pv

    def _new_hdisk(self, vios, lun, location_code):
        pv = storage.PhysicalVolume(
            name=_free_hdisk_name(self, vios), udid=lun.udid,
            capacity_mb=lun.size_mb, unique_id=lun.unique_id,
            location_code=location_code, description=lun.description,
            fc_backed=lun.target.transport == 'fcp',
            storage_label=_b64(lun.name), page83=lun.page83)
        vios.physical_volumes.append(pv)
        return pv

    def remove_device(self, vios, name):
        """rmdev -dev ``name`` on ``vios``: forget an hdisk nothing uses.

        :raises registry.Conflict: with AIX's rmdev message when the VIOS
                                   has no such device or it is busy.
        """
        with self.registry.lock:
            pv = next((p for p in vios.physical_volumes if p.name == name),
                      None)
            if pv is None:
                raise registry.Conflict(
                    'rmdev: 0514-519 The following device was not found in '
                    'the customized device configuration database: %s' %
                    name, status=400)
            if not pv.available or self.scsi_mappings_of(pv):
                raise registry.Conflict(
                    'Method error (/usr/lib/methods/ucfgdevice): 0514-062 '
                    'Cannot perform the requested function because the '
                    'specified device is busy (%s).' % name)
            vios.physical_volumes.remove(pv)
            self.registry.changed(vios)

    def scan_san(self, vios):
        """Configure an hdisk for every LUN the VIOS's ports reach, in LUN
        order (what cfgmgr does when the VIOS boots)."""
        with self.registry.lock:
            found = {}
            for port in vios.fc_ports:
                for target_wwpn, lun in self.san.fc_paths(port.wwpn):
                    found.setdefault(id(lun), []).append(
                        _Path(port, target_wwpn, lun))
            for paths in found.values():
                self.configure_hdisk(vios, paths[0].lun,
                                     _location(paths[0]),
                                     [p.port.name for p in paths])


def _refusal(paths, failed, vendor, device_id, reliable):
    """The outcome when the device found is not the one asked for."""
    luns = {id(p.lun): p.lun for p in paths}
    if len(luns) > 1:
        return LuaOutcome(LuaStatus.LUA_NOT_INTEREST, message=(
            'The ITLs reach %d different devices.' % len(luns)))
    [lun] = luns.values()
    if vendor not in (None, '', 'OTHER') and vendor != lun.target.vendor:
        return LuaOutcome(LuaStatus.STORAGE_NOT_INTEREST, message=(
            'The device is %s storage, not %s.' % (lun.target.vendor,
                                                   vendor)))
    if device_id and device_id != lun.page83:
        return LuaOutcome(LuaStatus.LUA_NOT_INTEREST, message=(
            'The device found is not device %s.' % device_id))
    if failed and reliable:
        return LuaOutcome(LuaStatus.ITL_NOT_RELIABLE, message=(
            '%d of the ITLs said to be reliable reach no device.' %
            len(failed)))
    return None


def _location(path):
    """An FC disk's location code: the port's, the target port, the LUN."""
    return '%s-W%s-%s' % (path.port.location_code, path.target_wwpn.upper(),
                          location_lun(path.lun.lua))


def _free_hdisk_name(model, vios):
    """AIX gives a new disk the lowest free hdisk number; the disks of the
    SSP clusters the VIOS is a node of are its hdisks too."""
    taken = {pv.name for pv in vios.physical_volumes}
    for cluster in model.clusters(vios.parent):
        if vios in cluster.vioses:
            taken |= {pv.name for pv in cluster.repository_disks}
            if cluster.ssp is not None:
                taken |= {pv.name for pv in cluster.ssp.physical_volumes}
    number = 0
    while 'hdisk%d' % number in taken:
        number += 1
    return 'hdisk%d' % number


# ------------------------------------------------------------- inventory
# The SAN volumes of a fresh system: free disks for mappings, in GB.
_FRESH_LUN_GB = 100
_FRESH_LUNS = 3


def build_system_san(model, system):
    """Give a fresh system's VIOSes the storage of a typical one: an IBM
    SVC whose volumes each VIOS reaches through its first FC port, as on
    the recorded systems (the second port stays without disks), and the
    hdisks the VIOSes configured for them at boot."""
    vioses = [part for part in system.partitions if part.is_vios]
    initiators = [vios.fc_ports[0].wwpn for vios in vioses if vios.fc_ports]
    target = model.san.add_fc_target('svc_%s' % system.serial.lower())
    luns = [model.san.add_lun(target, _FRESH_LUN_GB, initiators=initiators,
                              name='%s_lun%d' % (system.name, number))
            for number in range(_FRESH_LUNS)]
    for vios in vioses:
        model.scan_san(vios)
        # A disk the VIOS keeps encrypted (LUKS), as real systems have.
        [pv] = [p for p in vios.physical_volumes if p.udid == luns[-1].udid]
        pv.encryption_state = 'Unlocked'
        pv.luks = storage.LUKSEncryptor()
