"""A Hypothesis state machine over nova's API with a PowerVM compute.

Hypothesis draws sequences of boots, deletes, stops, starts, soft and hard
reboots and snapshots, made through nova's REST API, with one NovaLink
fault armed before some of them.  Once a step has settled, nova and the
simulated NovaLink must agree:

- every ACTIVE server has a running LPAR, every SHUTOFF one a stopped LPAR;
- an ERROR server's LPAR is gone or still there to delete (every example
  ends by deleting all its servers, ERROR ones too, with no fault armed);
- no LPAR, boot disk, snapshot copy or vSCSI mapping outlives its server;
- placement's VCPU and MEMORY_MB usage is what the LPARs have, within the
  inventory the compute reported.

Without a fault each operation must succeed; with one it may fail, in the
ways nova lets it (a boot ends in ERROR, a stop leaves the server ACTIVE,
a snapshot's image is deleted...).

nova's services start once per test; each example starts from a host
without servers and boots its first one.
"""

import contextlib
import io
import time
import types

import fixtures as fx
from hypothesis import reporting
from hypothesis import stateful
from hypothesis import strategies as st
from nova.compute import power_state
from nova import exception
from nova.tests.functional.api import client as api_client
from testtools import content

from nova_powervm.disk import driver as disk_driver
from nova_powervm.disk import localdisk
from powervm_sim import faults
from tests.functional.nova import base
from tests.functional.stateful import profiles

HOST = 'host1'
# Servers an example may have at once: few, so that steps go to other
# operations than boots.
MAX_SERVERS = 2
FLAVORS = {
    'small': {'memory_mb': 512, 'vcpu': 1},
    'large': {'memory_mb': 2048, 'vcpu': 2},
}
# How long nova and NovaLink may take to agree after a step (polls of
# base.POLL_INTERVAL): the lifecycle events of the step arrive late.
SETTLE_POLLS = 300


def _fault(outcome, **criteria):
    return faults.FaultRule(outcome=outcome, max_count=1, **criteria)


# Faults an operation may meet: each fails the first matching request.
FAULTS = {
    'power-on-fails': _fault(
        faults.JobFailure('HSCL0001 The partition failed to activate.'),
        job='PowerOn'),
    'power-off-fails': _fault(
        faults.JobFailure('HSCL0002 The partition failed to shut down.'),
        job='PowerOff'),
    'vios-refuses-mapping': _fault(
        faults.internal_error('Mapping failed.'),
        method='POST', resource_type='VirtualIOServer'),
    'vios-busy': _fault(faults.vios_busy(), method='POST',
                        resource_type='VirtualIOServer'),
    'lpar-delete-refused': _fault(
        faults.internal_error('The partition could not be deleted.'),
        method='DELETE', resource_type='LogicalPartition'),
}
# Faults pypowervm retries: the operation must still succeed.
HARMLESS_FAULTS = frozenset(['vios-busy'])


def _status(server):
    return server['status']


def _task_state(server):
    return server['OS-EXT-STS:task_state']


