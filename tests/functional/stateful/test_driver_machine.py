"""A Hypothesis state machine over the driver and the simulator.

Hypothesis draws sequences of spawns, power operations, reboots, volume
attaches and detaches and destroys, with one NovaLink fault armed before
some of them.  After every step the simulator must hold exactly the client
partitions the machine expects, in the expected states, with exactly the
expected Fibre Channel volumes mapped to them from both VIOSes (and no
hdisk of any other), with no storage, media or adapters of gone instances
and with exactly their memory and processors in use.

An operation that raised leaves its instance as it was (a spawn leaves
no LPAR, an attach no volume): the flows revert what they did.  Destroy
and reboot run steps nothing reverts (stopping before deleting, stopping
before starting), so their failures may also leave the LPAR stopped.  A
detach or destroy that failed is tried again without the fault, as nova
tries again, and must then succeed.
"""

import dataclasses
import io
import re

import fixtures as fx
import hypothesis
from hypothesis import reporting
from hypothesis import stateful
from hypothesis import strategies as st
from nova import exception
from pypowervm.utils import uuid as pvm_uuid
from testtools import content

from nova_powervm.disk import driver as disk_driver
from nova_powervm import event
from nova_powervm.tasks import vm as tf_vm
from powervm_sim import faults
from powervm_sim import fixture as sim_fixture
from tests.functional.driver import fixtures
from tests.functional.stateful import profiles

RUNNING = 'running'
OFF = 'not activated'
# [powervm] proc_units_factor's default: processor units per vCPU.
PROC_UNITS_PER_VCPU = 0.1
# Examples the machine may take to find a spawn whose create is not
# undone (derandomized: the same ones each run).
BROKEN_REVERT_EXAMPLES = 60

_METHODS = ('GET', 'PUT', 'POST', 'DELETE')
_RESOURCE_TYPES = ('LogicalPartition', 'VirtualIOServer',
                   'ClientNetworkAdapter', 'VolumeGroup',
                   'VirtualMediaRepository', 'ManagedSystem')
_JOBS = ('PowerOn', 'PowerOff', 'LUARecovery', 'RemoveDevice')
_OUTCOMES = (
    faults.internal_error(),
    faults.vios_busy(),
    faults.JobFailure('HSCL0001 The operation failed on the managed '
                      'system.'),
    faults.DropConnection(),
)


def _request_criteria():
    """Which request a fault hits: a method on a resource type, or the
    submission of a job."""
    by_resource = st.builds(
        lambda method, kind: {'method': method, 'resource_type': kind},
        st.sampled_from(_METHODS), st.sampled_from(_RESOURCE_TYPES))
    by_job = st.builds(lambda job: {'job': job}, st.sampled_from(_JOBS))
    return st.one_of(by_job, by_resource)


def fault_rules():
    """One fault rule that fires once."""
    return st.builds(
        lambda criteria, outcome: faults.FaultRule(
            outcome=outcome, max_count=1, **criteria),
        _request_criteria(), st.sampled_from(_OUTCOMES))


@dataclasses.dataclass
class Expected:
    """What the machine expects of one instance's LPAR."""

    instance: object
    state: str
    memory_mb: int
    proc_units: float
    # {volume serial: (LUN, connection_info)} attached to it.
    volumes: dict = dataclasses.field(default_factory=dict)

    @property
    def lpar_uuid(self):
        return pvm_uuid.convert_uuid_to_pvm(self.instance.uuid).lower()


