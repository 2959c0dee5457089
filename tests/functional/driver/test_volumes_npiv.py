"""Fibre Channel volumes over NPIV: the instance's own virtual WWPNs in the
volume connector, VFC mappings to its LPAR on attach and spawn, kept on a
plain detach, removed with the instance; checked in the simulator's model
(its VIOSes' VFC mappings, the LPAR's client adapters, the SAN)."""

import fixtures as fx
from nova.compute import task_states
from nova import exception
from nova import objects
from nova.virt import driver as nova_driver
from pypowervm import exceptions as pvm_exc
from pypowervm.wrappers import storage as pvm_stg

from nova_powervm import conf
from nova_powervm import exception as pvm_nova_exc
from nova_powervm.volume import npiv
from powervm_sim import faults
from powervm_sim.model import mapping as sim_mapping
from tests.functional.driver import fixtures
from tests.functional.driver import test_fault_campaign as campaign

_GET_NEXT_WWPNS = 'GetNextWWPNs'


class NPIVTestCase(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.flags(fc_attach_strategy='npiv', group='powervm')
        # Fabric A: the first FC port of every VIOS.
        self.use_fabrics(A='fcs0')

    def use_fabrics(self, **port_names):
        """Fabrics by name, each cabled to the FC port of that name on
        every VIOS."""
        self.flags(fabrics=list(port_names), group='powervm')
        # Registers each named fabric's fabric_<name>_port_wwpns option.
        conf.fabric_port_wwpns()
        for fabric, port_name in port_names.items():
            self.flags(group='powervm', **{
                'fabric_%s_port_wwpns' % fabric: [
                    port.wwpn for port in self.ports(port_name)]})

    def ports(self, name):
        return [port for vios in self.sim.model.vioses(self.system)
                for port in vios.fc_ports if port.name == name]

    def connector(self, instance):
        return self.driver.get_volume_connector(instance)

    def new_volume(self, instance):
        """A SAN LUN masked (and zoned) to the instance's WWPNs, as a
        Cinder FC driver does with the connector, and its
        connection_info."""
        return self.fc_volume(initiators=self.connector(instance)['wwpns'])

    def attached_volume(self):
        """A running instance and a volume attached to it: (instance, LUN,
        connection_info)."""
        instance = self.running_instance()
        lun, info = self.new_volume(instance)
        self.attach(instance, info)
        return instance, lun, info

    def destroy_with_volumes(self, instance, *infos):
        self.driver.destroy(self.context, instance, [],
                            block_device_info=fixtures.block_device_info(
                                *map(fixtures.DriverBDM, infos)))

    def reloaded(self, instance):
        return objects.Instance.get_by_uuid(
            self.context, instance.uuid, expected_attrs=['system_metadata'])

    def vfc_mappings(self, instance):
        """{(VIOS name, physical port name, the client's WWPNs)} of the
        VFC mappings to the instance's LPAR."""
        lpar_id = self.lpar_of(instance).partition_id
        return {(vios.name, mapping.port.name, mapping.client.wwpns)
                for vios in self.sim.model.vioses(self.system)
                for mapping in vios.fc_mappings
                if mapping.server.remote_lpar_id == lpar_id}

    def luns_seen(self, wwpns):
        """The LUNs each of ``wwpns`` reaches through the fabric (logged
        in through a VFC mapping of a running LPAR)."""
        return [lun for wwpn in wwpns
                for lun in self.sim.model.npiv_luns(wwpn)]

    def client_adapter_wwpns(self, instance):
        return {adapter.wwpns for adapter in self.sim.model.client_adapters(
            self.lpar_of(instance), sim_mapping.FC_CLIENT)}

    def assert_attach_leaves_nothing(self, instance, connection_info):
        """The attach fails, with no VFC mapping or adapter left; its
        error."""
        err = self.assertRaises(exception.VolumeAttachFailed, self.attach,
                                instance, connection_info)
        self.assert_no_vfc_left()
        return err

    def assert_no_vfc_left(self):
        """No VFC mapping (orphans too) on any VIOS, no VFC client adapter
        on any partition."""
        self.assertEqual([], [
            (vios.name, mapping.server.name)
            for vios in self.sim.model.vioses(self.system)
            for mapping in vios.fc_mappings])
        self.assertEqual([], [
            adapter.wwpns for adapter in
            self.sim.model.registry.of_kind(sim_mapping.FC_CLIENT)])

    def count_jobs(self, job):
        """Arm a rule that only counts submissions of ``job``."""
        rule = self.sim.faults.add(faults.FaultRule(
            outcome=faults.DelayOnly(), job=job))
        return lambda: self.sim.faults.counters()['by_rule'][rule]


class TestConnector(NPIVTestCase):

    def test_the_instance_gets_wwpns_of_its_own_once(self):
        made = self.count_jobs(_GET_NEXT_WWPNS)
        instance = self.make_instance()
        connector = self.connector(instance)
        physical = {port.wwpn.lower() for vios in self.sim.model.vioses(
            self.system) for port in vios.fc_ports}
        # Both of its pair: the partition logs in with the second on the
        # destination of a live migration.
        self.assertEqual(2, len(set(connector['wwpns'])))
        self.assertFalse(physical & set(connector['wwpns']))
        # Arrays make a host per connector host name: the instance's own.
        self.assertEqual('%s_%s' % (fixtures.HOST, instance.name),
                         connector['host'])
        self.assertEqual(connector, self.connector(instance))
        self.assertEqual(1, made())

    def test_kept_in_the_instance_as_nova_powervm_kept_them(self):
        instance = self.make_instance()
        wwpns = self.connector(instance)['wwpns']
        sysmeta = self.reloaded(instance).system_metadata
        port, first, second = sysmeta['npiv_adpt_wwpns_A'].split(',')
        self.assertEqual([first.lower(), second.lower()], wwpns)
        self.assertIn(port, [p.wwpn for p in self.ports('fcs0')])
        self.assertNotEqual(first, second)
        self.assertEqual(npiv.UNMAPPED, sysmeta['fabric_state_A'])

    def test_the_same_wwpns_after_a_restart(self):
        instance = self.make_instance()
        before = self.connector(instance)
        made = self.count_jobs(_GET_NEXT_WWPNS)
        self.driver.cleanup_host(fixtures.HOST)
        driver = nova_driver.load_compute_driver(
            self.driver_fixture.virtapi, fixtures.COMPUTE_DRIVER)
        driver.init_host(fixtures.HOST)
        self.addCleanup(driver.cleanup_host, fixtures.HOST)
        self.assertEqual(before, driver.get_volume_connector(
            self.reloaded(instance)))
        self.assertEqual(0, made())

    def test_ports_per_fabric_on_every_fabric(self):
        self.flags(ports_per_fabric=2, group='powervm')
        self.use_fabrics(A='fcs0', B='fcs1')
        wwpns = self.connector(self.make_instance())['wwpns']
        self.assertEqual(8, len(set(wwpns)))

    def test_instances_get_different_wwpns(self):
        first = self.connector(self.make_instance())['wwpns']
        second = self.connector(self.make_instance())['wwpns']
        self.assertFalse(set(first) & set(second))

    def test_port_maps_of_another_host_are_left_as_they_are(self):
        # As on the destination of a live migration, before the move:
        # nova asks for the connector there, and the source's port maps
        # must stay the instance's until the LPAR has moved.
        instance = self.make_instance()
        wwpns = self.connector(instance)['wwpns']
        sysmeta = instance.system_metadata
        _port, first, second = sysmeta['npiv_adpt_wwpns_A'].split(',')
        sysmeta['npiv_adpt_wwpns_A'] = 'C0507600DEADBEEF,%s,%s' % (first,
                                                                   second)
        instance.save()
        self.assertEqual(wwpns, self.connector(instance)['wwpns'])
        self.assertEqual('C0507600DEADBEEF,%s,%s' % (first, second),
                         self.reloaded(instance).system_metadata[
                             'npiv_adpt_wwpns_A'])

    def test_a_fabric_whose_ports_are_not_on_the_host_is_refused(self):
        self.flags(fabric_A_port_wwpns=['C0507600DEADBEEF'], group='powervm')
        made = self.count_jobs(_GET_NEXT_WWPNS)
        instance = self.make_instance()
        err = self.assertRaises(pvm_nova_exc.NPIVPortsNotFound,
                                self.connector, instance)
        self.assertIn('fabric_A_port_wwpns', str(err))
        self.assertIn('C0507600DEADBEEF', str(err))
        self.assertEqual(0, made())
        self.assertNotIn('npiv_adpt_wwpns_A',
                         self.reloaded(instance).system_metadata)


class TestAttachDetach(NPIVTestCase):

    def test_attach_to_a_running_lpar_maps_each_fabric(self):
        # One port per fabric: the two fabrics on different VIOSes.
        self.use_fabrics(A='fcs0', B='fcs1')
        instance = self.running_instance()
        lun, info = self.new_volume(instance)
        self.assertEqual([], self.luns_seen(lun.initiators))
        self.attach(instance, info)
        mapped = self.vfc_mappings(instance)
        self.assertEqual(['fcs0', 'fcs1'],
                         sorted(port for _vios, port, _wwpns in mapped))
        self.assertEqual(2, len({vios for vios, _port, _wwpns in mapped}))
        self.assertEqual(set(lun.initiators),
                         {wwpn for _vios, _port, wwpns in mapped
                          for wwpn in wwpns})
        # The LPAR's WWPNs logged in to the fabrics and reach the LUN.
        self.assertEqual([lun, lun], self.luns_seen(lun.initiators))
        self.assertEqual({wwpns for _vios, _port, wwpns in mapped},
                         self.client_adapter_wwpns(instance))
        sysmeta = self.reloaded(instance).system_metadata
        self.assertEqual(npiv.INST_MAPPED, sysmeta['fabric_state_A'])
        self.assertEqual(npiv.INST_MAPPED, sysmeta['fabric_state_B'])

    def test_attach_to_a_stopped_lpar_spreads_a_fabric_over_the_vioses(self):
        self.flags(ports_per_fabric=2, group='powervm')
        instance = self.make_instance()
        self.spawn(instance, power_on=False)
        lun, info = self.new_volume(instance)
        self.attach(instance, info)
        mapped = self.vfc_mappings(instance)
        self.assertEqual({(vios.name, 'fcs0') for vios in
                          self.sim.model.vioses(self.system)},
                         {(vios, port) for vios, port, _wwpns in mapped})
        self.assertEqual(set(lun.initiators),
                         {wwpn for _vios, _port, wwpns in mapped
                          for wwpn in wwpns})

    def test_a_running_lpar_without_rmc_is_refused_untouched(self):
        instance = self.make_instance()
        self.spawn(instance)
        self.sim.model.set_partition_state(self.lpar_of(instance), 'running',
                                           rmc_state='inactive')
        _lun, info = self.new_volume(instance)
        self.assert_attach_leaves_nothing(instance, info)

    def test_detach_keeps_the_mappings_other_volumes_use(self):
        instance, _first, first_info = self.attached_volume()
        _second, second_info = self.new_volume(instance)
        self.attach(instance, second_info)
        mapped = self.vfc_mappings(instance)
        self.assertEqual(1, len(mapped))
        self.detach(instance, first_info)
        self.assertEqual(mapped, self.vfc_mappings(instance))
        # The last one too: the WWPNs stay the LPAR's for the next volume.
        self.detach(instance, second_info)
        self.assertEqual(mapped, self.vfc_mappings(instance))

    def test_maps_of_ports_not_on_this_host_are_derived_again(self):
        # As after the instance moved here: its WWPNs stay, their physical
        # ports are this host's.
        instance = self.running_instance()
        _lun, info = self.new_volume(instance)
        sysmeta = instance.system_metadata
        _port, first, second = sysmeta['npiv_adpt_wwpns_A'].split(',')
        sysmeta['npiv_adpt_wwpns_A'] = 'C0507600DEADBEEF,%s,%s' % (first,
                                                                   second)
        instance.save()
        self.attach(instance, info)
        [(_vios, port, wwpns)] = self.vfc_mappings(instance)
        self.assertEqual((first.lower(), second.lower()), wwpns)
        stored = self.reloaded(instance).system_metadata['npiv_adpt_wwpns_A']
        self.assertIn(stored.split(',')[0],
                      [p.wwpn for p in self.ports(port)])

    def test_extend_changes_nothing(self):
        instance, lun, info = self.attached_volume()
        mapped = self.vfc_mappings(instance)
        self.sim.model.san.grow(lun, 3)
        self.driver.extend_volume(self.context, info, instance, 3 * 1024 ** 3)
        self.assertEqual(mapped, self.vfc_mappings(instance))


class TestFailures(NPIVTestCase):

    def refuse_update_of(self, vios):
        return self.sim.faults.add(faults.FaultRule(
            outcome=faults.internal_error('VIOS update failed.'),
            method='POST', path='VirtualIOServer/%s' % vios.uuid,
            max_count=1))

    def test_a_vios_refusing_its_update_leaves_nothing(self):
        # Each fabric's port on another VIOS: one VIOS takes its update,
        # the other refuses it.
        self.use_fabrics(A='fcs0', B='fcs1')
        instance = self.running_instance()
        _lun, info = self.new_volume(instance)
        rule = self.refuse_update_of(self.sim.model.vioses(self.system)[1])
        err = self.assert_attach_leaves_nothing(instance, info)
        self.assertIn('VIOS update failed.', str(err))
        self.assertEqual(1, self.sim.faults.counters()['by_rule'][rule])

    def test_an_instance_that_cannot_be_saved_is_left_unmapped(self):
        # Gone from nova's database meanwhile: nothing would record the
        # mappings.
        instance = self.running_instance()
        _lun, info = self.new_volume(instance)
        self.useFixture(fx.MockPatchObject(
            instance, 'save', side_effect=exception.InstanceNotFound(
                instance_id=instance.uuid)))
        self.assert_attach_leaves_nothing(instance, info)

    def test_a_failed_second_attach_keeps_the_first_volumes_mappings(self):
        instance, _first, first_info = self.attached_volume()
        _second, second_info = self.new_volume(instance)
        mapped = self.vfc_mappings(instance)
        # The VIOS feed read of the mapping change (after the LPAR's and
        # the VIOSes' own) fails.
        self.sim.faults.add(faults.FaultRule(
            outcome=faults.internal_error(), method='GET',
            path='VirtualIOServer$', skip=1, max_count=1))
        self.assertRaises(exception.VolumeAttachFailed, self.attach,
                          instance, second_info)
        self.assertEqual(mapped, self.vfc_mappings(instance))


class TestSpawnAndDestroy(NPIVTestCase):

    def spawn_with_volumes(self, instance, *bdms):
        self.driver.spawn(self.context, instance, self.image_meta(), [],
                          None, {}, block_device_info=fixtures.
                          block_device_info(*bdms))

    def test_boot_from_a_volume_with_a_data_volume_and_destroy(self):
        instance = self.make_instance(task_state=task_states.SPAWNING)
        boot, boot_info = self.new_volume(instance)
        data, data_info = self.new_volume(instance)
        self.spawn_with_volumes(
            instance, fixtures.DriverBDM(boot_info, boot_index=0),
            fixtures.DriverBDM(data_info))
        self.assertEqual([], self.boot_vdisks())
        [(_vios, _port, wwpns)] = self.vfc_mappings(instance)
        self.assertEqual({wwpns}, self.client_adapter_wwpns(instance))
        self.assertCountEqual([boot, data], self.luns_seen(wwpns[:1]))
        # nova destroys an instance it deletes in this task state.
        instance.task_state = task_states.DELETING
        self.destroy_with_volumes(instance, boot_info, data_info)
        self.assert_no_vfc_left()
        self.assert_nothing_left(instance)

    def test_a_failed_spawn_leaves_no_mapping(self):
        self.sim.faults.add(faults.FaultRule(
            outcome=faults.JobFailure('HSCL0001 Activation failed.'),
            job='PowerOn'))
        instance = self.make_instance(task_state=task_states.SPAWNING)
        _lun, info = self.new_volume(instance)
        self.assertRaises(exception.InstancePowerOnFailure,
                          self.spawn_with_volumes, instance,
                          fixtures.DriverBDM(info))
        self.assert_no_vfc_left()
        self.assert_nothing_left(instance)

    def test_destroy_on_the_host_an_instance_left_removes_them(self):
        # After an evacuation the instance is another host's: this host
        # removes its old LPAR, whatever the task state.
        instance, _lun, info = self.attached_volume()
        instance.host = 'compute2'
        self.destroy_with_volumes(instance, info)
        self.assert_no_vfc_left()

    def test_destroy_after_the_last_volume_was_detached(self):
        # The LPAR kept its virtual FC ports when the volume went; nova
        # then deletes the instance with no volume left to disconnect.
        instance, _lun, info = self.attached_volume()
        self.detach(instance, info)
        self.assertNotEqual(set(), self.vfc_mappings(instance))
        self.driver.destroy(self.context, instance, [])
        self.assert_no_vfc_left()
        self.assert_nothing_left(instance)

    def test_destroy_while_nova_is_not_deleting(self):
        # Whatever the task state: the LPAR goes, so do its ports.
        instance, _lun, info = self.attached_volume()
        instance.task_state = None
        self.destroy_with_volumes(instance, info)
        self.assert_no_vfc_left()

    def test_detach_from_an_lpar_deleted_outside_nova(self):
        # Its VFC mappings lost their client adapters with it.
        instance, _lun, info = self.attached_volume()
        self.delete_outside_nova(instance)
        self.detach(instance, info)
        self.assert_no_vfc_left()

    def test_server_adapters_for_any_client_stay(self):
        # An administrator's server adapter that any client may connect
        # to has no client adapter either, on the instance's port.
        instance, _lun, info = self.attached_volume()
        [(vios_name, port_name, _wwpns)] = self.vfc_mappings(instance)
        [vios] = [vios for vios in self.sim.model.vioses(self.system)
                  if vios.name == vios_name]
        server = self.add_server_adapter_for_any_client(vios, port_name)
        self.delete_outside_nova(instance)
        self.detach(instance, info)
        self.assertEqual([server], [mapping.server
                                    for mapping in vios.fc_mappings])

    def delete_outside_nova(self, instance):
        lpar = self.lpar_of(instance)
        self.sim.model.set_partition_state(lpar, 'not activated')
        self.sim.model.delete_partition(lpar)

    def add_server_adapter_for_any_client(self, vios, port_name):
        model = self.sim.model
        with model.registry.lock:
            server = sim_mapping.VFCServerAdapter(
                vios=vios, slot=vios.allocate_slot(), name='vfchost99',
                remote_slot=pvm_stg.ANY_SLOT)
            [server.port] = [port for port in vios.fc_ports
                             if port.name == port_name]
            vios.adapters.append(server)
            vios.fc_mappings.append(sim_mapping.VFCMapping(server=server))
            model.registry.changed(vios, sim_mapping.FC_EVENT)
        return server


class NPIVCampaignTestCase(campaign.FaultCampaignTestCase, NPIVTestCase):

    def destroy_with(self, instance, info):
        instance.task_state = task_states.DELETING
        self.tracker.step = None
        self.destroy_with_volumes(instance, info)
        self.assert_no_vfc_left()


class TestAttachCampaign(NPIVCampaignTestCase):
    """Every call of an attach (the connector made the port maps before),
    failed in turn: attached, or VolumeAttachFailed and no VFC mapping or
    client adapter left."""

    def setUp(self):
        super().setUp()
        # Each fabric on another VIOS: two VIOS updates at once.
        self.use_fabrics(A='fcs0', B='fcs1')

    def prepared(self):
        instance = self.running_instance()
        return (instance,) + self.new_volume(instance)

    def run_attach(self, prepared, call, fault):
        instance, lun, info = prepared
        expected = (None if campaign.survivable(call)
                    else exception.VolumeAttachFailed)
        failed = self.ends_as(expected, self.attach, instance, info)
        if failed:
            self.assert_no_vfc_left()
        else:
            self.assertEqual([lun, lun], self.luns_seen(lun.initiators))
        self.destroy_with(instance, info)
        return failed

    def test_every_call_of_attach(self):
        calls = self.record(lambda prepared: self.attach(*prepared[::2]),
                            self.prepared,
                            lambda prepared: self.destroy_with(
                                *prepared[::2]))
        self.assertIn(('POST', 'connect_volume_0'), {
            (call.method, call.step) for call in calls})
        self.report('NPIV attach', self.campaign(calls, self.prepared,
                                                 self.run_attach))


class TestConnectorCampaign(NPIVCampaignTestCase):
    """Every call of the connector that makes an instance's port maps,
    failed in turn: pypowervm's error and nothing kept, or the WWPNs (a
    failed delete of the finished job is ridden out); the next connector
    is whole either way."""

    def setUp(self):
        super().setUp()
        # What a session looks up once (the system's UUID, the iSCSI
        # initiator) is known before the campaign.
        self.connector(self.make_instance())

    def run_connector(self, instance, call, fault):
        expected = None if campaign.survivable(call) else pvm_exc.Error
        failed = self.ends_as(expected, self.connector, instance)
        if failed:
            self.assertNotIn('npiv_adpt_wwpns_A',
                             self.reloaded(instance).system_metadata)
        wwpns = self.connector(instance)['wwpns']
        self.assertEqual(wwpns, self.connector(self.reloaded(instance))[
            'wwpns'])
        return failed

    def test_every_call_of_the_connector(self):
        calls = self.record(self.connector, self.make_instance,
                            lambda instance: None)
        self.assertIn(_GET_NEXT_WWPNS, {call.job for call in calls})
        self.report('NPIV volume connector', self.campaign(
            calls, self.make_instance, self.run_connector))
