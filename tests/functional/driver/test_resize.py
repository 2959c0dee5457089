"""Resize and cold migration, driven as nova's compute manager drives them.

nova moves an instance in steps, each on one host: the source stops it and
lets go of it (``migrate_disk_and_power_off``), the destination brings it
up with the new flavor (``finish_migration``); later the source forgets it
(``confirm_migration``), or the destination lets go of it (``destroy``) and
the source brings it back as it was (``finish_revert_migration``).  The
tests below take those steps in nova's order, with what nova changes on
the instance in between, against one simulated system (a resize on the
same host) or two (a move).
"""

from nova.compute import task_states
from nova import conf as nova_conf
from nova import exception
from nova import objects

from nova_powervm import conf
from nova_powervm import vm
from powervm_sim import faults
from powervm_sim import platform as sim_platform
from tests.functional.driver import fixtures

CONF = nova_conf.CONF
GIB = 1024 ** 3


def flavor_of(memory_mb=4096, vcpus=4, root_gb=2, extra_specs=None,
              **fields):
    """A flavor to resize to, named after its sizes; ``fields`` are its
    other fields (an ``id``, or the ``context`` to create it in)."""
    name = 'pvm.%d.%d.%d' % (memory_mb, vcpus, root_gb)
    return objects.Flavor(
        name=name, flavorid=name, memory_mb=memory_mb, vcpus=vcpus,
        root_gb=root_gb, ephemeral_gb=0, swap=0,
        extra_specs=extra_specs or {}, is_public=True, disabled=False,
        rxtx_factor=1.0, vcpu_weight=0, **fields)


class NovaMoves:
    """nova's side of a resize or a cold migration, as its compute manager
    takes it: the migration record, what nova changes on the instance
    between the driver's steps, and the steps on the hosts' drivers.

    :param context: the request context.
    :param network_info: the instances' VIFs.
    :param image_meta: their image's ImageMeta.
    """

    def __init__(self, context, network_info, image_meta):
        self.context = context
        self.network_info = network_info
        self.image_meta = image_meta

    def start(self, instance, flavor, dest_host):
        """The migration record and the instance's migration context, as
        nova's resize claim on the destination leaves them."""
        migration = objects.Migration(
            context=self.context, instance_uuid=instance.uuid,
            source_compute=instance.host, source_node=instance.host,
            dest_compute=dest_host, dest_node=dest_host, dest_compute_id=1,
            dest_host=CONF.my_ip, status='pre-migrating',
            migration_type=('resize' if flavor.id != instance.flavor.id
                            else 'migration'),
            old_instance_type_id=instance.flavor.id,
            new_instance_type_id=flavor.id)
        migration.create()
        instance.migration_context = objects.MigrationContext(
            instance_uuid=instance.uuid, migration_id=migration.id)
        instance.new_flavor = flavor
        instance.task_state = task_states.RESIZE_MIGRATING
        instance.save()
        return migration

    def migrate(self, driver, instance, flavor, block_device_info=None):
        """The source's step (resize_instance)."""
        return driver.migrate_disk_and_power_off(
            self.context, instance, CONF.my_ip, flavor, self.network_info,
            block_device_info)

    def finish(self, driver, instance, migration, disk_info,
               block_device_info=None, power_on=True):
        """The destination's step (finish_resize): the instance is the
        destination's and has the new flavor."""
        instance.old_flavor = instance.flavor
        instance.flavor = instance.new_flavor
        instance.host = migration.dest_compute
        instance.task_state = task_states.RESIZE_FINISH
        instance.save()
        driver.finish_migration(
            self.context, migration, instance, disk_info, self.network_info,
            self.image_meta, True, {}, block_device_info, power_on=power_on)

    def move(self, source, dest, instance, flavor, dest_host,
             block_device_info=None):
        """Both steps of a resize (or a cold migration, to the instance's
        own flavor) to ``dest_host``; returns the migration."""
        migration = self.start(instance, flavor, dest_host)
        disk_info = self.migrate(source, instance, flavor, block_device_info)
        self.finish(dest, instance, migration, disk_info, block_device_info)
        return migration

    def confirm(self, source, instance, migration):
        """confirm_resize on the source."""
        source.confirm_migration(self.context, migration, instance,
                                 self.network_info)
        instance.old_flavor = instance.new_flavor = None
        instance.task_state = None
        instance.save()

    def revert(self, source, dest, instance, migration,
               block_device_info=None):
        """revert_resize on the destination, finish_revert_resize on the
        source; nova keeps the disks when the two share storage."""
        instance.task_state = task_states.RESIZE_REVERTING
        instance.save()
        data = dest.check_instance_shared_storage_local(self.context,
                                                        instance)
        shared = source.check_instance_shared_storage_remote(
            self.context, data) if data else True
        dest.destroy(self.context, instance, self.network_info,
                     block_device_info, destroy_disks=not shared)
        instance.flavor = instance.old_flavor
        instance.host = migration.source_compute
        instance.save()
        source.finish_revert_migration(
            self.context, instance, self.network_info, migration,
            block_device_info, power_on=True)


