"""Partition mobility: a running client LPAR's move to another managed
system (live partition migration, LPM).

A move is planned, begun, and then completed, abandoned or failed:

- :meth:`MobilityOps.plan_move` checks what NovaLink checks before a
  migration (the target's console trusting the source's SSH key, the
  partition, both systems, the target's room, the network and storage it
  must provide, the mapping parameters) and changes nothing;
  MigrateValidate stops there.
- :meth:`MobilityOps.begin_move`: the partition is ``migrating running``;
  the target holds its memory, processors and new partition ID, and the
  target's NovaLink serves it too (reporting it added) while it moves.
- :meth:`MobilityOps.complete_move`: the partition lives on the target
  with its new partition ID, its network adapters on the target's switches
  of the same names (with the VLANs the migration maps them to) and the
  server side of its storage adapters on the target's VIOSes; the source's
  NovaLink reports it deleted.
- :meth:`MobilityOps.abandon_move` (an abort, a recovery): back to running
  on its own system alone; the target's NovaLink reports it deleted.
- :meth:`MobilityOps.fail_move`: the move stopped midway (or the
  simulator restarted meanwhile); the partition stays ``migrating
  running`` with MigrationState ``Migration_Failed`` on both NovaLinks
  until it is recovered.

The partition document is the same object on both NovaLinks while it
moves: the target serves it with the source's partition ID and system
link, and gives it its own only when it arrives.

The codes: HSCLA319 (mapping.VFC_NOT_HOSTABLE) is NovaLink's own; the
capacity refusals reuse the system's HSCL1544/HSCL1545; the others are
the simulator's choice (pypowervm inspects none of them).
"""

import dataclasses
import typing

from powervm_sim.model import console
from powervm_sim.model import mapping
from powervm_sim.model import network
from powervm_sim.model import partition as part_mod
from powervm_sim.model import registry

TARGET_UNKNOWN = 'HSCLA318'
NO_SWITCH = 'HSCLA31A'
NO_MIGRATION = 'HSCLA31B'
NOT_RUNNING = 'HSCLA31D'
NO_RMC = 'HSCLA31E'
PHYSICAL_IO = 'HSCLA31F'
NAME_IN_USE = 'HSCLA321'
ALREADY_MIGRATING = 'HSCLA322'
PROC_COMPAT = 'HSCLA323'
NOT_CAPABLE = 'HSCLA324'
TOO_MANY = 'HSCLA325'
VLAN_NOT_BRIDGED = 'HSCLA326'
SDN_BRIDGE = 'HSCLA327'
BAD_MAPPING = 'HSCLA328'
FAILED_MIDWAY = 'HSCLA329'
UNTRUSTED = 'HSCLA32A'
# Only the default shared processor pool exists on the simulated systems.
DEFAULT_POOL = 0


def _refused(message, code):
    return registry.Conflict(message, code=code, status=400)


@dataclasses.dataclass(kw_only=True, eq=False)
class Migration:
    """A partition's move while it lasts (Partition.migration)."""

    target: typing.Any = dataclasses.field(repr=False)
    # The partition ID the target holds for it.
    target_id: int
    # Stopped midway: waits for MigrateRecover.
    failed: bool = False


@dataclasses.dataclass(frozen=True)
class AdapterSpec:
    """One item of the VirtualSCSIMappings or VirtualFCMappings parameter:
    the target VIOS (by name, partition ID or both), maybe its slot and
    (FC) physical port."""

    vios_name: str | None = None
    vios_id: int | None = None
    slot: int | None = None
    port: str | None = None


@dataclasses.dataclass
class MoveRequest:
    """What a Migrate job asks, parsed from its parameters."""

    target_name: str
    # {client slot: AdapterSpec}
    scsi: dict = dataclasses.field(default_factory=dict)
    fc: dict = dataclasses.field(default_factory=dict)
    # {MAC: (PVID, tagged VLANs)}
    vlans: dict = dataclasses.field(default_factory=dict)
    # OVSOverride: the partition's network may be bridged by the NovaLink
    # partition (Open vSwitch) rather than a VIOS.
    ovs_override: bool = False
    # VLANBridgeOverride: the target need not bridge the VLANs.
    vlan_bridge_override: bool = False
    shared_pool_id: int | None = None


