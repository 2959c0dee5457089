"""The driver on a simulator whose model is a real recorded inventory.

powervm_sim.importer builds the model from ManageIQ's refresher.yml (three
HMC-managed POWER systems, read from ../shared/recorded); the simulator
serves it and the driver runs its lifecycle on the first system, next to
the recorded LPARs, which must come out of it untouched.
"""

import os

from nova.compute import power_state
from nova import context as nova_context
from nova import objects

from powervm_sim import fixture as sim_fixture
from powervm_sim import importer
from powervm_sim.model import partition
from tests.functional.driver import fixtures as driver_fixtures
from tests.functional.driver import glance_fake
from tests.recorded import recordings

REFRESHER = os.path.join(recordings.shared_recordings_dir(),
                         'hmc-manageiq-2022', 'refresher.yml')
_LPAR_FIELDS = ('uuid', 'name', 'partition_id', 'state', 'mem_desired',
                'proc_units_desired', 'vprocs_desired', 'dedicated')


def recorded_feed(kind, system_uuid):
    """(name, element) of each kind object in the recorded feed of a
    managed system's children."""
    marker = '/ManagedSystem/%s/%s' % (system_uuid, kind)
    found = []
    for interaction in recordings.load_ruby_vcr(REFRESHER):
        path = interaction.uri.split('?', 1)[0]
        if interaction.method != 'GET' or not path.endswith(marker):
            continue
        for found_kind, element in recordings.iter_atom_objects(
                interaction.response_body):
            if found_kind == kind:
                found.append((_child_text(element, 'PartitionName'),
                              element))
    return found


def _child_text(element, name):
    return element.findtext('{*}' + name)


def without_disk(resources):
    return {key: value for key, value in resources.items()
            if key not in ('local_gb_used', 'disk_available_least')}


def lpar_snapshot(lpar):
    return tuple(getattr(lpar, field) for field in _LPAR_FIELDS)


class ImportedInventoryTestCase(driver_fixtures.DriverTestCase):
    """DriverTestCase on the imported model instead of a built one."""

    def setUp(self):
        if not os.path.exists(REFRESHER):
            self.skipTest('no shared recordings at %s' % REFRESHER)
        # DriverTestCase.setUp would start a simulator of its own making.
        super(driver_fixtures.DriverTestCase, self).setUp()
        self.imported = importer.load(REFRESHER)
        self.addCleanup(self.imported.model.content.close)
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            model=self.imported.model, event_wait=0.2))
        self.driver_fixture = self.useFixture(
            driver_fixtures.DriverFixture(self.sim))
        self.driver = self.driver_fixture.driver
        self.context = nova_context.get_admin_context()
        self.system = self.sim.model.systems[0]
        self.glance = self.useFixture(glance_fake.GlanceFake())
        self.image_data = driver_fixtures.image_bytes(
            driver_fixtures.IMAGE_SIZE)
        self.image = self.glance.add_image(self.image_data)

    def recorded_lpars(self):
        return recorded_feed('LogicalPartition', self.system.uuid)

    def recorded_vioses(self):
        return recorded_feed('VirtualIOServer', self.system.uuid)