def reset_host(case):
    """Bring the case's simulator back to a host without instances.

    Examples share one simulator and driver: a new pair per example costs
    more than most examples, and shrinking runs hundreds of them.  So
    whatever the last example left goes, straight from the model (REST
    would cost as much again): faults, client partitions, the VIOS side
    of their mappings, instance disks, config drive media and the hdisks
    of the examples' volumes.  The image
    cache stays, as it does on a real host.  The example's own clean-start
    check proves nothing else is left.
    """
    case.sim.faults.clear()
    model = case.sim.model
    with model.registry.lock:
        gone_ids = set()
        for lpar in case.client_lpars():
            gone_ids.add(lpar.partition_id)
            model.set_partition_state(lpar, OFF)
            model.delete_partition(lpar)
        # The examples' volumes are LUNs of the fixture's own target.
        volume_target = model.san.fc_target(sim_fixture.FIXTURE_FC_TARGET)
        volume_udids = {lun.udid for lun in (
            volume_target.luns if volume_target is not None else ())}
        for vios in model.vioses(case.system):
            _drop_mappings_of(model, vios, gone_ids)
            for vg in vios.volume_groups:
                _drop_instance_storage(model, vg)
            hdisks = [pv for pv in vios.physical_volumes
                      if pv.udid in volume_udids]
            if hdisks:
                vios.physical_volumes[:] = [
                    pv for pv in vios.physical_volumes if pv not in hdisks]
                model.registry.changed(vios)
        for lu in case.logical_units('VirtualIO_Disk'):
            model.delete_logical_unit(lu)
    case.sim_system_changed()


def _drop_mappings_of(model, vios, lpar_ids):
    """Remove the vSCSI buses (server adapters and their mappings) of
    ``vios`` that serve the partitions ``lpar_ids``."""
    servers = [adapter for adapter in vios.adapters
               if adapter.kind == 'VirtualSCSIServerAdapter'
               and adapter.remote_lpar_id in lpar_ids]
    if not servers:
        return
    vios.scsi_mappings[:] = [mapping for mapping in vios.scsi_mappings
                             if mapping.server not in servers]
    vios.adapters[:] = [adapter for adapter in vios.adapters
                        if adapter not in servers]
    model.registry.changed(vios)


def _drop_instance_storage(model, vg):
    """Remove boot disks, snapshot copies and config drive media."""
    dropped = False
    for vdisk in [vdisk for vdisk in vg.vdisks
                  if vdisk.name.startswith(('b_', 's_'))]:
        vg.vdisks.remove(vdisk)
        model.content.delete(vdisk.udid)
        dropped = True
    for repo in vg.media_repositories:
        for medium in [medium for medium in repo.media
                       if medium.name.startswith('cfg_')]:
            repo.media.remove(medium)
            model.content.delete(medium.content_key)
            dropped = True
    if dropped:
        model.registry.changed(vg)
        model.registry.changed(vg.parent)


