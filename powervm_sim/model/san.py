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
_IQN = re.compile(r'^(iqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+(:[^\s]{1,200})?|'
                  r'eui\.[0-9A-Fa-f]{16})$')
_PORTAL = re.compile(r'^(?P<address>[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\])'
                     r'(:(?P<port>\d{1,5}))?$')
_ISCSI_PORT = 3260
_RBD_PART = re.compile(r'^[A-Za-z0-9_.-]{1,127}$')
_CHAP = re.compile(r'^[\x21-\x7e]{1,255}$')
# An update parameter the caller leaves as it is.
_UNCHANGED = object()
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
    FOUND_ITL_ERR = '8'


class IscsiCode:
    """RETURN_CODE of the iSCSI jobs (pypowervm's ISCSIStatus; open-iscsi's
    iscsiadm exit codes)."""

    SUCCESS = '0'
    ERROR = '1'
    LOGIN = '5'
    TIMEOUT = '8'
    SESSION_EXISTS = '15'
    NO_OBJECTS = '21'
    AUTH_FAILED = '24'


@dataclasses.dataclass(frozen=True)
class Chap:
    """The credentials an iSCSI login offers (auth 'CHAP', or none)."""

    auth: str | None = None
    user: str | None = None
    password: str | None = None


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
        key = self.target.initiator_key(initiator)
        return key in {self.target.initiator_key(i) for i in self.initiators}

    def visible_to(self, initiator):
        return self.exported and self.masked_to(initiator)

    @property
    def initiator_target_map(self):
        """FC only: {initiator as given: [target WWPNs it is zoned with]}
        over the initiators the LUN is masked to, as Cinder's FC drivers
        return it."""
        return self.target.initiator_target_map(self)

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
class StorageTarget:
    """What FC and iSCSI storage targets share: their LUNs, the inquiry
    data their disks report, and whether they answer logins."""

    transport: typing.ClassVar[str] = ''
    medium: typing.ClassVar[str] = ''

    vendor: str = 'IBM'
    product: str = '2145'
    luns: list = dataclasses.field(default_factory=list)
    # A broken target: it answers no login.
    refuses_logins: bool = False

    @property
    def disk_description(self):
        if self.vendor == 'IBM':
            return 'MPIO IBM 2076 %s Disk' % self.medium
        return 'MPIO Other %s SCSI Disk Drive' % self.medium

    def admit(self, key):
        """Let the initiator ``key`` a new LUN is masked to reach the
        target (FC zoning; nothing for iSCSI)."""

    def describe(self):
        return {'name': self.name, 'vendor': self.vendor,
                'product': self.product,
                'refuses_logins': self.refuses_logins,
                'luns': [lun.naa for lun in self.luns]}


@dataclasses.dataclass(kw_only=True, eq=False)
class FCTarget(StorageTarget):
    """A Fibre Channel storage system: its target ports and its LUNs."""

    transport: typing.ClassVar[str] = 'fcp'
    medium: typing.ClassVar[str] = 'FC'

    name: str
    wwpns: list
    # Fabric zoning: [initiator key, target WWPN] pairs that may talk.
    zones: list = dataclasses.field(default_factory=list)

    @staticmethod
    def initiator_key(initiator):
        return wwpn_key(initiator)

    @staticmethod
    def checked_initiator(initiator):
        return checked_wwpn(initiator)

    def admit(self, key):
        self.zone(key, self.wwpns)

    def zone(self, key, ports):
        for wwpn in ports:
            if [key, wwpn] not in self.zones:
                self.zones.append([key, wwpn])

    def unzone(self, key, ports):
        self.zones[:] = [pair for pair in self.zones
                         if not (pair[0] == key and pair[1] in ports)]

    def zoned_ports(self, initiator):
        key = wwpn_key(initiator)
        return [wwpn for wwpn in self.wwpns if [key, wwpn] in self.zones]

    def lun(self, lua):
        """The LUN at logical unit address ``lua`` (hex), or None."""
        address = int(lua, 16)
        return next((lun for lun in self.luns
                     if int(lun.lua, 16) == address), None)

    def initiator_target_map(self, lun):
        found = {}
        for initiator in lun.initiators:
            targets = self.zoned_ports(initiator)
            if targets:
                found[initiator] = targets
        return found

    def connection_data(self, lun):
        return {'target_discovered': False, 'target_lun': lun.lun_id,
                'target_wwn': list(self.wwpns),
                'initiator_target_map': lun.initiator_target_map}

    def describe(self):
        return dict(super().describe(), wwpns=list(self.wwpns),
                    zones=[list(pair) for pair in self.zones])


