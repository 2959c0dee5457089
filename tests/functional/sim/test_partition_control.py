"""/sim/partition/: the NovaLink partition of an endpoint's system, which
the driver's ``simulator`` mgmt platform asks a ``powervm-sim serve``
process for."""

import io
import socket

from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import storage as pvm_stg
from pypowervm.wrappers import storage as pvm_storage
from pypowervm.wrappers import virtual_io_server as pvm_vios
import requests

from nova_powervm.disk import snapshot
from powervm_sim import platform as sim_platform
from tests.functional.sim import test_control

DISK_BYTES = b'the disk as the guest left it ' * 1000


def upload_disk(adapter, name, data):
    """A new SSP logical unit holding ``data``; (its VIOS's UUID, the LU)."""
    vios_w = pvm_vios.VIOS.get(adapter)[0]
    ssp_w = pvm_storage.SSP.get(adapter)[0]
    lu_w, _ = pvm_stg.upload_new_lu(vios_w.uuid, ssp_w, io.BytesIO(data),
                                    name, len(data))
    return vios_w.uuid, lu_w


def map_to_mgmt(adapter, vios_uuid, disk):
    """Map ``disk`` to the NovaLink partition as a snapshot does; the
    mapping and a function that removes it."""
    mgmt_uuid = pvm_partition.get_mgmt_partition(adapter).uuid
    mapping = snapshot.map_to_partition(adapter, vios_uuid, mgmt_uuid, disk)
    # The storage as the mapping has it: the upload's LU is of another
    # wrapper type, which the unmap's match would not take for it.
    return mapping, lambda: snapshot.unmap_from_partition(
        adapter, vios_uuid, mgmt_uuid, mapping.backing_storage)


def ovs_trunk(adapter, lpar_uuid, dev_name):
    """A trunk adapter named ``dev_name`` on the NovaLink partition, for a
    new CNA of the LPAR, as the driver makes one for an OVS VIF."""
    mgmt_uuid = pvm_partition.get_mgmt_partition(adapter).uuid
    _client, [trunk] = pvm_cna.crt_p2p_cna(
        adapter, None, lpar_uuid, [mgmt_uuid], 'NovaLinkVEABridge',
        crt_vswitch=True, dev_name=dev_name, ovs_bridge='br-int')
    return trunk


class ConsoleClient:
    """A test's VNC client connections, closed at its clean-up."""

    def connect(self, port):
        sock = socket.create_connection(('127.0.0.1', port), timeout=10)
        self.addCleanup(sock.close)
        return sock

    def assert_greeted(self, sock):
        """The console's first words: its RFB version."""
        self.assertEqual(sim_platform.RFB_VERSION,
                         sim_platform.receive_exactly(
                             sock, len(sim_platform.RFB_VERSION)))


class PartitionTestCase(test_control.ControlTestCase):

    def setUp(self):
        super().setUp()
        self.adapter = self.sim.adapter()
        self.system = self.sim.model.systems[0]
        self.mgmt = self.system.mgmt_partition
        self.client_lpar = next(lpar for lpar in self.sim.model.lpars(
            self.system) if not lpar.is_mgmt)

    def ports(self):
        return self.call('GET', 'partition/ovs', 200)


class TestLparcfg(PartitionTestCase):

    def test_each_endpoint_describes_its_systems_novalink_partition(self):
        lparcfg = self.call('GET', 'partition/lparcfg', 200)
        self.assertEqual({
            'serial_number': 'IBM,02%s' % self.system.serial,
            'system_type': 'IBM,%s-%s' % (self.system.machine_type,
                                          self.system.model),
            'partition_id': str(self.mgmt.partition_id),
            'partition_entitled_capacity': str(
                round(self.mgmt.proc_units_desired * 100))}, lparcfg)
        other = self.sim.model.systems[1]
        answer = requests.get(
            self.sim.endpoints[1].server.url + '/sim/partition/lparcfg',
            timeout=10)
        self.assertEqual('IBM,02%s' % other.serial,
                         answer.json()['serial_number'])

    def test_only_get(self):
        self.assertIn('use GET', self.call('PUT', 'partition/lparcfg',
                                           405)['error'])


