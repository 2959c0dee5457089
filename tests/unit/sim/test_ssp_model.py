"""The shared storage pool model: the cluster a fresh system starts with,
LU creation and removal, the pool's LU list as desired state, linked
clones' content, space accounting, and the documents' schemas."""

import os
import types

import fixtures
from lxml import etree
import testtools

from powervm_sim import files
from powervm_sim import model as model_mod
from powervm_sim.model import builder
from powervm_sim.model import registry
from powervm_sim.model import ssp
from powervm_sim.model import storage
from powervm_sim.wire import spec
from powervm_sim.wire.schemas import ssp as ssp_schema

GIB = storage.GIB
MB = 1024 * 1024


def built_model(test, systems=1, vioses=2, shared_ssp=False):
    model = model_mod.Model()
    builder.build(model, systems=systems, vioses=vioses,
                  shared_ssp=shared_ssp)
    test.addCleanup(model.content.close)
    return model


def listed(pool, extra=()):
    """The LU list a client posts back: the pool as read, plus ``extra``.
    """
    return {'logical_units': [
        {'name': lu.name, 'udid': lu.udid, 'capacity_gb': lu.capacity_gb,
         'thin': lu.thin, 'lu_type': lu.lu_type}
        for lu in pool.logical_units] + list(extra)}


class TestBuiltCluster(testtools.TestCase):

    def test_each_system_gets_one_cluster_of_its_vioses(self):
        model = built_model(self, systems=2, vioses=2)
        for system in model.systems:
            [cluster] = model.clusters(system)
            self.assertEqual(
                [p for p in system.partitions if p.is_vios],
                cluster.vioses)
            self.assertIs(system, cluster.parent)
            self.assertIs(cluster, cluster.ssp.parent)
            self.assertEqual(['hdisk6'], [pv.name for pv in
                                          cluster.repository_disks])
        clusters = model.clusters()
        self.assertEqual(2, len({c.hex_id for c in clusters}))
        self.assertEqual(2, len(model.shared_storage_pools()))
        self.assertEqual(2, len(model.tiers()))

    def test_shared_ssp_joins_the_vioses_of_every_system(self):
        model = built_model(self, systems=2, vioses=2, shared_ssp=True)
        [cluster] = model.clusters()
        self.assertEqual(model.vioses(), cluster.vioses)
        for system in model.systems:
            self.assertEqual([cluster], model.clusters(system))
            # Its objects are seen from each system, as each NovaLink
            # serves them; another system's VIOS is not.
            for obj in (cluster, cluster.ssp, cluster.ssp.default_tier):
                self.assertTrue(registry.served_under(obj, system))
        vios = model.vioses(model.systems[1])[0]
        self.assertFalse(registry.served_under(vios, model.systems[0]))
        self.assertEqual(
            ['%s-%s.sim.example.com' % (v.name, v.parent.serial.lower())
             for v in cluster.vioses],
            [node.hostname for node in cluster.nodes])
        self.assertEqual(['hdisk6'], [pv.name for pv in
                                      cluster.repository_disks])

    def test_no_vioses_no_cluster(self):
        model = built_model(self, vioses=0)
        self.assertEqual([], model.clusters())

    def test_identities_and_links(self):
        model = built_model(self)
        [cluster] = model.clusters()
        pool, tier = cluster.ssp, cluster.ssp.default_tier
        self.assertEqual('22' + cluster.hex_id, cluster.cluster_id)
        self.assertTrue(pool.udid.startswith('24' + cluster.hex_id))
        self.assertTrue(tier.udid.startswith('25' + cluster.hex_id))
        self.assertEqual('/rest/api/uom/Cluster/%s' % cluster.uuid,
                         cluster.href)
        self.assertEqual('/rest/api/uom/Cluster/%s/SharedStoragePool/%s' % (
            cluster.uuid, pool.uuid), cluster.ssp_href)
        self.assertEqual(['/rest/api/uom/SharedStoragePool/%s/Tier/%s' % (
            pool.uuid, tier.uuid)], pool.tier_hrefs)
        self.assertEqual('/rest/api/uom/Tier/%s' % tier.uuid, tier.href)
        node = cluster.nodes[0]
        self.assertEqual('/rest/api/uom/ManagedSystem/%s/VirtualIOServer/%s'
                         % (cluster.parent.uuid, node.vios.uuid),
                         node.vios_href)
        self.assertEqual('3.1.4.10', node.vios_level)

    def test_pool_space_of_two_disks(self):
        pool = built_model(self).clusters()[0].ssp
        self.assertEqual((512.0, 512.0, 0.0, 0.0),
                         (pool.capacity_gb, pool.free_gb, pool.total_lu_gb,
                          pool.over_commit_gb))
        self.assertEqual('35%', pool.alert_threshold_text)


class SSPModelTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        [self.cluster] = self.model.clusters()
        self.pool = self.cluster.ssp
        self.tier = self.pool.default_tier
        self.events = []
        self.model.registry.subscribe(
            lambda event, obj, detail: self.events.append(
                (event, obj.kind, detail)))

    def create(self, name, capacity=1.0, **fields):
        fields.update(name=name, capacity_gb=capacity)
        return self.model.create_logical_unit(self.tier, fields)

    def write(self, lu, data):
        with self.model.content.open_writer(lu.udid) as blob:
            blob.write(data)
            blob.truncate(lu.size_bytes)

    def read(self, lu, length):
        with self.model.content.open_reader(lu.udid) as blob:
            return blob.read(length)

    def state(self):
        return ([(lu, lu.name, lu.udid, lu.etag)
                 for lu in self.pool.logical_units],
                self.pool.etag, self.pool.free_bytes)


class TestCreateAndDelete(SSPModelTestBase):

    def test_new_units_get_udids_of_their_type_and_sparse_content(self):
        image = self.create('img', 2.0, lu_type=ssp.IMAGE)
        disk = self.create('disk', 1.0)
        self.assertEqual('29' + self.cluster.hex_id, image.udid[:34])
        self.assertEqual('27' + self.cluster.hex_id, disk.udid[:34])
        self.assertEqual(66, len(image.udid))
        self.assertTrue(int(image.udid, 16))
        self.assertEqual((True, ssp.DISK), (disk.thin, disk.lu_type))
        self.assertEqual(2 * GIB, self.model.content.size(image.udid))
        self.assertEqual(0, os.stat(self.model.content.path(
            image.udid)).st_blocks)
        self.assertIs(image, self.model.find_logical_unit(image.udid))
        self.assertIsNone(self.model.find_logical_unit('27' + '0' * 64))
        self.assertEqual('/rest/api/uom/Tier/%s/LogicalUnit/%s' % (
            self.tier.uuid, image.uuid), image.href)

    def test_create_and_delete_are_events_with_new_pool_etags(self):
        etag = self.pool.etag
        lu = self.create('evt')
        created_etag = self.pool.etag
        self.assertNotEqual(etag, created_etag)
        self.model.delete_logical_unit(lu)
        self.assertNotEqual(created_etag, self.pool.etag)
        self.assertEqual(
            [(registry.ADD, 'LogicalUnit', 'Other'),
             (registry.MODIFY, 'SharedStoragePool', 'LogicalUnit'),
             (registry.DELETE, 'LogicalUnit', 'Other'),
             (registry.MODIFY, 'SharedStoragePool', 'LogicalUnit')],
            self.events)
        self.assertFalse(self.model.content.exists(lu.udid))
        self.assertRaises(registry.NotFound, self.model.get, lu.uuid)

    def test_bad_units_are_refused(self):
        image = self.create('img', 2.0, lu_type=ssp.IMAGE)
        before = self.state()
        cases = (
            ({'name': '', 'capacity_gb': 1.0}, ssp.BAD_UNIT),
            ({'name': 'a' * 128, 'capacity_gb': 1.0}, ssp.BAD_UNIT),
            ({'name': 'ok', 'capacity_gb': 0.0}, ssp.BAD_UNIT),
            ({'name': 'ok'}, ssp.BAD_UNIT),
            ({'name': 'ok', 'capacity_gb': 1.0, 'lu_type': 'Floppy'},
             ssp.BAD_UNIT),
            ({'name': 'ok', 'capacity_gb': 513.0}, ssp.NO_SPACE),
            ({'name': 'ok', 'capacity_gb': 1.0,
              'cloned_from_udid': '29' + 'f' * 64}, ssp.UNKNOWN_UNIT),
            ({'name': 'ok', 'capacity_gb': 1.0,
              'cloned_from_udid': image.udid}, ssp.NO_SPACE),
        )
        for fields, code in cases:
            exc = self.assertRaises(registry.Conflict,
                                    self.model.create_logical_unit,
                                    self.tier, fields)
            self.assertEqual((code, 400), (exc.code, exc.status))
        self.assertEqual(before, self.state())

    def test_a_unit_with_clones_stays(self):
        image = self.create('img', 1.0, lu_type=ssp.IMAGE)
        clone = self.create('boot', 1.0, cloned_from_udid=image.udid)
        before = self.state()
        exc = self.assertRaises(registry.Conflict,
                                self.model.delete_logical_unit, image)
        self.assertEqual((ssp.HAS_CLONES, 409), (exc.code, exc.status))
        self.assertIn('boot', str(exc))
        self.assertEqual(before, self.state())
        self.model.delete_logical_unit(clone)
        self.model.delete_logical_unit(image)
        self.assertEqual([], self.pool.logical_units)

    def test_in_use_follows_the_mappings_of_the_nodes(self):
        lu = self.create('mapped')
        self.assertFalse(lu.in_use)
        vios = self.cluster.vioses[1]
        mapping = types.SimpleNamespace(storage=lu)
        vios.scsi_mappings.append(mapping)
        self.addCleanup(vios.scsi_mappings.remove, mapping)
        etags = (lu.etag, self.pool.etag)
        self.model.logical_unit_use_changed(lu)
        self.assertTrue(lu.in_use)
        self.assertNotEqual(etags, (lu.etag, self.pool.etag))


