"""Every REST call of spawn, destroy and snapshot, failed in turn.

For each operation the calls it makes are recorded once without faults
(twice: the sequence must be the same both times).  Then, for every call
index and every outcome that applies to that call, the operation runs
again with exactly that fault, armed through the simulator's fault rules
(``skip`` lets the earlier calls through).  Each run must end with the
nova error that belongs to the step the call serves, or, where the fault
is one the driver rides out, succeed; and either way leave nothing
behind that nova does not know about.
"""

import dataclasses
import functools
import logging
import re
import threading

import fixtures as fx
from nova.compute import power_state
from nova import exception
from pypowervm import exceptions as pvm_exc
import taskflow.engines
from testtools import content
from taskflow import states as tf_states
from taskflow.types import notifier as tf_notifier

from nova_powervm.volume import connector as pvm_connector
from powervm_sim import faults
from tests.functional.driver import fixtures

# The event listener's long polls run on their own thread, whenever they
# like: they are neither recorded nor failed.
OUTSIDE_EVENT_POLLS = r'^(?!/rest/api/uom/Event\b)'
# pypowervm's VIOS-busy helper tries a request this often before it gives
# up (the first try and three retries).
VIOS_BUSY_TRIES = 4
# What differs from run to run in a call's path: object UUIDs, job IDs.
_RUN_IDS_RE = re.compile(r'[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}'
                         r'|(?<=/jobs/)\d+', re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Call:
    """One REST call of an operation, and the flow step that made it."""

    method: str
    path: str
    job: str | None
    step: str | None

    def shape(self):
        """The call without the IDs that differ from run to run."""
        return (self.method, _RUN_IDS_RE.sub('<id>', self.path), self.job,
                self.step)

    def __str__(self):
        return '%s %s (%s)' % (self.method, self.shape()[1], self.step)


@dataclasses.dataclass(frozen=True)
class Fault:
    """A named way for one call to fail, armed as a FaultRule."""

    name: str
    outcome: object
    tries: int = 1
    jobs_only: bool = False

    def applies_to(self, call):
        return call.job is not None or not self.jobs_only

    def rule(self, calls, index):
        """The rule that fails ``calls[index]`` and nothing else.

        A job failure only ever matches job submissions, so it skips the
        earlier submissions, where the others skip every earlier call.  A
        call made at the same time as its twin (the updates of two VIOSes,
        in threads) is told apart by its own path: the order of the two
        differs from run to run, and a fault of several tries would be
        shared between them.
        """
        call = calls[index]
        if _has_concurrent_twin(calls, index):
            earlier = sum(1 for other in calls[:index]
                          if other.path == call.path and
                          self.applies_to(other))
            path = '^%s$' % re.escape(call.path)
        else:
            earlier = sum(1 for other in calls[:index]
                          if self.applies_to(other))
            path = OUTSIDE_EVENT_POLLS
        return faults.FaultRule(
            outcome=self.outcome, path=path, skip=earlier,
            max_count=self.tries, rule_id='%s-at-%d' % (self.name, index))


# The calls pypowervm makes in threads, one per VIOS (a FeedTask's
# updates); the VIOSes' UUIDs are the same from run to run.
_CONCURRENT = re.compile(r'/VirtualIOServer/[^/]+$')


def _has_concurrent_twin(calls, index):
    """Whether ``calls[index]`` is one of the updates of several VIOSes
    made at the same time."""
    call = calls[index]
    return call.method == 'POST' and bool(_CONCURRENT.search(call.path)) \
        and any(0 <= other < len(calls) and
                calls[other].shape() == call.shape() and
                calls[other].path != call.path
                for other in (index - 1, index + 1))


HTTP_500 = Fault('http-500', faults.internal_error('Injected failure.'))
VIOS_BUSY = Fault('vios-busy', faults.vios_busy(), tries=VIOS_BUSY_TRIES)
JOB_FAILURE = Fault('job-failure',
                    faults.JobFailure('HSCL0001 Injected job failure.'),
                    jobs_only=True)
DROP_BEFORE = Fault('drop-before', faults.DropConnection())
DROP_AFTER = Fault('drop-after',
                   faults.DropConnection(after_processing=True))
ALL_FAULTS = (HTTP_500, VIOS_BUSY, JOB_FAILURE, DROP_BEFORE, DROP_AFTER)


class StepTracker:
    """Which flow step the driver is in, from TaskFlow's notifications."""

    def __init__(self):
        self.step = None

    def follow(self, engine):
        engine.atom_notifier.register(tf_notifier.Notifier.ANY, self._moved)
        return engine

    def _moved(self, state, details):
        if state == tf_states.RUNNING:
            self.step = details['task_name']
        elif state == tf_states.REVERTING:
            self.step = 'revert ' + details['task_name']


class CallRecorder:
    """Records the calls the simulator's fault registry is consulted on
    (every REST call but the control API's), from the test's thread."""

    def __init__(self, registry, tracker):
        self._match = registry.match
        self._tracker = tracker
        self._lock = threading.Lock()
        self.calls = None

    def match(self, info):
        with self._lock:
            if self.calls is not None and re.search(
                    OUTSIDE_EVENT_POLLS, info.path, re.IGNORECASE):
                self.calls.append(Call(info.method, info.path, info.job,
                                       self._tracker.step))
        return self._match(info)

    def record(self, operation):
        """The calls ``operation()`` makes."""
        self.calls = []
        try:
            operation()
            return self.calls
        finally:
            self.calls = None



# The nova error of a failed spawn, by the step that failed.
SPAWN_STEP_ERRORS = {
    'create_lpar': exception.InstanceDeployFailure,
    'plug_vifs': exception.VirtualInterfacePlugException,
    'plug_mgmt_vif': exception.VirtualInterfacePlugException,
    'create_disk_from_image': exception.InstanceDeployFailure,
    'attach_disk': exception.InstanceDeployFailure,
    # Made and mapped, or (with a boot disk) made only: attach_disk maps
    # it with the disk.
    'create_and_connect_cfg_drive': exception.InstanceDeployFailure,
    'create_cfg_drive': exception.InstanceDeployFailure,
    'power_on': exception.InstancePowerOnFailure,
}
CONFIG_DRIVE_STEPS = ('create_and_connect_cfg_drive', 'create_cfg_drive')

# Calls (method, path pattern) whose failure, of any kind, the operation
# rides out.  pypowervm deletes a finished job, and the record of an
# uploaded file, on a best-effort basis: it only logs a failure.  It looks
# a media repository's volume group up again by searching every VIOS when
# reading the one it remembers fails.
SURVIVABLE_CALLS = (
    ('DELETE', r'/rest/api/uom/jobs/<id>$', None),
    ('DELETE', r'/rest/api/web/File/<id>$', None),
    ('GET', r'/VirtualIOServer/<id>/VolumeGroup/<id>$', CONFIG_DRIVE_STEPS),
)

# A snapshot's calls before the upload (making the disk readable on the
# NovaLink partition) and after it (unmapping it, deleting a copy).  A
# single failure of the latter is tried again: the snapshot succeeds.
SNAPSHOT_PREPARE = 'snapshot prepare'
SNAPSHOT_CLEANUP = 'snapshot cleanup'

# What reaches nova-compute from a snapshot that NovaLink failed: the
# snapshot has no nova error of its own; compute marks the image failed.
SNAPSHOT_ERRORS = {
    HTTP_500.name: pvm_exc.HttpError,
    VIOS_BUSY.name: pvm_exc.HttpError,
    JOB_FAILURE.name: pvm_exc.JobRequestFailed,
    DROP_BEFORE.name: pvm_exc.ConnectionError,
    DROP_AFTER.name: pvm_exc.ConnectionError,
}


def _name(exc_class):
    return 'success' if exc_class is None else exc_class.__name__


def survivable(call):
    path = call.shape()[1]
    return any(call.method == method and re.search(pattern, path)
               and (steps is None or call.step in steps)
               for method, pattern, steps in SURVIVABLE_CALLS)


@dataclasses.dataclass
class Tally:
    """What a campaign tried and how the runs ended."""

    calls: int = 0
    tried: int = 0
    failed: int = 0
    survived: int = 0

    def add(self, failed):
        self.tried += 1
        if failed:
            self.failed += 1
        else:
            self.survived += 1

    def line(self, operation):
        return ('%s: %d calls, %d failure points tried, %d failed as '
                'expected, %d survived' % (operation, self.calls, self.tried,
                                          self.failed, self.survived))


class FaultCampaignTestCase(fixtures.DriverTestCase):

    # A partition state change is never reported during a run: reading the
    # state would be a call from another thread, at any time.
    DRIVER_OPTIONS = {'lifecycle_event_delay': 3600.0}

    def setUp(self):
        super().setUp()
        # The VIOS-busy retries would wait 5, 10 and 15 seconds.
        self.useFixture(fx.MockPatch('pypowervm.helpers.vios_busy.SLEEP'))
        # pypowervm's log helper dumps the recent requests and responses,
        # bodies and all, at every failure: over the hundreds of injected
        # ones that is more log than a test result may carry (subunit
        # refuses packets over 4 MB).  The campaign asserts outcomes.
        helper_log = logging.getLogger('pypowervm.helpers.log_helper')
        self.addCleanup(helper_log.setLevel, helper_log.level)
        helper_log.setLevel(logging.WARNING)
        self.tracker = StepTracker()
        real_load = taskflow.engines.load
        self.useFixture(fx.MockPatchObject(
            taskflow.engines, 'load',
            new=lambda *args, **kwargs: self.tracker.follow(
                real_load(*args, **kwargs))))
        self.recorder = CallRecorder(self.sim.faults, self.tracker)
        self.useFixture(fx.MockPatchObject(self.sim.faults, 'match',
                                           new=self.recorder.match))
        self.network_info = [fixtures.sea_vif(1), fixtures.ovs_vif(2)]

    # ------------------------------------------------------ operations
    def new_instance(self):
        instance = self.make_instance(config_drive='True')
        # A boot disk the size of the image, not of a 1 GiB flavor: every
        # snapshot reads all of it.
        instance.flavor.root_gb = instance.root_gb = 0
        return instance

    def spawn_full(self, instance):
        """Spawn with a config drive, a SEA and an OVS VIF, powered on."""
        self.tracker.step = None
        self.spawn_with(self.network_info, instance=instance)

    def spawned(self):
        instance = self.new_instance()
        self.spawn_full(instance)
        return instance

    def destroy(self, instance):
        self.tracker.step = None
        self.driver.destroy(self.context, instance, self.network_info)

    def assert_running_and_whole(self, instance):
        """The instance runs with every VIF, its disk and config drive."""
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(instance).state)
        self.assertEqual(len(self.network_info),
                         len(self.client_cnas(instance)))
        self.assertEqual(1, len(self.mgmt_cnas(instance)))
        lpar_id = self.lpar_of(instance).partition_id
        self.assertEqual(1, len(self.vopt_mappings(lpar_id)))
        self.assertEqual([lpar_id], [
            mapping.server.remote_lpar_id
            for mapping in self.disk_mappings()])

    # -------------------------------------------------------- campaign
    def ends_as(self, expected, operation, *args):
        """Run ``operation``, which must raise ``expected`` (or succeed if
        that is None); returns whether it failed.  A different ending is
        noted in ``self.unexpected`` for the campaign to report."""
        try:
            operation(*args)
        except Exception as exc:
            if expected is None or not isinstance(exc, expected):
                self.unexpected.append('%s: raised %s, expected %s' % (
                    self.current, type(exc).__name__, _name(expected)))
            return True
        if expected is not None:
            self.unexpected.append('%s: succeeded, expected %s' % (
                self.current, _name(expected)))
        return False

    def record(self, operation, prepare, finish):
        """The calls ``operation(instance)`` makes, checked to be the same
        twice; ``prepare()`` gives the instance, ``finish(instance)``
        tidies up after each."""
        sequences = []
        for _attempt in range(2):
            instance = prepare()
            sequences.append(self.recorder.record(
                lambda instance=instance: operation(instance)))
            finish(instance)
        first, second = sequences
        self.assertEqual([call.shape() for call in first],
                         [call.shape() for call in second])
        self.assertNotEqual([], first)
        return first

    def campaign(self, calls, prepare, run_with_fault):
        """Fail each call with each fault that applies; returns a Tally.

        For each, ``prepare()`` sets the run up without faults, then
        ``run_with_fault(prepared, call, fault)`` runs the operation once
        with the fault armed, asserts how it ended and returns whether it
        failed.
        """
        tally = Tally(calls=len(calls))
        self.unexpected = []
        self.addDetail('calls', content.text_content('\n'.join(
            '%d %s' % (index, call) for index, call in enumerate(calls))))
        for index, call in enumerate(calls):
            for fault in ALL_FAULTS:
                if not fault.applies_to(call):
                    continue
                self.current = '%s at %d, %s' % (fault.name, index, call)
                prepared = prepare()
                rule_id = self.sim.faults.add(fault.rule(calls, index))
                try:
                    failed = run_with_fault(prepared, call, fault)
                except AssertionError as exc:
                    raise AssertionError('%s: %s' % (self.current,
                                                     exc)) from exc
                finally:
                    self.sim.faults.remove(rule_id)
                # The fault did hit the call (and all its retries).
                self.assertEqual(
                    fault.tries,
                    self.sim.faults.counters()['by_rule'][rule_id],
                    self.current)
                tally.add(failed)
        self.assertEqual([], self.unexpected)
        self.assertEqual(
            sum(1 for call in calls for fault in ALL_FAULTS
                if fault.applies_to(call)), tally.tried)
        self.assertEqual(tally.tried, tally.failed + tally.survived)
        return tally

    def report(self, operation, tally):
        line = tally.line(operation)
        print(line)
        self.addDetail('campaign', content.text_content(line))


