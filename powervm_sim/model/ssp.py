"""Shared storage pools: Cluster, SharedStoragePool, Tier, LogicalUnit.

Each managed system's VIOSes are the nodes of one cluster, whose pool
spreads over SAN disks every node sees; or, as real clusters may, one
cluster spans the VIOSes of several systems, and each system's NovaLink
serves it (its pool, tiers and units) alike.  The pool's default tier holds the
logical units (LUs): thin or thick, images (uploaded once) and disks, which
may be linked clones of an image.

Clients change the LUs two ways, both handled here: PUT a new LogicalUnit
on ``Tier/{uuid}/LogicalUnit`` (POST one back with a larger UnitCapacity to
grow it, or DELETE one), or POST the pool with its LogicalUnits list as the
desired state.  Either way every check runs before the first change, so
a refused request leaves the pool as it was.

An LU's bytes live in the model's content store under its UDID.  A linked
clone shares its image's blob (a hard link: the store replaces blobs on
write, which breaks the link) when both are the same size; a larger clone
gets a copy of the image's data regions, holes left as holes.
"""

import base64
import dataclasses
import os
import re
import typing
import uuid as uuidlib

from powervm_sim import files
from powervm_sim.model import registry
from powervm_sim.model import storage

DISK = 'VirtualIO_Disk'
IMAGE = 'VirtualIO_Image'
LU_TYPES = (DISK, 'VirtualIO_Hibernation', IMAGE,
            'VirtualIO_Active_Memory_Sharing')
DEFAULT_TIER = 'SYSTEM'
# Two-digit type prefixes of the UDIDs real pools hand out.
_LU_PREFIX = {IMAGE: '29'}
_DISK_LU_PREFIX = '27'
_CLUSTER_PREFIX = '22'
_POOL_PREFIX = '24'
_TIER_PREFIX = '25'
_FAILURE_GROUP_PREFIX = '26'
# LU names: what pypowervm's file-name sanitiser produces, plus the '-'
# real pools also show.
_LU_NAME = re.compile(r'^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,126}$')
MB = 1024 * 1024
# Sizes are compared to four decimals of a GB, as clients echo them.
GB_TOLERANCE = storage.GB_TOLERANCE

# Codes the simulator chose for failures pypowervm does not inspect.
NO_SPACE = 'HSCLC001'
BAD_UNIT = 'HSCLC002'
UNKNOWN_UNIT = 'HSCLC003'
HAS_CLONES = 'HSCLC004'
FIXED_UNIT = 'HSCLC005'
NO_SHRINK = 'HSCLC006'


def _bad(message, code=BAD_UNIT):
    raise registry.Conflict(message, code=code, status=400)


@dataclasses.dataclass(kw_only=True, eq=False)
class ClusterNode:
    """A VIOS's membership of a cluster."""

    vios: typing.Any = dataclasses.field(repr=False)
    hostname: str
    state: str = 'Up'

    @property
    def partition_id(self):
        return self.vios.partition_id

    @property
    def machine_type(self):
        return self.vios.parent.machine_type

    @property
    def model(self):
        return self.vios.parent.model

    @property
    def serial(self):
        return self.vios.parent.serial

    @property
    def vios_level(self):
        # 'VIOS 3.1.4.10' -> '3.1.4.10', the form the Node element holds.
        return self.vios.vios_version.rsplit(' ', 1)[-1]

    @property
    def vios_href(self):
        # Always under its managed system: clients take the host's UUID
        # from this link to tell local nodes from remote ones.
        return '%s/VirtualIOServer/%s' % (self.vios.parent.href,
                                           self.vios.uuid)