class TestDesiredState(SSPModelTestBase):

    def test_missing_units_go_new_ones_come_listed_ones_stay(self):
        keep, drop = self.create('keep'), self.create('drop')
        keep_etag = keep.etag
        fields = listed(self.pool, [{'name': 'new', 'capacity_gb': 3.0,
                                     'thin': False}])
        del fields['logical_units'][1]
        self.model.update_shared_storage_pool(self.pool, fields)
        self.assertEqual(['keep', 'new'],
                         [lu.name for lu in self.pool.logical_units])
        self.assertIs(keep, self.pool.logical_units[0])
        self.assertEqual(keep_etag, keep.etag)
        self.assertFalse(self.model.content.exists(drop.udid))
        new = self.pool.logical_units[1]
        self.assertEqual((False, 509.0), (new.thin, self.pool.free_gb))
        self.assertIs(self.tier, new.parent)

    def test_no_list_and_an_unchanged_list_change_nothing(self):
        self.create('one')
        before = self.state()
        self.model.update_shared_storage_pool(self.pool, {})
        self.model.update_shared_storage_pool(self.pool, listed(self.pool))
        self.assertEqual(before, self.state())

    def test_one_bad_item_refuses_the_whole_list(self):
        image = self.create('img', lu_type=ssp.IMAGE)
        self.create('boot', cloned_from_udid=image.udid)
        before = self.state()
        good = {'name': 'fine', 'capacity_gb': 1.0}
        bad_lists = (
            # A new unit too big, after a good one.
            (listed(self.pool, [good, {'name': 'big',
                                       'capacity_gb': 600.0}]),
             ssp.NO_SPACE),
            # The image dropped while its clone stays.
            ({'logical_units': [listed(self.pool)['logical_units'][1],
                                good]}, ssp.HAS_CLONES),
            # A UDID the pool does not hold.
            (listed(self.pool, [dict(good, udid='27' + 'e' * 64)]),
             ssp.UNKNOWN_UNIT),
            # The same unit twice.
            (listed(self.pool, listed(self.pool)['logical_units'][:1]),
             ssp.BAD_UNIT),
            # A listed unit renamed.
            ({'logical_units': [dict(item, name='renamed')
                                for item in listed(self.pool)[
                                    'logical_units']]}, ssp.FIXED_UNIT),
        )
        for fields, code in bad_lists:
            exc = self.assertRaises(registry.Conflict,
                                    self.model.update_shared_storage_pool,
                                    self.pool, fields)
            self.assertEqual(code, exc.code)
        self.assertEqual(before, self.state())

    def test_image_and_its_clones_may_go_together(self):
        image = self.create('img', lu_type=ssp.IMAGE)
        self.create('boot', cloned_from_udid=image.udid)
        self.model.update_shared_storage_pool(self.pool,
                                              {'logical_units': []})
        self.assertEqual([], self.pool.logical_units)

    def test_removal_frees_space_for_units_of_the_same_request(self):
        self.create('big', 500.0, thin=False)
        self.model.update_shared_storage_pool(self.pool, {'logical_units': [
            {'name': 'other', 'capacity_gb': 500.0, 'thin': False}]})
        self.assertEqual(['other'],
                         [lu.name for lu in self.pool.logical_units])


