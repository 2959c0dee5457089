"""VNC consoles through the simulator's NovaLink partition."""

import socket
import struct

from nova.console import type as console_type
from nova import exception

from nova_powervm import vm
from powervm_sim import platform as sim_platform
from tests.functional.driver import fixtures

CONF = fixtures.CONF
receive = sim_platform.receive_exactly




class TestVNCConsole(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.make_instance()
        self.spawn(self.instance)
        self.partition = sim_platform.partition_of(self.driver.adapter)

    def _connect(self, console):
        sock = socket.create_connection(('127.0.0.1', console.port),
                                        timeout=10)
        self.addCleanup(sock.close)
        return sock

    def test_console_speaks_rfb_and_names_the_lpar(self):
        self.flags(server_proxyclient_address='192.0.2.20', group='vnc')
        console = self.driver.get_vnc_console(self.context, self.instance)
        self.assertIsInstance(console, console_type.ConsoleVNC)
        self.assertEqual('192.0.2.20', console.host)
        sock = self._connect(console)
        self.assertEqual(b'RFB 003.008\n', receive(sock, 12))
        sock.sendall(b'RFB 003.008\n')
        # One security type: none.
        self.assertEqual(b'\x01\x01', receive(sock, 2))
        sock.sendall(b'\x01')
        self.assertEqual(b'\0\0\0\0', receive(sock, 4))
        sock.sendall(b'\x01')
        server_init = receive(sock, 24)
        width, height = struct.unpack('>HH', server_init[:4])
        self.assertEqual((640, 480), (width, height))
        [name_len] = struct.unpack('>I', server_init[20:24])
        self.assertEqual(self.lpar_of(self.instance).name,
                         receive(sock, name_len).decode())

    def test_the_console_stays_open(self):
        first = self.driver.get_vnc_console(self.context, self.instance)
        second = self.driver.get_vnc_console(self.context, self.instance)
        self.assertEqual(first.port, second.port)
        self.assertEqual([vm.get_pvm_uuid(self.instance).lower()],
                         self.partition.open_consoles())

    def test_destroy_closes_the_console(self):
        console = self.driver.get_vnc_console(self.context, self.instance)
        sock = self._connect(console)
        self.assertEqual(b'RFB 003.008\n', receive(sock, 12))
        self.driver.destroy(self.context, self.instance, None)
        self.assertEqual([], self.partition.open_consoles())
        # The open connection ends, and nobody listens any more.
        self.assertEqual(b'', receive(sock, 1))
        self.assertRaises(ConnectionRefusedError, socket.create_connection,
                          ('127.0.0.1', console.port), timeout=10)

    def test_console_of_an_instance_without_lpar(self):
        self.assertRaises(exception.InstanceNotFound,
                          self.driver.get_vnc_console, self.context,
                          self.make_instance())
        self.assertEqual([], self.partition.open_consoles())
