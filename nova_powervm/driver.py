"""The PowerVM compute driver: translates nova's calls into NovaLink work.

The driver only orchestrates: connecting is in ``adapter``, the host's
resources in ``host``, LPARs in ``vm``, events in ``event``, and whatever
changes several things at once runs as a flow from ``flows``.
"""

import contextlib

from nova import exception
from nova.virt import driver
from nova.virt import hardware
from oslo_log import log as logging
from oslo_utils import excutils
from pypowervm.tasks import partition as pvm_partition

from nova_powervm import adapter as pvm_adapter
from nova_powervm import conf
from nova_powervm import disk
from nova_powervm.disk import snapshot as pvm_snapshot
from nova_powervm import event
from nova_powervm import flows
from nova_powervm import host
from nova_powervm import media
from nova_powervm import mgmt
from nova_powervm import orphans
from nova_powervm import vif as pvm_vif
from nova_powervm import vm
from nova_powervm import volume as pvm_volume
from nova_powervm.volume import connector as pvm_connector
from nova_powervm.volume import npiv as pvm_npiv

LOG = logging.getLogger(__name__)
CONF = conf.CONF


class PowerVMDriver(driver.ComputeDriver):
    """nova compute driver for PowerVM partitions managed by NovaLink."""

    # Everything not named here keeps nova's default (unsupported).  Boot
    # disks are written raw into a volume group or a shared storage pool;
    # a grown volume is shown to the LPAR (volume/).
    capabilities = dict(
        driver.ComputeDriver.capabilities,
        supports_image_type_raw=True,
        supports_attach_interface=True,
        supports_extend_volume=True,
    )

    def __init__(self, virtapi):
        # Refuse to load with a bad [powervm] section rather than failing
        # half-way through the first spawn.
        conf.validate()
        super().__init__(virtapi)
        self.adapter = None
        self.host_wrapper = None
        self.disk_driver = None
        self._event_handler = None
        # The local side of the NovaLink partition: snapshot disks, VNC
        # consoles, Open vSwitch ports.
        self.platform = mgmt.load_platform()
        # The resources read by the last get_available_resource, which the
        # resource tracker follows with update_provider_tree.
        self._resources = None
        # The compute host's name, fixed when the service starts (nova's
        # CONF.host belongs to the process, not to this driver).
        self._nodename = CONF.host

    # ------------------------------------------------------------ service
    def init_host(self, host):
        """Connect to NovaLink and make the host ready for instances.

        Either every step succeeds or nova-compute does not start: a
        failure logs the session off again and raises.  Called again (as
        nova-compute may after a failed start), it first lets go of the
        previous session and its event listener.
        """
        self.cleanup_host(host)
        self._nodename = host
        adapter = pvm_adapter.connect()
        try:
            self._prepare_host(adapter)
        except Exception:
            with excutils.save_and_reraise_exception():
                self.adapter = self.host_wrapper = self.disk_driver = None
                pvm_adapter.disconnect(adapter)

    def _prepare_host(self, adapter):
        self.adapter = adapter
        self.host_wrapper = host.get_managed_system(adapter)
        LOG.info('Managing system %s through NovaLink.',
                 self.host_wrapper.system_name)
        pvm_partition.validate_vios_ready(
            adapter, CONF.powervm.vios_active_wait_timeout)
        # Mappings, storage, media and trunks left behind by LPARs deleted
        # outside nova, or by a deploy that died with nova-compute.
        orphans.remove(adapter, self.host_wrapper.uuid, self.platform,
                       CONF.powervm.pvm_vswitch_for_novalink_io)
        self.disk_driver = disk.load(adapter, self.host_wrapper.uuid)
        # Last: nothing else can fail once NovaLink's events flow in.
        self._event_handler = event.start(
            self, adapter, CONF.powervm.lifecycle_event_delay)

    def cleanup_host(self, host):
        """Stop listening for NovaLink events and log off."""
        if self._event_handler is not None:
            event.stop(self.adapter, self._event_handler,
                       CONF.powervm.request_timeout)
            self._event_handler = None
        if self.adapter is not None:
            pvm_adapter.disconnect(self.adapter)
            self.adapter = None

    # -------------------------------------------------------------- host
    def get_available_nodes(self, refresh=False):
        return [self._nodename]

    def get_host_ip_addr(self):
        return CONF.my_ip

    def get_host_uptime(self):
        return host.uptime()

    def get_available_resource(self, nodename):
        self.host_wrapper = self.host_wrapper.refresh()
        self._resources = host.read_resources(
            self.host_wrapper, self.disk_driver,
            CONF.powervm.proc_units_factor)
        return host.available_resource(self._resources, nodename)

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        resources = self._resources
        if resources is None:
            resources = host.read_resources(
                self.host_wrapper, self.disk_driver,
                CONF.powervm.proc_units_factor)
        configured, initial = host.configured_ratios(CONF)
        ratios = host.allocation_ratios(
            configured, initial, provider_tree.data(nodename).inventory)
        provider_tree.update_inventory(nodename, host.inventory(
            resources, ratios,
            reserved_cpus=CONF.reserved_host_cpus,
            reserved_memory_mb=CONF.reserved_host_memory_mb,
            reserved_disk_gb=self._get_reserved_host_disk_gb_from_config()))

    # --------------------------------------------------------- instances
    def list_instances(self):
        return [lpar.name for lpar in vm.list_lpars(self.adapter)]

    def list_instance_uuids(self):
        return vm.list_instance_uuids(self.adapter)

    def instance_exists(self, instance):
        return vm.instance_exists(self.adapter, instance)

    def get_info(self, instance, use_cache=True):
        pvm_state = vm.get_state(self.adapter, vm.get_pvm_uuid(instance))
        return hardware.InstanceInfo(state=vm.nova_power_state(pvm_state))

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        pvm_vif.check_supported(network_info)
        bdms = _volume_bdms(block_device_info)
        volumes = [flows.Volume(self._volume(instance, bdm['connection_info']),
                                on_connected=_saver(bdm))
                   for bdm in bdms]
        boot_disk = None
        if not _boots_from_volume(bdms):
            boot_disk = flows.BootDisk(self.disk_driver, context)
        config_drive = None
        if media.required(instance):
            config_drive = flows.ConfigDrive(injected_files, network_info,
                                             admin_password)
        flow = flows.spawn(self.adapter, self.host_wrapper, instance,
                           image_meta, power_on=power_on,
                           network=self._network(network_info),
                           config_drive=config_drive, boot_disk=boot_disk,
                           volumes=volumes)
        _run(flow, instance, exception.InstanceDeployFailure)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        has_config_drive = media.required(instance)
        volumes = [self._volume(instance, bdm['connection_info'])
                   for bdm in _volume_bdms(block_device_info)]
        mgmt.close_console(self.platform, self.adapter, instance)
        vfc_ports = pvm_npiv.has_ports(instance)
        flow = flows.destroy(self.adapter, instance, platform=self.platform,
                             config_drive=has_config_drive,
                             disk_driver=self.disk_driver,
                             destroy_disks=destroy_disks, volumes=volumes,
                             vfc_ports=vfc_ports)
        try:
            _run(flow, instance, exception.InstanceTerminationFailure)
        except exception.InstanceNotFound:
            LOG.info('The instance\'s LPAR is already gone.',
                     instance=instance)
            if has_config_drive:
                # Its media is not: the repository keeps it.
                media.delete_config_drive(self.adapter, instance)
            # Nor are its boot disk (a deploy that died half-way, an LPAR
            # deleted outside nova), its volumes' hdisks and maybe mappings
            # of both.
            _run(flows.remove_storage(self.adapter, self.disk_driver,
                                      instance, destroy_disks, volumes,
                                      vfc_ports),
                 instance, exception.InstanceTerminationFailure)
        except exception.InstanceTerminationFailure:
            raise
        except exception.NovaException as exc:
            raise exception.InstanceTerminationFailure(reason=exc) from exc

    def power_off(self, instance, timeout=0, retry_interval=0):
        vm.power_off(self.adapter, instance, timeout=timeout)

    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None, share_info=None):
        vm.power_on(self.adapter, instance)

    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None, share_info=None):
        vm.reboot(self.adapter, instance, hard=reboot_type == 'HARD')

    def snapshot(self, context, instance, image_id, update_task_state):
        """Upload the instance's boot disk to Glance as a raw image."""
        pvm_snapshot.snapshot(context, self.adapter, self.disk_driver,
                              self.platform, instance, image_id,
                              update_task_state)

    def get_vnc_console(self, context, instance):
        return mgmt.get_vnc_console(self.platform, self.adapter, instance)

    # ------------------------------------------------------------ volumes
    def _volume(self, instance, connection_info):
        return pvm_volume.adapter_for(self.adapter, instance,
                                      connection_info)

    def attach_volume(self, context, connection_info, instance, mountpoint,
                      disk_bus=None, device_type=None, encryption=None):
        """Connect a Cinder volume to the LPAR (running or not); on
        failure nothing of it is left."""
        pvm_volume.check_unencrypted(connection_info, encryption)
        volume = self._volume(instance, connection_info)
        # Whatever failed (the instance itself gone too), nova reports the
        # attach failed.
        with _failing_as(exception.VolumeAttachFailed, volume,
                         keep=exception.VolumeAttachFailed):
            flows.run(flows.attach_volume(volume), instance)

    def detach_volume(self, context, connection_info, instance, mountpoint,
                      encryption=None):
        """Disconnect a Cinder volume from the LPAR (or from an LPAR that
        is gone)."""
        volume = self._volume(instance, connection_info)
        with _failing_as(exception.VolumeDetachFailed, volume):
            flows.run(flows.detach_volume(volume), instance)

    def extend_volume(self, context, connection_info, instance,
                      requested_size):
        """Show the LPAR a volume Cinder grew."""
        volume = self._volume(instance, connection_info)
        with _failing_as(exception.VolumeExtendFailed, volume):
            volume.extend()

    def get_volume_connector(self, instance):
        """How storage back ends reach this host: its name, its storage
        address, the WWPNs of its VIOSes' physical FC ports (with NPIV:
        the instance's own WWPNs, and a name of the instance's) and their
        iSCSI initiator name."""
        return pvm_connector.volume_connector(
            self.adapter, instance, self._nodename, CONF.my_block_storage_ip,
            CONF.powervm.volume_use_multipath)

    # ---------------------------------------------------------- network
    def _network(self, network_info, mgmt_vif=None):
        if mgmt_vif is None:
            mgmt_vif = CONF.powervm.use_rmc_mgmt_vif
        return flows.Network(self.virtapi, list(network_info or []),
                             self.platform, mgmt_vif=mgmt_vif)

    def plug_vifs(self, instance, network_info):
        """Plug the VIFs the LPAR lacks (after a host restart).

        Raises only VirtualInterfacePlugException: nova-compute's start-up
        stops on anything else.
        """
        try:
            pvm_vif.check_supported(network_info)
            flows.run(flows.plug_vifs(self.adapter, instance,
                                      self._network(network_info)),
                      instance)
        except exception.VirtualInterfacePlugException:
            raise
        except Exception as exc:
            raise exception.VirtualInterfacePlugException(
                'Could not plug the VIFs of instance %s: %s' % (
                    instance.uuid, exc)) from exc

    def unplug_vifs(self, instance, network_info):
        """Remove the VIFs' adapters (and trunks); gone already is fine.
        """
        try:
            cnas = pvm_vif.get_cnas(self.adapter, instance)
        except exception.InstanceNotFound:
            LOG.info('The instance\'s LPAR is gone; no VIFs to unplug.',
                     instance=instance)
            return
        for vif in network_info or []:
            pvm_vif.unplug(self.adapter, instance, vif, cnas, self.platform)

    def attach_interface(self, context, instance, image_meta, vif):
        """Plug one more VIF; on failure nothing of it is left."""
        try:
            pvm_vif.check_supported([vif])
            flows.run(flows.plug_vifs(self.adapter, instance,
                                      self._network([vif], mgmt_vif=False)),
                      instance)
        except Exception as exc:
            LOG.error('Could not attach VIF %s: %s', vif.get('id'), exc,
                      instance=instance)
            raise exception.InterfaceAttachFailed(
                instance_uuid=instance.uuid) from exc

    def detach_interface(self, context, instance, vif):
        """Unplug one VIF; one not on the LPAR is already detached."""
        try:
            cnas = pvm_vif.get_cnas(self.adapter, instance)
            pvm_vif.unplug(self.adapter, instance, vif, cnas, self.platform)
        except Exception as exc:
            LOG.error('Could not detach VIF %s: %s', vif.get('id'), exc,
                      instance=instance)
            raise exception.InterfaceDetachFailed(
                instance_uuid=instance.uuid) from exc