class ResizeTestCase(fixtures.DriverTestCase):
    """Resizes of instances of the driver under test (``self.driver``, the
    source and, on one host, the destination too)."""

    def setUp(self):
        super().setUp()
        self.network_info = [fixtures.sea_vif(1), fixtures.ovs_vif(2)]
        self.nova = NovaMoves(self.context, self.network_info,
                              self.image_meta())

    def spawned(self, **fields):
        """A running instance with a config drive and two VIFs."""
        instance = self.make_instance(config_drive='True', **fields)
        self.spawn_with(self.network_info, instance=instance)
        return instance

    def flavor(self, **sizes):
        """A saved flavor to resize to (one of each size)."""
        flavor = flavor_of(context=self.context, **sizes)
        flavor.create()
        return flavor

    def resize(self, instance, flavor, block_device_info=None):
        """A resize on the instance's host; returns the migration."""
        return self.nova.move(self.driver, self.driver, instance, flavor,
                              fixtures.HOST, block_device_info)

    def confirm(self, instance, migration):
        self.nova.confirm(self.driver, instance, migration)

    def revert(self, instance, migration, block_device_info=None):
        self.nova.revert(self.driver, self.driver, instance, migration,
                         block_device_info)

    # ------------------------------------------------------------ checks
    def boot_disk_gb(self, instance):
        name = self.driver.disk_driver.disk_name(instance)
        found = [disk.capacity_gb for disk in self.boot_vdisks() +
                 self.logical_units('VirtualIO_Disk') if disk.name == name]
        self.assertEqual(1, len(found))
        return found[0]

    def assert_lpar_has(self, instance, memory_mb, vcpus, state='running'):
        lpar = self.lpar_of(instance)
        self.assertEqual((memory_mb, vcpus, state),
                         (lpar.mem_desired, lpar.vprocs_desired, lpar.state))

    def assert_whole(self, instance):
        """Every VIF, the management adapter, the config drive and the boot
        disk are the LPAR's."""
        self.assertEqual(len(self.network_info),
                         len(self.client_cnas(instance)))
        self.assertEqual(1, len(self.mgmt_cnas(instance)))
        lpar_id = self.lpar_of(instance).partition_id
        self.assertEqual(1, len(self.vopt_mappings(lpar_id)))
        # From each VIOS that serves the boot disk.
        self.assertEqual(dict.fromkeys(self.driver.disk_driver.vios_uuids,
                                       lpar_id), {
            mapping.server.vios.uuid.upper(): mapping.server.remote_lpar_id
            for mapping in self.disk_mappings()
            if mapping.storage.name.startswith('b_')})


