"""The simulator's fault rules, their JSON form and the latency model."""

import json
import threading

import testtools
from pypowervm.wrappers import http_error

from powervm_sim import faults

LPAR_UUID = '089FFB20-5D19-4A8C-BB80-13650627D985'
VIOS_UUID = '3443DB77-AED1-47ED-9AA5-3DB9C6CF7089'
LPAR_PATH = '/rest/api/uom/LogicalPartition/' + LPAR_UUID
VIOS_PATH = '/rest/api/uom/VirtualIOServer/' + VIOS_UUID

LPAR_GET = faults.RequestInfo('GET', LPAR_PATH, 'LogicalPartition')
LPAR_PUT = faults.RequestInfo('PUT', LPAR_PATH, 'LogicalPartition')
VIOS_POST = faults.RequestInfo('POST', VIOS_PATH, 'VirtualIOServer')
POWER_ON = faults.RequestInfo('PUT', LPAR_PATH + '/do/PowerOn',
                              'LogicalPartition', job='PowerOn')
POWER_OFF = faults.RequestInfo('PUT', LPAR_PATH + '/do/PowerOff',
                               'LogicalPartition', job='PowerOff')


def _rule(outcome=None, **criteria):
    return faults.FaultRule(outcome=outcome or faults.vios_busy(),
                            **criteria)


def _registry(*rules, seed=0):
    registry = faults.FaultRegistry(seed=seed)
    for rule in rules:
        registry.add(rule)
    return registry


def _fires(rule, info):
    return _registry(rule).match(info) is not None


def _firing_sequence(seed, requests, probability=0.5, **criteria):
    registry = _registry(_rule(probability=probability, **criteria),
                         seed=seed)
    return [registry.match(info) is not None for info in requests]


class TestRuleCriteria(testtools.TestCase):

    def test_rule_without_criteria_matches_everything(self):
        for info in (LPAR_GET, LPAR_PUT, VIOS_POST, POWER_ON):
            self.assertTrue(_fires(_rule(), info), info)

    def test_method_is_case_insensitive_both_ways(self):
        self.assertTrue(_fires(_rule(method='put'), LPAR_PUT))
        lower_put = faults.RequestInfo('put', LPAR_PATH, 'LogicalPartition')
        self.assertTrue(_fires(_rule(method='PUT'), lower_put))
        self.assertFalse(_fires(_rule(method='PUT'), LPAR_GET))

    def test_path_is_a_case_insensitive_regex_search(self):
        self.assertTrue(_fires(_rule(path='virtualioserver/'), VIOS_POST))
        self.assertFalse(_fires(_rule(path='virtualioserver/'), LPAR_PUT))
        self.assertTrue(_fires(_rule(path=r'/do/Power(On|Off)$'), POWER_OFF))
        self.assertFalse(_fires(_rule(path=r'^/do/'), POWER_OFF))

    def test_resource_type_compares_exactly(self):
        rule = _rule(resource_type='VirtualIOServer')
        self.assertTrue(_fires(rule, VIOS_POST))
        self.assertFalse(_fires(rule, LPAR_PUT))
        self.assertFalse(_fires(_rule(resource_type='virtualioserver'),
                                VIOS_POST))

    def test_every_criterion_must_match(self):
        rule = _rule(method='POST', resource_type='VirtualIOServer',
                     path=VIOS_UUID)
        self.assertTrue(_fires(rule, VIOS_POST))
        self.assertFalse(_fires(rule, faults.RequestInfo(
            'GET', VIOS_PATH, 'VirtualIOServer')))
        self.assertFalse(_fires(rule, faults.RequestInfo(
            'POST', VIOS_PATH, 'LogicalPartition')))
        self.assertFalse(_fires(rule, faults.RequestInfo(
            'POST', '/rest/api/uom/VirtualIOServer/other', 'VirtualIOServer')))

    def test_job_rule_fires_only_for_that_job_submission(self):
        rule = _rule(job='PowerOn')
        self.assertTrue(_fires(rule, POWER_ON))
        self.assertFalse(_fires(rule, POWER_OFF))
        self.assertFalse(_fires(rule, LPAR_PUT))

    def test_rule_without_job_criterion_also_matches_job_submissions(self):
        rule = _rule(method='PUT', resource_type='LogicalPartition')
        self.assertTrue(_fires(rule, POWER_ON))
        self.assertTrue(_fires(rule, LPAR_PUT))

    def test_job_failure_outcome_fires_only_for_jobs(self):
        rule = _rule(faults.JobFailure('HSCL1234 failed'))
        self.assertTrue(_fires(rule, POWER_OFF))
        self.assertFalse(_fires(rule, LPAR_PUT))

    def test_method_is_normalised_to_upper_case(self):
        self.assertEqual('PUT', _rule(method='put').method)

    def test_invalid_rules_are_refused_at_construction(self):
        self.assertRaises(ValueError, _rule, probability=2)
        self.assertRaises(ValueError, _rule, path='(')
        self.assertRaises(ValueError, faults.FaultRule, outcome='boom')
        self.assertRaises(ValueError, faults.HttpFault, 302, 'moved')


