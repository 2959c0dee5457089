"""Spawn, power operations and destroy against the simulator."""

from nova.compute import power_state
from nova import exception
from pypowervm import util as pvm_util

from nova_powervm import vm
from tests.functional.driver import fixtures

_OFF = 'not activated'
_RUNNING = 'running'


class StateRecorder:
    """Every PartitionState the model gives one LPAR, in order."""

    def __init__(self, model, lpar_uuid):
        self.lpar_uuid = lpar_uuid.lower()
        self.states = []
        self._model = model
        model.registry.subscribe(self)

    def __call__(self, event_type, resource, detail):
        if resource.uuid.lower() == self.lpar_uuid and \
                'PartitionState' in detail:
            self.states.append(resource.state)

    def stop(self):
        self._model.registry.unsubscribe(self)


class TestSpawn(fixtures.DriverTestCase):

    def test_spawn_builds_the_lpar_from_the_flavor_and_starts_it(self):
        instance = self.make_instance(memory_mb=2048, vcpus=2)
        self.spawn(instance)
        lpar = self.lpar_of(instance)
        self.assertEqual(vm.get_pvm_uuid(instance).upper(), lpar.uuid)
        self.assertEqual(
            pvm_util.sanitize_partition_name_for_api(instance.name),
            lpar.name)
        self.assertEqual(2048, lpar.mem_desired)
        self.assertEqual(2, lpar.vprocs_desired)
        self.assertFalse(lpar.dedicated)
        # Two vCPUs at the default proc_units_factor of 0.1.
        self.assertAlmostEqual(0.2, lpar.proc_units_desired)
        self.assertEqual('AIX/Linux', lpar.partition_type)
        self.assertEqual(_RUNNING, lpar.state)
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(instance).state)

    def test_spawn_without_power_on_leaves_the_lpar_off(self):
        instance = self.make_instance()
        self.spawn(instance, power_on=False)
        self.assertEqual(_OFF, self.lpar_of(instance).state)
        self.assertEqual(power_state.SHUTDOWN,
                         self.driver.get_info(instance).state)

    def test_powervm_extra_specs_shape_the_lpar(self):
        instance = self.make_instance(vcpus=2, extra_specs={
            'powervm:proc_units': '0.5',
            'powervm:max_proc_units': '1.0',
            'powervm:uncapped': 'false',
            'powervm:min_mem': '1024',
            'powervm:max_mem': '4096',
            'powervm:availability_priority': '200',
            'powervm:processor_compatibility': 'POWER8',
        })
        self.spawn(instance, power_on=False)
        lpar = self.lpar_of(instance)
        self.assertAlmostEqual(0.5, lpar.proc_units_desired)
        self.assertAlmostEqual(1.0, lpar.proc_units_max)
        self.assertEqual('capped', lpar.sharing_mode)
        self.assertEqual((1024, 2048, 4096),
                         (lpar.mem_min, lpar.mem_desired, lpar.mem_max))
        self.assertEqual(200, lpar.availability_priority)
        self.assertEqual('POWER8', lpar.proc_compat_mode)

    def test_dedicated_processors(self):
        instance = self.make_instance(vcpus=2, extra_specs={
            'powervm:dedicated_proc': 'true',
            'powervm:dedicated_sharing_mode': 'keep_idle_procs',
        })
        self.spawn(instance, power_on=False)
        lpar = self.lpar_of(instance)
        self.assertTrue(lpar.dedicated)
        self.assertEqual('keep idle procs', lpar.sharing_mode)

    def test_ibmi_image_makes_an_os400_partition(self):
        instance = self.make_instance()
        self.spawn(instance, power_on=False,
                   image_meta=self.image_meta(os_distro='ibmi'))
        self.assertEqual('OS400', self.lpar_of(instance).partition_type)

    def test_invalid_extra_spec_fails_before_anything_is_created(self):
        instance = self.make_instance(
            extra_specs={'powervm:shared_weight': '300'})
        self.assertRaises(exception.InvalidAttribute, self.spawn, instance)
        self.assertEqual([], self.client_lpars())

    def test_flavor_bigger_than_the_host_fails_and_leaves_nothing(self):
        too_much = self.system.memory_available + 1024
        instance = self.make_instance(memory_mb=too_much)
        err = self.assertRaises(exception.InstanceDeployFailure,
                                self.spawn, instance)
        self.assertIn('memory', str(err).lower())
        self.assertEqual([], self.client_lpars())

    def test_volumes_the_driver_cannot_attach_are_refused_first(self):
        instance = self.make_instance()
        vif = {'id': 'port-1', 'type': 'ovs', 'address': 'fa:16:3e:00:00:01'}
        err = self.assertRaises(
            exception.VolumeDriverNotFound, self.driver.spawn,
            self.context, instance, self.image_meta(), [], None, {},
            network_info=[vif],
            block_device_info={'block_device_mapping': [
                {'connection_info': {'driver_volume_type': 'sheepdog'},
                 'mount_device': '/dev/sdb'}]})
        self.assertIn('sheepdog', str(err))
        self.assertEqual([], self.client_lpars())


