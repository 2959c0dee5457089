"""Shared storage pools through pypowervm's public API against the
simulator: the Cluster, SharedStoragePool, Tier and LogicalUnit documents,
LU creation, linked clones, uploads, removal and the requests NovaLink
refuses."""

import glob
import hashlib
import io
import os
import tracemalloc

from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cluster_ssp as tsk_cs
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm import util as pvm_util
from pypowervm.wrappers import cluster as pvm_clust
from pypowervm.wrappers import event as pvm_event
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import files_api  # noqa: F401  (serves /web/File)
from powervm_sim import fixture
from powervm_sim.model import ssp as ssp_model
from powervm_sim.model import storage as storage_model
from tests.recorded import paths
from tests.recorded import recordings

MB = 1024 * 1024
GIB = storage_model.GIB
IMAGE = pvm_stg.LUType.IMAGE
DISK = pvm_stg.LUType.DISK


def real_interactions():
    """Every recorded response: the HMC cassettes and pypowervm's captures.
    """
    found = []
    shared = recordings.shared_recordings_dir()
    for path in sorted(glob.glob(os.path.join(shared, '*', '*.yml'))):
        found += recordings.load_ruby_vcr(path)
    for path in sorted(glob.glob(os.path.join(
            recordings.pypowervm_data_dir(), '*.txt'))):
        try:
            found += recordings.load_pypowervm_capture(path)
        except recordings.CaptureFormatError:
            continue
    return found