class TestSpawnCampaign(FaultCampaignTestCase):

    def run_spawn(self, instance, call, fault):
        expected = None if survivable(call) else SPAWN_STEP_ERRORS[call.step]
        failed = self.ends_as(expected, self.spawn_full, instance)
        if failed:
            # The revert left nothing, and nova's destroy of the failed
            # instance finds nothing to do.
            self.assert_nothing_left(instance)
        else:
            self.assert_running_and_whole(instance)
        self.destroy(instance)
        self.assert_nothing_left(instance)
        return failed

    def test_every_call_of_spawn(self):
        # The image cache is made by the first deploy of an image; the
        # campaign is about the deploys after it.
        self.destroy(self.spawned())
        calls = self.record(self.spawn_full, self.new_instance, self.destroy)
        steps = {call.step for call in calls}
        self.assertEqual(set(), steps - set(SPAWN_STEP_ERRORS))
        self.assertIn('power_on', steps)
        self.report('spawn', self.campaign(calls, self.new_instance,
                                           self.run_spawn))


class TestDestroyCampaign(FaultCampaignTestCase):

    def run_destroy(self, instance, call, fault):
        try:
            self.destroy(instance)
        except exception.InstanceTerminationFailure:
            # What nova does next: destroy again, once NovaLink is back.
            self.destroy(instance)
            failed = True
        else:
            failed = False
        self.assertFalse(self.driver.instance_exists(instance))
        self.assert_nothing_left(instance)
        return failed

    def test_every_call_of_destroy(self):
        calls = self.record(self.destroy, self.spawned,
                            self.assert_nothing_left)
        self.report('destroy', self.campaign(calls, self.spawned,
                                             self.run_destroy))