@dataclasses.dataclass(kw_only=True, eq=False)
class Cluster(registry.Resource):
    kind: typing.ClassVar[str] = 'Cluster'
    root_level: typing.ClassVar[bool] = True

    name: str
    # 32 hex digits every UDID of the cluster's objects carries.
    hex_id: str = dataclasses.field(
        default_factory=lambda: uuidlib.uuid4().hex)
    repository_disks: list = dataclasses.field(default_factory=list)
    nodes: list = dataclasses.field(default_factory=list)
    ssp: 'SharedStoragePool | None' = dataclasses.field(default=None,
                                                        repr=False)

    @property
    def cluster_id(self):
        return _CLUSTER_PREFIX + self.hex_id

    @property
    def ssp_href(self):
        return self.ssp.href_in_cluster if self.ssp else None

    @property
    def vioses(self):
        return [node.vios for node in self.nodes]

    def shared_with(self, system):
        # A NovaLink serves every cluster one of its VIOSes is a node of.
        return any(vios.parent is system for vios in self.vioses)


@dataclasses.dataclass(kw_only=True, eq=False)
class FailureGroup:
    """The disks of a tier that fail together (one per unmirrored tier)."""

    udid: str
    name: str = 'Default'
    state: str = 'Online'
    physical_volumes: list = dataclasses.field(default_factory=list)

    @property
    def capacity_gb(self):
        return _mb_to_gb(sum(pv.capacity_mb for pv in self.physical_volumes))


@dataclasses.dataclass(kw_only=True, eq=False)
class SharedStoragePool(registry.Resource):
    kind: typing.ClassVar[str] = 'SharedStoragePool'
    root_level: typing.ClassVar[bool] = True

    name: str
    udid: str
    tiers: list = dataclasses.field(default_factory=list)
    alert_threshold: int = 35

    @property
    def cluster(self):
        return self.parent

    @property
    def href_in_cluster(self):
        """The pool under its cluster, as Cluster and Tier link it."""
        return '%s/%s/%s' % (self.parent.href, self.kind, self.uuid)

    @property
    def cluster_href(self):
        return self.parent.href

    @property
    def tier_hrefs(self):
        return ['%s/%s/%s' % (self.href, tier.kind, tier.uuid)
                for tier in self.tiers]

    @property
    def default_tier(self):
        return next(tier for tier in self.tiers if tier.is_default)

    @property
    def logical_units(self):
        return [lu for tier in self.tiers for lu in tier.logical_units]

    @property
    def physical_volumes(self):
        return [pv for tier in self.tiers for group in tier.failure_groups
                for pv in group.physical_volumes]

    @property
    def capacity_bytes(self):
        return sum(pv.capacity_mb for pv in self.physical_volumes) * MB

    @property
    def free_bytes(self):
        return self.capacity_bytes - sum(lu.consumed_bytes
                                         for lu in self.logical_units)

    @property
    def capacity_gb(self):
        return _bytes_to_gb(self.capacity_bytes)

    @property
    def free_gb(self):
        return _bytes_to_gb(self.free_bytes)

    @property
    def total_lu_gb(self):
        return round(sum(lu.capacity_gb for lu in self.logical_units), 4)

    @property
    def over_commit_gb(self):
        return round(max(0.0, self.total_lu_gb - self.capacity_gb), 4)

    @property
    def alert_threshold_text(self):
        return '%d%%' % self.alert_threshold

    @property
    def multi_tier(self):
        return len(self.tiers) > 1

    @property
    def multi_failure_group(self):
        return any(len(tier.failure_groups) > 1 for tier in self.tiers)

    def clones_of(self, lu):
        return [other for other in self.logical_units if other.source is lu]


@dataclasses.dataclass(kw_only=True, eq=False)
class Tier(registry.Resource):
    kind: typing.ClassVar[str] = 'Tier'
    # Served (and its LUs under it) at /rest/api/uom/Tier/{uuid}.
    root_level: typing.ClassVar[bool] = True

    name: str
    udid: str
    tier_type: str = 'UnrestrictedSystemTier'
    is_default: bool = True
    mirror_state: str = 'NotMirrored'
    failure_groups: list = dataclasses.field(default_factory=list)
    logical_units: list = dataclasses.field(default_factory=list)

    @property
    def pool(self):
        return self.parent

    @property
    def capacity_gb(self):
        return round(sum(group.capacity_gb
                         for group in self.failure_groups), 4)

    @property
    def ssp_href(self):
        return self.parent.href_in_cluster


