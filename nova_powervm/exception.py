"""Errors the driver raises that nova has no exception of its own for."""

from nova import exception


class NovaLinkUnavailable(exception.HypervisorUnavailable):
    """nova-compute could not log on to NovaLink's REST API."""

    msg_fmt = ('Could not log on to the NovaLink REST API at %(endpoint)s '
               'after %(tries)d attempt(s): %(reason)s.  Check that the '
               'pvm-rest service runs on the NovaLink partition and that '
               '[powervm] host, port, protocol and credentials point to it.')


class NotOneManagedSystem(exception.NovaException):
    """NovaLink manages exactly one system; anything else is a mix-up."""

    msg_fmt = ('NovaLink at %(endpoint)s reports %(count)d managed systems; '
               'the PowerVM driver needs exactly one.')


class UnsupportedDiskDriver(exception.NovaException):
    msg_fmt = ('[powervm] disk_driver %(name)s is not available in this '
               'release of the PowerVM driver; use one of %(available)s.')


class VolumeGroupNotFound(exception.NovaException):
    msg_fmt = ('No volume group %(name)s was found on an active Virtual I/O '
               'Server; set [powervm] volume_group_name to an existing one.')


class VIOSNotActive(exception.NovaException):
    msg_fmt = ('Virtual I/O Server %(vios)s, which serves the instance '
               'disks, is not running with RMC active.')


class ClusterNotFound(exception.NovaException):
    msg_fmt = ('Found %(count)d shared storage pool clusters named '
               '%(name)s; set [powervm] cluster_name to the one cluster '
               'holding instance disks.')


class NotAClusterNode(exception.NovaException):
    msg_fmt = ('No Virtual I/O Server of this host is a node of cluster '
               '%(name)s.')


class NotOnManagementPartition(exception.NovaException):
    msg_fmt = ('nova-compute runs on partition %(this)d, not on the '
               'NovaLink partition (%(mgmt)d): it cannot read the disks '
               'NovaLink maps to that partition.')


class DiskDiscoveryFailed(exception.NovaException):
    msg_fmt = ('The disk %(udid)s mapped to the management partition did '
               'not appear as a block device: %(reason)s')


class DeviceRemovalFailed(exception.NovaException):
    msg_fmt = ('Block device %(path)s of the management partition could '
               'not be removed: %(reason)s')


class NPIVPortsNotFound(exception.NovaException):
    msg_fmt = ('None of the physical FC ports of fabric %(fabric)s '
               '([powervm] fabric_%(fabric)s_port_wwpns: %(wwpns)s) is a '
               'port of an active Virtual I/O Server of this host; their '
               'ports are %(ports)s.')
