"""Partition mobility jobs: MigrateValidate, Migrate, MigrateAbort,
MigrateRecover (between the managed systems the simulator serves)."""

from powervm_sim import jobs
from powervm_sim import model as model_mod
from powervm_sim.model import partition as part_mod


def _migration_check(ctx):
    """Validate a migration; return (lpar, target, _Landing)."""
    lpar, model = ctx.target, ctx.model
    name = ctx.required('TargetManagedSystemName')
    target = next((s for s in model.systems if s.name == name), None)
    if target is None:
        raise jobs.JobError('%s The target managed system %s is not known.' % (
            jobs.MIGRATION_TARGET_UNKNOWN, name))
    if target is lpar.parent:
        raise jobs.JobError(
            '%s Partition %s is already on managed system %s.' % (
                jobs.MIGRATION_TARGET_UNKNOWN, lpar.name, name))
    if lpar.state != part_mod.RUNNING:
        raise jobs.JobError(
            '%s Partition %s must be running to migrate; it is %s.' % (
                jobs.MIGRATION_NOT_RUNNING, lpar.name, lpar.state))
    if not target.active_lpm_capable:
        raise jobs.JobError(
            '%s Managed system %s cannot receive active migrations.' % (
                jobs.MIGRATION_TARGET_UNKNOWN, name))
    return lpar, target, _target_ready(ctx.model, lpar, target)


class _Landing:
    """What ``lpar`` finds on the target: each CNA's virtual switch (by
    adapter UUID) and the new server side of each storage adapter."""

    def __init__(self, switches, mappings):
        self.switches = switches
        self.mappings = mappings


def _target_ready(model, lpar, target):
    """Check the target can take ``lpar``; return its _Landing."""
    target.check_capacity(lpar.mem_desired, lpar.proc_units)
    return _Landing(_switch_map(lpar, target),
                    model.plan_migration(lpar, target))


def _switch_map(lpar, target):
    """Each CNA's switch on the target: the switch of the same name."""
    by_name = {s.name: s for s in target.vswitches}
    mapping = {}
    for adapter in lpar.adapters:
        vswitch = getattr(adapter, 'vswitch', None)
        if vswitch is None:
            continue
        if vswitch.name not in by_name:
            raise jobs.JobError(
                '%s Managed system %s has no virtual switch %s for adapter '
                '%d of partition %s.' % (
                    jobs.MIGRATION_NO_SWITCH, target.name, vswitch.name,
                    adapter.slot, lpar.name))
        mapping[adapter.uuid] = by_name[vswitch.name]
    return mapping


@jobs.operation('MigrateValidate', 'LogicalPartition')
def migrate_validate(ctx):
    with ctx.model.registry.lock:
        _migration_check(ctx)


@jobs.operation('Migrate', 'LogicalPartition')
def migrate(ctx):
    model = ctx.model
    with model.registry.lock:
        lpar, target, _ = _migration_check(ctx)
        model.set_partition_state(lpar, part_mod.MIGRATING)

    def finish():
        with model.registry.lock:
            jobs.still_there(model, lpar)
            try:
                # The target may have filled up while the job ran.
                landing = _target_ready(model, lpar, target)
            except (jobs.JobError, model_mod.Conflict):
                model.set_partition_state(lpar, part_mod.RUNNING)
                raise
            _move_partition(model, lpar, target, landing)
            model.set_partition_state(lpar, part_mod.RUNNING)

    def cancel():
        with model.registry.lock:
            model.set_partition_state(lpar, part_mod.RUNNING)

    return jobs.Plan(finish, cancel)


def _move_partition(model, lpar, target, landing):
    """Re-home ``lpar`` (and its adapters) on ``target``; the target's
    VIOSes take over the server side of its storage adapters.

    The source NovaLink reports the partition deleted and the target's
    reports it added, as each only sees its own system.
    """
    source = lpar.parent
    model.registry.remove(lpar)
    source.partitions.remove(lpar)
    lpar.parent = target
    lpar.partition_id = target.next_partition_id()
    target.partitions.append(lpar)
    for adapter in lpar.adapters:
        if adapter.uuid in landing.switches:
            adapter.vswitch = landing.switches[adapter.uuid]
    model.move_mappings(lpar, landing.mappings)
    model.registry.add(lpar)
    for adapter in lpar.adapters:
        model.registry.changed(adapter)


@jobs.operation('MigrateAbort', 'LogicalPartition')
def migrate_abort(ctx):
    running = ctx.store.active_jobs('Migrate', ctx.target.uuid)
    if not running:
        raise jobs.JobError('%s Partition %s has no migration in progress.' % (
            jobs.NO_MIGRATION, ctx.target.name))
    for job in running:
        ctx.store.cancel(job.job_id)


@jobs.operation('MigrateRecover', 'LogicalPartition')
def migrate_recover(ctx):
    lpar, model = ctx.target, ctx.model
    # Validated only: recovery never meets errors worth forcing through.
    ctx.flag('Force')
    if ctx.store.active_jobs('Migrate', lpar.uuid):
        raise jobs.JobError(
            '%s The migration of partition %s is still running; abort it '
            'instead.' % (jobs.BAD_STATE, lpar.name))
    with model.registry.lock:
        if lpar.state != part_mod.MIGRATING:
            raise jobs.JobError(
                '%s Partition %s has no failed migration to recover.' % (
                    jobs.NO_MIGRATION, lpar.name))
        model.set_partition_state(lpar, part_mod.RUNNING)
