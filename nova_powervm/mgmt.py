"""What only the NovaLink partition itself can do, behind one interface.

nova-compute runs on the NovaLink (management) partition.  Some things it
does there are not REST calls but local: reading a disk mapped to the
partition as a block device, serving an LPAR's console over VNC, reading
the partition's own lparcfg.  ``Platform`` names them; ``[powervm]
mgmt_platform`` picks the implementation by its entry point name in the
``nova_powervm.mgmt_platform`` group: ``novalink`` (the real partition)
or ``simulator`` (powervm_sim's stand-in for tests).
"""

import abc
import functools
import glob
import os
import time
import typing

from nova.console import type as console_type
from nova import exception
import nova.privsep.path
from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import vterm as pvm_vterm
from stevedore import driver as stevedore_driver
from vif_plug_ovs import ovs as os_vif_ovs

from nova_powervm import conf
from nova_powervm import exception as pvm_nova_exc
from nova_powervm import vm

LOG = logging.getLogger(__name__)
CONF = conf.CONF

NAMESPACE = conf.MGMT_PLATFORM_NAMESPACE


class VNCConsole(typing.NamedTuple):
    """Where an LPAR's VNC console listens on the management partition.

    ``path``, when set, is what a client names in an HTTP CONNECT before
    speaking VNC (several consoles share one port then).
    """

    port: int
    path: str | None = None


class Platform(abc.ABC):
    """The local side of the management partition nova-compute runs on."""

    @abc.abstractmethod
    def discover_disk(self, adapter, mapping):
        """The local block device of a disk mapped to this partition.

        :param mapping: the pypowervm VSCSIMapping of the disk to the
                        management partition, as NovaLink returned it.
        :returns: the device's path.
        :raises DiskDiscoveryFailed: the disk did not show up.
        """

    @abc.abstractmethod
    def open_disk(self, path):
        """The device at ``path`` as a binary file (a context manager)."""

    @abc.abstractmethod
    def remove_disk(self, path):
        """Make the partition forget the device at ``path`` (before its
        mapping goes away).

        :raises DeviceRemovalFailed: the device is still there.
        """

    @abc.abstractmethod
    def open_vnc_console(self, adapter, lpar_uuid):
        """Open (or find open) the LPAR's VNC console; a VNCConsole.

        :raises pypowervm.exceptions.HttpNotFound: no such LPAR.
        """

    @abc.abstractmethod
    def close_vterm(self, adapter, lpar_uuid):
        """Close the LPAR's virtual terminal, VNC or other."""

    @abc.abstractmethod
    def lparcfg(self, adapter):
        """This partition's lparcfg: a dict of its key=value lines."""

    @abc.abstractmethod
    def plug_ovs_port(self, adapter, bridge, dev_name, iface_id, mac,
                      instance_uuid):
        """Make the device ``dev_name`` (the trunk adapter of an OVS VIF)
        a port of the local Open vSwitch bridge ``bridge``, known to
        neutron's agent as port ``iface_id`` of ``instance_uuid`` with
        MAC ``mac``.  A port already there is fine."""

    @abc.abstractmethod
    def unplug_ovs_port(self, adapter, bridge, dev_name):
        """Remove the port ``dev_name`` from ``bridge``; gone is fine."""


def load_platform(name=None):
    """The Platform named ``name`` (default: [powervm] mgmt_platform)."""
    manager = stevedore_driver.DriverManager(
        NAMESPACE, name or CONF.powervm.mgmt_platform, invoke_on_load=True)
    return manager.driver


def this_partition_id(platform, adapter):
    """The partition ID of the partition nova-compute runs on."""
    return int(platform.lparcfg(adapter)['partition_id'])


def get_vnc_console(platform, adapter, instance):
    """nova's ConsoleVNC for ``instance``'s LPAR.

    :raises nova.exception.InstanceNotFound: the LPAR does not exist.
    :raises nova.exception.ConsoleTypeUnavailable: NovaLink could not open
            the console.
    """
    lpar_uuid = vm.get_pvm_uuid(instance)
    try:
        console = platform.open_vnc_console(adapter, lpar_uuid)
    except pvm_exc.HttpNotFound:
        raise exception.InstanceNotFound(instance_id=instance.uuid) from None
    except pvm_exc.Error as exc:
        LOG.error('Could not open the VNC console: %s', exc,
                  instance=instance)
        raise exception.ConsoleTypeUnavailable(console_type='vnc') from exc
    return console_type.ConsoleVNC(
        host=CONF.vnc.server_proxyclient_address, port=console.port,
        internal_access_path=console.path)


def close_console(platform, adapter, instance):
    """Close ``instance``'s virtual terminal if it has one open.

    A console nobody can close is no reason to keep an instance: failures
    are logged only.
    """
    try:
        platform.close_vterm(adapter, vm.get_pvm_uuid(instance))
    except pvm_exc.HttpNotFound:
        LOG.debug('No LPAR, so no console to close.', instance=instance)
    except Exception:
        LOG.exception('Could not close the console.', instance=instance)