class DriverMachine(stateful.RuleBasedStateMachine):
    """The driver's operations and their invariants.

    ``case`` (a DriverTestCase) provides the simulator, the driver, nova's
    database, Glance and the simulator probes; each example starts from
    ``reset_host``.
    """

    case = None
    # The steps of the example running now, as the machine logs them.
    steps = []

    def __init__(self):
        super().__init__()
        reset_host(self.case)
        self.expected = {}
        # LUNs that must have nothing left on the VIOSes.
        self.gone_luns = []
        self.armed = None
        # Whether an operation ran since the driver's report was checked.
        self._operated = False
        type(self).steps = []
        self._baseline = self._usage()
        self._assert_clean_start()

    # --------------------------------------------------------- probes
    def _usage(self):
        """(memory MB, processor units) the system's partitions use."""
        return (self.case.system.memory_assigned,
                self.case.system.proc_units_assigned)

    def _assert_clean_start(self):
        case = self.case
        assert case.client_lpars() == [], case.client_lpars()
        assert case.boot_vdisks() == [], case.boot_vdisks()
        assert case.disk_mappings() == [], case.disk_mappings()
        assert case.config_media() == [], case.config_media()

    def _record(self, text):
        self.steps.append(text)

    def _run(self, operation, description):
        """Run an operation with the armed fault; whether it succeeded.

        Only nova's exceptions are failures nova-compute handles; any
        other exception fails the example.
        """
        self._record(description)
        self._operated = True
        # Armed only now: the invariants' own requests must not meet it.
        if self.armed is not None:
            self.case.sim.faults.add(self.armed)
        try:
            operation()
        except exception.NovaException as exc:
            self._record('  raised %s' % type(exc).__name__)
            return False
        finally:
            self.case.sim.faults.clear()
            self.armed = None
        return True

    def _draw_instance(self, data):
        # In the order they were made: their random UUIDs would order them
        # differently when Hypothesis replays an example.
        uuid = data.draw(st.sampled_from(list(self.expected)),
                         label='instance')
        return self.expected[uuid]

    def _actual_state(self, expected):
        lpar = self.case.sim.model.registry.find(expected.lpar_uuid)
        return None if lpar is None else lpar.state

    def _adopt_after_failure(self, expected, allowed):
        """After an operation that cannot revert itself failed, its LPAR
        is in one of ``allowed`` states; the model follows it."""
        actual = self._actual_state(expected)
        assert actual in allowed, (
            'LPAR of %s is %r after a failed operation; expected one of %r'
            % (expected.instance.uuid, actual, sorted(allowed)))
        expected.state = actual

    # ---------------------------------------------------------- rules
    @stateful.precondition(lambda self: self.armed is None)
    @stateful.rule(rule=fault_rules())
    def arm_fault(self, rule):
        self.armed = rule
        self._record('arm %r' % (rule,))

    @stateful.rule(memory_mb=st.sampled_from([512, 1024, 2048]),
                   vcpus=st.integers(min_value=1, max_value=2),
                   power_on=st.booleans())
    def spawn(self, memory_mb, vcpus, power_on):
        case = self.case
        instance = case.make_instance(memory_mb=memory_mb, vcpus=vcpus)
        spawned = self._run(
            lambda: case.spawn(instance, power_on=power_on),
            'spawn %s memory_mb=%d vcpus=%d power_on=%s'
            % (instance.uuid, memory_mb, vcpus, power_on))
        if spawned:
            self.expected[instance.uuid] = Expected(
                instance, RUNNING if power_on else OFF, memory_mb,
                round(vcpus * PROC_UNITS_PER_VCPU, 2))

    @stateful.precondition(lambda self: self.expected)
    @stateful.rule(data=st.data())
    def destroy(self, data):
        target = self._draw_instance(data)
        case = self.case

        def destroy():
            case.driver.destroy(
                case.context, target.instance, None,
                block_device_info=fixtures.block_device_info(*(
                    fixtures.DriverBDM(info)
                    for _lun, info in target.volumes.values())))

        if not self._run(destroy, 'destroy %s' % target.instance.uuid):
            # What nova does when the LPAR is left: destroy again.
            destroy()
        del self.expected[target.instance.uuid]
        self.gone_luns.extend(lun for lun, _info in target.volumes.values())

    @stateful.precondition(lambda self: self.expected)
    @stateful.rule(data=st.data())
    def attach_volume(self, data):
        target = self._draw_instance(data)
        case = self.case
        lun, info = case.fc_volume()
        if self._run(lambda: case.attach(target.instance, info),
                     'attach_volume %s %s' % (target.instance.uuid,
                                              info['serial'])):
            target.volumes[info['serial']] = (lun, info)
        else:
            self.gone_luns.append(lun)

    @stateful.precondition(
        lambda self: any(e.volumes for e in self.expected.values()))
    @stateful.rule(data=st.data())
    def detach_volume(self, data):
        uuid = data.draw(st.sampled_from([
            uuid for uuid, e in self.expected.items() if e.volumes]),
            label='instance')
        target = self.expected[uuid]
        serial = data.draw(st.sampled_from(list(target.volumes)),
                           label='volume')
        lun, info = target.volumes.pop(serial)
        case = self.case
        if not self._run(lambda: case.detach(target.instance, info),
                         'detach_volume %s %s' % (uuid, serial)):
            # What nova does: detach again, once NovaLink is back.
            case.detach(target.instance, info)
        self.gone_luns.append(lun)

    @stateful.precondition(lambda self: self.expected)
    @stateful.rule(data=st.data())
    def power_off(self, data):
        target = self._draw_instance(data)
        if self._run(lambda: self.case.driver.power_off(target.instance),
                     'power_off %s' % target.instance.uuid):
            target.state = OFF

    @stateful.precondition(lambda self: self.expected)
    @stateful.rule(data=st.data())
    def power_on(self, data):
        target = self._draw_instance(data)
        case = self.case
        if self._run(lambda: case.driver.power_on(case.context,
                                                  target.instance, None),
                     'power_on %s' % target.instance.uuid):
            target.state = RUNNING

    @stateful.precondition(lambda self: self.expected)
    @stateful.rule(data=st.data(),
                   reboot_type=st.sampled_from(['SOFT', 'HARD']))
    def reboot(self, data, reboot_type):
        target = self._draw_instance(data)
        case = self.case
        rebooted = self._run(
            lambda: case.driver.reboot(case.context, target.instance, None,
                                       reboot_type),
            'reboot %s %s' % (target.instance.uuid, reboot_type))
        if rebooted:
            target.state = RUNNING
        else:
            # A reboot stops the LPAR, then starts it.
            self._adopt_after_failure(target, {target.state, OFF})

    # ----------------------------------------------------- invariants
    @stateful.invariant()
    def partitions_are_the_expected_ones(self):
        actual = {lpar.uuid.lower(): lpar.state
                  for lpar in self.case.client_lpars()}
        wanted = {expected.lpar_uuid: expected.state
                  for expected in self.expected.values()}
        assert actual == wanted, 'LPARs %r, expected %r' % (actual, wanted)

    @stateful.invariant()
    def no_orphaned_storage(self):
        case = self.case
        disk_names = {disk_driver.boot_disk_name(expected.instance, 128)
                      for expected in self.expected.values()}
        boot_disks = {vdisk.name for vdisk in case.boot_vdisks()}
        # NovaLink may shorten names; each disk starts the full name.
        orphans = {name for name in boot_disks
                   if not any(full.startswith(name) for full in disk_names)}
        assert not orphans, 'orphaned boot disks %r' % sorted(orphans)
        assert len(boot_disks) <= len(self.expected), boot_disks
        assert case.logical_units('VirtualIO_Disk') == []
        lpar_ids = {lpar.partition_id for lpar in case.client_lpars()}
        stray = [(mapping.server.remote_lpar_id,
                  getattr(mapping.storage, 'name', None))
                 for vios in case.sim.model.vioses(case.system)
                 for mapping in vios.scsi_mappings
                 if mapping.server.remote_lpar_id not in lpar_ids
                 and _is_client_mapping(case, mapping)]
        assert not stray, 'vSCSI mappings of gone LPARs %r' % stray
        media = [medium.name for _vios, medium in case.config_media()]
        assert media == [], 'config drive media %r' % media

    @stateful.invariant()
    def volumes_are_the_expected_ones(self):
        case = self.case
        vioses = sorted(vios.name
                        for vios in case.sim.model.vioses(case.system))
        for expected in self.expected.values():
            lpar_id = case.lpar_of(expected.instance).partition_id
            for lun, _info in expected.volumes.values():
                mapped = case.mapped_to(lun)
                assert mapped == dict.fromkeys(vioses, lpar_id), (
                    'LUN %s mapped %r' % (lun.naa, mapped))
        for lun in self.gone_luns:
            left = (case.mapped_to(lun), case.hdisks_of(lun))
            assert left == ({}, {}), 'LUN %s left %r' % (lun.naa, left)

    @stateful.invariant()
    def no_adapters_of_gone_instances(self):
        case = self.case
        assert case.ovs_trunks() == [], case.ovs_trunks()
        assert case.ovs_ports() == {}, case.ovs_ports()

    @stateful.invariant()
    def capacity_in_use_is_the_expected_instances(self):
        memory, units = self._baseline
        memory += sum(e.memory_mb for e in self.expected.values())
        units += sum(e.proc_units for e in self.expected.values())
        used_memory, used_units = self._usage()
        assert used_memory == memory, (
            'memory in use %d MB, expected %d MB' % (used_memory, memory))
        assert abs(used_units - units) < 1e-6, (
            'processor units in use %s, expected %s' % (used_units, units))
        if not self._operated:
            # Arming a fault changes nothing the driver reports.
            return
        self._operated = False
        case = self.case
        case.sim_system_changed()
        reported = case.driver.get_available_resource(fixtures.HOST)
        free = case.system.memory_available
        assert reported['memory_mb_used'] == (
            reported['memory_mb'] - free), (reported, free)


