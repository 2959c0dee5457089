"""``powervm:`` flavor extra specs: checked by nova's API, obeyed by the
driver."""

from nova.tests.functional.api import client as api_client
from nova import utils

from tests.functional.nova import base

# The first microversion whose flavor extra specs API validates values.
_VALIDATING = '2.86'
_NOT_VALIDATING = '2.85'

_BAD_SPECS = (
    ('powervm:proc_units', 'abc'),
    ('powervm:uncapped', 'maybe'),
    ('powervm:dedicated_proc', 'sometimes'),
    ('powervm:shared_weight', '256'),
    ('powervm:min_mem', '128'),
    ('powervm:dedicated_sharing_mode', 'share_everything'),
    ('powervm:processor_compatibility', 'POWER5'),
    ('powervm:no_such_spec', '1'),
)


class TestExtraSpecValidation(base.PowerVMTestCase):
    """The flavor API alone: no compute service needed."""

    def test_bad_powervm_specs_are_rejected(self):
        flavor_id = self.create_flavor()
        self.api.microversion = _VALIDATING
        for key, value in _BAD_SPECS:
            err = self.assertRaises(
                api_client.OpenStackApiException, self.api.post_extra_spec,
                flavor_id, {'extra_specs': {key: value}})
            self.assertEqual(400, err.response.status_code, key)
            self.assertIn('Validation failed', str(err), key)
        self.assertEqual({}, self.api.get_extra_specs(flavor_id))

    def test_good_powervm_specs_are_accepted(self):
        specs = {
            'powervm:proc_units': '0.5',
            'powervm:dedicated_proc': 'false',
            'powervm:uncapped': 'true',
            'powervm:shared_weight': '200',
            'powervm:dedicated_sharing_mode': 'keep_idle_procs',
            'powervm:processor_compatibility': 'POWER6+',
            'powervm:shared_proc_pool_name': 'DefaultPool',
        }
        flavor_id = self.create_flavor()
        self.api.microversion = _VALIDATING
        self.api.post_extra_spec(flavor_id, {'extra_specs': specs})
        self.assertEqual(specs, self.api.get_extra_specs(flavor_id))


class TestExtraSpecsOnTheLpar(base.PowerVMTestCase):

    def setUp(self):
        super().setUp()
        self.start_powervm_compute('host1')

    def test_shared_processor_specs_shape_the_lpar(self):
        flavor_id = self.create_flavor(memory_mb=2048, vcpu=2, extra_specs={
            'powervm:proc_units': '0.5',
            'powervm:dedicated_proc': 'false',
            'powervm:uncapped': 'true',
            'powervm:shared_weight': '200',
            'powervm:min_mem': '1024',
            'powervm:max_mem': '4096',
            'powervm:min_vcpu': '1',
            'powervm:max_vcpu': '4',
        })
        lpar = self.lpar_of(self.boot_server(flavor_id))
        self.assertFalse(lpar.dedicated)
        self.assertAlmostEqual(0.5, lpar.proc_units_desired)
        self.assertEqual('uncapped', lpar.sharing_mode)
        self.assertEqual(200, lpar.uncapped_weight)
        self.assertEqual((1024, 2048, 4096),
                         (lpar.mem_min, lpar.mem_desired, lpar.mem_max))
        self.assertEqual((1, 2, 4),
                         (lpar.vprocs_min, lpar.vprocs_desired,
                          lpar.vprocs_max))
        self.assertEqual(base.LPAR_RUNNING, lpar.state)

    def test_bad_spec_that_bypassed_the_api_fails_the_build(self):
        # Before 2.86 the API stores any value; the driver checks again.
        flavor_id = self.create_flavor()
        with utils.temporary_mutation(self.api, microversion=_NOT_VALIDATING):
            self.api.post_extra_spec(
                flavor_id, {'extra_specs': {'powervm:uncapped': 'maybe'}})
        server = self.boot_server(flavor_id, expected_state='ERROR')
        error = self.build_error()
        self.assertEqual('InvalidAttribute', error['exception'])
        self.assertIn('powervm:uncapped', error['exception_message'])
        self.assertIsNone(self.lpar_of(server))
        self.assertEqual([], self.client_lpars(self.system_of('host1')))
