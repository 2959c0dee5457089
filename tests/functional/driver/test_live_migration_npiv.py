"""Live migration of an instance with Fibre Channel volumes over NPIV,
driven as nova's compute managers drive it (test_live_migration.py).

The LPAR keeps its virtual WWPNs: NovaLink moves each virtual FC client
adapter's mapping to a physical port of the destination, where the
partition logs in with the second WWPN of the adapter's pair.  The
destination says which of its ports (``[powervm] fabric_<X>_port_wwpns``,
those on its own VIOSes) takes each adapter, and keeps the instance's
port maps afterwards.

``[powervm]`` is one configuration for both drivers here, as for every
test with two hosts: fabric A lists the first FC port of each VIOS of the
source's system and the second of the destination's, so that the ports
the destination chose show apart from those NovaLink would pick itself
(the port of the same name).
"""

import copy

from nova.compute import task_states
from nova import exception
from nova import objects

from nova_powervm import conf
from nova_powervm.volume import npiv
from powervm_sim.model import mapping as sim_mapping
from tests.functional.driver import fixtures
from tests.functional.driver import test_live_migration as lpm

SOURCE, DEST = 0, 1


class NPIVLiveMigrationTestCase(lpm.LiveMigrationTestCase):

    def setUp(self):
        super().setUp()
        self.flags(fc_attach_strategy='npiv', group='powervm')
        self.cable(A=self.ports(SOURCE, 'fcs0') + self.ports(DEST, 'fcs1'))

    def cable(self, **fabrics):
        """The fabrics, each with its physical ports (simulator ports)."""
        self.flags(fabrics=list(fabrics), group='powervm')
        # Registers each fabric's fabric_<name>_port_wwpns option.
        conf.fabric_port_wwpns()
        for fabric, ports in fabrics.items():
            self.flags(group='powervm', **{
                'fabric_%s_port_wwpns' % fabric: [port.wwpn
                                                  for port in ports]})

    def ports(self, index, name):
        """The FC ports named ``name`` of system ``index``'s VIOSes."""
        return [port for vios in self.vioses(index)
                for port in vios.fc_ports if port.name == name]

    def vioses(self, index):
        return self.sim.model.vioses(self.sim.endpoints[index].system)

    def attached(self, initiators=None):
        """A running instance with an NPIV volume attached whose LUN the
        SAN lets ``initiators`` in to (default: the WWPNs of the volume
        connector): (instance, LUN, connection_info)."""
        instance = self.running()
        if initiators is None:
            initiators = self.driver.get_volume_connector(instance)['wwpns']
        lun, info = self.fc_volume(initiators=initiators)
        self.attach(instance, info)
        return instance, lun, info

    def move(self, instance, info, nova=None):
        """nova's live migration of ``instance`` with its volume ``info``
        (``nova``: another NovaLiveMigrations); the Outcome."""
        return (nova or self.nova).live_migrate(
            instance, source_bdms=[fixtures.DriverBDM(info)],
            dest_bdms=[fixtures.DriverBDM(copy.deepcopy(info))])

    def vfc_on(self, index):
        """{(VIOS name, physical port name, the client's WWPNs or None)}
        of every VFC mapping of system ``index``'s VIOSes."""
        return {(vios.name, mapping.port and mapping.port.name,
                 mapping.client and mapping.client.wwpns)
                for vios in self.vioses(index)
                for mapping in vios.fc_mappings}

    def port_maps(self, instance, fabric='A'):
        """The instance's port maps of ``fabric`` as nova's database keeps
        them: [(physical port WWPN, "V1 V2")]."""
        sysmeta = objects.Instance.get_by_uuid(
            self.context, instance.uuid,
            expected_attrs=['system_metadata']).system_metadata
        return npiv.stored_port_maps(sysmeta, fabric)

    def pair(self, instance, fabric='A'):
        """The WWPNs of the instance's one port map of ``fabric``, lower
        case, in the order kept."""
        [(_port, pair)] = self.port_maps(instance, fabric)
        return tuple(pair.lower().split())

    def seen_by(self, wwpn):
        """The LUNs ``wwpn`` reaches, logged in through a physical port."""
        return self.sim.model.npiv_luns(wwpn)


