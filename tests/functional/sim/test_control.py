"""The /sim/ control API over real HTTP, beside pypowervm's own traffic."""

import os

import fixtures
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import hdisk
from pypowervm.wrappers import logical_partition as pvm_lpar
import requests
import testtools
from werkzeug import test as werkzeug_test

from powervm_sim import control
from powervm_sim import fixture
from powervm_sim import state

BUSY_RULE = {
    'method': 'GET', 'resource_type': 'LogicalPartition', 'max_count': 1,
    'outcome': {'type': 'http', 'status': 503,
                'message': 'HSCL3205 The system is busy.'}}


class ControlTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(systems=2,
                                                           lpars=2))
        self.simulator = self.sim.endpoints[0].simulator
        self.url = self.sim.endpoints[0].server.url + '/sim/'

    def call(self, method, path, expected, **kwargs):
        response = requests.request(method, self.url + path, timeout=10,
                                    **kwargs)
        self.assertEqual(expected, response.status_code, response.text)
        self.assertEqual('application/json',
                         response.headers['Content-Type'])
        return response.json()

    def rules(self):
        return self.call('GET', 'faults', 200)['rules']


class TestStatus(ControlTestCase):

    def test_status_counts_what_this_endpoint_serves(self):
        status = self.call('GET', 'status', 200)
        system = self.sim.model.systems[0]
        self.assertEqual([{'uuid': system.uuid, 'name': system.name,
                           'lpars': 3, 'vioses': 2, 'running': 3}],
                         status['systems'])
        self.assertEqual(self.sim.endpoints[0].server.url, status['url'])
        self.assertEqual(0, status['fault_rules'])

    def test_requests_and_sessions_are_counted(self):
        before = self.call('GET', 'status', 200)
        pvm_lpar.LPAR.get(self.sim.adapter())
        after = self.call('GET', 'status', 200)
        # The logon, the feed read and this status request.
        self.assertEqual(before['requests'] + 3, after['requests'])
        self.assertEqual(before['sessions'] + 1, after['sessions'])

    def test_unknown_paths_and_methods(self):
        self.assertIn('/sim/nothing',
                      self.call('GET', 'nothing', 404)['error'])
        self.assertIn('use GET', self.call('POST', 'status', 405)['error'])


class TestFaults(ControlTestCase):

    def test_an_armed_rule_fires_and_is_counted(self):
        armed = self.call('POST', 'faults', 201, json=BUSY_RULE)
        self.assertEqual('rule-1', armed['rule_id'])
        self.assertEqual(503, armed['rule']['outcome']['status'])
        adapter = self.sim.adapter()
        err = self.assertRaises(pvm_exc.HttpError, pvm_lpar.LPAR.get,
                                adapter)
        self.assertEqual(503, err.response.status)
        [rule] = self.rules()
        self.assertEqual(1, rule['fired'])
        self.assertEqual('LogicalPartition', rule['resource_type'])
        # max_count 1: the next read goes through.
        self.assertEqual(3, len(pvm_lpar.LPAR.get(adapter)))

    def test_rules_are_shared_by_every_endpoint(self):
        self.call('POST', 'faults', 201, json=BUSY_RULE)
        other = self.sim.endpoints[1].server.url + '/sim/faults'
        self.assertEqual(['rule-1'], [
            rule['rule_id'] for rule in
            requests.get(other, timeout=10).json()['rules']])

    def test_delete_clears_every_rule(self):
        self.call('POST', 'faults', 201, json=BUSY_RULE)
        self.call('POST', 'faults', 201, json=dict(BUSY_RULE,
                                                   rule_id='mine'))
        self.assertEqual([], self.call('DELETE', 'faults', 200)['rules'])
        self.assertEqual([], self.sim.faults.rules())
        self.assertEqual(3, len(pvm_lpar.LPAR.get(self.sim.adapter())))

    def test_delete_one_rule(self):
        self.call('POST', 'faults', 201, json=dict(BUSY_RULE, rule_id='a'))
        self.call('POST', 'faults', 201, json=dict(BUSY_RULE, rule_id='b'))
        self.call('DELETE', 'faults/a', 200)
        self.assertEqual(['b'], [r.rule_id for r in self.sim.faults.rules()])
        self.assertIn("'a'", self.call('DELETE', 'faults/a', 404)['error'])

    def test_bad_rules_change_nothing(self):
        self.call('POST', 'faults', 201, json=dict(BUSY_RULE, rule_id='a'))
        before = self.rules()
        bad_bodies = [
            (b'{"outcome": ', 'not valid JSON'),
            (b'\xff\xfe', 'not valid JSON'),
            (b'[]', 'must be a JSON object'),
            (dict(BUSY_RULE, outcome={'type': 'explode'}),
             'outcome type must be one of'),
            (dict(BUSY_RULE, outcome={'type': 'http', 'status': 200,
                                      'message': 'x'}),
             'status must be an integer between 400 and 599'),
            (dict(BUSY_RULE, probability=2), 'probability'),
            (dict(BUSY_RULE, colour='red'), 'unknown key'),
            (dict(BUSY_RULE, path='('), 'not a valid regular expression'),
            (dict(BUSY_RULE, rule_id='a'), 'already armed'),
        ]
        for body, message in bad_bodies:
            kwargs = ({'data': body} if isinstance(body, bytes)
                      else {'json': body})
            error = self.call('POST', 'faults', 400, **kwargs)['error']
            self.assertIn(message, error)
        self.assertEqual(before, self.rules())
        self.assertEqual(['a'], [r.rule_id for r in self.sim.faults.rules()])


