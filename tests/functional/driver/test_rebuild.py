"""Rebuild and evacuate, driven as nova's compute manager drives them.

A rebuild on the instance's host replaces its boot disk with one of the
new image and keeps its LPAR (partition, adapters, volumes), its config
drive written anew.  An evacuate recreates the instance on another host
from its boot disk in a shared storage pool (or its boot volume) while its
own host is down; when that host comes back, nova's clean-up of evacuated
instances destroys the LPAR left there, and nothing the new host uses.
"""

import json

import fixtures as fx
from nova.compute import task_states
from nova import exception

from nova_powervm import media
from powervm_sim import faults
from tests.functional.driver import fixtures
from tests.functional.driver import test_media
from tests.functional.driver import test_resize


def with_fc_volume(test):
    """A running instance of ``test`` (a ResizeTestCase) with a Fibre
    Channel volume attached: (instance, LUN, connection_info,
    block_device_info)."""
    instance = test.spawned()
    test.sim.model.set_partition_state(test.lpar_of(instance), 'running',
                                       rmc_state='active')
    lun, info = test.fc_volume()
    test.attach(instance, info)
    return (instance, lun, info,
            fixtures.block_device_info(fixtures.DriverBDM(info)))


class NovaRebuilds:
    """nova's side of a rebuild (``rebuild_instance``): the task state the
    driver finds and leaves, and the volume callbacks of an evacuate.

    :param context: the request context.
    :param network_info: the instances' VIFs.
    """

    def __init__(self, context, network_info):
        self.context = context
        self.network_info = network_info
        # (what, volume BDMs) of each callback nova got.
        self.callbacks = []

    def rebuild(self, driver, instance, image_meta, block_device_info=None,
                evacuate=False, new_block_device_info=None, **kwargs):
        """driver.rebuild as nova calls it; on an evacuate, nova's
        callbacks move the volumes' attachments to this host and give
        ``new_block_device_info`` (default: the same)."""
        instance.task_state = task_states.REBUILDING
        instance.save()

        def detach(context, bdms, detach_root_bdm=True):
            self.callbacks.append(('detach', bdms))

        def attach(context, instance, bdms):
            self.callbacks.append(('attach', bdms))
            return new_block_device_info or block_device_info

        args = {'injected_files': [], 'admin_password': None}
        args.update(kwargs)
        driver.rebuild(
            self.context, instance, image_meta, allocations={}, bdms=[],
            detach_block_devices=detach, attach_block_devices=attach,
            network_info=self.network_info, evacuate=evacuate,
            block_device_info=block_device_info, **args)
        # What nova checks right after.
        self.assertEqual(task_states.REBUILD_SPAWNING, instance.task_state)
        instance.task_state = None
        instance.save()

    @staticmethod
    def assertEqual(expected, actual):
        if expected != actual:
            raise AssertionError('%r != %r' % (expected, actual))


class RebuildTestCase(test_resize.ResizeTestCase,
                      test_media.ConfigDriveTestCase):

    def setUp(self):
        super().setUp()
        self.nova_rebuilds = NovaRebuilds(self.context, self.network_info)
        self.new_data = fixtures.image_bytes(fixtures.IMAGE_SIZE + 4096,
                                             seed=b'new image')
        self.new_image = self.glance.add_image(self.new_data)

    def boot_disk(self, instance):
        """The simulator's boot disk of the instance (a logical volume or
        a logical unit), or None."""
        name = self.driver.disk_driver.disk_name(instance)
        found = [disk for disk in self.boot_vdisks() +
                 self.logical_units('VirtualIO_Disk') if disk.name == name]
        return found[0] if found else None

    def disk_bytes(self, instance, size):
        with self.sim.model.content.open_reader(
                self.boot_disk(instance).udid) as blob:
            return blob.read(size)

    def drive_metadata(self):
        [(_vios, medium)] = self.config_media()
        return json.loads(self.read_drive(medium)[
            '/openstack/latest/meta_data.json'])

    def rebuild(self, instance, image=None, **kwargs):
        self.nova_rebuilds.rebuild(
            self.driver, instance, self.image_meta(image or self.new_image),
            **kwargs)


