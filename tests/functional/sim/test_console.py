"""The ManagementConsole: each NovaLink's own console, read and updated
through pypowervm's tasks.management_console as a client does: its public
SSH key (the key its user ``wlp`` reaches other consoles with) and the
keys it authorizes, which a partition migration from another NovaLink
needs (see test_mobility).

Every refusal changes nothing (test_bad_input's model snapshot).
"""

import base64
import struct

from lxml import etree
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import management_console as pvm_mc
from pypowervm.utils import transaction
from pypowervm.wrappers import management_console as mc_wrap

from powervm_sim.model import console as console_mod
from tests.functional.sim import test_bad_input

UOM_NS = pvm_const.UOM_NS
# A key an operator authorized (its 32 bytes are text, not a real key).
OPERATOR_KEY = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGFuIG9wZXJhdG9yIGtleSw'
                'gdGVzdHMgb25seSAwMDAw admin@ops.example')


def ssh_rsa_fields(key):
    """The (type, exponent, modulus bits, comment) of an ssh-rsa public
    key line, read as sshd reads its wire format."""
    kind, blob, comment = key.split(' ')
    data = base64.b64decode(blob, validate=True)
    fields = []
    while data:
        [size] = struct.unpack('>I', data[:4])
        fields.append(data[4:4 + size])
        data = data[4 + size:]
    name, exponent, modulus = fields
    return (kind, name.decode(), int.from_bytes(exponent, 'big'),
            int.from_bytes(modulus, 'big').bit_length(), comment)


class ConsoleTestBase(test_bad_input.BadInputTestBase):
    systems = 2

    def console(self, index=0):
        adapter = self.sim.adapter(index) if index else self.adapter
        [console_w] = mc_wrap.ManagementConsole.wrap(
            adapter.read(mc_wrap.ManagementConsole.schema_type))
        return console_w

    def model_console(self, index=0):
        return self.model.console_of(self.sim.endpoints[index].system)

    def update_raw(self, data, console_w=None):
        console_w = console_w or self.console()
        return self.adapter.update_by_path(
            test_bad_input.RawBody(data), console_w.etag, console_w.href)

    def with_keys(self, *keys):
        """The console's document with ``keys`` as its authorized keys,
        as raw XML (what a client may send)."""
        root = etree.fromstring(self.console().toxmlstring())
        listed = root.find('{%s}AuthorizedKeys' % UOM_NS)
        for key in listed.findall('{%s}AuthorizedKey' % UOM_NS):
            listed.remove(key)
        for key in keys:
            element = etree.SubElement(listed,
                                       '{%s}AuthorizedKey' % UOM_NS)
            if isinstance(key, str):
                element.text = key
            else:
                element.append(key)
        return etree.tostring(root)


