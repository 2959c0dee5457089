"""Live migration: a running instance's LPAR moves to another managed
system through NovaLink's live partition mobility (LPM).

nova takes a live migration in steps, each on one host:

1. the destination checks that its system can take the LPAR and says
   where it is (``check_destination``, the PowerVMLiveMigrateData);
2. the source checks that the LPAR can move there (``check_source``):
   what PowerVM cannot move is refused here, before anything changes;
3. the destination readies what NovaLink needs to land the LPAR
   (``tasks.migration``: trunk adapters for its Open vSwitch VIFs on
   VLANs free there, its volumes found by this system's VIOSes);
4. the source moves it (``Mover``): NovaLink's MigrateValidate, then
   Migrate, which takes the partition with its adapters and the mappings
   of its disks; the config drive, which NovaLink cannot move, stays
   behind and is written anew on the destination;
5. nova's post steps (or its rollback) on both hosts remove what the
   move left behind.

Both hosts reach the boot disk (a shared storage pool) and the volumes;
the destination's NovaLink is named to the source's by its managed
system's name, its address and its user.
"""

import time

from nova.compute import rpcapi as compute_rpcapi
from nova import exception
from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import management_console as pvm_mc
from pypowervm.tasks import migration as pvm_mig
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm import util as pvm_util
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import storage as pvm_stg

from nova_powervm import conf
from nova_powervm import flows
from nova_powervm import media
from nova_powervm import migrate_data as pvm_migrate_data
from nova_powervm import undo
from nova_powervm import vif as pvm_vif
from nova_powervm import vm
from nova_powervm.volume import npiv

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# The user the source's NovaLink runs the move as on the destination's
# (NovaLink's REST server), as nova-powervm 9.0.0 named it.
DEST_USER = 'wlp'
# host_mig_data's own key beside ManagedSystem.migration_data's.
MEMORY_REGION_SIZE = 'memory_region_size'
# LogicalPartition MigrationState of a move that stopped midway.
MIGRATION_FAILED = 'Migration_Failed'
# How long, after a Migrate job that did not report success, the
# partition may take to come to rest (abort, recovery), and how often it
# is looked at meanwhile.
SETTLE_SECONDS = 300
SETTLE_POLL_SECONDS = 1.0
# The migration statuses nova's rollback sets.
FAILED = 'failed'
CANCELLED = 'cancelled'


def _refuse(reason):
    raise exception.MigrationPreCheckError(reason=reason)


def _bool(value):
    return str(value).lower() == 'true'


# ----------------------------------------------------- destination check
def check_destination(host_w, instance):
    """The destination's check of a live migration of ``instance`` to
    ``host_w`` (read now): refuses what the system cannot take, and says
    where the LPAR goes and what the system allows.

    :returns: PowerVMLiveMigrateData.
    :raises nova.exception.MigrationPreCheckError: the system cannot
            take the LPAR now.
    """
    mig_data = host_w.migration_data
    if not mig_data.get('active_lpar_mobility_capable'):
        _refuse('managed system %s is not capable of active partition '
                'mobility' % host_w.system_name)
    _check_migration_slots(host_w, mig_data)
    if host_w.memory_free < instance.flavor.memory_mb:
        _refuse('managed system %s has %d MB of memory free; the instance '
                'needs %d MB' % (host_w.system_name, host_w.memory_free,
                                 instance.flavor.memory_mb))
    host_mig_data = {key: None if value is None else str(value)
                     for key, value in mig_data.items()}
    host_mig_data[MEMORY_REGION_SIZE] = str(host_w.memory_region_size)
    return pvm_migrate_data.PowerVMLiveMigrateData(
        dest_sys_name=host_w.system_name, dest_ip=CONF.my_ip,
        dest_user_id=DEST_USER,
        dest_proc_compat=','.join(host_w.proc_compat_modes),
        host_mig_data=host_mig_data, vea_vlan_mappings={}, vol_data={})


def _check_migration_slots(host_w, mig_data):
    """Refuse a system already running as many live migrations as it
    can."""
    running = mig_data.get('active_migrations_in_progress') or 0
    allowed = mig_data.get('active_migrations_supported') or 0
    if running >= allowed:
        _refuse('managed system %s runs %d active migrations, the most it '
                'can' % (host_w.system_name, running))