@dataclasses.dataclass(kw_only=True, eq=False)
class ISCSITarget(StorageTarget):
    """An iSCSI target: its IQN, the portals it listens on, its CHAP
    credentials (none: any login is taken) and its LUNs."""

    transport: typing.ClassVar[str] = 'iscsi'
    medium: typing.ClassVar[str] = 'iSCSI'

    iqn: str
    portals: list
    chap_user: str | None = None
    chap_secret: str | None = None

    @property
    def name(self):
        return self.iqn

    @staticmethod
    def initiator_key(initiator):
        return str(initiator).strip().lower()

    @staticmethod
    def checked_initiator(initiator):
        return checked_iqn(initiator).lower()

    def accepts(self, chap):
        """Whether a login offering ``chap`` authenticates."""
        if self.chap_user is None:
            return True
        return ((chap.auth or '').upper() == 'CHAP' and
                (chap.user, chap.password) == (self.chap_user,
                                               self.chap_secret))

    def visible_lun(self, lun_id, initiator):
        """The LUN ``lun_id`` (None: the first) ``initiator`` may see."""
        luns = [lun for lun in sorted(self.luns, key=lambda u: u.lun_id)
                if lun.visible_to(initiator)]
        if lun_id is None:
            return luns[0] if luns else None
        return next((lun for lun in luns if lun.lun_id == lun_id), None)

    def connection_data(self, lun):
        data = {'target_discovered': False,
                'target_portal': self.portals[0], 'target_iqn': self.iqn,
                'target_lun': lun.lun_id,
                'target_portals': list(self.portals),
                'target_iqns': [self.iqn] * len(self.portals),
                'target_luns': [lun.lun_id] * len(self.portals)}
        if self.chap_user is not None:
            data.update(auth_method='CHAP', auth_username=self.chap_user,
                        auth_password=self.chap_secret)
        return data

    def describe(self):
        return dict(super().describe(), portals=list(self.portals),
                    chap_user=self.chap_user, chap_secret=self.chap_secret)


@dataclasses.dataclass(kw_only=True, eq=False)
class RBDPool:
    """A Ceph pool: its images and their sizes (MB)."""

    name: str
    images: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, eq=False)