class RebuildTests:
    """A rebuild on the instance's host, whatever the disk driver."""

    def test_the_boot_disk_gets_the_new_image_and_the_lpar_stays(self):
        instance = self.spawned()
        lpar = self.lpar_of(instance)
        adapters = sorted(cna.mac for cna in self.cnas_of(instance))
        old_disk = self.boot_disk(instance)
        self.assertEqual(self.image_data,
                         self.disk_bytes(instance, len(self.image_data)))
        instance.metadata = {'role': 'db'}
        instance.save()
        self.rebuild(instance, admin_password='n3w',
                     injected_files=[('/etc/motd', b'rebuilt\n')])
        # The same partition, with the same adapters, running.
        self.assertIs(lpar, self.lpar_of(instance))
        self.assertEqual('running', lpar.state)
        self.assertEqual(adapters,
                         sorted(cna.mac for cna in self.cnas_of(instance)))
        # A new disk holding the new image's bytes.
        self.assertIsNot(old_disk, self.boot_disk(instance))
        self.assertEqual(self.new_data,
                         self.disk_bytes(instance, len(self.new_data)))
        self.assert_whole(instance)
        # The config drive says what nova gave the rebuild.
        meta = self.drive_metadata()
        self.assertEqual(('n3w', {'role': 'db'}),
                         (meta['admin_pass'], meta['meta']))
        self.driver.destroy(self.context, instance, self.network_info)
        self.assert_nothing_left(instance)

    def test_nova_s_api_asks_every_rebuild_to_reimage_a_boot_volume(self):
        # From microversion 2.93 on; this one has none.
        instance = self.spawned()
        lpar = self.lpar_of(instance)
        self.rebuild(instance, reimage_boot_volume=True)
        self.assertIs(lpar, self.lpar_of(instance))
        self.assertEqual(self.new_data,
                         self.disk_bytes(instance, len(self.new_data)))

    def test_a_volume_stays_connected(self):
        instance, lun, info, bdi = with_fc_volume(self)
        hdisks = self.hdisks_of(lun)
        self.rebuild(instance, block_device_info=bdi)
        self.assert_volume_attached(instance, lun, info)
        self.assertEqual(hdisks, self.hdisks_of(lun))
        # Only an evacuate moves the attachments.
        self.assertEqual([], self.nova_rebuilds.callbacks)
        self.assertEqual(self.new_data,
                         self.disk_bytes(instance, len(self.new_data)))

    def test_a_stopped_instance_is_rebuilt_and_started(self):
        instance = self.spawned()
        self.driver.power_off(instance)
        self.rebuild(instance)
        # nova stops it again itself when it was stopped.
        self.assertEqual('running', self.lpar_of(instance).state)
        self.assert_whole(instance)

    def test_an_image_that_cannot_be_a_disk_leaves_the_instance_be(self):
        instance = self.spawned()
        old_disk = self.boot_disk(instance)
        image = self.glance.add_image(self.new_data, disk_format='qcow2')
        err = self.assertRaises(exception.InstanceFaultRollback,
                                self.rebuild, instance, image=image)
        self.assertIsInstance(err.inner_exception,
                              exception.BuildAbortException)
        self.assertIs(old_disk, self.boot_disk(instance))
        self.assertEqual(self.image_data,
                         self.disk_bytes(instance, len(self.image_data)))
        self.assertEqual('running', self.lpar_of(instance).state)
        self.assert_whole(instance)

    def test_a_failure_after_the_old_disk_went_is_rebuilt_again(self):
        instance = self.spawned()
        self.sim.faults.add(faults.FaultRule(
            job='PowerOn', outcome=faults.JobFailure('HSCL0001 Injected.'),
            max_count=1))
        self.assertRaises(exception.InstancePowerOnFailure, self.rebuild,
                          instance)
        # nova has it in ERROR; its LPAR is whole but for the disk.
        self.assertIsNone(self.boot_disk(instance))
        self.assertEqual('not activated', self.lpar_of(instance).state)
        self.rebuild(instance)
        self.assertEqual(self.new_data,
                         self.disk_bytes(instance, len(self.new_data)))
        self.assert_whole(instance)
        self.driver.destroy(self.context, instance, self.network_info)
        self.assert_nothing_left(instance)

    def test_an_instance_whose_deploy_failed_is_made_anew(self):
        instance = self.make_instance(config_drive='True')
        self.sim.faults.add(faults.FaultRule(
            job='PowerOn', outcome=faults.JobFailure('HSCL0001 Injected.'),
            max_count=1))
        self.assertRaises(exception.InstancePowerOnFailure, self.spawn_with,
                          self.network_info, instance=instance)
        # nova has it in ERROR, with no LPAR; a rebuild of it is allowed.
        self.assertIsNone(self.lpar_of(instance))
        self.rebuild(instance)
        self.assertEqual('running', self.lpar_of(instance).state)
        self.assertEqual(self.new_data,
                         self.disk_bytes(instance, len(self.new_data)))
        self.assert_whole(instance)
        self.driver.destroy(self.context, instance, self.network_info)
        self.assert_nothing_left(instance)

    def test_preserving_ephemeral_disks_is_refused(self):
        instance = self.spawned()
        err = self.assertRaises(exception.InstanceFaultRollback,
                                self.rebuild, instance,
                                preserve_ephemeral=True)
        self.assertIsInstance(err.inner_exception,
                              exception.PreserveEphemeralNotSupported)
        self.assertEqual(self.image_data,
                         self.disk_bytes(instance, len(self.image_data)))