class TestFaultRegistry(testtools.TestCase):

    def test_first_matching_rule_wins(self):
        registry = _registry(
            _rule(faults.EtagConflict(), resource_type='VirtualIOServer'),
            _rule(faults.DropConnection(), method='POST'),
            _rule(faults.DelayOnly(), delay=0.25))
        self.assertIsInstance(registry.match(VIOS_POST).outcome,
                              faults.EtagConflict)
        post = faults.RequestInfo('POST', LPAR_PATH, 'LogicalPartition')
        self.assertIsInstance(registry.match(post).outcome,
                              faults.DropConnection)
        fired = registry.match(LPAR_GET)
        self.assertIsInstance(fired.outcome, faults.DelayOnly)
        self.assertEqual(0.25, fired.delay)

    def test_no_rule_means_no_fault(self):
        self.assertIsNone(_registry().match(LPAR_PUT))
        self.assertIsNone(_registry(_rule(method='DELETE')).match(LPAR_PUT))

    def test_fired_names_the_rule_and_carries_its_outcome(self):
        registry = faults.FaultRegistry()
        rule_id = registry.add(_rule(delay=1.5))
        self.assertEqual(faults.Fired(rule_id, faults.vios_busy(), 1.5),
                         registry.match(LPAR_PUT))

    def test_max_count_fails_the_first_two_then_passes(self):
        registry = _registry(_rule(method='PUT', max_count=2))
        results = [registry.match(LPAR_PUT) for _ in range(4)]
        self.assertEqual([True, True, False, False],
                         [fired is not None for fired in results])

    def test_exhausted_rule_lets_the_next_rule_match(self):
        registry = _registry(_rule(max_count=1),
                             _rule(faults.DropConnection()))
        self.assertEqual(faults.vios_busy(), registry.match(LPAR_PUT).outcome)
        self.assertEqual(faults.DropConnection(),
                         registry.match(LPAR_PUT).outcome)

    def test_max_count_counts_only_requests_that_match(self):
        registry = _registry(_rule(method='PUT', max_count=1))
        self.assertIsNone(registry.match(LPAR_GET))
        self.assertIsNotNone(registry.match(LPAR_PUT))
        self.assertIsNone(registry.match(LPAR_PUT))

    def test_skip_lets_that_many_matching_requests_through_first(self):
        registry = _registry(_rule(method='PUT', skip=2, max_count=1))
        results = [registry.match(info) is not None
                   for info in (LPAR_PUT, LPAR_GET, LPAR_PUT, LPAR_PUT,
                                LPAR_PUT)]
        # Only PUTs are counted: the third PUT fails, then the rule is spent.
        self.assertEqual([False, False, False, True, False], results)

    def test_skipped_requests_fall_through_to_the_next_rule(self):
        registry = _registry(_rule(skip=1), _rule(faults.EtagConflict()))
        self.assertEqual(faults.EtagConflict(),
                         registry.match(LPAR_PUT).outcome)
        self.assertEqual(faults.vios_busy(), registry.match(LPAR_PUT).outcome)

    def test_skipped_requests_are_not_counted_as_fired(self):
        registry = faults.FaultRegistry()
        rule_id = registry.add(_rule(skip=3))
        for _ in range(3):
            self.assertIsNone(registry.match(LPAR_PUT))
        self.assertEqual({rule_id: 0}, registry.counters()['by_rule'])
        self.assertIsNotNone(registry.match(LPAR_PUT))
        self.assertEqual({rule_id: 1}, registry.counters()['by_rule'])

    def test_skipped_requests_draw_nothing(self):
        skipping = _registry(_rule(probability=0.5, skip=5), seed=4)
        plain = _registry(_rule(probability=0.5), seed=4)
        skipped = [skipping.match(LPAR_PUT) for _ in range(5)]
        self.assertEqual([None] * 5, skipped)
        self.assertEqual([plain.match(LPAR_PUT) is None for _ in range(50)],
                         [skipping.match(LPAR_PUT) is None
                          for _ in range(50)])

    def test_reset_counters_does_not_restart_the_skip(self):
        registry = _registry(_rule(skip=1))
        self.assertIsNone(registry.match(LPAR_PUT))
        registry.reset_counters()
        self.assertIsNotNone(registry.match(LPAR_PUT))

    def test_unlucky_draw_falls_through_to_the_next_rule(self):
        registry = _registry(_rule(probability=0),
                             _rule(faults.EtagConflict()))
        self.assertEqual(faults.EtagConflict(),
                         registry.match(LPAR_PUT).outcome)

    def test_ids_are_assigned_and_listed_in_order(self):
        registry = faults.FaultRegistry()
        first = registry.add(_rule(method='PUT'))
        second = registry.add(_rule(method='GET'))
        self.assertNotEqual(first, second)
        self.assertEqual([(first, 'PUT'), (second, 'GET')],
                         [(r.rule_id, r.method) for r in registry.rules()])

    def test_given_id_is_kept_and_must_be_unique(self):
        registry = faults.FaultRegistry()
        self.assertEqual('busy-vios', registry.add(_rule(rule_id='busy-vios')))
        err = self.assertRaises(ValueError, registry.add,
                                _rule(rule_id='busy-vios'))
        self.assertIn("'busy-vios' is already armed", str(err))

    def test_generated_id_avoids_given_ids(self):
        registry = faults.FaultRegistry()
        registry.add(_rule(rule_id='rule-1'))
        self.assertNotEqual('rule-1', registry.add(_rule()))

    def test_remove_disarms_only_that_rule(self):
        registry = faults.FaultRegistry()
        busy = registry.add(_rule(method='PUT'))
        registry.add(_rule(faults.EtagConflict()))
        registry.remove(busy)
        self.assertEqual(faults.EtagConflict(),
                         registry.match(LPAR_PUT).outcome)
        err = self.assertRaises(KeyError, registry.remove, busy)
        self.assertIn(busy, str(err))

    def test_clear_disarms_everything(self):
        registry = _registry(_rule(), _rule())
        registry.clear()
        self.assertEqual([], registry.rules())
        self.assertIsNone(registry.match(LPAR_PUT))


