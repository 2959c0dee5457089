"""Live partition mobility between two simulated servers, driven through
pypowervm's tasks.migration: what moves (the partition, its network
adapters and VLANs, its vSCSI and virtual FC mappings), what each NovaLink
shows while it moves, what NovaLink refuses (changing nothing on either
server), abort, a failure midway and its recovery, and the events."""

import io
import threading
import time

from pypowervm import adapter as pvm_adpt
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import hdisk
from pypowervm.tasks import management_console as pvm_mc
from pypowervm.tasks import migration
from pypowervm.tasks import power
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm import util as pvm_util
from pypowervm.wrappers import event as pvm_event
from pypowervm.wrappers import job as pvm_job
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import management_console as pvm_mc_w
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from powervm_sim import jobs
from powervm_sim.model import mapping as mapping_model
from powervm_sim.model import mobility
from powervm_sim.model import partition as part_mod
from tests.functional.sim import test_console
from tests.functional.sim import test_events_wire
from tests.functional.sim import test_jobs

SMAP = pvm_const.XAG.VIO_SMAP
FMAP = pvm_const.XAG.VIO_FMAP
# Kinds whose etags say whether a request changed anything.
WATCHED_KINDS = ('ManagedSystem', 'LogicalPartition', 'VirtualIOServer',
                 'ClientNetworkAdapter', 'VirtualSCSIClientAdapter',
                 'VirtualFibreChannelClientAdapter', 'VirtualNetwork',
                 'LogicalUnit', 'ManagementConsole')


def model_state(model):
    """Every watched object's etag, where each partition lives and how,
    and what each system holds: what a refused request leaves as it was
    on both servers."""
    with model.registry.lock:
        etags = {kind: sorted((obj.uuid, obj.etag) for obj in
                              model.registry.of_kind(kind))
                 for kind in WATCHED_KINDS}
        places = sorted((p.uuid, p.parent.uuid, p.partition_id, p.state,
                         p.migration is None)
                        for p in model.registry.of_kind('LogicalPartition'))
        systems = [(s.memory_available, s.proc_units_available,
                    len(s.incoming)) for s in model.systems]
        return etags, places, systems


