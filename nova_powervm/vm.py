"""LPARs for nova instances: build, find, list, power and delete.

An instance's LPAR has the instance's UUID as converted by pypowervm
(PowerVM UUIDs have the top bit of the first byte clear) and its name as
partition name, so NovaLink's own tools show which instance it is.
"""

import json

from nova.compute import power_state
from nova import context as nova_context
from nova import exception
from nova import objects
from nova.virt import event
from oslo_concurrency import lockutils
from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import power as pvm_power
from pypowervm.tasks import power_opts as pvm_popts
from pypowervm import util as pvm_util
from pypowervm.utils import lpar_builder as pvm_bldr
from pypowervm.utils import uuid as pvm_uuid
from pypowervm.utils import validation as pvm_vldn
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import shared_proc_pool as pvm_spp

from nova_powervm import conf
from nova_powervm import extra_specs

LOG = logging.getLogger(__name__)
CONF = conf.CONF

_STATE = pvm_bp.LPARState

# Every PartitionState NovaLink reports (lower case: NovaLink writes
# 'Unknown'), as nova sees it.  A partition on its way down is still
# running until it is off; one resuming is still suspended until it runs.
POWERVM_TO_NOVA_STATE = {state.lower(): nova_state for state, nova_state in {
    _STATE.RUNNING: power_state.RUNNING,
    _STATE.STARTING: power_state.RUNNING,
    _STATE.MIGRATING_RUNNING: power_state.RUNNING,
    _STATE.OPEN_FIRMWARE: power_state.RUNNING,
    _STATE.SHUTTING_DOWN: power_state.RUNNING,
    _STATE.SUSPENDING: power_state.RUNNING,
    _STATE.NOT_ACTIVATED: power_state.SHUTDOWN,
    _STATE.MIGRATING_NOT_ACTIVE: power_state.SHUTDOWN,
    _STATE.RESUMING: power_state.SUSPENDED,
    _STATE.SUSPENDED: power_state.SUSPENDED,
    _STATE.ERROR: power_state.CRASHED,
    _STATE.UNKNOWN: power_state.NOSTATE,
    _STATE.HARDWARE_DISCOVERY: power_state.NOSTATE,
    _STATE.NOT_AVAILBLE: power_state.NOSTATE,
}.items()}

# Which nova lifecycle event a settled partition state stands for.
_STATE_TO_TRANSITION = {
    power_state.RUNNING: event.EVENT_LIFECYCLE_STARTED,
    power_state.SHUTDOWN: event.EVENT_LIFECYCLE_STOPPED,
    power_state.CRASHED: event.EVENT_LIFECYCLE_STOPPED,
    power_state.SUSPENDED: event.EVENT_LIFECYCLE_SUSPENDED,
}

# Partition states a power on / power off job can act on.
_STARTABLE = frozenset([_STATE.NOT_ACTIVATED])
_STOPPABLE = frozenset([
    _STATE.RUNNING, _STATE.STARTING, _STATE.OPEN_FIRMWARE,
    _STATE.SHUTTING_DOWN, _STATE.ERROR, _STATE.RESUMING, _STATE.SUSPENDING])

# os_distro of IBM i images (the image property nova passes through).
_IBMI_DISTROS = frozenset(['ibmi'])


# ------------------------------------------------------------------ states
def nova_power_state(pvm_state):
    """nova's power state for a NovaLink PartitionState (any case)."""
    if not pvm_state:
        return power_state.NOSTATE
    return POWERVM_TO_NOVA_STATE.get(pvm_state.lower(), power_state.NOSTATE)


def lifecycle_transition(pvm_state, known_power_state):
    """The lifecycle event to send nova, or None if nothing changed.

    :param pvm_state: the partition's PartitionState now.
    :param known_power_state: the power state nova has recorded.
    """
    current = nova_power_state(pvm_state)
    if current == known_power_state:
        return None
    return _STATE_TO_TRANSITION.get(current)


# ------------------------------------------------------------------- UUIDs
def get_pvm_uuid(instance):
    """The UUID of ``instance``'s LPAR (upper case, as NovaLink writes it)."""
    return pvm_uuid.convert_uuid_to_pvm(instance.uuid).upper()


