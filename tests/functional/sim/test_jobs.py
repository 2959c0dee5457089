"""Jobs against the simulator, driven through pypowervm's public API."""

import time

from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import hdisk
from pypowervm.tasks import memory as pvm_mem
from pypowervm.tasks import migration
from pypowervm.tasks import power
from pypowervm.tasks import power_opts
from pypowervm.tasks import vfc_mapper
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import job as pvm_job
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import faults
from powervm_sim import fixture as sim_fixture
from powervm_sim import jobs
from powervm_sim.model import mobility
from powervm_sim.model import partition as part_mod

# A job with a simulated duration finishes well within this.
SETTLE_SECONDS = 10.0


class JobTestBase(testtools.TestCase):
    systems = 1
    shared_ssp = False

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            systems=self.systems, shared_ssp=self.shared_ssp))
        self.adapter = self.sim.adapter()
        self.system = self.sim.endpoints[0].system
        self.sys_w = pvm_ms.System.get(self.adapter)[0]

    def create_lpar(self, name='inst1', adapter=None, sys_w=None):
        adapter = adapter or self.adapter
        sys_w = sys_w or self.sys_w
        attrs = {'name': name, 'env': 'AIX/Linux', 'memory': 1024,
                 'vcpu': 1, 'proc_units': 0.1}
        stdz = lpar_builder.DefaultStandardize(sys_w)
        wrapper = lpar_builder.LPARBuilder(adapter, attrs, stdz).build()
        return wrapper.create(parent=sys_w)

    def fresh(self, lpar_w):
        return pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid)

    def model_lpar(self, lpar_w):
        return self.sim.model.get(lpar_w.uuid)

    def quick_state(self, lpar_w, adapter=None):
        return (adapter or self.adapter).read(
            pvm_lpar.LPAR.schema_type, lpar_w.uuid, suffix_type='quick',
            suffix_parm='PartitionState').body.strip('"')

    def job_template(self, rtype, uuid, operation):
        return pvm_job.Job.wrap(self.adapter.read(
            rtype, uuid, suffix_type=pvm_const.SUFFIX_TYPE_DO,
            suffix_parm=operation))

    def wait_for_state(self, part, state):
        deadline = time.monotonic() + SETTLE_SECONDS
        while part.state != state and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(state, part.state)


