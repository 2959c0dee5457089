# Copyright 2024 The nova-powervm authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""How faithful the simulator's XML is to real PowerVM, type by type.

Run ``python -m tests.recorded.fidelity [--update-baseline] [--json]``.
For each resource type both the real recordings and the simulator have,
it reports how many real element paths the simulator serves, which it
lacks, which sibling elements it orders unlike the real XML, and at which
shared leaf paths its values are of another kind (an integer where real
XML has a UUID, say).  fidelity_baseline.json holds the last accepted
measurement; test_fidelity.py fails when a type falls behind it.
"""

import argparse
import dataclasses
import glob
import json
import os
import re
import sys

from pypowervm import const as pvm_const
from pypowervm.tasks import cna
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from powervm_sim import fixture
from tests.recorded import paths
from tests.recorded import recordings
from tests.recorded import scenarios

BASELINE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             'fidelity_baseline.json')
# Coverage may wobble this much below the baseline without failing.
COVERAGE_TOLERANCE = 0.005
# How many missing paths the report and failure messages show.
SHOWN_MISSING = 8

_URI_PREFIX = '/rest/api/uom'

# Kinds of leaf text, tried in this order (the first match wins).
EMPTY = 'empty'
BOOL = 'bool'
INT = 'int'
FLOAT = 'float'
UUID = 'uuid'
HREF = 'href'
TEXT = 'text'
_KIND_PATTERNS = (
    (BOOL, re.compile(r'(?i)true|false')),
    (INT, re.compile(r'[-+]?\d+')),
    (FLOAT, re.compile(r'[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?')),
    (UUID, re.compile(r'[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}')),
    (HREF, re.compile(r'https?://\S+')),
)

# Objects nested inside another type's document: (container type, path
# of the nested objects below the container).
NESTED = (
    ('SharedStoragePool', 'LogicalUnits/LogicalUnit'),
    ('VirtualIOServer', 'VirtualSCSIMappings/VirtualSCSIMapping'),
    ('VirtualIOServer',
     'VirtualFibreChannelMappings/VirtualFibreChannelMapping'),
    ('VirtualIOServer', 'SharedEthernetAdapters/SharedEthernetAdapter'),
    ('VirtualIOServer', 'TrunkAdapters/TrunkAdapter'),
    ('VolumeGroup', 'VirtualDisks/VirtualDisk'),
    ('VolumeGroup', 'PhysicalVolumes/PhysicalVolume'),
)


def classify(text):
    """The kind of a leaf element's text: one of the kind constants."""
    stripped = (text or '').strip()
    if not stripped:
        return EMPTY
    for kind, pattern in _KIND_PATTERNS:
        if pattern.fullmatch(stripped):
            return kind
    return TEXT


def _element_children(element):
    return [child for child in element if isinstance(child.tag, str)]


def iter_leaf_texts(element, parent_path=paths.ROOT_PATH):
    """Yield (path, text) for every element without element children."""
    for child in _element_children(element):
        name = recordings.local_name(child)
        path = parent_path + paths.SEPARATOR + name if parent_path else name
        if _element_children(child):
            yield from iter_leaf_texts(child, path)
        else:
            yield path, child.text


def leaf_kinds(elements):
    """Leaf path -> set of kinds of its text, over all the elements."""
    kinds = {}
    for element in elements:
        for path, text in iter_leaf_texts(element):
            kinds.setdefault(path, set()).add(classify(text))
    return kinds


def kind_mismatches(real_kinds, sim_kinds):
    """Shared leaf paths where the simulator serves a kind never seen.

    Real XML may itself vary (an empty value here, a number there); the
    simulator is only faulted for kinds the real XML never has at that
    path.  Returns sorted (path, real kinds, simulator kinds).
    """
    return [(path, tuple(sorted(real_kinds[path])),
             tuple(sorted(sim_kinds[path])))
            for path in sorted(set(real_kinds) & set(sim_kinds))
            if sim_kinds[path] - real_kinds[path]]


def _largest(elements):
    # The object with the most elements says most about sibling order.
    return max(elements, key=lambda element: sum(1 for _ in element.iter()),
               default=None)


@dataclasses.dataclass(frozen=True)
class TypeReport:
    """The fidelity of one resource type."""

    name: str
    coverage: paths.Coverage
    order_disagreements: tuple
    type_mismatches: tuple

    def summary(self):
        """The baseline record of this type (plain JSON values)."""
        return {
            'real': self.coverage.real_count,
            'covered': self.coverage.covered_count,
            'coverage': round(self.coverage.ratio, 4),
            'order_disagreements': len(self.order_disagreements),
            'type_mismatches': len(self.type_mismatches),
            'missing': list(self.coverage.missing),
        }