class SameHostResizeTests:
    """A resize on the host the instance runs on, whatever the disk
    driver."""

    def test_resize_up_applies_the_flavor_and_grows_the_disk(self):
        instance = self.spawned()
        partition_id = self.lpar_of(instance).partition_id
        flavor = self.flavor(extra_specs={
            'powervm:proc_units': '0.8', 'powervm:uncapped': 'false',
            'powervm:availability_priority': '200'})
        self.resize(instance, flavor)
        self.assert_lpar_has(instance, 4096, 4)
        lpar = self.lpar_of(instance)
        # Updated in place: the same partition, with the flavor's specs.
        self.assertEqual(partition_id, lpar.partition_id)
        self.assertEqual((0.8, 'capped', 200), (
            lpar.proc_units_desired, lpar.sharing_mode,
            lpar.availability_priority))
        self.assertEqual(2.0, self.boot_disk_gb(instance))
        self.assert_whole(instance)
        self.assertEqual([lpar], self.client_lpars())

    def test_power_on_false_leaves_the_resized_lpar_off(self):
        instance = self.spawned()
        migration = self.nova.start(instance, self.flavor(), fixtures.HOST)
        disk_info = self.nova.migrate(self.driver, instance,
                                      instance.new_flavor)
        self.assert_lpar_has(instance, 2048, 2, state='not activated')
        self.nova.finish(self.driver, instance, migration, disk_info,
                    power_on=False)
        self.assert_lpar_has(instance, 4096, 4, state='not activated')

    def test_a_smaller_root_disk_is_refused_before_anything_changes(self):
        instance = self.spawned()
        instance.flavor.root_gb = instance.root_gb = 3
        instance.save()
        before = self.boot_disk_gb(instance)
        self.nova.start(instance, self.flavor(root_gb=2), fixtures.HOST)
        err = self.assertRaises(exception.InstanceFaultRollback,
                                self.nova.migrate, self.driver, instance,
                                instance.new_flavor)
        self.assertIsInstance(err.inner_exception, exception.ResizeError)
        self.assertIn('root disk', str(err.inner_exception))
        self.assert_lpar_has(instance, 2048, 2)
        self.assertEqual(before, self.boot_disk_gb(instance))
        self.assert_whole(instance)

    def test_confirm_keeps_the_resized_lpar(self):
        instance = self.spawned()
        migration = self.resize(instance, self.flavor())
        self.confirm(instance, migration)
        self.assert_lpar_has(instance, 4096, 4)
        self.assert_whole(instance)

    def test_revert_gives_back_the_old_flavor_and_keeps_the_disk(self):
        instance = self.spawned()
        partition_id = self.lpar_of(instance).partition_id
        migration = self.resize(instance, self.flavor())
        self.revert(instance, migration)
        self.assert_lpar_has(instance, 2048, 2)
        self.assertEqual(partition_id, self.lpar_of(instance).partition_id)
        # A disk does not shrink: it keeps the size it grew to.
        self.assertEqual(2.0, self.boot_disk_gb(instance))
        self.assert_whole(instance)

    def test_a_volume_is_let_go_and_connected_again(self):
        instance = self.spawned()
        self.sim.model.set_partition_state(self.lpar_of(instance), 'running',
                                           rmc_state='active')
        lun, info = self.fc_volume()
        self.attach(instance, info)
        bdm = fixtures.DriverBDM(info)
        bdi = fixtures.block_device_info(bdm)
        migration = self.nova.start(instance, self.flavor(), fixtures.HOST)
        disk_info = self.nova.migrate(self.driver, instance,
                                      instance.new_flavor, bdi)
        # Stopped, and its volume released: nova ends the volume's
        # connection to this host before the next step.
        self.assert_volume_gone(lun)
        self.nova.finish(self.driver, instance, migration, disk_info, bdi)
        self.assert_volume_attached(instance, lun, info)
        self.revert(instance, migration, block_device_info=bdi)
        self.assert_volume_attached(instance, lun, info)
        self.assert_lpar_has(instance, 2048, 2)


class TestSameHostResizeLocalDisk(SameHostResizeTests, ResizeTestCase):
    pass


class TestSameHostResizeSSP(SameHostResizeTests, ResizeTestCase):

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}


DEST_HOST = 'compute2'


