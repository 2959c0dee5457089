"""Fault rules that pick one request out of many, and connections dropped
before or after the simulator acted, seen through pypowervm."""

from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import power
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
import requests
import testtools

from powervm_sim import faults
from powervm_sim import fixture

CREATE_LPAR = {'method': 'PUT', 'resource_type': 'LogicalPartition'}


class FaultOutcomeTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture())
        self.adapter = self.sim.adapter()
        self.host = pvm_ms.System.get(self.adapter)[0]

    def arm(self, outcome, **criteria):
        return self.sim.faults.add(faults.FaultRule(outcome=outcome,
                                                    **criteria))

    def build_lpar(self, name, uuid=None):
        attrs = {lpar_builder.NAME: name, lpar_builder.MEM: 1024,
                 lpar_builder.VCPU: 1, lpar_builder.PROC_UNITS: '0.1'}
        if uuid is not None:
            attrs[lpar_builder.UUID] = uuid
        stdz = lpar_builder.DefaultStandardize(self.host)
        return lpar_builder.LPARBuilder(self.adapter, attrs, stdz).build()

    def lpar_names(self):
        return sorted(lpar.name for lpar in self.sim.model.lpars(
            self.sim.model.systems[0]) if not lpar.is_mgmt)


class TestDroppedConnections(FaultOutcomeTestCase):

    def test_dropped_before_processing_creates_nothing(self):
        self.arm(faults.DropConnection(), **CREATE_LPAR)
        self.assertRaises(pvm_exc.ConnectionError,
                          self.build_lpar('never made').create,
                          parent=self.host)
        self.assertEqual([], self.lpar_names())

    def test_dropped_after_processing_loses_only_the_answer(self):
        self.arm(faults.DropConnection(after_processing=True),
                 **CREATE_LPAR)
        self.assertRaises(pvm_exc.ConnectionError,
                          self.build_lpar('made anyway').create,
                          parent=self.host)
        self.assertEqual(['made anyway'], self.lpar_names())

    def test_an_error_answer_can_be_lost_too(self):
        # The create is refused (the UUID is taken), and the client does
        # not even learn that.
        taken = self.build_lpar('first').create(parent=self.host)
        self.arm(faults.DropConnection(after_processing=True),
                 **CREATE_LPAR)
        self.assertRaises(pvm_exc.ConnectionError,
                          self.build_lpar('second', uuid=taken.uuid).create,
                          parent=self.host)
        self.assertEqual(['first'], self.lpar_names())

    def test_a_job_whose_submission_answer_is_lost_still_runs(self):
        lpar_w = self.build_lpar('started').create(parent=self.host)
        self.arm(faults.DropConnection(after_processing=True),
                 job='PowerOn')
        self.assertRaises(pvm_exc.Error, power.power_on, lpar_w, None)
        lpar = self.sim.model.get(lpar_w.uuid)
        self.assertNotEqual('not activated', lpar.state)

    def test_the_connection_is_usable_again_afterwards(self):
        self.arm(faults.DropConnection(after_processing=True),
                 method='GET', resource_type='LogicalPartition',
                 max_count=1)
        self.assertRaises(pvm_exc.ConnectionError, pvm_lpar.LPAR.get,
                          self.adapter)
        self.assertEqual(1, len(pvm_lpar.LPAR.get(self.adapter)))


class TestSkip(FaultOutcomeTestCase):

    def test_the_third_matching_request_fails(self):
        rule_id = self.arm(faults.internal_error('third create'), skip=2,
                           max_count=1, **CREATE_LPAR)
        for name in ('first', 'second'):
            self.build_lpar(name).create(parent=self.host)
        # Reads between the creates do not count towards the skip.
        pvm_lpar.LPAR.get(self.adapter)
        err = self.assertRaises(pvm_exc.HttpError,
                                self.build_lpar('third').create,
                                parent=self.host)
        self.assertIn('third create', err.her_wrap.message)
        self.build_lpar('fourth').create(parent=self.host)
        self.assertEqual(['first', 'fourth', 'second'], self.lpar_names())
        self.assertEqual({rule_id: 1},
                         self.sim.faults.counters()['by_rule'])


class TestControlApi(FaultOutcomeTestCase):

    def setUp(self):
        super().setUp()
        self.url = self.sim.endpoints[0].server.url + '/sim/faults'

    def post(self, rule, expected):
        response = requests.post(self.url, json=rule, timeout=10)
        self.assertEqual(expected, response.status_code, response.text)
        return response.json()

    def test_new_fields_are_armed_and_listed(self):
        self.post({'skip': 3, 'max_count': 1, 'rule_id': 'lost-answer',
                   'outcome': {'type': 'drop_connection',
                               'after_processing': True}}, 201)
        [rule] = self.sim.faults.rules()
        self.assertEqual(3, rule.skip)
        self.assertEqual(faults.DropConnection(after_processing=True),
                         rule.outcome)
        [listed] = requests.get(self.url, timeout=10).json()['rules']
        self.assertEqual(3, listed['skip'])
        self.assertEqual({'type': 'drop_connection',
                          'after_processing': True}, listed['outcome'])

    def test_bad_new_fields_arm_nothing(self):
        drop = {'type': 'drop_connection'}
        cases = [
            ({'skip': -2, 'outcome': drop}, 'skip must be an integer >= 0'),
            ({'skip': '2', 'outcome': drop}, 'skip must be an integer >= 0'),
            ({'skip': True, 'outcome': drop}, 'skip must be an integer'),
            ({'outcome': dict(drop, after_processing=1)},
             'after_processing must be true or false, got 1'),
            ({'outcome': dict(drop, after_processing='false')},
             'after_processing must be true or false'),
        ]
        for rule, message in cases:
            self.assertIn(message, self.post(rule, 400)['error'])
        self.assertEqual([], self.sim.faults.rules())