class TestProbability(testtools.TestCase):

    requests = [LPAR_PUT] * 200

    def test_same_seed_gives_the_same_firing_sequence(self):
        first = _firing_sequence(42, self.requests)
        self.assertEqual(first, _firing_sequence(42, self.requests))
        # A half-chance rule over 200 draws neither always nor never fires.
        self.assertTrue(0 < sum(first) < len(first), sum(first))

    def test_different_seed_gives_a_different_sequence(self):
        self.assertNotEqual(_firing_sequence(42, self.requests),
                            _firing_sequence(43, self.requests))

    def test_probability_zero_never_fires_and_one_always_fires(self):
        self.assertEqual([False] * 200,
                         _firing_sequence(1, self.requests, probability=0))
        self.assertEqual([True] * 200,
                         _firing_sequence(1, self.requests, probability=1))

    def test_unmatched_requests_do_not_consume_draws(self):
        puts_only = _firing_sequence(5, self.requests, method='PUT')
        interleaved = [LPAR_GET, LPAR_PUT] * 200
        with_gets = _firing_sequence(5, interleaved, method='PUT')
        self.assertEqual([False] * 200, with_gets[0::2])
        self.assertEqual(puts_only, with_gets[1::2])

    def test_reseed_restarts_the_sequence(self):
        registry = _registry(_rule(probability=0.5), seed=9)
        before = [registry.match(LPAR_PUT) is not None for _ in range(50)]
        registry.reseed(9)
        after = [registry.match(LPAR_PUT) is not None for _ in range(50)]
        self.assertEqual(before, after)


