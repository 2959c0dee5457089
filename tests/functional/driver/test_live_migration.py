"""Live partition mobility, driven as nova's compute managers drive it.

Two simulated managed systems whose VIOSes share one SSP cluster, each
with its own compute host and PowerVMDriver: the source (``self.driver``,
system 0) and the destination (``self.dest``, system 1).  A live
migration is nova's steps on both hosts, in nova's order: the
destination's check, the source's, the destination's preparation, then
the source's move, which ends in nova's post steps (on both hosts) or its
rollback (``recover_method``).  ``_live_migration_cleanup_flags`` answers
"no clean-up" for PowerVM's migrate data, so nova never calls the
driver's ``cleanup`` or ``rollback_live_migration_at_destination`` itself:
the tests call what nova calls and nothing else.
"""

import copy
import io
import threading
import time

import fixtures as fx
from nova.compute import rpcapi as compute_rpcapi
from nova import exception
from nova import objects
from pypowervm.tasks import management_console as pvm_mc
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.tasks import storage as pvm_storage

from nova_powervm import migrate_data as pvm_migrate_data
from nova_powervm import vm
from nova_powervm.volume import hdisk as pvm_hdisk
from powervm_sim import faults
from powervm_sim.model import partition as sim_partition
from tests.functional.driver import fixtures
from tests.functional.driver import test_resize
from tests.functional.sim import test_console

DEST_HOST = test_resize.DEST_HOST
# A key the destination's operator authorized.
OPERATOR_KEY = test_console.OPERATOR_KEY
# Long enough to act on a move while it runs; a test ends it sooner.
SLOW_MOVE_SECONDS = 30
# Bound of every wait for a move to reach a state.
WAIT_SECONDS = 20
# nova's steps of a live migration, on the host they run on.
CHECK_DESTINATION = 'check at destination'
CHECK_SOURCE = 'check at source'
CONNECTOR_AT_DESTINATION = 'connector at destination'
PRE_LIVE_MIGRATION = 'pre_live_migration'
LIVE_MIGRATION = 'live_migration'
POST_AT_SOURCE = 'post at source'
POST_AT_DESTINATION = 'post at destination'
ROLLBACK = 'rollback'


class Outcome:
    """How nova's side of a live migration ended: ``post`` (nova's post
    steps ran) or ``recovered`` with the migration status nova's rollback
    got."""

    def __init__(self):
        self.post = False
        self.recovered = None


