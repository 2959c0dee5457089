"""What destroy and spawn do with an instance's NVRAM (no I/O)."""

from nova.compute import task_states
from nova.compute import vm_states
from nova import objects
import testtools

from nova_powervm import nvram

HOST = 'host1'


def instance(**fields):
    values = {'host': HOST, 'vm_state': vm_states.ACTIVE,
              'task_state': None}
    values.update(fields)
    return objects.Instance(**values)


class TestDestroyAction(testtools.TestCase):

    def action(self, **fields):
        return nvram.destroy_action(instance(**fields), HOST)

    def test_delete_removes(self):
        self.assertEqual(nvram.REMOVE,
                         self.action(task_state=task_states.DELETING))
        # A deploy that failed, cleaned up by nova.
        self.assertEqual(nvram.REMOVE, self.action(
            vm_state=vm_states.BUILDING, task_state=task_states.SPAWNING))
        self.assertEqual(nvram.REMOVE, self.action(vm_state=vm_states.ERROR))

    def test_shelving_saves_and_keeps(self):
        for fields in ({'vm_state': vm_states.SHELVED,
                        'task_state': task_states.SHELVING_OFFLOADING},
                       {'vm_state': vm_states.SHELVED_OFFLOADED},
                       {'task_state': task_states.SHELVING}):
            self.assertEqual(nvram.SAVE, self.action(**fields), fields)

    def test_evacuated_away_keeps(self):
        self.assertEqual(nvram.KEEP, self.action(host='host2'))
        self.assertEqual(nvram.KEEP, self.action(
            host='host2', task_state=task_states.DELETING))

    def test_moves_and_rebuilds_keep(self):
        for task in (task_states.RESIZE_REVERTING,
                     task_states.RESIZE_MIGRATING, task_states.REBUILDING,
                     task_states.REBUILD_SPAWNING):
            self.assertEqual(nvram.KEEP, self.action(task_state=task),
                             task)


class TestRestoresOnSpawn(testtools.TestCase):

    def test_only_an_unshelve_of_an_offloaded_instance(self):
        self.assertTrue(nvram.restores_on_spawn(
            instance(vm_state=vm_states.SHELVED_OFFLOADED)))
        self.assertFalse(nvram.restores_on_spawn(
            instance(vm_state=vm_states.BUILDING)))


class TestAsNVRAM(testtools.TestCase):

    def test_base64_bytes_are_nvram_text(self):
        self.assertEqual('AAEC', nvram.as_nvram(b'AAEC'))
        self.assertIsNone(nvram.as_nvram(None))

    def test_other_bytes_are_no_nvram(self):
        for data in (b'\xff\xfe', b'not base64!', b'AAE'):
            self.assertIsNone(nvram.as_nvram(data), data)
