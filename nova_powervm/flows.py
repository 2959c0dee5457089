"""The driver's flows: one linear TaskFlow flow per nova operation.

Flows run on TaskFlow's serial engine, in the calling thread.  When a step
fails, every step that completed is reverted in reverse order and the
step's exception reaches the caller.
"""

import dataclasses

from nova import exception
from oslo_log import log as logging
import taskflow.engines
from taskflow import exceptions as tf_exc
from taskflow.listeners import logging as tf_logging
from taskflow.patterns import linear_flow
from taskflow import states as tf_states

from nova_powervm.tasks import migration as tf_mig
from nova_powervm.tasks import network as tf_net
from nova_powervm.tasks import rescue as tf_rescue
from nova_powervm.tasks import storage as tf_stg
from nova_powervm.tasks import vm as tf_vm

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Network:
    """The instance's network adapters, as a flow plugs them.

    :param virtapi: nova's VirtAPI (waits for neutron's plug events).
    :param network_info: nova's VIFs.
    :param platform: the mgmt.Platform (its Open vSwitch for OVS VIFs).
    :param mgmt_vif: also give the LPAR its RMC management adapter.
    """

    virtapi: object
    network_info: list
    platform: object
    mgmt_vif: bool = True


@dataclasses.dataclass(frozen=True)
class ConfigDrive:
    """What goes into the instance's config drive besides its metadata."""

    injected_files: list
    network_info: list
    admin_password: str | None


@dataclasses.dataclass(frozen=True)
class BootDisk:
    """The instance's boot disk, made from its image.

    :param disk_driver: where the disk lives (a disk.driver.DiskAdapter).
    :param context: the request context, to read the image from Glance.
    """

    disk_driver: object
    context: object

    def task(self, instance, image_meta):
        return tf_stg.CreateDiskForImage(self.disk_driver, self.context,
                                         instance, image_meta)


@dataclasses.dataclass(frozen=True)
class MovedBootDisk:
    """The boot disk of an instance moved from another host, in storage
    both hosts reach (a disk.driver.DiskAdapter that is ``shared``)."""

    disk_driver: object

    def task(self, instance, image_meta):
        return tf_stg.FindDisk(self.disk_driver, instance)


@dataclasses.dataclass(frozen=True)
class Volume:
    """A Cinder volume to connect.

    :param adapter: its volume.driver.VolumeAdapter.
    :param on_connected: called once it is connected (saves nova's block
                         device mapping), or None.
    """

    adapter: object
    on_connected: object = None


def spawn(adapter, host_w, instance, image_meta, power_on=True,
          network=None, config_drive=None, boot_disk=None, volumes=(),
          nvram=None):
    """The flow that brings a new instance up on the host (or one moved
    here from another host).

    The partition comes first and is powered on last.  What the instance
    boots from and talks through (boot disk, config drive media, network
    adapters, volumes) is attached in between, by tasks added to this same
    flow, so that a failure of any of them reverts the whole deploy.

    :param network: a Network to plug, or None for no network tasks.
    :param config_drive: a ConfigDrive to build, or None for none.
    :param boot_disk: a BootDisk to make from the image and attach (a
                      MovedBootDisk to find and attach), or None for an
                      instance without one (booting from a volume).
    :param volumes: the Volumes to connect, the boot volume first.
    :param nvram: the NVRAM of an LPAR recreated here, or None.
    """
    flow = linear_flow.Flow('spawn_%s' % instance.uuid)
    # Later steps get the new LPAR's wrapper (lpar_wrap) from this one,
    # rather than reading it again.
    flow.add(tf_vm.CreateLPAR(adapter, host_w, instance, image_meta,
                              nvram=nvram))
    if network is not None:
        flow.add(*_plug_network_tasks(adapter, instance, network))
    if boot_disk is not None:
        flow.add(boot_disk.task(instance, image_meta))
    if config_drive is not None:
        # With a boot disk, attach_disk maps the drive's media with it:
        # one update of the VIOS for both.
        flow.add(_config_drive_task(adapter, instance, config_drive,
                                    connect=boot_disk is None))
    if boot_disk is not None:
        flow.add(tf_stg.AttachDisk(boot_disk.disk_driver, instance))
    flow.add(*_connect_volume_tasks(volumes))
    if power_on:
        flow.add(tf_vm.PowerOn(adapter, instance))
    return flow


def _connect_volume_tasks(volumes):
    return [tf_stg.ConnectVolume(volume.adapter, volume.on_connected, index)
            for index, volume in enumerate(volumes)]