class NovaLiveMigrations:
    """nova's side of live migrations from ``source`` to ``dest`` (the
    hosts' drivers), as its compute managers take them: the migration
    record, the driver calls of each step on each host, what nova changes
    on the instance in between.

    :param network_info: the instances' VIFs.
    :param dest_host: the destination's compute host name.
    :param at: called with each step's name before nova takes it.
    """

    def __init__(self, context, network_info, source, dest, dest_host,
                 at=lambda step: None):
        self.context = context
        self.network_info = network_info
        self.source = source
        self.dest = dest
        self.dest_host = dest_host
        self.at = at

    def record(self, instance):
        migration = objects.Migration(
            context=self.context, instance_uuid=instance.uuid,
            source_compute=instance.host, source_node=instance.host,
            dest_compute=self.dest_host, dest_node=self.dest_host,
            dest_compute_id=2, status='running',
            migration_type='live-migration')
        migration.create()
        return migration

    def check(self, instance, source_bdi=None):
        """Both hosts' checks; returns the migrate data."""
        self.at(CHECK_DESTINATION)
        data = self.dest.check_can_live_migrate_destination(
            self.context, instance, {}, {})
        try:
            self.at(CHECK_SOURCE)
            return self.source.check_can_live_migrate_source(
                self.context, instance, data, source_bdi)
        finally:
            self.dest.cleanup_live_migration_destination_check(
                self.context, data)

    def live_migrate(self, instance, source_bdms=(), dest_bdms=()):
        """nova's steps of a live migration; returns the Outcome."""
        source_bdi = fixtures.block_device_info(*source_bdms)
        dest_bdi = fixtures.block_device_info(*dest_bdms)
        data = self.check(instance, source_bdi)
        data.migration = self.record(instance)
        if dest_bdms:
            # The volumes' attachments to the destination: Cinder gets its
            # connector before the driver readies anything there.
            self.at(CONNECTOR_AT_DESTINATION)
            self.dest.get_volume_connector(instance)
        self.at(PRE_LIVE_MIGRATION)
        data = self.dest.pre_live_migration(
            self.context, instance, dest_bdi, self.network_info, None, data)
        outcome = Outcome()

        def post(ctxt, instance, dest, block_migration=False,
                 migrate_data=None):
            self.at(POST_AT_SOURCE)
            self.source.post_live_migration(ctxt, instance, source_bdi,
                                            migrate_data)
            self.source.post_live_migration_at_source(ctxt, instance,
                                                      self.network_info)
            instance.host = dest
            instance.save()
            self.at(POST_AT_DESTINATION)
            self.dest.post_live_migration_at_destination(
                ctxt, instance, self.network_info, False, dest_bdi)
            outcome.post = True

        def recover(ctxt, instance, dest, migrate_data=None,
                    migration_status='failed'):
            self.at(ROLLBACK)
            self.source.rollback_live_migration_at_source(ctxt, instance,
                                                          migrate_data)
            # remove_volume_connection on the destination, per volume.
            for bdm in dest_bdms:
                self.dest.detach_volume(ctxt, bdm['connection_info'],
                                        instance, '/dev/sdb')
            outcome.recovered = migration_status

        self.at(LIVE_MIGRATION)
        self.source.live_migration(self.context, instance, self.dest_host,
                                   post, recover, False, data)
        return outcome


class SimFault(fx.Fixture):
    """A fault rule of the simulator for the length of a test."""

    def __init__(self, sim, rule):
        super().__init__()
        self.sim = sim
        self.rule = rule

    def _setUp(self):
        self.addCleanup(self.sim.faults.remove, self.sim.faults.add(self.rule))


