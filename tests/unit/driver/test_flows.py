"""Spawn and destroy flows: what runs and what is undone on failure."""

from unittest import mock

import fixtures
from nova import exception
from pypowervm import adapter as pvm_adpt
from pypowervm import exceptions as pvm_exc
import testtools

from nova_powervm import flows
from nova_powervm import vm


def _deploy_failure(cause):
    try:
        raise exception.InstanceDeployFailure(reason=cause) from cause
    except exception.InstanceDeployFailure as exc:
        return exc


class FlowTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.vm = self.useFixture(fixtures.MockPatch(
            'nova_powervm.tasks.vm.vm', autospec=True)).mock
        # The tasks' own reading of a failed create stays real.
        self.vm.create_outcome_unknown.side_effect = (
            vm.create_outcome_unknown)
        self.instance = mock.Mock(uuid='f0b6f8f4-0000-4000-8000-000000000001')

    def _spawn(self, power_on=True):
        flow = flows.spawn(mock.sentinel.adapter, mock.sentinel.host,
                           self.instance, mock.sentinel.image, power_on)
        flows.run(flow, self.instance)

    def _calls(self):
        return [name for name, _args, _kwargs in self.vm.method_calls
                if name != 'create_outcome_unknown']


class TestSpawnFlow(FlowTestCase):

    def test_creates_then_powers_on(self):
        self._spawn()
        self.assertEqual(['create_lpar', 'power_on'], self._calls())
        self.vm.create_lpar.assert_called_once_with(
            mock.sentinel.adapter, mock.sentinel.host, self.instance,
            mock.sentinel.image, nvram=None)

    def test_without_power_on(self):
        self._spawn(power_on=False)
        self.assertEqual(['create_lpar'], self._calls())

    def test_power_on_failure_undoes_everything(self):
        failure = exception.InstancePowerOnFailure(reason='no')
        self.vm.power_on.side_effect = failure
        err = self.assertRaises(exception.InstancePowerOnFailure,
                                self._spawn)
        self.assertIs(failure, err)
        self.assertEqual(['create_lpar', 'power_on', 'power_off',
                          'delete_lpar'], self._calls())
        self.vm.power_off.assert_called_once_with(
            mock.sentinel.adapter, self.instance, timeout=0)

    def test_refused_create_deletes_nothing(self):
        self.vm.create_lpar.side_effect = _deploy_failure(
            _http_error_cause())
        self.assertRaises(exception.InstanceDeployFailure, self._spawn)
        self.assertEqual(['create_lpar'], self._calls())

    def test_create_without_an_answer_deletes_what_may_exist(self):
        self.vm.create_lpar.side_effect = _deploy_failure(
            pvm_exc.ConnectionError('connection reset'))
        self.assertRaises(exception.InstanceDeployFailure, self._spawn)
        self.assertEqual(['create_lpar', 'delete_lpar'], self._calls())

    def test_failing_undo_keeps_the_original_error(self):
        self.vm.power_on.side_effect = exception.InstancePowerOnFailure(
            reason='no')
        self.vm.power_off.side_effect = exception.InstancePowerOffFailure(
            reason='stuck')
        self.vm.delete_lpar.side_effect = (
            exception.InstanceTerminationFailure(reason='busy'))
        self.assertRaises(exception.InstancePowerOnFailure, self._spawn)
        self.assertEqual(['create_lpar', 'power_on', 'power_off',
                          'delete_lpar'], self._calls())


class TestDestroyFlow(FlowTestCase):

    def test_hard_power_off_then_delete(self):
        flows.run(flows.destroy(mock.sentinel.adapter, self.instance),
                  self.instance)
        self.assertEqual(['power_off', 'delete_lpar'], self._calls())
        self.vm.power_off.assert_called_once_with(
            mock.sentinel.adapter, self.instance, timeout=0)

    def test_power_off_failure_stops_the_destroy(self):
        self.vm.power_off.side_effect = exception.InstancePowerOffFailure(
            reason='stuck')
        self.assertRaises(
            exception.InstancePowerOffFailure, flows.run,
            flows.destroy(mock.sentinel.adapter, self.instance),
            self.instance)
        self.assertEqual(['power_off'], self._calls())


def _http_error_cause():
    return pvm_exc.HttpError(pvm_adpt.Response(
        'PUT', '/rest/api/uom/ManagedSystem/1/LogicalPartition', 400,
        'Bad Request', {}))
