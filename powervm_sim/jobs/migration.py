"""Partition mobility jobs: MigrateValidate, Migrate, MigrateAbort,
MigrateRecover, between the managed systems the simulator serves.

The jobs read the parameters pypowervm's tasks.migration sends (a
malformed one fails the job with BAD_PARAMETER before anything is
checked); the model (model/mobility.py) checks and moves.  A Migrate job
runs for the latency model's time of 'Migrate': the partition migrates
meanwhile, and an abort (to the source's NovaLink, which runs the job)
brings it back.
"""

import ipaddress
import re

from powervm_sim import jobs
from powervm_sim.model import mobility
from powervm_sim.model import network

TARGET = 'TargetManagedSystemName'
SCSI_MAPPINGS = 'VirtualSCSIMappings'
FC_MAPPINGS = 'VirtualFCMappings'
VLAN_MAPPINGS = 'VlanMappings'
MSP_ADDRESSES = ('DestMSPIPaddr', 'SourceMSPIPaddr')
# pypowervm sends '2' to override; '1' leaves the check on.
_OVERRIDES = {'1': False, '2': True}
_SHARED_POOLS = 64
_MAC = re.compile(r'[0-9A-Fa-f]{12}')
_NUMBER = re.compile(r'[0-9]{1,9}')


def _bad(name, value, why):
    raise jobs.JobError('%s The job parameter %s (%r) %s.' % (
        jobs.BAD_PARAMETER, name, value[:80], why))


def _move_request(ctx):
    """The MoveRequest of the job's parameters."""
    for name in MSP_ADDRESSES:
        _addresses(ctx, name)
    # Validated only: the simulated systems have no affinity to score.
    ctx.flag('Affinity')
    return mobility.MoveRequest(
        target_name=ctx.required(TARGET),
        scsi=_adapter_specs(ctx, SCSI_MAPPINGS, fields=4),
        fc=_adapter_specs(ctx, FC_MAPPINGS, fields=5),
        vlans=_vlan_specs(ctx),
        ovs_override=_override(ctx, 'OVSOverride'),
        vlan_bridge_override=_override(ctx, 'VLANBridgeOverride'),
        shared_pool_id=_shared_pool(ctx))


def _items(ctx, name):
    """The comma-separated items of parameter ``name`` (none if absent)."""
    value = ctx.param(name)
    if value is None:
        return []
    items = value.split(',')
    if not all(item.strip() for item in items):
        _bad(name, value, 'has an empty item')
    return [item.strip() for item in items]


def _addresses(ctx, name):
    for item in _items(ctx, name):
        try:
            ipaddress.ip_address(item)
        except ValueError:
            _bad(name, item, 'is not an IP address')


def _override(ctx, name):
    value = (ctx.param(name) or '1').strip()
    if value not in _OVERRIDES:
        _bad(name, value, 'must be 1 or 2')
    return _OVERRIDES[value]


def _shared_pool(ctx):
    value = ctx.param('SharedProcPoolID')
    if value is None:
        return None
    return ctx.integer('SharedProcPoolID', 0, _SHARED_POOLS - 1)


def _number(name, item, text, optional=True):
    if not text and optional:
        return None
    if not _NUMBER.fullmatch(text):
        _bad(name, item, 'has %r where a number belongs' % text)
    return int(text)


def _adapter_specs(ctx, name, fields):
    """{client slot: AdapterSpec} of a mapping parameter:
    ``slot/vios-name/vios-id[/[vios-slot][/[port]]]`` (no port for
    vSCSI), with a VIOS name, ID or both."""
    specs = {}
    for item in _items(ctx, name):
        parts = item.split('/')
        if not 3 <= len(parts) <= fields:
            _bad(name, item, 'must have 3 to %d fields separated by "/"' %
                 fields)
        parts += [''] * (5 - len(parts))
        slot = _number(name, item, parts[0], optional=False)
        spec = mobility.AdapterSpec(
            vios_name=parts[1] or None,
            vios_id=_number(name, item, parts[2]),
            slot=_number(name, item, parts[3]), port=parts[4] or None)
        if spec.vios_name is None and spec.vios_id is None:
            _bad(name, item, 'names no Virtual I/O Server')
        if slot in specs:
            _bad(name, item, 'maps slot %d twice' % slot)
        specs[slot] = spec
    return specs


def _vlan_specs(ctx):
    """{MAC: (PVID, tagged VLANs)} of ``MAC/PVID[/VLAN VLAN...]`` items."""
    vlans = {}
    for item in _items(ctx, VLAN_MAPPINGS):
        parts = item.split('/')
        if len(parts) not in (2, 3) or not _MAC.fullmatch(parts[0]):
            _bad(VLAN_MAPPINGS, item, 'must be a MAC of 12 hexadecimal '
                 'digits, "/", a VLAN and maybe "/" and more VLANs')
        mac = parts[0].upper()
        if mac in vlans:
            _bad(VLAN_MAPPINGS, item, 'maps MAC %s twice' % mac)
        tagged = parts[2].split() if len(parts) == 3 else []
        ids = [_number(VLAN_MAPPINGS, item, text, optional=False)
               for text in [parts[1]] + tagged]
        if not all(1 <= vlan <= network.MAX_VLAN for vlan in ids):
            _bad(VLAN_MAPPINGS, item, 'has a VLAN outside 1-%d' %
                 network.MAX_VLAN)
        vlans[mac] = (ids[0], tuple(ids[1:]))
    return vlans


@jobs.operation('MigrateValidate', 'LogicalPartition')
def migrate_validate(ctx):
    request = _move_request(ctx)
    with ctx.model.registry.lock:
        ctx.model.plan_move(ctx.target, request)


@jobs.operation('Migrate', 'LogicalPartition')
def migrate(ctx):
    model, lpar = ctx.model, ctx.target
    request = _move_request(ctx)
    with model.registry.lock:
        plan = model.plan_move(lpar, request)
        model.begin_move(plan)

    def finish():
        with model.registry.lock:
            model.complete_move(plan)

    def cancel():
        with model.registry.lock:
            model.abandon_move(lpar)

    def fail():
        with model.registry.lock:
            model.fail_move(lpar)

    return jobs.Plan(finish, cancel, fail)


@jobs.operation('MigrateAbort', 'LogicalPartition')
def migrate_abort(ctx):
    lpar = ctx.target
    if lpar.migration is None or lpar.migration.failed:
        raise jobs.JobError('%s Partition %s has no migration in progress.' %
                            (mobility.NO_MIGRATION, lpar.name))
    running = ctx.store.active_jobs('Migrate', lpar.uuid)
    if not running:
        # The source's NovaLink runs the migration; the target's cannot
        # stop it.
        raise jobs.JobError(
            '%s The migration of partition %s is run by the management '
            'console of its source system; abort it there.' % (
                jobs.BAD_STATE, lpar.name))
    for job in running:
        ctx.store.cancel(job.job_id)


@jobs.operation('MigrateRecover', 'LogicalPartition')
def migrate_recover(ctx):
    lpar, model = ctx.target, ctx.model
    # Validated only: recovery never meets errors worth forcing through.
    ctx.flag('Force')
    with model.registry.lock:
        model.check_recoverable(lpar)
        model.abandon_move(lpar)
