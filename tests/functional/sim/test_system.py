"""The ManagedSystem document and the partition documents' hardware and
I/O details, read through pypowervm: capacity that follows the partitions,
capabilities, the physical slots and SR-IOV adapters, IBM i tagged I/O and
secure boot, a VIOS's free Ethernet ports and virtual adapter list.  The
model is only read, to check what the simulator served.
"""

from lxml import etree
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import sriov as tsk_sriov
from pypowervm.tasks import storage as tsk_stg
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import iocard as pvm_card
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import fixture
from powervm_sim.model import partition as part_mod
from tests.functional.sim import test_bad_input

UOM = '{http://www.ibm.com/xmlns/systems/power/firmware/uom/mc/2012_10/}'
ATOM = '{http://www.w3.org/2005/Atom}'


def uom_path(*names):
    return '/'.join(UOM + name for name in names)


def served_object(body):
    """The object inside the first Atom entry of a response body."""
    root = etree.fromstring(body.encode())
    entry = root if root.tag == ATOM + 'entry' else root.find(ATOM + 'entry')
    return entry.find(ATOM + 'content')[0]


class SystemTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=1))
        self.model = self.sim.model
        self.system = self.model.systems[0]
        self.adapter = self.sim.adapter()

    def host(self):
        return pvm_ms.System.get(self.adapter)[0]

    def build_lpar(self, name, **attrs):
        host = self.host()
        attrs = dict({'name': name, 'memory': 2048, 'vcpu': 1}, **attrs)
        standard = lpar_builder.DefaultStandardize(host)
        return lpar_builder.LPARBuilder(self.adapter, attrs,
                                        standard).build().create(parent=host)

    def system_xml(self, xag=()):
        """The system document; xag=None asks for ?group=None."""
        return served_object(self.adapter.read(
            pvm_ms.System.schema_type,
            xag=None if xag is None else list(xag)).body)


class TestCapacity(SystemTestBase):

    def test_new_partition_is_taken_from_the_free_capacity(self):
        before = self.host()
        lpar_w = self.build_lpar('new1')
        after = self.host()
        lpar = self.model.get(lpar_w.uuid)
        self.assertNotEqual(before.etag, after.etag)
        self.assertEqual(before.memory_free - 2048, after.memory_free)
        self.assertAlmostEqual(before.proc_units_avail - lpar.proc_units,
                               after.proc_units_avail)
        self.assertEqual(self.system.memory_available, after.memory_free)

    def test_deleted_partition_gives_its_capacity_back(self):
        lpar_w = self.build_lpar('new1')
        before = self.host()
        self.adapter.delete(pvm_lpar.LPAR.schema_type, root_id=lpar_w.uuid)
        self.assertEqual(before.memory_free + 2048, self.host().memory_free)

    def test_whole_processing_units_have_no_fraction(self):
        installed = self.system_xml().findtext(uom_path(
            'AssociatedSystemProcessorConfiguration',
            'InstalledSystemProcessorUnits'))
        self.assertEqual('20', installed)
        self.assertEqual(20.0, self.host().proc_units)


