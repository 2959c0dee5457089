"""nova's own loader finds the driver through the nova.virt shim."""

from nova.virt import driver as nova_driver
from nova.virt import fake as nova_fake
import testtools

import nova_powervm.driver


class TestLoadThroughNova(testtools.TestCase):

    def test_load_compute_driver_returns_the_powervm_driver(self):
        drv = nova_driver.load_compute_driver(
            nova_fake.FakeVirtAPI(), 'powervm_ext.driver.PowerVMDriver')
        self.assertIsInstance(drv, nova_driver.ComputeDriver)
        self.assertIsInstance(drv, nova_powervm.driver.PowerVMDriver)

    def test_shim_does_not_replace_novas_own_packages(self):
        import nova
        import nova.virt
        import nova.virt.powervm_ext.driver as shim
        # nova and nova.virt still come from nova's distribution, and the
        # shim exports the very same class.
        self.assertTrue(nova.__file__.endswith('nova/__init__.py'))
        self.assertTrue(hasattr(nova.virt, 'driver'))
        self.assertIs(nova_powervm.driver.PowerVMDriver, shim.PowerVMDriver)