@dataclasses.dataclass
class _CnaLanding:
    """A network adapter's switch and VLANs on the target."""

    cna: typing.Any
    vswitch: typing.Any
    pvid: int
    tagged: tuple

    def apply(self):
        self.cna.vswitch = self.vswitch
        self.cna.pvid = self.pvid
        self.cna.tagged_vlans = self.tagged


@dataclasses.dataclass
class MovePlan:
    """A checked move: where everything lands on the target."""

    lpar: typing.Any
    target: typing.Any
    request: MoveRequest
    network: list
    storage: list


class MobilityOps:
    """Mobility behaviour of the model (mixed into ``Model``)."""

    # ------------------------------------------------------------ checks
    def plan_move(self, lpar, request):
        """Check the move ``request`` asks of ``lpar`` (model lock held);
        the MovePlan, changing nothing.

        :raises registry.Conflict: NovaLink refuses the migration.
        """
        target = _target(self, lpar, request.target_name)
        _check_trust(self, lpar.parent, target)
        _check_partition(lpar)
        _check_systems(lpar, target)
        _check_room(lpar, target, request)
        return self._plan_landing(lpar, target, request)

    def _plan_landing(self, lpar, target, request):
        """Where the partition's adapters land: checked again when the
        move completes, as the target may have changed meanwhile."""
        return MovePlan(lpar, target, request,
                        self._plan_network(lpar, target, request),
                        self.plan_migration(lpar, target, _placements(
                            lpar, target, request)))

    def _plan_network(self, lpar, target, request):
        cnas = self.cnas(lpar)
        unknown = set(request.vlans) - {cna.mac for cna in cnas}
        if unknown:
            raise _refused('Partition %s has no virtual Ethernet adapter '
                           'with MAC address %s.' % (
                               lpar.name, ', '.join(sorted(unknown))),
                           BAD_MAPPING)
        taken = {cna.mac for cna in self._system_cnas(target)}
        landings = []
        for cna in cnas:
            if cna.mac in taken:
                raise _refused('MAC address %s of adapter %d is already in '
                               'use on managed system %s.' % (
                                   cna.mac, cna.slot, target.name),
                               network.DUPLICATE_MAC)
            pvid, tagged = request.vlans.get(cna.mac,
                                             (cna.pvid, cna.tagged_vlans))
            landing = _CnaLanding(cna, _switch_on(target, cna, lpar), pvid,
                                  tuple(tagged))
            _check_bridging(lpar, landing, request)
            landings.append(landing)
        return landings

    # ------------------------------------------------------------- moves
    def begin_move(self, plan):
        lpar, target = plan.lpar, plan.target
        lpar.migration = Migration(target=target,
                                   target_id=target.next_partition_id())
        target.incoming.append(lpar)
        self.registry.shown(lpar, target)
        self.set_partition_state(lpar, part_mod.MIGRATING)
        # The target's document shows what it now holds.
        self.registry.changed(target)

    def complete_move(self, plan):
        """Land the partition on the target (checking its landing again:
        refused, the move is abandoned)."""
        lpar, target = plan.lpar, plan.target
        try:
            plan = self._plan_landing(lpar, target, plan.request)
        except registry.Conflict:
            self.abandon_move(lpar)
            raise
        source = lpar.parent
        self.registry.hidden(lpar, source)
        source.partitions.remove(lpar)
        target.incoming.remove(lpar)
        lpar.parent = target
        lpar.partition_id = lpar.migration.target_id
        lpar.migration = None
        target.partitions.append(lpar)
        for landing in plan.network:
            landing.apply()
        for system in (source, target):
            self.sync_virtual_networks(system)
        self.move_mappings(lpar, plan.storage)
        self.set_partition_state(lpar, part_mod.RUNNING)
        for adapter in lpar.adapters:
            self.registry.changed(adapter)
        self.registry.changed(source)

    def abandon_move(self, lpar):
        target = lpar.migration.target
        target.incoming.remove(lpar)
        lpar.migration = None
        self.registry.hidden(lpar, target)
        self.set_partition_state(lpar, part_mod.RUNNING)
        self.registry.changed(target)

    def fail_move(self, lpar):
        lpar.migration.failed = True
        # Both NovaLinks show it: its MigrationState changed.
        self.registry.changed(lpar)

    def fail_interrupted_moves(self):
        """Fail every move still running: for a model loaded from a state
        file, whose moves lost the jobs that ran them with the process
        that saved it (as an LPM fails when NovaLink restarts)."""
        with self.registry.lock:
            for lpar in self.lpars():
                if lpar.migration is not None and not lpar.migration.failed:
                    self.fail_move(lpar)

    def check_recoverable(self, lpar):
        """A failed move is recovered (abandoned); a running one must be
        aborted instead."""
        if lpar.migration is None:
            raise registry.Conflict('Partition %s has no failed migration to '
                                    'recover.' % lpar.name, code=NO_MIGRATION)
        if not lpar.migration.failed:
            raise registry.Conflict(
                'The migration of partition %s is still running; abort it '
                'instead.' % lpar.name, code=part_mod.BAD_STATE)

    # ---------------------------------------------------------- controls
    def set_mobility(self, system, active_capable=None,
                     max_active_migrations=None, proc_compat_modes=None):
        """Change what ``system`` allows of migrations (None: unchanged).
        """
        with self.registry.lock:
            changes = _mobility_changes(active_capable, max_active_migrations,
                                        proc_compat_modes)
            for name, value in changes.items():
                setattr(system, name, value)
            self.registry.changed(system)