# The machine's rules (the falsifying example lists its invariants too).
_RULES = ('arm_fault', 'spawn', 'destroy', 'power_off', 'power_on',
          'reboot', 'attach_volume', 'detach_volume')


def _is_client_mapping(case, mapping):
    """Whether a vSCSI mapping serves a partition other than NovaLink's
    and the VIOSes' (those exist before any example)."""
    remote = mapping.server.remote_lpar_id
    return not any(part.partition_id == remote and (part.is_mgmt or
                                                    part.is_vios)
                   for part in case.sim.model.lpars(case.system))


def bind_machine(case):
    """DriverMachine working on ``case``, with its own step log."""
    return type('BoundDriverMachine', (DriverMachine,),
                {'case': case, 'steps': []})


def run_machine(case, machine, settings):
    """Run ``machine`` under ``settings``; what Hypothesis reports goes
    into the test's details (the falsifying example itself comes as the
    error's notes)."""
    report = io.StringIO()
    try:
        with reporting.with_reporter(
                lambda text: report.write('%s\n' % (text,))):
            stateful.run_state_machine_as_test(machine, settings=settings)
    finally:
        case.addDetail('hypothesis-report',
                       content.text_content(report.getvalue()))


def reported_rules(notes):
    """The rules of the falsifying example Hypothesis noted on its error,
    in order ('arm_fault', 'spawn', ...)."""
    return [match['rule'] for match in map(
        re.compile(r'^state\.(?P<rule>\w+)\(').match, notes)
        if match and match['rule'] in _RULES]