class LiveMigrationTestCase(test_resize.TwoHostsTestCase):

    SHARED_SSP = True
    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def setUp(self):
        super().setUp()
        # nova's rollback on the source asks the destination to roll back
        # over RPC; here the destination's manager is the dest driver.
        self.rollbacks_at_dest = []
        self.useFixture(fx.MockPatchObject(
            compute_rpcapi.ComputeAPI,
            'rollback_live_migration_at_destination',
            new=self._rollback_at_destination))
        self.nova = NovaLiveMigrations(self.context, self.network_info,
                                       self.driver, self.dest, DEST_HOST,
                                       at=self.at)

    def _rollback_at_destination(self, ctxt, instance, host,
                                 destroy_disks, migrate_data):
        self.assertEqual(DEST_HOST, host)
        self.rollbacks_at_dest.append(instance.uuid)
        self.dest.rollback_live_migration_at_destination(
            ctxt, instance, self.network_info, {'block_device_mapping': []},
            destroy_disks=destroy_disks, migrate_data=migrate_data)

    def running(self, **fields):
        """spawned(), its LPAR with RMC up (as its OS brings it up)."""
        instance = self.spawned(**fields)
        self.rmc(instance, 'active')
        return instance

    def rmc(self, instance, rmc_state):
        self.sim.model.set_partition_state(
            self.lpar_of(instance), sim_partition.RUNNING,
            rmc_state=rmc_state)

    def at(self, step):
        """nova is about to take ``step`` (the fault campaign notes it)."""

    def check(self, instance, source_bdi=None):
        return self.nova.check(instance, source_bdi)

    def live_migrate(self, instance, source_bdms=(), dest_bdms=()):
        return self.nova.live_migrate(instance, source_bdms, dest_bdms)

    def live_migrate_in_thread(self, instance):
        """Start live_migrate; returns a function that waits for its
        Outcome."""
        result = []
        mover = threading.Thread(target=lambda: result.append(
            self.live_migrate(instance)))
        mover.start()

        def wait():
            mover.join(WAIT_SECONDS)
            self.assertFalse(mover.is_alive(), 'the move did not end')
            self.assertEqual(1, len(result), 'the move raised')
            return result[0]
        self.addCleanup(mover.join, WAIT_SECONDS)
        return wait

    def wait_for_lpar_state(self, instance, state):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            lpar = self.lpar_on(0, instance)
            if lpar is not None and lpar.state == state:
                return
            time.sleep(0.05)
        self.fail('the LPAR never got to %s' % state)

    # ------------------------------------------------------- checks
    def serving(self, index, instance):
        """footprint() but for how many vSCSI server adapters carry the
        mappings: the config drive, mapped on its own when the instance
        was made, shares the boot disk's adapter once mapped again."""
        footprint = self.footprint(index, instance)
        del footprint['vscsi server adapters']
        return footprint

    def assert_moved(self, instance, before, outcome):
        """The instance runs on the destination with everything it had on
        the source; the source keeps nothing of it."""
        self.assertTrue(outcome.post)
        self.assertIsNone(outcome.recovered)
        self.assertEqual([1], self.systems_with_lpar(instance))
        self.assertEqual(before, self.serving(1, instance))
        self.assertEqual(self.NOTHING, self.footprint(0, instance))

    def assert_home(self, instance, before):
        """The instance runs on the source as it did; the destination
        keeps nothing of it."""
        self.assertEqual([0], self.systems_with_lpar(instance))
        self.assertEqual(before, self.serving(0, instance))
        self.assertEqual(self.NOTHING, self.footprint(1, instance))

    def hdisks_on(self, index, lun):
        """{VIOS name: partition IDs mapped} of system ``index``'s VIOSes
        that have an hdisk of ``lun``."""
        vioses = self.sim.model.vioses(self.sim.endpoints[index].system)
        return {vios.name: sorted(
            mapping.server.remote_lpar_id for mapping in vios.scsi_mappings
            if mapping.pv is not None and mapping.pv.udid == lun.udid)
            for vios in vioses for pv in vios.physical_volumes
            if pv.udid == lun.udid}


