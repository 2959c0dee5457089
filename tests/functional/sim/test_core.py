"""pypowervm's public API against the simulator: logon, reads, LPAR CRUD,
search, quick properties, etags, re-login.  No driver code."""

from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cna as pvm_cna
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import fixture


def build_lpar(adapter, host, name='inst1', mem=2048, vcpu=2,
               proc_units='0.2', uuid=None):
    attrs = {lpar_builder.NAME: name, lpar_builder.MEM: mem,
             lpar_builder.VCPU: vcpu, lpar_builder.PROC_UNITS: proc_units}
    stdz = lpar_builder.DefaultStandardize(host)
    wrapper = lpar_builder.LPARBuilder(adapter, attrs, stdz).build()
    if uuid:
        wrapper.uuid = uuid
    return wrapper.create(parent=host)


class TestCore(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=2))
        self.adapter = self.sim.adapter()
        self.host = pvm_ms.System.get(self.adapter)[0]

    def test_file_auth_logon_reports_novalink(self):
        self.assertTrue(self.adapter.traits.local_api)
        self.assertFalse(self.adapter.traits.has_lpar_profiles)
        self.assertEqual(self.sim.model.systems[0].uuid, self.host.uuid)

    def test_system_reports_capacity_from_the_model(self):
        system = self.sim.model.systems[0]
        self.assertEqual(system.memory_configurable,
                         self.host.memory_configurable)
        self.assertEqual(system.memory_available, self.host.memory_free)
        self.assertAlmostEqual(system.proc_units_available,
                               self.host.proc_units_avail)
        self.assertTrue(self.host.get_capability('active_lpar_mobility_capable'))
        self.assertIn('POWER9', self.host.proc_compat_modes)

    def test_lpar_feed_and_management_partition(self):
        lpars = pvm_lpar.LPAR.get(self.adapter)
        self.assertEqual(3, len(lpars))
        mgmt = [w for w in lpars if w.is_mgmt_partition]
        self.assertEqual(1, len(mgmt))
        self.assertEqual(pvm_bp.LPARState.RUNNING, mgmt[0].state)
        vioses = pvm_vios.VIOS.get(self.adapter, xag=[])
        self.assertEqual(2, len(vioses))
        self.assertEqual('active', vioses[0].rmc_state)

    def test_create_lpar_honours_client_uuid_and_uses_capacity(self):
        system = self.sim.model.systems[0]
        free_before = system.memory_available
        uuid = '1b2c3d4e-0000-4000-8000-00000000abcd'
        lpar = build_lpar(self.adapter, self.host, uuid=uuid.upper())
        self.assertEqual(uuid, lpar.uuid.lower())
        self.assertEqual(2048, lpar.mem_config.desired)
        self.assertEqual(pvm_bp.LPARState.NOT_ACTIVATED, lpar.state)
        self.assertGreater(lpar.id, 1)
        self.assertEqual(free_before - 2048, system.memory_available)
        got = pvm_lpar.LPAR.get(self.adapter, uuid=uuid)
        self.assertEqual('inst1', got.name)

    def test_search_and_quick_properties(self):
        lpar = build_lpar(self.adapter, self.host, name='find me')
        found = pvm_lpar.LPAR.search(self.adapter, name='find me')
        self.assertEqual([lpar.uuid], [w.uuid for w in found])
        state = self.adapter.read(pvm_lpar.LPAR.schema_type,
                                  root_id=lpar.uuid, suffix_type='quick',
                                  suffix_parm='PartitionState').body
        self.assertEqual('"not activated"', state)

    def test_update_changes_etag_and_stale_etag_is_rejected(self):
        lpar = build_lpar(self.adapter, self.host)
        stale = pvm_lpar.LPAR.get(self.adapter, uuid=lpar.uuid)
        lpar.name = 'renamed'
        lpar = lpar.update()
        self.assertNotEqual(stale.etag, lpar.etag)
        self.assertEqual('renamed', self.sim.model.get(lpar.uuid).name)
        stale.name = 'lost update'
        err = self.assertRaises(pvm_exc.HttpError, stale.update)
        self.assertEqual(412, err.response.status)
        self.assertEqual('renamed', self.sim.model.get(lpar.uuid).name)

    def test_delete_lpar_frees_capacity(self):
        system = self.sim.model.systems[0]
        free_before = system.memory_available
        lpar = build_lpar(self.adapter, self.host)
        self.adapter.delete(pvm_lpar.LPAR.schema_type, root_id=lpar.uuid)
        self.assertEqual(free_before, system.memory_available)
        self.assertRaises(pvm_exc.HttpNotFound, pvm_lpar.LPAR.get,
                          self.adapter, uuid=lpar.uuid)

    def test_capacity_is_enforced_with_a_novalink_message(self):
        err = self.assertRaises(
            pvm_exc.HttpError, build_lpar, self.adapter, self.host,
            mem=1024 * 1024)
        self.assertIn('HSCL1544', err.response.body)
        self.assertEqual(3, len(self.sim.model.lpars()))

    def test_cna_created_on_lpar(self):
        lpar = build_lpar(self.adapter, self.host)
        from pypowervm.tasks import cna
        adpt = cna.crt_cna(self.adapter, None, lpar.uuid, 100)
        self.assertEqual(100, adpt.pvid)
        self.assertTrue(adpt.mac)
        self.assertGreaterEqual(adpt.slot, 2)
        cnas = pvm_net.CNA.get(self.adapter, parent=lpar)
        self.assertEqual([adpt.uuid], [c.uuid for c in cnas])

    def test_expired_session_is_renewed_by_relogin(self):
        self.sim.simulator.sessions.expire_all()
        lpars = pvm_lpar.LPAR.get(self.adapter)
        self.assertEqual(3, len(lpars))

    def test_group_none_omits_sections(self):
        resp = self.adapter.read(pvm_vios.VIOS.schema_type,
                                 xag=[pvm_const.XAG.VIO_SMAP])
        self.assertIn('VirtualSCSIMappings', resp.body)
        self.assertNotIn('MediaRepositories', resp.body)