class MobilityTestBase(test_jobs.JobTestBase):
    systems = 2
    shared_ssp = True
    # Whether each NovaLink trusts the others' SSH keys (TestTrust's
    # NovaLinks do not, as fresh ones).
    trusted = True

    def setUp(self):
        super().setUp()
        if self.trusted:
            self.sim.trust_migrations()
        self.model = self.sim.model
        self.source = self.system
        self.target = self.sim.endpoints[1].system
        self.target_adapter = self.sim.adapter(1)
        self.lpar_w = self.running_lpar('mover')
        self.lpar = self.model_lpar(self.lpar_w)

    def running_lpar(self, name, adapter=None, sys_w=None):
        lpar_w = self.create_lpar(name, adapter, sys_w)
        power.power_on(lpar_w, None)
        return lpar_w.refresh()

    def vios(self, system, index=0):
        return self.model.vioses(system)[index]

    def read_vios(self, index, vios):
        return pvm_vios.VIOS.get(self.sim.adapter(index), uuid=vios.uuid,
                                 xag=[SMAP, FMAP])

    def migrate(self, **kwargs):
        migration.migrate_lpar(self.lpar_w, self.target.name, **kwargs)

    def start_migration(self, **params):
        """Submit a Migrate job and return at once (its JobID)."""
        job_w = self.job_template(pvm_lpar.LPAR.schema_type,
                                  self.lpar_w.uuid, 'Migrate')
        params = dict({migration.TGT_MGD_SYS: self.target.name}, **params)
        job_w.add_job_parameters_to_existing(*[
            job_w.create_job_parameter(name, value)
            for name, value in params.items()])
        submitted = pvm_job.Job.wrap(self.adapter.create_job(
            job_w.entry.element, pvm_lpar.LPAR.schema_type,
            self.lpar_w.uuid))
        return submitted.job_id

    def job(self, job_id):
        return pvm_job.Job.wrap(self.adapter.read_job(job_id))

    def job_status(self, job_id):
        return self.job(job_id).job_status

    def assert_refused(self, code, *texts, **kwargs):
        """Validation and migration both fail with ``code`` and ``texts``,
        and leave both servers as they were."""
        before = model_state(self.model)
        target = kwargs.pop('target', self.target.name)
        for validate_only in (True, False):
            exc = self.assertRaises(
                pvm_exc.JobRequestFailed, migration.migrate_lpar,
                self.lpar_w, target, validate_only=validate_only, **kwargs)
            for text in (code,) + texts:
                self.assertIn(text, str(exc))
            self.assertEqual(before, model_state(self.model))
        return exc

    def tier_w(self):
        [tier_w] = pvm_stg.Tier.get(self.adapter)
        return tier_w

    def discover(self, vios, lun):
        adapter = self.sim.adapter(self.model.systems.index(vios.parent))
        initiators = [p.wwpn for p in vios.fc_ports
                      if p.wwpn in lun.initiator_target_map]
        status, name, _ = hdisk.discover_hdisk(
            adapter, vios.uuid, hdisk.build_itls(
                initiators, lun.target.wwpns, lun.lun_id))
        self.assertEqual(hdisk.LUAStatus.DEVICE_AVAILABLE, status)
        return name

    def map_npiv(self):
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.source.uuid)
        vios = self.vios(self.source, 1)
        vios_w = self.read_vios(0, vios)
        vios_w.vfc_mappings.append(pvm_vios.VFCMapping.bld(
            self.adapter, self.source.uuid, self.lpar_w.uuid, 'fcs0',
            client_wwpns=wwpns))
        vios_w.update()
        return [w.lower() for w in wwpns]

    def assert_on(self, system):
        self.assertIs(system, self.lpar.parent)
        self.assertIn(self.lpar, system.partitions)
        self.assertIsNone(self.lpar.migration)
        self.assertEqual([], self.source.incoming + self.target.incoming)
        self.assertEqual(part_mod.RUNNING, self.lpar.state)