class TestPowerAndDestroy(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.make_instance()
        self.spawn(self.instance)
        self.recorder = StateRecorder(self.sim.model,
                                      vm.get_pvm_uuid(self.instance))
        self.addCleanup(self.recorder.stop)

    def _state(self):
        return self.driver.get_info(self.instance).state

    def test_power_off_on_reboot_and_destroy(self):
        self.driver.power_off(self.instance)
        self.assertEqual(power_state.SHUTDOWN, self._state())
        self.driver.power_on(self.context, self.instance, None)
        self.assertEqual(power_state.RUNNING, self._state())
        del self.recorder.states[:]
        self.driver.reboot(self.context, self.instance, None, 'SOFT')
        self.assertEqual(power_state.RUNNING, self._state())
        self.driver.reboot(self.context, self.instance, None, 'HARD')
        self.assertEqual(power_state.RUNNING, self._state())
        # Each reboot went through off and back on.
        self.assertEqual(2, _restarts(self.recorder.states))
        self.driver.destroy(self.context, self.instance, None)
        self.assertIsNone(self.lpar_of(self.instance))
        self.assertEqual([], self.client_lpars())
        self.assertFalse(self.driver.instance_exists(self.instance))

    def test_clean_power_off_with_a_timeout(self):
        self.driver.power_off(self.instance, timeout=30, retry_interval=5)
        self.assertEqual(_OFF, self.lpar_of(self.instance).state)

    def test_power_on_and_off_are_no_ops_in_the_wanted_state(self):
        self.driver.power_on(self.context, self.instance, None)
        self.driver.power_off(self.instance)
        self.driver.power_off(self.instance)
        self.assertEqual([_OFF], self.recorder.states[-1:])
        self.assertEqual(1, self.recorder.states.count(_OFF))

    def test_reboot_of_a_stopped_instance_starts_it(self):
        self.driver.power_off(self.instance)
        self.driver.reboot(self.context, self.instance, None, 'HARD')
        self.assertEqual(power_state.RUNNING, self._state())

    def test_destroy_of_an_lpar_already_gone_succeeds(self):
        self.driver.destroy(self.context, self.instance, None)
        self.driver.destroy(self.context, self.instance, None)
        self.assertIsNone(self.lpar_of(self.instance))

    def test_operations_on_a_missing_lpar_raise_instance_not_found(self):
        self.driver.destroy(self.context, self.instance, None)
        self.assertRaises(exception.InstanceNotFound,
                          self.driver.get_info, self.instance)
        self.assertRaises(exception.InstanceNotFound,
                          self.driver.power_on, self.context, self.instance,
                          None)
        self.assertRaises(exception.InstanceNotFound,
                          self.driver.power_off, self.instance)

    def test_instance_exists(self):
        self.assertTrue(self.driver.instance_exists(self.instance))
        self.assertFalse(self.driver.instance_exists(self.make_instance()))


def _restarts(states):
    """How often a running LPAR went off and came back."""
    count, went_off = 0, False
    for state in states:
        if state == _OFF:
            went_off = True
        elif state == _RUNNING and went_off:
            count, went_off = count + 1, False
    return count