class TestLiveMigration(LiveMigrationTestCase):

    def test_each_host_maps_the_pool_through_its_own_vioses(self):
        for index, driver in enumerate(self.drivers):
            system = self.sim.endpoints[index].system
            self.assertEqual(
                sorted(vios.uuid.upper()
                       for vios in self.sim.model.vioses(system)),
                sorted(driver.disk_driver.vios_uuids))

    def test_sea_ovs_and_config_drive_move_with_the_lpar(self):
        instance = self.running()
        lu_name = self.driver.disk_driver.disk_name(instance)
        before = self.serving(0, instance)
        outcome = self.live_migrate(instance)
        self.assert_moved(instance, before, outcome)
        self.assertIn(lu_name, self.footprint(1, instance)['mappings'])
        # The OVS VIF's adapter moved to the VLAN of the destination's
        # trunk for it.
        [ovs_cna] = [cna for cna in self.client_cnas(instance)
                     if cna.vswitch.name == 'NovaLinkVEABridge']
        [trunk] = [cna for cna in self.sim.model.cnas(
            self.sim.endpoints[1].system.mgmt_partition) if cna.is_trunk and
            cna.vswitch.name == 'NovaLinkVEABridge']
        self.assertEqual(trunk.pvid, ovs_cna.pvid)
        self.assertEqual([], self.rollbacks_at_dest)

    def test_the_destination_comes_to_trust_the_source(self):
        # Fresh NovaLinks do not trust each other; the destination's
        # operator authorized a key of their own.
        dest_adapter = self.sim.adapter(1)
        pvm_mc.add_authorized_key(dest_adapter, OPERATOR_KEY)
        source_key = pvm_mc.get_public_key(self.sim.adapter(0))
        instance = self.running()
        before = self.serving(0, instance)
        self.assert_moved(instance, before, self.live_migrate(instance))
        # The key stays after the move, for the next ones.
        self.assertEqual((OPERATOR_KEY, source_key),
                         pvm_mc.get_authorized_keys(dest_adapter))
        self.assertEqual((), pvm_mc.get_authorized_keys(self.sim.adapter(0)))
        # Another move (the first instance deleted: its VIFs' ports are
        # the same) finds it there and adds it no more.
        self.dest.destroy(self.context, instance, self.network_info)
        again = self.running()
        self.assert_moved(again, self.serving(0, again),
                          self.live_migrate(again))
        self.assertEqual((OPERATOR_KEY, source_key),
                         pvm_mc.get_authorized_keys(dest_adapter))

    def test_a_key_the_destination_refuses_fails_its_preparation(self):
        instance = self.running()
        before = self.serving(0, instance)
        data = self.check(instance)
        self.useFixture(SimFault(self.sim, faults.FaultRule(
            method='POST', resource_type='ManagementConsole',
            outcome=faults.HttpFault(400, 'The key is refused.'))))
        err = self.assertRaises(
            exception.MigrationError, self.dest.pre_live_migration,
            self.context, instance, fixtures.block_device_info(),
            self.network_info, None, data)
        self.assertIn('The key is refused', str(err))
        self.assertEqual((), pvm_mc.get_authorized_keys(self.sim.adapter(1)))
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assert_home(instance, before)

    def test_the_migrate_data_says_where_and_how(self):
        instance = self.running()
        data = self.check(instance)
        self.assertIsInstance(data, pvm_migrate_data.PowerVMLiveMigrateData)
        target = self.sim.endpoints[1].system
        self.assertEqual(target.name, data.dest_sys_name)
        self.assertEqual(list(target.proc_compat_modes),
                         data.dest_proc_compat.split(','))
        self.assertEqual(str(target.memory_region_size),
                         data.host_mig_data['memory_region_size'])
        self.assertEqual(pvm_mc.get_public_key(self.sim.adapter(0)),
                         data.public_key)
        # Nothing changed on either host.
        self.assertEqual(self.NOTHING, self.footprint(1, instance))

    def test_volumes_move_and_leave_nothing_on_the_source(self):
        instance = self.running()
        fc_lun, fc_info = self.fc_volume()
        iscsi_lun = self.sim.iscsi_lun()
        iscsi_info = {'driver_volume_type': 'iscsi',
                      'serial': 'iscsi-volume',
                      'data': iscsi_lun.connection_data()}
        self.attach(instance, fc_info)
        self.attach(instance, iscsi_info)
        before = self.serving(0, instance)
        # Cinder's connection_info for the destination's connector: the
        # same LUNs, nothing of the source's attach.
        dest_infos = [copy.deepcopy(info) for info in (fc_info, iscsi_info)]
        for info, lun in zip(dest_infos, (fc_lun, iscsi_lun), strict=True):
            info['data'] = lun.connection_data()
        outcome = self.live_migrate(
            instance,
            source_bdms=[fixtures.DriverBDM(info)
                         for info in (fc_info, iscsi_info)],
            dest_bdms=[fixtures.DriverBDM(info) for info in dest_infos])
        self.assert_moved(instance, before, outcome)
        lpar_id = self.lpar_of(instance).partition_id
        for lun, info in zip((fc_lun, iscsi_lun), dest_infos, strict=True):
            self.assertEqual({}, self.hdisks_on(0, lun))
            self.assertEqual({'vios1': [lpar_id], 'vios2': [lpar_id]},
                             self.hdisks_on(1, lun))
            # The destination knows its hdisk by the UDID it recorded.
            self.assertEqual(lun.udid, info['data'][pvm_hdisk.UDID_KEY])
        self.assertEqual([], [
            session for vios in self.sim.model.vioses(self.system)
            for session in vios.iscsi_sessions])

    def test_abort_mid_move_brings_it_back(self):
        instance = self.running()
        before = self.serving(0, instance)
        self.sim.migration_seconds(SLOW_MOVE_SECONDS)
        wait = self.live_migrate_in_thread(instance)
        self.wait_for_lpar_state(instance, sim_partition.MIGRATING)
        self.driver.live_migration_abort(instance)
        outcome = wait()
        self.assertEqual('cancelled', outcome.recovered)
        self.assertFalse(outcome.post)
        self.assert_home(instance, before)
        self.assertEqual([instance.uuid], self.rollbacks_at_dest)

    def test_an_abort_without_a_move_changes_nothing(self):
        instance = self.running()
        before = self.serving(0, instance)
        self.driver.live_migration_abort(instance)
        self.assert_home(instance, before)

    def test_force_complete_leaves_the_move_to_run_its_course(self):
        instance = self.running()
        self.sim.migration_seconds(1)
        wait = self.live_migrate_in_thread(instance)
        self.wait_for_lpar_state(instance, sim_partition.MIGRATING)
        self.driver.live_migration_force_complete(instance)
        self.assertTrue(wait().post)
        self.assertEqual([1], self.systems_with_lpar(instance))

    def test_a_failure_midway_is_recovered(self):
        instance = self.running()
        before = self.serving(0, instance)
        self.sim.fail_migrations()
        outcome = self.live_migrate(instance)
        self.assertEqual('failed', outcome.recovered)
        self.assert_home(instance, before)
        self.assertEqual('running', self.lpar_of(instance).state)
        # The next attempt goes through.
        self.assert_moved(instance, before, self.live_migrate(instance))

    def test_a_move_that_takes_too_long_is_aborted(self):
        self.flags(live_migration_timeout=1, group='powervm')
        instance = self.running()
        before = self.serving(0, instance)
        self.sim.migration_seconds(SLOW_MOVE_SECONDS)
        started = time.monotonic()
        outcome = self.live_migrate(instance)
        self.assertLess(time.monotonic() - started, SLOW_MOVE_SECONDS)
        self.assertEqual('failed', outcome.recovered)
        self.assert_home(instance, before)

    def test_a_refusal_of_novalink_rolls_back(self):
        # A partition of the same name on the destination: only NovaLink's
        # validation of the move finds out.
        instance = self.running()
        before = self.serving(0, instance)
        self.sim.model.add_partition(
            self.sim.endpoints[1].system, sim_partition.LPAR,
            name=self.lpar_of(instance).name, mem_desired=512, mem_min=512,
            mem_max=512, proc_units_desired=0.1, proc_units_min=0.1,
            proc_units_max=0.1, vprocs_desired=1, vprocs_max=1)
        outcome = self.live_migrate(instance)
        self.assertEqual('failed', outcome.recovered)
        self.assertEqual(before, self.serving(0, instance))
        self.assertEqual([instance.uuid], self.rollbacks_at_dest)
        self.assertEqual(0, self.footprint(1, instance)['trunks'])

    def test_a_destination_that_cannot_prepare_leaves_nothing(self):
        instance = self.running()
        # Only the source's VIOSes reach the volume.
        lun, info = self.fc_volume(vioses=self.sim.model.vioses(self.system))
        self.attach(instance, info)
        before = self.serving(0, instance)
        data = self.check(instance)
        dest_info = copy.deepcopy(info)
        self.assertRaises(
            exception.MigrationError, self.dest.pre_live_migration,
            self.context, instance,
            fixtures.block_device_info(fixtures.DriverBDM(dest_info)),
            self.network_info, None, data)
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assertEqual(before, self.serving(0, instance))

    def test_migrate_data_of_another_driver_is_rolled_back(self):
        instance = self.running()
        before = self.serving(0, instance)
        recovered = []
        self.driver.live_migration(
            self.context, instance, DEST_HOST, self.fail,
            lambda *args, **kwargs: recovered.append(kwargs),
            migrate_data=objects.LibvirtLiveMigrateData())
        self.assertEqual([{'migration_status': 'failed'}], recovered)
        self.assert_home(instance, before)