class TestMigration(MobilityTestBase):

    def test_a_running_lpar_moves_with_its_network(self):
        pvm_cna.crt_cna(self.adapter, None, self.lpar_w.uuid, 1)
        [cna] = self.lpar.adapters
        source_free = self.source.memory_available
        target_free = self.target.memory_available
        migration.migrate_lpar(self.lpar_w, self.target.name,
                               validate_only=True)
        self.assert_on(self.source)
        taken_ids = self.target.partition_ids_in_use()
        self.migrate()
        self.assert_on(self.target)
        self.assertNotIn(self.lpar.partition_id, taken_ids)
        self.assertEqual(source_free + 1024, self.source.memory_available)
        self.assertEqual(target_free - 1024, self.target.memory_available)
        self.assertEqual(('ETHERNET0', 1), (cna.vswitch.name, cna.pvid))
        self.assertIn(cna.vswitch, self.target.vswitches)
        # The target's NovaLink serves it now, under its own system.
        moved_w = pvm_lpar.LPAR.get(self.target_adapter,
                                    uuid=self.lpar_w.uuid)
        self.assertEqual(('running', 'Not_Migrating', self.lpar.partition_id),
                         (moved_w.state, moved_w.migration_state, moved_w.id))
        self.assertEqual(self.target.uuid, moved_w.assoc_sys_uuid)
        self.assertRaises(pvm_exc.HttpNotFound, pvm_lpar.LPAR.get,
                          self.adapter, uuid=self.lpar_w.uuid)

    def test_an_ssp_unit_mapping_moves_to_the_vios_named(self):
        _, lu_w = tsk_stg.crt_lu(self.tier_w(), 'boot_mover', 1)
        scsi_mapper.add_vscsi_mapping(None, self.vios(self.source).uuid,
                                      self.lpar_w.uuid, lu_w)
        [client] = self.lpar.adapters
        landing = self.vios(self.target, 1)
        self.migrate(virtual_scsi_mappings=['%d/%s//' % (client.slot,
                                                          landing.name)])
        self.assert_on(self.target)
        for vios in self.model.vioses(self.source):
            self.assertEqual([], self.read_vios(0, vios).scsi_mappings)
        [smap] = self.read_vios(1, landing).scsi_mappings
        self.assertEqual(lu_w.udid, smap.backing_storage.udid)
        self.assertEqual(self.lpar.partition_id, smap.server_adapter.lpar_id)
        self.assertEqual((landing.partition_id, client.slot),
                         (client.remote_lpar_id, client.slot))
        [lu] = self.model.clusters()[0].ssp.logical_units
        self.assertTrue(lu.in_use)

    def test_a_san_disk_moves_when_the_target_vioses_reach_it(self):
        lun = self.sim.fc_lun(size_gb=2)
        name = self.discover(self.vios(self.source), lun)
        self.discover(self.vios(self.target), lun)
        scsi_mapper.add_vscsi_mapping(None, self.vios(self.source).uuid,
                                      self.lpar_w.uuid,
                                      pvm_stg.PV.bld(self.adapter, name))
        self.migrate()
        self.assert_on(self.target)
        [smap] = self.read_vios(1, self.vios(self.target)).scsi_mappings
        self.assertEqual(lun.udid, smap.backing_storage.udid)

    def test_a_san_disk_the_target_vioses_do_not_reach_keeps_it_home(self):
        lun = self.sim.fc_lun(size_gb=2,
                              vioses=self.model.vioses(self.source))
        name = self.discover(self.vios(self.source), lun)
        scsi_mapper.add_vscsi_mapping(None, self.vios(self.source).uuid,
                                      self.lpar_w.uuid,
                                      pvm_stg.PV.bld(self.adapter, name))
        self.assert_refused(mapping_model.NOT_MIGRATABLE,
                            'virtual SCSI adapter', 'reaches its storage')

    def test_a_virtual_fc_adapter_moves_to_the_port_named(self):
        wwpns = self.map_npiv()
        [client] = self.lpar.adapters
        landing = self.vios(self.target, 1)
        self.migrate(virtual_fc_mappings=['%d/%s/%d//fcs1' % (
            client.slot, landing.name, landing.partition_id)])
        self.assert_on(self.target)
        [fmap] = self.read_vios(1, landing).vfc_mappings
        self.assertEqual('fcs1', fmap.backing_port.name)
        self.assertEqual(wwpns, [w.lower() for w in
                                 fmap.client_adapter.wwpns])
        # The second WWPN of the pair logged in on the target; the
        # partition goes on with it.
        self.assertEqual([wwpns[1]], [w.lower() for w in
                                      client.logged_in_wwpns])

    def test_a_virtual_fc_adapter_whose_second_wwpn_misses_a_lun(self):
        wwpns = self.map_npiv()
        # The LUN is masked to the WWPN in use alone.
        self.sim.fc_lun(initiators=[wwpns[0]])
        self.assert_refused(mapping_model.VFC_NOT_HOSTABLE, 'virtual fibre '
                            'channel client adapter', wwpns[1])

    def test_open_vswitch_vlans_move_through_mappings_and_overrides(self):
        mgmt = self.source.mgmt_partition
        cna_w, _ = pvm_cna.crt_p2p_cna(
            self.adapter, None, self.lpar_w.uuid, [mgmt.uuid],
            'NovaLinkVEABridge', ovs_bridge='br-int')
        [cna] = self.lpar.adapters
        # Bridged by the NovaLink partition: only with OVSOverride.
        self.assert_refused(mobility.SDN_BRIDGE, str(cna.slot))
        # Not bridged on the target at all: only with VLANBridgeOverride.
        self.assert_refused(mobility.VLAN_NOT_BRIDGED, str(cna.pvid),
                            sdn_override=True)
        # The target's NovaLink bridges a VLAN of its own for it, as
        # nova-powervm's Open vSwitch driver prepares a target.
        target_mgmt = self.target.mgmt_partition
        for _ in range(2):
            [trunk_w] = pvm_cna.crt_trunk_with_free_vlan(
                self.target_adapter, None, [target_mgmt.uuid],
                'NovaLinkVEABridge', ovs_bridge='br-int')
        self.assertNotEqual(cna.pvid, trunk_w.pvid)
        self.migrate(sdn_override=True, vlan_mappings=['%s/%d' % (
            pvm_util.sanitize_mac_for_api(cna_w.mac), trunk_w.pvid)])
        self.assert_on(self.target)
        self.assertEqual(('NovaLinkVEABridge', trunk_w.pvid),
                         (cna.vswitch.name, cna.pvid))
        [moved_w] = pvm_net.CNA.get(self.target_adapter,
                                    parent_type=pvm_lpar.LPAR,
                                    parent_uuid=self.lpar_w.uuid)
        self.assertEqual(trunk_w.pvid, moved_w.pvid)

    def test_an_unbridged_vlan_moves_with_the_override(self):
        mgmt = self.source.mgmt_partition
        pvm_cna.crt_p2p_cna(self.adapter, None, self.lpar_w.uuid,
                            [mgmt.uuid], 'NovaLinkVEABridge')
        self.migrate(sdn_override=True, vlan_check_override=True)
        self.assert_on(self.target)