class SAN:
    """Every storage target the VIOSes of the model may reach, and the Ceph
    cluster the NovaLink partition may reach."""

    fc_targets: list = dataclasses.field(default_factory=list)
    iscsi_targets: list = dataclasses.field(default_factory=list)
    rbd_pools: list = dataclasses.field(default_factory=list)
    # Counters that make identities unique within the SAN.
    volumes_made: int = 0
    ports_made: int = 0

    @property
    def lock(self):
        """Guards the SAN's lists; never held while taking the model's
        registry lock, so either may be taken first."""
        # Not a field: a lock is not state, and a loaded SAN makes its own.
        return self.__dict__.setdefault('_lock', threading.RLock())

    @property
    def targets(self):
        return self.fc_targets + self.iscsi_targets

    def target(self, name):
        """The FC target called ``name`` or owning the port ``name``, or
        the iSCSI target of IQN ``name``; None if there is none."""
        return self.fc_target(name) or self.iscsi_target(name)

    def set_refuses_logins(self, target, refuses):
        with self.lock:
            target.refuses_logins = _checked_bool(refuses)

    # --------------------------------------------------------- FC targets
    def add_fc_target(self, name, wwpns=None, vendor='IBM', product='2145',
                      ports=2):
        """A new FC storage system with target ports ``wwpns`` (``ports``
        made up when not given)."""
        with self.lock:
            self._check_new_target(name, vendor, product)
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

    def update_fc_target(self, target, refuses_logins=None, zone=(),
                         unzone=(), target_wwpns=None):
        """Change a target at once: whether it refuses logins, and the
        initiators zoned with (or unzoned from) its ports ``target_wwpns``
        (all by default).  Nothing changes unless all of it is valid."""
        with self.lock:
            ports = _ports_of(target, target_wwpns)
            zoned = checked_wwpns(zone)
            unzoned = checked_wwpns(unzone)
            if refuses_logins is not None:
                self.set_refuses_logins(target, refuses_logins)
            for key in zoned:
                target.zone(key, ports)
            for key in unzoned:
                target.unzone(key, ports)

    def zone(self, initiator, target, target_wwpns=None):
        """Let ``initiator`` talk to ``target``'s ports (all by default)."""
        self.update_fc_target(target, zone=[initiator],
                              target_wwpns=target_wwpns)

    def unzone(self, initiator, target, target_wwpns=None):
        self.update_fc_target(target, unzone=[initiator],
                              target_wwpns=target_wwpns)

    def _new_target_wwpn(self):
        # NAA type 5: the company ID and nine digits of its own.
        self.ports_made += 1
        return '5%s%09x' % (_IBM_OUI, 0x80B215660 + self.ports_made)

    def _check_new_target(self, name, vendor, product):
        _check_name(name, 'storage target')
        for value in (vendor, product):
            if not isinstance(value, str) or not _INQUIRY.match(value):
                raise _refused('%r is not a SCSI vendor or product '
                               'identification.' % (value,))
        if self.target(name) is not None:
            raise _refused('Storage target %s already exists.' % name,
                           DUPLICATE)

    # ------------------------------------------------------ iSCSI targets
    def add_iscsi_target(self, iqn, portals, chap_user=None,
                         chap_secret=None, vendor='IBM', product='2145'):
        """A new iSCSI target listening on ``portals`` ('address[:port]',
        port 3260 by default); with CHAP credentials, a login must offer
        them."""
        with self.lock:
            checked_iqn(iqn)
            self._check_new_target(iqn, vendor, product)
            _check_chap(chap_user, chap_secret)
            if not isinstance(portals, list | tuple) or not portals:
                raise _refused('An iSCSI target needs a list of portals.')
            target = ISCSITarget(
                iqn=iqn, portals=[normal_portal(p) for p in portals],
                chap_user=chap_user, chap_secret=chap_secret, vendor=vendor,
                product=product)
            self.iscsi_targets.append(target)
            return target

    def iscsi_target(self, iqn):
        key = str(iqn).lower()
        return next((t for t in self.iscsi_targets if t.iqn.lower() == key),
                    None)

    def update_iscsi_target(self, target, refuses_logins=None,
                            chap_user=_UNCHANGED, chap_secret=_UNCHANGED):
        """Change whether a target refuses logins and its CHAP credentials
        (None for both: no CHAP) at once, or nothing if any is invalid."""
        with self.lock:
            user = target.chap_user if chap_user is _UNCHANGED else chap_user
            secret = (target.chap_secret if chap_secret is _UNCHANGED
                      else chap_secret)
            _check_chap(user, secret)
            if refuses_logins is not None:
                self.set_refuses_logins(target, refuses_logins)
            target.chap_user, target.chap_secret = user, secret

    def portal_listens(self, portal):
        """Whether any iSCSI target listens on ``portal``."""
        return any(portal in t.portals for t in self.iscsi_targets)

    # --------------------------------------------------------------- LUNs
    def add_lun(self, target, size_gb, initiators=(), lun_id=None,
                name=None, naa=None):
        """A new volume on ``target``, masked to ``initiators`` (WWPNs for
        FC, IQNs for iSCSI) and each FC initiator zoned with every port of
        the target (what a storage admin does to give a host a volume)."""
        with self.lock:
            size_mb = _size_mb(size_gb)
            if not isinstance(initiators, list | tuple):
                raise _refused('%r is not a list of initiators.' %
                               (initiators,))
            keys = [target.checked_initiator(i) for i in initiators]
            lun_id = self._free_lun_id(target, lun_id)
            if name is not None:
                _check_name(name, 'volume')
            naa = self._new_naa(naa)
            lun = LUN(lun_id=lun_id, size_mb=size_mb, naa=naa, target=target,
                      name=name or 'volume-%s' % naa[-8:].lower())
            target.luns.append(lun)
            for initiator, key in zip(initiators, keys, strict=True):
                _mask(lun, initiator)
                target.admit(key)
            return lun

    def find_lun(self, ident):
        """The LUN whose NAA identifier or UDID is ``ident``, or None."""
        return next((lun for lun in self.luns
                     if ident in (lun.naa, lun.udid)), None)

    @property
    def luns(self):
        return [lun for t in self.targets for lun in t.luns]

    def grow(self, lun, size_gb):
        self.update_lun(lun, size_gb=size_gb)

    def set_exported(self, lun, exported):
        """Export the LUN again, or take it away from every host (a volume
        that disappears)."""
        self.update_lun(lun, exported=exported)

    def mask(self, lun, initiator):
        self.update_lun(lun, mask=[initiator])

    def unmask(self, lun, initiator):
        self.update_lun(lun, unmask=[initiator])

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
            for initiators in (mask, unmask):
                if not isinstance(initiators, list | tuple):
                    raise _refused('%r is not a list of initiators.' %
                                   (initiators,))
                for initiator in initiators:
                    lun.target.checked_initiator(initiator)
            if exported is not None:
                lun.exported = _checked_bool(exported)
            lun.size_mb = size_mb
            for initiator in mask:
                _mask(lun, initiator)
            for initiator in unmask:
                _unmask(lun, initiator)

    def remove_lun(self, lun):
        with self.lock:
            lun.target.luns.remove(lun)

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

    # --------------------------------------------------------------- Ceph
    def add_rbd_image(self, name, size_gb):
        """A new RBD image ``name`` ('pool/image'; the pool is made with
        its first image)."""
        with self.lock:
            pool_name, image = _rbd_name(name)
            size_mb = _size_mb(size_gb)
            pool = self._rbd_pool(pool_name)
            if pool is not None and image in pool.images:
                raise _refused('RBD image %s already exists.' % name,
                               DUPLICATE)
            if pool is None:
                pool = RBDPool(name=pool_name)
                self.rbd_pools.append(pool)
            pool.images[image] = size_mb

    def rbd_image_mb(self, name):
        """The size in MB of RBD image ``name``, or None if there is
        none."""
        with self.lock:
            pool_name, _sep, image = str(name).partition('/')
            pool = self._rbd_pool(pool_name)
            return pool.images.get(image) if pool is not None else None

    def grow_rbd_image(self, name, size_gb):
        with self.lock:
            size_mb = _size_mb(size_gb)
            current = self._existing_rbd_mb(name)
            if size_mb < current:
                raise _refused('RBD image %s cannot shrink from %d MB to %d '
                               'MB.' % (name, current, size_mb))
            pool_name, _sep, image = name.partition('/')
            self._rbd_pool(pool_name).images[image] = size_mb

    def remove_rbd_image(self, name):
        with self.lock:
            self._existing_rbd_mb(name)
            pool_name, _sep, image = name.partition('/')
            del self._rbd_pool(pool_name).images[image]

    def _rbd_pool(self, name):
        return next((p for p in self.rbd_pools if p.name == name), None)

    def _existing_rbd_mb(self, name):
        size_mb = self.rbd_image_mb(name)
        if size_mb is None:
            raise _refused('There is no RBD image %s.' % (name,), UNKNOWN)
        return size_mb

    # --------------------------------------------------------------- paths
    def reachable_lun(self, initiator, target_wwpn, lua):
        """The LUN the FC ITL (``initiator``, ``target_wwpn``, ``lua``)
        reaches, or None."""
        with self.lock:
            key, port = wwpn_key(initiator), wwpn_key(target_wwpn)
            target = next((t for t in self.fc_targets if port in t.wwpns),
                          None)
            if target is None or target.refuses_logins or \
                    [key, port] not in target.zones:
                return None
            lun = target.lun(lua)
            if lun is None or not lun.visible_to(key):
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
                    'iscsi_targets': [t.describe()
                                      for t in self.iscsi_targets],
                    'rbd_images': {'%s/%s' % (p.name, image): size_mb
                                   for p in self.rbd_pools
                                   for image, size_mb in p.images.items()},
                    'luns': [lun.describe() for lun in self.luns]}