class NovaMachine(stateful.RuleBasedStateMachine):
    """nova's server operations and what they must leave on NovaLink.

    ``case`` (a TestNovaMachine) runs nova's services and the simulator.
    """

    case = None
    # The steps of the example running now, as the report shows them.
    steps = []
    settle_polls = SETTLE_POLLS

    def __init__(self):
        super().__init__()
        type(self).steps = []
        self.case.remove_all_servers()
        # Server ID -> the API's last view of the server.
        self.servers = {}
        self.armed = None

    def teardown(self):
        # What an ERROR server left must still be deletable.
        self.case.sim.faults.clear()
        self.case.remove_all_servers()

    # ---------------------------------------------------------- helpers
    def _record(self, text):
        self.steps.append(text)

    @contextlib.contextmanager
    def _operation(self, description):
        """Run an operation with the armed fault; yields whether the
        operation may fail.  The fault goes when the operation has ended.
        """
        fault = self.armed
        self.armed = None
        self._record(description)
        if fault is not None:
            self.case.sim.faults.add(FAULTS[fault])
        try:
            yield fault is not None and fault not in HARMLESS_FAULTS
        finally:
            self.case.sim.faults.clear()

    def _servers_in(self, *statuses):
        return sorted(server_id for server_id, server in self.servers.items()
                      if _status(server) in statuses)

    def _draw_server(self, data, *statuses):
        return data.draw(st.sampled_from(self._servers_in(*statuses)),
                         label='server')

    def _after(self, server, faulted, succeeded, allowed_on_fault):
        """Check an operation's outcome and remember the server's view."""
        self._record('  -> %s' % _status(server))
        allowed = {succeeded} | (allowed_on_fault if faulted else set())
        assert _status(server) in allowed, (
            'server %s is %s after the operation; expected one of %s '
            '(a fault armed: %s); its fault: %s' % (
                server['id'], _status(server), sorted(allowed), faulted,
                server.get('fault')))
        self.servers[server['id']] = server

    def _action(self, server_id, body):
        """Ask for a server action; the server once nova is done."""
        answer = self.case.api.post_server_action(server_id, body)
        server = self.case.wait_for_server(
            server_id, lambda server: _task_state(server) is None)
        return server, answer

    # ------------------------------------------------------------ rules
    @stateful.precondition(lambda self: self.armed is None)
    @stateful.rule(fault=st.sampled_from(sorted(FAULTS)))
    def arm_fault(self, fault):
        self.armed = fault
        self._record('arm %s' % fault)

    @stateful.initialize(flavor=st.sampled_from(sorted(FLAVORS)))
    def first_server(self, flavor):
        self.boot(flavor)

    @stateful.precondition(lambda self: len(self.servers) < MAX_SERVERS)
    @stateful.rule(flavor=st.sampled_from(sorted(FLAVORS)))
    def boot(self, flavor):
        case = self.case
        with self._operation('boot %s' % flavor) as faulted:
            server = case.request_server(case.flavors[flavor])
            server = case.wait_for_server(
                server['id'],
                lambda server: _status(server) != 'BUILD' and (
                    _status(server) != 'ERROR' or 'fault' in server))
        self._after(server, faulted, 'ACTIVE', {'ERROR'})
        if _status(server) == 'ERROR':
            # A failed deploy takes its LPAR with it.
            assert case.lpar_of(server) is None, server['id']

    @stateful.precondition(lambda self: self.servers)
    @stateful.rule(data=st.data())
    def delete(self, data):
        server_id = self._draw_server(data, 'ACTIVE', 'SHUTOFF', 'ERROR')
        case = self.case
        with self._operation('delete %s' % server_id) as faulted:
            case.api.delete_server(server_id)
            server = case.wait_for_server(
                server_id, lambda server: server is None or (
                    _status(server) == 'ERROR' and
                    _task_state(server) is None))
        if server is None:
            self._record('  -> deleted')
            del self.servers[server_id]
            return
        self._after(server, faulted, None, {'ERROR'})

    @stateful.precondition(lambda self: self._servers_in('ACTIVE'))
    @stateful.rule(data=st.data())
    def stop(self, data):
        server_id = self._draw_server(data, 'ACTIVE')
        with self._operation('stop %s' % server_id) as faulted:
            server, _answer = self._action(server_id, {'os-stop': None})
        self._after(server, faulted, 'SHUTOFF', {'ACTIVE'})

    @stateful.precondition(lambda self: self._servers_in('SHUTOFF'))
    @stateful.rule(data=st.data())
    def start(self, data):
        server_id = self._draw_server(data, 'SHUTOFF')
        with self._operation('start %s' % server_id) as faulted:
            server, _answer = self._action(server_id, {'os-start': None})
        self._after(server, faulted, 'ACTIVE', {'SHUTOFF'})

    @stateful.precondition(lambda self: self._servers_in('ACTIVE'))
    @stateful.rule(data=st.data(), reboot_type=st.sampled_from(['SOFT',
                                                                 'HARD']))
    def reboot(self, data, reboot_type):
        server_id = self._draw_server(data, 'ACTIVE')
        with self._operation('reboot %s %s' % (server_id,
                                               reboot_type)) as faulted:
            server, _answer = self._action(
                server_id, {'reboot': {'type': reboot_type}})
        # A reboot that failed half-way leaves the server in ERROR, or
        # stopped once nova learns that its LPAR is off.
        self._after(server, faulted, 'ACTIVE', {'ERROR', 'SHUTOFF'})

    @stateful.precondition(lambda self: self._servers_in('ACTIVE'))
    @stateful.rule(data=st.data())
    def snapshot(self, data):
        server_id = self._draw_server(data, 'ACTIVE')
        case = self.case
        with self._operation('snapshot %s' % server_id) as faulted:
            server, answer = self._action(
                server_id, {'createImage': {'name': 'machine-snapshot'}})
        self._after(server, faulted, 'ACTIVE', set())
        image_id = answer['image_id']
        upload = case.snapshot_uploads.get(image_id)
        if upload is None:
            assert faulted, 'snapshot %s uploaded nothing' % image_id
            assert case.image_is_gone(image_id), (
                'the image %s of a failed snapshot is still there'
                % image_id)
            self._record('  -> failed; image deleted')
            return
        assert upload.read(0, len(base.IMAGE_DATA)) == base.IMAGE_DATA, (
            'snapshot %s does not start with the image' % image_id)
        if not faulted:
            assert case.glance.show(None, image_id)['status'] == 'active'

    # ------------------------------------------------------- invariants
    @stateful.invariant()
    def nova_and_novalink_agree(self):
        problems = []
        for _attempt in range(self.settle_polls):
            problems = self._disagreements()
            if not problems:
                return
            self.case.pause()
        raise AssertionError('nova and NovaLink disagree:\n' +
                             '\n'.join(problems))

    def _disagreements(self):
        case = self.case
        servers = {server['id']: server for server in case.api.get_servers()}
        problems = []
        if set(servers) != set(self.servers):
            problems.append('nova has servers %s; expected %s' % (
                sorted(servers), sorted(self.servers)))
        for server in servers.values():
            problems.extend(self._server_problems(server))
        problems.extend(self._leftovers(servers))
        problems.extend(self._usage_problems())
        if not problems:
            self.servers = servers
        return problems

    def _server_problems(self, server):
        if _status(server) == 'BUILD' or _task_state(server) is not None:
            return ['server %s is still %s/%s' % (
                server['id'], _status(server), _task_state(server))]
        lpar = self.case.lpar_of(server)
        wanted = {'ACTIVE': (base.LPAR_RUNNING, power_state.RUNNING),
                  'SHUTOFF': (base.LPAR_OFF, power_state.SHUTDOWN)}
        if _status(server) not in wanted:
            # ERROR: the LPAR may be there or not; deleting it is checked
            # by the delete rule and at the end of the example.
            return []
        lpar_state, nova_power_state = wanted[_status(server)]
        actual = None if lpar is None else lpar.state
        if (actual, server['OS-EXT-STS:power_state']) != (lpar_state,
                                                          nova_power_state):
            return ['server %s is %s (power state %s) but its LPAR is %s' % (
                server['id'], _status(server),
                server['OS-EXT-STS:power_state'], actual)]
        return []

    def _leftovers(self, servers):
        """What NovaLink still has of servers that are gone."""
        case = self.case
        system = case.system
        lpar_uuids = {case.lpar_uuid(server) for server in servers.values()}
        problems = []
        orphans = sorted(lpar.uuid.lower()
                         for lpar in case.client_lpars(system)
                         if lpar.uuid.lower() not in lpar_uuids)
        if orphans:
            problems.append('LPARs of no server: %s' % orphans)
        # A server that works has its boot disk.  One in ERROR may have
        # lost it already: a delete removes the disk before the LPAR.  No
        # disk outlives its LPAR, and no snapshot copy its snapshot.
        disks = {vdisk.name for vdisk in case.boot_vdisks(system)}
        needed = {_boot_disk_name(server_id)
                  for server_id, server in servers.items()
                  if _status(server) in ('ACTIVE', 'SHUTOFF')}
        allowed = {_boot_disk_name(server_id)
                   for server_id, server in servers.items()
                   if case.lpar_of(server) is not None}
        if not needed <= disks <= allowed:
            problems.append('boot disks %s; expected all of %s and no '
                            'other than %s' % (sorted(disks), sorted(needed),
                                               sorted(allowed)))
        partition_ids = {lpar.partition_id
                         for lpar in case.client_lpars(system)}
        stray = sorted((mapping.server.remote_lpar_id, mapping.storage.name)
                       for mapping in case.disk_mappings(system)
                       if mapping.server.remote_lpar_id not in partition_ids)
        if stray:
            problems.append('disk mappings to no client LPAR: %s' % stray)
        return problems

    def _usage_problems(self):
        case = self.case
        lpars = case.client_lpars(case.system)
        wanted = {'VCPU': sum(lpar.vprocs_desired for lpar in lpars),
                  'MEMORY_MB': sum(lpar.mem_desired for lpar in lpars)}
        usages = case.usages()
        actual = {rc: usages.get(rc, 0) for rc in wanted}
        problems = []
        if actual != wanted:
            problems.append('placement usage %s; the LPARs have %s' % (
                actual, wanted))
        for rc, inventory in case.inventory().items():
            capacity = int((inventory['total'] - inventory['reserved']) *
                           inventory['allocation_ratio'])
            if usages.get(rc, 0) > capacity:
                problems.append('%s usage %s exceeds the capacity %s' % (
                    rc, usages[rc], capacity))
        return problems