class TestCapabilities(SystemTestBase):

    def test_what_pypowervm_asks_for(self):
        caps = self.host().get_capabilities()
        for name in ('active_lpar_mobility_capable',
                     'inactive_lpar_mobility_capable', 'aix_capable',
                     'ibmi_capable', 'linux_capable',
                     'ibmi_lpar_mobility_capable', 'ibmi_restrictedio_capable',
                     'simplified_remote_restart_capable',
                     'dynamic_srr_capable', 'vnic_capable',
                     'vnic_failover_capable',
                     'physical_page_table_ratio_capable',
                     'affinity_check_capable',
                     'partition_secure_boot_capable',
                     'disable_secure_boot_capable',
                     'ioslot_owner_assignment_capable',
                     'dedicated_processor_partition_capable',
                     'shared_processor_pool_capable'):
            self.assertIs(True, caps[name], name)
        self.assertIs(False, caps['PersistentMemoryCapable'])

    def test_migration_data(self):
        data = self.host().migration_data
        self.assertEqual(16, data['max_migration_ops_supported'])
        self.assertEqual(16, data['active_migrations_supported'])
        self.assertEqual(0, data['active_migrations_in_progress'])
        self.assertEqual(0, data['inactive_migrations_in_progress'])
        self.assertEqual(','.join(self.system.proc_compat_modes),
                         data['proc_compat'])
        self.assertEqual(9, self.host().highest_compat_mode())

    def test_groups_hide_the_hypervisor_and_network_sections(self):
        # pypowervm reads the system with ?group=None.
        hidden = self.system_xml(xag=None)
        shown = self.system_xml()
        for section in ('AssociatedIPLConfiguration',
                        'AssociatedSystemIOConfiguration/'
                        'AssociatedSystemVirtualNetwork'):
            path = uom_path(*section.split('/'))
            self.assertIsNone(hidden.find(path))
            self.assertIsNotNone(shown.find(path))
        vswitches = shown.findall(uom_path(
            'AssociatedSystemIOConfiguration',
            'AssociatedSystemVirtualNetwork', 'VirtualSwitches', 'link'))
        self.assertEqual(len(self.system.vswitches), len(vswitches))


class TestPhysicalIO(SystemTestBase):

    def test_every_card_is_listed_with_its_owner(self):
        slots = self.host().asio_config.io_slots
        self.assertEqual(sorted(s.drc_index for s in slots),
                         [s.drc_index for s in slots])
        by_index = {slot.drc_index: slot for slot in slots}
        for vios in self.model.vioses():
            for card in vios.physical_cards:
                slot = by_index.pop(card.drc_index)
                self.assertEqual(vios.partition_id, slot.part_id)
                self.assertEqual(vios.name, slot.part_name)
                self.assertEqual(vios.uuid.upper(), slot.part_uuid)
                self.assertEqual('Virtual IO Server', slot.part_type)
                self.assertEqual(card.drc_name, slot.drc_name)
        # What is left belongs to no partition: the SR-IOV adapter and the
        # internal SAS controller.
        self.assertEqual(sorted(c.drc_index for c in self.system.io_cards),
                         sorted(by_index))
        self.assertEqual({None}, {slot.part_id for slot in by_index.values()})

    def test_a_vios_owns_its_fc_and_ethernet_cards(self):
        vios = self.model.vioses()[0]
        descriptions = [card.description for card in vios.physical_cards]
        self.assertEqual(2, len(descriptions))
        self.assertIn('Fibre Channel', descriptions[0])
        self.assertIn('Ethernet', descriptions[1])

    def test_each_slot_sits_on_its_own_bus(self):
        root = self.system_xml()
        buses = root.findall(uom_path('AssociatedSystemIOConfiguration',
                                      'IOBuses', 'IOBus'))
        slots = root.findall(uom_path('AssociatedSystemIOConfiguration',
                                      'IOSlots', 'IOSlot'))
        self.assertEqual(len(self.host().asio_config.io_slots), len(slots))
        self.assertEqual(len(slots), len(buses))
        for bus, slot in zip(buses, slots, strict=True):
            bus_id = int(bus.findtext(UOM + 'IOBusID'))
            self.assertEqual(0x20000000 + bus_id, int(bus.findtext(
                UOM + 'BusDynamicReconfigurationConnectorIndex')))
            [bus_slot] = bus.findall(uom_path('IOSlots', 'IOSlot'))
            self.assertEqual(etree.tostring(slot), etree.tostring(bus_slot))

    def test_fc_ports_show_as_pci_functions_with_their_wwpns(self):
        vios = self.model.vioses()[0]
        card = vios.io_slots[0]
        [slot] = [slot for slot in self.system_xml().findall(uom_path(
            'AssociatedSystemIOConfiguration', 'IOSlots', 'IOSlot'))
            if slot.findtext(UOM + 'SlotDynamicReconfigurationConnectorName')
            == card.drc_name]
        devices = slot.findall(uom_path('IORDevices', 'IORDevice'))
        self.assertEqual([port.wwpn.lower() for port in card.ports],
                         [d.findtext(UOM + 'WWPN') for d in devices])
        self.assertEqual(['PCIFunction'] * len(card.ports),
                         [d.findtext(UOM + 'DeviceType') for d in devices])

    def test_sriov_adapter(self):
        host = self.host()
        [adapter] = host.asio_config.sriov_adapters
        self.assertEqual((1, 'Sriov', 'Running', 'MIN_CAPACITY'), (
            adapter.sriov_adap_id, adapter.mode, adapter.state,
            adapter.personality))
        ports = adapter.phys_ports
        self.assertEqual([pvm_card.SRIOVConvPPort] * 2 +
                         [pvm_card.SRIOVEthPPort] * 2,
                         [type(port) for port in ports])
        self.assertEqual(['-T1', '-T2', '-T3', '-T4'],
                         [port.loc_code[-3:] for port in ports])
        for port in ports:
            self.assertEqual(port.supp_max_lps, port.cfg_max_lps)
            self.assertEqual(0, port.cfg_lps)
            self.assertEqual(0.0, port.allocated_capacity)
            self.assertEqual(0.02, port.min_granularity)
        found = tsk_sriov.find_pport(host, ports[2].loc_code)
        self.assertEqual(2, found.port_id)

    def test_every_virtual_function_is_unconfigured(self):
        root = self.system_xml()
        unconfigured = root.findall('.//' + uom_path(
            'UnconfiguredLogicalPorts', 'SRIOVUnconfiguredLogicalPort'))
        [card] = self.system.sriov_adapters
        self.assertEqual(card.max_logical_ports, len(unconfigured))


