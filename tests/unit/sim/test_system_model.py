"""The managed system's physical I/O model (cards, slots, SR-IOV adapters)
and the partition details rendered from the model: a VIOS's Ethernet
ports and virtual adapter list, secure boot, RMC addresses; and the schema
outline features they use (empty objects with Metadata, wrapper items)."""

from lxml import etree
import testtools

from powervm_sim import model as model_mod
from powervm_sim.model import builder
from powervm_sim.model import partition
from powervm_sim.model import system as system_mod
from powervm_sim.wire import spec
from powervm_sim.wire.schemas import system as sys_schema


def built_model(test, vioses=2, lpars=1):
    model = model_mod.Model()
    builder.build(model, systems=1, vioses=vioses, lpars=lpars)
    test.addCleanup(model.content.close)
    return model


class TestSystemEtag(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        self.system = self.model.systems[0]

    def test_partition_changes_move_the_system_etag(self):
        # The system document adds up its partitions' memory: a cached
        # rendering must not outlive a change to any of them.
        lpar = self.model.lpars()[-1]
        before = self.system.etag
        self.model.set_partition_state(lpar, partition.RUNNING)
        self.assertNotEqual(before, self.system.etag)

    def test_new_partition_moves_the_system_etag(self):
        before = self.system.etag
        self.model.create_lpar(self.system, {'name': 'new1'})
        self.assertNotEqual(before, self.system.etag)


class TestPhysicalIO(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        self.system = self.model.systems[0]

    def test_fresh_system_has_an_sriov_adapter_and_a_sas_controller(self):
        sriov, sas = self.system.io_cards
        self.assertEqual([sriov], self.system.sriov_adapters)
        self.assertEqual([True, True, False, False],
                         [port.converged for port in sriov.sriov_ports])
        self.assertEqual(2, len(sriov.converged_ports))
        self.assertEqual(2, len(sriov.ethernet_ports))
        macs = [device.mac_address for device in sriov.devices]
        self.assertEqual(4, len(set(macs)))
        self.assertIsNone(sas.sriov_adapter_id)
        disks = [d for d in sas.devices if d.size_mb]
        self.assertEqual(['MB', 'MB'], [d.size_metric for d in disks])

    def test_unconfigured_logical_ports_count_every_virtual_function(self):
        [sriov] = self.system.sriov_adapters
        ports = sriov.unconfigured_logical_ports
        self.assertEqual(sriov.max_logical_ports, len(ports))
        self.assertEqual(0x27004001, ports[0].drc_index)
        self.assertEqual('PHB 16385', ports[0].drc_name)
        self.assertTrue(ports[-1].location_code.endswith('-T1-S48'))

    def test_slots_list_every_card_once_in_drc_order(self):
        views = self.system.io_slots
        indexes = [view.card.drc_index for view in views]
        self.assertEqual(sorted(indexes), indexes)
        self.assertEqual(len(set(indexes)), len(indexes))
        owned = {view.card.drc_name: view.owner for view in views}
        for vios in self.model.vioses():
            for card in vios.physical_cards:
                self.assertIs(vios, owned.pop(card.drc_name))
        self.assertEqual({None}, set(owned.values()))

    def test_slot_is_its_own_bus(self):
        view = system_mod.SlotView(self.system.io_cards[0])
        self.assertEqual(0x20, view.bus_id)
        self.assertEqual(0x20000020, view.bus_drc_index)
        self.assertEqual('PHB 32', view.bus_drc_name)
        self.assertEqual([view], view.bus_slots)
        self.assertTrue(view.sriov_capable)
        self.assertEqual(48, view.logical_port_limit)

    def test_fc_card_shows_a_pci_function_per_port(self):
        vios = self.model.vioses()[0]
        card = vios.io_slots[0]
        view = system_mod.SlotView(card, vios)
        devices = view.devices
        self.assertEqual([port.wwpn.lower() for port in card.ports],
                         [device.wwpn for device in devices])
        self.assertEqual([True, False],
                         [device.primary_function for device in devices])
        self.assertEqual('577D', view.ccin)
        self.assertFalse(view.sriov_capable)
        self.assertEqual(system_mod.SLOT_LOGICAL_PORT_LIMIT,
                         view.logical_port_limit)

    def test_whole_processing_units_lose_the_fraction(self):
        self.assertEqual(20, self.system.installed_units_text)
        self.assertIsInstance(self.system.installed_units_text, int)
        self.system.proc_units_configurable = 20.5
        self.assertEqual(20.5, self.system.configurable_units_text)


class TestViosDetails(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self, lpars=1)
        self.vios = self.model.vioses()[0]

    def test_ethernet_ports_follow_the_sea_port_card(self):
        [sea] = self.vios.seas
        card = sea.port.location_code.rsplit('-', 1)[0]
        ports = self.vios.ethernet_ports
        self.assertEqual(['ent0', 'ent1', 'ent2', 'ent3'],
                         [port.device_name for port in ports])
        self.assertEqual([card + '-T%d' % n for n in range(1, 5)],
                         [port.location_code for port in ports])
        free = self.vios.free_ethernet_ports
        self.assertEqual(['ent1', 'ent2', 'ent3'],
                         [port.device_name for port in free])
        self.assertEqual('en2', free[1].interface_name)

    def test_vios_without_sea_knows_no_ethernet_card(self):
        self.vios.seas = []
        self.assertEqual([], self.vios.free_ethernet_ports)
        self.assertEqual(self.vios.io_slots, self.vios.physical_cards)

    def test_ethernet_card_sits_in_the_port_slot(self):
        card = self.vios.physical_cards[-1]
        port = self.vios.seas[0].port
        self.assertEqual(port.location_code.rsplit('-', 1)[0], card.drc_name)
        self.assertEqual(4, len(card.devices))
        self.assertEqual(0x21010200 + int(card.physical_location[1:]),
                         card.drc_index)

    def test_profile_view_names_the_adapter_kind(self):
        views = self.vios.profile_adapters
        self.assertEqual([True] * len(views), [v.is_trunk for v in views])
        self.assertEqual([False] * len(views), [v.is_cna for v in views])
        self.assertEqual([''] * len(views), [v.tagged_vlans for v in views])

    def test_rmc_address_is_the_sea_address(self):
        self.assertEqual(self.vios.seas[0].ip_interface.address,
                         self.vios.rmc_address)
        self.vios.rmc_state = 'inactive'
        self.assertIsNone(self.vios.rmc_address)


class TestPartitionDetails(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self, lpars=1)
        self.lpar = self.model.lpars()[-1]

    def test_secure_boot_policy_applies_while_running(self):
        self.model.update_partition(self.lpar, {'pending_secure_boot': 3})
        self.assertEqual(0, self.lpar.current_secure_boot)
        self.model.set_partition_state(self.lpar, partition.RUNNING)
        self.assertEqual(3, self.lpar.current_secure_boot)

    def test_bad_secure_boot_policy_changes_nothing(self):
        self.assertRaises(model_mod.Conflict, self.model.update_partition,
                          self.lpar, {'pending_secure_boot': 10,
                                      'mem_desired': 1536})
        self.assertEqual((0, 1024), (self.lpar.pending_secure_boot,
                                     self.lpar.mem_desired))

    def test_only_ibmi_shows_opticonnect_pools(self):
        self.assertIsNone(self.lpar.opticonnect_pool)
        ibmi = self.model.create_lpar(self.model.systems[0], {
            'name': 'ibmi1', 'partition_type': 'OS400'})
        self.assertIs(False, ibmi.opticonnect_pool)
        self.assertTrue(ibmi.is_ibmi)

    def test_mac_prefix_is_the_model_mac_prefix(self):
        cna = self.model.create_cna(self.lpar, {'pvid': 5, 'vswitch_id': 0})
        self.assertEqual(int(cna.mac, 16) >> 24,
                         self.lpar.mac_prefix >> 24)


class TestSchemaOutline(testtools.TestCase):

    OUTLINE = '''
Thing
  Empty [metadata] CUD
  Plain
  Choices * items
    Choice
      Inner
        Name ~ name
'''

    def render(self, obj):
        root = spec.compile_schema(self.OUTLINE)
        return etree.fromstring(spec.Renderer('').object(root, obj))

    def test_empty_object_keeps_its_metadata(self):
        thing = self.render(type('Thing', (), {'items': []})())
        empty, plain = thing[1], thing[2]
        self.assertEqual(['Metadata'], [etree.QName(c).localname
                                        for c in empty])
        self.assertEqual([], list(plain))
        self.assertEqual((('kb', 'CUD'), ('kxe', 'false')),
                         tuple(sorted(empty.attrib.items())))

    def test_wrapper_items_have_no_metadata_of_their_own(self):
        item = type('Item', (), {'name': 'a'})()
        thing = self.render(type('Thing', (), {'items': [item]})())
        [choice] = thing.findall('{*}Choices/{*}Choice')
        self.assertEqual(['Inner'], [etree.QName(c).localname
                                     for c in choice])
        self.assertEqual(['Metadata', 'Name'], [
            etree.QName(c).localname for c in choice[0]])

    def test_element_paths_agree_with_rendering(self):
        paths = spec.element_paths(spec.compile_schema(self.OUTLINE))
        self.assertIn('Empty/Metadata', paths)
        self.assertNotIn('Plain/Metadata', paths)
        self.assertNotIn('Choices/Choice/Metadata', paths)
        self.assertIn('Choices/Choice/Inner/Metadata', paths)

    def test_system_outline_paths_include_the_io_slots(self):
        paths = spec.element_paths(sys_schema.MANAGED_SYSTEM)
        self.assertIn('AssociatedSystemIOConfiguration/IOBuses/IOBus/IOSlots/'
                      'IOSlot/IORDevices/IORDevice/WWPN', paths)
        self.assertIn('AssociatedSystemVirtualStorage/Metadata', paths)
