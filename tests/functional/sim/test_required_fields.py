"""Every body a client may write, sent over HTTP with a required element
missing or garbled: NovaLink answers with a 4xx HttpErrorResponse and the
model stays as it was; never a 500.

Each writable type is taken from a valid body, the one pypowervm sends (a
builder's for creates, the object as read for updates).  Every element the
type requires is then dropped, emptied, given a value of the wrong kind and
given a huge value; Hypothesis draws the wrong and the huge values.
"""

import dataclasses
import re

import hypothesis
from hypothesis import strategies as st
from lxml import etree
from pypowervm import const as pvm_const
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import management_console as pvm_mc
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import management_console as pvm_mc_w
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import vios_file as pvm_file
from pypowervm.wrappers import virtual_io_server as pvm_vios

from powervm_sim import resources
from powervm_sim.wire import spec
from tests.functional.sim import test_bad_input
from tests.functional.sim import test_console
from tests.functional.stateful import profiles

# Each example damages every required element of every writable body in
# every way, so a few examples explore a lot (the deep profile runs many).
EXAMPLES_DIVISOR = 4
# A huge text: far longer than any name or value a client writes.
HUGE_TEXT = 64 * 1024

TEXT, INT, FLOAT, CONTAINER, LIST = ('text', 'int', 'float', 'container',
                                     'list')
# The text of a list's item: an item left out makes a shorter list, which
# is no damage.
ITEM_TEXT = 'item text'


@dataclasses.dataclass(frozen=True)
class Required:
    """An element a body must carry: its path below the body's root (every
    occurrence of a list item must carry what the item requires) and what
    it holds."""

    path: str
    kind: str


@dataclasses.dataclass
class Writable:
    """One create or update a client may send."""

    # 'Type operation', maybe with a note on the variant.
    name: str
    body: bytes
    # send(data): sends the body as the client would; raises pypowervm's
    # HttpError when it is refused.
    send: object
    required: tuple


# --------------------------------------------------------------- damages
# Text an XML element can hold (no control characters, no surrogates).
_XML_TEXT = st.characters(codec='utf-8', exclude_categories=('Cc', 'Cs'))
_INT_TEXT = r'^\s*[+-]?[0-9]+\s*$'
_FLOAT_TEXT = (r'^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?'
               r'\s*$')
# Values Python's own parsing accepts but NovaLink's (XML Schema's) does
# not, or that are no quantity at all.
_TRICKY_INTS = ('1_000', '\u0663', '0x10', '1e3', '2.0', 'true')
_TRICKY_FLOATS = ('nan', 'NaN', 'inf', '-Infinity', '1_0.5', '\u0663.5',
                  '0x1p3', '1e999')


def _not_matching(pattern):
    return st.text(_XML_TEXT, max_size=12).filter(
        lambda text: not re.match(pattern, text))


def wrong_kind_text(kind):
    """Text that is no value of ``kind``."""
    if kind == INT:
        return st.sampled_from(_TRICKY_INTS) | _not_matching(_INT_TEXT)
    return st.sampled_from(_TRICKY_FLOATS) | _not_matching(_FLOAT_TEXT)


def huge_text(kind):
    if kind == INT:
        # Beyond a 32-bit int (XML Schema's int, NovaLink's).
        return st.one_of(st.integers(min_value=2 ** 31),
                         st.integers(max_value=-2 ** 31 - 1)).map(str)
    if kind == FLOAT:
        return st.floats(min_value=1e12, allow_nan=False).map(repr)
    return st.builds(lambda unit, count: unit * count,
                     st.text(_XML_TEXT, min_size=1, max_size=4),
                     st.integers(min_value=HUGE_TEXT, max_value=2 * HUGE_TEXT))


def _drop(element, data):
    element.getparent().remove(element)
    return 'dropped'


def _empty(element, data):
    for child in list(element):
        element.remove(child)
    element.text = data.draw(st.sampled_from(['', ' ', '\n\t']))
    return 'emptied to %r' % element.text


def _elements_for_text(element, data):
    tag = data.draw(st.sampled_from(['value', element.tag]))
    element.text = None
    etree.SubElement(element, tag).text = 'x'
    return 'given a child element %s instead of text' % tag


def _wrong_kind(kind):
    def damage(element, data):
        element.text = data.draw(wrong_kind_text(kind))
        return 'given %r' % element.text
    return damage


