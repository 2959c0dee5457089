"""Management consoles: the NovaLink partition of each managed system, as
the REST API's ManagementConsole shows it.

What the simulator models of it is SSH trust: a partition migration runs
from the source's NovaLink, which reaches the target's over SSH as the
user wlp with its own key pair.  The target's console must list the
source's public key among its authorized keys (wlp's authorized_keys),
else the migration is refused (mobility.UNTRUSTED).  A client reads a
console's public key and writes the authorized keys through the REST API
(pypowervm's tasks.management_console).

The public key is generated from the system's serial number: the same in
every run, different per system, in the ssh-rsa wire format of a 2048-bit
key.  No private key exists anywhere: nothing here is a secret.
"""

import base64
import dataclasses
import hashlib
import re
import struct
import typing

from powervm_sim.model import registry

# The user NovaLink runs a migration's SSH session as.
USER = 'wlp'
_RSA_EXPONENT = 65537
_RSA_BYTES = 256
# One authorized_keys line without options: the key type, its base64 body
# (whose first field repeats the type) and an optional comment, which
# must not start another line.
_KEY_LINE = re.compile(r'(?P<type>[a-z0-9][a-z0-9@.-]*) '
                       r'(?P<body>[A-Za-z0-9+/]+={0,2})'
                       r'(?: [^\x00-\x1f\x7f]*)?')


@dataclasses.dataclass(kw_only=True, eq=False)
class ManagementConsole(registry.Resource):
    """The NovaLink of its parent, a managed system."""

    kind: typing.ClassVar[str] = 'ManagementConsole'
    # Served at /rest/api/uom/ManagementConsole[/{uuid}].
    root_level: typing.ClassVar[bool] = True

    name: str
    public_key: str
    # The lines of wlp's authorized_keys, in the order they were added.
    authorized_keys: list = dataclasses.field(default_factory=list)

    @property
    def public_key_text(self):
        """The key as NovaLink shows it: the line of wlp's public key
        file, its newline included."""
        return self.public_key + '\n'


def public_key(seed, host):
    """The ssh-rsa public key line of the console ``host`` whose key is
    generated from ``seed`` (a modulus drawn from SHA-256: the right form
    and size, with no private key behind it)."""
    digest = b''.join(hashlib.sha256(b'%s/%d' % (seed.encode(), block))
                      .digest() for block in range(_RSA_BYTES // 32))
    # Top bit set: a full 2048-bit modulus; odd, as an RSA modulus is.
    modulus = int.from_bytes(digest, 'big') | (1 << (_RSA_BYTES * 8 - 1)) | 1
    body = b''.join(_ssh_string(part) for part in (
        b'ssh-rsa', _mpint(_RSA_EXPONENT), _mpint(modulus)))
    return 'ssh-rsa %s %s@%s' % (base64.b64encode(body).decode(), USER, host)


def _ssh_string(data):
    return struct.pack('>I', len(data)) + data


def _mpint(number):
    # SSH's mpint: big-endian, a leading zero byte when the top bit is set.
    return number.to_bytes(number.bit_length() // 8 + 1, 'big')


def key_identity(line):
    """(type, body) of an authorized_keys line: what sshd matches, the
    comment being a note only.

    :raises registry.Conflict: (400) the line is not an SSH public key.
    """
    match = _KEY_LINE.fullmatch(line)
    if match is None or _first_field(match['body']) != \
            match['type'].encode():
        raise registry.Conflict(
            'AuthorizedKey %r is not an SSH public key: a key type, its '
            'base64 body and an optional comment, on one line.' % (
                line[:60] + ('...' if len(line) > 60 else '')), status=400)
    return match['type'], match['body']


def _first_field(body):
    try:
        data = base64.b64decode(body, validate=True)
    except ValueError:
        return None
    if len(data) < 4:
        return None
    [size] = struct.unpack('>I', data[:4])
    return data[4:4 + size]


class ConsoleOps:
    """Console behaviour of the model (mixed into ``Model``)."""

    def add_console(self, system):
        """Give ``system`` its NovaLink's console."""
        with self.registry.lock:
            name = 'novalink-%s' % system.serial.lower()
            system.console = ManagementConsole(
                parent=system, name=name,
                public_key=public_key(system.serial, name))
            return self.registry.add(system.console)

    def add_missing_consoles(self):
        """Consoles for the systems of a model saved before there were
        any."""
        with self.registry.lock:
            for system in self.systems:
                if system.console is None:
                    self.add_console(system)

    def consoles(self):
        return [system.console for system in self.systems
                if system.console is not None]

    @staticmethod
    def console_of(system):
        return system.console

    def update_console(self, console, fields):
        """A client's update: the authorized keys, if it sent them (the
        rest of the document is read-only)."""
        if 'authorized_keys' in fields:
            self.set_authorized_keys(console, fields['authorized_keys'])

    def set_authorized_keys(self, console, keys):
        """Make ``keys`` the keys ``console`` authorizes, each once, in
        their order.

        :raises registry.Conflict: (400, nothing changed) a key is not an
                SSH public key.
        """
        for key in keys:
            key_identity(key)
        wanted = list(dict.fromkeys(keys))
        with self.registry.lock:
            if wanted != console.authorized_keys:
                console.authorized_keys = wanted
                self.registry.changed(console)

    @staticmethod
    def trusts(console, other):
        """Whether ``console`` lets ``other``'s NovaLink in over SSH."""
        identity = key_identity(other.public_key)
        return any(key_identity(key) == identity
                   for key in console.authorized_keys)