class TestTrust(MobilityTestBase):
    """The source's NovaLink runs the migration over SSH to the target's
    as its user wlp: the target's console must authorize the source's
    public key."""

    trusted = False

    def source_key(self):
        return pvm_mc.get_public_key(self.adapter)

    def test_a_target_that_does_not_trust_the_source_refuses(self):
        self.assert_refused(mobility.UNTRUSTED, self.target.name,
                            'public SSH key')

    def test_trust_goes_one_way(self):
        # The source trusting the target does not let the source in.
        pvm_mc.add_authorized_key(
            self.adapter, pvm_mc.get_public_key(self.target_adapter))
        self.assert_refused(mobility.UNTRUSTED)

    def test_another_key_does_not_let_the_source_in(self):
        pvm_mc.add_authorized_key(self.target_adapter,
                                  test_console.OPERATOR_KEY)
        self.assert_refused(mobility.UNTRUSTED)

    def test_the_key_is_known_by_its_body_not_its_comment(self):
        # As sshd matches keys: the comment is only a note.
        pvm_mc.add_authorized_key(self.target_adapter, self.source_key()
                                  .replace(' wlp@', ' copied-by-hand@'))
        self.migrate()
        self.assert_on(self.target)

    def test_the_key_authorized_on_the_target_lets_it_move(self):
        pvm_mc.add_authorized_key(self.target_adapter, self.source_key())
        migration.migrate_lpar(self.lpar_w, self.target.name,
                               validate_only=True)
        self.migrate()
        self.assert_on(self.target)

    def test_a_key_taken_away_again_refuses(self):
        pvm_mc.add_authorized_key(self.target_adapter, self.source_key())
        [console_w] = pvm_mc_w.ManagementConsole.get(self.target_adapter)
        console_w.ssh_authorized_keys = []
        console_w.update()
        self.assert_refused(mobility.UNTRUSTED)