def nova_uuid_candidates(lpar_uuid):
    """The two instance UUIDs that convert to ``lpar_uuid``.

    The conversion clears the top bit of the first byte, so it cannot be
    undone from the LPAR UUID alone: the instance UUID is one of these two.
    """
    lpar_uuid = lpar_uuid.lower()
    first = int(lpar_uuid[0], 16) & 7
    return ('%x%s' % (first, lpar_uuid[1:]),
            '%x%s' % (first | 8, lpar_uuid[1:]))


def find_instances(context, lpar_uuids):
    """Map LPAR UUIDs to the nova instances they belong to.

    One database query for all of them.  LPARs nova did not create (or
    whose instance is gone from the database) are left out.

    :returns: dict of LPAR UUID (lower case) -> objects.Instance.
    """
    candidates = [nova_uuid for lpar_uuid in lpar_uuids
                  for nova_uuid in nova_uuid_candidates(lpar_uuid)]
    if not candidates:
        return {}
    found = objects.InstanceList.get_by_filters(
        context, {'uuid': candidates}, expected_attrs=[])
    return {pvm_uuid.convert_uuid_to_pvm(inst.uuid).lower(): inst
            for inst in found}


# ----------------------------------------------------------------- lookup
def get_lpar(adapter, instance):
    """The LPAR wrapper of ``instance``.

    :raises nova.exception.InstanceNotFound: NovaLink has no such LPAR.
    """
    try:
        return pvm_lpar.LPAR.get(adapter, uuid=get_pvm_uuid(instance))
    except pvm_exc.HttpNotFound:
        raise exception.InstanceNotFound(
            instance_id=instance.uuid) from None


def get_state(adapter, lpar_uuid):
    """The PartitionState of an LPAR, read as a quick property.

    :raises nova.exception.InstanceNotFound: NovaLink has no such LPAR.
    """
    try:
        resp = adapter.read(pvm_lpar.LPAR.schema_type, root_id=lpar_uuid,
                            suffix_type='quick',
                            suffix_parm='PartitionState')
    except pvm_exc.HttpNotFound:
        raise exception.InstanceNotFound(instance_id=lpar_uuid) from None
    return json.loads(resp.body)


def instance_exists(adapter, instance):
    try:
        get_state(adapter, get_pvm_uuid(instance))
    except exception.InstanceNotFound:
        return False
    return True


def list_lpars(adapter):
    """Every client LPAR (not the NovaLink partition): one feed read."""
    return [lpar for lpar in pvm_lpar.LPAR.get(adapter)
            if not lpar.is_mgmt_partition]


def list_instance_uuids(adapter):
    """UUIDs of the nova instances whose LPARs exist on this host."""
    lpar_uuids = [lpar.uuid for lpar in list_lpars(adapter)]
    context = nova_context.get_admin_context(read_deleted='yes')
    return [inst.uuid for inst in
            find_instances(context, lpar_uuids).values()]


# ------------------------------------------------------------------ build
def partition_type(image_meta):
    """AIX/Linux or IBM i, from the image's os_distro / os_type."""
    props = image_meta.properties
    distro = (props.get('os_distro') or '').lower()
    if distro in _IBMI_DISTROS:
        return pvm_bp.LPARType.OS400
    if props.get('os_type') == 'windows':
        raise exception.InstanceDeployFailure(
            reason='PowerVM cannot run Windows images (os_type=windows).')
    return pvm_bp.LPARType.AIXLINUX


def builder_attributes(instance, image_meta):
    """LPARBuilder attributes for ``instance`` (no I/O).

    :raises nova.exception.InvalidAttribute: a bad ``powervm:`` extra spec.
    """
    return _flavor_attributes(instance, instance.flavor,
                              partition_type(image_meta))


def _flavor_attributes(instance, flavor, env):
    """LPARBuilder attributes of ``instance`` with ``flavor`` as an LPAR
    of type ``env``."""
    attrs = {
        pvm_bldr.NAME: pvm_util.sanitize_partition_name_for_api(
            instance.name),
        pvm_bldr.UUID: get_pvm_uuid(instance),
        pvm_bldr.MEM: flavor.memory_mb,
        pvm_bldr.VCPU: flavor.vcpus,
        pvm_bldr.ENV: env,
        # Remote restart is what lets an evacuation keep the partition;
        # the standardizer drops it on hosts without the capability.
        pvm_bldr.SRR_CAPABLE: True,
    }
    attrs.update(extra_specs.builder_attributes(flavor.extra_specs))
    return attrs


