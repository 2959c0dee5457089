"""Disk drivers' pure parts: names, sizes, cluster nodes, undo."""

from unittest import mock

from nova import exception
from nova import objects
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.tests.test_utils import pvmhttp
from pypowervm import traits as pvm_traits
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from nova_powervm.disk import driver
from nova_powervm.disk import localdisk
from nova_powervm.disk import snapshot
from nova_powervm.disk import ssp
from nova_powervm import undo as undo_mod

GIB = 1024 ** 3
INSTANCE_UUID = '9f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5'
IMAGE_UUID = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
HOST_UUID = '1AD4E9A3-6E84-3F0C-A1B2-2B1E2B1C9D1E'


def _instance(root_gb=1, os_type=None):
    return mock.Mock(uuid=INSTANCE_UUID, flavor=mock.Mock(root_gb=root_gb),
                     project_id='project-1', os_type=os_type)


class TestNames(testtools.TestCase):

    def test_logical_volume_names_fit_aix(self):
        instance = _instance()
        self.assertEqual('b_9f0c1d2e3b4a4',
                         driver.boot_disk_name(instance, 15))
        self.assertEqual('i_155d900f4e144', localdisk.image_cache_name(
            IMAGE_UUID))
        self.assertEqual('s_9f0c1d2e3b4a4',
                         localdisk.snapshot_copy_name(instance))
        for name in ('b_9f0c1d2e3b4a4', 'i_155d900f4e144'):
            self.assertEqual(15, len(name))

    def test_logical_unit_names_carry_the_whole_uuid(self):
        self.assertEqual('b_9f0c1d2e3b4a4c5d8e6f708192a3b4c5',
                         driver.boot_disk_name(_instance(),
                                               ssp.DISK_NAME_LEN))
        self.assertEqual('image_155d900f4e144e4ca73d069cbf4541e6',
                         ssp.image_lu_name(IMAGE_UUID))


class TestSizes(testtools.TestCase):

    def test_the_flavors_root_disk(self):
        self.assertEqual(3 * GIB, driver.root_disk_bytes(
            _instance(root_gb=3), 5 * 1024 * 1024))

    def test_never_smaller_than_the_image(self):
        self.assertEqual(2 * GIB + 1, driver.root_disk_bytes(
            _instance(root_gb=1), 2 * GIB + 1))
        self.assertEqual(12345, driver.root_disk_bytes(
            _instance(root_gb=0), 12345))

    def test_image_size(self):
        meta = objects.ImageMeta.from_dict({'id': IMAGE_UUID, 'size': 42,
                                            'disk_format': 'raw'})
        self.assertEqual(42, driver.raw_image_size(meta))

    def test_image_without_data(self):
        for fields in ({'id': IMAGE_UUID}, {'id': IMAGE_UUID, 'size': 0}):
            self.assertRaises(exception.ImageUnacceptable,
                              driver.raw_image_size,
                              objects.ImageMeta.from_dict(fields))

    def test_image_in_another_format(self):
        meta = objects.ImageMeta.from_dict(
            {'id': IMAGE_UUID, 'size': 42, 'disk_format': 'qcow2'})
        err = self.assertRaises(exception.ImageUnacceptable,
                                driver.raw_image_size, meta)
        self.assertIn('qcow2', str(err))


class TestClusterNodes(testtools.TestCase):

    def _node(self, vios_uri):
        node = mock.Mock(vios_uri=vios_uri)
        node.vios_uuid = vios_uri.rsplit('/', 1)[-1] if vios_uri else None
        return node

    def test_only_nodes_on_this_host(self):
        base = 'https://nl:12443/rest/api/uom/ManagedSystem/%s/' \
               'VirtualIOServer/%s'
        cluster = mock.Mock(nodes=[
            self._node(base % (HOST_UUID, 'V1')),
            self._node(base % ('0' * 8 + HOST_UUID[8:], 'V2')),
            self._node(None),
            self._node(base % (HOST_UUID.lower(), 'V3')),
        ])
        self.assertEqual(['V1', 'V3'],
                         ssp.local_node_vios_uuids(cluster, HOST_UUID))


class TestMappingsOfOneLU(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.adapter = mock.Mock(traits=pvm_traits.APITraits(mock.Mock(
            headers={'X-Hmc-Schema-Version': 'V1_0'}, body=None)))
        self.adapter.build_href.side_effect = (
            lambda *parts, **kwargs: 'https://nl/rest/api/uom/' + '/'.join(
                str(part) for part in parts if part))
        # Two VIOSes of the cluster (one captured VIOS, read twice).
        self.vioses = [pvm_vios.VIOS.wrap(pvmhttp.load_pvm_resp(
            'fake_vios_feed2.txt', adapter=self.adapter).get_response())[0]
            for _ in range(2)]
        self.lu = pvm_stg.LU.bld_ref(self.adapter, 'b_1', 'udid1')

    def _mappings(self, storage_for_mapping):
        return [pvm_smap.build_vscsi_mapping(
            None, vios_w, INSTANCE_UUID, storage_for_mapping(self.lu))
            for vios_w in self.vioses]

    def test_one_element_cannot_serve_two_mappings(self):
        # What the SSP driver avoids: the second mapping takes the LU's
        # element from the first, which would map nothing.
        first, second = self._mappings(lambda lu: lu)
        self.assertIsNone(first.backing_storage)

    def test_each_vios_maps_its_own_copy_of_the_lu(self):
        disk_driver = object.__new__(ssp.SSPDiskAdapter)
        disk_driver.adapter = self.adapter
        for mapping in self._mappings(disk_driver._storage_for_mapping):
            self.assertEqual(('b_1', 'udid1'),
                             (mapping.backing_storage.name,
                              mapping.backing_storage.udid))


class TestUndo(testtools.TestCase):

    def test_a_failing_undo_is_logged_not_raised(self):
        undo = mock.Mock(side_effect=RuntimeError('refused'),
                         __name__='delete_disk')
        with mock.patch.object(undo_mod.LOG, 'exception') as log:
            undo_mod.quietly(undo, 'disk')
        undo.assert_called_once_with('disk')
        log.assert_called_once()


class TestSnapshotMetadata(testtools.TestCase):

    def test_raw_bare_snapshot(self):
        self.assertEqual(
            {'disk_format': 'raw', 'container_format': 'bare',
             'properties': {'image_location': 'snapshot',
                            'image_state': 'available',
                            'owner_id': 'project-1'}},
            snapshot.image_metadata(_instance()))

    def test_os_type_is_kept(self):
        self.assertEqual('linux', snapshot.image_metadata(
            _instance(os_type='linux'))['properties']['os_type'])