class TwoHostsTestCase(ResizeTestCase):
    """Two managed systems, each with its compute host: ``self.driver``
    on the first (the source), ``self.dest`` on the second."""

    SYSTEMS = 2
    # The compute hosts of the systems, in order.
    HOSTS = (fixtures.HOST, DEST_HOST)

    def setUp(self):
        super().setUp()
        self.dest = self.useFixture(fixtures.DriverFixture(
            self.sim, index=1, host=DEST_HOST,
            **self.DRIVER_OPTIONS)).driver
        self.drivers = (self.driver, self.dest)

    def lpar_of(self, instance):
        """The instance's LPAR on the system of its host (nova's
        ``instance.host``): while a move waits for nova's confirmation,
        both systems have one."""
        return self.lpar_on(self.HOSTS.index(instance.host), instance)

    def lpar_on(self, index, instance):
        """The instance's LPAR on system ``index``, or None."""
        return self.sim.model.registry.find(
            vm.get_pvm_uuid(instance), 'LogicalPartition',
            within=self.sim.endpoints[index].system)

    def move(self, instance, flavor, block_device_info=None):
        return self.nova.move(self.driver, self.dest, instance, flavor,
                              DEST_HOST, block_device_info)

    def revert_move(self, instance, migration, block_device_info=None):
        self.nova.revert(self.driver, self.dest, instance, migration,
                         block_device_info)

    def footprint(self, index, instance):
        """What of ``instance`` system ``index`` holds, in terms that do not
        name the system: its LPAR's state and adapters, the storage its
        VIOSes map (one entry a mapping) and what serves the LPAR (vSCSI
        server adapters, config drive media, trunk adapters, Open vSwitch
        ports)."""
        system = self.sim.endpoints[index].system
        model = self.sim.model
        lpar = self.lpar_on(index, instance)
        cnas = [] if lpar is None else model.cnas(lpar)
        vioses = model.vioses(system)
        return {
            'lpar': None if lpar is None else lpar.state,
            # The RMC management adapter's MAC is NovaLink's choice.
            'adapters': sorted(
                (cna.vswitch.name, None if cna.vswitch.name == 'MGMTSWITCH'
                 else cna.mac) for cna in cnas),
            'mappings': sorted(
                mapping.storage.name for vios in vioses
                for mapping in vios.scsi_mappings
                if mapping.storage is not None),
            'vscsi server adapters': len([
                adapter for vios in vioses for adapter in vios.adapters
                if adapter.kind == 'VirtualSCSIServerAdapter']),
            'config media': sorted(
                medium.name for vios in vioses for vg in vios.volume_groups
                for repo in vg.media_repositories for medium in repo.media
                if medium.name.startswith('cfg_')),
            'trunks': len([cna for cna in model.cnas(system.mgmt_partition)
                           if cna.is_trunk and
                           cna.vswitch.name == 'NovaLinkVEABridge']),
            'ovs ports': sim_platform.partition_of(
                self.drivers[index].adapter).ovs_ports(),
        }

    NOTHING = {'lpar': None, 'adapters': [], 'mappings': [],
               'vscsi server adapters': 0, 'config media': [], 'trunks': 0,
               'ovs ports': {}}

    def stopped(self, footprint):
        return dict(footprint, lpar='not activated')

    def volume_on(self, index, lun):
        """{VIOS name: (hdisk name, partition ID it is mapped to or None)}
        of system ``index``'s VIOSes that have an hdisk of ``lun``."""
        found = {}
        for vios in self.sim.model.vioses(self.sim.endpoints[index].system):
            for pv in vios.physical_volumes:
                if pv.udid == lun.udid:
                    found[vios.name] = (pv.name, next((
                        mapping.server.remote_lpar_id
                        for mapping in vios.scsi_mappings
                        if mapping.pv is pv), None))
        return found

    def boot_lu(self, instance):
        """The instance's boot disk, a logical unit of the shared pool."""
        name = self.driver.disk_driver.disk_name(instance)
        [lu] = [lu for lu in self.logical_units('VirtualIO_Disk')
                if lu.name == name]
        return lu

    def systems_with_lpar(self, instance):
        """The indexes of the systems with an LPAR of the instance."""
        return [index for index in range(self.SYSTEMS)
                if self.lpar_on(index, instance) is not None]


def _without_storage(footprint):
    """``footprint`` but for what maps storage to the LPAR."""
    return {key: value for key, value in footprint.items()
            if key not in ('mappings', 'vscsi server adapters')}


