"""What keeps spawns cheap and concurrent spawns apart: work done together
(Batched), VLANs chosen without a lock over REST calls, host facts read
once."""

import threading
from unittest import mock

import fixtures
from nova import exception
from pypowervm import exceptions as pvm_exc
import testtools

from nova_powervm import batch
from nova_powervm import media
from nova_powervm import vif as pvm_vif


class TestBatched(testtools.TestCase):

    def test_one_item_alone(self):
        batched = batch.Batched(lambda items: [item * 2 for item in items])
        self.assertEqual(42, batched.do(21))

    def test_items_handed_in_while_a_batch_runs_go_together(self):
        batches = []
        first_running = threading.Event()
        release_first = threading.Event()

        def run(items):
            batches.append(list(items))
            if len(batches) == 1:
                first_running.set()
                release_first.wait()
            return [item * 2 for item in items]

        batched = batch.Batched(run)
        results = {}

        def hand_in(item):
            results[item] = batched.do(item)

        first = threading.Thread(target=hand_in, args=(1,))
        first.start()
        first_running.wait()
        others = [threading.Thread(target=hand_in, args=(item,))
                  for item in (2, 3, 4)]
        for thread in others:
            thread.start()
        # Until all three wait their turn (no time limit: no sleep).
        while len(batched._waiting) < 3:
            threading.Event().wait(0.001)
        release_first.set()
        for thread in [first] + others:
            thread.join()
        self.assertEqual([[1], [2, 3, 4]],
                         [batches[0], sorted(batches[1])])
        self.assertEqual({1: 2, 2: 4, 3: 6, 4: 8}, results)

    def test_an_items_exception_reaches_its_caller_only(self):
        def run(items):
            return [ValueError(item) if item == 'bad' else item
                    for item in items]

        batched = batch.Batched(run)
        self.assertRaises(ValueError, batched.do, 'bad')
        self.assertEqual('good', batched.do('good'))

    def test_a_failed_batch_fails_its_items(self):
        def run(items):
            raise pvm_exc.Error('update refused')

        batched = batch.Batched(run)
        err = self.assertRaises(pvm_exc.Error, batched.do, 'item')
        self.assertIn('update refused', str(err))


class TestVlanChooser(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.used = set()
        self.useFixture(fixtures.MockPatch(
            'nova_powervm.vif._used_vlans',
            side_effect=lambda adapter, vswitch_w: set(self.used)))
        self.chooser = pvm_vif._VlanChooser()
        self.vswitch = mock.Mock()
        self.vswitch.name = 'NovaLinkVEB'

    def reserve(self):
        return self.chooser.reserve(None, self.vswitch)

    def test_lowest_vlan_nothing_uses(self):
        self.used = {1, 2, 4}
        self.assertEqual(3, self.reserve())

    def test_plugs_at_once_get_different_vlans(self):
        self.assertEqual([1, 2, 3], [self.reserve() for _ in range(3)])

    def test_made_trunk_stays_reserved_for_a_read_begun_before(self):
        vlan = self.reserve()
        # A read that began before the trunk was made does not show it.
        with mock.patch.object(pvm_vif, '_used_vlans',
                               side_effect=lambda *args: (
                                   self.chooser.trunk_done(vlan) or set())):
            self.assertEqual(2, self.reserve())

    def test_read_begun_after_the_trunk_decides(self):
        vlan = self.reserve()
        self.chooser.trunk_done(vlan)
        # The trunk exists: NovaLink shows its VLAN.
        self.used = {vlan}
        self.assertEqual(2, self.reserve())
        # The trunk went away since (its VIF unplugged): free again.
        self.used = set()
        self.chooser.trunk_done(2)
        self.assertEqual(1, self.reserve())

    def test_no_free_vlan(self):
        self.used = set(range(1, pvm_vif.MGMT_VLAN))
        self.assertRaises(exception.VirtualInterfacePlugException,
                          self.reserve)


def _switch(name, switch_id):
    vswitch = mock.Mock(switch_id=switch_id)
    vswitch.name = name
    return vswitch


class TestHostNetwork(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.switches = [_switch('ETHERNET0', 0)]
        self.reads = self.useFixture(fixtures.MockPatch(
            'nova_powervm.vif._read_switches',
            side_effect=lambda adapter: list(self.switches))).mock
        self.adapter = mock.Mock()

    def test_switches_read_once(self):
        self.assertEqual(0, pvm_vif._switch_id(self.adapter, 'ETHERNET0'))
        self.assertEqual(0, pvm_vif._switch_id(self.adapter, 'ETHERNET0'))
        self.assertEqual(1, self.reads.call_count)

    def test_unknown_switch_read_again(self):
        pvm_vif._switch_id(self.adapter, 'ETHERNET0')
        self.switches.append(_switch('MGMTSWITCH', 1))
        self.assertEqual(1, pvm_vif._switch_id(self.adapter, 'MGMTSWITCH'))
        self.assertEqual(2, self.reads.call_count)

    def test_failed_plug_forgets_the_switches(self):
        pvm_vif._switch_id(self.adapter, 'ETHERNET0')
        pvm_vif._host_network(self.adapter).forget_switches()
        self.switches = [_switch('ETHERNET0', 7)]
        self.assertEqual(7, pvm_vif._switch_id(self.adapter, 'ETHERNET0'))

    def test_each_adapter_has_its_own(self):
        pvm_vif._switch_id(self.adapter, 'ETHERNET0')
        pvm_vif._switch_id(mock.Mock(), 'ETHERNET0')
        self.assertEqual(2, self.reads.call_count)

    def test_management_partition_read_once(self):
        get_mgmt = self.useFixture(fixtures.MockPatch(
            'pypowervm.tasks.partition.get_mgmt_partition')).mock
        host_net = pvm_vif._host_network(self.adapter)
        self.assertIs(host_net.mgmt_partition(self.adapter),
                      host_net.mgmt_partition(self.adapter))
        get_mgmt.assert_called_once_with(self.adapter)


class TestMediaRepository(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lookup = self.useFixture(fixtures.MockPatch(
            'pypowervm.tasks.vopt.validate_vopt_repo_exists',
            return_value=('vios', 'vg'))).mock
        self.adapter = mock.Mock()

    def test_looked_up_once(self):
        self.assertEqual(('vios', 'vg'), media._repository(self.adapter))
        self.assertEqual(('vios', 'vg'), media._repository(self.adapter))
        self.assertEqual(1, self.lookup.call_count)

    def test_looked_up_again_after_a_failure(self):
        media._repository(self.adapter)
        media._forget_repository(self.adapter)
        media._repository(self.adapter)
        self.assertEqual(2, self.lookup.call_count)