class TestRefusals(MobilityTestBase):
    """Each refusal names NovaLink's code (see model/mobility.py for which
    are real) and changes nothing on either server."""

    def test_not_enough_memory_on_the_target(self):
        self.target.memory_configurable = (
            self.target.memory_configurable - self.target.memory_available +
            512)
        self.assert_refused('HSCL1544', 'memory')

    def test_not_enough_processors_on_the_target(self):
        self.target.proc_units_configurable = \
            self.target.proc_units_assigned + 0.05
        self.assert_refused('HSCL1545', 'processing units')

    def test_a_compatibility_mode_the_target_cannot_run(self):
        self.sim.set_mobility(1, proc_compat_modes=['default', 'POWER8'])
        self.assert_refused(mobility.PROC_COMPAT, 'POWER9')

    def test_rmc_inactive(self):
        self.model.set_partition_state(self.lpar, part_mod.RUNNING,
                                       rmc_state='inactive')
        self.assert_refused(mobility.NO_RMC, 'RMC')

    def test_not_running(self):
        power.power_off(self.lpar_w, None, force_immediate=True)
        self.lpar_w = self.fresh(self.lpar_w)
        self.assert_refused(mobility.NOT_RUNNING, 'not activated')

    def test_physical_io(self):
        [card] = [c for c in self.source.io_cards if not c.sriov_adapter_id]
        self.model.update_partition(self.lpar, {'profile_io_slots': [
            {'drc_index': card.drc_index}]})
        self.assert_refused(mobility.PHYSICAL_IO, card.drc_name)

    def test_a_virtual_optical_device(self):
        data = b'config drive' * 100
        vios = self.vios(self.source)
        vopt, _ = tsk_stg.upload_vopt(self.adapter, vios.uuid,
                                      io.BytesIO(data), 'cfg_mover.iso',
                                      f_size=len(data))
        scsi_mapper.add_vscsi_mapping(None, vios.uuid, self.lpar_w.uuid,
                                      vopt)
        self.assert_refused(mapping_model.VOPT_MAPPED, 'cfg_mover.iso')

    def test_an_unknown_target_system(self):
        self.assert_refused(mobility.TARGET_UNKNOWN, 'nowhere',
                            target='nowhere')

    def test_the_system_it_is_on(self):
        self.assert_refused(mobility.TARGET_UNKNOWN, 'already on',
                            target=self.source.name)

    def test_a_name_already_used_on_the_target(self):
        target_sys_w = pvm_ms.System.get(self.target_adapter)[0]
        self.create_lpar('mover', self.target_adapter, target_sys_w)
        self.assert_refused(mobility.NAME_IN_USE, 'mover')

    def test_a_target_that_cannot_receive_migrations(self):
        self.sim.set_mobility(1, active_capable=False)
        self.assert_refused(mobility.NOT_CAPABLE, self.target.name)

    def test_too_many_migrations_at_once(self):
        self.sim.set_mobility(1, max_active_migrations=0)
        self.assert_refused(mobility.TOO_MANY, self.target.name)

    def test_the_management_partition(self):
        mgmt_w = pvm_lpar.LPAR.get(self.adapter,
                                   uuid=self.source.mgmt_partition.uuid)
        self.lpar_w = mgmt_w
        self.assert_refused(mapping_model.NOT_MIGRATABLE, 'management')

    def test_a_partition_already_migrating(self):
        self.sim.migration_seconds(60)
        job_id = self.start_migration()
        self.assert_refused(mobility.ALREADY_MIGRATING, 'mover')
        migration.migrate_abort(self.lpar_w)
        self.assertEqual(jobs.FAILED_BEFORE_COMPLETION,
                         self.job_status(job_id))

    def test_mappings_naming_what_is_not_there(self):
        pvm_cna.crt_cna(self.adapter, None, self.lpar_w.uuid, 1)
        self.assert_refused(mobility.BAD_MAPPING, 'slot 9',
                            virtual_scsi_mappings=['9/vios1//'])
        self.assert_refused(mobility.BAD_MAPPING, 'slot 9',
                            virtual_fc_mappings=['9/vios1//'])
        _, lu_w = tsk_stg.crt_lu(self.tier_w(), 'boot_x', 1)
        scsi_mapper.add_vscsi_mapping(None, self.vios(self.source).uuid,
                                      self.lpar_w.uuid, lu_w)
        [slot] = [a.slot for a in self.lpar.adapters
                  if a.kind == 'VirtualSCSIClientAdapter']
        self.assert_refused(mobility.BAD_MAPPING, 'vios7',
                            virtual_scsi_mappings=['%d/vios7//' % slot])
        self.assert_refused(mobility.BAD_MAPPING, 'vios1', '3',
                            virtual_scsi_mappings=['%d/vios1/3/' % slot])
        self.assert_refused(mobility.BAD_MAPPING, 'AABBCCDDEEFF',
                            vlan_mappings=['AABBCCDDEEFF/5'])

    def test_malformed_parameters(self):
        """Parameters pypowervm would never build fail the job with
        NovaLink's parameter error (HSCL0B5C)."""
        for kwargs in (
                {'virtual_scsi_mappings': ['x/vios1//']},
                {'virtual_scsi_mappings': ['4']},
                {'virtual_scsi_mappings': ['4/vios1/2/5/fcs0']},
                {'virtual_scsi_mappings': ['4///']},
                {'virtual_scsi_mappings': ['4/vios1//', '4/vios2//']},
                {'virtual_fc_mappings': ['4/vios1/2/5/fcs0/extra']},
                {'virtual_fc_mappings': ['4/vios1/two//fcs0']},
                {'virtual_fc_mappings': ['4/vios1//x/fcs0']},
                {'vlan_mappings': ['0011223344/5']},
                {'vlan_mappings': ['001122334455']},
                {'vlan_mappings': ['001122334455/0']},
                {'vlan_mappings': ['001122334455/5/4095']},
                {'vlan_mappings': ['001122334455/5', '001122334455/6']},
                {'dest_msp_name': '192.0.2.300'},
                {'source_msp_name': '192.0.2.1,,'},
                {'spp_id': 'x'},
                {'spp_id': '64'},
                {'virtual_scsi_mappings': ['\u0664/vios1//']}):
            self.assert_refused(jobs.BAD_PARAMETER, **kwargs)
        before = model_state(self.model)
        for params in ({migration.TGT_MGD_SYS: ' '},
                       {migration.OVS_OVERRIDE: 'yes'},
                       {migration.AFFINITY: 'maybe'}):
            job_w = self.job(self.start_migration(**params))
            self.assertEqual(jobs.COMPLETED_WITH_ERROR, job_w.job_status)
            self.assertIn(jobs.BAD_PARAMETER, job_w.get_job_message())
        self.assertEqual(before, model_state(self.model))