class TestRefusals(LiveMigrationTestCase):
    """What cannot move is refused by the checks, with nova's
    MigrationPreCheckError saying why, and nothing changes on either
    host."""

    def assert_refused(self, instance, *texts, source_bdi=None):
        before = self.serving(0, instance)
        err = self.assertRaises(exception.MigrationPreCheckError, self.check,
                                instance, source_bdi)
        for text in texts:
            self.assertIn(text, str(err))
        self.assert_home(instance, before)

    def test_rmc_inactive(self):
        instance = self.running()
        self.rmc(instance, 'inactive')
        self.assert_refused(instance, 'RMC')

    def test_physical_io(self):
        instance = self.running()
        [card] = [c for c in self.system.io_cards if not c.sriov_adapter_id]
        self.sim.model.update_partition(self.lpar_of(instance), {
            'profile_io_slots': [{'drc_index': card.drc_index}]})
        self.assert_refused(instance, 'physical I/O')

    def test_processor_compatibility(self):
        instance = self.running()
        self.sim.set_mobility(1, proc_compat_modes=['default', 'POWER8'])
        self.assert_refused(instance, 'POWER9', 'default, POWER8')

    def test_memory_of_the_destination(self):
        instance = self.running()
        target = self.sim.endpoints[1].system
        target.memory_configurable = (target.memory_configurable -
                                      target.memory_available + 1024)
        self.sim.model.registry.changed(target)
        self.assert_refused(instance, 'memory', '2048')

    def test_memory_region_size(self):
        instance = self.running()
        target = self.sim.endpoints[1].system
        target.memory_region_size = 128
        self.sim.model.registry.changed(target)
        self.assert_refused(instance, 'memory region', '256', '128')

    def test_too_many_migrations(self):
        instance = self.running()
        self.sim.set_mobility(1, max_active_migrations=0)
        self.assert_refused(instance, 'migrations')

    def test_a_destination_not_capable_of_mobility(self):
        instance = self.running()
        self.sim.set_mobility(1, active_capable=False)
        self.assert_refused(instance, 'mobility')

    def test_a_source_not_capable_of_mobility(self):
        instance = self.running()
        self.sim.set_mobility(0, active_capable=False)
        self.assert_refused(instance, 'mobility')

    def test_optical_media_other_than_the_config_drive(self):
        instance = self.running()
        vios_uuid = self.sim.model.vioses(self.system)[1].uuid
        data = b'an installation medium'
        medium, _file = pvm_storage.upload_vopt(
            self.driver.adapter, vios_uuid, io.BytesIO(data), 'install.iso',
            f_size=len(data))
        pvm_smap.add_vscsi_mapping(None, vios_uuid, vm.get_pvm_uuid(instance),
                                   medium)
        self.assert_refused(instance, 'install.iso')

    def test_a_source_key_that_cannot_be_read(self):
        instance = self.running()
        self.useFixture(SimFault(self.sim, faults.FaultRule(
            method='GET', resource_type='ManagementConsole',
            outcome=faults.HttpFault(500, 'The console failed.'))))
        self.assert_refused(instance, 'The console failed')

    def test_a_volume_the_novalink_partition_serves(self):
        instance = self.running()
        info = {'driver_volume_type': 'rbd', 'serial': 'rbd-volume',
                'data': {'name': 'volumes/image'}}
        self.assert_refused(
            instance, 'rbd-volume', 'NovaLink partition',
            source_bdi=fixtures.block_device_info(fixtures.DriverBDM(info)))


class TestVolumeGroupDiskRefused(LiveMigrationTestCase):

    SHARED_SSP = False
    DRIVER_OPTIONS = {}

    def test_a_boot_disk_in_a_volume_group(self):
        instance = self.running()
        before = self.serving(0, instance)
        err = self.assertRaises(exception.MigrationPreCheckError, self.check,
                                instance)
        self.assertIn('volume group', str(err))
        self.assert_home(instance, before)