# ---------------------------------------------------------- source check
def check_source(adapter, host_w, instance, dest_data, disk_driver,
                 volumes):
    """The source's check of moving ``instance``'s LPAR as ``dest_data``
    (check_destination's) says: refuses, changing nothing, what PowerVM
    cannot move; notes this NovaLink's public SSH key in ``dest_data``.

    :param host_w: this host's ManagedSystem wrapper, read now.
    :param disk_driver: the disk driver of its boot disk; None when it
                        boots from a volume.
    :param volumes: the VolumeAdapters of its volumes.
    :raises nova.exception.MigrationPreCheckError: saying why not.
    """
    if not isinstance(dest_data, pvm_migrate_data.PowerVMLiveMigrateData):
        _refuse('the destination is not a PowerVM host (its data is %s)' %
                type(dest_data).__name__)
    mig_data = host_w.migration_data
    if not mig_data.get('active_lpar_mobility_capable'):
        _refuse('managed system %s is not capable of active partition '
                'mobility' % host_w.system_name)
    _check_migration_slots(host_w, mig_data)
    _check_memory_region_size(host_w, dest_data)
    if disk_driver is not None and not disk_driver.shared:
        _refuse('its boot disk is in a volume group of this host, which '
                'the destination does not reach')
    for volume in volumes:
        volume.check_movable()
    lpar_w = vm.get_lpar(adapter, instance)
    _check_lpar(lpar_w, host_w, dest_data)
    _check_optical_media(adapter, instance)
    # The destination places the LPAR's virtual FC adapters from this.
    dest_data.vol_data = dict(dest_data.vol_data or {},
                              **npiv.describe_outgoing(adapter, instance))
    _note_public_key(adapter, dest_data)


def _note_public_key(adapter, dest_data):
    """Note in ``dest_data`` the public SSH key of this host's NovaLink,
    which its Migrate job reaches the destination's NovaLink with (as
    ``dest_user_id``): the destination authorizes it before the move."""
    key = (pvm_mc.get_public_key(adapter) or '').strip()
    if not key:
        _refuse('the NovaLink of managed system %s shows no public SSH key '
                'to reach the destination\'s with' % dest_data.dest_sys_name)
    dest_data.public_key = key


def _check_memory_region_size(host_w, dest_data):
    dest_size = dest_data.host_mig_data.get(MEMORY_REGION_SIZE)
    if dest_size != str(host_w.memory_region_size):
        _refuse('the memory region size of managed system %s is %s MB, '
                'that of %s %s MB: they must be equal' % (
                    host_w.system_name, host_w.memory_region_size,
                    dest_data.dest_sys_name, dest_size))


def _check_lpar(lpar_w, host_w, dest_data):
    capable, reason = lpar_w.can_lpm(host_w, migr_data={
        key: _bool(value)
        for key, value in dest_data.host_mig_data.items()
        if key == 'ibmi_lpar_mobility_capable' and value is not None})
    if not capable:
        _refuse('LPAR %s cannot migrate: %s' % (lpar_w.name, reason))
    slots = lpar_w.io_config.io_slots
    if slots:
        _refuse('LPAR %s owns physical I/O (%s); only partitions with '
                'virtual I/O alone migrate' % (lpar_w.name, ', '.join(
                    slot.drc_name or str(slot.drc_index) for slot in slots)))
    dest_modes = dest_data.dest_proc_compat.split(',')
    for mode in {lpar_w.proc_compat_mode, lpar_w.pending_proc_compat_mode}:
        if mode and mode.lower() not in {m.lower() for m in dest_modes}:
            _refuse('LPAR %s runs in processor compatibility mode %s, '
                    'which managed system %s does not offer (it offers %s)'
                    % (lpar_w.name, mode, dest_data.dest_sys_name,
                       ', '.join(dest_modes)))


def _check_optical_media(adapter, instance):
    """Refuse optical media other than the config drive (which the move
    leaves behind and the destination writes anew)."""
    config_drive = media.media_name(instance)
    lpar_uuid = vm.get_pvm_uuid(instance)
    for vios_w in pvm_partition.get_active_vioses(
            adapter, xag=[pvm_const.XAG.VIO_SMAP]):
        for mapping in pvm_smap.find_maps(
                vios_w.scsi_mappings, client_lpar_id=lpar_uuid,
                match_func=pvm_smap.gen_match_func(pvm_stg.VOptMedia)):
            name = mapping.backing_storage.media_name
            if name != config_drive:
                _refuse('virtual optical media %s is mapped to it from '
                        'Virtual I/O Server %s; remove it first' % (
                            name, vios_w.name))