class TestLatency(ControlTestCase):

    def test_defaults_then_replace(self):
        latency = self.call('GET', 'latency', 200)
        self.assertEqual(0, latency['per_request'])
        new = {'per_request': 0.001, 'per_job': 0.002,
               'per_method': {'put': 0.003}, 'seed': 7}
        answer = self.call('PUT', 'latency', 200, json=new)
        self.assertEqual({'PUT': 0.003}, answer['per_method'])
        self.assertEqual(answer, self.call('GET', 'latency', 200))
        # Every endpoint holds the same model, changed in place.
        shared = self.sim.endpoints[1].simulator.latency
        self.assertIs(self.simulator.latency, shared)
        self.assertEqual((0.001, 0.002, 7, 0.0),
                         (shared.per_request, shared.per_job, shared.seed,
                          shared.jitter))
        self.assertEqual(0.002, shared.job_duration('PowerOn'))

    def test_bad_latency_changes_nothing(self):
        self.call('PUT', 'latency', 200, json={'per_request': 0.001})
        before = self.call('GET', 'latency', 200)
        for body, message in (({'per_request': -1}, 'per_request'),
                              ({'per_request': 'slow'}, 'per_request'),
                              ({'lag': 1}, 'unknown key'),
                              ({'per_method': {'GET': -2}}, 'per_method'),
                              ([1], 'must be a JSON object')):
            error = self.call('PUT', 'latency', 400, json=body)['error']
            self.assertIn(message, error)
        error = self.call('PUT', 'latency', 400, data=b'{')['error']
        self.assertIn('not valid JSON', error)
        self.assertEqual(before, self.call('GET', 'latency', 200))


class TestStateSave(ControlTestCase):

    def test_without_a_state_file_saving_is_refused(self):
        self.assertIn('--state', self.call('POST', 'state/save',
                                           409)['error'])

    def test_save_writes_the_model(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'sim.json')
        control.configure(self.simulator,
                          save_state=lambda: state.save(self.sim.model,
                                                        path))
        self.assertEqual({'saved': path},
                         self.call('POST', 'state/save', 200))
        loaded = state.load(path)
        self.assertEqual(sorted(p.uuid for p in self.sim.model.lpars()),
                         sorted(p.uuid for p in loaded.lpars()))

    def test_a_failed_save_is_a_json_500(self):
        def fail():
            raise OSError(28, 'No space left on device')
        control.configure(self.simulator, save_state=fail)
        self.assertIn('No space left',
                      self.call('POST', 'state/save', 500)['error'])


class TestAccess(ControlTestCase):

    def test_a_configured_token_is_required(self):
        control.configure(self.simulator, token='s3cret')
        self.assertIn(control.CONTROL_HEADER,
                      self.call('GET', 'status', 403)['error'])
        self.call('GET', 'status', 403,
                  headers={control.CONTROL_HEADER: 'wrong'})
        self.call('GET', 'status', 200,
                  headers={control.CONTROL_HEADER: 's3cret'})
        self.call('POST', 'faults', 403, json=BUSY_RULE)
        self.assertEqual([], self.sim.faults.rules())

    def test_without_a_token_only_loopback_is_served(self):
        client = werkzeug_test.Client(self.simulator)
        remote = client.get('/sim/status',
                            environ_base={'REMOTE_ADDR': '192.0.2.7'})
        self.assertEqual(403, remote.status_code)
        self.assertIn('local host', remote.get_json()['error'])
        local = client.get('/sim/status',
                           environ_base={'REMOTE_ADDR': '::1'})
        self.assertEqual(200, local.status_code)


