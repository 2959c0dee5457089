"""nova-compute dies in the middle of a spawn and starts again.

The dying driver's spawn is held at a chosen step, then its process
"dies": the driver logs off and the held step ends the spawn thread with
an exception TaskFlow does not catch, so nothing is reverted and nothing
more is sent, as when the process is killed.  A new driver starts on the
same NovaLink: its init_host removes what no partition owns.  The
instance's LPAR stays (nova puts a BUILDING instance in ERROR on restart);
the destroy nova then runs removes everything else of it.
"""

import threading

import fixtures as fx
from nova.compute import vm_states
from nova import objects
from nova.virt import driver as nova_driver

from nova_powervm.tasks import storage as tf_stg
from nova_powervm import vm
from powervm_sim.model import storage as sim_storage
from tests.functional.driver import fixtures

# Upper bound for the spawn to reach the held step and for its thread to
# end (a broken test fails rather than hangs).
GUARD_SECONDS = 60


class ProcessDied(BaseException):
    """Ends the spawn thread the way a killed process ends: TaskFlow only
    reverts Exceptions, so nothing of the deploy is undone."""


class HeldSpawn:
    """A spawn in its own thread, held when it reaches ``step``.

    :param test: the test case (patches go away with it).
    :param target: the object whose attribute is the step.
    :param step: name of the callable that the spawn must not run.
    """

    def __init__(self, test, target, step):
        self.reached = threading.Event()
        self.released = threading.Event()
        self.outcome = []
        test.useFixture(fx.MockPatchObject(target, step,
                                           side_effect=self._hold))

    def _hold(self, *args, **kwargs):
        self.reached.set()
        self.released.wait(GUARD_SECONDS)
        raise ProcessDied()

    def start(self, spawn):
        def run():
            try:
                spawn()
            except ProcessDied as died:
                self.outcome.append(died)
            except Exception as exc:  # reported by the test
                self.outcome.append(exc)
            else:
                self.outcome.append(None)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def kill(self):
        """Wait for the step, then end the thread there."""
        if not self.reached.wait(GUARD_SECONDS):
            raise AssertionError('the spawn never reached the held step: '
                                 '%r' % (self.outcome,))
        self.released.set()
        self.thread.join(GUARD_SECONDS)
        if self.thread.is_alive():
            raise AssertionError('the spawn thread did not end')
        [died] = self.outcome
        if not isinstance(died, ProcessDied):
            raise AssertionError('the spawn ended with %r' % (died,))


class TestRestartMidSpawn(fixtures.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.flags(force_config_drive=True)

    def _die_during(self, target, step, network_info=()):
        """Spawn a new instance until ``step`` and let the driver die
        there; returns the instance."""
        instance = self.make_instance()
        held = HeldSpawn(self, target, step).start(
            lambda: self.spawn_with(list(network_info), instance=instance))
        held.kill()
        self.assertIsNotNone(self.lpar_of(instance))
        return instance

    def _destroy(self, instance, network_info=()):
        self.driver.destroy(self.context, instance, list(network_info))
        self.assert_storage_gone()
        self.assert_network_and_media_gone(instance)

    def _media_names(self):
        return [medium.name for _vios, medium in self.config_media()]

    def test_unmapped_boot_disk_and_media_are_removed(self):
        # Died before the boot disk (and the config drive, which the same
        # VIOS update maps) was mapped.
        instance = self._die_during(tf_stg.AttachDisk, 'execute')
        self.assertEqual(1, len(self.boot_vdisks()))
        self.assertEqual([], self.disk_mappings())
        self._restart()
        # The LPAR stays for nova's destroy; what nothing maps goes.
        self.assertIsNotNone(self.lpar_of(instance))
        self.assertEqual([], self.boot_vdisks())
        self.assertEqual([], self._media_names())
        self._destroy(instance)

    def test_power_on_never_sent(self):
        # Everything is made and mapped: the LPAR owns it all.
        instance = self._die_during(vm, 'power_on')
        self._restart()
        self.assertEqual(1, len(self.boot_vdisks()))
        self.assertEqual(1, len(self._media_names()))
        self._destroy(instance)

    def test_trunk_of_an_ovs_vif_made_before_its_port(self):
        vifs = [fixtures.ovs_vif(1)]
        instance = self._die_during(self.driver.platform, 'plug_ovs_port',
                                    network_info=vifs)
        self._restart()
        # The trunk serves the LPAR's adapter: the destroy removes it.
        self.assertEqual(1, len(self.ovs_trunks()))
        self.assertEqual({}, self.ovs_ports())
        self._destroy(instance, vifs)

    def test_trunk_left_by_a_deleted_lpar_is_removed(self):
        vifs = [fixtures.ovs_vif(1)]
        instance = self._die_during(self.driver.platform, 'plug_ovs_port',
                                    network_info=vifs)
        # The LPAR deleted outside nova, then nova-compute restarts.
        lpar = self.lpar_of(instance)
        self.sim.model.delete_partition(lpar)
        self._restart()
        self.assertEqual([], self.ovs_trunks())
        self.assertEqual({}, self.ovs_ports())
        self.assertEqual([], self.boot_vdisks())
        self.assertEqual([], self._media_names())
        self.assertEqual([], self.disk_mappings())

    def test_storage_the_driver_did_not_make_stays(self):
        model = self.sim.model
        vios = model.vioses(self.system)[0]
        # Not the driver's names: other prefixes, or not 13 hex digits.
        names = ['b_data', 'appvolume', 'b_0123456789ab']
        vg = [vg for vg in vios.volume_groups
              if vg.name != sim_storage.ROOTVG][0]
        for name in names:
            model.add_vdisk(vg, name, 1)
        model.add_optical_media(vios, 'install.iso', 1024)
        self._restart()
        self.assertTrue(set(names).issubset(vdisk.name
                                            for vdisk in vg.vdisks))
        _vg, repo = model.media_repository_of(vios)
        self.assertIn('install.iso', [medium.name for medium in repo.media])

    def test_rescue_disk_made_before_its_mapping(self):
        instance = self.make_instance()
        self.spawn(instance)
        held = HeldSpawn(self, tf_stg.AttachDisk, 'execute').start(
            lambda: self.driver.rescue(
                self.context, instance, [], self.image_meta(), 'secret',
                None, objects.ShareMappingList()))
        held.kill()
        rescue_name = self.driver.disk_driver.for_rescue().disk_name(
            instance)
        self.assertIn(rescue_name,
                      [vdisk.name for vdisk in self.boot_vdisks()])
        self._restart()
        # The boot disk, mapped, stays; the rescue disk nothing maps goes.
        self.assertEqual([self.driver.disk_driver.disk_name(instance)],
                         [vdisk.name for vdisk in self.boot_vdisks()])
        # nova puts an instance that was rescuing in ERROR.
        instance.vm_state = vm_states.ERROR
        self._destroy(instance)

    def _restart(self):
        """Stop the driver (if it still runs) and start a new one."""
        self.driver.cleanup_host(fixtures.HOST)
        # The configuration and the simulated NovaLink partition stay.
        self.driver = nova_driver.load_compute_driver(
            self.driver_fixture.virtapi, fixtures.COMPUTE_DRIVER)
        self.driver.init_host(fixtures.HOST)
        self.addCleanup(self.driver.cleanup_host, fixtures.HOST)
