"""The NovaLink partition of a simulated NovaLink, for the PowerVM driver.

nova-compute runs on the NovaLink partition and does a few things there
locally rather than through REST (``nova_powervm.mgmt.Platform``).
``SimulatedPlatform``, the driver's ``simulator`` mgmt platform, does them
against a simulator instead:

- a disk mapped to the management partition reads from the model's
  content store, but only while the model really maps it there;
- an LPAR's VNC console is a loopback listener speaking RFB 3.8 (version
  and security handshake, an empty screen named after the LPAR);
- lparcfg describes the system's NovaLink partition;
- its Open vSwitch takes a device as a port only while a trunk adapter of
  that name exists on the NovaLink partition.

The platform finds the simulator behind a pypowervm adapter by the
adapter's endpoint (host and port) among the ones ``attach`` registered;
``PlatformFixture`` attaches every endpoint of a running NovaLinkFixture
for the length of a test.  A simulator in another process (``powervm-sim
serve`` on the same machine) cannot be attached: its model is not in this
process.  For an endpoint nothing is attached at, the platform asks that
process's control API (``/sim/partition/``, see control.py) instead, with
the token it printed at start in the environment variable
``POWERVM_SIM_CONTROL_TOKEN``; the certificate of an HTTPS endpoint is
verified as requests does by default (``REQUESTS_CA_BUNDLE``).  A disk it
maps to the NovaLink partition is read from the serve process's content
file, as a real NovaLink partition reads it as a local block device.
"""

import os
import socket
import struct
import threading
from urllib import parse as urlparse

import fixtures
from pypowervm.wrappers import logical_partition as pvm_lpar
import requests

from nova_powervm import exception as pvm_nova_exc
from nova_powervm import mgmt
from powervm_sim import control

# The RFB protocol version a NovaLink console offers.
RFB_VERSION = b'RFB 003.008\n'
_NO_SECURITY = 1
_SCREEN = (640, 480)
# 32 bits per pixel, depth 24, little endian, true colour, 8 bits a colour.
_PIXEL_FORMAT = struct.pack('>BBBBHHHBBB3x', 32, 24, 0, 1, 255, 255, 255,
                            16, 8, 0)

# Where nova-compute finds the control token of a ``powervm-sim serve``.
TOKEN_VARIABLE = 'POWERVM_SIM_CONTROL_TOKEN'  # noqa: S105 (a name)
# Seconds a control request may take: each is one quick change of the
# serve process's model, but the first also loads this module there.
CONTROL_TIMEOUT = 30

_PARTITIONS = {}
_LOCK = threading.Lock()


class NotAttached(LookupError):
    """No attached simulator serves the adapter's endpoint."""


class DiskNotMapped(LookupError):
    """No VIOS maps the disk to the NovaLink partition, or it has no
    content."""


class OvsRefused(RuntimeError):
    """Open vSwitch has no such device to make a port of."""


class ControlAPIError(RuntimeError):
    """The control API of a ``powervm-sim serve`` process refused a
    request."""

    def __init__(self, status, message):
        super().__init__('powervm-sim control API: %s %s' % (status,
                                                             message))
        self.status = status
        self.message = message


def _key(host, port):
    return host.strip('[]').lower(), int(port)


def attach(host, port, model, system):
    """Serve the NovaLink partition of ``system`` (of ``model``) to
    adapters of the endpoint ``host``:``port``; returns it."""
    partition = SimulatedPartition(model, system)
    with _LOCK:
        if _key(host, port) in _PARTITIONS:
            raise ValueError('%s:%s is attached already' % (host, port))
        _PARTITIONS[_key(host, port)] = partition
    return partition


def detach(host, port):
    """Forget the endpoint; its open consoles close."""
    with _LOCK:
        partition = _PARTITIONS.pop(_key(host, port), None)
    if partition is not None:
        partition.close()


def partition_of(adapter):
    """The SimulatedPartition behind a pypowervm adapter.

    :raises NotAttached: no attached simulator serves its endpoint.
    """
    session = adapter.session
    with _LOCK:
        partition = _PARTITIONS.get(_key(session.host, session.port))
    if partition is None:
        raise NotAttached(
            'No simulated NovaLink is attached at %s:%s (see '
            'powervm_sim.platform.PlatformFixture).' % (session.host,
                                                        session.port))
    return partition


class PlatformFixture(fixtures.Fixture):
    """Attach every endpoint of a started NovaLinkFixture for a test."""

    def __init__(self, sim):
        super().__init__()
        self.sim = sim

    def _setUp(self):
        for endpoint in self.sim.endpoints:
            attach(endpoint.host, endpoint.port, self.sim.model,
                   endpoint.system)
            self.addCleanup(detach, endpoint.host, endpoint.port)