def _mask(lun, initiator):
    if not lun.masked_to(initiator):
        lun.initiators.append(initiator)


def _unmask(lun, initiator):
    key = lun.target.initiator_key(initiator)
    lun.initiators[:] = [i for i in lun.initiators
                         if lun.target.initiator_key(i) != key]


def _ports_of(target, wwpns):
    """The WWPNs of ``target``'s ports ``wwpns`` (None: all of them)."""
    if wwpns is None:
        return list(target.wwpns)
    keys = checked_wwpns(wwpns)
    stray = [k for k in keys if k not in target.wwpns]
    if stray:
        raise _refused('Target %s has no port %s.' % (
            target.name, ', '.join(stray)), UNKNOWN)
    return keys


def normal_portal(portal):
    """'address:port' of an iSCSI portal given as 'address[:port]'.

    :raises registry.Conflict: it is not a portal.
    """
    match = _PORTAL.match(portal) if isinstance(portal, str) else None
    port = int(match['port'] or _ISCSI_PORT) if match else 0
    if not 0 < port < 65536:
        raise _refused('%r is not an iSCSI portal (address[:port]).' %
                       (portal,))
    return '%s:%d' % (match['address'], port)


def _rbd_name(name):
    """(pool, image) of an RBD name 'pool/image'."""
    parts = name.split('/') if isinstance(name, str) else []
    if len(parts) != 2 or not all(_RBD_PART.match(part) for part in parts):
        raise _refused('%r is not an RBD name (pool/image).' % (name,))
    return parts[0], parts[1]