def _standardizer(host_w):
    return pvm_bldr.DefaultStandardize(
        host_w, proc_units_factor=CONF.powervm.proc_units_factor,
        uncapped_weight=CONF.powervm.uncapped_proc_weight)


def _shared_pool_id(adapter, host_w, name):
    if name == pvm_spp.DEFAULT_POOL_DISPLAY_NAME:
        return 0
    pools = pvm_spp.SharedProcPool.search(adapter, name=name, parent=host_w)
    if len(pools) != 1:
        raise exception.InvalidAttribute(
            attr='%s%s=%s (%d pools of that name on the host)' % (
                extra_specs.PREFIX, 'shared_proc_pool_name', name,
                len(pools)))
    return pools[0].id


def _builder(adapter, host_w, attrs):
    """pypowervm's LPARBuilder of ``attrs``, its shared processor pool
    found by name."""
    pool_name = attrs.pop(extra_specs.SHARED_PROC_POOL_NAME, None)
    if pool_name is not None:
        attrs[pvm_bldr.SPP] = _shared_pool_id(adapter, host_w, pool_name)
    return pvm_bldr.LPARBuilder(adapter, attrs, _standardizer(host_w))


# What pypowervm raises for attributes it cannot build an LPAR from.
_BUILD_ERRORS = (pvm_bldr.LPARBuilderException, pvm_vldn.ValidatorException,
                 ValueError, TypeError)


def build_lpar(adapter, host_w, instance, image_meta):
    """A validated, not yet created, LPAR wrapper for ``instance``.

    :raises nova.exception.InstanceDeployFailure: the flavor does not fit
            the host or the host's free resources.
    """
    attrs = builder_attributes(instance, image_meta)
    try:
        lpar_w = _builder(adapter, host_w, attrs).build()
        pvm_vldn.LPARWrapperValidator(lpar_w, host_w).validate_all()
    except _BUILD_ERRORS as exc:
        raise exception.InstanceDeployFailure(reason=exc) from exc
    return lpar_w


def create_lpar(adapter, host_w, instance, image_meta, nvram=None):
    """Create ``instance``'s LPAR on the host; returns its wrapper.

    :param nvram: the NVRAM it starts with (an LPAR recreated from where
                  another host kept it boots as it did), or None.
    :raises nova.exception.InstanceDeployFailure: NovaLink refused it.
    """
    # The validator checks free memory and processors: use today's.
    host_w = host_w.refresh()
    lpar_w = build_lpar(adapter, host_w, instance, image_meta)
    if nvram is not None:
        lpar_w.nvram = nvram
    LOG.info('Creating LPAR %s.', lpar_w.name, instance=instance)
    try:
        return lpar_w.create(parent=host_w)
    except pvm_exc.Error as exc:
        raise exception.InstanceDeployFailure(reason=exc) from exc


def update_lpar(adapter, host_w, instance, flavor):
    """Give ``instance``'s (stopped) LPAR the memory, processors and
    ``powervm:`` settings of ``flavor``, in place: its adapters, storage
    and partition ID stay.  NovaLink checks that the host can give them.

    :returns: the updated LPAR's wrapper.
    :raises nova.exception.ResizeError: pypowervm cannot build such an
            LPAR, or NovaLink refused it.
    """
    lpar_w = get_lpar(adapter, instance)
    LOG.info('Giving LPAR %(lpar)s flavor %(flavor)s.',
             {'lpar': lpar_w.name, 'flavor': flavor.name},
             instance=instance)
    try:
        attrs = _flavor_attributes(instance, flavor, lpar_w.env)
        _builder(adapter, host_w, attrs).rebuild(lpar_w)
        return lpar_w.update()
    except _BUILD_ERRORS + (pvm_exc.Error,) as exc:
        raise exception.ResizeError(reason=exc) from exc


def create_outcome_unknown(exc):
    """Whether a failed create_lpar may still have made the LPAR.

    That is the case when the request went out but no answer came back
    (connection lost, timeout); an HTTP error means NovaLink refused it.
    """
    return isinstance(exc, exception.InstanceDeployFailure) and isinstance(
        exc.__cause__, (pvm_exc.ConnectionError, pvm_exc.TimeoutError))