class SimulatedPartition:
    """The NovaLink partition of one simulated managed system."""

    def __init__(self, model, system):
        self.model = model
        self.system = system
        self._consoles = {}
        # Open vSwitch: bridge -> {port (device) name: external IDs}
        self._bridges = {}
        self._lock = threading.Lock()

    def mgmt_lpar(self):
        return self.system.mgmt_partition

    def lparcfg(self):
        """The NovaLink partition's lparcfg values nova-compute reads."""
        lpar = self.mgmt_lpar()
        system = self.system
        return {
            'serial_number': 'IBM,02%s' % system.serial,
            'system_type': 'IBM,%s-%s' % (system.machine_type, system.model),
            'partition_id': str(lpar.partition_id),
            'partition_entitled_capacity': str(
                round(lpar.proc_units_desired * 100)),
        }

    def mapped_disk(self, udid):
        """The content file of the storage ``udid``.

        :raises DiskNotMapped: no VIOS maps it here, or it has no content.
        """
        # Scanning the bus of a real partition finds only what is mapped.
        if not self.mapped_here(udid):
            raise DiskNotMapped('no VIOS maps it to the NovaLink partition')
        if not self.model.content.exists(udid):
            raise DiskNotMapped('the disk has no content')
        return self.model.content.path(udid)

    def mapped_here(self, udid):
        """Whether a VIOS maps the storage ``udid`` to this partition."""
        with self.model.registry.lock:
            return any(
                mapping.storage is not None and
                mapping.storage.udid == udid and
                mapping.client is not None and mapping.client.parent.is_mgmt
                for vios in self.model.vioses(self.system)
                for mapping in vios.scsi_mappings)

    def console(self, lpar_uuid, name):
        """The LPAR's console server, started on first use."""
        with self._lock:
            server = self._consoles.get(lpar_uuid.lower())
            if server is None:
                server = self._consoles[lpar_uuid.lower()] = VNCServer(name)
            return server

    def close_console(self, lpar_uuid):
        with self._lock:
            server = self._consoles.pop(lpar_uuid.lower(), None)
        if server is not None:
            server.close()

    def add_ovs_port(self, bridge, dev_name, external_ids):
        with self.model.registry.lock:
            devices = {cna.device_name
                       for cna in self.model.cnas(self.mgmt_lpar())}
        if dev_name not in devices:
            raise OvsRefused('ovs-vsctl: no device %s on the NovaLink '
                             'partition' % dev_name)
        with self._lock:
            self._bridges.setdefault(bridge, {})[dev_name] = external_ids

    def remove_ovs_port(self, bridge, dev_name):
        with self._lock:
            self._bridges.get(bridge, {}).pop(dev_name, None)

    def ovs_ports(self):
        """{(bridge, port name): external IDs} of the Open vSwitch."""
        with self._lock:
            return {(bridge, dev): dict(ids)
                    for bridge, ports in self._bridges.items()
                    for dev, ids in ports.items()}

    def open_consoles(self):
        """UUIDs of the LPARs whose console is open."""
        with self._lock:
            return sorted(self._consoles)

    def close(self):
        with self._lock:
            servers, self._consoles = list(self._consoles.values()), {}
        for server in servers:
            server.close()


class _RemotePartition:
    """The NovaLink partition of a ``powervm-sim serve`` process, through
    its control API: the methods of SimulatedPartition the platform uses.

    :param session: the pypowervm Session of one of its endpoints.
    :raises NotAttached: TOKEN_VARIABLE is not set.
    """

    def __init__(self, session):
        self._url = session.dest + '/sim/partition/'
        self._token = os.environ.get(TOKEN_VARIABLE)
        if not self._token:
            raise NotAttached(
                'No simulated NovaLink is attached at %s in this process, '
                'and %s is not set to reach a powervm-sim serve process '
                'there (set it to the control token serve printed at '
                'start).' % (session.dest, TOKEN_VARIABLE))

    def _call(self, method, path, body=None):
        """The JSON answer of a control request.

        :raises ControlAPIError: the answer is not a success.
        """
        response = requests.request(
            method, self._url + path, json=body, timeout=CONTROL_TIMEOUT,
            headers={control.CONTROL_HEADER: self._token})
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not response.ok:
            error = (payload.get('error') if isinstance(payload, dict)
                     else None)
            raise ControlAPIError(response.status_code,
                                  error or response.reason)
        return payload

    def lparcfg(self):
        return self._call('GET', 'lparcfg')

    def mapped_disk(self, udid):
        # UDIDs are base64: '/' and '+' must not be read as path syntax.
        try:
            return self._call('GET', 'disks/' + _quote(udid))['path']
        except ControlAPIError as exc:
            if exc.status == 404:
                raise DiskNotMapped(exc.message) from None
            raise

    def console(self, lpar_uuid, name):
        """The LPAR's console (its ``port``); the serve process names it
        after the LPAR itself."""
        answer = self._call('POST', 'consoles/' + _quote(lpar_uuid))
        return mgmt.VNCConsole(port=answer['port'])

    def close_console(self, lpar_uuid):
        self._call('DELETE', 'consoles/' + _quote(lpar_uuid))

    def add_ovs_port(self, bridge, dev_name, external_ids):
        try:
            self._call('PUT', _ovs_path(bridge, dev_name), external_ids)
        except ControlAPIError as exc:
            if exc.status == 409:
                raise OvsRefused(exc.message) from None
            raise

    def remove_ovs_port(self, bridge, dev_name):
        self._call('DELETE', _ovs_path(bridge, dev_name))


