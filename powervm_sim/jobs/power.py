"""Jobs that power partitions: PowerOn, PowerOff, CloseVterm."""

from powervm_sim import jobs
from powervm_sim import model as model_mod
from powervm_sim.model import boot as boot_mod
from powervm_sim.model import partition as part_mod


@jobs.operation('PowerOn', 'LogicalPartition', 'VirtualIOServer')
def power_on(ctx):
    part, model = ctx.target, ctx.model
    try:
        mode = boot_mod.job_mode(ctx.param('bootmode'), part)
    except ValueError as exc:
        raise jobs.JobError('%s %s' % (jobs.BAD_PARAMETER, exc)) from exc
    with model.registry.lock:
        if part.state in (part_mod.RUNNING, part_mod.STARTING):
            raise model_mod.Conflict(
                'Partition %s is already powered on.' % part.name,
                code=jobs.ALREADY_ON)
        if part.state != part_mod.NOT_ACTIVATED:
            raise _bad_state(part)
        model.set_partition_state(part, part_mod.STARTING, 'inactive')

    def finish():
        with model.registry.lock:
            jobs.still_there(model, part)
            part.last_boot = boot_mod.boot(model, part, mode)
            model.set_partition_state(part, part_mod.RUNNING, 'active')

    def cancel():
        with model.registry.lock:
            model.set_partition_state(part, part_mod.NOT_ACTIVATED)

    return jobs.Plan(finish, cancel)


@jobs.operation('CloseVterm', 'LogicalPartition', 'VirtualIOServer')
def close_vterm(ctx):
    """Ends the partition's virtual terminal sessions.  The simulator opens
    none over REST (consoles are the management partition's local side),
    so there is nothing to end; the partition must still exist, and its
    state does not change, as on a real NovaLink."""
    jobs.still_there(ctx.model, ctx.target)


_POWER_OFF_OPERATIONS = ('shutdown', 'osshutdown', 'dumprestart')


@jobs.operation('PowerOff', 'LogicalPartition', 'VirtualIOServer')
def power_off(ctx):
    part, model = ctx.target, ctx.model
    kind = ctx.param('operation', 'shutdown').strip()
    if kind not in _POWER_OFF_OPERATIONS:
        raise jobs.JobError('%s Unknown power off operation %r.' % (
            jobs.BAD_PARAMETER, kind))
    # Validated only: a simulated OS stops the same way either way.
    ctx.flag('immediate')
    restart = ctx.flag('restart') or kind == 'dumprestart'
    with model.registry.lock:
        if part.state == part_mod.NOT_ACTIVATED:
            raise model_mod.Conflict(
                'Partition %s is already powered off.' % part.name,
                code=jobs.ALREADY_OFF)
        if part.state not in (part_mod.RUNNING, part_mod.STARTING):
            raise _bad_state(part)
        if kind == 'osshutdown' and part.rmc_state != 'active' and \
                part.partition_type != 'OS400':
            raise model_mod.Conflict(
                'An operating system shutdown of partition %s needs an '
                'active RMC connection.' % part.name, code=jobs.NO_RMC)
        before = (part.state, part.rmc_state)
        model.set_partition_state(part, part_mod.SHUTTING_DOWN, 'inactive')

    def finish():
        with model.registry.lock:
            jobs.still_there(model, part)
            model.set_partition_state(part, part_mod.NOT_ACTIVATED)
            if restart:
                model.set_partition_state(part, part_mod.STARTING)
                model.set_partition_state(part, part_mod.RUNNING, 'active')

    def cancel():
        with model.registry.lock:
            model.set_partition_state(part, *before)

    return jobs.Plan(finish, cancel)


def _bad_state(part):
    return model_mod.Conflict(
        'The partition %s is not in a state under which this operation can '
        'be performed (%s).' % (part.name, part.state), code=jobs.BAD_STATE)