# --------------------------------------------------------------- NovaLink
class NovaLinkPlatform(Platform):
    """The real NovaLink partition (Linux on POWER).

    A vSCSI disk mapped to the partition appears on the virtual SCSI bus
    of its client adapter once the bus is scanned; udev names it under
    /dev/disk/by-id after the last 32 characters of its UDID.  Writing to
    sysfs and reading a block device need root: those steps go through
    nova's privsep daemon.

    :param sys_root: where sysfs is mounted.
    :param dev_root: the device directory.
    :param proc_root: where procfs is mounted.
    :param timeout: seconds to wait for a device to come or go.
    :param poll_interval: seconds between looks at the device files.
    """

    # The Linux bus number of a vSCSI client adapter is its slot number
    # with this bit set.
    VIO_BUS_BASE = 0x30000000
    # The UDID characters udev puts at the end of the device's by-id name.
    UDID_SUFFIX_LEN = 32

    def __init__(self, sys_root='/sys', dev_root='/dev', proc_root='/proc',
                 timeout=10.0, poll_interval=0.25):
        self.sys_root = sys_root
        self.dev_root = dev_root
        self.proc_root = proc_root
        self.timeout = timeout
        self.poll_interval = poll_interval

    # Privileged steps, one place to replace them in tests.
    @staticmethod
    def _write_as_root(path, text):
        nova.privsep.path.writefile(path, 'a', text)

    @staticmethod
    def _chown_as_root(path, uid):
        nova.privsep.path.chown(path, uid=uid)

    def _wait_for(self, condition):
        """Poll ``condition()`` until it is true or the timeout passes;
        returns its last value."""
        deadline = time.monotonic() + self.timeout
        while True:
            result = condition()
            if result or time.monotonic() >= deadline:
                return result
            time.sleep(self.poll_interval)

    def discover_disk(self, adapter, mapping):
        udid = mapping.backing_storage.udid[-self.UDID_SUFFIX_LEN:]
        bus = self.VIO_BUS_BASE | mapping.client_adapter.lpar_slot_num
        scans = glob.glob(os.path.join(
            self.sys_root, 'bus/vio/devices/%x/host*/scsi_host/host*/scan'
            % bus))
        if not scans:
            raise pvm_nova_exc.DiskDiscoveryFailed(
                udid=udid, reason='no SCSI host for bus %x' % bus)
        for scan in scans:
            # Any channel, target and LUN: the mapped disk is among them.
            self._write_as_root(scan, '- - -')
        pattern = os.path.join(self.dev_root,
                               'disk/by-id/*%s' % glob.escape(udid))
        found = self._wait_for(lambda: glob.glob(pattern))
        if len(found) != 1:
            raise pvm_nova_exc.DiskDiscoveryFailed(
                udid=udid, reason='%d devices match %s after %.1f seconds'
                % (len(found), pattern, self.timeout))
        path = os.path.realpath(found[0])
        LOG.debug('Disk %(udid)s is %(path)s.', {'udid': udid,
                                                 'path': path})
        return path

    def open_disk(self, path):
        if os.access(path, os.R_OK):
            return open(path, 'rb')
        # Own the device just long enough to open it: the open file stays
        # readable once its owner is put back.
        owner = os.stat(path).st_uid
        self._chown_as_root(path, os.getuid())
        try:
            return open(path, 'rb')
        finally:
            self._chown_as_root(path, owner)

    def remove_disk(self, path):
        name = os.path.basename(os.path.realpath(path))
        delete = os.path.join(self.sys_root, 'block', name, 'device/delete')
        if not os.path.exists(delete):
            raise pvm_nova_exc.DeviceRemovalFailed(path=path,
                                      reason='%s does not exist' % delete)
        self._write_as_root(delete, '1')
        if not self._wait_for(lambda: not os.path.exists(path)):
            raise pvm_nova_exc.DeviceRemovalFailed(
                path=path, reason='still there after %.1f seconds' %
                self.timeout)

    def open_vnc_console(self, adapter, lpar_uuid):
        port = pvm_vterm.open_remotable_vnc_vterm(
            adapter, lpar_uuid, CONF.vnc.server_proxyclient_address,
            vnc_path=lpar_uuid,
            use_x509_auth=CONF.powervm.vnc_use_x509_auth,
            ca_certs=CONF.powervm.vnc_ca_certs,
            server_cert=CONF.powervm.vnc_server_cert,
            server_key=CONF.powervm.vnc_server_key)
        return VNCConsole(port=port, path=lpar_uuid)

    def close_vterm(self, adapter, lpar_uuid):
        pvm_vterm.close_vterm(adapter, lpar_uuid)

    def lparcfg(self, adapter):
        with open(os.path.join(self.proc_root, 'ppc64/lparcfg')) as lines:
            return parse_lparcfg(lines)

    @functools.cached_property
    def _ovsdb(self):
        # os-vif's OVSDB library, with its [os_vif_ovs] options; it
        # connects on first use, not when the driver loads.
        return os_vif_ovs.OvsPlugin.load('ovs').ovsdb

    def plug_ovs_port(self, adapter, bridge, dev_name, iface_id, mac,
                      instance_uuid):
        # NovaLink may have made the port already from the trunk's bridge
        # and external IDs: adding it again changes nothing.  The device's
        # MTU is the trunk adapter's configured MTU.
        self._ovsdb.create_ovs_vif_port(bridge, dev_name, iface_id, mac,
                                        instance_uuid)

    def unplug_ovs_port(self, adapter, bridge, dev_name):
        # The device is the trunk adapter's: it goes with the trunk.
        self._ovsdb.delete_ovs_vif_port(bridge, dev_name,
                                        delete_netdev=False)


def parse_lparcfg(lines):
    """The key=value lines of an lparcfg as a dict (others are skipped)."""
    values = {}
    for line in lines:
        key, sep, value = line.strip().partition('=')
        if sep:
            values[key] = value
    return values