class TestWhileItMoves(MobilityTestBase):

    def test_both_novalinks_show_it_migrating_and_an_abort_brings_it_back(
            self):
        self.sim.migration_seconds(60)
        target_free = self.target.memory_available
        job_id = self.start_migration()
        for adapter in (self.adapter, self.target_adapter):
            seen_w = pvm_lpar.LPAR.get(adapter, uuid=self.lpar_w.uuid)
            self.assertEqual(('migrating running', 'Migration_Starting'),
                             (seen_w.state, seen_w.migration_state))
            self.assertIn(self.lpar_w.uuid, [
                w.uuid for w in pvm_lpar.LPAR.get(
                    adapter, parent_type=pvm_ms.System,
                    parent_uuid=self.model.systems[
                        adapter is self.target_adapter].uuid)])
        # The target holds what the partition needs from the start.
        self.assertEqual(target_free - 1024, self.target.memory_available)
        self.assertEqual([self.lpar], self.target.incoming)
        # Nothing else changes it meanwhile.
        self.assertRaises(pvm_exc.VMPowerOffFailure, power.power_off,
                          self.lpar_w, None, force_immediate=True)
        resized_w = self.fresh(self.lpar_w)
        resized_w.mem_config.desired = 2048
        exc = self.assertRaises(pvm_exc.HttpError, resized_w.update)
        self.assertEqual(409, exc.response.status)
        self.assertIn(jobs.BAD_STATE, exc.her_wrap.message)
        migration.migrate_abort(self.lpar_w)
        self.assertEqual(jobs.FAILED_BEFORE_COMPLETION,
                         self.job_status(job_id))
        self.assert_on(self.source)
        self.assertEqual(target_free, self.target.memory_available)
        self.assertRaises(pvm_exc.HttpNotFound, pvm_lpar.LPAR.get,
                          self.target_adapter, uuid=self.lpar_w.uuid)

    def test_an_abort_goes_to_the_source_novalink(self):
        self.sim.migration_seconds(60)
        self.start_migration()
        shell_w = pvm_lpar.LPAR.get(self.target_adapter,
                                    uuid=self.lpar_w.uuid)
        exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                migration.migrate_abort, shell_w)
        self.assertIn(jobs.BAD_STATE, str(exc))
        self.assertEqual(part_mod.MIGRATING, self.lpar.state)
        migration.migrate_abort(self.lpar_w)
        self.assert_on(self.source)

    def test_an_abort_without_a_migration(self):
        exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                migration.migrate_abort, self.lpar_w)
        self.assertIn(mobility.NO_MIGRATION, str(exc))

    def test_a_failure_midway_waits_for_recovery(self):
        self.sim.fail_migrations()
        exc = self.assertRaises(pvm_exc.JobRequestFailed, self.migrate)
        self.assertIn(mobility.FAILED_MIDWAY, str(exc))
        for adapter in (self.adapter, self.target_adapter):
            seen_w = pvm_lpar.LPAR.get(adapter, uuid=self.lpar_w.uuid)
            self.assertEqual(('migrating running', 'Migration_Failed'),
                             (seen_w.state, seen_w.migration_state))
        exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                migration.migrate_abort, self.lpar_w)
        self.assertIn(mobility.NO_MIGRATION, str(exc))
        # Either NovaLink recovers it (nova-powervm forces it).
        shell_w = pvm_lpar.LPAR.get(self.target_adapter,
                                    uuid=self.lpar_w.uuid)
        migration.migrate_recover(shell_w, force=True)
        self.assert_on(self.source)
        self.assertRaises(pvm_exc.HttpNotFound, pvm_lpar.LPAR.get,
                          self.target_adapter, uuid=self.lpar_w.uuid)
        # The next attempt goes through.
        self.migrate()
        self.assert_on(self.target)

    def test_a_running_migration_is_not_recovered(self):
        self.sim.migration_seconds(60)
        self.start_migration()
        for adapter in (self.adapter, self.target_adapter):
            lpar_w = pvm_lpar.LPAR.get(adapter, uuid=self.lpar_w.uuid)
            exc = self.assertRaises(pvm_exc.JobRequestFailed,
                                    migration.migrate_recover, lpar_w)
            self.assertIn(jobs.BAD_STATE, str(exc))
        migration.migrate_abort(self.lpar_w)

    def test_a_migration_takes_its_time(self):
        self.sim.migration_seconds(0.5)
        started = time.monotonic()
        self.migrate()
        self.assertGreaterEqual(time.monotonic() - started, 0.5)
        self.assert_on(self.target)