def checked_iqn(iqn):
    if not isinstance(iqn, str) or not _IQN.match(iqn):
        raise _refused('%r is not an iSCSI name (iqn.YYYY-MM.domain[:...] '
                       'or eui. and 16 hex digits).' % (iqn,))
    return iqn


def _check_chap(user, secret):
    if (user is None) != (secret is None) or not all(
            value is None or (isinstance(value, str) and
                              _CHAP.match(value)) for value in (user, secret)):
        raise _refused('CHAP needs both a user and a secret (1 to 255 '
                       'printable characters), or neither.')


def _size_mb(size_gb):
    return storage.checked_size_mb(size_gb, 'A volume', BAD_SAN_REQUEST)


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
class IscsiOutcome:
    """What an iSCSI login found: [(IQN, hdisk)] or why nothing."""

    code: str
    devices: list = dataclasses.field(default_factory=list)
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

    def refresh_hdisk(self, vios, pv):
        """Rescan of an hdisk: it takes its LUN's size now; False if the
        LUN is gone from the SAN."""
        lun = self.san.find_lun(pv.udid)
        if lun is None:
            return False
        self.configure_hdisk(vios, lun, pv.location_code, pv.fc_ports)
        return True

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
            self._check_unused(pv)
            vios.physical_volumes.remove(pv)
            self.registry.changed(vios)

    def _check_unused(self, pv):
        if not pv.available or self.scsi_mappings_of(pv):
            raise registry.Conflict(
                'Method error (/usr/lib/methods/ucfgdevice): 0514-062 '
                'Cannot perform the requested function because the '
                'specified device is busy (%s).' % pv.name)

    # ------------------------------------------------------------- iSCSI
    def iscsi_login(self, vios, paths, chap):
        """ISCSIDiscovery: log ``vios`` in to each (portal, IQN, LUN id or
        None) of ``paths`` offering ``chap``, and configure the hdisk of
        the LUN found.

        The outcome's code is SUCCESS, or SESSION_EXISTS when every path
        that found the LUN had its session already; when none found it,
        the first path's failure.
        """
        with self.registry.lock:
            found, failures, fresh = [], [], False
            for portal, iqn, lun_id in paths:
                portal = normal_portal(portal)
                target = self.san.iscsi_target(iqn)
                failure = _login_failure(self.san, target, portal, chap)
                if failure is not None:
                    failures.append(failure)
                    continue
                fresh |= _open_session(vios, target.iqn, portal)
                lun = target.visible_lun(lun_id, vios.iscsi_initiator)
                if lun is None:
                    failures.append(IscsiOutcome(
                        IscsiCode.NO_OBJECTS, message=(
                            'iscsiadm: target %s shows this initiator no '
                            'LUN %s' % (iqn, lun_id))))
                    continue
                found.append((iqn, lun))
            if not found:
                return failures[0]
            devices = [(iqn, self.configure_hdisk(vios, lun, None))
                       for iqn, lun in found]
            return IscsiOutcome(IscsiCode.SUCCESS if fresh
                                else IscsiCode.SESSION_EXISTS, devices)

    def iscsi_logout(self, vios, iqns, portals=None, lun_ids=None):
        """ISCSIRemove: remove the hdisks of the LUNs ``lun_ids`` (None:
        all) of targets ``iqns`` and log out of each session (on
        ``portals``, None: any) that has no hdisk left; NO_OBJECTS when
        ``vios`` has no such session.

        :raises registry.Conflict: one of the hdisks is in use.
        """
        with self.registry.lock:
            wanted = {iqn.lower() for iqn in iqns}
            sessions = [s for s in vios.iscsi_sessions
                        if s[0].lower() in wanted and
                        (portals is None or s[1] in portals)]
            if not sessions:
                return IscsiCode.NO_OBJECTS
            disks = [pv for pv, lun in self._iscsi_disks(vios)
                     if lun.target.iqn.lower() in wanted and
                     (lun_ids is None or lun.lun_id in lun_ids)]
            for pv in disks:
                self._check_unused(pv)
            for pv in disks:
                vios.physical_volumes.remove(pv)
            left = {lun.target.iqn for _pv, lun in self._iscsi_disks(vios)}
            for session in sessions:
                if session[0] not in left:
                    vios.iscsi_sessions.remove(session)
            if disks:
                self.registry.changed(vios)
            return IscsiCode.SUCCESS

    def _iscsi_disks(self, vios):
        """[(hdisk, LUN)] of the VIOS's disks on iSCSI targets."""
        found = []
        for pv in vios.physical_volumes:
            lun = self.san.find_lun(pv.udid)
            if lun is not None and lun.target.transport == 'iscsi':
                found.append((pv, lun))
        return found

    def npiv_luns(self, wwpn):
        """[LUN] a client's virtual WWPN reaches through the fabric (NPIV):
        none unless a physical FC port has it logged in, then the LUNs
        masked to it on targets it is zoned with."""
        with self.registry.lock:
            key = wwpn_key(wwpn)
            logged_in = any(key == wwpn_key(w)
                            for vios in self.vioses()
                            for port in vios.fc_ports
                            for w in port.logged_in_wwpns)
            if not logged_in:
                return []
            found = {id(lun): lun for _port, lun in self.san.fc_paths(key)}
            return list(found.values())

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