def _run(flow, instance, failure_cls):
    """Run ``flow``; errors that are not nova's become ``failure_cls``."""
    try:
        flows.run(flow, instance)
    except exception.NovaException:
        raise
    except Exception as exc:
        raise failure_cls(reason=exc) from exc


@contextlib.contextmanager
def _failing_as(failure_cls, volume, keep=exception.NovaException):
    """Errors other than ``keep`` (nova's own) become ``failure_cls`` of
    ``volume``."""
    try:
        yield
    except keep:
        raise
    except Exception as exc:
        raise failure_cls(volume_id=volume.volume_id, reason=exc) from exc


def _volume_bdms(block_device_info):
    """nova's volume block device mappings, the boot volume first."""
    return sorted(driver.block_device_info_get_mapping(block_device_info),
                  key=lambda bdm: not _is_boot_volume(bdm))


def _is_boot_volume(bdm):
    return bdm.get('boot_index') == 0


def _boots_from_volume(bdms):
    return any(_is_boot_volume(bdm) for bdm in bdms)


def _saver(bdm):
    """What keeps the connection_info a volume adapter completed: nova's
    DriverVolumeBlockDevice saves it with the mapping (plain dicts, as
    some callers pass, have nothing to save)."""
    return getattr(bdm, 'save', None)