class TestRebuildLocalDisk(RebuildTests, RebuildTestCase):
    pass


class TestRebuildSSP(RebuildTests, RebuildTestCase):

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def image_lus(self):
        return sorted(lu.name for lu in self.logical_units('VirtualIO_Image'))

    def test_a_marker_lu_of_a_failed_upload_goes(self):
        # pypowervm waits (30 to 60 s at a time, without end) while any
        # marker LU of the image is left: here it must find none.
        self.useFixture(fx.MockPatch(
            'pypowervm.tasks.cluster_ssp._sleep_for_upload',
            side_effect=AssertionError('waiting for an upload')))
        instance = self.spawned()
        # The first PUT of a LogicalUnit uploading the new image makes its
        # marker LU; the answer is lost.
        self.sim.faults.add(faults.FaultRule(
            method='PUT', path='/LogicalUnit$', max_count=1,
            outcome=faults.DropConnection(after_processing=True)))
        self.assertRaises(exception.InstanceFaultRollback, self.rebuild,
                          instance)
        self.assertEqual(self.image_lus(), [
            lu for lu in self.image_lus() if not lu.startswith('part')])
        self.rebuild(instance)
        self.assertEqual(self.new_data,
                         self.disk_bytes(instance, len(self.new_data)))

    def test_a_failed_look_up_keeps_the_image_cache(self):
        instance = self.spawned()
        # The new image's LU, which no disk is a clone of (yet).
        other = self.make_instance()
        self.spawn(other)
        self.rebuild(other)
        self.driver.destroy(self.context, other, self.network_info)
        image_lus = self.image_lus()
        # Reading the pool for the image fails: the rebuild is undone, and
        # the image's LU, complete, stays (the cache of every host).
        rule_id = self.sim.faults.add(faults.FaultRule(
            method='GET', path='/LogicalUnit$', max_count=1,
            outcome=faults.internal_error('Injected.')))
        self.assertRaises(exception.InstanceFaultRollback, self.rebuild,
                          instance)
        self.assertEqual(1, self.sim.faults.counters()['by_rule'][rule_id])
        self.assertEqual(image_lus, self.image_lus())
        self.assertEqual(self.image_data,
                         self.disk_bytes(instance, len(self.image_data)))