class TestSnapshotCampaign(FaultCampaignTestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.spawned()

    def snapshot(self, _instance=None):
        self.tracker.step = SNAPSHOT_PREPARE
        self.glance.during_upload = functools.partial(
            setattr, self.tracker, 'step', SNAPSHOT_CLEANUP)
        image_id = self.glance.add_snapshot_target()
        self.driver.snapshot(self.context, self.instance, image_id,
                             lambda **kwargs: None)
        self.assertEqual(self.image_data, self.glance.uploads[
            image_id].read(0, len(self.image_data)))

    def assert_no_snapshot_left(self, _instance=None):
        """The instance runs on as it was; nothing is mapped to NovaLink
        and no copy of the disk is left."""
        self.assert_running_and_whole(self.instance)
        self.assertEqual([], [vdisk.name for vdisk in self.boot_vdisks()
                              if vdisk.name.startswith('s_')])
        self.assertEqual([], [
            adapter for lpar in self.sim.model.lpars(self.system)
            if lpar.is_mgmt for adapter in lpar.adapters
            if adapter.kind == 'VirtualSCSIClientAdapter'])

    def run_snapshot(self, _prepared, call, fault):
        expected = (None if call.step == SNAPSHOT_CLEANUP
                    else SNAPSHOT_ERRORS[fault.name])
        failed = self.ends_as(expected, self.snapshot)
        self.assert_no_snapshot_left()
        return failed

    def test_every_call_of_snapshot(self):
        calls = self.record(self.snapshot, lambda: self.instance,
                            self.assert_no_snapshot_left)
        self.report('snapshot', self.campaign(calls, lambda: None,
                                              self.run_snapshot))


# What reaches nova from a volume connector whose VIOS read failed.
CONNECTOR_ERRORS = {
    HTTP_500.name: pvm_exc.HttpError,
    VIOS_BUSY.name: pvm_exc.HttpError,
    DROP_BEFORE.name: pvm_exc.ConnectionError,
    DROP_AFTER.name: pvm_exc.ConnectionError,
}


class TestVolumeConnectorCampaign(FaultCampaignTestCase):
    """The connector reads the active VIOSes, then asks the first for its
    iSCSI initiator name with a job: a failed discovery leaves a connector
    for Fibre Channel, and the next connector tries again."""

    def connector(self, _instance=None):
        # Every run discovers the initiator anew.
        pvm_connector._INITIATORS.clear()
        return self.driver.get_volume_connector(None)

    def assert_complete(self, connector):
        self.assertEqual(4, len(connector['wwpns']))
        self.assertTrue(connector['initiator'].startswith('iqn.'))

    def run_connector(self, _prepared, call, fault):
        reads_vioses = call.method == 'GET' and call.path.endswith(
            '/VirtualIOServer')
        result = []
        expected = CONNECTOR_ERRORS[fault.name] if reads_vioses else None
        failed = self.ends_as(expected, lambda: result.append(
            self.connector()))
        if result and not survivable(call):
            self.assertNotIn('initiator', result[0])
            self.assertEqual(4, len(result[0]['wwpns']))
            failed = True
        elif result:
            self.assert_complete(result[0])
        # Asked again, with NovaLink well, the connector is whole.
        self.assert_complete(self.driver.get_volume_connector(None))
        return failed

    def test_every_call_of_the_volume_connector(self):
        calls = self.record(self.connector, lambda: None,
                            lambda _instance: None)
        self.assertIn('ISCSIDiscovery', {call.job for call in calls})
        self.report('volume connector', self.campaign(
            calls, lambda: None, self.run_connector))