def _target(model, lpar, name):
    target = next((s for s in model.systems if s.name == name), None)
    if target is None:
        raise _refused('The target managed system %s is not known.' % name,
                       TARGET_UNKNOWN)
    if target is lpar.parent:
        raise _refused('Partition %s is already on managed system %s.' % (
            lpar.name, name), TARGET_UNKNOWN)
    return target


def _check_trust(model, source, target):
    """The source's NovaLink runs the migration over SSH to the target's,
    as its user wlp: the target's console must authorize the source's
    public key."""
    if not model.trusts(target.console, source.console):
        raise _refused(
            'The management console of managed system %s does not accept '
            'the public SSH key of management console %s for user %s; add '
            'the key to its authorized keys.' % (
                target.name, source.console.name, console.USER), UNTRUSTED)


def _check_partition(lpar):
    """What the partition itself must be to migrate live."""
    if lpar.is_mgmt:
        raise _refused('Partition %s is the management partition, which '
                       'cannot migrate.' % lpar.name, mapping.NOT_MIGRATABLE)
    if lpar.migration is not None:
        raise _refused('Partition %s is already migrating to %s.' % (
            lpar.name, lpar.migration.target.name), ALREADY_MIGRATING)
    if lpar.state != part_mod.RUNNING:
        raise _refused('Partition %s must be running to migrate; it is %s.'
                       % (lpar.name, lpar.state), NOT_RUNNING)
    # IBM i partitions migrate without RMC (as pypowervm's can_lpm says).
    if lpar.rmc_state != 'active' and not lpar.is_ibmi:
        raise _refused('Partition %s has no active RMC connection (it is '
                       '%s).' % (lpar.name, lpar.rmc_state), NO_RMC)
    if lpar.io_slots:
        raise _refused('Partition %s owns physical I/O (%s); only '
                       'partitions with virtual I/O alone migrate.' % (
                           lpar.name, ', '.join(card.drc_name for card in
                                                lpar.io_slots)),
                       PHYSICAL_IO)


def _check_systems(lpar, target):
    for system in (lpar.parent, target):
        if not system.active_lpm_capable:
            raise _refused('Managed system %s is not capable of active '
                           'partition mobility.' % system.name, NOT_CAPABLE)
        if system.active_migrations >= system.max_active_migrations:
            raise _refused('Managed system %s already runs %d of its %d '
                           'active migrations.' % (
                               system.name, system.active_migrations,
                               system.max_active_migrations), TOO_MANY)
    for mode in {lpar.current_proc_compat_mode, lpar.proc_compat_mode}:
        if mode not in target.proc_compat_modes:
            raise _refused('Managed system %s cannot run partition %s in '
                           'processor compatibility mode %s (it supports '
                           '%s).' % (target.name, lpar.name, mode,
                                     ', '.join(target.proc_compat_modes)),
                           PROC_COMPAT)


def _check_room(lpar, target, request):
    if any(p.name == lpar.name for p in target.served_partitions):
        raise _refused('A partition named %s already exists on managed '
                       'system %s.' % (lpar.name, target.name), NAME_IN_USE)
    if request.shared_pool_id not in (None, DEFAULT_POOL):
        raise _refused('Managed system %s has no shared processor pool %d.'
                       % (target.name, request.shared_pool_id), BAD_MAPPING)
    target.check_capacity(lpar.mem_desired, lpar.proc_units)
    # Refused (HSCL1562) when the target has no partition ID left.
    target.next_partition_id()