def _huge(kind):
    def damage(element, data):
        element.text = data.draw(huge_text(kind))
        return 'given a huge value (%d characters)' % len(element.text)
    return damage


DAMAGES = {
    TEXT: (_drop, _empty, _elements_for_text, _huge(TEXT)),
    INT: (_drop, _empty, _wrong_kind(INT), _huge(INT)),
    FLOAT: (_drop, _empty, _wrong_kind(FLOAT), _huge(FLOAT)),
    CONTAINER: (_drop, _empty),
    # A list may be empty: only its absence is wrong.
    LIST: (_drop,),
    ITEM_TEXT: (_empty, _elements_for_text, _huge(TEXT)),
}


def _children(element, tag):
    return [child for child in element if spec.local_name(child) == tag]


def find_all(root, path):
    """The elements at ``path`` (local names) below ``root``."""
    found = [root]
    for tag in path.split('/'):
        found = [child for parent in found for child in _children(parent,
                                                                  tag)]
    return found


def damaged(body, required, damage, data):
    """``body`` with one occurrence of ``required`` damaged, and what was
    done to it."""
    root = etree.fromstring(body)
    targets = find_all(root, required.path)
    if not targets:
        raise AssertionError('the valid body has no %s' % required.path)
    target = targets[data.draw(st.integers(0, len(targets) - 1),
                               label='occurrence of %s' % required.path)]
    done = damage(target, data)
    return etree.tostring(root), '%s %s' % (required.path, done)


# ---------------------------------------------------------------- tests
class TestRequiredElements(test_bad_input.BadInputTestBase):

    def setUp(self):
        super().setUp()
        self.writables = WritableBodies(self).all()

    def test_the_valid_bodies_are_accepted(self):
        # Otherwise a damaged body might be refused for another reason.
        for writable in self.writables:
            writable.send(writable.body)

    def test_every_type_the_simulator_writes_is_covered(self):
        # A type registered with a create or an update needs its body here.
        writable = {'%s %s' % (name, operation)
                    for name, rtype in resources.TYPES.items()
                    for operation in ('create', 'update')
                    if getattr(rtype, operation)}
        covered = {' '.join(w.name.split()[:2]) for w in self.writables
                   if w.required}
        self.assertEqual(set(), writable - covered)

    # A failing example names its body, element and damage; shrinking it
    # would replay whole sweeps, minutes for nothing.
    @hypothesis.settings(
        profiles.selected(),
        max_examples=max(1, profiles.selected().max_examples //
                         EXAMPLES_DIVISOR),
        phases=(hypothesis.Phase.explicit, hypothesis.Phase.reuse,
                hypothesis.Phase.generate))
    @hypothesis.given(data=st.data())
    def test_damaged_required_elements_are_refused(self, data):
        for writable in self.writables:
            for required in writable.required:
                for damage in DAMAGES[required.kind]:
                    body, what = damaged(writable.body, required, damage,
                                         data)
                    hypothesis.note('%s: %s' % (writable.name, what))
                    self.assertClientError(writable.send, body)