class TestPartitionDetails(SystemTestBase):

    def test_ibmi_partition_has_tagged_io(self):
        lpar_w = self.build_lpar('ibmi1', env=pvm_bp.LPARType.OS400)
        lpar_w = pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid)
        tagged = lpar_w.io_config.tagged_io
        self.assertEqual(('0', 'HMC', 'NONE'), (
            tagged.load_src, tagged.console, tagged.alt_load_src))
        self.assertTrue(lpar_w.restrictedio)
        self.assertEqual('b', lpar_w.desig_ipl_src)
        tagged.console = 'NONE'
        lpar_w.update()
        self.assertEqual('NONE', self.model.get(lpar_w.uuid).console)

    def test_aix_linux_partition_has_no_tagged_io(self):
        lpar_w = pvm_lpar.LPAR.get(self.adapter,
                                   uuid=self.model.lpars()[-1].uuid)
        self.assertIsNone(lpar_w.io_config.tagged_io)
        self.assertIsNone(lpar_w.desig_ipl_src)

    def test_secure_boot_takes_effect_at_activation(self):
        lpar_w = self.build_lpar('secure1')
        lpar_w.pending_secure_boot = 2
        lpar_w = lpar_w.update()
        self.assertEqual((2, 0), (lpar_w.pending_secure_boot,
                                  lpar_w.current_secure_boot))
        self.assertEqual(2, self.model.get(lpar_w.uuid).pending_secure_boot)

    def test_secure_boot_policy_out_of_range_is_refused(self):
        lpar_w = self.build_lpar('secure1')
        lpar_w.pending_secure_boot = 12
        exc = self.assertRaises(pvm_exc.HttpError, lpar_w.update)
        self.assertEqual(400, exc.response.status)
        self.assertIn('secure boot policy', exc.her_wrap.message)
        self.assertEqual(0, self.model.get(lpar_w.uuid).pending_secure_boot)

    def test_rmc_addresses(self):
        mgmt = [p for p in self.model.lpars() if p.is_mgmt][0]
        mgmt_w = pvm_lpar.LPAR.get(self.adapter, uuid=mgmt.uuid)
        addresses = [a.ip_address for a in mgmt.adapters
                     if getattr(a, 'ip_address', None)]
        self.assertEqual(addresses[0], mgmt_w.rmc_ip)
        for vios in self.model.vioses():
            vios_w = pvm_vios.VIOS.get(self.adapter, uuid=vios.uuid)
            self.assertEqual(vios.seas[0].ip_interface.address,
                             vios_w.rmc_ip)
        client = self.model.lpars()[-1]
        self.assertIsNone(pvm_lpar.LPAR.get(self.adapter,
                                            uuid=client.uuid).rmc_ip)


