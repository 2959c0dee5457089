"""Each NovaLink's ManagementConsole in the model: its public SSH key, the
keys it authorizes, whom it trusts with a migration, and the state file.
"""

import base64
import os
import struct

import fixtures
import testtools

from powervm_sim.model import console as console_mod
from powervm_sim.model import registry
from powervm_sim import state
from tests.unit.sim import test_state


def wire_fields(key):
    """The length-prefixed strings of an SSH public key line's body."""
    data = base64.b64decode(key.split(' ')[1], validate=True)
    fields = []
    while data:
        [size] = struct.unpack('>I', data[:4])
        fields.append(data[4:4 + size])
        data = data[4 + size:]
    return fields


class TestConsoles(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = test_state.built_model(self, systems=2)
        self.source, self.target = [self.model.console_of(system)
                                    for system in self.model.systems]

    def test_every_system_has_its_console(self):
        self.assertEqual([self.source, self.target], self.model.consoles())
        for system, console in zip(self.model.systems, self.model.consoles(),
                                   strict=True):
            self.assertIs(system, console.parent)
            self.assertIs(console, self.model.get(console.uuid,
                                                  'ManagementConsole'))

    def test_the_public_key_is_rsa_and_seeded_by_the_system(self):
        name, exponent, modulus = wire_fields(self.source.public_key)
        self.assertEqual(b'ssh-rsa', name)
        self.assertEqual(65537, int.from_bytes(exponent, 'big'))
        self.assertEqual(2048, int.from_bytes(modulus, 'big').bit_length())
        self.assertNotEqual(self.source.public_key, self.target.public_key)
        self.assertEqual(self.source.public_key, console_mod.public_key(
            self.model.systems[0].serial, self.source.name))

    def test_authorized_keys_are_kept_once_each(self):
        key = self.target.public_key
        etag = self.source.etag
        self.model.set_authorized_keys(self.source, [key, key])
        self.assertEqual([key], self.source.authorized_keys)
        self.assertNotEqual(etag, self.source.etag)

    def test_the_same_keys_again_change_nothing(self):
        self.model.set_authorized_keys(self.source, [self.target.public_key])
        etag = self.source.etag
        self.model.set_authorized_keys(self.source, [self.target.public_key])
        self.assertEqual(etag, self.source.etag)

    def test_a_line_that_is_no_key_is_refused_and_nothing_changes(self):
        self.model.set_authorized_keys(self.source, [self.target.public_key])
        etag = self.source.etag
        body = self.target.public_key.split(' ')[1]
        for line in ('', 'ssh-rsa', 'ssh-rsa %s' % body[:-4] + '!!!!',
                     'ssh-ed25519 %s x@y' % body,
                     'from="*" ssh-rsa %s' % body,
                     self.target.public_key + '\nssh-rsa ' + body,
                     self.target.public_key + '\r'):
            err = self.assertRaises(registry.Conflict,
                                    self.model.set_authorized_keys,
                                    self.source, [line])
            self.assertEqual(400, err.status)
            self.assertIn('not an SSH public key', str(err))
        self.assertEqual([self.target.public_key],
                         self.source.authorized_keys)
        self.assertEqual(etag, self.source.etag)

    def test_trust_is_by_key_body_and_one_way(self):
        self.assertFalse(self.model.trusts(self.target, self.source))
        self.model.set_authorized_keys(self.target, [
            self.source.public_key.rsplit(' ', 1)[0] + ' renamed@elsewhere'])
        self.assertTrue(self.model.trusts(self.target, self.source))
        self.assertFalse(self.model.trusts(self.source, self.target))

    def test_keys_are_saved_with_the_model(self):
        self.model.set_authorized_keys(self.target, [self.source.public_key])
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 's')
        state.save(self.model, path)
        loaded = state.load(path)
        target = loaded.console_of(loaded.systems[1])
        self.assertEqual([self.source.public_key], target.authorized_keys)
        self.assertTrue(loaded.trusts(target,
                                      loaded.console_of(loaded.systems[0])))

    def test_a_model_saved_before_consoles_gets_them(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 's')
        for system, console in zip(self.model.systems, self.model.consoles(),
                                   strict=True):
            system.console = None
            self.model.registry.remove(console)
        state.save(self.model, path)
        loaded = state.load(path)
        loaded.add_missing_consoles()
        self.assertEqual([self.source.public_key, self.target.public_key],
                         [console.public_key for console in loaded.consoles()])