def _switch_on(target, cna, lpar):
    name = cna.vswitch.name
    found = next((s for s in target.vswitches if s.name == name), None)
    if found is None:
        raise _refused('Managed system %s has no virtual switch %s for '
                       'adapter %d of partition %s.' % (
                           target.name, name, cna.slot, lpar.name),
                       NO_SWITCH)
    return found


def _trunks(system, vswitch_name, vlans):
    """The trunk adapters of ``system`` that bridge any of ``vlans`` on
    its switch ``vswitch_name``."""
    return [adapter for part in system.partitions for adapter in
            part.adapters if getattr(adapter, 'is_trunk', False) and
            adapter.vswitch.name == vswitch_name and
            set(adapter.vlans) & set(vlans)]


def _check_bridging(lpar, landing, request):
    """A VLAN the source bridges to a network must be bridged on the
    target too (unless VLANBridgeOverride), by a VIOS or, with
    OVSOverride, by the NovaLink partition (Open vSwitch); a VLAN the
    NovaLink partition bridges moves only with OVSOverride."""
    cna = landing.cna
    bridges = _trunks(lpar.parent, cna.vswitch.name, cna.vlans)
    if not bridges:
        return
    if not request.ovs_override and all(t.parent.is_mgmt for t in bridges):
        raise _refused('The VLANs of adapter %d of partition %s are bridged '
                       'by the management partition; migrating it needs '
                       'OVSOverride.' % (cna.slot, lpar.name), SDN_BRIDGE)
    if request.vlan_bridge_override:
        return
    target = landing.vswitch.parent
    for vlan in (landing.pvid,) + landing.tagged:
        found = [t for t in _trunks(target, cna.vswitch.name, [vlan])
                 if request.ovs_override or not t.parent.is_mgmt]
        if not found:
            raise _refused('VLAN %d of adapter %d of partition %s is not '
                           'bridged on virtual switch %s of managed system '
                           '%s.' % (vlan, cna.slot, lpar.name,
                                    cna.vswitch.name, target.name),
                           VLAN_NOT_BRIDGED)


def _placements(lpar, target, request):
    """{client slot: mapping.Placement} of the mapping parameters."""
    placements = {}
    for kind, specs in ((mapping.SCSI_CLIENT, request.scsi),
                        (mapping.FC_CLIENT, request.fc)):
        slots = {a.slot for a in lpar.adapters if a.kind == kind}
        for slot, spec in specs.items():
            if slot not in slots:
                raise _refused('Partition %s has no %s in slot %d.' % (
                    lpar.name, kind, slot), BAD_MAPPING)
            placements[slot] = mapping.Placement(
                _named_vios(target, spec), spec.slot, spec.port)
    return placements


def _named_vios(target, spec):
    for vios in target.partitions:
        if vios.has_physical_io and spec.vios_name in (None, vios.name) \
                and spec.vios_id in (None, vios.partition_id):
            return vios
    raise _refused('Managed system %s has no Virtual I/O Server %s.' % (
        target.name, '/'.join(str(v) for v in (spec.vios_name, spec.vios_id)
                              if v is not None)), BAD_MAPPING)


def _mobility_changes(active_capable, max_active_migrations,
                      proc_compat_modes):
    changes = {}
    if active_capable is not None:
        if not isinstance(active_capable, bool):
            raise _refused('active_capable must be true or false.', '')
        changes['active_lpm_capable'] = active_capable
    if max_active_migrations is not None:
        if not isinstance(max_active_migrations, int) or isinstance(
                max_active_migrations, bool) or max_active_migrations < 0:
            raise _refused('max_active_migrations must be a whole number '
                           '>= 0.', '')
        changes['max_active_migrations'] = max_active_migrations
    if proc_compat_modes is not None:
        if not isinstance(proc_compat_modes, list | tuple) or not all(
                isinstance(mode, str) and mode for mode in proc_compat_modes):
            raise _refused('proc_compat_modes must be a list of mode names.',
                           '')
        changes['proc_compat_modes'] = tuple(proc_compat_modes)
    return changes
