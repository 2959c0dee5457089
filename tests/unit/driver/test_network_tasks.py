"""PlugVifs: which neutron events it waits for and what a missing or
failed event does; the VIF plugging itself is mocked."""

import contextlib
from unittest import mock

import fixtures
from nova import exception
from oslo_config import fixture as config_fixture
import testtools

from nova_powervm import conf
from nova_powervm.tasks import network as tf_net


def _vif(number, active):
    return {'id': 'port-%d' % number, 'active': active,
            'address': 'fa:16:3e:00:00:%02x' % number}


class RecordingVirtAPI:
    """Records each wait; ``outcome`` is raised when the wait ends, or
    ``failed_events`` are reported to the error callback."""

    def __init__(self, outcome=None, failed_events=()):
        self.outcome = outcome
        self.failed_events = failed_events
        self.waits = []

    @contextlib.contextmanager
    def wait_for_instance_event(self, instance, event_names, timeout=300,
                                error_callback=None):
        self.waits.append((list(event_names), timeout))
        yield
        for event in self.failed_events:
            error_callback(event, instance)
        if self.outcome is not None:
            raise self.outcome


class TestPlugEvents(testtools.TestCase):

    def test_only_missing_ports_neutron_has_not_reported_up(self):
        vifs = [_vif(1, False), _vif(2, True), _vif(3, False),
                {'id': 'port-4', 'address': 'fa:16:3e:00:00:04'}]
        self.assertEqual(
            [('network-vif-plugged', 'port-1')],
            tf_net.plug_events(vifs, [vifs[0], vifs[1], vifs[3]]))


class TestPlugVifs(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(conf.CONF))
        self.vif = self.useFixture(fixtures.MockPatch(
            'nova_powervm.tasks.network.pvm_vif', autospec=True)).mock
        self.vif.get_cnas.return_value = []
        self.vif.find_cna.return_value = None
        self.vif.plug.return_value = True
        self.instance = mock.Mock(uuid='inst-1')
        self.vifs = [_vif(1, False), _vif(2, True)]

    def _task(self, virtapi):
        return tf_net.PlugVifs(virtapi, mock.sentinel.adapter, self.instance,
                               self.vifs, mock.sentinel.edge)

    def _plugged_ids(self):
        return [call.args[2]['id'] for call in self.vif.plug.call_args_list]

    def test_waits_for_the_inactive_port_while_plugging(self):
        virtapi = RecordingVirtAPI()
        self.conf.config(vif_plugging_timeout=42)
        self._task(virtapi).execute()
        self.assertEqual([([('network-vif-plugged', 'port-1')], 42)],
                         virtapi.waits)
        self.assertEqual(['port-1', 'port-2'], self._plugged_ids())

    def test_no_wait_without_a_timeout(self):
        virtapi = RecordingVirtAPI()
        self.conf.config(vif_plugging_timeout=0)
        self._task(virtapi).execute()
        self.assertEqual([], virtapi.waits)
        self.assertEqual(['port-1', 'port-2'], self._plugged_ids())

    def test_no_wait_for_ports_already_there(self):
        self.vif.find_cna.side_effect = lambda cnas, mac: (
            mock.Mock() if mac.endswith('01') else None)
        virtapi = RecordingVirtAPI()
        self._task(virtapi).execute()
        self.assertEqual([], virtapi.waits)
        # Plugged all the same: outside NovaLink there may be work left.
        self.assertEqual(['port-1', 'port-2'], self._plugged_ids())

    def test_timeout_is_fatal_when_configured(self):
        task = self._task(RecordingVirtAPI(exception.InstanceEventTimeout()))
        self.assertRaises(exception.VirtualInterfaceCreateException,
                          task.execute)
        # What it plugged is undone by its revert.
        task.revert(None, {})
        self.assertEqual(['port-2', 'port-1'], [
            call.args[2]['id'] for call in self.vif.unplug.call_args_list])

    def test_timeout_is_only_logged_when_not_fatal(self):
        self.conf.config(vif_plugging_is_fatal=False)
        self._task(RecordingVirtAPI(exception.InstanceEventTimeout())
                   ).execute()

    def test_failed_event(self):
        virtapi = RecordingVirtAPI(
            failed_events=['network-vif-plugged-port-1'])
        self.assertRaises(exception.VirtualInterfaceCreateException,
                          self._task(virtapi).execute)
        self.conf.config(vif_plugging_is_fatal=False)
        self._task(virtapi).execute()

    def test_revert_leaves_adapters_it_did_not_make(self):
        self.vif.plug.side_effect = [False, True]
        task = self._task(RecordingVirtAPI())
        task.execute()
        task.revert(None, {})
        self.assertEqual(['port-2'], [
            call.args[2]['id'] for call in self.vif.unplug.call_args_list])

    def test_revert_after_nothing_was_plugged_reads_nothing(self):
        self.vif.plug.side_effect = exception.VirtualInterfacePlugException()
        task = self._task(RecordingVirtAPI())
        self.assertRaises(exception.VirtualInterfacePlugException,
                          task.execute)
        self.vif.get_cnas.reset_mock()
        task.revert(None, {})
        self.vif.get_cnas.assert_not_called()
        self.vif.unplug.assert_not_called()