class TestSan(ControlTestCase):

    def setUp(self):
        super().setUp()
        self.vios = self.sim.model.vioses(self.sim.model.systems[0])[0]
        self.port = self.vios.fc_ports[0]

    def new_lun(self, **extra):
        target = self.call('POST', 'san/fc-targets', 201,
                           json={'name': 'array9', 'ports': 1})
        return self.call('POST', 'san/luns', 201, json=dict({
            'target': 'array9', 'size_gb': 2,
            'initiators': [self.port.wwpn]}, **extra)), target

    def discover(self, lun):
        data = lun['connection_data']
        return hdisk.discover_hdisk(
            self.sim.adapter(), self.vios.uuid, hdisk.build_itls(
                list(data['initiator_target_map']), data['target_wwn'],
                data['target_lun']))

    def test_a_volume_made_here_is_found_by_the_vios(self):
        lun, target = self.new_lun()
        self.assertEqual(1, len(target['wwpns']))
        data = lun['connection_data']
        self.assertEqual({self.port.wwpn: target['wwpns']},
                         data['initiator_target_map'])
        self.assertEqual(1, data['target_lun'])
        status, name, udid = self.discover(lun)
        self.assertEqual((hdisk.LUAStatus.DEVICE_AVAILABLE, lun['udid']),
                         (status, udid))
        san = self.call('GET', 'san', 200)
        self.assertIn(lun['naa'], [each['naa'] for each in san['luns']])

    def test_grow_hide_break_and_delete(self):
        lun, _target = self.new_lun()
        path = 'san/luns/%s' % lun['naa']
        grown = self.call('PATCH', path, 200, json={'size_gb': 3})
        self.assertEqual(3072, grown['size_mb'])
        self.call('PATCH', path, 200, json={'exported': False})
        self.assertEqual(hdisk.LUAStatus.INCORRECT_ITL,
                         self.discover(lun)[0])
        self.call('PATCH', path, 200, json={'exported': True})
        self.call('PATCH', 'san/fc-targets/array9', 200,
                  json={'refuses_logins': True})
        self.assertEqual(hdisk.LUAStatus.INCORRECT_ITL,
                         self.discover(lun)[0])
        self.call('PATCH', 'san/fc-targets/array9', 200,
                  json={'refuses_logins': False})
        self.call('PATCH', path, 200, json={'unmask': [self.port.wwpn]})
        self.assertEqual(hdisk.LUAStatus.INCORRECT_ITL,
                         self.discover(lun)[0])
        self.call('DELETE', path, 200)
        self.call('PATCH', path, 404, json={'size_gb': 4})

    def test_zoning_decides_the_paths(self):
        lun, target = self.new_lun()
        self.call('PATCH', 'san/fc-targets/array9', 200,
                  json={'unzone': [self.port.wwpn]})
        self.assertEqual({}, self.call('GET', 'san', 200)['luns'][-1][
            'connection_data']['initiator_target_map'])
        self.assertEqual(hdisk.LUAStatus.INCORRECT_ITL,
                         self.discover(lun)[0])
        self.call('PATCH', 'san/fc-targets/array9', 200, json={
            'zone': [self.port.wwpn], 'target_wwpns': target['wwpns']})
        self.assertEqual(hdisk.LUAStatus.DEVICE_AVAILABLE,
                         self.discover(lun)[0])

    def test_bad_san_requests_change_nothing(self):
        lun, _target = self.new_lun()
        before = self.call('GET', 'san', 200)
        lun_path = 'san/luns/%s' % lun['naa']
        for method, path, body, status in (
                ('POST', 'san/fc-targets', {'name': 'array9'}, 400),
                ('POST', 'san/fc-targets', {'name': 'x', 'wwpns': 'abc'},
                 400),
                ('POST', 'san/fc-targets', {'name': 'x', 'ports': 'two'},
                 400),
                ('POST', 'san/fc-targets', {'wwpns': []}, 400),
                ('POST', 'san/fc-targets', {'name': 'x', 'colour': 1}, 400),
                ('POST', 'san/luns', {'target': 'nowhere', 'size_gb': 1},
                 404),
                ('POST', 'san/luns', {'target': 'array9', 'size_gb': -1},
                 400),
                ('POST', 'san/luns', {'target': 'array9', 'size_gb': 1,
                                      'initiators': ['10000090fa00000z']},
                 400),
                ('POST', 'san/luns', {'target': 'array9', 'size_gb': 1,
                                      'lun_id': 1}, 400),
                ('POST', 'san/luns', [1, 2], 400),
                ('PATCH', lun_path, {'size_gb': 1}, 400),
                ('PATCH', lun_path, {'size_gb': 5, 'exported': 'no'}, 400),
                ('PATCH', lun_path, {'exported': False, 'mask': [7]}, 400),
                ('PATCH', 'san/fc-targets/array9', {
                    'refuses_logins': True, 'zone': ['bad']}, 400),
                ('PATCH', 'san/fc-targets/array9', {
                    'zone': [self.port.wwpn],
                    'target_wwpns': ['500507680b2156ff']}, 400),
                ('PATCH', 'san/fc-targets/nothing', {}, 404),
                ('GET', 'san/luns', None, 405),
                ('GET', 'san/else', None, 404)):
            self.call(method, path, status, json=body)
        self.call('POST', 'san/luns', 400, data=b'{not json')
        self.assertEqual(before, self.call('GET', 'san', 200))

    def test_iscsi_targets_and_their_chap(self):
        iqn = 'iqn.2016-06.world.srv:ctl'
        target = self.call('POST', 'san/iscsi-targets', 201, json={
            'iqn': iqn, 'portals': ['192.0.2.7'], 'chap_user': 'u',
            'chap_secret': 'one'})
        self.assertEqual(['192.0.2.7:3260'], target['portals'])
        lun = self.call('POST', 'san/luns', 201, json={
            'target': iqn, 'size_gb': 1,
            'initiators': [self.vios.iscsi_initiator]})
        data = lun['connection_data']

        def login():
            return hdisk.discover_iscsi(
                self.sim.adapter(), data['target_portal'], 'u', 'one', iqn,
                self.vios.uuid, lunid=data['target_lun'], auth='CHAP')
        self.assertEqual(lun['udid'], login()[1])
        self.call('PATCH', 'san/iscsi-targets/%s' % iqn, 200,
                  json={'chap_secret': 'two'})
        self.assertIn('Return code: 24', str(self.assertRaises(
            pvm_exc.ISCSIDiscoveryFailed, login)))
        self.call('PATCH', 'san/iscsi-targets/%s' % iqn, 200, json={
            'chap_user': None, 'chap_secret': None, 'refuses_logins': True})
        self.assertIn('Return code: 5', str(self.assertRaises(
            pvm_exc.ISCSIDiscoveryFailed, login)))
        before = self.call('GET', 'san', 200)
        for method, path, body in (
                ('POST', 'san/iscsi-targets', {'iqn': 'nope',
                                               'portals': ['192.0.2.7']}),
                ('POST', 'san/iscsi-targets', {'iqn': iqn + 'x',
                                               'portals': ['a:b:c']}),
                ('POST', 'san/iscsi-targets', {'iqn': iqn + 'x',
                                               'portals': '192.0.2.7'}),
                ('POST', 'san/iscsi-targets', {
                    'iqn': iqn + 'x', 'portals': ['192.0.2.7'],
                    'chap_user': 'only'}),
                ('PATCH', 'san/iscsi-targets/%s' % iqn, {
                    'refuses_logins': False, 'chap_secret': 'alone'}),
                ('POST', 'san/luns', {'target': iqn, 'size_gb': 1,
                                      'initiators': ['10000090fa000001']})):
            self.call(method, path, 400, json=body)
        self.assertEqual(before, self.call('GET', 'san', 200))

    def test_rbd_images(self):
        san = self.call('POST', 'san/rbd-images', 201,
                        json={'name': 'volumes/v1', 'size_gb': 1})
        self.assertEqual({'volumes/v1': 1024}, san['rbd_images'])
        vios_uuid = self.vios.uuid
        self.assertTrue(hdisk.rbd_exists(self.sim.adapter(), vios_uuid,
                                         'volumes/v1'))
        grown = self.call('PATCH', 'san/rbd-images/volumes/v1', 200,
                          json={'size_gb': 2})
        self.assertEqual({'volumes/v1': 2048}, grown['rbd_images'])
        before = self.call('GET', 'san', 200)
        for method, path, body, status in (
                ('POST', 'san/rbd-images', {'name': 'v1', 'size_gb': 1},
                 400),
                ('POST', 'san/rbd-images', {'name': 'volumes/v1',
                                            'size_gb': 1}, 400),
                ('PATCH', 'san/rbd-images/volumes/v1', {'size_gb': 1}, 400),
                ('PATCH', 'san/rbd-images/volumes/v9', {'size_gb': 3}, 404),
                ('DELETE', 'san/rbd-images/volumes/v9', None, 404)):
            self.call(method, path, status, json=body)
        self.assertEqual(before, self.call('GET', 'san', 200))
        self.call('DELETE', 'san/rbd-images/volumes/v1', 200)
        self.assertFalse(hdisk.rbd_exists(self.sim.adapter(), vios_uuid,
                                          'volumes/v1'))

    def test_novalink_files(self):
        self.assertEqual({}, self.call('GET', 'files', 200))
        made = self.call('POST', 'files', 201, json={
            'path': '/srv/volume-1', 'size_gb': 1})
        self.assertEqual({'/srv/volume-1': 1024}, made)
        self.call('PATCH', 'files', 200, json={'path': '/srv/volume-1',
                                               'size_gb': 2})
        before = self.call('GET', 'files', 200)
        for method, body in (
                ('POST', {'path': 'srv/x', 'size_gb': 1}),
                ('POST', {'path': '/srv/volume-1', 'size_gb': 1}),
                ('PATCH', {'path': '/srv/volume-1', 'size_gb': 1}),
                ('PATCH', {'path': '/srv/none', 'size_gb': 3}),
                ('DELETE', {'path': '/srv/none'}),
                ('POST', {'path': '/srv/x'})):
            self.call(method, 'files', 400, json=body)
        self.assertEqual({'/srv/volume-1': 2048}, before)
        self.assertEqual(before, self.call('GET', 'files', 200))
        self.assertEqual({}, self.call('DELETE', 'files', 200,
                                       json={'path': '/srv/volume-1'}))


