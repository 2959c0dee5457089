"""Import shim for nova's driver loader.

nova imports ``'nova.virt.' + compute_driver``, so the driver has to be
reachable under ``nova.virt``.  Operators set::

    [DEFAULT]
    compute_driver = powervm_ext.driver.PowerVMDriver
"""

from nova_powervm.driver import PowerVMDriver

__all__ = ['PowerVMDriver']