@dataclasses.dataclass(kw_only=True, eq=False)
class LogicalUnit(registry.Resource):
    kind: typing.ClassVar[str] = 'LogicalUnit'

    name: str
    udid: str
    capacity_gb: float
    lu_type: str = DISK
    thin: bool = True
    # The LU this one is a linked clone of.
    source: 'LogicalUnit | None' = dataclasses.field(default=None,
                                                     repr=False)
    # Bytes of the content blob that came from the source at creation.
    inherited_bytes: int = 0
    # Bytes a thin LU has written of its own, as last measured.
    used_bytes: int = 0

    @property
    def cloned_from_udid(self):
        return self.source.udid if self.source is not None else None

    @property
    def size_bytes(self):
        return storage.gb_to_bytes(self.capacity_gb)

    @property
    def consumed_bytes(self):
        """Pool space the LU takes: all of it if thick, what it wrote if
        thin."""
        return self.used_bytes if self.thin else self.size_bytes

    @property
    def pool(self):
        return self.parent.parent

    @property
    def in_use(self):
        # Mapped by a vSCSI mapping of any node of the cluster (a mapping
        # names its backing device in ``storage``).
        return any(mapping.storage is self
                   for vios in self.pool.cluster.vioses
                   for mapping in vios.scsi_mappings)


@dataclasses.dataclass
class _NewUnit:
    """An LU a request asks for, validated but not made yet."""

    name: str
    capacity_gb: float
    lu_type: str
    thin: bool
    source: LogicalUnit | None


@dataclasses.dataclass
class _UnitPlan:
    """What a request does to a pool's LUs, checked before it is done."""

    free_bytes: int
    create: list = dataclasses.field(default_factory=list)
    delete: list = dataclasses.field(default_factory=list)


def _mb_to_gb(size_mb):
    return round(size_mb / storage.MB_PER_GB, 4)


def _bytes_to_gb(size):
    return round(size / storage.GIB, 4)