class TestRebuildFromVolume(RebuildTestCase):
    """An instance booted from a volume has no boot disk to replace."""

    def setUp(self):
        super().setUp()
        self.lun, info = self.fc_volume()
        self.bdi = fixtures.block_device_info(
            fixtures.DriverBDM(info, boot_index=0))
        self.info = info
        self.instance = self.make_instance(config_drive='True')
        self.driver.spawn(self.context, self.instance, self.image_meta(), [],
                          None, {}, network_info=self.network_info,
                          block_device_info=self.bdi)

    def test_the_lpar_and_volume_stay_and_the_config_drive_is_new(self):
        lpar = self.lpar_of(self.instance)
        self.rebuild(self.instance, image=self.image,
                     block_device_info=self.bdi, admin_password='n3w')
        self.assertIs(lpar, self.lpar_of(self.instance))
        self.assertEqual('running', lpar.state)
        self.assert_volume_attached(self.instance, self.lun, self.info)
        self.assertEqual('n3w', self.drive_metadata()['admin_pass'])
        self.assertEqual([], self.boot_vdisks())

    def test_a_boot_volume_to_reimage_is_nova_s_own_rebuild(self):
        # nova's default: destroy, Cinder's reimage, spawn.
        self.assertRaises(NotImplementedError, self.rebuild, self.instance,
                          block_device_info=self.bdi,
                          reimage_boot_volume=True)
        self.assertEqual('running', self.lpar_of(self.instance).state)


class EvacuateTestCase(test_resize.TwoHostsTestCase):
    """The instance's host (``self.driver``, system 0) is down; nova
    recreates the instance on ``self.dest`` (system 1)."""

    def setUp(self):
        super().setUp()
        self.nova_rebuilds = NovaRebuilds(self.context, self.network_info)

    def evacuate(self, instance, block_device_info=None,
                 new_block_device_info=None):
        """nova's rebuild on the destination, then what it records: the
        instance is the destination's."""
        self.nova_rebuilds.rebuild(
            self.dest, instance, instance.image_meta,
            block_device_info=block_device_info, evacuate=True,
            new_block_device_info=new_block_device_info)
        instance.host = test_resize.DEST_HOST
        instance.save()

    def connection_for(self, index, lun, info, boot_index=None):
        """The BDM of ``lun`` as Cinder gives it for system ``index``'s
        connector: the initiator-target map of its VIOSes' ports alone."""
        ports = {port.wwpn.lower() for vios in self.sim.model.vioses(
            self.sim.endpoints[index].system) for port in vios.fc_ports}
        data = lun.connection_data()
        data['initiator_target_map'] = {
            port: targets
            for port, targets in data['initiator_target_map'].items()
            if port.lower() in ports}
        self.assertTrue(data['initiator_target_map'])
        return fixtures.block_device_info(fixtures.DriverBDM(
            dict(info, data=data), boot_index=boot_index))

    def come_back(self, instance, block_device_info=None):
        """The source's nova-compute starts again: nova's clean-up of the
        instances evacuated from it destroys their LPARs, with the disks
        unless the two hosts share storage (_destroy_evacuated_instances).
        """
        data = self.driver.check_instance_shared_storage_local(
            self.context, instance)
        shared = self.dest.check_instance_shared_storage_remote(
            self.context, data) if data else True
        self.driver.destroy(self.context, instance, self.network_info,
                            block_device_info, destroy_disks=not shared)


