"""The PowerVM compute driver: translates nova's calls into NovaLink work."""

from nova.virt import driver
from oslo_log import log as logging

from nova_powervm import conf

LOG = logging.getLogger(__name__)


class PowerVMDriver(driver.ComputeDriver):
    """nova compute driver for PowerVM partitions managed by NovaLink."""

    # Everything not named here keeps nova's default (unsupported).  Boot
    # disks are written raw into a volume group or a shared storage pool.
    capabilities = dict(
        driver.ComputeDriver.capabilities,
        supports_attach_interface=True,
        supports_image_type_raw=True,
    )

    def __init__(self, virtapi):
        # Refuse to load with a bad [powervm] section rather than failing
        # half-way through the first spawn.
        conf.validate()
        super().__init__(virtapi)