class SSPOps:
    """SSP behaviour of the model (mixed into ``Model``)."""

    # ----------------------------------------------------------- queries
    def clusters(self, system=None):
        found = self.registry.of_kind(Cluster.kind)
        if system is not None:
            found = [c for c in found if registry.served_under(c, system)]
        return found

    def shared_storage_pools(self, cluster=None):
        if cluster is not None:
            return [cluster.ssp] if cluster.ssp is not None else []
        return self.registry.of_kind(SharedStoragePool.kind)

    def tiers(self, ssp=None):
        if ssp is not None:
            return list(ssp.tiers)
        return self.registry.of_kind(Tier.kind)

    def find_logical_unit(self, udid):
        """The LogicalUnit with ``udid`` in any pool, or None."""
        with self.registry.lock:
            for pool in self.registry.of_kind(SharedStoragePool.kind):
                for lu in pool.logical_units:
                    if lu.udid == udid:
                        return lu
        return None

    @staticmethod
    def check_node_reaches(vios, lu):
        """Refuse ``lu`` to ``vios`` (a mapping, an upload) unless the VIOS
        is a node of its cluster: a VIOS reaches the pools of its own
        clusters alone."""
        if vios not in lu.pool.cluster.vioses:
            _bad('Logical unit %s is in no shared storage pool of a cluster '
                 '%s is a node of.' % (lu.udid, vios.name), UNKNOWN_UNIT)

    # --------------------------------------------------------- inventory
    def add_cluster(self, system, name, pool_name, repository, data_disks,
                    nodes):
        """Form a cluster of ``nodes`` (ClusterNodes of VIOSes of
        ``system``, the one it is formed from, and maybe of other systems)
        with one pool of ``data_disks`` in a default tier."""
        with self.registry.lock:
            cluster = Cluster(parent=system, name=name,
                              repository_disks=[repository],
                              nodes=list(nodes))
            pool = SharedStoragePool(
                parent=cluster, name=pool_name,
                udid=_POOL_PREFIX + cluster.hex_id +
                uuidlib.uuid4().hex.upper())
            group = FailureGroup(
                udid=_FAILURE_GROUP_PREFIX + cluster.hex_id + _hex(16),
                physical_volumes=list(data_disks))
            tier = Tier(parent=pool, name=DEFAULT_TIER,
                        udid=_TIER_PREFIX + cluster.hex_id + _hex(16),
                        failure_groups=[group])
            pool.tiers.append(tier)
            cluster.ssp = pool
            for obj in (cluster, pool, tier):
                self.registry.add(obj)
            return cluster

    # ------------------------------------------------------ logical units
    def create_logical_unit(self, tier, fields):
        """Make the LU a client PUT on ``tier``."""
        with self.registry.lock:
            pool = tier.pool
            self._measure_usage(pool)
            plan = _UnitPlan(free_bytes=pool.free_bytes)
            self._plan_new_unit(pool, fields, plan)
            [lu] = self._apply_plan(pool, plan, tier)
            return lu

    def delete_logical_unit(self, lu):
        with self.registry.lock:
            pool = lu.pool
            self._measure_usage(pool)
            plan = _UnitPlan(free_bytes=pool.free_bytes, delete=[lu])
            self._check_clones(pool, plan.delete)
            self.check_unmapped(plan.delete)
            self._apply_plan(pool, plan, lu.parent)

    def update_logical_unit(self, lu, fields):
        """Take back an LU a client POSTs on its tier: a larger
        UnitCapacity grows it (its content gains zeros at the end, a thick
        unit takes the space from the pool) as far as the pool has free
        space; nothing else may change."""
        with self.registry.lock:
            pool = lu.pool
            self._measure_usage(pool)
            name = fields.get('name', lu.name)
            if name != lu.name:
                _bad('Logical unit %s cannot be renamed to %s.' % (
                    lu.name, name), FIXED_UNIT)
            capacity = fields.get('capacity_gb', lu.capacity_gb)
            if capacity < lu.capacity_gb - GB_TOLERANCE:
                _bad('Logical unit %s cannot shrink from %.4f GB to %.4f '
                     'GB.' % (lu.name, lu.capacity_gb, capacity), NO_SHRINK)
            growth = storage.gb_to_bytes(capacity) - lu.size_bytes
            if growth <= 0:
                return lu
            # As for a new unit, thin or thick: no request may ask for
            # more than the pool has free.
            if growth > pool.free_bytes:
                _bad('Shared storage pool %s has %.4f GB free; logical unit '
                     '%s needs %.4f GB more.' % (
                         pool.name, pool.free_gb, lu.name,
                         _bytes_to_gb(growth)), NO_SPACE)
            lu.capacity_gb = capacity
            # A new blob: a linked clone may share its image's (a hard
            # link), which keeps its size.
            self._copy_content(lu, lu)
            self.registry.changed(lu)
            self.registry.changed(pool, detail='LogicalUnit')
            return lu

    def update_shared_storage_pool(self, pool, fields):
        """Make the pool's LUs match a posted LogicalUnits list: units the
        list lacks are removed, units listed without a UDID are created,
        units listed by UDID must exist and stay as they are."""
        with self.registry.lock:
            self._measure_usage(pool)
            wanted = fields.get('logical_units')
            if wanted is None:
                return pool
            plan = _UnitPlan(free_bytes=pool.free_bytes)
            kept = self._plan_kept_units(pool, wanted)
            plan.delete = [lu for lu in pool.logical_units
                           if lu.udid not in kept]
            self._check_clones(pool, plan.delete)
            self.check_unmapped(plan.delete)
            plan.free_bytes += sum(lu.consumed_bytes for lu in plan.delete)
            for item in wanted:
                if not item.get('udid'):
                    self._plan_new_unit(pool, item, plan)
            self._apply_plan(pool, plan, pool.default_tier)
            return pool

    def logical_unit_use_changed(self, lu):
        """Give ``lu`` (and its pool) new etags after a vSCSI mapping of it
        came or went, so their documents show the new InUse."""
        with self.registry.lock:
            self.registry.changed(lu)
            self.registry.changed(lu.pool, detail='LogicalUnit')

    # -------------------------------------------------------- planning
    @staticmethod
    def _plan_kept_units(pool, wanted):
        """UDIDs of the listed units that exist; each must be unchanged."""
        existing = {lu.udid: lu for lu in pool.logical_units}
        kept = set()
        for item in wanted:
            udid = item.get('udid')
            if not udid:
                continue
            lu = existing.get(udid)
            if lu is None:
                _bad('Shared storage pool %s has no logical unit with UDID '
                     '%s.' % (pool.name, udid), UNKNOWN_UNIT)
            if udid in kept:
                _bad('Logical unit %s is listed twice.' % udid)
            _check_unchanged(lu, item)
            kept.add(udid)
        return kept

    @staticmethod
    def _plan_new_unit(pool, item, plan):
        name = _lu_name(item.get('name'))
        capacity = item.get('capacity_gb')
        if capacity is None or capacity <= 0:
            _bad('Logical unit %s needs a UnitCapacity greater than 0 GB.'
                 % name)
        lu_type = item.get('lu_type') or DISK
        if lu_type not in LU_TYPES:
            _bad('%r is not a logical unit type (one of %s).' % (
                lu_type, ', '.join(LU_TYPES)))
        source = _clone_source(pool, name, capacity, item, plan)
        thin = item.get('thin', True)
        size = storage.gb_to_bytes(capacity)
        if size > plan.free_bytes:
            _bad('Shared storage pool %s has %.4f GB free; logical unit %s '
                 'needs %.4f GB.' % (pool.name, _bytes_to_gb(
                     plan.free_bytes), name, capacity), NO_SPACE)
        if not thin:
            # Thick units are backed in full at once; thin ones (linked
            # clones among them) take space only as they are written.
            plan.free_bytes -= size
        plan.create.append(_NewUnit(name, capacity, lu_type, thin, source))

    @staticmethod
    def _check_clones(pool, removing):
        for lu in removing:
            kept_clones = [clone.name for clone in pool.clones_of(lu)
                           if clone not in removing]
            if kept_clones:
                raise registry.Conflict(
                    'Logical unit %s cannot be removed: linked clones %s '
                    'still use it.' % (lu.name, ', '.join(kept_clones)),
                    code=HAS_CLONES)

    # -------------------------------------------------------- applying
    def _apply_plan(self, pool, plan, tier):
        for lu in plan.delete:
            lu.parent.logical_units.remove(lu)
            self.content.delete(lu.udid)
            self.registry.remove(lu)
        made = [self._new_unit(pool, tier, new) for new in plan.create]
        if plan.delete or made:
            self.registry.changed(pool, detail='LogicalUnit')
        return made

    def _new_unit(self, pool, tier, new):
        prefix = _LU_PREFIX.get(new.lu_type, _DISK_LU_PREFIX)
        lu = LogicalUnit(parent=tier, name=new.name,
                         udid=prefix + pool.cluster.hex_id + _hex(32),
                         capacity_gb=new.capacity_gb, lu_type=new.lu_type,
                         thin=new.thin, source=new.source)
        if lu.source is None:
            self.content.sparse(lu.udid, lu.size_bytes)
        else:
            lu.inherited_bytes = self._share_content(lu.source, lu)
        tier.logical_units.append(lu)
        self.registry.add(lu)
        return lu

    def _share_content(self, source, clone):
        """Give ``clone`` the bytes of ``source``; returns the bytes of
        its blob that are still the source's."""
        source_path = self.content.path(source.udid)
        clone_path = self.content.path(clone.udid)
        if os.path.getsize(source_path) == clone.size_bytes:
            try:
                os.link(source_path, clone_path)
                return _allocated_bytes(clone_path)
            except OSError:
                # No hard links on this file system: copy instead.
                pass
        self._copy_content(source, clone)
        return _allocated_bytes(clone_path)

    def _copy_content(self, source, lu):
        """Give ``lu`` a blob of its own holding ``source``'s data regions
        (holes stay holes), as large as ``lu``."""
        with self.content.open_reader(source.udid) as reader, \
                self.content.open_writer(lu.udid) as writer:
            files.copy_data_regions(reader, writer)
            writer.truncate(lu.size_bytes)

    def _measure_usage(self, pool):
        """Bring the thin LUs' used bytes up to date with their blobs
        (uploads write them without telling the pool)."""
        changed = False
        for lu in pool.logical_units:
            if not lu.thin:
                continue
            try:
                written = _allocated_bytes(self.content.path(lu.udid))
            except FileNotFoundError:
                written = 0
            used = min(lu.size_bytes, max(0, written - lu.inherited_bytes))
            if used != lu.used_bytes:
                lu.used_bytes = used
                changed = True
        if changed:
            self.registry.changed(pool, detail='LogicalUnit')