class TestDriverMachine(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        # pypowervm waits 5 s, then 10 s before retrying a busy VIOS.
        self.useFixture(fx.MockPatch('pypowervm.helpers.vios_busy.SLEEP'))
        # The event handler reads partitions from its own thread whenever
        # their events arrive: a fault armed for a step would sometimes
        # meet its requests instead, and an example that failed once
        # would pass when Hypothesis runs it again to shrink it.
        event.stop(self.driver.adapter, self.driver._event_handler,
                   wait=5)
        self.driver._event_handler = None
        # Every example finds the image cache, which reset_host keeps:
        # the first one must not be the only one that uploads the image.
        instance = self.make_instance()
        self.spawn(instance, power_on=False)
        self.driver.destroy(self.context, instance, None)

    def test_driver_keeps_the_simulator_consistent(self):
        run_machine(self, bind_machine(self), profiles.selected())

    def test_a_create_that_is_not_reverted_is_caught(self):
        # Without CreateLPAR's undo, a deploy failing after the create
        # leaves its LPAR behind: the machine must find that and shrink
        # it to the fault and the spawn it breaks.
        self.useFixture(fx.MockPatchObject(
            tf_vm.CreateLPAR, 'revert', new=lambda *args, **kwargs: None))
        machine = bind_machine(self)
        # Three steps suffice; no explanation of which lines failing
        # examples ran (it runs them all again).
        settings = hypothesis.settings(
            profiles.selected(), max_examples=BROKEN_REVERT_EXAMPLES,
            stateful_step_count=3, report_multiple_bugs=False,
            phases=set(hypothesis.Phase) - {hypothesis.Phase.explain})
        error = self.assertRaises(AssertionError, run_machine, self,
                                  machine, settings)
        # Hypothesis reports the shrunk example and runs it last (so the
        # machine's log holds what each of its steps did).
        self.addDetail('falsifying-example', content.text_content(
            '\n'.join(getattr(error, '__notes__', []))))
        self.addDetail('minimal-steps',
                       content.text_content('\n'.join(machine.steps)))
        # The LPAR left behind, or the memory it holds, is what fails.
        self.assertRegex(str(error), 'LPARs|memory in use')
        rules = reported_rules(error.__notes__)
        # At most a spawn before it, a fault, and the spawn it breaks.
        self.assertLessEqual(len(rules), 3, rules)
        self.assertIn('arm_fault', rules)
        self.assertEqual('spawn', rules[-1])
        operations = [step for step in machine.steps
                      if not step.startswith(' ')]
        self.assertEqual(len(rules), len(operations), operations)