class TestEvacuateSharedSSP(EvacuateTestCase):

    SHARED_SSP = True
    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def test_the_instance_is_recreated_from_its_disk(self):
        instance = self.spawned()
        lu = self.boot_lu(instance)
        before = self.footprint(0, instance)
        self.assertTrue(self.dest.instance_on_disk(instance))
        self.evacuate(instance)
        # The same UUID and flavor, everything the source had: VIFs, the
        # same LU mapped from the destination's VIOSes, a config drive of
        # its own.
        self.assertEqual(before, self.footprint(1, instance))
        self.assert_lpar_has(instance, 2048, 2)
        self.assertIs(lu, self.boot_lu(instance))
        with self.sim.model.content.open_reader(lu.udid) as blob:
            self.assertEqual(self.image_data,
                             blob.read(len(self.image_data)))
        # The source, down, still has its LPAR.
        self.assertEqual(before, self.footprint(0, instance))
        self.come_back(instance)
        self.assertEqual(self.NOTHING, self.footprint(0, instance))
        self.assertEqual(before, self.footprint(1, instance))
        self.assertIs(lu, self.boot_lu(instance))
        self.dest.destroy(self.context, instance, self.network_info)
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assertEqual([], self.logical_units('VirtualIO_Disk'))

    def test_the_returning_host_leaves_the_disk_even_told_to_delete(self):
        instance = self.spawned()
        lu = self.boot_lu(instance)
        self.evacuate(instance)
        after = self.footprint(1, instance)
        self.driver.destroy(self.context, instance, self.network_info,
                            destroy_disks=True)
        self.assertEqual(self.NOTHING, self.footprint(0, instance))
        self.assertEqual(after, self.footprint(1, instance))
        self.assertIs(lu, self.boot_lu(instance))

    def test_a_failure_leaves_nothing_here_and_the_source_whole(self):
        instance = self.spawned()
        before = self.footprint(0, instance)
        self.sim.faults.add(faults.FaultRule(
            job='PowerOn', outcome=faults.JobFailure('HSCL0001 Injected.'),
            max_count=1))
        self.assertRaises(exception.InstancePowerOnFailure, self.evacuate,
                          instance)
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assertEqual(before, self.footprint(0, instance))
        # nova marks the migration failed: the source keeps the instance,
        # and evacuating again works.
        self.evacuate(instance)
        self.assertEqual(before, self.footprint(1, instance))

    def test_a_volume_moves_to_the_destination(self):
        instance, lun, info, bdi = with_fc_volume(self)
        new_bdi = self.connection_for(1, lun, info)
        self.evacuate(instance, bdi, new_block_device_info=new_bdi)
        self.assertEqual(['detach', 'attach'],
                         [what for what, _ in self.nova_rebuilds.callbacks])
        lpar_id = self.lpar_on(1, instance).partition_id
        self.assertEqual({lpar_id}, {
            partition for _hdisk, partition
            in self.volume_on(1, lun).values()})
        # The source's nova-compute, back, destroys with what nova has:
        # the destination's connection_info.
        self.assertEqual(2, len(self.volume_on(0, lun)))
        self.come_back(instance, new_bdi)
        self.assertEqual({}, self.volume_on(0, lun))
        self.assertEqual(2, len(self.volume_on(1, lun)))


class TestEvacuateLocalDisk(EvacuateTestCase):
    """A boot disk in a volume group is only on its own host."""

    def test_an_evacuate_is_refused_before_anything_changes(self):
        instance = self.spawned()
        before = self.footprint(0, instance)
        self.assertFalse(self.dest.instance_on_disk(instance))
        err = self.assertRaises(exception.InstanceFaultRollback,
                                self.evacuate, instance)
        self.assertIsInstance(err.inner_exception,
                              exception.BuildAbortException)
        self.assertIn('volume group', str(err.inner_exception))
        self.assertEqual([], self.nova_rebuilds.callbacks)
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assertEqual(before, self.footprint(0, instance))

    def test_an_instance_booted_from_a_volume_is_evacuated(self):
        lun, info = self.fc_volume()
        bdi = fixtures.block_device_info(fixtures.DriverBDM(info,
                                                            boot_index=0))
        instance = self.make_instance(config_drive='True')
        self.driver.spawn(self.context, instance, self.image_meta(), [],
                          None, {}, network_info=self.network_info,
                          block_device_info=bdi)
        before = self.footprint(0, instance)
        new_bdi = self.connection_for(1, lun, info, boot_index=0)
        self.evacuate(instance, bdi, new_block_device_info=new_bdi)
        self.assertEqual(before, self.footprint(1, instance))
        self.assertEqual(2, len(self.volume_on(1, lun)))
        self.assertEqual(2, len(self.volume_on(0, lun)))
        self.come_back(instance, new_bdi)
        self.assertEqual(self.NOTHING, self.footprint(0, instance))
        self.assertEqual({}, self.volume_on(0, lun))
        self.assertEqual(before, self.footprint(1, instance))
        self.assertTrue(media.required(instance))


class TestEvacuateBetweenSeparatePools(EvacuateTestCase):

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def test_a_disk_the_destination_does_not_reach_is_refused(self):
        instance = self.spawned()
        self.assertFalse(self.dest.instance_on_disk(instance))
        err = self.assertRaises(exception.InstanceFaultRollback,
                                self.evacuate, instance)
        self.assertIn('not in the shared storage pool',
                      str(err.inner_exception))
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
