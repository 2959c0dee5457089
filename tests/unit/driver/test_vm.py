"""LPAR states, UUIDs and the builder attributes of an instance."""

import uuid as uuidlib

from hypothesis import given
from hypothesis import strategies as st
from nova.compute import power_state
from nova import exception
from nova import objects
from nova.virt import event
from pypowervm.utils import lpar_builder as pvm_bldr
from pypowervm.utils import uuid as pvm_uuid
from pypowervm.wrappers import base_partition as pvm_bp
import testtools

from nova_powervm import vm

_ALL_STATES = [value for name, value in vars(pvm_bp.LPARState).items()
               if not name.startswith('_')]


class TestStates(testtools.TestCase):

    def test_every_novalink_state_has_a_nova_state(self):
        self.assertEqual(sorted(s.lower() for s in _ALL_STATES),
                         sorted(vm.POWERVM_TO_NOVA_STATE))

    def test_mapping(self):
        expected = {
            'running': power_state.RUNNING,
            'starting': power_state.RUNNING,
            'migrating running': power_state.RUNNING,
            'open firmware': power_state.RUNNING,
            'shutting down': power_state.RUNNING,
            'suspending': power_state.RUNNING,
            'not activated': power_state.SHUTDOWN,
            'migrating not active': power_state.SHUTDOWN,
            'resuming': power_state.SUSPENDED,
            'suspended': power_state.SUSPENDED,
            'error': power_state.CRASHED,
            'Unknown': power_state.NOSTATE,
            'hardware discovery': power_state.NOSTATE,
            'not available': power_state.NOSTATE,
        }
        self.assertEqual(sorted(expected), sorted(_ALL_STATES))
        for pvm_state, nova_state in expected.items():
            self.assertEqual(nova_state, vm.nova_power_state(pvm_state),
                             pvm_state)

    def test_case_and_unknown_values(self):
        self.assertEqual(power_state.RUNNING, vm.nova_power_state('Running'))
        self.assertEqual(power_state.NOSTATE,
                         vm.nova_power_state('something new'))
        self.assertEqual(power_state.NOSTATE, vm.nova_power_state(None))

    def test_transitions(self):
        cases = [
            ('not activated', power_state.RUNNING,
             event.EVENT_LIFECYCLE_STOPPED),
            ('error', power_state.RUNNING, event.EVENT_LIFECYCLE_STOPPED),
            ('running', power_state.SHUTDOWN, event.EVENT_LIFECYCLE_STARTED),
            ('starting', power_state.SHUTDOWN,
             event.EVENT_LIFECYCLE_STARTED),
            ('suspended', power_state.RUNNING,
             event.EVENT_LIFECYCLE_SUSPENDED),
            ('running', power_state.RUNNING, None),
            ('shutting down', power_state.RUNNING, None),
            ('not activated', power_state.SHUTDOWN, None),
            ('Unknown', power_state.RUNNING, None),
        ]
        for pvm_state, known, transition in cases:
            self.assertEqual(
                transition, vm.lifecycle_transition(pvm_state, known),
                (pvm_state, known))


class TestUUIDs(testtools.TestCase):

    @given(st.uuids())
    def test_an_instance_uuid_is_one_of_its_lpars_candidates(self, value):
        nova_uuid = str(value)
        lpar_uuid = pvm_uuid.convert_uuid_to_pvm(nova_uuid).upper()
        candidates = vm.nova_uuid_candidates(lpar_uuid)
        self.assertIn(nova_uuid, candidates)
        # And both candidates are the UUIDs that map to that LPAR.
        for candidate in candidates:
            self.assertEqual(lpar_uuid.lower(),
                             pvm_uuid.convert_uuid_to_pvm(candidate))

    def test_the_first_bit_is_what_differs(self):
        self.assertEqual(
            ('12345678-0000-4000-8000-000000000000',
             '92345678-0000-4000-8000-000000000000'),
            vm.nova_uuid_candidates('12345678-0000-4000-8000-000000000000'))

    def test_lpar_uuid_of_an_instance(self):
        instance = objects.Instance(
            uuid='f1234567-89ab-4cde-8f01-23456789abcd')
        self.assertEqual('71234567-89AB-4CDE-8F01-23456789ABCD',
                         vm.get_pvm_uuid(instance))


def _image(**properties):
    return objects.ImageMeta.from_dict({'properties': properties})


def _instance(**extra_specs):
    flavor = objects.Flavor(memory_mb=4096, vcpus=3, extra_specs=extra_specs)
    return objects.Instance(id=42, uuid=str(uuidlib.uuid4()), flavor=flavor)


class TestBuilderAttributes(testtools.TestCase):

    def test_flavor_and_instance(self):
        instance = _instance()
        attrs = vm.builder_attributes(instance, _image())
        self.assertEqual({
            pvm_bldr.NAME: 'instance-0000002a',
            pvm_bldr.UUID: vm.get_pvm_uuid(instance),
            pvm_bldr.MEM: 4096,
            pvm_bldr.VCPU: 3,
            pvm_bldr.ENV: pvm_bp.LPARType.AIXLINUX,
            pvm_bldr.SRR_CAPABLE: True,
        }, attrs)

    def test_extra_specs_override(self):
        attrs = vm.builder_attributes(
            _instance(**{'powervm:srr_capability': 'false',
                         'powervm:proc_units': '0.7'}), _image())
        self.assertFalse(attrs[pvm_bldr.SRR_CAPABLE])
        self.assertEqual(0.7, attrs[pvm_bldr.PROC_UNITS])

    def test_partition_type_from_the_image(self):
        self.assertEqual(pvm_bp.LPARType.OS400,
                         vm.partition_type(_image(os_distro='IBMi')))
        self.assertEqual(pvm_bp.LPARType.AIXLINUX,
                         vm.partition_type(_image(os_distro='rhel',
                                                  os_type='linux')))
        self.assertEqual(pvm_bp.LPARType.AIXLINUX,
                         vm.partition_type(_image()))

    def test_windows_images_are_refused(self):
        err = self.assertRaises(exception.InstanceDeployFailure,
                                vm.partition_type, _image(os_type='windows'))
        self.assertIn('Windows', str(err))

    def test_bad_extra_spec_is_refused(self):
        self.assertRaises(exception.InvalidAttribute, vm.builder_attributes,
                          _instance(**{'powervm:uncapped': 'perhaps'}),
                          _image())