class TestDisks(PartitionTestCase):

    def test_a_disk_is_there_only_while_mapped_to_the_partition(self):
        vios_uuid, lu_w = upload_disk(self.adapter, 'snap_me', DISK_BYTES)
        path = 'partition/disks/' + lu_w.udid
        self.assertIn('no VIOS maps it', self.call('GET', path,
                                                   404)['error'])
        _mapping, unmap = map_to_mgmt(self.adapter, vios_uuid, lu_w)
        disk = self.call('GET', path, 200)
        # The unit's whole capacity, the upload first.
        self.assertEqual(self.sim.model.content.size(lu_w.udid),
                         disk['size'])
        with open(disk['path'], 'rb') as blob:
            self.assertEqual(DISK_BYTES, blob.read(len(DISK_BYTES)))
        unmap()
        self.assertIn('no VIOS maps it', self.call('GET', path,
                                                   404)['error'])

    def test_a_disk_mapped_to_another_partition_is_not_there(self):
        vios_uuid, lu_w = upload_disk(self.adapter, 'elsewhere', DISK_BYTES)
        snapshot.map_to_partition(self.adapter, vios_uuid,
                                  self.client_lpar.uuid, lu_w)
        self.call('GET', 'partition/disks/' + lu_w.udid, 404)

    def test_a_udid_with_slashes_is_one_udid(self):
        # Base64 UDIDs may hold '/': still a disk lookup, not a bad path.
        error = self.call('GET', 'partition/disks/01ab%2Fcd/ef==',
                          404)['error']
        self.assertIn('no VIOS maps it', error)

    def test_only_get(self):
        self.call('DELETE', 'partition/disks/01abc', 405)
        self.call('GET', 'partition/disks', 404)
        self.call('GET', 'partition//disks/01abc', 404)


class TestConsoles(ConsoleClient, PartitionTestCase):

    def test_open_find_and_close(self):
        path = 'partition/consoles/' + self.client_lpar.uuid
        port = self.call('POST', path, 200)['port']
        sock = self.connect(port)
        self.assert_greeted(sock)
        self.assertEqual(port, self.call('POST', path, 200)['port'])
        self.assertEqual({'open_consoles': []},
                         self.call('DELETE', path, 200))
        self.assertEqual(b'', sim_platform.receive_exactly(sock, 1))
        self.assertRaises(ConnectionRefusedError, self.connect, port)
        # Closing again is fine.
        self.call('DELETE', path, 200)

    def test_the_simulator_closes_its_consoles(self):
        port = self.call('POST', 'partition/consoles/' +
                         self.client_lpar.uuid, 200)['port']
        sock = self.connect(port)
        # Served first: a connection the listener has not accepted yet
        # would be reset rather than ended.
        self.assert_greeted(sock)
        self.simulator.close()
        self.assertEqual(b'', sim_platform.receive_exactly(sock, 1))
        self.assertRaises(ConnectionRefusedError, self.connect, port)

    def test_no_console_for_an_lpar_this_endpoint_does_not_serve(self):
        other = next(lpar for lpar in self.sim.model.lpars(
            self.sim.model.systems[1]) if not lpar.is_mgmt)
        for uuid in (other.uuid, 'c0ffee00-0000-4000-8000-000000000001'):
            self.assertIn('No LogicalPartition', self.call(
                'POST', 'partition/consoles/' + uuid, 404)['error'])
        self.call('GET', 'partition/consoles/' + self.client_lpar.uuid, 405)


class TestOvs(PartitionTestCase):

    IDS = {'iface-id': 'port-1', 'attached-mac': 'fa:16:3e:00:00:01'}

    def test_plug_and_unplug_a_trunk(self):
        ovs_trunk(self.adapter, self.client_lpar.uuid, 'tap-1')
        self.assertEqual([{'bridge': 'br-int', 'port': 'tap-1',
                           'external_ids': self.IDS}],
                         self.call('PUT', 'partition/ovs/br-int/tap-1', 200,
                                   json=self.IDS))
        self.assertEqual([], self.call('DELETE',
                                       'partition/ovs/br-int/tap-1', 200))
        # Gone is fine.
        self.call('DELETE', 'partition/ovs/br-int/tap-1', 200)

    def test_bad_requests_change_nothing(self):
        ovs_trunk(self.adapter, self.client_lpar.uuid, 'tap-1')
        self.call('PUT', 'partition/ovs/br-int/tap-1', 200, json=self.IDS)
        before = self.ports()
        self.assertIn('no device tap-2', self.call(
            'PUT', 'partition/ovs/br-int/tap-2', 409,
            json=self.IDS)['error'])
        for body in ('{"iface-id": ', '["port-1"]', '{"iface-id": 1}',
                     '"text"', ''):
            self.call('PUT', 'partition/ovs/br-int/tap-1', 400, data=body)
        self.call('PUT', 'partition/ovs/br-int', 404, json=self.IDS)
        self.call('POST', 'partition/ovs/br-int/tap-1', 405, json=self.IDS)
        self.call('DELETE', 'partition/ovs', 405)
        self.call('PUT', 'partition/ovs/br-int/tap-1', 413,
                  data='x' * (200 * 1024))
        self.assertIn('/sim/partition/nothing', self.call(
            'GET', 'partition/nothing', 404)['error'])
        self.assertEqual(before, self.ports())