class TestColdMigrationSharedSSP(TwoHostsTestCase):
    """Both systems' VIOSes are nodes of one SSP cluster: the boot disk
    moves with the instance."""

    SHARED_SSP = True
    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def test_move_recreates_the_lpar_on_the_destination(self):
        instance = self.spawned()
        lu = self.boot_lu(instance)
        before = self.footprint(0, instance)
        migration = self.move(instance, self.flavor())
        # The same UUID, the new flavor, everything the source had: VIFs,
        # the boot disk (the same LU, grown) mapped from the destination's
        # VIOSes, a config drive of its own.
        self.assertEqual(before, self.footprint(1, instance))
        self.assert_lpar_has(instance, 4096, 4)
        self.assertIs(lu, self.boot_lu(instance))
        self.assertEqual(2.0, lu.capacity_gb)
        # The source keeps its LPAR, stopped, until nova confirms.
        self.assertEqual(self.stopped(before), self.footprint(0, instance))
        self.nova.confirm(self.driver, instance, migration)
        self.assertEqual(self.NOTHING, self.footprint(0, instance))
        self.assertEqual(before, self.footprint(1, instance))
        self.assertEqual([1], self.systems_with_lpar(instance))
        self.assertIs(lu, self.boot_lu(instance))

    def test_revert_brings_the_instance_back_on_the_source(self):
        instance = self.spawned()
        lu = self.boot_lu(instance)
        before = self.footprint(0, instance)
        migration = self.move(instance, self.flavor())
        self.revert_move(instance, migration)
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assertEqual(before, self.footprint(0, instance))
        self.assert_lpar_has(instance, 2048, 2)
        self.assertEqual([0], self.systems_with_lpar(instance))
        # nova kept the disk: the two hosts share its storage.
        self.assertIs(lu, self.boot_lu(instance))

    def test_a_failed_move_leaves_the_source_whole_for_nova_to_reap(self):
        instance = self.spawned()
        lu = self.boot_lu(instance)
        before = self.footprint(0, instance)
        self.sim.faults.add(faults.FaultRule(
            job='PowerOn', outcome=faults.JobFailure('HSCL0001 Injected.')))
        self.assertRaises(exception.InstancePowerOnFailure, self.move,
                          instance, self.flavor())
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assertEqual(self.stopped(before), self.footprint(0, instance))
        # nova has the server in error on the destination.  Its delete
        # there leaves the disk the source's LPAR still maps ...
        self.dest.destroy(self.context, instance, self.network_info)
        self.assertIs(lu, self.boot_lu(instance))
        # ... which the source's nova-compute reaps once the server is
        # deleted (running_deleted_instance_action), disk and all.
        self.driver.destroy(self.context, instance, self.network_info)
        self.assertEqual(self.NOTHING, self.footprint(0, instance))
        self.assertEqual([], self.logical_units('VirtualIO_Disk'))

    def test_cold_migration_keeps_the_flavor_and_the_disk_size(self):
        instance = self.spawned()
        lu = self.boot_lu(instance)
        migration = self.move(instance, instance.flavor)
        self.assert_lpar_has(instance, 2048, 2)
        self.assertEqual(1.0, lu.capacity_gb)
        self.nova.confirm(self.driver, instance, migration)
        self.assertEqual([1], self.systems_with_lpar(instance))


class TestMoveWithNPIVVolume(TwoHostsTestCase):
    """A volume over NPIV moves with the instance: its LPAR on the
    destination logs in with the same virtual WWPNs, through the
    destination's physical ports."""

    SHARED_SSP = True
    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def setUp(self):
        super().setUp()
        # Fabric A: the first FC port of every VIOS of both systems.
        self.flags(fc_attach_strategy='npiv', fabrics=['A'], group='powervm')
        conf.fabric_port_wwpns()
        self.flags(fabric_A_port_wwpns=[
            port.wwpn for vios in self.sim.model.vioses()
            for port in vios.fc_ports if port.name == 'fcs0'],
            group='powervm')

    def vfc_on(self, index, instance):
        """{physical port WWPN: the client's WWPNs} of the VFC mappings of
        system ``index``'s VIOSes (to whatever partition)."""
        return {mapping.port.wwpn: mapping.client and mapping.client.wwpns
                for vios in self.sim.model.vioses(
                    self.sim.endpoints[index].system)
                for mapping in vios.fc_mappings}

    def test_the_volume_follows_the_instance(self):
        instance = self.spawned()
        self.sim.model.set_partition_state(self.lpar_of(instance), 'running',
                                           rmc_state='active')
        wwpns = self.driver.get_volume_connector(instance)['wwpns']
        lun, info = self.fc_volume(initiators=wwpns)
        self.attach(instance, info)
        bdi = fixtures.block_device_info(fixtures.DriverBDM(info))
        [(source_port, clients)] = self.vfc_on(0, instance).items()
        migration = self.move(instance, self.flavor(), bdi)
        # The same virtual WWPNs, on a physical port of the destination.
        [(dest_port, moved)] = self.vfc_on(1, instance).items()
        self.assertEqual(clients, moved)
        self.assertNotEqual(source_port, dest_port)
        self.assertEqual([lun], self.sim.model.npiv_luns(wwpns[0]))
        self.nova.confirm(self.driver, instance, migration)
        self.assertEqual({}, self.vfc_on(0, instance))
        self.assertEqual({dest_port: clients}, self.vfc_on(1, instance))