def pattern(size, seed=b'ssp'):
    block = hashlib.sha256(seed).digest() * 2048
    return (block * (size // len(block) + 1))[:size]


class PatternStream:
    """``size`` bytes made on demand, so the test never holds them all."""

    def __init__(self, size):
        self.remaining = size
        self.block = pattern(64 * 1024, b'stream')

    def read(self, size=-1):
        size = self.remaining if size < 0 else min(size, self.remaining)
        self.remaining -= size
        return (self.block * (size // len(self.block) + 1))[:size]


class SSPTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(vioses=2))
        self.model = self.sim.model
        self.adapter = self.sim.adapter()
        self.system = self.sim.endpoints[0].system
        [self.cluster] = self.model.clusters(self.system)
        self.pool = self.cluster.ssp
        self.tier = self.pool.default_tier
        self.vios = self.cluster.vioses[0]

    def read_cluster(self):
        [cluster_w] = pvm_clust.Cluster.get(self.adapter)
        return cluster_w

    def read_ssp(self):
        return pvm_stg.SSP.wrap(self.adapter.read_by_href(
            self.read_cluster().ssp_uri))

    def read_tier(self):
        return tsk_stg.default_tier_for_ssp(self.read_ssp())

    def lu(self, name):
        [found] = [lu for lu in self.pool.logical_units if lu.name == name]
        return found

    def content_of(self, udid, length):
        with self.model.content.open_reader(udid) as blob:
            return blob.read(length)

    def upload_image(self, name, data):
        lu_w, maybe_file = tsk_stg.upload_new_lu(
            self.vios.uuid, self.read_ssp(), io.BytesIO(data), name,
            len(data))
        self.assertIsNone(maybe_file)
        return lu_w

    def pool_state(self):
        """What a refused request must leave as it was."""
        return ([(lu.uuid, lu.name, lu.udid, lu.capacity_gb, lu.etag,
                  self.model.content.exists(lu.udid))
                 for lu in self.pool.logical_units],
                self.pool.free_gb, self.pool.etag, self.tier.etag)

    def assert_refused(self, exc, status, *texts):
        self.assertEqual(status, exc.response.status)
        self.assertIsNotNone(exc.her_wrap)
        self.assertEqual(status, int(exc.her_wrap.status))
        for text in texts:
            self.assertIn(text, exc.her_wrap.message)


class TestDocuments(SSPTestBase):

    def test_cluster_nodes_are_the_systems_vioses(self):
        cluster_w = self.read_cluster()
        self.assertEqual((self.cluster.uuid, self.cluster.name),
                         (cluster_w.uuid, cluster_w.name))
        self.assertTrue(cluster_w.id.startswith('22'))
        self.assertEqual(34, len(cluster_w.id))
        self.assertEqual('hdisk6', cluster_w.repos_pv.name)
        self.assertEqual(10240, cluster_w.repos_pv.capacity)
        vioses = [p for p in self.system.partitions if p.is_vios]
        self.assertEqual(
            [(v.uuid, v.partition_id, self.system.serial, '9009', '42A',
              pvm_clust.NodeState.UP) for v in vioses],
            [(n.vios_uuid, n.lpar_id, n.mtms.serial, n.mtms.machine_type,
              n.mtms.model, n.state) for n in cluster_w.nodes])
        for node in cluster_w.nodes:
            # nova's SSP driver keeps the nodes whose link names its host.
            self.assertEqual(self.system.uuid, pvm_util.get_req_path_uuid(
                node.vios_uri, preserve_case=True, root=True))
            self.assertIn('.sim.example.com', node.hostname)
        self.assertEqual(self.pool.uuid, cluster_w.ssp_uuid)

    def test_cluster_and_pool_searches(self):
        [found] = pvm_clust.Cluster.search(self.adapter,
                                           name=self.cluster.name)
        self.assertEqual(self.cluster.uuid, found.uuid)
        self.assertEqual([], pvm_clust.Cluster.search(self.adapter,
                                                      name='no_such'))
        [ssp_w] = pvm_stg.SSP.search(self.adapter, name=self.pool.name)
        self.assertEqual(self.pool.uuid, ssp_w.uuid)

    def test_ssp_at_the_root_and_under_its_cluster(self):
        ssp_w = self.read_ssp()
        root_w = pvm_stg.SSP.get(self.adapter, uuid=self.pool.uuid)
        for wrapper in (ssp_w, root_w):
            self.assertEqual(
                (self.pool.name, self.pool.udid, 512.0, 512.0, 0.0, 0.0),
                (wrapper.name, wrapper.udid, wrapper.capacity,
                 wrapper.free_space, wrapper.total_lu_size,
                 wrapper.over_commit_space))
            self.assertEqual(['hdisk7', 'hdisk8'],
                             [pv.name for pv in wrapper.physical_volumes])
            self.assertEqual([], list(wrapper.logical_units))
        self.assertTrue(self.pool.udid.startswith('24'))

    def test_default_tier_and_the_tier_feeds(self):
        tier_w = self.read_tier()
        self.assertEqual(
            (self.tier.uuid, 'SYSTEM', True, 512.0, self.pool.uuid),
            (tier_w.uuid, tier_w.name, tier_w.is_default, tier_w.capacity,
             tier_w.ssp_uuid))
        self.assertTrue(tier_w.udid.startswith('25'))
        [root_w] = pvm_stg.Tier.get(self.adapter)
        self.assertEqual(self.tier.uuid, root_w.uuid)
        entry_w = pvm_stg.Tier.get(self.adapter, uuid=self.tier.uuid)
        self.assertEqual(tier_w.udid, entry_w.udid)

    def test_each_endpoint_serves_its_own_systems_cluster(self):
        sim = self.useFixture(fixture.NovaLinkFixture(systems=2, vioses=1))
        for index, endpoint in enumerate(sim.endpoints):
            [cluster_w] = pvm_clust.Cluster.get(sim.adapter(index))
            [cluster] = sim.model.clusters(endpoint.system)
            self.assertEqual(cluster.uuid, cluster_w.uuid)
            self.assertEqual(1, len(cluster_w.nodes))

    def test_element_paths_cover_the_real_documents(self):
        tier_w, image = tsk_stg.crt_lu(self.read_tier(), 'img', 1,
                                       typ=IMAGE)
        tsk_stg.crt_lu(tier_w, 'boot', 2, typ=DISK, clone=image)
        urls = {
            'Cluster': '/rest/api/uom/Cluster',
            'SharedStoragePool': '/rest/api/uom/SharedStoragePool',
            'Tier': '/rest/api/uom/Tier',
            'LogicalUnit': '/rest/api/uom/Tier/%s/LogicalUnit' %
                           self.tier.uuid,
        }
        real = real_interactions()
        rows = []
        for rtype, url in sorted(urls.items()):
            sim_paths = set()
            body = self.adapter.read_by_path(url).body
            for kind, element in recordings.iter_atom_objects(body):
                if kind == rtype:
                    sim_paths |= paths.element_paths(element)
            result = paths.coverage(paths.collect_paths(real, rtype),
                                    sim_paths)
            rows.append((rtype, result))
        self.addDetail('coverage', testtools.content.text_content(
            paths.format_table(rows)))
        for rtype, result in rows:
            self.assertGreaterEqual(result.ratio, 0.9, '%s misses %s' % (
                rtype, result.missing))

    def test_element_order_agrees_with_the_real_documents(self):
        real = real_interactions()
        for rtype, url in (('Cluster', '/rest/api/uom/Cluster'),
                           ('SharedStoragePool',
                            '/rest/api/uom/SharedStoragePool'),
                           ('Tier', '/rest/api/uom/Tier')):
            [(_, mine)] = recordings.iter_atom_objects(
                self.adapter.read_by_path(url).body)
            for interaction in real:
                for kind, element in recordings.iter_atom_objects(
                        interaction.response_body):
                    if kind == rtype:
                        self.assertEqual(
                            [], paths.order_disagreements(element, mine),
                            '%s vs %s' % (rtype, interaction.source))


class TestLogicalUnits(SSPTestBase):

    def test_crt_lu_on_a_tier_makes_an_image_lu(self):
        ssp_etag = self.pool.etag
        tier_w, lu_w = tsk_stg.crt_lu(self.read_tier(), 'image_a', 1.5,
                                      thin=True, typ=IMAGE)
        lu = self.lu('image_a')
        self.assertEqual((lu.uuid, lu.udid, 1.5, IMAGE, True, None),
                         (lu_w.uuid, lu_w.udid, lu_w.capacity, lu_w.lu_type,
                          lu_w.is_thin, lu_w.cloned_from_udid))
        self.assertTrue(lu.udid.startswith('29' + self.cluster.hex_id))
        self.assertEqual(66, len(lu.udid))
        self.assertIn('/Tier/%s/LogicalUnit/%s' % (self.tier.uuid,
                                                   lu.uuid), lu_w.href)
        self.assertEqual(lu.size_bytes, self.model.content.size(lu.udid))
        self.assertNotEqual(ssp_etag, self.pool.etag)
        [listed] = pvm_stg.LUEnt.get(self.adapter, parent=tier_w)
        self.assertEqual(lu.udid, listed.udid)
        self.assertEqual(lu.udid, self.model.find_logical_unit(lu.udid).udid)

    def test_a_unit_posted_with_a_larger_capacity_grows(self):
        data = pattern(MB, b'grow')
        image_w = self.upload_image('image_grow', data)
        tier_w, clone_w = tsk_stg.crt_lu(self.read_tier(), 'boot_grow', 0,
                                         typ=DISK, clone=image_w)
        etags = (self.lu('boot_grow').etag, self.pool.etag)
        [lu_w] = pvm_stg.LUEnt.search(self.adapter, parent=tier_w,
                                      name='boot_grow')
        lu_w._capacity(2)
        lu_w.update()
        clone = self.lu('boot_grow')
        self.assertEqual(2.0, clone.capacity_gb)
        self.assertEqual(2 * GIB, self.model.content.size(clone.udid))
        # The clone keeps its bytes and reads zeros beyond them; its image
        # (whose blob it shared) keeps its own size.
        self.assertEqual(data, self.content_of(clone.udid, MB))
        with self.model.content.open_reader(clone.udid) as blob:
            blob.seek(GIB)
            self.assertEqual(bytes(4096), blob.read(4096))
        image = self.lu('image_grow')
        self.assertEqual(image.size_bytes,
                         self.model.content.size(image.udid))
        self.assertNotEqual(etags, (clone.etag, self.pool.etag))
        [listed] = pvm_stg.LUEnt.search(self.adapter, parent=tier_w,
                                        name='boot_grow')
        self.assertEqual(2.0, listed.capacity)

    def test_crt_lu_on_the_ssp_returns_the_refreshed_pool(self):
        ssp_w, lu_w = tsk_stg.crt_lu(self.read_ssp(), 'disk_a', 3,
                                     thin=False, typ=DISK)
        self.assertIsInstance(ssp_w, pvm_stg.SSP)
        self.assertEqual(['disk_a'], [lu.name for lu in ssp_w.logical_units])
        self.assertTrue(lu_w.udid.startswith('27'))
        # Thick: the whole capacity leaves the free space at once.
        self.assertEqual((3.0, 509.0), (ssp_w.total_lu_size,
                                        ssp_w.free_space))

    def test_linked_clone_names_its_image_and_reads_its_bytes(self):
        data = pattern(3 * MB + 17)
        image_w = self.upload_image('image_b', data)
        tier_w, clone_w = tsk_stg.crt_lu(self.read_tier(), 'boot_vm1', 5,
                                         typ=DISK, clone=image_w)
        self.assertEqual(image_w.udid, clone_w.cloned_from_udid)
        self.assertEqual(5.0, clone_w.capacity)
        clone = self.lu('boot_vm1')
        self.assertIs(self.lu('image_b'), clone.source)
        self.assertEqual(data, self.content_of(clone.udid, len(data)))
        # Beyond the image the clone reads zeros, up to its own size.
        self.assertEqual(5 * GIB, self.model.content.size(clone.udid))
        with self.model.content.open_reader(clone.udid) as blob:
            blob.seek(len(data))
            self.assertEqual(bytes(4096), blob.read(4096))
        # Holes stay holes: the copy holds the image's data, not 5 GB.
        self.assertLess(os.stat(self.model.content.path(
            clone.udid)).st_blocks * 512, 16 * MB)

    def test_same_size_clone_shares_the_image_until_it_is_rewritten(self):
        data = pattern(MB, b'first')
        image_w = self.upload_image('image_c', data)
        tier_w, clone_w = tsk_stg.crt_lu(self.read_tier(), 'boot_vm2', 0,
                                         typ=DISK, clone=image_w)
        self.assertEqual(image_w.capacity, clone_w.capacity)
        image_path = self.model.content.path(image_w.udid)
        clone_path = self.model.content.path(clone_w.udid)
        self.assertEqual(os.stat(image_path).st_ino,
                         os.stat(clone_path).st_ino)
        # Writing the image again leaves the clone with the old bytes.
        second = pattern(MB, b'second')
        self.assertIsNone(tsk_stg.upload_lu(
            self.vios.uuid, image_w, io.BytesIO(second), len(second)))
        self.assertEqual(second, self.content_of(image_w.udid, MB))
        self.assertEqual(data, self.content_of(clone_w.udid, MB))

    def test_clone_streams_with_bounded_memory(self):
        size = 32 * MB
        image_w, _ = tsk_stg.upload_new_lu(
            self.vios.uuid, self.read_ssp(), PatternStream(size),
            'image_big', size)
        tracemalloc.start()
        self.addCleanup(tracemalloc.stop)
        tsk_stg.crt_lu(self.read_tier(), 'boot_big', 1, typ=DISK,
                       clone=image_w)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # Client and server stream in chunks; a copy that held the image
        # would need its 32 MB.
        self.assertLess(peak, 16 * MB)
        clone = self.lu('boot_big')
        digest = hashlib.sha256(self.content_of(clone.udid, size))
        self.assertEqual(hashlib.sha256(PatternStream(size).read())
                         .hexdigest(), digest.hexdigest())

    def test_rm_tier_storage_removes_a_clone_then_its_unused_image(self):
        image_w = self.upload_image('image_d', pattern(1000))
        tier_w, clone_a = tsk_stg.crt_lu(self.read_tier(), 'boot_a', 1,
                                         typ=DISK, clone=image_w)
        tier_w, clone_b = tsk_stg.crt_lu(tier_w, 'boot_b', 1, typ=DISK,
                                         clone=image_w)
        tsk_stg.rm_tier_storage([clone_a], tier=tier_w)
        self.assertEqual(['image_d', 'boot_b'],
                         [lu.name for lu in self.pool.logical_units])
        self.assertFalse(self.model.content.exists(clone_a.udid))
        tsk_stg.rm_tier_storage([clone_b], tier=tier_w)
        self.assertEqual([], self.pool.logical_units)
        self.assertFalse(self.model.content.exists(image_w.udid))
        self.assertIsNone(self.model.find_logical_unit(image_w.udid))

    def test_rm_ssp_storage_removes_through_the_desired_state(self):
        tier_w, keep_w = tsk_stg.crt_lu(self.read_tier(), 'keep', 1)
        tier_w, drop_w = tsk_stg.crt_lu(tier_w, 'drop', 1)
        kept = self.lu('keep')
        kept_identity = (kept.uuid, kept.udid, kept.etag)
        ssp_w = tsk_stg.rm_ssp_storage(self.read_ssp(), [drop_w])
        self.assertEqual(['keep'], [lu.name for lu in ssp_w.logical_units])
        self.assertIs(kept, self.lu('keep'))
        self.assertEqual(kept_identity, (kept.uuid, kept.udid, kept.etag))
        self.assertFalse(self.model.content.exists(drop_w.udid))

    def test_ssp_update_creates_listed_units_without_a_udid(self):
        tsk_stg.crt_lu(self.read_tier(), 'existing', 1)
        ssp_w = self.read_ssp()
        ssp_w.logical_units.append(pvm_stg.LU.bld(
            self.adapter, 'from_pool', 2, thin=False, typ=DISK))
        ssp_w = ssp_w.update()
        self.assertEqual(['existing', 'from_pool'],
                         [lu.name for lu in ssp_w.logical_units])
        new = self.lu('from_pool')
        self.assertEqual((new.udid, False),
                         (ssp_w.logical_units[1].udid,
                          ssp_w.logical_units[1].is_thin))
        self.assertIs(self.tier, new.parent)

    def test_duplicate_names_are_allowed_as_on_real_pools(self):
        # LUs are told apart by UDID (the VIOS lu command takes -luudid
        # for exactly this), so NovaLink takes a second LU of one name.
        tier_w, first = tsk_stg.crt_lu(self.read_tier(), 'twin', 1)
        tier_w, second = tsk_stg.crt_lu(tier_w, 'twin', 1)
        self.assertNotEqual(first.udid, second.udid)
        self.assertEqual(2, len(pvm_stg.LUEnt.search(
            self.adapter, parent=tier_w, name='twin')))

    def test_get_or_upload_image_lu_leaves_one_image_and_no_marker(self):
        data = pattern(2 * MB + 1)
        tier_w = self.read_tier()
        image_w = tsk_cs.get_or_upload_image_lu(
            tier_w, 'image_e', self.vios.uuid, io.BytesIO(data), len(data),
            upload_type=tsk_stg.UploadType.IO_STREAM)
        self.assertEqual(['image_e'],
                         [lu.name for lu in self.pool.logical_units])
        self.assertEqual(data, self.content_of(image_w.udid, len(data)))
        again = tsk_cs.get_or_upload_image_lu(
            tier_w, 'image_e', self.vios.uuid, io.BytesIO(b''), len(data),
            upload_type=tsk_stg.UploadType.IO_STREAM)
        self.assertEqual(image_w.udid, again.udid)

    def test_thin_units_take_what_they_wrote_thick_units_all(self):
        tsk_stg.crt_lu(self.read_tier(), 'thin_a', 100, thin=True)
        self.assertEqual(512.0, self.read_ssp().free_space)
        tsk_stg.crt_lu(self.read_tier(), 'thick_a', 100, thin=False)
        self.assertEqual(412.0, self.read_ssp().free_space)
        self.upload_image('image_f', pattern(64 * MB))
        # The pool measures what uploads wrote when it next changes.
        tsk_stg.crt_lu(self.read_tier(), 'marker', 0.001)
        ssp_w = self.read_ssp()
        # Within the file system's allocation granularity.
        self.assertAlmostEqual(412 - 64 / 1024, ssp_w.free_space,
                               delta=0.01)
        self.assertEqual(round(200.001 + self.lu('image_f').capacity_gb, 4),
                         ssp_w.total_lu_size)

    def test_thin_units_may_over_commit_the_pool(self):
        tier_w, _ = tsk_stg.crt_lu(self.read_tier(), 'thin_a', 400)
        tier_w, _ = tsk_stg.crt_lu(tier_w, 'thin_b', 400)
        ssp_w = self.read_ssp()
        self.assertEqual((800.0, 512.0, 288.0),
                         (ssp_w.total_lu_size, ssp_w.free_space,
                          ssp_w.over_commit_space))

    def test_changes_are_events_and_new_etags(self):
        seen = []
        self.model.registry.subscribe(
            lambda event, obj, detail: seen.append((event, obj.kind,
                                                    detail)))
        tier_w, lu_w = tsk_stg.crt_lu(self.read_tier(), 'evt', 1)
        lu_w.delete()
        self.assertEqual(
            [('ADD_URI', 'LogicalUnit', 'Other'),
             ('MODIFY_URI', 'SharedStoragePool', 'LogicalUnit'),
             ('DELETE_URI', 'LogicalUnit', 'Other'),
             ('MODIFY_URI', 'SharedStoragePool', 'LogicalUnit')], seen)


class TestRefusals(SSPTestBase):

    def test_lu_bigger_than_the_free_space(self):
        before = self.pool_state()
        for thin in (True, False):
            exc = self.assertRaises(pvm_exc.HttpError, tsk_stg.crt_lu,
                                    self.read_tier(), 'huge', 600,
                                    thin=thin)
            self.assert_refused(exc, 400, ssp_model.NO_SPACE, 'huge',
                                '512.0000 GB free')
        self.assertEqual(before, self.pool_state())

    def test_thick_units_cannot_over_commit(self):
        tsk_stg.crt_lu(self.read_tier(), 'thick_a', 400, thin=False)
        before = self.pool_state()
        exc = self.assertRaises(pvm_exc.HttpError, tsk_stg.crt_lu,
                                self.read_tier(), 'thick_b', 200, thin=False)
        self.assert_refused(exc, 400, ssp_model.NO_SPACE, '112.0000 GB')
        self.assertEqual(before, self.pool_state())

    def test_clone_of_a_unit_that_does_not_exist(self):
        before = self.pool_state()
        ghost = pvm_stg.LU.bld_ref(self.adapter, 'ghost',
                                   '29' + 'ab' * 32)
        ghost._capacity(1)
        exc = self.assertRaises(pvm_exc.HttpError, tsk_stg.crt_lu,
                                self.read_tier(), 'boot_x', 1, typ=DISK,
                                clone=ghost)
        self.assert_refused(exc, 400, ssp_model.UNKNOWN_UNIT, 'boot_x',
                            '29' + 'ab' * 32)
        self.assertEqual(before, self.pool_state())

    def test_malformed_logical_units(self):
        tier_w = self.read_tier()
        before = self.pool_state()
        cases = (
            ('UnitCapacity', 'lots', 'UnitCapacity'),
            ('ThinDevice', 'perhaps', 'ThinDevice'),
            ('UnitName', 'bad name!', 'not a valid logical unit name'),
            ('LogicalUnitType', 'VirtualIO_Floppy', 'logical unit type'),
            ('UnitCapacity', '-1', 'greater than 0'),
        )
        for tag, value, text in cases:
            lu_w = pvm_stg.LUEnt.bld(self.adapter, 'okname', 1, thin=True,
                                     typ=DISK)
            lu_w.set_parm_value(tag, value)
            exc = self.assertRaises(pvm_exc.HttpError, lu_w.create,
                                    parent=tier_w)
            self.assert_refused(exc, 400, text)
        self.assertEqual(before, self.pool_state())

    def test_unknown_tier(self):
        before = self.pool_state()
        lu_w = pvm_stg.LUEnt.bld(self.adapter, 'lost', 1)
        bogus = '0fe0fe0f-0000-4000-8000-000000000000'
        exc = self.assertRaises(pvm_exc.HttpError, lu_w.create,
                                parent_type='Tier', parent_uuid=bogus)
        self.assert_refused(exc, 404, bogus)
        self.assertEqual(before, self.pool_state())

    def test_image_with_clones_cannot_be_removed(self):
        tier_w, image_w = tsk_stg.crt_lu(self.read_tier(), 'image_g', 1,
                                         typ=IMAGE)
        tier_w, clone_w = tsk_stg.crt_lu(tier_w, 'boot_g', 1, typ=DISK,
                                         clone=image_w)
        before = self.pool_state()
        exc = self.assertRaises(pvm_exc.HttpError, image_w.delete)
        self.assert_refused(exc, 409, ssp_model.HAS_CLONES, 'boot_g')
        self.assertEqual(before, self.pool_state())
        # Through the pool as well, unless the clones go with it.
        ssp_w = self.read_ssp()
        ssp_w.logical_units.remove([lu for lu in ssp_w.logical_units
                                    if lu.name == 'image_g'][0])
        exc = self.assertRaises(pvm_exc.HttpError, ssp_w.update)
        self.assert_refused(exc, 409, ssp_model.HAS_CLONES)
        self.assertEqual(before, self.pool_state())
        tsk_stg.rm_ssp_storage(self.read_ssp(), [image_w, clone_w])
        self.assertEqual([], self.pool.logical_units)

    def test_a_unit_cannot_shrink_or_be_renamed(self):
        tier_w, _lu_w = tsk_stg.crt_lu(self.read_tier(), 'steady', 2)
        before = self.pool_state()
        for tag, value, code, text in (
                ('UnitCapacity', '1', ssp_model.NO_SHRINK, 'shrink'),
                ('UnitName', 'other', ssp_model.FIXED_UNIT, 'renamed')):
            [lu_w] = pvm_stg.LUEnt.search(self.adapter, parent=tier_w,
                                          name='steady')
            lu_w.set_parm_value(tag, value)
            exc = self.assertRaises(pvm_exc.HttpError, lu_w.update)
            self.assert_refused(exc, 400, code, text)
            self.assertEqual(before, self.pool_state())

    def test_a_thick_unit_grows_only_into_free_space(self):
        tier_w, _lu_w = tsk_stg.crt_lu(self.read_tier(), 'thick_g', 400,
                                       thin=False)
        before = self.pool_state()
        [lu_w] = pvm_stg.LUEnt.search(self.adapter, parent=tier_w,
                                      name='thick_g')
        lu_w._capacity(600)
        exc = self.assertRaises(pvm_exc.HttpError, lu_w.update)
        self.assert_refused(exc, 400, ssp_model.NO_SPACE, '112.0000 GB')
        self.assertEqual(before, self.pool_state())

    def test_a_thin_unit_grows_only_into_free_space_too(self):
        tier_w, _lu_w = tsk_stg.crt_lu(self.read_tier(), 'thin_g', 1)
        before = self.pool_state()
        [lu_w] = pvm_stg.LUEnt.search(self.adapter, parent=tier_w,
                                      name='thin_g')
        lu_w._capacity(1e12)
        exc = self.assertRaises(pvm_exc.HttpError, lu_w.update)
        self.assert_refused(exc, 400, ssp_model.NO_SPACE, '512.0000 GB free')
        self.assertEqual(before, self.pool_state())

    def test_pool_update_naming_an_unknown_udid(self):
        tsk_stg.crt_lu(self.read_tier(), 'real', 1)
        ssp_w = self.read_ssp()
        ssp_w.logical_units.append(pvm_stg.LU.bld_ref(
            self.adapter, 'phantom', '27' + 'cd' * 32))
        before = self.pool_state()
        exc = self.assertRaises(pvm_exc.HttpError, ssp_w.update)
        self.assert_refused(exc, 400, ssp_model.UNKNOWN_UNIT, 'cd' * 32)
        self.assertEqual(before, self.pool_state())

    def test_pool_update_changing_a_unit_is_refused_whole(self):
        tsk_stg.crt_lu(self.read_tier(), 'fixed', 1)
        ssp_w = self.read_ssp()
        ssp_w.logical_units[0]._capacity(2)
        # A valid new unit in the same request is not made either.
        ssp_w.logical_units.append(pvm_stg.LU.bld(self.adapter, 'new', 1))
        before = self.pool_state()
        exc = self.assertRaises(pvm_exc.HttpError, ssp_w.update)
        self.assert_refused(exc, 400, ssp_model.FIXED_UNIT, 'fixed')
        self.assertEqual(before, self.pool_state())

    def test_stale_pool_update_gets_412(self):
        stale = self.read_ssp()
        tsk_stg.crt_lu(self.read_tier(), 'other', 1)
        stale.logical_units.append(pvm_stg.LU.bld(self.adapter, 'late', 1))
        before = self.pool_state()
        exc = self.assertRaises(pvm_exc.HttpError, stale.update)
        self.assert_refused(exc, 412, self.pool.uuid)
        self.assertEqual(before, self.pool_state())


class TwoServersBase(testtools.TestCase):
    """Two servers, each with a client LPAR; ``shared`` says whether their
    VIOSes form one SSP cluster."""

    shared = True

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(
            systems=2, lpars=1, shared_ssp=self.shared))
        self.model = self.sim.model
        self.adapters = [self.sim.adapter(0), self.sim.adapter(1)]

    def lpar_of(self, index):
        system = self.sim.endpoints[index].system
        [lpar] = [p for p in system.partitions
                  if not p.is_mgmt and not p.is_vios]
        return lpar

    def tier_w(self, index):
        adapter = self.adapters[index]
        [cluster_w] = pvm_clust.Cluster.get(adapter)
        return tsk_stg.default_tier_for_ssp(pvm_stg.SSP.wrap(
            adapter.read_by_href(cluster_w.ssp_uri)))

    def map_lu(self, index, lu_w, vios):
        """Map ``lu_w`` (named by reference, as nova's SSP driver does)
        through endpoint ``index`` to its system's LPAR."""
        lu_ref = pvm_stg.LU.bld_ref(self.adapters[index], lu_w.name,
                                    lu_w.udid)
        scsi_mapper.add_vscsi_mapping(None, vios.uuid,
                                      self.lpar_of(index).uuid, lu_ref)

    def upload(self, index, lu_w, vios, data):
        """Upload ``data`` into ``lu_w`` through ``vios`` (endpoint
        ``index``)."""
        lu_ref = pvm_stg.LU.bld_ref(self.adapters[index], lu_w.name,
                                    lu_w.udid)
        tsk_stg.upload_lu(vios.uuid, lu_ref, io.BytesIO(data), len(data))


class TestSharedPool(TwoServersBase):
    """One cluster over the VIOSes of two servers (shared_ssp): each
    server's NovaLink serves the same cluster, pool, tier and units."""

    def test_every_endpoint_serves_one_cluster_of_all_vioses(self):
        [cluster] = self.model.clusters()
        vioses = self.model.vioses()
        self.assertEqual(4, len(vioses))
        self.assertEqual(vioses, cluster.vioses)
        for index, endpoint in enumerate(self.sim.endpoints):
            self.assertEqual([cluster], self.model.clusters(endpoint.system))
            adapter = self.adapters[index]
            base = '%s://%s:%d' % (endpoint.protocol, endpoint.host,
                                   endpoint.port)
            [cluster_w] = pvm_clust.Cluster.get(adapter)
            self.assertEqual(cluster.uuid, cluster_w.uuid)
            self.assertTrue(cluster_w.ssp_uri.startswith(base))
            # Each node names its own server: nova's SSP driver keeps the
            # nodes of its host.
            self.assertEqual(
                [(v.uuid, v.parent.uuid, v.parent.serial) for v in vioses],
                [(n.vios_uuid, pvm_util.get_req_path_uuid(
                    n.vios_uri, preserve_case=True, root=True),
                  n.mtms.serial) for n in cluster_w.nodes])
            self.assertEqual(4, len({n.hostname for n in cluster_w.nodes}))
            tier_w = self.tier_w(index)
            self.assertEqual(cluster.ssp.default_tier.uuid, tier_w.uuid)
            self.assertTrue(tier_w.href.startswith(base))
            [ssp_w] = pvm_stg.SSP.get(adapter)
            self.assertEqual(cluster.ssp.uuid, ssp_w.uuid)

    def test_a_unit_made_through_one_host_maps_through_the_other(self):
        appid = 'shared-pool-listener'
        for adapter in self.adapters:
            pvm_event.Event.get(adapter, appid)   # NEW_CLIENT
        _, lu_w = tsk_stg.crt_lu(self.tier_w(0), 'boot_shared', 1)
        # Both NovaLinks report the new unit.
        for adapter in self.adapters:
            self.assertIn(
                (pvm_event.EventType.ADD_URI, lu_w.uuid),
                [(e.etype, e.data.rsplit('/', 1)[-1])
                 for e in pvm_event.Event.get(adapter, appid)])
        [seen_w] = pvm_stg.LUEnt.get(self.adapters[1],
                                     parent=self.tier_w(1))
        self.assertEqual((lu_w.uuid, lu_w.udid, False),
                         (seen_w.uuid, seen_w.udid, seen_w.in_use))
        vios = self.model.vioses(self.sim.endpoints[1].system)[0]
        self.map_lu(1, lu_w, vios)
        [smap] = [m for m in pvm_vios.VIOS.get(
            self.adapters[1], uuid=vios.uuid,
            xag=[pvm_const.XAG.VIO_SMAP]).scsi_mappings if m.backing_storage]
        self.assertEqual(lu_w.udid, smap.backing_storage.udid)
        # Mapped on the other server's VIOS: in use as the first sees it.
        [lu_w] = pvm_stg.LUEnt.get(self.adapters[0], parent=self.tier_w(0))
        self.assertTrue(lu_w.in_use)
        self.assertRaises(pvm_exc.HttpError, lu_w.delete)

    def test_an_image_uploaded_through_one_host_is_read_by_the_other(self):
        _, lu_w = tsk_stg.crt_lu(self.tier_w(0), 'image_shared', 1,
                                 typ=IMAGE)
        data = pattern(64 * 1024)
        vios = self.model.vioses(self.sim.endpoints[1].system)[1]
        self.upload(1, lu_w, vios, data)
        with self.model.content.open_reader(lu_w.udid) as blob:
            self.assertEqual(data, blob.read(len(data)))


class TestSeparatePools(TwoServersBase):
    """Without shared_ssp each server has a cluster of its own, whose
    units the other server's VIOSes cannot map."""

    shared = False

    def test_a_unit_of_another_servers_pool_is_refused(self):
        _, lu_w = tsk_stg.crt_lu(self.tier_w(0), 'boot_local', 1)
        vios = self.model.vioses(self.sim.endpoints[1].system)[0]
        before = list(vios.scsi_mappings)
        exc = self.assertRaises(pvm_exc.HttpError, self.map_lu, 1, lu_w,
                                vios)
        self.assertEqual(400, exc.response.status)
        self.assertIn('%s Logical unit %s is in no shared storage pool '
                      'of a cluster %s is a node of' % (
                          ssp_model.UNKNOWN_UNIT, lu_w.udid, vios.name),
                      exc.her_wrap.message)
        self.assertEqual(before, vios.scsi_mappings)
        # Nor can its bytes be uploaded through that VIOS.
        exc = self.assertRaises(pvm_exc.HttpError, self.upload, 1, lu_w,
                                vios, b'x' * 512)
        self.assertEqual(400, exc.response.status)
        self.assertIn(ssp_model.UNKNOWN_UNIT, exc.her_wrap.message)

    def test_each_endpoint_serves_the_cluster_of_its_vioses(self):
        for index, endpoint in enumerate(self.sim.endpoints):
            [cluster] = self.model.clusters(endpoint.system)
            [cluster_w] = pvm_clust.Cluster.get(self.adapters[index])
            self.assertEqual(cluster.uuid, cluster_w.uuid)
            self.assertEqual(self.model.vioses(endpoint.system),
                             cluster.vioses)