def compare(name, real_elements, sim_elements):
    """The TypeReport of one type from its real and simulated objects."""
    real_paths = set().union(*map(paths.element_paths, real_elements))
    sim_paths = set().union(*map(paths.element_paths, sim_elements))
    real_sample = _largest(real_elements)
    sim_sample = _largest(sim_elements)
    disagreements = ()
    if real_sample is not None and sim_sample is not None:
        disagreements = tuple(paths.order_disagreements(real_sample,
                                                        sim_sample))
    return TypeReport(
        name=name,
        coverage=paths.coverage(real_paths, sim_paths),
        order_disagreements=disagreements,
        type_mismatches=tuple(kind_mismatches(leaf_kinds(real_elements),
                                              leaf_kinds(sim_elements))))


def _regressions(name, measured, expected, tolerance):
    problems = []
    if measured['coverage'] < expected['coverage'] - tolerance:
        lost = sorted(set(measured['missing'])
                      - set(expected.get('missing', ())))
        shown = lost or measured['missing']
        problems.append('%s: coverage %.4f < baseline %.4f; missing %s' % (
            name, measured['coverage'], expected['coverage'],
            shown[:SHOWN_MISSING]))
    for key in ('order_disagreements', 'type_mismatches'):
        if measured[key] > expected[key]:
            problems.append('%s: %s %d > baseline %d' % (
                name, key.replace('_', ' '), measured[key], expected[key]))
    return problems


def compare_to_baseline(measured, baseline, tolerance=COVERAGE_TOLERANCE):
    """Messages for each way measured falls behind baseline.

    Both map a type name to its summary (see TypeReport.summary).  Types
    new since the baseline are fine; a type that vanished is a regression.
    """
    problems = []
    for name in sorted(baseline):
        if name not in measured:
            problems.append('%s: no longer measured' % name)
            continue
        problems += _regressions(name, measured[name], baseline[name],
                                 tolerance)
    return problems


def load_real_interactions():
    """Every interaction of the shared cassettes and pypowervm captures."""
    found = []
    shared = recordings.shared_recordings_dir()
    for path in sorted(glob.glob(os.path.join(shared, '*', '*.yml'))):
        found += recordings.load_ruby_vcr(path)
    data = recordings.pypowervm_data_dir()
    for path in sorted(glob.glob(os.path.join(data, '*.txt'))):
        try:
            found += recordings.load_pypowervm_capture(path)
        except recordings.CaptureFormatError:
            # pypowervm also ships XML fragment files in another format.
            continue
    return found


def objects_by_type(bodies):
    """Resource type -> its top-level objects, over Atom response bodies."""
    found = {}
    for body in bodies:
        for rtype, element in recordings.iter_atom_objects(body):
            found.setdefault(rtype, []).append(element)
    return found


def add_nested(objects):
    """Add the NESTED objects to objects, keyed 'Container/path'."""
    for container, child_path in NESTED:
        objects[container + paths.SEPARATOR + child_path] = [
            nested for element in objects.get(container, ())
            for nested in paths.nested_objects(element, child_path)]
    return objects


def populate(sim):
    """Give the simulator one of each object the report compares.

    Everything is made through pypowervm, as a client would, around the
    last client LPAR: a plain CNA, one with tagged VLANs, an Open vSwitch
    port and a point-to-point CNA on a new switch, and a VIOS CNA; a
    virtual disk, the linked clone of an SSP LU, a physical volume and
    virtual optical media, each mapped over vSCSI; an NPIV mapping; the
    physical slots no partition holds.  Real captures hold partitions of
    every kind, so a dedicated-processor LPAR, an IBM i LPAR and a
    dedicated-processor VIOS are added as well.
    """
    adapter = sim.adapter()
    host = pvm_ms.System.get(adapter)[0]
    lpar = pvm_lpar.LPAR.get(adapter)[-1]
    vioses = pvm_vios.VIOS.get(adapter, xag=[])
    _add_network_adapters(adapter, host, lpar, vioses[0])
    _add_vscsi_mappings(adapter, lpar, vioses[0])
    _add_npiv_mapping(adapter, host, lpar)
    assign_free_slots(adapter, lpar.uuid)
    _add_partitions(adapter, host)
    _dedicate_processors(adapter, vioses[-1].uuid)