class TestContentAndSpace(SSPModelTestBase):

    def test_same_size_clone_shares_its_image_blob(self):
        image = self.create('img', 0.01, lu_type=ssp.IMAGE)
        self.write(image, b'golden' * 1000)
        clone = self.create('boot', 0.01, cloned_from_udid=image.udid)
        self.assertEqual(os.stat(self.model.content.path(image.udid)).st_ino,
                         os.stat(self.model.content.path(clone.udid)).st_ino)
        self.assertEqual(b'golden' * 1000, self.read(clone, 6000))
        # The clone's own write breaks the link; the image keeps its bytes.
        self.write(clone, b'mine')
        self.assertEqual(b'golden', self.read(image, 6))
        self.assertEqual(b'mine', self.read(clone, 4))

    def test_larger_clone_copies_data_and_keeps_holes(self):
        image = self.create('img', 0.01, lu_type=ssp.IMAGE)
        self.write(image, b'golden' * 1000)
        clone = self.create('boot', 2.0, cloned_from_udid=image.udid)
        self.assertEqual(2 * GIB, self.model.content.size(clone.udid))
        self.assertEqual(b'golden' * 1000, self.read(clone, 6000))
        self.assertLess(os.stat(self.model.content.path(
            clone.udid)).st_blocks * 512, MB)

    def test_thin_units_count_what_they_wrote_clones_only_their_own(self):
        image = self.create('img', 1.0, lu_type=ssp.IMAGE)
        self.write(image, b'\1' * (8 * MB))
        # Measured when the pool next changes.
        clone = self.create('boot', 2.0, cloned_from_udid=image.udid)
        # Within the file system's allocation granularity.
        self.assertAlmostEqual(8 * MB, image.used_bytes, delta=64 * 1024)
        self.assertEqual(0, clone.used_bytes)
        thick = self.create('thick', 10.0, thin=False)
        self.assertEqual(thick.size_bytes, thick.consumed_bytes)
        self.assertEqual(512 * GIB - image.used_bytes - 10 * GIB,
                         self.pool.free_bytes)

    def test_copy_data_regions_skips_holes(self):
        folder = self.useFixture(fixtures.TempDir()).path
        source_path = os.path.join(folder, 'source')
        with open(source_path, 'wb') as source:
            source.write(b'head')
            source.seek(64 * MB)
            source.write(b'tail')
        target_path = os.path.join(folder, 'target')
        with open(source_path, 'rb') as reader, \
                open(target_path, 'wb') as writer:
            files.copy_data_regions(reader, writer)
        with open(target_path, 'rb') as copied:
            self.assertEqual(b'head', copied.read(4))
            copied.seek(64 * MB)
            self.assertEqual(b'tail', copied.read())
        self.assertLess(os.stat(target_path).st_blocks * 512, MB)


class TestSchemas(SSPModelTestBase):

    def render(self, schema, obj):
        xml = spec.Renderer('http://sim').object(schema, obj)
        return etree.fromstring(xml)

    def test_pool_document_lists_units_and_links(self):
        image = self.create('img', 1.0, lu_type=ssp.IMAGE)
        self.create('boot', 1.0, cloned_from_udid=image.udid)
        root = self.render(ssp_schema.SHARED_STORAGE_POOL, self.pool)
        ns = {'u': spec.UOM_NS}
        units = root.findall('u:LogicalUnits/u:LogicalUnit', ns)
        self.assertEqual(['img', 'boot'],
                         [u.findtext('u:UnitName', namespaces=ns)
                          for u in units])
        self.assertEqual(image.udid, units[1].findtext('u:ClonedFrom',
                                                       namespaces=ns))
        self.assertIsNone(units[0].find('u:ClonedFrom', ns))
        self.assertEqual('http://sim' + self.pool.tier_hrefs[0],
                         root.find('u:AssociatedTiers/u:link', ns).get(
                             'href'))
        self.assertEqual('512.0', root.findtext('u:Capacity', namespaces=ns))

    def test_logical_unit_body_parses_the_identity_a_client_sends(self):
        body = ('<LogicalUnit xmlns="%s"><ThinDevice>false</ThinDevice>'
                '<UniqueDeviceID>27ab</UniqueDeviceID>'
                '<UnitCapacity>1.500000</UnitCapacity>'
                '<InUse>true</InUse><UnitName>x</UnitName></LogicalUnit>'
                % spec.UOM_NS)
        fields = spec.parse(ssp_schema.LOGICAL_UNIT, etree.fromstring(body))
        self.assertEqual({'thin': False, 'udid': '27ab', 'capacity_gb': 1.5,
                          'name': 'x'}, fields)

    def test_logical_unit_body_nests_in_other_documents(self):
        outline = spec.compile_schema(
            'Storage\n    LogicalUnit' + ssp_schema.LOGICAL_UNIT_BODY)
        [unit] = outline.children
        self.assertEqual(
            ['ThinDevice', 'UniqueDeviceID', 'UnitCapacity',
             'LogicalUnitType', 'ClonedFrom', 'InUse', 'UnitName'],
            [child.tag for child in unit.children])