class TestCounters(testtools.TestCase):

    def test_counters_report_rules_outcomes_and_requests(self):
        registry = faults.FaultRegistry()
        busy = registry.add(_rule(method='PUT', max_count=2))
        drop = registry.add(_rule(faults.DropConnection(), method='POST'))
        idle = registry.add(_rule(method='DELETE'))
        for info in (LPAR_PUT, LPAR_PUT, LPAR_PUT, VIOS_POST, LPAR_GET):
            registry.match(info)
        counters = registry.counters()
        self.assertEqual({busy: 2, drop: 1, idle: 0}, counters['by_rule'])
        self.assertEqual({'HttpFault': 2, 'JobFailure': 0, 'EtagConflict': 0,
                          'DropConnection': 1, 'DelayOnly': 0},
                         counters['by_outcome'])
        self.assertEqual(5, counters['requests_seen'])

    def test_counters_are_a_snapshot(self):
        registry = _registry(_rule())
        snapshot = registry.counters()
        registry.match(LPAR_PUT)
        self.assertEqual(0, snapshot['requests_seen'])

    def test_removed_rule_keeps_its_count(self):
        registry = faults.FaultRegistry()
        rule_id = registry.add(_rule())
        registry.match(LPAR_PUT)
        registry.remove(rule_id)
        self.assertEqual({rule_id: 1}, registry.counters()['by_rule'])

    def test_reset_zeroes_counters_but_does_not_rearm_rules(self):
        registry = faults.FaultRegistry()
        rule_id = registry.add(_rule(max_count=1))
        registry.match(LPAR_PUT)
        registry.reset_counters()
        counters = registry.counters()
        self.assertEqual({rule_id: 0}, counters['by_rule'])
        self.assertEqual(0, counters['by_outcome']['HttpFault'])
        self.assertEqual(0, counters['requests_seen'])
        self.assertIsNone(registry.match(LPAR_PUT))