class TestPowerJobs(JobTestBase):

    def test_power_on_then_off(self):
        lpar_w = self.create_lpar()
        part = self.model_lpar(lpar_w)
        self.assertEqual('not activated', self.quick_state(lpar_w))

        power.power_on(lpar_w, None)
        self.assertEqual('running', self.quick_state(lpar_w))
        self.assertEqual('active', part.rmc_state)

        power.PowerOp.stop(lpar_w, power_opts.PowerOffOpts().vsp_hard())
        self.assertEqual('not activated', self.quick_state(lpar_w))
        self.assertEqual('inactive', part.rmc_state)
        # Finished jobs are deleted by pypowervm.
        self.assertEqual(0, len(jobs.store_of(self.sim.simulator)))

    def test_power_on_moves_the_etag(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        fresh = self.fresh(lpar_w)
        self.assertNotEqual(lpar_w.etag, fresh.etag)
        self.assertEqual('running', fresh.state)

    def test_power_on_when_running_is_tolerated(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        power.power_on(lpar_w, None)
        self.assertEqual('running', self.model_lpar(lpar_w).state)

    def test_power_off_when_off_is_tolerated(self):
        lpar_w = self.create_lpar()
        power.PowerOp.stop(lpar_w, power_opts.PowerOffOpts().vsp_hard())
        self.assertEqual('not activated', self.model_lpar(lpar_w).state)

    def test_restart_comes_back_running(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        power.PowerOp.stop(
            lpar_w, power_opts.PowerOffOpts().vsp_hard().restart())
        part = self.model_lpar(lpar_w)
        self.assertEqual('running', part.state)
        self.assertEqual('active', part.rmc_state)

    def test_progressive_power_off_without_rmc_falls_back(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        part = self.model_lpar(lpar_w)
        self.sim.model.set_partition_state(part, part.state, 'inactive')
        power.power_off_progressive(self.fresh(lpar_w))
        self.assertEqual('not activated', part.state)

    def test_os_shutdown_refused_without_rmc(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        lpar_w = self.fresh(lpar_w)
        self.assertEqual('active', lpar_w.rmc_state)
        # The wrapper still says RMC is active; the server knows better.
        part = self.model_lpar(lpar_w)
        self.sim.model.set_partition_state(part, part.state, 'inactive')
        exc = self.assertRaises(
            pvm_exc.VMPowerOffFailure, power.PowerOp.stop, lpar_w,
            power_opts.PowerOffOpts().os_immediate())
        self.assertIn(jobs.NO_RMC, str(exc))
        self.assertEqual('running', part.state)

    def test_os_shutdown_with_rmc(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        power.PowerOp.stop(self.fresh(lpar_w),
                           power_opts.PowerOffOpts().os_immediate())
        self.assertEqual('not activated', self.model_lpar(lpar_w).state)

    def test_vios_power_cycle(self):
        vios_w = pvm_vios.VIOS.get(self.adapter)[0]
        power.PowerOp.stop(vios_w, power_opts.PowerOffOpts().vsp_normal())
        vios = self.sim.model.get(vios_w.uuid)
        self.assertEqual('not activated', vios.state)
        power.PowerOp.start(vios_w)
        self.assertEqual('running', vios.state)

    def test_job_failure_fault(self):
        lpar_w = self.create_lpar()
        self.sim.faults.add(faults.FaultRule(
            job='PowerOn', outcome=faults.JobFailure(
                'HSCLFFFF The simulated power on failed.')))
        job_w = self.job_template(pvm_lpar.LPAR.schema_type, lpar_w.uuid,
                                  'PowerOn')
        exc = self.assertRaises(pvm_exc.JobRequestFailed, job_w.run_job,
                                lpar_w.uuid)
        self.assertIn('HSCLFFFF', str(exc))
        self.assertEqual(jobs.FAILED_BEFORE_COMPLETION, job_w.job_status)
        self.assertEqual('not activated', self.model_lpar(lpar_w).state)

    def test_close_vterm_leaves_the_partition_as_it_was(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        etag = self.fresh(lpar_w).etag
        job_w = self.job_template(pvm_lpar.LPAR.schema_type, lpar_w.uuid,
                                  'CloseVterm')
        job_w.run_job(lpar_w.uuid)
        self.assertEqual(pvm_job.JobStatus.COMPLETED_OK, job_w.job_status)
        self.assertEqual('running', self.model_lpar(lpar_w).state)
        self.assertEqual(etag, self.fresh(lpar_w).etag)

    def test_unknown_operation_is_404(self):
        lpar_w = self.create_lpar()
        self.assertRaises(pvm_exc.HttpNotFound, self.job_template,
                          pvm_lpar.LPAR.schema_type, lpar_w.uuid, 'Explode')


class TestJobTiming(JobTestBase):

    def test_duration_shows_intermediate_state(self):
        self.sim.latency.per_job = 0.3
        lpar_w = self.create_lpar()
        part = self.model_lpar(lpar_w)
        power.power_on(lpar_w, None, synchronous=False)
        self.assertEqual('starting', self.quick_state(lpar_w))
        self.wait_for_state(part, part_mod.RUNNING)
        self.assertEqual('active', part.rmc_state)

    def test_synchronous_job_with_duration_is_polled(self):
        self.sim.latency.per_job = 0.3
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        self.assertEqual('running', self.model_lpar(lpar_w).state)

    def test_polls_to_complete(self):
        jobs.store_of(self.sim.simulator).polls_to_complete = 1
        lpar_w = self.create_lpar()
        job_w = self.job_template(pvm_lpar.LPAR.schema_type, lpar_w.uuid,
                                  'PowerOn')
        submitted = pvm_job.Job.wrap(self.adapter.create_job(
            job_w.entry.element, 'LogicalPartition', lpar_w.uuid))
        self.assertEqual(jobs.RUNNING, submitted.job_status)
        self.assertEqual('starting', self.model_lpar(lpar_w).state)
        polled = pvm_job.Job.wrap(self.adapter.read_job(submitted.job_id))
        self.assertEqual(jobs.COMPLETED_OK, polled.job_status)
        self.assertEqual('running', self.model_lpar(lpar_w).state)
        self.adapter.delete('jobs', submitted.job_id)
        self.assertRaises(pvm_exc.HttpNotFound, self.adapter.read_job,
                          submitted.job_id)

    def test_cancel_running_job(self):
        self.sim.latency.per_job = 60.0
        lpar_w = self.create_lpar()
        job_w = self.job_template(pvm_lpar.LPAR.schema_type, lpar_w.uuid,
                                  'PowerOn')
        submitted = pvm_job.Job.wrap(self.adapter.create_job(
            job_w.entry.element, 'LogicalPartition', lpar_w.uuid))
        self.assertEqual('starting', self.model_lpar(lpar_w).state)
        # A running job cannot be deleted.
        self.assertRaises(pvm_exc.HttpError, self.adapter.delete, 'jobs',
                          submitted.job_id)
        self.adapter.update(None, None, root_type='jobs',
                            root_id=submitted.job_id, suffix_type='cancel')
        polled = pvm_job.Job.wrap(self.adapter.read_job(submitted.job_id))
        self.assertEqual(jobs.FAILED_BEFORE_COMPLETION, polled.job_status)
        self.assertIn('cancelled', polled.get_job_message())
        self.assertEqual('not activated', self.model_lpar(lpar_w).state)
        self.adapter.delete('jobs', submitted.job_id)


class TestMigration(JobTestBase):
    systems = 2

    def setUp(self):
        super().setUp()
        self.target = self.sim.endpoints[1].system
        self.sim.trust_migrations()

    def test_migrate_moves_the_lpar(self):
        lpar_w = self.create_lpar()
        pvm_cna.crt_cna(self.adapter, None, lpar_w.uuid, 5)
        power.power_on(lpar_w, None)
        part = self.model_lpar(lpar_w)
        taken_ids = self.target.partition_ids_in_use()

        migration.migrate_lpar(lpar_w, self.target.name, validate_only=True)
        self.assertIs(self.system, part.parent)

        migration.migrate_lpar(lpar_w, self.target.name)
        self.assertIs(self.target, part.parent)
        self.assertIn(part, self.target.partitions)
        self.assertNotIn(part, self.system.partitions)
        self.assertNotIn(part.partition_id, taken_ids)
        self.assertEqual('running', part.state)
        [cna] = part.adapters
        self.assertIn(cna.vswitch, self.target.vswitches)
        # The target's NovaLink serves it now; the source's does not.
        target_adapter = self.sim.adapter(1)
        self.assertEqual(
            [lpar_w.uuid.lower()],
            [w.uuid.lower() for w in pvm_lpar.LPAR.get(target_adapter)
             if not w.is_mgmt_partition])
        self.assertEqual(
            [], [w for w in pvm_lpar.LPAR.get(self.adapter)
                 if not w.is_mgmt_partition])
        # Its jobs now go to the target's NovaLink too.
        self.assertRaises(pvm_exc.HttpNotFound, self.job_template,
                          pvm_lpar.LPAR.schema_type, lpar_w.uuid, 'PowerOff')
        moved_w = pvm_lpar.LPAR.get(target_adapter, uuid=lpar_w.uuid)
        power.PowerOp.stop(moved_w, power_opts.PowerOffOpts().vsp_hard())
        self.assertEqual('not activated', part.state)

    def test_migrate_needs_running_lpar(self):
        lpar_w = self.create_lpar()
        exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                migration.migrate_lpar, lpar_w,
                                self.target.name)
        self.assertIn(mobility.NOT_RUNNING, str(exc))
        self.assertIs(self.system, self.model_lpar(lpar_w).parent)

    def test_migrate_to_unknown_system(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                migration.migrate_lpar, lpar_w, 'nowhere')
        self.assertIn(mobility.TARGET_UNKNOWN, str(exc))

    def test_migrate_checks_target_capacity(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        self.target.memory_configurable = self.target.memory_assigned
        self.assertRaises(pvm_exc.JobRequestFailed, migration.migrate_lpar,
                          lpar_w, self.target.name)
        part = self.model_lpar(lpar_w)
        self.assertIs(self.system, part.parent)
        self.assertEqual('running', part.state)

    def test_abort_running_migration(self):
        self.sim.latency.per_job_operation['Migrate'] = 60.0
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        job_w = self.job_template(pvm_lpar.LPAR.schema_type, lpar_w.uuid,
                                  'Migrate')
        job_w.add_job_parameters_to_existing(job_w.create_job_parameter(
            migration.TGT_MGD_SYS, self.target.name))
        self.adapter.create_job(job_w.entry.element, 'LogicalPartition',
                                lpar_w.uuid)
        part = self.model_lpar(lpar_w)
        self.assertEqual('migrating running', part.state)
        migration.migrate_abort(lpar_w)
        self.assertEqual('running', part.state)
        self.assertIs(self.system, part.parent)

    def test_recover_stuck_migration(self):
        lpar_w = self.create_lpar()
        power.power_on(lpar_w, None)
        part = self.model_lpar(lpar_w)
        self.sim.fail_migrations()
        self.assertRaises(pvm_exc.JobRequestFailed, migration.migrate_lpar,
                          lpar_w, self.target.name)
        self.assertEqual('migrating running', part.state)
        migration.migrate_recover(lpar_w, force=True)
        self.assertEqual('running', part.state)
        self.assertRaises(pvm_exc.JobRequestFailed,
                          migration.migrate_recover, lpar_w)


class TestSystemAndViosJobs(JobTestBase):

    def test_wwpns_are_fresh_pairs(self):
        first = vfc_mapper.build_wwpn_pair(self.adapter, self.sys_w.uuid,
                                           pair_count=2)
        second = vfc_mapper.build_wwpn_pair(self.adapter, self.sys_w.uuid)
        self.assertEqual(4, len(first))
        self.assertEqual(2, len(second))
        everything = first + second
        self.assertEqual(len(everything), len(set(everything)))
        for wwpn in everything:
            self.assertTrue(wwpn.startswith('C05076'), wwpn)
            self.assertEqual(16, len(wwpn))
            int(wwpn, 16)

    def test_too_many_wwpn_pairs(self):
        self.assertRaises(pvm_exc.JobRequestFailed,
                          vfc_mapper.build_wwpn_pair, self.adapter,
                          self.sys_w.uuid, pair_count=9)

    def test_reserved_memory(self):
        overhead, available = pvm_mem.calculate_memory_overhead_on_host(
            self.adapter, self.sys_w.uuid,
            {'desired_mem': 2048, 'max_mem': 8192}, default=-1)
        self.assertGreater(overhead, 0)
        self.assertEqual(self.system.memory_available, available)

    def test_rbd_exists(self):
        vios_w = pvm_vios.VIOS.get(self.adapter)[0]
        self.assertFalse(hdisk.rbd_exists(self.adapter, vios_w.uuid,
                                          'pool/image'))
        self.sim.model.san.add_rbd_image('pool/image', 1)
        self.assertTrue(hdisk.rbd_exists(self.adapter, vios_w.uuid,
                                         'pool/image'))

    def test_iscsi_discover_and_remove(self):
        vios_w = pvm_vios.VIOS.get(self.adapter)[0]
        vios = self.sim.model.get(vios_w.uuid)
        self.assertEqual(vios.iscsi_initiator, hdisk.discover_iscsi_initiator(
            self.adapter, vios_w.uuid))
        iqn = 'iqn.2016-06.world.srv:target00'
        target = self.sim.model.san.add_iscsi_target(
            iqn, ['10.0.0.5'], chap_user='user', chap_secret='secret')
        self.sim.model.san.add_lun(target, 1,
                                   initiators=[vios.iscsi_initiator])
        name, udid = hdisk.discover_iscsi(
            self.adapter, '10.0.0.5:3260', 'user', 'secret', iqn,
            vios_w.uuid, auth='CHAP')
        self.assertTrue(name.startswith('hdisk'))
        again = hdisk.discover_iscsi(self.adapter, '10.0.0.5:3260', 'user',
                                     'secret', iqn, vios_w.uuid, auth='CHAP')
        self.assertEqual((name, udid), again)
        hdisk.remove_iscsi(self.adapter, iqn, vios_w.uuid)
        self.assertEqual([], vios.iscsi_sessions)