class TestEachNovaLinkKnowsItsOwnSystem(testtools.TestCase):
    """A NovaLink serves the objects of its own managed system alone: by
    UUID too, another system's are not found."""

    def test_another_systems_objects_are_not_found(self):
        sim = self.useFixture(fixture.NovaLinkFixture(systems=2, lpars=1))
        adapter = sim.adapter(0)
        other = sim.endpoints[1].system
        [lpar] = [p for p in other.partitions
                  if not p.is_vios and not p.is_mgmt]
        vios = sim.model.vioses(other)[0]
        for path in (
                'ManagedSystem/%s' % other.uuid,
                'ManagedSystem/%s/LogicalPartition' % other.uuid,
                'LogicalPartition/%s' % lpar.uuid,
                'LogicalPartition/%s/quick/PartitionState' % lpar.uuid,
                'LogicalPartition/%s/do/PowerOn' % lpar.uuid,
                'VirtualIOServer/%s' % vios.uuid):
            self.assertRaises(pvm_exc.HttpNotFound, adapter.read_by_path,
                              '/rest/api/uom/' + path)
        # Its own NovaLink serves them.
        self.assertEqual(lpar.uuid, pvm_lpar.LPAR.get(
            sim.adapter(1), uuid=lpar.uuid).uuid)


class TestPartitionUUIDsPerSystem(testtools.TestCase):
    """Each NovaLink keeps its own system's partitions: another system may
    have one with the same UUID (as a cold migration makes it, before the
    source's is deleted)."""

    UUID = '2b2c3d4e-0000-4000-8000-00000000abcd'

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(systems=2))
        self.adapters = [self.sim.adapter(0), self.sim.adapter(1)]
        self.hosts = [pvm_ms.System.get(adapter)[0]
                      for adapter in self.adapters]

    def create(self, index, name):
        return build_lpar(self.adapters[index], self.hosts[index], name=name,
                          uuid=self.UUID.upper())

    def test_each_system_serves_its_own_partition_of_the_uuid(self):
        self.create(0, 'source')
        self.create(1, 'target')
        for index, name in enumerate(('source', 'target')):
            lpar_w = pvm_lpar.LPAR.get(self.adapters[index], uuid=self.UUID)
            self.assertEqual(name, lpar_w.name)
            lpar_w.name = name + '2'
            lpar_w.update()
        adpt = pvm_cna.crt_cna(self.adapters[1], None, self.UUID, 100)
        [mine] = pvm_net.CNA.get(self.adapters[1], parent_type=pvm_lpar.LPAR,
                                 parent_uuid=self.UUID)
        self.assertEqual(adpt.uuid, mine.uuid)
        self.assertEqual([], pvm_net.CNA.get(
            self.adapters[0], parent_type=pvm_lpar.LPAR,
            parent_uuid=self.UUID))
        # Deleting one leaves the other.
        self.adapters[0].delete(pvm_lpar.LPAR.schema_type,
                                root_id=self.UUID)
        self.assertRaises(pvm_exc.HttpNotFound, pvm_lpar.LPAR.get,
                          self.adapters[0], uuid=self.UUID)
        self.assertEqual('target2', pvm_lpar.LPAR.get(
            self.adapters[1], uuid=self.UUID).name)
        self.assertEqual(['target2'], [
            lpar.name for lpar in self.sim.model.lpars()
            if lpar.uuid.lower() == self.UUID])

    def test_a_second_partition_of_the_uuid_on_one_system_is_refused(self):
        self.create(0, 'first')
        err = self.assertRaises(pvm_exc.HttpError, self.create, 0, 'twin')
        self.assertEqual(409, err.response.status)
        self.assertIn('HSCL3A3C', err.response.body)