class TestConsole(ConsoleTestBase):

    def test_each_novalink_serves_its_own_console(self):
        consoles = [self.console(index) for index in range(2)]
        for index, console_w in enumerate(consoles):
            system = self.sim.endpoints[index].system
            self.assertEqual(self.model_console(index).uuid.upper(),
                             console_w.uuid.upper())
            self.assertEqual((system.machine_type, system.model,
                              system.serial),
                             (console_w.mtms.machine_type,
                              console_w.mtms.model,
                              console_w.mtms.serial))
        self.assertNotEqual(consoles[0].ssh_public_key,
                            consoles[1].ssh_public_key)
        # The other NovaLink's console is unknown here.
        self.assertRaises(pvm_exc.HttpError, self.adapter.read,
                          mc_wrap.ManagementConsole.schema_type,
                          consoles[1].uuid)

    def test_the_entry_is_the_feeds(self):
        console_w = self.console()
        entry = mc_wrap.ManagementConsole.wrap(self.adapter.read(
            mc_wrap.ManagementConsole.schema_type, console_w.uuid))
        self.assertEqual(console_w.ssh_public_key, entry.ssh_public_key)
        self.assertEqual(console_w.etag, entry.etag)

    def test_the_public_key_is_an_rsa_key_of_wlp(self):
        key = pvm_mc.get_public_key(self.adapter)
        kind, name, exponent, bits, comment = ssh_rsa_fields(key)
        self.assertEqual(('ssh-rsa', 'ssh-rsa', 65537, 2048),
                         (kind, name, exponent, bits))
        self.assertEqual('wlp@%s' % self.console().name, comment)

    def test_the_public_key_is_the_same_in_every_simulator(self):
        # Seeded by the system: a restart or another run shows the same.
        system = self.sim.endpoints[0].system
        self.assertEqual(pvm_mc.get_public_key(self.adapter),
                         console_mod.public_key(system.serial,
                                                self.console().name))

    def test_a_fresh_console_authorizes_no_key(self):
        self.assertEqual((), pvm_mc.get_authorized_keys(self.adapter))

    def test_add_authorized_key_keeps_the_keys_there(self):
        other = pvm_mc.get_public_key(self.sim.adapter(1))
        pvm_mc.add_authorized_key(self.adapter, OPERATOR_KEY)
        pvm_mc.add_authorized_key(self.adapter, other)
        self.assertEqual((OPERATOR_KEY, other),
                         pvm_mc.get_authorized_keys(self.adapter))
        self.assertEqual([OPERATOR_KEY, other],
                         self.model_console().authorized_keys)
        # Only this NovaLink's console changed.
        self.assertEqual((), pvm_mc.get_authorized_keys(self.sim.adapter(1)))

    def test_a_key_authorized_twice_is_listed_once(self):
        pvm_mc.add_authorized_key(self.adapter, OPERATOR_KEY)
        etag = self.console().etag
        pvm_mc.add_authorized_key(self.adapter, OPERATOR_KEY)
        self.assertEqual(etag, self.console().etag)
        # Sent twice in one body, it is kept once.
        self.update_raw(self.with_keys(OPERATOR_KEY, OPERATOR_KEY))
        self.assertEqual((OPERATOR_KEY,),
                         pvm_mc.get_authorized_keys(self.adapter))

    def test_an_update_moves_the_etag(self):
        before = self.console()
        pvm_mc.add_authorized_key(self.adapter, OPERATOR_KEY)
        self.assertNotEqual(before.etag, self.console().etag)

    def test_a_stale_etag_is_refused(self):
        stale = self.console()
        pvm_mc.add_authorized_key(self.adapter, OPERATOR_KEY)
        stale.ssh_authorized_keys = [pvm_mc.get_public_key(
            self.sim.adapter(1))]
        self.assertRefused(412, 'has changed', stale.update)

    def test_add_authorized_key_retries_a_stale_etag(self):
        # pypowervm's entry transaction reads the console again after a
        # 412 and adds the key to what it finds then.
        console_w = self.console()
        pvm_mc.add_authorized_key(self.adapter, OPERATOR_KEY)
        other = pvm_mc.get_public_key(self.sim.adapter(1))

        @transaction.entry_transaction
        def add(console):
            console.ssh_authorized_keys = list(
                console.ssh_authorized_keys) + [other]
            console.update()
        add(console_w)
        self.assertEqual((OPERATOR_KEY, other),
                         pvm_mc.get_authorized_keys(self.adapter))

    def test_the_public_key_is_not_written(self):
        console_w = self.console()
        root = etree.fromstring(self.with_keys())
        root.find('{%s}PublicSSHKey' % UOM_NS).text = OPERATOR_KEY
        self.update_raw(etree.tostring(root), console_w)
        self.assertEqual(console_w.ssh_public_key,
                         pvm_mc.get_public_key(self.adapter))


class TestConsoleRefusals(ConsoleTestBase):
    """A body NovaLink would not take is answered 400, never 500, and
    changes nothing."""

    def setUp(self):
        super().setUp()
        pvm_mc.add_authorized_key(self.adapter, OPERATOR_KEY)

    def test_not_xml(self):
        self.assertRefused(400, 'not well-formed', self.update_raw,
                           b'<ManagementConsole')

    def test_another_type(self):
        self.assertRefused(400, 'expected a ManagementConsole body',
                           self.update_raw, self.host.toxmlstring())

    def test_a_key_that_holds_elements(self):
        element = etree.Element('{%s}Key' % UOM_NS)
        self.assertRefused(400, 'holds elements, not a value',
                           self.update_raw, self.with_keys(element))

    def test_an_empty_key(self):
        self.assertRefused(400, 'not an SSH public key', self.update_raw,
                           self.with_keys(''))

    def test_text_that_is_no_key(self):
        self.assertRefused(400, 'not an SSH public key', self.update_raw,
                           self.with_keys('let me in'))

    def test_a_key_of_two_lines(self):
        # Each key is one line of wlp's authorized_keys: a second line
        # would authorize whatever it holds.
        self.assertRefused(400, 'not an SSH public key', self.update_raw,
                           self.with_keys(OPERATOR_KEY + '\n' +
                                          OPERATOR_KEY))

    def test_a_key_whose_body_is_not_base64(self):
        self.assertRefused(400, 'not an SSH public key', self.update_raw,
                           self.with_keys('ssh-rsa not*base64 x@y'))

    def test_a_key_too_long(self):
        self.assertRefused(400, 'characters', self.update_raw,
                           self.with_keys('ssh-rsa ' + 'A' * 5000))

    def test_the_console_cannot_be_made_or_deleted(self):
        console_w = self.console()
        self.assertRefused(405, 'cannot be deleted', self.adapter.delete,
                           mc_wrap.ManagementConsole.schema_type,
                           console_w.uuid)
        self.assertRefused(405, 'cannot be created', self.adapter.create,
                           console_w, mc_wrap.ManagementConsole.schema_type)