class TestEvents(test_events_wire.EventTestBase):
    systems = 2

    def test_each_novalink_reports_the_move(self):
        self.sim.trust_migrations()
        source_session, source_events = self.listen(0)
        _, target_events = self.listen(1)
        lpar_w = self.create_lpar(pvm_adpt.Adapter(source_session), 'mover')
        power.power_on(lpar_w, None)
        lpar = self.sim.model.get(lpar_w.uuid)
        href = test_events_wire.lpar_href(lpar_w.uuid)
        # Long enough for the events of the start to arrive meanwhile.
        self.sim.migration_seconds(5)
        mover = threading.Thread(target=migration.migrate_lpar, args=(
            lpar_w.refresh(), self.sim.endpoints[1].system.name))
        mover.start()
        self.addCleanup(mover.join)
        # The target's NovaLink reports the partition as it starts moving.
        target_events.wait_for(pvm_event.EventType.ADD_URI, href)
        self.assertEqual(part_mod.MIGRATING, lpar.state)
        mover.join()
        source_events.wait_for(pvm_event.EventType.DELETE_URI, href)
        self.assertEqual(
            [MODIFY_STATE, MODIFY_STATE, DELETE],
            self.of_the_lpar(source_events, href)[-3:])
        target_events.wait_for(pvm_event.EventType.MODIFY_URI, href,
                               'PartitionState')
        # Added, migrating, then running: each under the target's URL.
        self.assertEqual([ADD, MODIFY_STATE, MODIFY_STATE],
                         self.of_the_lpar(target_events, href))
        target_url = self.sim.endpoints[1].server.url
        self.assertTrue(all(
            data.startswith(target_url) for _, data, _ in
            target_events.summary() if data.lower().endswith(href.lower())))

    @staticmethod
    def of_the_lpar(recorder, href):
        return [(etype, detail) for etype, data, detail in recorder.summary()
                if data.lower().endswith(href.lower())]


ADD = (pvm_event.EventType.ADD_URI, 'Other')
DELETE = (pvm_event.EventType.DELETE_URI, 'Other')
MODIFY_STATE = (pvm_event.EventType.MODIFY_URI, 'PartitionState,Other')
