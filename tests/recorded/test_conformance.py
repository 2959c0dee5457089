"""The simulator's XML against XML from real POWER hardware.

For each resource type, the element paths of the real recordings (the HMC
cassettes in ../shared/recorded and pypowervm's bundled captures) are
compared with what the simulator serves through pypowervm.  The floors below
are the coverage measured when each type was last improved: a change that
drops below one fails; raise a floor when the simulator gets closer.
"""

import functools

from pypowervm import const as pvm_const
from pypowervm.tasks import cna
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import fixture
from tests.recorded import fidelity
from tests.recorded import paths
from tests.recorded import recordings

# Fraction of real element paths the simulator must serve, per type.
FLOORS = {
    'ManagedSystem': 0.95,
    'LogicalPartition': 0.73,
    'VirtualIOServer': 0.89,
    'ClientNetworkAdapter': 0.75,
    'VirtualSwitch': 0.88,
}


@functools.lru_cache(maxsize=1)
def real_interactions():
    return fidelity.load_real_interactions()


class TestConformance(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=1))
        self.adapter = self.sim.adapter()
        self.host = pvm_ms.System.get(self.adapter)[0]
        # Real captures hold partitions of every kind, so the simulator
        # is given the same variety, all through pypowervm: a client LPAR
        # with network and storage adapters of each kind, a dedicated-
        # processor LPAR, an IBM i LPAR and a dedicated-processor VIOS
        # with a plain virtual Ethernet adapter.
        lpar = self.sim.model.lpars()[-1]
        self._add_adapters(lpar)
        self._add_mappings(lpar)
        self._add_partitions()
        self._dedicate_vios(self.sim.model.vioses()[-1])

    def _add_adapters(self, lpar):
        cna.crt_cna(self.adapter, None, lpar.uuid, 42)
        vios = self.sim.model.vioses()[0]
        vswitch = pvm_net.VSwitch.search(
            self.adapter, parent_type=pvm_ms.System,
            parent_uuid=self.host.uuid, name='ETHERNET0')[0]
        pvm_net.CNA.bld(self.adapter, 43, vswitch.related_href).create(
            parent_type=pvm_vios.VIOS, parent_uuid=vios.uuid)

    def _add_mappings(self, lpar):
        # One vSCSI mapping per kind of storage, and an NPIV mapping.
        vios = self.sim.model.vioses()[0]
        vdisk = tsk_stg.crt_vdisk(self.adapter, vios.uuid,
                                  vios.volume_groups[-1].uuid, 'disk1', 1)
        [tier] = pvm_stg.Tier.get(self.adapter)
        _tier, image = tsk_stg.crt_lu(tier, 'image1', 1,
                                      typ=pvm_stg.LUType.IMAGE)
        _tier, lu = tsk_stg.crt_lu(tier, 'boot1', 1, clone=image)
        [media] = vios.media_repositories[0].media
        for storage in (vdisk, lu, pvm_stg.PV.bld(self.adapter, 'hdisk3'),
                        pvm_stg.VOptMedia.bld_ref(self.adapter, media.name)):
            scsi_mapper.add_vscsi_mapping(None, vios.uuid, lpar.uuid,
                                          storage)
        vioses = pvm_vios.VIOS.get(self.adapter,
                                   xag=[pvm_const.XAG.VIO_FMAP])
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.host.uuid)
        ports = [port.wwpn for vios_w in vioses for port in vios_w.pfc_ports]
        for port_map in vfc_mapper.derive_npiv_map(vioses, ports[:1],
                                                   wwpns):
            vios_w = vfc_mapper.find_vios_for_port_map(vioses, port_map)
            vfc_mapper.add_map(vios_w, self.host.uuid, lpar.uuid, port_map)
            vios_w.update()

    def _add_partitions(self):
        standard = lpar_builder.DefaultStandardize(self.host)
        for attrs in ({'name': 'dedicated', 'memory': 2048, 'vcpu': 2,
                       'dedicated_proc': 'true'},
                      {'name': 'ibmi', 'memory': 2048, 'vcpu': 1,
                       'env': pvm_bp.LPARType.OS400}):
            lpar_builder.LPARBuilder(self.adapter, attrs,
                                     standard).build().create(
                parent=self.host)

    def _dedicate_vios(self, vios):
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=vios.uuid, xag=[])
        dedicated = pvm_bp.PartitionProcessorConfiguration.bld_dedicated
        vios_w.proc_config = dedicated(self.adapter, 2, min_proc=1,
                                       max_proc=4)
        vios_w.update()

    def _sim_paths(self, rtype):
        model = self.sim.model
        system = model.systems[0]
        urls = {
            'ManagedSystem': ['/ManagedSystem'],
            'LogicalPartition': ['/LogicalPartition'],
            'VirtualIOServer': ['/VirtualIOServer'],
            'VirtualSwitch': ['/ManagedSystem/%s/VirtualSwitch' %
                              system.uuid],
            'ClientNetworkAdapter': [
                '/LogicalPartition/%s/ClientNetworkAdapter' % lpar.uuid
                for lpar in model.lpars()],
        }[rtype]
        found = set()
        for url in urls:
            resp = self.adapter.read_by_path('/rest/api/uom' + url)
            if resp.status == 204:
                continue
            for kind, element in recordings.iter_atom_objects(
                    resp.body):
                if kind == rtype:
                    found |= paths.element_paths(element)
        return found

    def test_coverage_per_type_does_not_drop(self):
        rows = []
        failures = []
        for rtype, floor in sorted(FLOORS.items()):
            real = paths.collect_paths(real_interactions(), rtype)
            self.assertTrue(real, 'no real recordings of %s' % rtype)
            result = paths.coverage(real, self._sim_paths(rtype))
            rows.append((rtype, result))
            if result.ratio < floor:
                failures.append('%s: %.2f < floor %.2f; missing e.g. %s' % (
                    rtype, result.ratio, floor, list(result.missing)[:5]))
        self.addDetail('coverage', testtools.content.text_content(
            paths.format_table(rows)))
        self.assertEqual([], failures)