def _plug_network_tasks(adapter, instance, network):
    """Plug nova's VIFs, then the management adapter (which the config
    drive describes)."""
    tasks = []
    if network.network_info:
        tasks.append(tf_net.PlugVifs(network.virtapi, adapter, instance,
                                     network.network_info,
                                     network.platform))
    if network.mgmt_vif:
        tasks.append(tf_net.PlugMgmtVif(adapter, instance))
    return tasks


def _config_drive_task(adapter, instance, config_drive, connect):
    return tf_net.CreateAndConnectCfgDrive(
        adapter, instance, config_drive.injected_files,
        config_drive.network_info, config_drive.admin_password,
        connect=connect)


def plug_vifs(adapter, instance, network):
    """The flow that plugs ``network`` into an existing LPAR; a failure
    unplugs what it plugged."""
    flow = linear_flow.Flow('plug_vifs_%s' % instance.uuid)
    flow.add(*_plug_network_tasks(adapter, instance, network))
    return flow


def attach_volume(volume):
    """The flow that connects one more volume; a failure leaves nothing
    of it."""
    flow = linear_flow.Flow('attach_volume_%s' % volume.volume_id)
    flow.add(tf_stg.ConnectVolume(volume))
    return flow


def detach_volume(volume):
    """The flow that disconnects one volume."""
    flow = linear_flow.Flow('detach_volume_%s' % volume.volume_id)
    flow.add(tf_stg.DisconnectVolume(volume))
    return flow


def destroy(adapter, instance, platform=None, config_drive=False,
            disk_driver=None, destroy_disks=True, volumes=(),
            vfc_ports=False, rescue_disks=None):
    """The flow that removes an instance's LPAR: stop it hard, remove what
    lives outside the LPAR (trunk adapters, config drive, volumes' storage
    and mappings), delete it.

    :param platform: unplug every VIF adapter first, and the trunks and
                     Open vSwitch ports (through this mgmt.Platform)
                     serving them; None leaves the adapters to the LPAR's
                     delete.
    :param config_drive: whether the instance has a config drive.
    :param disk_driver: unmap the boot disk from this disk driver (the
                        mappings would outlive the LPAR as orphans).
    :param destroy_disks: and delete it.
    :param volumes: the VolumeAdapters of the volumes to disconnect (nova
                    deletes them, or keeps them, itself).
    :param vfc_ports: remove the LPAR's virtual FC ports (NPIV) too.
    :param rescue_disks: unmap and delete the instance's rescue disk (if
                         it has one) through this rescue view of the disk
                         driver (DiskAdapter.for_rescue).
    """
    flow = linear_flow.Flow('destroy_%s' % instance.uuid)
    flow.add(tf_vm.PowerOff(adapter, instance, timeout=0))
    if platform is not None:
        flow.add(tf_net.UnplugAllVifs(adapter, instance, platform))
    if config_drive:
        flow.add(tf_net.DeleteCfgDrive(adapter, instance))
    flow.add(*_disconnect_volume_tasks(volumes, adapter, instance,
                                       vfc_ports))
    if disk_driver is not None:
        flow.add(*_remove_disk_tasks(disk_driver, instance, destroy_disks))
    if rescue_disks is not None:
        flow.add(tf_rescue.RemoveRescueDisk(rescue_disks, instance))
    flow.add(tf_vm.DeleteLPAR(adapter, instance))
    return flow


def stop_for_move(adapter, instance, volumes=(), timeout=0, restore=True,
                  disk_driver=None, disk_bytes=None):
    """The flow that readies an instance's LPAR to be moved or resized:
    stop it, let go of its volumes (nova ends their connections to this
    host next), grow its boot disk.

    :param volumes: the VolumeAdapters of its volumes.
    :param timeout: seconds its operating system gets to shut down.
    :param restore: a failure connects the volumes again and starts the
                    LPAR again if it was on: the instance is as it was.
    :param disk_driver: the disk driver of the boot disk to grow ...
    :param disk_bytes: ... to this size, the last step: a grown disk
                       cannot shrink again.
    """
    flow = linear_flow.Flow('stop_for_move_%s' % instance.uuid)
    flow.add(tf_vm.PowerOff(adapter, instance, timeout=timeout,
                            restore=restore))
    flow.add(*(tf_stg.DisconnectVolume(volume, index, reconnect=restore)
               for index, volume in enumerate(volumes)))
    if disk_bytes is not None:
        flow.add(tf_stg.ExtendDisk(disk_driver, instance, disk_bytes))
    return flow


def resize_in_place(adapter, host_w, instance, flavor=None,
                    prior_flavor=None, volumes=(), power_on=True):
    """The flow that brings back up, on this host, an LPAR that
    stop_for_move readied: it takes ``flavor`` (unless None), connects its
    volumes and starts.  A failure undoes each step (``prior_flavor``
    again), leaving the LPAR as stop_for_move left it.

    :param volumes: the Volumes to connect.
    """
    flow = linear_flow.Flow('resize_in_place_%s' % instance.uuid)
    if flavor is not None:
        flow.add(tf_vm.UpdateLPAR(adapter, host_w, instance, flavor,
                                  prior_flavor))
    flow.add(*_connect_volume_tasks(volumes))
    if power_on:
        flow.add(tf_vm.PowerOn(adapter, instance))
    return flow