class TestThreadSafety(testtools.TestCase):

    def test_max_count_holds_under_concurrent_matching(self):
        registry = faults.FaultRegistry()
        rule_id = registry.add(_rule(max_count=5))
        threads, per_thread = 16, 50
        start = threading.Barrier(threads)
        fired = []

        def hammer():
            start.wait()
            for _ in range(per_thread):
                result = registry.match(LPAR_PUT)
                if result is not None:
                    fired.append(result)

        workers = [threading.Thread(target=hammer) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self.assertEqual(5, len(fired))
        counters = registry.counters()
        self.assertEqual({rule_id: 5}, counters['by_rule'])
        self.assertEqual(threads * per_thread, counters['requests_seen'])


class TestNovaLinkOutcomes(testtools.TestCase):

    def test_vios_busy_is_a_503_pypowervm_recognises(self):
        fault = faults.vios_busy()
        self.assertEqual(503, fault.status)
        self.assertEqual('Service Unavailable', fault.reason_code)
        self.assertTrue(any(code in fault.message
                            for code in http_error._VIOS_BUSY_ERR_CODES))

    def test_internal_error_is_a_500_that_is_not_busy(self):
        fault = faults.internal_error()
        self.assertEqual(500, fault.status)
        self.assertFalse(any(code in fault.message
                             for code in http_error._VIOS_BUSY_ERR_CODES))
        self.assertNotIn('busy', fault.message)
        self.assertEqual('disk gone',
                         faults.internal_error('disk gone').message)

    def test_reason_code_defaults_to_the_status_phrase(self):
        self.assertEqual('Not Found',
                         faults.HttpFault(404, 'REST000B nope').reason_code)

    def test_dropped_connection_is_dropped_before_processing_by_default(
            self):
        self.assertFalse(faults.DropConnection().after_processing)
        self.assertTrue(
            faults.DropConnection(after_processing=True).after_processing)
        for bad in (1, 'yes', None):
            err = self.assertRaises(ValueError, faults.DropConnection, bad)
            self.assertIn('after_processing must be true or false', str(err))

    def test_job_failure_defaults_to_failed_before_completion(self):
        self.assertEqual('FAILED_BEFORE_COMPLETION',
                         faults.JobFailure('HSCL1234 failed').status)

    def test_job_failure_fails_before_the_start_unless_midway(self):
        self.assertFalse(faults.JobFailure('HSCL1234 failed').midway)
        self.assertTrue(faults.JobFailure('HSCL1234 x', midway=True).midway)
        for bad in (1, 'yes', None):
            err = self.assertRaises(ValueError, faults.JobFailure,
                                    'HSCL1234 x', midway=bad)
            self.assertIn('midway must be true or false', str(err))


class TestRuleDicts(testtools.TestCase):

    def _round_trip(self, data):
        rule = faults.rule_from_dict(data)
        through_json = json.loads(json.dumps(faults.rule_to_dict(rule)))
        self.assertEqual(rule, faults.rule_from_dict(through_json))
        return through_json

    def test_brief_example_parses(self):
        rule = faults.rule_from_dict({
            'method': 'PUT', 'resource_type': 'LogicalPartition',
            'max_count': 2,
            'outcome': {'type': 'http', 'status': 503,
                        'message': 'HSCL3205 busy'}})
        self.assertEqual('PUT', rule.method)
        self.assertEqual(2, rule.max_count)
        self.assertEqual(faults.HttpFault(503, 'HSCL3205 busy'), rule.outcome)
        self.assertTrue(_fires(rule, LPAR_PUT))

    def test_full_rule_round_trips(self):
        data = {'method': 'POST', 'path': 'VirtualIOServer/',
                'resource_type': 'VirtualIOServer', 'job': None,
                'probability': 0.25, 'skip': 4, 'max_count': 3,
                'delay': 0.5,
                'rule_id': 'vios-flaky',
                'outcome': {'type': 'http', 'status': 503,
                            'message': 'HSCL3205 busy',
                            'reason_code': 'Service Unavailable'}}
        self.assertEqual(data, self._round_trip(data))

    def test_every_outcome_type_round_trips(self):
        outcomes = [
            {'type': 'http', 'status': 500, 'message': 'boom',
             'reason_code': 'Unknown internal error.'},
            {'type': 'job_failure', 'message': 'HSCL1234 failed',
             'status': 'COMPLETED_WITH_ERROR', 'midway': False},
            {'type': 'job_failure', 'message': 'HSCL1234 failed',
             'status': 'FAILED_BEFORE_COMPLETION', 'midway': True},
            {'type': 'etag_conflict'},
            {'type': 'drop_connection', 'after_processing': False},
            {'type': 'drop_connection', 'after_processing': True},
            {'type': 'delay_only'},
        ]
        for outcome in outcomes:
            data = self._round_trip({'outcome': outcome, 'job': 'PowerOn'})
            self.assertEqual(outcome, data['outcome'])

    def test_defaults_are_filled_in(self):
        data = faults.rule_to_dict(faults.rule_from_dict(
            {'outcome': {'type': 'job_failure', 'message': 'HSCL1234 x'}}))
        self.assertEqual(1.0, data['probability'])
        self.assertEqual(0.0, data['delay'])
        self.assertIsNone(data['max_count'])
        self.assertEqual(0, data['skip'])
        self.assertEqual(
            {'type': 'drop_connection', 'after_processing': False},
            faults.outcome_to_dict(faults.outcome_from_dict(
                {'type': 'drop_connection'})))
        self.assertEqual('FAILED_BEFORE_COMPLETION', data['outcome']['status'])

    def test_bad_dicts_are_rejected_with_clear_messages(self):
        busy = {'type': 'http', 'status': 503, 'message': 'HSCL3205 busy'}
        cases = [
            ([], 'fault rule must be a JSON object'),
            ({'outcome': busy, 'methd': 'PUT'},
             'fault rule has unknown key(s) methd; allowed keys: delay,'),
            ({}, 'fault rule is missing required key(s) outcome'),
            ({'outcome': busy, 'probability': 1.5},
             'probability must be a number between 0 and 1, got 1.5'),
            ({'outcome': busy, 'probability': '0.5'},
             "probability must be a number between 0 and 1, got '0.5'"),
            ({'outcome': busy, 'delay': -1},
             'delay must be a number >= 0, got -1'),
            ({'outcome': busy, 'max_count': 0},
             'max_count must be an integer >= 1, got 0'),
            ({'outcome': busy, 'max_count': True},
             'max_count must be an integer >= 1, got True'),
            ({'outcome': busy, 'skip': -1},
             'skip must be an integer >= 0, got -1'),
            ({'outcome': busy, 'skip': 1.5},
             'skip must be an integer >= 0, got 1.5'),
            ({'outcome': busy, 'skip': False},
             'skip must be an integer >= 0, got False'),
            ({'outcome': busy, 'skip': None},
             'skip must be an integer >= 0, got None'),
            ({'outcome': {'type': 'drop_connection',
                          'after_processing': 'yes'}},
             "fault outcome 'drop_connection': after_processing must be "
             "true or false, got 'yes'"),
            ({'outcome': {'type': 'drop_connection', 'after': True}},
             "fault outcome 'drop_connection' has unknown key(s) after"),
            ({'outcome': busy, 'method': ''},
             "method must be a non-empty string or null, got ''"),
            ({'outcome': busy, 'path': '(unclosed'},
             'path is not a valid regular expression'),
            ({'outcome': 'busy'},
             'fault outcome must be a JSON object with a "type" key'),
            ({'outcome': {'type': 'explode'}},
             "fault outcome type must be one of delay_only, drop_connection,"
             " etag_conflict, http, job_failure, got 'explode'"),
            ({'outcome': {'type': 'http', 'status': 200, 'message': 'ok'}},
             "fault outcome 'http': status must be an integer between 400 "
             "and 599, got 200"),
            ({'outcome': {'type': 'http', 'status': 503}},
             "fault outcome 'http' is missing required key(s) message"),
            ({'outcome': {'type': 'etag_conflict', 'status': 412}},
             "fault outcome 'etag_conflict' has unknown key(s) status"),
            ({'outcome': {'type': 'job_failure', 'message': 'x',
                          'status': 'COMPLETED_OK'}},
             "status must be one of ['COMPLETED_WITH_ERROR', "
             "'COMPLETED_WITH_WARNINGS', 'FAILED_BEFORE_COMPLETION'], "
             "got 'COMPLETED_OK'"),
        ]
        for data, expected in cases:
            err = self.assertRaises(ValueError, faults.rule_from_dict, data)
            self.assertIn(expected, str(err))


class TestLatencyModel(testtools.TestCase):

    def test_defaults_are_zero(self):
        model = faults.LatencyModel()
        self.assertEqual(0.0, model.request_delay(LPAR_PUT))
        self.assertEqual(0.0, model.job_duration('PowerOn'))

    def test_per_method_adds_to_per_request(self):
        model = faults.LatencyModel(per_request=0.5,
                                    per_method={'put': 2.0})
        self.assertEqual(2.5, model.request_delay(LPAR_PUT))
        self.assertEqual(0.5, model.request_delay(LPAR_GET))

    def test_per_job_operation_adds_to_per_job(self):
        model = faults.LatencyModel(per_job=1.0,
                                    per_job_operation={'PowerOn': 3.0})
        self.assertEqual(4.0, model.job_duration('PowerOn'))
        self.assertEqual(1.0, model.job_duration('PowerOff'))
        self.assertEqual(0.0, model.request_delay(POWER_ON))

    def _jittered(self, seed, count=300):
        model = faults.LatencyModel(per_request=1.0, jitter=0.5, seed=seed)
        return [model.request_delay(LPAR_GET) for _ in range(count)]

    def test_jitter_is_bounded(self):
        delays = self._jittered(seed=3)
        self.assertTrue(all(1.0 <= delay <= 1.5 for delay in delays))
        self.assertGreater(len(set(delays)), 1)

    def test_jitter_is_seeded(self):
        self.assertEqual(self._jittered(seed=3), self._jittered(seed=3))
        self.assertNotEqual(self._jittered(seed=3), self._jittered(seed=4))

    def test_reseed_restarts_the_jitter(self):
        model = faults.LatencyModel(per_job=2.0, jitter=1.0, seed=8)
        before = [model.job_duration('PowerOn') for _ in range(20)]
        model.reseed(8)
        self.assertEqual(before,
                         [model.job_duration('PowerOn') for _ in range(20)])

    def test_dict_round_trip(self):
        data = {'per_request': 0.1, 'per_job': 2.0, 'jitter': 0.05,
                'seed': 11, 'per_method': {'PUT': 0.5},
                'per_job_operation': {'PowerOn': 4.0}}
        model = faults.latency_from_dict(data)
        self.assertEqual(data, json.loads(json.dumps(
            faults.latency_to_dict(model))))

    def test_empty_dict_is_the_default_model(self):
        self.assertEqual(
            faults.latency_to_dict(faults.LatencyModel()),
            faults.latency_to_dict(faults.latency_from_dict({})))

    def test_bad_dicts_are_rejected_with_clear_messages(self):
        cases = [
            ('fast', 'latency model must be a JSON object'),
            ({'per_requst': 1},
             'latency model has unknown key(s) per_requst'),
            ({'per_request': -0.1},
             'latency model: per_request must be a number >= 0, got -0.1'),
            ({'jitter': 'lots'},
             "latency model: jitter must be a number >= 0, got 'lots'"),
            ({'seed': 1.5}, 'latency model: seed must be an integer, got 1.5'),
            ({'per_method': {'PUT': 'slow'}},
             "per_method['PUT'] must be a number >= 0, got 'slow'"),
            ({'per_method': ['PUT']},
             'per_method must be an object of name to seconds'),
        ]
        for data, expected in cases:
            err = self.assertRaises(ValueError, faults.latency_from_dict,
                                    data)
            self.assertIn(expected, str(err))