class TestViosDetails(SystemTestBase):

    def vios_xml(self, vios):
        return served_object(self.adapter.read(
            pvm_vios.VIOS.schema_type, root_id=vios.uuid, xag=[]).body)

    def test_free_ethernet_ports_leave_out_the_sea_port(self):
        vios = self.model.vioses()[0]
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=vios.uuid,
                                   xag=[pvm_const.XAG.VIO_NET])
        free = [choice.dev_name for choice in vios_w.io_adpts_for_link_agg]
        used = {sea.port.device_name for sea in vios.seas}
        self.assertEqual(['ent0'], sorted(used))
        self.assertEqual(['ent1', 'ent2', 'ent3'], free)
        backing = self.vios_xml(vios).findall(uom_path(
            'FreeEthenetBackingDevicesForSEA', 'IOAdapterChoice',
            'EthernetBackingDevice', 'IPInterface', 'InterfaceName'))
        self.assertEqual(['en1', 'en2', 'en3'], [i.text for i in backing])

    def test_profile_lists_the_virtual_adapters(self):
        vios, lpar = self.model.vioses()[0], self.model.lpars()[-1]
        vdisk = tsk_stg.crt_vdisk(self.adapter, vios.uuid,
                                  vios.volume_groups[-1].uuid, 'disk1', 1)
        scsi_mapper.add_vscsi_mapping(None, vios.uuid, lpar.uuid, vdisk)
        adapters = self.vios_xml(vios).findall(uom_path(
            'PartitionIOConfiguration', 'ProfileVirtualIOAdapters',
            'ProfileVirtualIOAdapterSubclass'))
        kinds = sorted(etree.QName(item[0]).localname for item in adapters)
        self.assertEqual(['ProfileTrunkAdapter',
                          'ProfileVirtualSCSIServerAdapter'], kinds)
        [server] = [item[0] for item in adapters
                    if item[0].tag == UOM + 'ProfileVirtualSCSIServerAdapter']
        self.assertEqual(str(lpar.partition_id),
                         server.findtext(UOM + 'RemotePartitionID'))
        self.assertEqual(str(vios.partition_id),
                         server.findtext(UOM + 'LocalPartitionID'))


