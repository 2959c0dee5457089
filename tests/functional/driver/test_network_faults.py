"""A network or config drive step of a spawn failing in NovaLink: the right
nova error, and no LPAR, adapter, trunk, Open vSwitch port, media or
mapping left behind."""

import fixtures as fx
from nova import exception

from nova_powervm import media
from nova_powervm import vm
from powervm_sim import faults
from tests.functional.driver import fixtures

_CNA = 'ClientNetworkAdapter'
# How NovaLink can fail a request: an error answer, no answer at all, an
# etag conflict.
_OUTCOMES = {
    'error': faults.internal_error('HSCL0002 Adapter operation failed.'),
    'no answer': faults.DropConnection(),
    'etag conflict': faults.EtagConflict(),
}


class NetworkFaultTestCase(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.make_instance(config_drive='True')
        self.lpar_uuid = vm.get_pvm_uuid(self.instance)
        [self.mgmt] = [part for part in self.sim.model.lpars(self.system)
                       if part.is_mgmt]

        # Rules armed when the config drive step starts.
        self.config_drive_rules = []
        create = media.create_config_drive

        def create_with_faults(*args, **kwargs):
            for rule in self.config_drive_rules:
                self.sim.faults.add(rule)
            return create(*args, **kwargs)
        self.useFixture(fx.MockPatch(
            'nova_powervm.media.create_config_drive',
            side_effect=create_with_faults))

    def arm(self, outcome, **criteria):
        return self.sim.faults.add(faults.FaultRule(outcome=outcome,
                                                    **criteria))

    def arm_with_the_config_drive(self, outcome, **criteria):
        """Arm a rule once the config drive step starts, so that the same
        requests of earlier steps (the boot disk's) are not hit."""
        self.config_drive_rules.append(
            faults.FaultRule(outcome=outcome, **criteria))

    def assert_spawn_fails(self, exc_class, network_info):
        err = self.assertRaises(exc_class, self.spawn_with, network_info,
                                instance=self.instance)
        self.assert_network_and_media_gone(self.instance)
        self.assert_storage_gone()
        return err

    def for_each_outcome(self, arm, exc_class, network_info,
                         outcomes=tuple(_OUTCOMES)):
        """Run the failing spawn once per outcome, from no rules."""
        for name in outcomes:
            self.sim.faults.clear()
            self.sim.faults.reset_counters()
            del self.config_drive_rules[:]
            arm(_OUTCOMES[name])
            try:
                self.assert_spawn_fails(exc_class, network_info)
                self.assert_fired(_OUTCOMES[name])
            except AssertionError as exc:
                raise AssertionError('With %s: %s' % (name, exc)) from exc

    def assert_fired(self, outcome):
        fired = self.sim.faults.counters()['by_outcome']
        self.assertGreaterEqual(fired[type(outcome).__name__], 1)


class TestVifFaults(NetworkFaultTestCase):

    def test_sea_adapter_create(self):
        self.for_each_outcome(
            lambda outcome: self.arm(outcome, method='PUT',
                                     resource_type=_CNA,
                                     path=self.lpar_uuid, max_count=1),
            exception.VirtualInterfacePlugException,
            [fixtures.sea_vif(1)])

    def test_ovs_trunk_create(self):
        self.for_each_outcome(
            lambda outcome: self.arm(outcome, method='PUT',
                                     resource_type=_CNA,
                                     path=self.mgmt.uuid),
            exception.VirtualInterfacePlugException,
            [fixtures.sea_vif(1), fixtures.ovs_vif(2)])

    def test_ovs_client_adapter_create_after_its_trunk(self):
        self.for_each_outcome(
            lambda outcome: self.arm(outcome, method='PUT',
                                     resource_type=_CNA,
                                     path=self.lpar_uuid, max_count=1),
            exception.VirtualInterfacePlugException,
            [fixtures.ovs_vif(2)])

    def test_second_vif_fails_after_the_first_was_plugged(self):
        # The OVS VIF is plugged, the SEA VIF's adapter is refused: the
        # revert unplugs the OVS VIF, trunk and port included.
        counter = self.arm(faults.DelayOnly(), method='PUT',
                           resource_type=_CNA, path=self.lpar_uuid,
                           max_count=1)
        self.arm(_OUTCOMES['error'], method='PUT', resource_type=_CNA,
                 path=self.lpar_uuid, max_count=1)
        self.assert_spawn_fails(exception.VirtualInterfacePlugException,
                                [fixtures.ovs_vif(2), fixtures.sea_vif(1)])
        self.assertEqual(1, self.sim.faults.counters()['by_rule'][counter])

    def test_management_adapter_create(self):
        self.for_each_outcome(
            lambda outcome: self.arm(outcome, method='PUT',
                                     resource_type=_CNA,
                                     path=self.lpar_uuid, max_count=1),
            exception.VirtualInterfacePlugException, [])

    def test_busy_vios_answers_are_retried(self):
        sleep = self.useFixture(
            fx.MockPatch('pypowervm.helpers.vios_busy.SLEEP')).mock
        self.arm(faults.vios_busy(), method='PUT', resource_type=_CNA,
                 max_count=1)
        self.spawn_with([fixtures.ovs_vif(2)], instance=self.instance)
        self.assertEqual(1, sleep.call_count)
        self.assertEqual(1, len(self.ovs_trunks()))


class TestConfigDriveFaults(NetworkFaultTestCase):

    def test_upload(self):
        self.for_each_outcome(
            lambda outcome: self.arm_with_the_config_drive(
                outcome, method='PUT', path=r'/web/File/contents/',
                max_count=1),
            exception.InstanceDeployFailure, [fixtures.ovs_vif(2)])

    def test_upload_record(self):
        self.arm_with_the_config_drive(
            _OUTCOMES['error'], method='PUT', path=r'/web/File$',
            max_count=1)
        err = self.assert_spawn_fails(exception.InstanceDeployFailure,
                                      [fixtures.sea_vif(1)])
        self.assertIn(media.media_name(self.instance), str(err))

    def test_mapping(self):
        # pypowervm retries a mapping on etag conflicts (below).
        self.for_each_outcome(
            lambda outcome: self.arm_with_the_config_drive(
                outcome, method='POST', resource_type='VirtualIOServer',
                max_count=1),
            exception.InstanceDeployFailure,
            [fixtures.sea_vif(1), fixtures.ovs_vif(2)],
            outcomes=('error', 'no answer'))

    def test_mapping_etag_conflict_is_retried(self):
        self.arm_with_the_config_drive(
            faults.EtagConflict(), method='POST',
            resource_type='VirtualIOServer', max_count=1)
        self.spawn_with([], instance=self.instance)
        self.assert_fired(faults.EtagConflict())
        lpar = self.lpar_of(self.instance)
        self.assertEqual(1, len(self.vopt_mappings(lpar.partition_id)))

    def test_failed_undo_does_not_hide_the_failure(self):
        # The mapping fails, then so does removing the media: the spawn
        # reports the mapping's failure, the media stays for an operator
        # and the rest is undone.
        self.arm_with_the_config_drive(
            faults.internal_error('Mapping failed.'), method='POST',
            resource_type='VirtualIOServer', max_count=1)
        self.arm_with_the_config_drive(
            faults.internal_error('Media removal failed.'), method='POST',
            resource_type='VolumeGroup', max_count=1)
        err = self.assertRaises(exception.InstanceDeployFailure,
                                self.spawn_with, [], instance=self.instance)
        self.assertIn('Mapping failed.', str(err))
        self.assertEqual(2, self.sim.faults.counters()['by_outcome'][
            'HttpFault'])
        [(_vios, medium)] = self.config_media()
        self.assertEqual(media.media_name(self.instance), medium.name)
        self.assertIsNone(self.lpar_of(self.instance))