def _quote(name):
    return urlparse.quote(name, safe='')


def _ovs_path(bridge, dev_name):
    return 'ovs/%s/%s' % (_quote(bridge), _quote(dev_name))


def _partition(adapter):
    """The NovaLink partition behind ``adapter``: the attached simulator's,
    else that of the serve process at the adapter's endpoint."""
    try:
        return partition_of(adapter)
    except NotAttached:
        return _RemotePartition(adapter.session)


class SimulatedPlatform(mgmt.Platform):
    """``nova_powervm.mgmt.Platform`` on an attached simulator or on a
    ``powervm-sim serve`` process's control API."""

    def discover_disk(self, adapter, mapping):
        udid = mapping.backing_storage.udid
        try:
            return _partition(adapter).mapped_disk(udid)
        except DiskNotMapped as exc:
            raise pvm_nova_exc.DiskDiscoveryFailed(udid=udid,
                                                   reason=str(exc)) from None

    def open_disk(self, path):
        return open(path, 'rb')

    def remove_disk(self, path):
        """Nothing to do: the simulated partition has no device nodes,
        the disk's content is simply not read any more."""

    def open_vnc_console(self, adapter, lpar_uuid):
        # As pypowervm's vterm does, read the LPAR first: HttpNotFound for
        # an LPAR that does not exist.
        lpar_w = pvm_lpar.LPAR.get(adapter, uuid=lpar_uuid)
        server = _partition(adapter).console(lpar_uuid, lpar_w.name)
        return mgmt.VNCConsole(port=server.port)

    def close_vterm(self, adapter, lpar_uuid):
        _partition(adapter).close_console(lpar_uuid)

    def plug_ovs_port(self, adapter, bridge, dev_name, iface_id, mac,
                      instance_uuid):
        _partition(adapter).add_ovs_port(bridge, dev_name, {
            'iface-id': iface_id, 'iface-status': 'active',
            'attached-mac': mac, 'vm-uuid': instance_uuid})

    def unplug_ovs_port(self, adapter, bridge, dev_name):
        _partition(adapter).remove_ovs_port(bridge, dev_name)

    def lparcfg(self, adapter):
        return _partition(adapter).lparcfg()


class VNCServer:
    """One LPAR's VNC console on loopback.

    Each client gets the RFB 3.8 handshake without security and an empty
    screen named after the LPAR; whatever it sends afterwards is read and
    ignored until it hangs up or the server closes.
    """

    def __init__(self, name):
        self.name = name
        self._listener = socket.create_server(('127.0.0.1', 0))
        self.port = self._listener.getsockname()[1]
        self._clients = set()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(
            target=self._accept, name='powervm-sim-vnc-%d' % self.port,
            daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._closed:
                    client.close()
                    return
                self._clients.add(client)
            threading.Thread(target=self._serve, args=(client,),
                             name='powervm-sim-vnc-client',
                             daemon=True).start()

    def _serve(self, client):
        try:
            self._handshake(client)
            while client.recv(4096):
                pass
        except OSError:
            pass
        finally:
            with self._lock:
                self._clients.discard(client)
            client.close()

    def _handshake(self, client):
        client.sendall(RFB_VERSION)
        version = receive_exactly(client, len(RFB_VERSION))
        if not version.startswith(b'RFB 003.'):
            return
        client.sendall(bytes([1, _NO_SECURITY]))
        if receive_exactly(client, 1) != bytes([_NO_SECURITY]):
            return
        client.sendall(struct.pack('>I', 0))
        receive_exactly(client, 1)
        name = self.name.encode('utf-8')
        client.sendall(struct.pack('>HH', *_SCREEN) + _PIXEL_FORMAT +
                       struct.pack('>I', len(name)) + name)

    def close(self):
        with self._lock:
            self._closed = True
            clients, self._clients = list(self._clients), set()
        # shutdown wakes the accepting thread; close alone may not.
        for sock in [self._listener] + clients:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._thread.join(timeout=5)


def receive_exactly(sock, size):
    """Exactly ``size`` bytes from ``sock`` (fewer if it hangs up)."""
    data = b''
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data