class TestSlotAssignment(SystemTestBase):
    """Physical slots a client LPAR is given through its I/O
    configuration (pypowervm's IOSlot.bld), and what refuses them."""

    def free_card(self):
        # The internal SAS controller: the one card of a fresh system in
        # dedicated mode that no partition holds.
        [card] = [card for card in self.system.io_cards
                  if not card.sriov_adapter_id]
        return card

    def with_slots(self, lpar_w, *drc_indexes, required=False):
        for drc_index in drc_indexes:
            lpar_w.io_config.io_slots.append(pvm_bp.IOSlot.bld(
                self.adapter, False, drc_index, required=required))
        return lpar_w

    def client(self):
        lpar = self.model.lpars()[-1]
        return lpar, pvm_lpar.LPAR.get(self.adapter, uuid=lpar.uuid)

    def owner_in_system_document(self, card):
        [slot] = [slot for slot in self.host().asio_config.io_slots
                  if slot.drc_index == card.drc_index]
        return slot.part_name

    def assertRefused(self, status, message, func):
        before = test_bad_input.model_snapshot(self.model)
        exc = self.assertRaises(pvm_exc.HttpError, func)
        self.assertEqual(status, exc.response.status)
        self.assertIn(message, exc.her_wrap.message)
        self.assertEqual(before, test_bad_input.model_snapshot(self.model))

    def test_new_lpar_holds_the_slot_it_was_built_with(self):
        card = self.free_card()
        host = self.host()
        lpar_w = lpar_builder.LPARBuilder(
            self.adapter, {'name': 'withslot', 'memory': 2048, 'vcpu': 1},
            lpar_builder.DefaultStandardize(host)).build()
        lpar_w = self.with_slots(lpar_w, card.drc_index, required=True)
        lpar_w = lpar_w.create(parent=host)
        [slot] = lpar_w.io_config.io_slots
        self.assertEqual(card.drc_index, slot.drc_index)
        self.assertTrue(slot.required)
        self.assertIsInstance(slot.adapter, pvm_card.IOAdapter)
        self.assertEqual((card.drc_name, card.description),
                         (slot.adapter.drc_name, slot.adapter.description))
        self.assertEqual([card], self.model.get(lpar_w.uuid).io_slots)
        self.assertNotIn(card, self.system.io_cards)
        self.assertEqual('withslot', self.owner_in_system_document(card))

    def test_update_adds_and_removes_a_slot(self):
        card = self.free_card()
        lpar, lpar_w = self.client()
        lpar_w = self.with_slots(lpar_w, card.drc_index).update()
        self.assertEqual([card.drc_index],
                         [s.drc_index for s in lpar_w.io_config.io_slots])
        self.assertEqual(lpar.name, self.owner_in_system_document(card))
        lpar_w.io_config.io_slots.remove(lpar_w.io_config.io_slots[0])
        lpar_w = lpar_w.update()
        self.assertEqual([], lpar_w.io_config.io_slots)
        self.assertEqual([], lpar.io_slots)
        self.assertIn(card, self.system.io_cards)
        self.assertIsNone(self.owner_in_system_document(card))

    def test_deleted_lpar_gives_its_slots_back(self):
        card = self.free_card()
        _lpar, lpar_w = self.client()
        self.with_slots(lpar_w, card.drc_index).update().delete()
        self.assertIn(card, self.system.io_cards)
        self.assertIsNone(self.owner_in_system_document(card))

    def test_vios_lists_its_fc_and_ethernet_cards(self):
        vios = self.model.vioses()[0]
        vios_w = pvm_vios.VIOS.get(self.adapter, uuid=vios.uuid, xag=[])
        slots = vios_w.io_config.io_slots
        self.assertEqual([card.drc_index for card in vios.physical_cards],
                         [slot.drc_index for slot in slots])
        self.assertEqual([pvm_card.PhysFCAdapter, pvm_card.IOAdapter],
                         [type(slot.adapter) for slot in slots])
        xml = served_object(self.adapter.read(
            pvm_vios.VIOS.schema_type, root_id=vios.uuid, xag=[]).body)
        owners = xml.findall(uom_path(
            'PartitionIOConfiguration', 'ProfileIOSlots', 'ProfileIOSlot',
            'AssociatedIOSlot', 'PartitionName'))
        self.assertEqual([vios.name] * 2, [owner.text for owner in owners])

    def test_shared_sriov_adapter_is_refused(self):
        [sriov] = self.system.sriov_adapters
        _lpar, lpar_w = self.client()
        self.assertRefused(400, 'HSCL1572', self.with_slots(
            lpar_w, sriov.drc_index).update)

    def test_slot_of_another_partition_is_refused(self):
        card = self.model.vioses()[0].io_slots[0]
        _lpar, lpar_w = self.client()
        self.assertRefused(409, 'is assigned to partition vios1',
                           self.with_slots(lpar_w, card.drc_index).update)

    def test_unknown_slot_is_refused(self):
        _lpar, lpar_w = self.client()
        self.assertRefused(400, 'no I/O slot with DRC index 12345',
                           self.with_slots(lpar_w, 12345).update)

    def test_slot_listed_twice_is_refused(self):
        card = self.free_card()
        _lpar, lpar_w = self.client()
        self.assertRefused(400, 'listed twice', self.with_slots(
            lpar_w, card.drc_index, card.drc_index).update)

    def test_slot_index_that_is_no_number_is_refused(self):
        _lpar, lpar_w = self.client()
        self.assertRefused(400, 'is not a valid int', self.with_slots(
            lpar_w, 'C14').update)

    def test_running_lpar_without_rmc_keeps_its_slots(self):
        card = self.free_card()
        lpar, lpar_w = self.client()
        self.model.set_partition_state(lpar, part_mod.RUNNING,
                                       rmc_state='inactive')
        lpar_w = pvm_lpar.LPAR.get(self.adapter, uuid=lpar.uuid)
        self.assertRefused(409, 'HSCL2926', self.with_slots(
            lpar_w, card.drc_index).update)