class WritableBodies:
    """The valid bodies of every writable type, on the test's simulator.

    What the update bodies show is made first (a partition with an I/O
    slot, mappings, adapters, a logical unit), then the bodies are read:
    each update then carries its object's current etag.
    """

    def __init__(self, test):
        self.test = test
        self.adapter = test.adapter
        self.host = test.host
        self.model = test.model
        self.vios = self.model.vioses()[0]
        lpar_w = test.build_lpar(name='target').create(parent=self.host)
        self.lpar = self.model.get(lpar_w.uuid)
        self.give_io_slot(lpar_w)
        self.map_storage()
        self.cna = pvm_cna.crt_cna(self.adapter, None, self.lpar.uuid, 11)
        tsk_stg.crt_lu(self.tier(), 'unit', 1)

    def give_io_slot(self, lpar_w):
        card = [card for card in self.lpar.parent.io_cards
                if not card.sriov_adapter_id][0]
        lpar_w.io_config.io_slots.append(pvm_bp.IOSlot.bld(
            self.adapter, False, card.drc_index))
        lpar_w.update()

    def map_storage(self):
        """A vSCSI and a virtual Fibre Channel mapping to the partition."""
        vdisk = tsk_stg.crt_vdisk(self.adapter, self.vios.uuid,
                                  self.vios.volume_groups[1].uuid, 'mapped',
                                  1)
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.lpar.uuid,
                                      vdisk)
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=self.vios.uuid,
                                   xag=[pvm_const.XAG.VIO_FMAP])
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, self.host.uuid)
        [port_map] = vfc_mapper.derive_npiv_map(
            [vios_w], [vios_w.pfc_ports[0].wwpn], wwpns)
        vfc_mapper.add_map(vios_w, self.host.uuid, self.lpar.uuid, port_map)
        vios_w.update()

    def all(self):
        return [
            self.lpar_create(), self.lpar_update(), self.vios_update(),
            self.cna_create(), self.cna_update(), self.trunk_create(),
            self.vswitch_create(), self.vnet_create(),
            self.bridge_update(), self.vg_disks_update(),
            self.vg_media_update(), self.ssp_update(), self.lu_create(),
            self.lu_update(), self.file_create(), self.job_submission(),
            self.console_update(),
        ]

    # ---------------------------------------------------------- sending
    def creator(self, *path, **kwargs):
        def send(data):
            return self.adapter.create(test_bad_input.RawBody(data), *path,
                                       **kwargs)
        return send

    def updater(self, wrapper):
        def send(data):
            return self.adapter.update_by_path(data, wrapper.etag,
                                               wrapper.href)
        return send

    def update(self, name, wrapper, required):
        return Writable(name, wrapper.toxmlstring(), self.updater(wrapper),
                        required)

    # ------------------------------------------------------- partitions
    def lpar_create(self):
        return Writable('LogicalPartition create', self.test.lpar_xml(),
                        self.test.create_raw_lpar,
                        (Required('PartitionName', TEXT),))

    def lpar_update(self):
        lpar_w = pvm_lpar.LPAR.get(self.adapter, uuid=self.lpar.uuid)
        slot = 'PartitionIOConfiguration/ProfileIOSlots/ProfileIOSlot/'
        return self.update('LogicalPartition update', lpar_w, (
            Required('PartitionName', TEXT),
            Required(slot + 'AssociatedIOSlot', CONTAINER),
            Required(slot + 'AssociatedIOSlot/'
                     'SlotDynamicReconfigurationConnectorIndex', INT)))

    def vios_update(self):
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=self.vios.uuid, xag=[
            pvm_const.XAG.VIO_SMAP, pvm_const.XAG.VIO_FMAP])
        return self.update('VirtualIOServer update', vios_w,
                           (Required('PartitionName', TEXT),))

    # ---------------------------------------------------------- network
    def vswitch_href(self):
        return pvm_net.VSwitch.get(self.adapter,
                                   parent=self.host)[0].related_href

    def cna_create(self):
        cna_w = pvm_net.CNA.bld(self.adapter, 10, self.vswitch_href())
        return Writable(
            'ClientNetworkAdapter create', cna_w.toxmlstring(),
            self.creator(pvm_lpar.LPAR.schema_type, self.lpar.uuid,
                         pvm_net.CNA.schema_type),
            (Required('PortVLANID', INT),))

    def cna_update(self):
        cna_w = pvm_net.CNA.get(self.adapter, parent_type=pvm_lpar.LPAR,
                                parent_uuid=self.lpar.uuid,
                                uuid=self.cna.uuid)
        return self.update('ClientNetworkAdapter update', cna_w,
                           (Required('PortVLANID', INT),))

    def trunk_create(self):
        trunk_w = pvm_net.CNA.bld(self.adapter, 12, self.vswitch_href(),
                                  trunk_pri=1)
        return Writable(
            'ClientNetworkAdapter create (trunk adapter)',
            trunk_w.toxmlstring(),
            self.creator(pvm_vios.VIOS.schema_type, self.vios.uuid,
                         pvm_net.CNA.schema_type),
            (Required('PortVLANID', INT),))

    def vswitch_create(self):
        return Writable(
            'VirtualSwitch create',
            pvm_net.VSwitch.bld(self.adapter, 'tenant').toxmlstring(),
            self.creator(self.host.schema_type, self.host.uuid,
                         pvm_net.VSwitch.schema_type),
            (Required('SwitchName', TEXT),))

    def vnet_create(self):
        vnet_w = pvm_net.VNet.bld(self.adapter, 'tenant-net', 1234,
                                  self.vswitch_href(), True)
        return Writable(
            'VirtualNetwork create', vnet_w.toxmlstring(),
            self.creator(self.host.schema_type, self.host.uuid,
                         pvm_net.VNet.schema_type),
            (Required('NetworkName', TEXT), Required('NetworkVLANID', INT)))

    def bridge_update(self):
        [bridge_w] = pvm_net.NetBridge.get(self.adapter, parent=self.host)
        trunk = 'TrunkAdapters/TrunkAdapter/PortVLANID'
        return self.update('NetworkBridge update', bridge_w, (
            Required('LoadGroups/LoadGroup/PortVLANID', INT),
            Required('LoadGroups/LoadGroup/' + trunk, INT),
            Required('SharedEthernetAdapters/SharedEthernetAdapter/' + trunk,
                     INT)))

    # ---------------------------------------------------------- console
    def console_update(self):
        pvm_mc.add_authorized_key(self.adapter, test_console.OPERATOR_KEY)
        [console_w] = pvm_mc_w.ManagementConsole.get(self.adapter)
        return self.update('ManagementConsole update', console_w, (
            Required('AuthorizedKeys/AuthorizedKey', ITEM_TEXT),))

    # ---------------------------------------------------------- storage
    def read_vg(self, name):
        [vg] = [vg for vg in self.vios.volume_groups if vg.name == name]
        return pvm_stg.VG.get(self.adapter, parent_type=pvm_vios.VIOS,
                              parent_uuid=self.vios.uuid, uuid=vg.uuid)

    def vg_disks_update(self):
        return self.update('VolumeGroup update (disks)',
                           self.read_vg('datavg'), (
                               Required('GroupName', TEXT),
                               Required('VirtualDisks/VirtualDisk/DiskName',
                                        TEXT)))

    def vg_media_update(self):
        repository = 'MediaRepositories/VirtualMediaRepository/'
        return self.update('VolumeGroup update (media)',
                           self.read_vg('rootvg'), (
                               Required('GroupName', TEXT),
                               Required(repository + 'RepositoryName', TEXT),
                               Required(repository + 'OpticalMedia/'
                                        'VirtualOpticalMedia/MediaName',
                                        TEXT)))

    def tier(self):
        return pvm_stg.Tier.get(self.adapter)[0]

    def ssp_update(self):
        [ssp_w] = pvm_stg.SSP.get(self.adapter)
        return self.update('SharedStoragePool update', ssp_w, (
            Required('LogicalUnits/LogicalUnit/UnitName', TEXT),))

    def lu_create(self):
        tier_w = self.tier()
        lu_w = pvm_stg.LU.bld(self.adapter, 'new-unit', 1)
        return Writable(
            'LogicalUnit create', lu_w.toxmlstring(),
            self.creator(tier_w.schema_type, tier_w.uuid,
                         pvm_stg.LUEnt.schema_type),
            (Required('UnitName', TEXT), Required('UnitCapacity', FLOAT)))

    def lu_update(self):
        [lu_w] = pvm_stg.LUEnt.get(self.adapter, parent=self.tier())
        return self.update('LogicalUnit update', lu_w, (
            Required('UnitName', TEXT), Required('UnitCapacity', FLOAT)))

    def file_create(self):
        file_w = pvm_file.File.bld(
            self.adapter, 'boot.iso', pvm_file.FileType.MEDIA_ISO,
            self.vios.uuid, f_size=1024)
        return Writable(
            'File create', file_w.toxmlstring(),
            self.creator(pvm_file.File.schema_type, service='web'),
            tuple(Required(tag, TEXT) for tag in (
                'Filename', 'InternetMediaType', 'FileEnumType',
                'TargetVirtualIOServerUUID')))

    # -------------------------------------------------------------- jobs
    def job_submission(self):
        # Powering the partition on would change the model: a damaged
        # request that got through could not go unnoticed.
        job_w = self.test.job_template(pvm_lpar.LPAR.schema_type,
                                       self.lpar.uuid, 'PowerOn')
        job_w.add_job_parameters_to_existing(
            job_w.create_job_parameter('bootmode', 'norm'))
        operation = 'RequestedOperation/'
        return Writable(
            'job submission', job_w.entry.element.toxmlstring(),
            self.creator(pvm_lpar.LPAR.schema_type, self.lpar.uuid,
                         suffix_type=pvm_const.SUFFIX_TYPE_DO,
                         suffix_parm='PowerOn', content_service='web'),
            (Required('RequestedOperation', CONTAINER),
             Required(operation + 'OperationName', TEXT),
             Required(operation + 'GroupName', TEXT),
             Required('JobParameters', LIST),
             Required('JobParameters/JobParameter/ParameterName', TEXT)))