def _login_failure(san, target, portal, chap):
    """The IscsiOutcome of a login that fails before a session exists, or
    None (open-iscsi's messages)."""
    if not san.portal_listens(portal):
        return IscsiOutcome(IscsiCode.TIMEOUT, message=(
            'iscsiadm: initiator reported error (8 - connection timed out) '
            'connecting to %s' % portal))
    if target is None or portal not in target.portals:
        return IscsiOutcome(IscsiCode.NO_OBJECTS, message=(
            'iscsiadm: No records found (no such target on %s)' % portal))
    if target.refuses_logins:
        return IscsiOutcome(IscsiCode.LOGIN, message=(
            'iscsiadm: initiator reported error (5 - encountered iSCSI '
            'login failure)'))
    if not target.accepts(chap):
        return IscsiOutcome(IscsiCode.AUTH_FAILED, message=(
            'iscsiadm: initiator reported error (24 - iSCSI login failed '
            'due to authorization failure)'))
    return None


def _open_session(vios, iqn, portal):
    """Log ``vios`` in to ``iqn`` through ``portal``; False if it was."""
    session = [iqn, portal]
    if session in vios.iscsi_sessions:
        return False
    vios.iscsi_sessions.append(session)
    return True


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
    vioses = [part for part in system.partitions if part.has_physical_io]
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