class TestMobility(ControlTestCase):

    def test_what_this_endpoints_system_allows(self):
        system, other = self.sim.model.systems
        console = self.sim.model.console_of(system)
        self.assertEqual({
            'active_capable': True, 'max_active_migrations': 16,
            'proc_compat_modes': list(system.proc_compat_modes),
            'active_migrations': 0, 'public_key': console.public_key,
            'authorized_keys': []}, self.call('GET', 'mobility', 200))
        changed = self.call('PATCH', 'mobility', 200, json={
            'active_capable': False, 'max_active_migrations': 2,
            'proc_compat_modes': ['default', 'POWER8']})
        self.assertEqual({
            'active_capable': False, 'max_active_migrations': 2,
            'proc_compat_modes': ['default', 'POWER8'],
            'active_migrations': 0, 'public_key': console.public_key,
            'authorized_keys': []}, changed)
        self.assertEqual((False, 2, ('default', 'POWER8')), (
            system.active_lpm_capable, system.max_active_migrations,
            system.proc_compat_modes))
        self.assertTrue(other.active_lpm_capable)
        for body in ({'active_capable': 'no'},
                     {'max_active_migrations': -1},
                     {'max_active_migrations': True},
                     {'proc_compat_modes': 'POWER8'},
                     {'proc_compat_modes': ['']},
                     {'speed': 1}, []):
            self.call('PATCH', 'mobility', 400, json=body)
        self.assertEqual(changed, self.call('GET', 'mobility', 200))
        self.call('DELETE', 'mobility', 405)

    def test_the_consoles_authorized_keys(self):
        system, other = self.sim.model.systems
        other_key = self.sim.model.console_of(other).public_key
        changed = self.call('PATCH', 'mobility', 200, json={
            'authorized_keys': [other_key, other_key]})
        self.assertEqual([other_key], changed['authorized_keys'])
        self.assertEqual([other_key],
                         self.sim.model.console_of(system).authorized_keys)
        self.assertEqual([], self.sim.model.console_of(other).authorized_keys)
        for body in ({'authorized_keys': other_key},
                     {'authorized_keys': ['not a key']},
                     {'authorized_keys': [other_key, 7]},
                     {'public_key': other_key}):
            self.call('PATCH', 'mobility', 400, json=body)
        self.assertEqual(changed, self.call('GET', 'mobility', 200))
