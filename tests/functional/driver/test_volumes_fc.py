"""Fibre Channel volumes over vSCSI: attach, detach, extend, spawn with
volumes and from a volume, destroy; checked in the simulator's model (the
hdisks the VIOSes discovered and what maps them to which partition)."""

import functools

from nova import exception

from nova_powervm.volume import hdisk as pvm_hdisk
from powervm_sim import faults
from tests.functional.driver import fixtures
from tests.functional.driver import test_concurrent_spawns


class FCVolumeTestCase(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.flags(fc_attach_strategy='vscsi', group='powervm')


class TestAttachDetach(FCVolumeTestCase):

    def test_attach_to_a_running_lpar_from_both_vioses(self):
        instance = self.running_instance()
        lun, info = self.fc_volume()
        self.attach(instance, info)
        self.assert_volume_attached(instance, lun, info)
        self.detach(instance, info)
        self.assert_volume_gone(lun)
        self.assertIsNotNone(self.lpar_of(instance))

    def test_attach_to_a_stopped_lpar(self):
        instance = self.make_instance()
        self.spawn(instance, power_on=False)
        lun, info = self.fc_volume()
        self.attach(instance, info)
        self.assert_volume_attached(instance, lun, info)
        self.detach(instance, info)
        self.assert_volume_gone(lun)

    def test_a_lun_only_one_vios_reaches_is_mapped_by_it(self):
        instance = self.running_instance()
        vios = self.sim.model.vioses(self.system)[0]
        lun, info = self.fc_volume(vioses=[vios])
        self.attach(instance, info)
        self.assert_volume_attached(instance, lun, info, vioses=1)
        self.assertEqual([vios.name], list(self.mapped_to(lun)))

    def test_too_few_vioses_reaching_it_changes_nothing(self):
        self.flags(vscsi_vios_connections_required=2, group='powervm')
        instance = self.running_instance()
        vios = self.sim.model.vioses(self.system)[0]
        lun, info = self.fc_volume(vioses=[vios])
        err = self.assertRaises(exception.VolumeAttachFailed, self.attach,
                                instance, info)
        self.assertIn('1 Virtual I/O Server(s) reach it; 2 must', str(err))
        self.assert_volume_gone(lun)

    def test_a_running_lpar_without_rmc_is_refused_untouched(self):
        instance = self.make_instance()
        self.spawn(instance)
        self.sim.model.set_partition_state(self.lpar_of(instance), 'running',
                                           rmc_state='inactive')
        lun, info = self.fc_volume()
        self.assertRaises(exception.VolumeAttachFailed, self.attach,
                          instance, info)
        self.assert_volume_gone(lun)

    def test_detach_without_the_udid_finds_the_hdisks_again(self):
        # A volume attached by a driver that kept no UDID.
        instance = self.running_instance()
        lun, info = self.fc_volume()
        self.attach(instance, info)
        del info['data'][pvm_hdisk.UDID_KEY]
        self.detach(instance, info)
        self.assert_volume_gone(lun)

    def test_detach_twice_is_fine(self):
        instance = self.running_instance()
        lun, info = self.fc_volume()
        self.attach(instance, info)
        self.detach(instance, info)
        self.detach(instance, info)
        self.assert_volume_gone(lun)

    def test_two_volumes_keep_apart(self):
        instance = self.running_instance()
        first, first_info = self.fc_volume()
        second, second_info = self.fc_volume()
        self.attach(instance, first_info)
        self.attach(instance, second_info)
        self.detach(instance, first_info)
        self.assert_volume_gone(first)
        self.assert_volume_attached(instance, second, second_info)

    def test_extend_shows_the_vioses_the_new_size(self):
        instance = self.running_instance()
        lun, info = self.fc_volume(size_gb=1)
        self.attach(instance, info)
        self.sim.model.san.grow(lun, 3)
        self.driver.extend_volume(self.context, info, instance, 3 * 1024 ** 3)
        self.assertEqual({3 * 1024}, {
            pv.capacity_mb for vios in self.sim.model.vioses(self.system)
            for pv in vios.physical_volumes if pv.udid == lun.udid})


class TestRefusals(FCVolumeTestCase):
    """A volume the driver cannot attach is refused before anything
    changes."""

    def test_unknown_kind_of_volume(self):
        instance = self.running_instance()
        self.assertRaises(exception.VolumeDriverNotFound, self.attach,
                          instance, {'driver_volume_type': 'fake',
                                     'serial': 'vol', 'data': {}})

    def test_fc_without_an_initiator_target_map(self):
        instance = self.running_instance()
        lun, info = self.fc_volume()
        del info['data']['initiator_target_map']
        err = self.assertRaises(exception.InvalidVolume, self.attach,
                                instance, info)
        self.assertIn('initiator_target_map', str(err))
        self.assert_volume_gone(lun)

    def test_encrypted_volume(self):
        instance = self.running_instance()
        lun, info = self.fc_volume()
        self.assertRaises(
            exception.VolumeEncryptionNotSupported,
            self.driver.attach_volume, self.context, info, instance,
            '/dev/sdb', encryption={'provider': 'luks'})
        self.assert_volume_gone(lun)


class TestSpawnAndDestroy(FCVolumeTestCase):

    def spawn_with_volumes(self, instance, *bdms):
        self.driver.spawn(self.context, instance, self.image_meta(), [],
                          None, {},
                          block_device_info=fixtures.block_device_info(*bdms))

    def destroy_with_volumes(self, instance, *bdms):
        self.driver.destroy(
            self.context, instance, [],
            block_device_info=fixtures.block_device_info(*bdms))

    def test_spawn_with_a_data_volume_and_destroy(self):
        instance = self.make_instance()
        lun, info = self.fc_volume()
        bdm = fixtures.DriverBDM(info)
        self.spawn_with_volumes(instance, bdm)
        self.assert_volume_attached(instance, lun, info)
        self.assertEqual(1, len(self.boot_vdisks()))
        self.assertEqual(lun.udid, bdm.saved[-1][pvm_hdisk.UDID_KEY])
        self.destroy_with_volumes(instance, bdm)
        self.assert_volume_gone(lun)
        self.assert_nothing_left(instance)

    def test_boot_from_volume_makes_no_boot_disk(self):
        instance = self.make_instance()
        boot, boot_info = self.fc_volume(size_gb=10)
        data, data_info = self.fc_volume()
        bdms = [fixtures.DriverBDM(data_info),
                fixtures.DriverBDM(boot_info, boot_index=0)]
        self.spawn_with_volumes(instance, *bdms)
        self.assertEqual([], self.boot_vdisks())
        self.assert_volume_attached(instance, boot, boot_info)
        self.assert_volume_attached(instance, data, data_info)
        self.destroy_with_volumes(instance, *bdms)
        self.assert_volume_gone(boot)
        self.assert_volume_gone(data)
        self.assert_nothing_left(instance)

    def test_a_failed_volume_reverts_the_whole_spawn(self):
        self.flags(vscsi_vios_connections_required=2, group='powervm')
        instance = self.make_instance()
        good, good_info = self.fc_volume()
        vios = self.sim.model.vioses(self.system)[0]
        bad, bad_info = self.fc_volume(vioses=[vios])
        self.assertRaises(exception.VolumeAttachFailed,
                          self.spawn_with_volumes, instance,
                          fixtures.DriverBDM(good_info),
                          fixtures.DriverBDM(bad_info))
        self.assert_volume_gone(good)
        self.assert_volume_gone(bad)
        self.assert_nothing_left(instance)

    def test_destroy_of_an_lpar_deleted_outside_nova(self):
        instance = self.running_instance()
        lun, info = self.fc_volume()
        self.attach(instance, info)
        lpar = self.lpar_of(instance)
        self.sim.model.set_partition_state(lpar, 'not activated')
        self.sim.model.delete_partition(lpar)
        self.destroy_with_volumes(instance, fixtures.DriverBDM(info))
        self.assert_volume_gone(lun)
        self.assert_nothing_left(instance)


class TestOrphans(FCVolumeTestCase):

    def test_init_host_unmaps_the_volume_of_an_lpar_deleted_outside_nova(self):
        instance = self.running_instance()
        lun, info = self.fc_volume()
        self.attach(instance, info)
        lpar = self.lpar_of(instance)
        self.sim.model.set_partition_state(lpar, 'not activated')
        self.sim.model.delete_partition(lpar)
        other = self.running_instance()
        kept, kept_info = self.fc_volume()
        self.attach(other, kept_info)
        self.driver.init_host(fixtures.HOST)
        self.assertEqual({}, self.mapped_to(lun))
        # The hdisks stay: a VIOS's disks include its own, which nothing
        # maps either; the next attach of the LUN finds them.
        self.assertEqual(2, len(self.hdisks_of(lun)))
        self.assert_volume_attached(other, kept, kept_info)


class TestConcurrentAttaches(FCVolumeTestCase):
    """Ten attaches on one VIOS at once, then ten detaches: their hdisk
    discoveries and mapping updates race, and none may be lost."""

    ATTACHES = 10

    def test_ten_attaches_and_detaches_at_once(self):
        vios = self.sim.model.vioses(self.system)[0]
        instances = [self.running_instance() for _ in range(2)]
        volumes = [(instances[number % 2],) + self.fc_volume(vioses=[vios])
                   for number in range(self.ATTACHES)]
        # The first VIOS updates meet a change made since their read,
        # whether or not the threads happened to overlap.
        conflicts = self.sim.faults.add(faults.FaultRule(
            outcome=faults.EtagConflict(), method='POST',
            resource_type='VirtualIOServer', max_count=3))
        test_concurrent_spawns.run_together(self, [
            functools.partial(self.attach, instance, info)
            for instance, _lun, info in volumes])
        self.assertEqual(3, self.sim.faults.counters()['by_rule'][conflicts])
        for instance, lun, info in volumes:
            self.assert_volume_attached(instance, lun, info, vioses=1)
        test_concurrent_spawns.run_together(self, [
            functools.partial(self.detach, instance, info)
            for instance, _lun, info in volumes])
        for _instance, lun, _info in volumes:
            self.assert_volume_gone(lun)