def remove_storage(adapter, disk_driver, instance, destroy_disks=True,
                   volumes=(), vfc_ports=False, rescue_disks=None):
    """The flow that removes what an instance whose LPAR is gone already
    left on the VIOSes: its volumes' storage and mappings (and its virtual
    FC ports), its boot disk's mappings (and the disk), its rescue disk
    (through ``rescue_disks``, if not None)."""
    flow = linear_flow.Flow('remove_storage_%s' % instance.uuid)
    flow.add(*_disconnect_volume_tasks(volumes, adapter, instance,
                                       vfc_ports))
    flow.add(*_remove_disk_tasks(disk_driver, instance, destroy_disks))
    if rescue_disks is not None:
        flow.add(tf_rescue.RemoveRescueDisk(rescue_disks, instance))
    return flow


def _disconnect_volume_tasks(volumes, adapter, instance, vfc_ports):
    tasks = [tf_stg.DisconnectVolume(volume, index)
             for index, volume in enumerate(volumes)]
    if vfc_ports:
        tasks.append(tf_stg.RemoveVirtualFCPorts(adapter, instance))
    return tasks


def _remove_disk_tasks(disk_driver, instance, destroy_disks):
    tasks = [tf_stg.DetachDisk(disk_driver, instance)]
    if destroy_disks:
        tasks.append(tf_stg.DeleteDisk(disk_driver, instance))
    return tasks


def receive(adapter, instance, network_info, platform, volumes, data):
    """The flow that readies the destination of a live migration for
    ``instance``'s LPAR: trunk adapters for its Open vSwitch VIFs (their
    VLANs noted in ``data``, the PowerVMLiveMigrateData), its ``volumes``
    (VolumeAdapters) found here and physical ports here for its virtual FC
    adapters (noted in ``data`` too).  A failure removes what it made."""
    flow = linear_flow.Flow('receive_%s' % instance.uuid)
    # First: a destination that does not take the source's key has made
    # nothing yet.
    flow.add(tf_mig.AuthorizeSource(adapter, data))
    flow.add(tf_mig.ReceiveVifs(adapter, instance, network_info, platform,
                                data))
    flow.add(*(tf_mig.ReceiveVolume(volume, index)
               for index, volume in enumerate(volumes)))
    flow.add(tf_mig.ReceiveVirtualFCPorts(adapter, data))
    return flow


def live_migrate(adapter, instance, mover, data, config_drive=False):
    """The flow that moves ``instance``'s LPAR to the destination ``data``
    names (migration.Mover), its config drive unmapped first (and mapped
    again when the move fails)."""
    flow = linear_flow.Flow('live_migrate_%s' % instance.uuid)
    if config_drive:
        flow.add(tf_mig.UnmapConfigDrive(adapter, instance))
    flow.add(tf_mig.MoveLPAR(mover, adapter, instance, data))
    return flow


def run(flow, instance):
    """Run ``flow`` to the end, or revert it and raise what failed.

    When several steps failed (a step and a revert), the first failure is
    raised: it is what went wrong; the rest is already logged.
    """
    _run(_engine(flow, instance))


def run_or_roll_back(flow, instance, inner_error=None):
    """Run ``flow`` like ``run``; when it fails and every step it took is
    undone, raise nova's InstanceFaultRollback of a ResizeError: the
    instance is as it was, and nova puts it back in the state it was in.
    When an undo failed too, its failure is raised: nova marks the
    instance in error.

    :param inner_error: makes the rollback's inner exception of the
                        failure, for an operation other than a resize.
    """
    engine = _engine(flow, instance)
    try:
        _run(engine)
    except Exception as exc:
        if engine.storage.get_flow_state() != tf_states.REVERTED:
            raise
        inner = (inner_error or _resize_error)(exc)
        raise exception.InstanceFaultRollback(inner_exception=inner) from exc


def _resize_error(exc):
    return exc if isinstance(exc, exception.ResizeError) else \
        exception.ResizeError(reason=exc)


def _engine(flow, instance):
    LOG.debug('Running flow %s.', flow.name, instance=instance)
    return taskflow.engines.load(flow, engine='serial')


def _run(engine):
    try:
        with tf_logging.DynamicLoggingListener(engine, log=LOG):
            engine.run()
    except tf_exc.WrappedFailure as wrapped:
        next(iter(wrapped)).reraise()