def delete_lpar(adapter, instance):
    """Delete ``instance``'s LPAR; an LPAR already gone is fine.

    :raises nova.exception.InstanceTerminationFailure: NovaLink refused.
    """
    LOG.info('Deleting LPAR.', instance=instance)
    try:
        adapter.delete(pvm_lpar.LPAR.schema_type,
                       root_id=get_pvm_uuid(instance))
    except pvm_exc.HttpNotFound:
        LOG.info('LPAR was already deleted.', instance=instance)
    except pvm_exc.Error as exc:
        raise exception.InstanceTerminationFailure(reason=exc) from exc


# ------------------------------------------------------------------ power
def _power_lock(instance):
    # One power operation per instance at a time: NovaLink refuses a job
    # while another runs on the partition, and a reboot racing a stop
    # would leave the instance in whichever state finished last.
    return lockutils.lock('power_%s' % instance.uuid)


# Boot modes of a power on (the PowerOn job's bootmode): normal, or System
# Management Services, where a rescue boots its rescue disk.
BOOT_NORMAL = pvm_popts.BootMode.NORM
BOOT_SMS = pvm_popts.BootMode.SMS


def power_on(adapter, instance, lpar_w=None, boot_mode=None):
    """Start ``instance``'s LPAR unless it is already on.

    :param lpar_w: the LPAR's wrapper if the caller knows it is current
                   (a deploy's new LPAR, never started): saves reading it.
    :param boot_mode: the PowerOn job's boot mode (pypowervm's
                      power_opts.BootMode: SMS for a rescue), or None for
                      the LPAR's own (normal).
    :raises nova.exception.InstancePowerOnFailure: NovaLink failed to.
    """
    with _power_lock(instance):
        try:
            if lpar_w is None:
                lpar_w = get_lpar(adapter, instance)
            if lpar_w.state not in _STARTABLE:
                LOG.debug('LPAR is %s; no power on needed.', lpar_w.state,
                          instance=instance)
                return
            opts = pvm_popts.PowerOnOpts()
            if boot_mode is not None:
                opts.bootmode(boot_mode)
            pvm_power.power_on(lpar_w, None, add_parms=opts)
        except pvm_exc.Error as exc:
            raise exception.InstancePowerOnFailure(reason=exc) from exc


def is_on(lpar_w):
    """Whether the LPAR is in a state a power off acts on."""
    return lpar_w.state in _STOPPABLE


def power_off(adapter, instance, timeout=0, lpar_w=None):
    """Stop ``instance``'s LPAR unless it is already off.

    :param timeout: seconds the operating system gets to shut down (OS
                    shutdown, then the service processor's normal and hard
                    power offs); 0 means a hard power off straight away.
    :param lpar_w: the LPAR's wrapper if the caller just read it: saves
                   reading it again.
    :raises nova.exception.InstancePowerOffFailure: NovaLink failed to.
    """
    with _power_lock(instance):
        try:
            if lpar_w is None:
                lpar_w = get_lpar(adapter, instance)
            if not is_on(lpar_w):
                LOG.debug('LPAR is %s; no power off needed.', lpar_w.state,
                          instance=instance)
                return
            if timeout:
                pvm_power.power_off_progressive(lpar_w, timeout=timeout)
            else:
                pvm_power.PowerOp.stop(
                    lpar_w, opts=pvm_popts.PowerOffOpts().vsp_hard())
        except pvm_exc.Error as exc:
            raise exception.InstancePowerOffFailure(reason=exc) from exc


def reboot(adapter, instance, hard):
    """Restart ``instance``'s LPAR; start it if it is off.

    :param hard: restart through the service processor at once rather
                 than asking the operating system first.
    :raises nova.exception.InstanceRebootFailure: NovaLink failed to.
    """
    with _power_lock(instance):
        try:
            lpar_w = get_lpar(adapter, instance)
            if lpar_w.state in _STARTABLE:
                pvm_power.power_on(lpar_w, None)
            elif hard:
                pvm_power.PowerOp.stop(
                    lpar_w,
                    opts=pvm_popts.PowerOffOpts().vsp_hard().restart())
            else:
                pvm_power.power_off_progressive(lpar_w, restart=True)
        except pvm_exc.Error as exc:
            raise exception.InstanceRebootFailure(reason=exc) from exc