class TestImport(ImportedInventoryTestCase):

    def test_every_recorded_partition_is_in_the_model(self):
        lpars = {lpar.name: lpar for lpar in self.client_lpars()}
        recorded = self.recorded_lpars()
        self.assertEqual(sorted(name for name, _ in recorded),
                         sorted(lpars))
        for name, element in recorded:
            lpar = lpars[name]
            self.assertEqual(_child_text(element, 'PartitionUUID').upper(),
                             lpar.uuid)
            self.assertEqual(_child_text(element, 'PartitionState'),
                             lpar.state)
            memory = element.find('{*}PartitionMemoryConfiguration')
            self.assertEqual(int(_child_text(memory, 'DesiredMemory')),
                             lpar.mem_desired)
        vioses = {vios.name: vios
                  for vios in self.sim.model.vioses(self.system)}
        self.assertEqual(sorted(name for name, _ in self.recorded_vioses()),
                         sorted(vioses))

    def test_the_driver_finds_what_it_needs(self):
        # init_host ran: the recorded system, a NovaLink partition and a
        # volume group for boot disks on a recorded, ready VIOS.
        self.assertEqual(self.system.uuid, self.driver.host_wrapper.uuid)
        [novalink] = [part for part in self.system.partitions
                      if part.is_mgmt]
        self.assertIn(novalink.name, ' '.join(self.imported.added))
        vios = self.sim.model.get(self.driver.disk_driver.vios_uuid)
        self.assertIn(vios.name, dict(self.recorded_vioses()))
        self.assertEqual(partition.RUNNING, vios.state)
        vg = self.sim.model.get(self.driver.disk_driver.vg_uuid)
        self.assertEqual(importer.INSTANCE_VG, vg.name)

    def test_recorded_fc_ports_and_media_are_imported(self):
        recorded = {}
        for name, element in self.recorded_vioses():
            for port in element.iterfind(
                    './/{*}PhysicalFibreChannelAdapter//'
                    '{*}PhysicalFibreChannelPort'):
                recorded[_child_text(port, 'WWPN').lower()] = name
        imported = {port.wwpn.lower(): vios.name
                    for vios in self.sim.model.vioses(self.system)
                    for port in vios.fc_ports}
        self.assertEqual(recorded, imported)
        self.assertTrue(recorded)

    def test_volume_connector_offers_the_cabled_imported_ports(self):
        cabled = [port.wwpn.lower()
                  for vios in self.sim.model.vioses(self.system)
                  if vios.is_running and vios.rmc_state == 'active'
                  for port in vios.fc_ports if port.total_ports]
        self.assertTrue(cabled)
        connector = self.driver.get_volume_connector(None)
        self.assertEqual(sorted(cabled), sorted(connector['wwpns']))
        self.assertEqual(driver_fixtures.HOST, connector['host'])

    def test_what_is_skipped_is_reported(self):
        skipped = ' '.join(self.imported.skipped)
        self.assertIn('vSCSI mappings', skipped)
        self.assertIn('client adapters', skipped)


class TestLifecycleOnImportedInventory(ImportedInventoryTestCase):

    def existing_lpars(self):
        return {lpar.uuid: lpar_snapshot(lpar)
                for lpar in self.client_lpars()}

    def test_lifecycle_leaves_the_recorded_lpars_alone(self):
        before = self.existing_lpars()
        names_before = sorted(self.driver.list_instances())
        self.assertEqual(sorted(name for name, _ in self.recorded_lpars()),
                         names_before)
        resources_before = self.driver.get_available_resource(
            driver_fixtures.HOST)

        instance = self.make_instance(memory_mb=2048, vcpus=1)
        self.spawn(instance)
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(instance).state)
        self.assertIn(instance.name, self.driver.list_instances())
        self.sim_system_changed()
        during = self.driver.get_available_resource(driver_fixtures.HOST)
        self.assertEqual(resources_before['memory_mb_used'] + 2048,
                         during['memory_mb_used'])
        # The boot disk, and the image cache volume it was copied from.
        self.assertGreater(during['local_gb_used'],
                           resources_before['local_gb_used'])

        self.driver.power_off(instance)
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(instance).state)
        self.driver.power_on(self.context, instance, [])
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(instance).state)
        self.driver.destroy(self.context, instance, [])

        self.assertIsNone(self.lpar_of(instance))
        self.assertEqual([], self.boot_vdisks())
        self.assertEqual(names_before, sorted(self.driver.list_instances()))
        self.assertEqual(before, self.existing_lpars())
        self.sim_system_changed()
        after = self.driver.get_available_resource(driver_fixtures.HOST)
        # Only the image cache volume stays.
        self.assertEqual(without_disk(resources_before), without_disk(after))
        self.assertEqual(['i_'], [vdisk.name[:2]
                                  for vdisk in self.image_vdisks()])

    def test_get_info_reports_the_recorded_states(self):
        for name, element in self.recorded_lpars():
            instance = objects.Instance(
                uuid=_child_text(element, 'PartitionUUID').lower())
            expected = _RECORDED_STATES[_child_text(element,
                                                    'PartitionState')]
            self.assertEqual(expected, self.driver.get_info(instance).state,
                             name)


# The states the recording holds, as nova sees them.
_RECORDED_STATES = {
    'running': power_state.RUNNING,
    'open firmware': power_state.RUNNING,
    'not activated': power_state.SHUTDOWN,
}