def _check_unchanged(lu, item):
    name = item.get('name', lu.name)
    if name != lu.name:
        _bad('Logical unit %s cannot be renamed to %s.' % (lu.name, name),
             FIXED_UNIT)
    capacity = item.get('capacity_gb', lu.capacity_gb)
    if abs(capacity - lu.capacity_gb) > GB_TOLERANCE:
        _bad('The capacity of logical unit %s cannot change from %.4f GB '
             'to %.4f GB through its pool.' % (lu.name, lu.capacity_gb,
                                                capacity), FIXED_UNIT)


def _clone_source(pool, name, capacity, item, plan):
    udid = item.get('cloned_from_udid')
    if not udid:
        return None
    source = next((lu for lu in pool.logical_units
                   if lu.udid == udid and lu not in plan.delete), None)
    if source is None:
        _bad('Logical unit %s cannot be cloned from %s: no such logical '
             'unit in shared storage pool %s.' % (name, udid, pool.name),
             UNKNOWN_UNIT)
    if capacity < source.capacity_gb - GB_TOLERANCE:
        _bad('Linked clone %s (%.4f GB) is smaller than its source %s '
             '(%.4f GB).' % (name, capacity, source.name,
                             source.capacity_gb), NO_SPACE)
    return source


def _lu_name(raw):
    name = (raw or '').strip()
    if not _LU_NAME.match(name):
        _bad('%r is not a valid logical unit name (1 to 127 letters, '
             'digits, ".", "_" or "-").' % (raw or ''))
    return name