def _add_network_adapters(adapter, host, lpar, vios):
    cna.crt_cna(adapter, None, lpar.uuid, 42)
    cna.crt_cna(adapter, None, lpar.uuid, 44, addl_vlans=['45'])
    cna.crt_p2p_cna(adapter, None, lpar.uuid, [vios.uuid], 'p2p0',
                    crt_vswitch=True)
    [vswitch] = pvm_net.VSwitch.search(
        adapter, parent_type=pvm_ms.System, parent_uuid=host.uuid,
        name=pvm_net.VSW_DEFAULT_VSWITCH)
    # As the driver's Open vSwitch VIF plugs an instance's port.
    pvm_net.CNA.bld(
        adapter, 46, vswitch.related_href, ovs_bridge='br-int',
        ovs_ext_ids='iface-id=port-1,iface-status=active').create(
        parent_type=pvm_lpar.LPAR, parent_uuid=lpar.uuid)
    pvm_net.CNA.bld(adapter, 43, vswitch.related_href).create(
        parent_type=pvm_vios.VIOS, parent_uuid=vios.uuid)


def _add_vscsi_mappings(adapter, lpar, vios):
    volume_groups = pvm_stg.VG.get(adapter, parent_type=pvm_vios.VIOS,
                                   parent_uuid=vios.uuid)
    vdisk = tsk_stg.crt_vdisk(adapter, vios.uuid, volume_groups[-1].uuid,
                              'disk1', 1)
    [tier] = pvm_stg.Tier.get(adapter)
    _tier, image = tsk_stg.crt_lu(tier, 'image1', 1,
                                  typ=pvm_stg.LUType.IMAGE)
    _tier, clone = tsk_stg.crt_lu(tier, 'boot1', 1, clone=image)
    media = [medium for group in volume_groups
             for repository in group.vmedia_repos
             for medium in repository.optical_media][0]
    for storage in (vdisk, clone, pvm_stg.PV.bld(adapter, 'hdisk3'),
                    pvm_stg.VOptMedia.bld_ref(adapter, media.name)):
        scsi_mapper.add_vscsi_mapping(None, vios.uuid, lpar.uuid, storage)


def assign_free_slots(adapter, lpar_uuid):
    """Give the LPAR every physical slot no partition holds that it may
    hold (a card in dedicated mode, not a shared SR-IOV adapter)."""
    host = pvm_ms.System.get(adapter)[0]
    shared = {int(card.id) for card in host.asio_config.sriov_adapters}
    lpar = pvm_lpar.LPAR.get(adapter, uuid=lpar_uuid)
    for slot in host.asio_config.io_slots:
        if slot.part_id is None and slot.drc_index not in shared:
            lpar.io_config.io_slots.append(pvm_bp.IOSlot.bld(
                adapter, False, slot.drc_index))
    lpar.update()


def _add_partitions(adapter, host):
    standard = lpar_builder.DefaultStandardize(host)
    # The IBM i partition's tagged I/O is set as in the real capture of
    # one: console on virtual slot 0, no load source tagged yet.
    for attrs in ({'name': 'dedicated', 'memory': 2048, 'vcpu': 2,
                   'dedicated_proc': 'true'},
                  {'name': 'ibmi', 'memory': 2048, 'vcpu': 1,
                   'env': pvm_bp.LPARType.OS400, 'console': '0',
                   'load_src': 'NONE'}):
        lpar_builder.LPARBuilder(adapter, attrs, standard).build().create(
            parent=host)


def _dedicate_processors(adapter, vios_uuid):
    vios = pvm_vios.VIOS.get(adapter, uuid=vios_uuid, xag=[])
    vios.proc_config = pvm_bp.PartitionProcessorConfiguration.bld_dedicated(
        adapter, 2, min_proc=1, max_proc=4)
    vios.update()


def _add_npiv_mapping(adapter, host, lpar):
    vioses = pvm_vios.VIOS.get(adapter, xag=[pvm_const.XAG.VIO_FMAP])
    wwpns = vfc_mapper.build_wwpn_pair(adapter, host.uuid)
    ports = [port.wwpn for vios in vioses for port in vios.pfc_ports]
    for port_map in vfc_mapper.derive_npiv_map(vioses, ports[:1], wwpns):
        vios = vfc_mapper.find_vios_for_port_map(vioses, port_map)
        vfc_mapper.add_map(vios, host.uuid, lpar.uuid, port_map)
        vios.update()


