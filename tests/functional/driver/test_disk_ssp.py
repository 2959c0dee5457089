"""Boot disks in a shared storage pool (ssp) against the simulator."""

import math

from nova.compute import provider_tree
from nova import test
from oslo_utils import uuidutils

from nova_powervm import exception as pvm_nova_exc
from nova_powervm.disk import ssp
from powervm_sim import fixture as sim_fixture
from tests.functional.driver import fixtures

IMAGE_LU = 'VirtualIO_Image'
DISK_LU = 'VirtualIO_Disk'


class SSPTestCase(fixtures.DriverTestCase):

    DRIVER_OPTIONS = {'disk_driver': 'ssp'}

    def setUp(self):
        super().setUp()
        [self.cluster] = self.sim.model.clusters(self.system)
        self.pool = self.cluster.ssp

    def boot_lu_of(self, instance):
        name = self.driver.disk_driver.disk_name(instance)
        found = [lu for lu in self.logical_units(DISK_LU) if lu.name == name]
        return found[0] if found else None

    def content(self, lu, size):
        with self.sim.model.content.open_reader(lu.udid) as blob:
            return blob.read(size)


class TestSSPInitHost(SSPTestCase):

    def test_the_cluster_and_its_local_nodes(self):
        disk_driver = self.driver.disk_driver
        self.assertIsInstance(disk_driver, ssp.SSPDiskAdapter)
        self.assertEqual(sorted(vios.uuid.lower()
                                for vios in self.cluster.vioses),
                         sorted(uuid.lower()
                                for uuid in disk_driver.vios_uuids))
        self.assertEqual(self.pool.default_tier.uuid,
                         disk_driver.tier_w.uuid.lower())

    def test_disk_inventory_is_the_pool(self):
        tree = provider_tree.ProviderTree()
        tree.new_root(fixtures.HOST, uuidutils.generate_uuid())
        resources = self.driver.get_available_resource(fixtures.HOST)
        self.driver.update_provider_tree(tree, fixtures.HOST)
        inventory = tree.data(fixtures.HOST).inventory
        self.assertEqual(math.floor(self.pool.capacity_gb),
                         resources['local_gb'])
        self.assertEqual(math.floor(self.pool.capacity_gb),
                         inventory['DISK_GB']['total'])


class TestSSPClusterChoice(test.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            event_wait=0.2))
        [self.cluster] = self.sim.model.clusters(self.sim.model.systems[0])

    def _driver(self, **options):
        return self.useFixture(fixtures.DriverFixture(
            self.sim, init_host=False, disk_driver='ssp', **options))

    def test_unknown_cluster_stops_init_host(self):
        driver_fixture = self._driver(cluster_name='no_such')
        err = self.assertRaises(pvm_nova_exc.ClusterNotFound,
                                driver_fixture.init_host)
        self.assertIn('no_such', str(err))
        self.assertIsNone(driver_fixture.driver.adapter)

    def test_cluster_by_name(self):
        driver_fixture = self._driver(cluster_name=self.cluster.name)
        driver_fixture.init_host()
        self.assertIsInstance(driver_fixture.driver.disk_driver,
                              ssp.SSPDiskAdapter)


class TestSSPSpawn(SSPTestCase):

    def test_boot_disk_is_a_linked_clone_mapped_by_every_node(self):
        instance = self.make_instance()
        self.spawn(instance)
        [image] = self.logical_units(IMAGE_LU)
        self.assertEqual('image_' + self.image['id'].replace('-', ''),
                         image.name)
        self.assertEqual(self.image_data,
                         self.content(image, len(self.image_data)))
        disk = self.boot_lu_of(instance)
        self.assertIs(image, disk.source)
        self.assertTrue(disk.thin)
        self.assertEqual(1.0, disk.capacity_gb)
        self.assertEqual(self.image_data,
                         self.content(disk, len(self.image_data)))
        mappings = self.sim.model.scsi_mappings_of(disk)
        self.assertEqual(sorted(vios.uuid for vios in self.cluster.vioses),
                         sorted(m.server.vios.uuid for m in mappings))
        lpar = self.lpar_of(instance)
        self.assertEqual({lpar}, {m.client.parent for m in mappings})
        self.assertEqual('running', lpar.state)

    def test_an_image_is_uploaded_once_per_pool(self):
        first, second = self.make_instance(), self.make_instance()
        self.spawn(first, power_on=False)
        self.spawn(second, power_on=False)
        self.assertEqual(1, self.glance.downloads[self.image['id']])
        self.assertEqual(1, len(self.logical_units(IMAGE_LU)))
        self.assertEqual(2, len(self.logical_units(DISK_LU)))
        # No marker LU of pypowervm's upload coordination is left.
        self.assertEqual(['image_' + self.image['id'].replace('-', '')],
                         [lu.name for lu in self.logical_units(IMAGE_LU)])

    def test_root_gb_zero_takes_the_size_of_the_image(self):
        instance = self.make_instance()
        instance.flavor.root_gb = 0
        self.spawn(instance, power_on=False)
        [image] = self.logical_units(IMAGE_LU)
        self.assertEqual(image.capacity_gb,
                         self.boot_lu_of(instance).capacity_gb)


class TestSSPDestroy(SSPTestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.make_instance()
        self.spawn(self.instance)

    def test_destroy_removes_mappings_adapters_and_the_clone(self):
        self.driver.destroy(self.context, self.instance, None)
        self.assertEqual([], self.client_lpars())
        self.assert_storage_gone()
        # The image LU stays: the cache of every host of the cluster.
        self.assertEqual(1, len(self.logical_units(IMAGE_LU)))

    def test_destroy_keeping_the_disk(self):
        disk = self.boot_lu_of(self.instance)
        self.driver.destroy(self.context, self.instance, None,
                            destroy_disks=False)
        self.assertEqual([disk], self.logical_units(DISK_LU))
        self.assertEqual([], self.disk_mappings())

    def test_destroy_after_the_lpar_was_deleted_outside_nova(self):
        lpar = self.lpar_of(self.instance)
        self.sim.model.set_partition_state(lpar, 'not activated')
        self.sim.model.delete_partition(lpar)
        self.driver.destroy(self.context, self.instance, None)
        self.assert_storage_gone()
