"""The driver class against nova 34's ComputeDriver interface."""

import inspect

from nova.virt import driver as nova_driver
import testtools

from nova_powervm import driver


def _own_public_methods(cls):
    return {name: func for name, func in vars(cls).items()
            if inspect.isfunction(func) and not name.startswith('_')}


class TestComputeDriverInterface(testtools.TestCase):

    def test_every_method_is_a_compute_driver_method(self):
        for name in _own_public_methods(driver.PowerVMDriver):
            self.assertTrue(hasattr(nova_driver.ComputeDriver, name), name)

    def test_signatures_are_novas(self):
        # nova passes many arguments by keyword: a renamed or missing one
        # is a TypeError at run time.
        for name, func in _own_public_methods(driver.PowerVMDriver).items():
            self.assertEqual(
                _unannotated(getattr(nova_driver.ComputeDriver, name)),
                _unannotated(func), name)

    def test_startup_needs_instance_uuids(self):
        # nova-compute's start-up check calls it unguarded.
        self.assertIn('list_instance_uuids',
                      _own_public_methods(driver.PowerVMDriver))

    def test_capabilities_claim_only_what_is_implemented(self):
        caps = driver.PowerVMDriver.capabilities
        self.assertEqual(set(nova_driver.ComputeDriver.capabilities),
                         set(caps))
        self.assertTrue(caps['supports_attach_interface'])
        # Evacuate: rebuild and instance_on_disk.
        self.assertTrue(caps['supports_evacuate'])
        self.assertIn('rebuild', _own_public_methods(driver.PowerVMDriver))
        self.assertIn('instance_on_disk',
                      _own_public_methods(driver.PowerVMDriver))


def _unannotated(func):
    """``func``'s signature without annotations: nova annotates some of
    its methods (unrescue), which changes nothing of how it calls them."""
    sig = inspect.signature(func)
    return sig.replace(
        parameters=[param.replace(annotation=param.empty)
                    for param in sig.parameters.values()],
        return_annotation=sig.empty)