class TestMoveWithLocalDisk(TwoHostsTestCase):
    """Boot disks in a volume group of the source's VIOS: no other host
    reaches them."""

    def test_a_move_is_refused_before_anything_changes(self):
        instance = self.spawned()
        before = self.footprint(0, instance)
        self.nova.start(instance, self.flavor(), DEST_HOST)
        err = self.assertRaises(exception.InstanceFaultRollback,
                                self.nova.migrate, self.driver, instance,
                                instance.new_flavor)
        self.assertIsInstance(err.inner_exception, exception.ResizeError)
        self.assertIn('volume group', str(err.inner_exception))
        self.assertEqual(before, self.footprint(0, instance))
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assertEqual(1.0, self.boot_disk_gb(instance))

    def test_an_instance_booted_from_a_volume_moves(self):
        lun, info = self.fc_volume()
        bdi = fixtures.block_device_info(fixtures.DriverBDM(info,
                                                            boot_index=0))
        instance = self.make_instance(config_drive='True')
        self.driver.spawn(self.context, instance, self.image_meta(), [],
                          None, {}, network_info=self.network_info,
                          block_device_info=bdi)
        self.sim.model.set_partition_state(self.lpar_of(instance), 'running',
                                           rmc_state='active')
        before = self.footprint(0, instance)
        migration = self.move(instance, self.flavor(), bdi)
        # Mapped from each VIOS of the destination that reaches the LUN;
        # the source let go of it (and of its hdisks).
        lpar_id = self.lpar_on(1, instance).partition_id
        self.assertEqual({lpar_id}, {
            partition for _hdisk, partition
            in self.volume_on(1, lun).values()})
        self.assertEqual(2, len(self.volume_on(1, lun)))
        self.assertEqual({}, self.volume_on(0, lun))
        released = self.footprint(0, instance)
        self.assertEqual(before['config media'], released['mappings'])
        self.assertEqual(_without_storage(self.stopped(before)),
                         _without_storage(released))
        self.assertEqual(before, self.footprint(1, instance))
        self.assert_lpar_has(instance, 4096, 4)
        self.revert_move(instance, migration, bdi)
        self.assertEqual({}, self.volume_on(1, lun))
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assertEqual(before, self.footprint(0, instance))
        self.assertEqual(2, len(self.volume_on(0, lun)))
        migration = self.move(instance, self.flavor(root_gb=3), bdi)
        self.nova.confirm(self.driver, instance, migration)
        self.assertEqual(self.NOTHING, self.footprint(0, instance))
        self.assertEqual({}, self.volume_on(0, lun))
        self.assertEqual(2, len(self.volume_on(1, lun)))

    def test_nova_learns_the_hosts_do_not_share_the_disks(self):
        data = self.dest.check_instance_shared_storage_local(
            self.context, self.make_instance())
        self.assertFalse(self.driver.check_instance_shared_storage_remote(
            self.context, data))
        # A host shares its own storage with itself.
        self.assertTrue(self.dest.check_instance_shared_storage_remote(
            self.context, data))


class TestMoveBetweenSeparatePools(TwoHostsTestCase):
    """Each system has an SSP cluster of its own: the destination does not
    reach the source's boot disk."""

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def test_the_destination_refuses_a_disk_it_does_not_reach(self):
        instance = self.spawned()
        migration = self.nova.start(instance, self.flavor(), DEST_HOST)
        disk_info = self.nova.migrate(self.driver, instance,
                                      instance.new_flavor)
        err = self.assertRaises(exception.ResizeError, self.nova.finish,
                                self.dest, instance, migration, disk_info)
        self.assertIn('does not reach', str(err))
        self.assertEqual(self.NOTHING, self.footprint(1, instance))
        self.assertFalse(self.driver.check_instance_shared_storage_remote(
            self.context, self.dest.check_instance_shared_storage_local(
                self.context, instance)))