def _hex(digits):
    return uuidlib.uuid4().hex[:digits]


def _allocated_bytes(path):
    return os.stat(path).st_blocks * 512


# ------------------------------------------------------------- inventory
_REPOSITORY_MB = 10 * storage.MB_PER_GB
_POOL_DISK_MB = 256 * storage.MB_PER_GB
_POOL_DISKS = 2
# The cluster's disks follow the VIOS's local disks and free SAN LUNs.
_FIRST_HDISK = 6


def build_cluster(model, systems):
    """Join the VIOSes of ``systems`` into one SSP cluster (a repository
    disk and a pool of two SAN disks every node sees), named after the
    first system; None without VIOSes."""
    vioses = [part for system in systems for part in system.partitions
              if part.has_physical_io]
    if not vioses:
        return None
    first = systems[0]
    disks = [_cluster_disk(first, number, number == 0)
             for number in range(_POOL_DISKS + 1)]
    nodes = [ClusterNode(vios=vios, hostname='%s-%s.sim.example.com' % (
        vios.name, vios.parent.serial.lower())) for vios in vioses]
    serial = first.serial.lower()
    return model.add_cluster(
        first, 'ssp_cluster_%s' % serial, 'ssp_%s' % serial,
        repository=disks[0], data_disks=disks[1:], nodes=nodes)


def _cluster_disk(system, number, repository):
    lun = '6005076400820%s%08X' % (system.serial, 0x100 + number)
    label = '%s_ssp_%s%d' % (system.name, 'repo' if repository else 'data',
                             number)
    return storage.PhysicalVolume(
        name='hdisk%d' % (_FIRST_HDISK + number),
        capacity_mb=_REPOSITORY_MB if repository else _POOL_DISK_MB,
        udid='01' + _b64('3IBM2145%s' % lun),
        unique_id='3321%s04214503IBMfcp' % lun,
        description='MPIO IBM 2076 FC Disk', fc_backed=True,
        available=False,
        location_code='U78CB.001.%s-P1-C10-T1-W500507680B215660-L%d' % (
            system.serial, 0x100 + number) + '000000000000',
        storage_label=_b64(label))


def _b64(text):
    return base64.b64encode(text.encode()).decode()