def _boot_disk_name(server_id):
    return disk_driver.boot_disk_name(types.SimpleNamespace(uuid=server_id),
                                      localdisk.MAX_NAME_LEN)


class TestNovaMachine(base.PowerVMTestCase):
    """nova's services and one PowerVM compute, for every example."""

    def setUp(self):
        super().setUp()
        # pypowervm waits 5 s, then 10 s before retrying a busy VIOS.
        self.useFixture(fx.MockPatch('pypowervm.helpers.vios_busy.SLEEP'))
        self.start_powervm_compute(HOST)
        self.system = self.system_of(HOST)
        self.flavors = {name: self.create_flavor(disk=1, **spec)
                        for name, spec in FLAVORS.items()}
        self.provider_uuid = self._get_provider_uuid_by_host(HOST)

    # ------------------------------------------------------------ probes
    def pause(self):
        time.sleep(base.POLL_INTERVAL)

    def usages(self):
        return self._get_provider_usages(self.provider_uuid)

    def inventory(self):
        return self._get_provider_inventory(self.provider_uuid)

    def image_is_gone(self, image_id):
        try:
            self.glance.show(None, image_id)
        except exception.ImageNotFound:
            return True
        return False

    def wait_for_server(self, server_id, done):
        """The server once ``done(server)`` holds; None stands for a
        server nova no longer has."""
        def view():
            try:
                server = self.api.get_server(server_id)
            except api_client.OpenStackApiNotFoundException:
                server = None
            return (server,) if done(server) else None

        return self.wait_for(view, 'server %s' % server_id)[0]

    def remove_all_servers(self):
        """Delete every server; nothing of them may stay on NovaLink."""
        for server in self.api.get_servers():
            self.api.delete_server(server['id'])
        for server in self.api.get_servers():
            gone = self.wait_for_server(
                server['id'], lambda server: server is None or
                _status(server) == 'ERROR' and _task_state(server) is None)
            assert gone is None, 'could not delete server %s: %s' % (
                server['id'], gone.get('fault'))
        assert self.client_lpars(self.system) == [], [
            lpar.name for lpar in self.client_lpars(self.system)]
        assert self.boot_vdisks(self.system) == [], [
            vdisk.name for vdisk in self.boot_vdisks(self.system)]
        self.notifier.reset()

    def bind_machine(self, **attributes):
        """NovaMachine working on this test, with its own step log."""
        return type('BoundNovaMachine', (NovaMachine,),
                    dict({'case': self, 'steps': []}, **attributes))

    # ------------------------------------------------------------ tests
    def test_nova_and_novalink_agree(self):
        machine = self.bind_machine()
        report = io.StringIO()
        try:
            with reporting.with_reporter(
                    lambda text: report.write('%s\n' % (text,))):
                stateful.run_state_machine_as_test(
                    machine, settings=profiles.selected_nova())
        finally:
            self.addDetail('hypothesis-report',
                           content.text_content(report.getvalue()))
            self.addDetail('last-example-steps',
                           content.text_content('\n'.join(machine.steps)))

    def test_a_server_nova_thinks_running_is_caught(self):
        # A driver whose power on does nothing: nova reports the server
        # ACTIVE, but its LPAR never starts.
        self.useFixture(fx.MockPatch('nova_powervm.vm.power_on'))
        machine = self.bind_machine(settle_polls=5)()
        machine.first_server('small')
        try:
            error = self.assertRaises(AssertionError,
                                      machine.nova_and_novalink_agree)
        finally:
            machine.teardown()
        self.assertIn('is ACTIVE', str(error))
        self.assertIn("its LPAR is %s" % base.LPAR_OFF, str(error))