class TestNPIVLiveMigration(NPIVLiveMigrationTestCase):

    def test_the_volume_moves_with_the_lpar(self):
        instance, lun, info = self.attached()
        first, second = self.pair(instance)
        before = self.serving(SOURCE, instance)
        self.assert_moved(instance, before, self.move(instance, info))
        self.assertEqual(set(), self.vfc_on(SOURCE))
        # On the destination's port of fabric A, not on the port of the
        # same name NovaLink would have picked.
        [(_vios, port_name, wwpns)] = self.vfc_on(DEST)
        self.assertEqual('fcs1', port_name)
        self.assertEqual({first, second}, set(wwpns))
        # The partition logs in with the second WWPN there, which reaches
        # the volume.
        self.assertEqual([lun], self.seen_by(second))
        self.assertEqual([], self.seen_by(first))
        # The instance keeps the destination's port, the WWPN logged in
        # first, as nova-powervm kept them.
        [(port, _pair)] = self.port_maps(instance)
        self.assertIn(port, [p.wwpn for p in self.ports(DEST, 'fcs1')])
        self.assertEqual((second, first), self.pair(instance))
        sysmeta = objects.Instance.get_by_uuid(
            self.context, instance.uuid,
            expected_attrs=['system_metadata']).system_metadata
        self.assertEqual(npiv.INST_MAPPED, sysmeta['fabric_state_A'])

    def test_each_fabric_lands_on_its_ports_of_the_destination(self):
        # One port a fabric on each system, the source's fabrics on
        # different VIOSes: so are the destination's.
        self.cable(A=self.ports(SOURCE, 'fcs0') + self.ports(DEST, 'fcs1'),
                   B=self.ports(SOURCE, 'fcs1') + self.ports(DEST, 'fcs0'))
        instance, lun, info = self.attached()
        pairs = {fabric: self.pair(instance, fabric) for fabric in 'AB'}
        self.assertTrue(self.move(instance, info).post)
        moved = {frozenset(wwpns): (vios, port)
                 for vios, port, wwpns in self.vfc_on(DEST)}
        self.assertEqual('fcs1', moved[frozenset(pairs['A'])][1])
        self.assertEqual('fcs0', moved[frozenset(pairs['B'])][1])
        self.assertEqual(2, len({vios for vios, _port in moved.values()}))
        self.assertEqual([lun, lun], [found for fabric in 'AB'
                                      for found in self.seen_by(
                                          self.pair(instance, fabric)[0])])

    def test_detach_attach_and_delete_after_the_move(self):
        instance, _lun, info = self.attached()
        self.move(instance, info)
        moved = self.vfc_on(DEST)
        # A plain detach keeps the LPAR's ports, as on any host; the next
        # volume comes through them.
        self.dest.detach_volume(self.context, info, instance, '/dev/sdb')
        self.assertEqual(moved, self.vfc_on(DEST))
        other, other_info = self.fc_volume(
            initiators=self.dest.get_volume_connector(instance)['wwpns'])
        self.dest.attach_volume(self.context, other_info, instance,
                                '/dev/sdc')
        self.assertEqual(moved, self.vfc_on(DEST))
        self.assertIn(other, self.seen_by(self.pair(instance)[0]))
        instance.task_state = task_states.DELETING
        self.dest.destroy(self.context, instance, self.network_info,
                          block_device_info=fixtures.block_device_info(
                              fixtures.DriverBDM(other_info)))
        for index in (SOURCE, DEST):
            self.assertEqual(set(), self.vfc_on(index))
            self.assertEqual(self.NOTHING, self.footprint(index, instance))
        self.assertEqual([], self.sim.model.registry.of_kind(
            sim_mapping.FC_CLIENT))

    def test_and_back_again(self):
        instance, lun, info = self.attached()
        kept = self.port_maps(instance)
        self.assertTrue(self.move(instance, info).post)
        back = lpm.NovaLiveMigrations(self.context, self.network_info,
                                      self.dest, self.driver, fixtures.HOST,
                                      at=self.at)
        before = self.serving(DEST, instance)
        self.assertTrue(self.move(instance, info, nova=back).post)
        self.assertEqual([SOURCE], self.systems_with_lpar(instance))
        self.assertEqual(before, self.serving(SOURCE, instance))
        self.assertEqual(self.NOTHING, self.footprint(DEST, instance))
        self.assertEqual(set(), self.vfc_on(DEST))
        [(_vios, port_name, _wwpns)] = self.vfc_on(SOURCE)
        self.assertEqual('fcs0', port_name)
        # On a port of fabric A here, the first WWPN logged in again.
        [(port, pair)] = self.port_maps(instance)
        self.assertIn(port, [p.wwpn for p in self.ports(SOURCE, 'fcs0')])
        self.assertEqual(kept[0][1], pair)
        self.assertEqual([lun], self.seen_by(self.pair(instance)[0]))


class TestNPIVRefusals(NPIVLiveMigrationTestCase):
    """What stops an NPIV move leaves the source's VFC mappings and the
    instance's port maps as they were, and the destination without any."""

    def assert_untouched(self, instance, before, mapped, kept):
        self.assert_home(instance, before)
        self.assertEqual(mapped, self.vfc_on(SOURCE))
        self.assertEqual(set(), self.vfc_on(DEST))
        self.assertEqual(kept, self.port_maps(instance))

    def test_a_destination_without_a_port_of_the_fabric(self):
        instance, _lun, info = self.attached()
        before, mapped = self.serving(SOURCE, instance), self.vfc_on(SOURCE)
        kept = self.port_maps(instance)
        # Fabric A is cabled to the source's system alone.
        self.cable(A=self.ports(SOURCE, 'fcs0'))
        err = self.assertRaises(
            exception.MigrationPreCheckError, self.check, instance,
            fixtures.block_device_info(fixtures.DriverBDM(info)))
        self.assertIn('fabric A', str(err))
        self.assert_untouched(instance, before, mapped, kept)

    def test_a_san_that_lets_the_first_wwpn_alone_in(self):
        # As nova-powervm 9.0.0's connector had Cinder mask the LUN:
        # NovaLink refuses the move (HSCLA319), which nova rolls back.
        instance = self.running()
        first = self.driver.get_volume_connector(instance)['wwpns'][0]
        lun, info = self.fc_volume(initiators=[first])
        self.attach(instance, info)
        before, mapped = self.serving(SOURCE, instance), self.vfc_on(SOURCE)
        kept = self.port_maps(instance)
        outcome = self.move(instance, info)
        self.assertEqual('failed', outcome.recovered)
        self.assert_untouched(instance, before, mapped, kept)
        self.assertEqual([lun], self.seen_by(first))
        self.assertEqual([instance.uuid], self.rollbacks_at_dest)
