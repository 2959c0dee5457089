"""powervm: extra specs: nova's API validation and the builder attributes.
"""

import importlib.metadata

from nova.api.validation.extra_specs import validators
from nova import exception
from pypowervm.utils import lpar_builder as pvm_bldr
import testtools

from nova_powervm import extra_specs

# Every key with a value nova must accept and one it must refuse.
_VALID_AND_INVALID = {
    'powervm:min_mem': ('1024', '128'),
    'powervm:max_mem': ('4096', 'lots'),
    'powervm:min_vcpu': ('1', '0'),
    'powervm:max_vcpu': ('8', '-1'),
    'powervm:proc_units': ('0.5', '1'),
    'powervm:min_proc_units': ('0.05', '.5'),
    'powervm:max_proc_units': ('2.0', 'two'),
    'powervm:dedicated_proc': ('true', 'maybe'),
    'powervm:uncapped': ('false', 'sometimes'),
    'powervm:dedicated_sharing_mode': ('keep_idle_procs', 'share'),
    'powervm:shared_weight': ('128', '256'),
    'powervm:availability_priority': ('0', '300'),
    'powervm:processor_compatibility': ('POWER6+', 'POWER5'),
    'powervm:shared_proc_pool_name': ('pool1', ''),
    'powervm:srr_capability': ('true', 'on-ish'),
    'powervm:enable_lpar_metric': ('true', 'x'),
    'powervm:ppt_ratio': ('1:512', '1:100'),
    'powervm:enforce_affinity_check': ('false', 'no way'),
    'powervm:secure_boot': ('9', '10'),
}


class TestNovaValidation(testtools.TestCase):
    """nova's own validate() with the validators its entry point loads."""

    def test_every_key_is_covered_here(self):
        self.assertEqual(sorted(spec.name for spec in extra_specs.SPECS),
                         sorted(_VALID_AND_INVALID))

    def test_the_entry_point_is_registered(self):
        points = importlib.metadata.entry_points(
            group='nova.api.extra_spec_validators')
        [point] = [p for p in points if p.name == 'powervm']
        self.assertIs(extra_specs, point.load())
        self.assertIn('powervm', validators.NAMESPACES)

    def test_valid_values_are_accepted(self):
        for name, (valid, _invalid) in _VALID_AND_INVALID.items():
            validators.validate(name, valid)

    def test_invalid_values_are_refused(self):
        for name, (_valid, invalid) in _VALID_AND_INVALID.items():
            self.assertRaises(exception.ValidationError,
                              validators.validate, name, invalid)

    def test_unknown_powervm_key_is_refused(self):
        err = self.assertRaises(exception.ValidationError,
                                validators.validate, 'powervm:turbo', 'on')
        self.assertIn('powervm:turbo', str(err))


class TestBuilderAttributes(testtools.TestCase):

    def _attrs(self, **specs):
        return extra_specs.builder_attributes(
            {'powervm:' + key: value for key, value in specs.items()})

    def test_direct_mappings(self):
        attrs = self._attrs(
            min_mem='1024', max_mem='8192', min_vcpu='1', max_vcpu='4',
            proc_units='0.4', min_proc_units='0.2', max_proc_units='1.0',
            shared_weight='10', availability_priority='200',
            srr_capability='false', enable_lpar_metric='true',
            ppt_ratio='1:1024', enforce_affinity_check='true',
            secure_boot='2')
        self.assertEqual({
            pvm_bldr.MIN_MEM: 1024, pvm_bldr.MAX_MEM: 8192,
            pvm_bldr.MIN_VCPU: 1, pvm_bldr.MAX_VCPU: 4,
            pvm_bldr.PROC_UNITS: 0.4, pvm_bldr.MIN_PROC_U: 0.2,
            pvm_bldr.MAX_PROC_U: 1.0, pvm_bldr.UNCAPPED_WEIGHT: 10,
            pvm_bldr.AVAIL_PRIORITY: 200, pvm_bldr.SRR_CAPABLE: False,
            pvm_bldr.ENABLE_LPAR_METRIC: True, pvm_bldr.PPT_RATIO: '1:1024',
            pvm_bldr.ENFORCE_AFFINITY_CHECK: True, pvm_bldr.SECURE_BOOT: 2,
        }, attrs)

    def test_other_namespaces_are_not_ours(self):
        self.assertEqual({}, extra_specs.builder_attributes(
            {'hw:cpu_policy': 'dedicated', 'resources:VCPU': '2'}))

    def test_processor_compatibility_spellings(self):
        for flavor, novalink in (('POWER6+', 'POWER6_Plus'),
                                 ('POWER6_Plus', 'POWER6_Plus'),
                                 ('POWER6+_Enhanced', 'POWER6_Plus_Enhanced'),
                                 ('POWER9_Base', 'POWER9_Base'),
                                 ('default', 'default')):
            self.assertEqual(
                {pvm_bldr.PROC_COMPAT: novalink},
                self._attrs(processor_compatibility=flavor))

    def test_uncapped_is_the_shared_sharing_mode(self):
        self.assertEqual({pvm_bldr.SHARING_MODE: 'uncapped'},
                         self._attrs(uncapped='true'))
        self.assertEqual({pvm_bldr.SHARING_MODE: 'capped'},
                         self._attrs(uncapped='0'))

    def test_dedicated_sharing_modes(self):
        for flavor, novalink in (
                ('share_idle_procs', 'sre idle proces'),
                ('keep_idle_procs', 'keep idle procs'),
                ('share_idle_procs_active', 'sre idle procs active'),
                ('share_idle_procs_always', 'sre idle procs always')):
            attrs = self._attrs(dedicated_proc='true',
                                dedicated_sharing_mode=flavor)
            self.assertEqual({pvm_bldr.DED_PROCS: True,
                              pvm_bldr.SHARING_MODE: novalink}, attrs)

    def test_only_the_mode_of_the_processor_type_applies(self):
        dedicated = self._attrs(dedicated_proc='true', uncapped='true',
                                dedicated_sharing_mode='keep_idle_procs')
        self.assertEqual('keep idle procs',
                         dedicated[pvm_bldr.SHARING_MODE])
        shared = self._attrs(dedicated_proc='false', uncapped='false',
                             dedicated_sharing_mode='keep_idle_procs')
        self.assertEqual('capped', shared[pvm_bldr.SHARING_MODE])
        unspecified = self._attrs(dedicated_sharing_mode='keep_idle_procs')
        self.assertEqual('keep idle procs',
                         unspecified[pvm_bldr.SHARING_MODE])

    def test_shared_pool_is_passed_by_name(self):
        self.assertEqual({extra_specs.SHARED_PROC_POOL_NAME: 'prod'},
                         self._attrs(shared_proc_pool_name='prod'))

    def test_unknown_key_is_refused(self):
        err = self.assertRaises(exception.InvalidAttribute,
                                self._attrs, turbo='on')
        self.assertIn('powervm:turbo', str(err))

    def test_invalid_value_is_refused_naming_key_and_value(self):
        err = self.assertRaises(exception.InvalidAttribute,
                                self._attrs, shared_weight='300')
        self.assertIn('powervm:shared_weight=300', str(err))