# --------------------------------------------------------------- the move
class Mover:
    """The moves this host runs, and which of them nova asked to abort.
    """

    def __init__(self):
        self._aborting = set()

    def run(self, flow, instance):
        """Run the flow of a move (flows.live_migrate).

        :returns: None once the LPAR is on the destination.
        :raises MoveFailed: it runs on this host as before (the flow's
                steps undone): nova rolls back with the status the
                exception names.
        :raises nova.exception.MigrationError: it did not come to rest.
        """
        self._aborting.discard(instance.uuid)
        try:
            flows.run(flow, instance)
        except (MoveFailed, exception.MigrationError):
            raise
        except Exception as exc:
            # Failed before NovaLink began to move the LPAR.
            raise MoveFailed(FAILED, exc) from exc

    def move(self, adapter, instance, data):
        """Move the instance's LPAR as ``data`` (the destination's
        PowerVMLiveMigrateData, prepared) says: MigrateValidate, then
        Migrate within [powervm] live_migration_timeout.

        :returns: None once the LPAR is on the destination.
        :raises MoveFailed: it is back on this host, running: nova rolls
                back with the status the exception names.
        :raises nova.exception.MigrationError: it did not come to rest
                (on either host) within SETTLE_SECONDS.
        """
        try:
            lpar_w = vm.get_lpar(adapter, instance)
            params = _move_parameters(adapter, instance, lpar_w, data)
            LOG.info('Validating the move to managed system %s.',
                     data.dest_sys_name, instance=instance)
            pvm_mig.migrate_lpar(lpar_w, data.dest_sys_name,
                                 validate_only=True, **params)
        except pvm_exc.Error as exc:
            raise MoveFailed(FAILED, exc) from exc
        LOG.info('Migrating to managed system %s.', data.dest_sys_name,
                 instance=instance)
        try:
            pvm_mig.migrate_lpar(
                lpar_w, data.dest_sys_name,
                timeout=CONF.powervm.live_migration_timeout, **params)
        except pvm_exc.Error as exc:
            LOG.warning('The migration did not end well (%s); finding out '
                        'where the LPAR is.', exc, instance=instance)
            if not _settle(adapter, instance):
                raise MoveFailed(self._status(instance), exc) from exc
            LOG.info('The LPAR is on managed system %s after all.',
                     data.dest_sys_name, instance=instance)

    def _status(self, instance):
        if instance.uuid in self._aborting:
            return CANCELLED
        return FAILED

    def abort(self, adapter, instance):
        """Abort the instance's move, if one runs (its Migrate job then
        fails and ``move`` reports it cancelled)."""
        lpar_w = vm.get_lpar(adapter, instance)
        if not _moving(lpar_w):
            LOG.info('The LPAR is not migrating (it is %s); nothing to '
                     'abort.', lpar_w.state, instance=instance)
            return
        self._aborting.add(instance.uuid)
        LOG.info('Aborting the migration.', instance=instance)
        try:
            pvm_mig.migrate_abort(lpar_w)
        except pvm_exc.JobRequestFailed:
            if _moving(vm.get_lpar(adapter, instance)):
                raise
            LOG.info('The migration ended before the abort.',
                     instance=instance)


class MoveFailed(Exception):
    """The LPAR did not move: it runs on this host as before.

    :param status: the migration status for nova's rollback.
    :param reason: what stopped it.
    """

    def __init__(self, status, reason):
        super().__init__('%s: %s' % (status, reason))
        self.status = status
        self.reason = reason


def _moving(lpar_w):
    return lpar_w.state == pvm_bp.LPARState.MIGRATING_RUNNING


def _move_parameters(adapter, instance, lpar_w, data):
    """migrate_lpar's parameters: the destination's NovaLink, the VLANs
    the destination chose for the Open vSwitch VIFs, the physical ports
    it chose for the virtual FC adapters, and the overrides
    for networks the NovaLink partition bridges (the Open vSwitch VIFs,
    the RMC adapter), which no VIOS of the destination bridges."""
    vlans = data.vea_vlan_mappings or {}
    mappings = ['%s/%s' % (pvm_util.sanitize_mac_for_api(cna.mac),
                           vlans[pvm_vif.nova_mac(cna.mac)])
                for cna in pvm_vif.get_cnas(adapter, instance)
                if vlans.get(pvm_vif.nova_mac(cna.mac))]
    return {'tgt_mgmt_svr': data.dest_ip, 'tgt_mgmt_usr': data.dest_user_id,
            'vlan_mappings': mappings or None, 'sdn_override': True,
            'vlan_check_override': True,
            'virtual_fc_mappings': npiv.virtual_fc_mappings(data.vol_data)}