def _feed_urls(adapter):
    """URLs (below /rest/api/uom) of every feed the report reads."""
    system_uuids = [w.uuid for w in pvm_ms.System.get(adapter)]
    lpar_uuids = [w.uuid for w in pvm_lpar.LPAR.get(adapter)]
    vios_uuids = [w.uuid for w in pvm_vios.VIOS.get(adapter, xag=[])]
    tier_uuids = [w.uuid for w in pvm_stg.Tier.get(adapter)]
    urls = ['/ManagedSystem', '/LogicalPartition', '/VirtualIOServer',
            '/Cluster', '/SharedStoragePool', '/Tier']
    urls += ['/ManagedSystem/%s/%s' % (uuid, child)
             for uuid in system_uuids
             for child in ('VirtualSwitch', 'VirtualNetwork',
                           'NetworkBridge')]
    urls += ['/LogicalPartition/%s/%s' % (uuid, child)
             for uuid in lpar_uuids
             for child in ('ClientNetworkAdapter',
                           'VirtualFibreChannelClientAdapter',
                           'VirtualSCSIClientAdapter')]
    urls += ['/VirtualIOServer/%s/%s' % (uuid, child)
             for uuid in vios_uuids
             for child in ('ClientNetworkAdapter', 'VolumeGroup')]
    urls += ['/Tier/%s/LogicalUnit' % uuid for uuid in tier_uuids]
    return urls


def simulator_bodies(sim):
    """The response bodies of every feed the simulator serves."""
    adapter = sim.adapter()
    bodies = []
    for url in _feed_urls(adapter):
        response = adapter.read_by_path(_URI_PREFIX + url)
        if response.status != 204:
            bodies.append(response.body)
    return bodies


def measure(interactions=None):
    """TypeReports, sorted by name, of each type both sides have."""
    if interactions is None:
        interactions = load_real_interactions()
    real = add_nested(objects_by_type(
        interaction.response_body for interaction in interactions))
    # Seeded: some generated values (an SEA's UDID is '10' and 16 hex
    # digits of a UUID, as on NovaLink) are now and then all digits, which
    # would make a number of text; the same draws every run keep the
    # comparison stable.
    with scenarios.SeededUUIDs(), fixture.NovaLinkFixture(lpars=2) as sim:
        populate(sim)
        simulated = add_nested(objects_by_type(simulator_bodies(sim)))
    return [compare(name, real[name], simulated[name])
            for name in sorted(set(real) & set(simulated))
            if real[name] and simulated[name]]


def load_baseline(path=BASELINE_PATH):
    """Type name -> summary, as last accepted."""
    with open(path, encoding='utf-8') as baseline:
        return json.load(baseline)


def write_baseline(reports, path=BASELINE_PATH):
    summaries = {report.name: report.summary() for report in reports}
    with open(path, 'w', encoding='utf-8') as baseline:
        json.dump(summaries, baseline, indent=2, sort_keys=True)
        baseline.write('\n')


_HEADER = ('type', 'real', 'covered', 'coverage', 'order disagreements',
           'type mismatches')


def format_table(reports):
    """One line per type: the counts the baseline holds."""
    cells = [_HEADER]
    cells += [(report.name, str(report.coverage.real_count),
               str(report.coverage.covered_count),
               '%.1f%%' % (report.coverage.ratio * 100),
               str(len(report.order_disagreements)),
               str(len(report.type_mismatches)))
              for report in reports]
    widths = [max(len(row[column]) for row in cells)
              for column in range(len(_HEADER))]
    lines = ['  '.join([row[0].ljust(widths[0])]
                       + [cell.rjust(width) for cell, width
                          in zip(row[1:], widths[1:], strict=True)])
             for row in cells]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(lines) + '\n'


def format_details(report):
    """What a type lacks or gets wrong, for reading below the table."""
    missing = report.coverage.missing
    lines = ['== %s' % report.name,
             'missing %d: %s' % (len(missing),
                                 ', '.join(missing[:SHOWN_MISSING]))]
    lines += ['order: under %r real has %s before %s' % disagreement
              for disagreement in report.order_disagreements]
    lines += ['kind: %s real %s, simulator %s' % (
        path, '/'.join(real), '/'.join(sim))
        for path, real, sim in report.type_mismatches]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--update-baseline', action='store_true',
                        help='rewrite %s' % os.path.basename(BASELINE_PATH))
    parser.add_argument('--json', action='store_true',
                        help='print the per-type summaries as JSON')
    args = parser.parse_args(argv)
    reports = measure()
    if args.json:
        json.dump({report.name: report.summary() for report in reports},
                  sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write('\n')
    else:
        sys.stdout.write(format_table(reports) + '\n')
        sys.stdout.writelines(format_details(report) + '\n'
                              for report in reports)
    if args.update_baseline:
        write_baseline(reports)
    return 0


if __name__ == '__main__':
    sys.exit(main())