def _settle(adapter, instance):
    """Wait, after a Migrate job that did not report success, for the
    partition to come to rest: recover a move that stopped midway, abort
    one still running (the job, or the answer, is lost).

    :returns: whether the partition is on the destination.
    :raises nova.exception.MigrationError: it did not come to rest within
            SETTLE_SECONDS.
    """
    deadline = time.monotonic() + SETTLE_SECONDS
    aborted = False
    while time.monotonic() < deadline:
        try:
            lpar_w = vm.get_lpar(adapter, instance)
            if not _moving(lpar_w):
                return False
            if lpar_w.migration_state == MIGRATION_FAILED:
                LOG.warning('The migration stopped midway; recovering the '
                            'LPAR.', instance=instance)
                pvm_mig.migrate_recover(lpar_w, force=True)
                continue
            if not aborted:
                aborted = True
                LOG.warning('The LPAR is still migrating; aborting.',
                            instance=instance)
                pvm_mig.migrate_abort(lpar_w)
                continue
        except exception.InstanceNotFound:
            # NovaLink serves a partition that left only from its
            # destination.
            return True
        except pvm_exc.Error as exc:
            LOG.warning('Could not settle the migration yet: %s', exc,
                        instance=instance)
        time.sleep(SETTLE_POLL_SECONDS)
    raise exception.MigrationError(
        reason='the LPAR of instance %s did not come to rest within %d '
        'seconds after its migration failed' % (instance.uuid,
                                                SETTLE_SECONDS))


# ------------------------------------------------------------- afterwards
def _ovs_vifs(network_info):
    return [vif for vif in network_info or ()
            if vif.get('type') == pvm_vif.VIF_TYPE_OVS]


def release_source(adapter, instance, network_info, platform,
                   config_drive):
    """What the LPAR left on this host, the source of its move, goes: the
    trunk adapters and Open vSwitch ports of its OVS VIFs, its config
    drive media (the destination wrote its own).  Each removal is tried
    twice before its failure is raised."""
    for vif in _ovs_vifs(network_info):
        undo.retrying_once(pvm_vif.remove_trunks_named, adapter,
                           pvm_vif.trunk_device_name(vif), platform)
    if config_drive:
        undo.retrying_once(media.delete_config_drive, adapter, instance)


def release_volumes(volumes):
    """The volumes' storage on this host, the source of the move, goes
    (NovaLink moved their mappings; the hdisks and iSCSI logins stay)."""
    for volume in volumes:
        undo.retrying_once(volume.disconnect)


def finish_destination(adapter, instance, network_info, config_drive):
    """The moved LPAR gets what NovaLink did not move: a config drive,
    written anew here (once more, from nothing, after a failure: a second
    one leaves the instance without its drive, an error to nova)."""
    if not config_drive:
        return
    try:
        _write_config_drive(adapter, instance, network_info)
    except Exception:
        LOG.warning('Writing the config drive again.', instance=instance,
                    exc_info=True)
        media.delete_config_drive(adapter, instance)
        _write_config_drive(adapter, instance, network_info)


def _write_config_drive(adapter, instance, network_info):
    mgmt_cna = pvm_vif.find_mgmt_cna(adapter,
                                     pvm_vif.get_cnas(adapter, instance))
    media.create_config_drive(adapter, instance, [], network_info, None,
                              mgmt_cna=mgmt_cna)


def roll_back_destination(adapter, instance, network_info, platform):
    """What this host, the destination, readied for a move that did not
    happen goes: the trunk adapters and Open vSwitch ports of the OVS
    VIFs (nova itself disconnects the volumes here).  Nothing goes if the
    LPAR is here after all."""
    if vm.instance_exists(adapter, instance):
        LOG.warning('The LPAR is on this host; keeping what it uses.',
                    instance=instance)
        return
    for vif in _ovs_vifs(network_info):
        pvm_vif.OvsVifDriver(adapter, instance,
                             platform=platform).release(vif)


def ask_destination_to_roll_back(context, instance, data):
    """Have the destination undo its preparation (nova's own RPC to the
    destination's compute manager, which calls the driver's
    rollback_live_migration_at_destination).

    nova asks it only for migrate data of libvirt's and Hyper-V's
    classes (_live_migration_cleanup_flags): for PowerVM's, the
    destination's trunk adapters would outlive every failed migration.
    """
    LOG.info('Asking %s to remove what it readied for the migration.',
             data.migration.dest_compute, instance=instance)
    compute_rpcapi.ComputeAPI().rollback_live_migration_at_destination(
        context, instance, data.migration.dest_compute,
        destroy_disks=False, migrate_data=data)
