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
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import partition as pvm_partition

from nova_powervm import adapter as pvm_adapter
from nova_powervm import conf
from nova_powervm import disk
from nova_powervm.disk import driver as pvm_disk_driver
from nova_powervm.disk import snapshot as pvm_snapshot
from nova_powervm import event
from nova_powervm import flows
from nova_powervm import host
from nova_powervm import media
from nova_powervm import mgmt
from nova_powervm import migrate_data as pvm_migrate_data
from nova_powervm import migration
from nova_powervm import nvram as pvm_nvram
from nova_powervm import orphans
from nova_powervm import rescue
from nova_powervm import recovery
from nova_powervm import resize
from nova_powervm import undo
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
        # From a boot disk in a shared storage pool, or a boot volume
        # (recovery.py).
        supports_evacuate=True,
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
        # Saves LPARs' NVRAM off the request path (nvram/).
        self.nvram = None
        # The local side of the NovaLink partition: snapshot disks, VNC
        # consoles, Open vSwitch ports.
        self.platform = mgmt.load_platform()
        # The resources read by the last get_available_resource, which the
        # resource tracker follows with update_provider_tree.
        self._resources = None
        # The compute host's name, fixed when the service starts (nova's
        # CONF.host belongs to the process, not to this driver).
        self._nodename = CONF.host
        # The live migrations this host runs as their source.
        self._mover = migration.Mover()

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
                self._stop_nvram()
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
        self.nvram = pvm_nvram.start(adapter)
        # Last: nothing else can fail once NovaLink's events flow in.
        self._event_handler = event.start(
            self, adapter, CONF.powervm.lifecycle_event_delay,
            nvram=self.nvram)

    def cleanup_host(self, host):
        """Stop listening for NovaLink events and log off."""
        if self._event_handler is not None:
            event.stop(self.adapter, self._event_handler,
                       CONF.powervm.request_timeout)
            self._event_handler = None
        # Before logging off: saves in flight read NovaLink.
        self._stop_nvram()
        if self.adapter is not None:
            pvm_adapter.disconnect(self.adapter)
            self.adapter = None

    def _stop_nvram(self):
        """Stop the NVRAM store's thread: what is due within
        [powervm] request_timeout is still saved (events of LPARs whose
        NVRAM changed before are lost: NovaLink would report them to a
        running nova-compute only)."""
        if self.nvram is not None:
            self.nvram.shutdown(CONF.powervm.request_timeout)
            self.nvram = None

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
        # An unshelve after an offload makes the LPAR again: with the
        # NVRAM the offload saved.
        nvram = self._kept_nvram(instance) \
            if pvm_nvram.restores_on_spawn(instance) else None
        self._bring_up(
            instance, image_meta, network_info, block_device_info,
            flows.BootDisk(self.disk_driver, context),
            flows.ConfigDrive(injected_files, network_info, admin_password),
            power_on, exception.InstanceDeployFailure, nvram=nvram)

    def _bring_up(self, instance, image_meta, network_info,
                  block_device_info, boot_disk, config_drive, power_on,
                  failure_cls, nvram=None):
        """Run the flow that makes ``instance``'s LPAR on this host and
        brings it up: VIFs, ``config_drive`` if the instance has one,
        ``boot_disk`` unless it boots from a volume, volumes; errors that
        are not nova's become ``failure_cls``.  An LPAR recreated here
        from another host's may start with its ``nvram``."""
        pvm_vif.check_supported(network_info)
        bdms = _volume_bdms(block_device_info)
        flow = flows.spawn(
            self.adapter, self.host_wrapper, instance, image_meta,
            power_on=power_on, network=self._network(network_info),
            config_drive=config_drive if media.required(instance) else None,
            boot_disk=None if _boots_from_volume(bdms) else boot_disk,
            volumes=self._volumes(instance, bdms), nvram=nvram)
        _run(flow, instance, failure_cls)

    def _volumes(self, instance, bdms):
        """The flows.Volumes of nova's volume block device mappings."""
        return [flows.Volume(self._volume(instance, bdm['connection_info']),
                             on_connected=_saver(bdm))
                for bdm in bdms]

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        volumes = [self._volume(instance, bdm['connection_info'])
                   for bdm in _volume_bdms(block_device_info)]
        if resize.reverting_in_place(context, instance):
            # nova's revert of a resize on this host destroys "the resized
            # instance", which is the instance's only LPAR: it is only
            # readied again as the resize readied it (stopped, volumes
            # released: nova connects them anew), and
            # finish_revert_migration gives it its flavor back.
            _run(flows.stop_for_move(self.adapter, instance, volumes,
                                     restore=False),
                 instance, exception.InstanceTerminationFailure)
            return
        nvram_action = pvm_nvram.destroy_action(instance, self._nodename)
        if nvram_action == pvm_nvram.SAVE:
            # Shelve offload: unshelve makes the LPAR again from it.
            self._save_nvram(instance)
        has_config_drive = media.required(instance)
        mgmt.close_console(self.platform, self.adapter, instance)
        vfc_ports = pvm_npiv.has_ports(instance)
        # Only then: looking for one costs reads of every VIOS.
        rescue_disks = self.disk_driver.for_rescue() \
            if rescue.may_have_rescue_disk(instance) else None
        flow = flows.destroy(self.adapter, instance, platform=self.platform,
                             config_drive=has_config_drive,
                             disk_driver=self.disk_driver,
                             destroy_disks=destroy_disks, volumes=volumes,
                             vfc_ports=vfc_ports, rescue_disks=rescue_disks)
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
                                      vfc_ports, rescue_disks),
                 instance, exception.InstanceTerminationFailure)
        except exception.InstanceTerminationFailure:
            raise
        except exception.NovaException as exc:
            raise exception.InstanceTerminationFailure(reason=exc) from exc
        if nvram_action == pvm_nvram.REMOVE:
            # Off the request path: a failing store never fails a delete.
            self._remove_nvram(instance)

    # -------------------------------------------------------------- NVRAM
    def _save_nvram(self, instance):
        """Save the LPAR's NVRAM now, before it goes or moves; a failure
        is logged (and the save tried again in the background)."""
        if self.nvram is not None:
            self.nvram.save_now(vm.get_pvm_uuid(instance), instance.uuid)

    def _remove_nvram(self, instance):
        if self.nvram is not None:
            self.nvram.remove(vm.get_pvm_uuid(instance), instance.uuid)

    def _kept_nvram(self, instance):
        """The NVRAM the store keeps of ``instance`` (as the LPAR's
        create takes it), or None."""
        if self.nvram is None:
            return None
        return pvm_nvram.as_nvram(self.nvram.fetch(
            instance.uuid, vm.get_pvm_uuid(instance)))

    def power_off(self, instance, timeout=0, retry_interval=0):
        vm.power_off(self.adapter, instance, timeout=timeout)

    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None, share_info=None):
        vm.power_on(self.adapter, instance)

    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None, share_info=None):
        vm.reboot(self.adapter, instance, hard=reboot_type == 'HARD')

    # ------------------------------------------------------------ rescue
    def rescue(self, context, instance, network_info, image_meta,
               rescue_password, block_device_info, share_info):
        """Boot the instance from a rescue disk made from ``image_meta``
        (its own image if that names none), its boot disk left mapped and
        untouched (rescue.py).  A failure leaves it as it was."""
        rescue.check_rescuable(instance, _boots_from_volume(
            _volume_bdms(block_device_info)))
        image_meta = rescue.rescue_image(context, instance, image_meta)
        _run(rescue.rescue_flow(self.adapter, self.disk_driver, context,
                                instance, image_meta),
             instance, exception.InstanceRescueFailure)

    def unrescue(self, context, instance):
        """Boot the instance from its boot disk again; its rescue disk
        goes.  A failure leaves it rescued."""
        _run(rescue.unrescue_flow(self.adapter, self.disk_driver, instance),
             instance, exception.InstanceUnRescueFailure)

    # ----------------------------------------------- rebuild, evacuate
    def rebuild(self, context, instance, image_meta, injected_files,
                admin_password, allocations, bdms, detach_block_devices,
                attach_block_devices, network_info=None, evacuate=False,
                block_device_info=None, preserve_ephemeral=False,
                accel_uuids=None, reimage_boot_volume=False):
        """Rebuild the instance on its host from ``image_meta``, keeping
        its LPAR; or, with ``evacuate``, recreate it here from its disk
        while its own host is down (recovery.py).

        A boot volume to reimage is nova's own rebuild's to do
        (NotImplementedError hands it back): only nova's compute manager
        has Cinder reimage the volume and waits for it; it destroys the
        LPAR and spawns it again from the reimaged volume, which is all
        the instance has to lose.  (nova's API asks every rebuild from
        microversion 2.93 on to reimage: an instance without a boot
        volume has none to reimage.)
        """
        boots_from_volume = _boots_from_volume(
            _volume_bdms(block_device_info))
        if reimage_boot_volume and boots_from_volume and not evacuate:
            raise NotImplementedError()
        recovery.check_rebuild(instance, preserve_ephemeral)
        disk_driver = None if boots_from_volume else self.disk_driver
        if evacuate:
            self._evacuate(context, instance, image_meta, injected_files,
                           admin_password, bdms, detach_block_devices,
                           attach_block_devices, network_info, disk_driver)
            return
        recovery.spawning(instance)
        try:
            flows.run_or_roll_back(
                recovery.take_down(self.adapter, disk_driver, context,
                                   instance, image_meta),
                instance, inner_error=recovery.rebuild_error(instance))
        except exception.InstanceFaultRollback as exc:
            if not isinstance(exc.__cause__, exception.InstanceNotFound):
                raise
            self._remake(context, instance, image_meta, injected_files,
                         admin_password, network_info, block_device_info)
            return
        has_config_drive = media.required(instance)
        _run(recovery.bring_back(
            self.adapter, instance, image_meta,
            boot_disk=flows.BootDisk(disk_driver, context)
            if disk_driver is not None else None,
            config_drive=flows.ConfigDrive(
                injected_files, network_info, admin_password)
            if has_config_drive else None,
            mgmt_vif=CONF.powervm.use_rmc_mgmt_vif),
            instance, exception.InstanceDeployFailure)

    def _remake(self, context, instance, image_meta, injected_files,
                admin_password, network_info, block_device_info):
        """Make the instance anew, as a spawn does, where it has no LPAR
        (a deploy that failed: nova lets an instance in ERROR be rebuilt),
        once what that deploy may have left is gone."""
        LOG.info('The instance has no LPAR to rebuild; making it anew.',
                 instance=instance)
        self.destroy(context, instance, network_info, block_device_info)
        self._bring_up(
            instance, image_meta, network_info, block_device_info,
            flows.BootDisk(self.disk_driver, context),
            flows.ConfigDrive(injected_files, network_info, admin_password),
            True, exception.InstanceDeployFailure)

    def _evacuate(self, context, instance, image_meta, injected_files,
                  admin_password, bdms, detach_block_devices,
                  attach_block_devices, network_info, disk_driver):
        """Make the instance's LPAR here from its boot disk in the shared
        storage pool (or its boot volume); refused, with nothing changed,
        for a disk this host does not reach.  A failure removes what it
        made here: the instance's host still has its LPAR and disk."""
        recovery.check_evacuable(disk_driver, instance)
        block_device_info = recovery.reconnect_volumes(
            context, instance, bdms, detach_block_devices,
            attach_block_devices)
        # The config drive is written anew: its media stay on the host
        # that is down.  The LPAR starts with the NVRAM last saved there.
        self._bring_up(
            instance, image_meta, network_info, block_device_info,
            flows.MovedBootDisk(self.disk_driver),
            flows.ConfigDrive(injected_files, network_info, admin_password),
            True, exception.InstanceDeployFailure,
            nvram=self._kept_nvram(instance))

    def instance_on_disk(self, instance):
        """Whether this host reaches the instance's boot disk: nova's
        question before an evacuate, the disk driver's answer."""
        return self.disk_driver.instance_on_disk(instance)

    # ------------------------------------------------- resize, migration
    def migrate_disk_and_power_off(self, context, instance, dest, flavor,
                                   network_info, block_device_info=None,
                                   timeout=0, retry_interval=0):
        """Ready the instance to move to ``flavor`` (on this host or
        another): stop it, let go of its volumes, grow its boot disk.

        What cannot be done (a smaller root disk, a boot disk only this
        host reaches going elsewhere) is refused before anything changes;
        a failure gives the instance back as it was.  Either way nova gets
        InstanceFaultRollback and puts the instance back in its state.
        """
        bdms = _volume_bdms(block_device_info)
        disk_driver = None if _boots_from_volume(bdms) else self.disk_driver
        in_place = resize.stays_on_host(context, instance, dest)
        resize.check_move(instance, flavor, in_place, disk_driver)
        disk_bytes = None
        if disk_driver is not None and \
                flavor.root_gb > instance.flavor.root_gb:
            disk_bytes = flavor.root_gb * pvm_disk_driver.GIB
        flow = flows.stop_for_move(
            self.adapter, instance,
            [self._volume(instance, bdm['connection_info']) for bdm in bdms],
            timeout=timeout, disk_driver=disk_driver, disk_bytes=disk_bytes)
        flows.run_or_roll_back(flow, instance)
        if not in_place:
            # The LPAR is stopped: its NVRAM is final.  The destination
            # makes its LPAR with it (finish_migration).
            self._save_nvram(instance)
        return {} if in_place else resize.storage_info(disk_driver)

    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None, power_on=True,
                         share_info=None):
        """Bring the instance up with its new flavor (``instance.flavor``
        now): on the same host its LPAR is updated, elsewhere this host
        makes one and maps the boot disk the source left in shared
        storage."""
        bdms = _volume_bdms(block_device_info)
        if resize.same_host(migration):
            self._resize_in_place(instance, bdms, power_on)
            return
        resize.check_disk_info(disk_info, self.disk_driver)
        # The config drive is written anew: its media stay on the source.
        # The LPAR starts with the NVRAM the source saved.
        self._bring_up(
            instance, image_meta, network_info, block_device_info,
            flows.MovedBootDisk(self.disk_driver),
            flows.ConfigDrive([], network_info, None), power_on,
            exception.ResizeError, nvram=self._kept_nvram(instance))

    def _resize_in_place(self, instance, bdms, power_on):
        """Give the LPAR the new flavor, connect its volumes, start it.

        After a failure the LPAR gets back its old flavor, volumes and
        power state: the instance is as it was before the resize (but for
        a grown disk), which nova learns from InstanceFaultRollback.
        """
        volumes = self._volumes(instance, bdms)
        try:
            flows.run_or_roll_back(flows.resize_in_place(
                self.adapter, self.host_wrapper, instance,
                flavor=instance.flavor, prior_flavor=instance.old_flavor,
                volumes=volumes, power_on=power_on), instance)
        except exception.InstanceFaultRollback:
            with excutils.save_and_reraise_exception():
                # Undone, but for what migrate_disk_and_power_off did; a
                # failure here replaces the rollback: nova then marks the
                # instance in error.
                LOG.warning('Bringing the instance back up as it was.',
                            instance=instance)
                flows.run(flows.resize_in_place(
                    self.adapter, self.host_wrapper, instance,
                    volumes=volumes, power_on=power_on), instance)

    def confirm_migration(self, context, migration, instance, network_info):
        """Forget the instance's LPAR on the source of a move: it goes
        with what it had on this host (adapters, config drive, the boot
        disk's mappings); the disk stays, the destination uses it."""
        if resize.same_host(migration):
            LOG.info('The resized LPAR is the instance\'s own; nothing to '
                     'remove.', instance=instance)
            return
        self.destroy(context, instance, network_info, destroy_disks=False)

    def finish_revert_migration(self, context, instance, network_info,
                                migration, block_device_info=None,
                                power_on=True, share_info=None):
        """Bring the instance back up on the source with its old flavor
        (``instance.flavor`` again): the LPAR resized on this host gets it
        back; the LPAR left here by a move never lost it."""
        flavor = instance.flavor if resize.same_host(migration) else None
        _run(flows.resize_in_place(
            self.adapter, self.host_wrapper, instance, flavor=flavor,
            prior_flavor=instance.new_flavor,
            volumes=self._volumes(instance,
                                  _volume_bdms(block_device_info)),
            power_on=power_on), instance, exception.ResizeError)
        if flavor is None:
            # The store holds what the destination's LPAR last wrote;
            # this LPAR, the instance's again, never lost its own.
            self._save_nvram(instance)

    def check_instance_shared_storage_local(self, context, instance):
        """Where this host's boot disks are; nova asks the other host of
        a move whether its disks are there too (a revert then keeps the
        disk)."""
        return resize.storage_info(self.disk_driver)

    def check_instance_shared_storage_remote(self, context, data):
        return resize.shares_storage(self.disk_driver, data)

    # ----------------------------------------------------- live migration
    def check_can_live_migrate_destination(
            self, context, instance, src_compute_info, dst_compute_info,
            block_migration=False, disk_over_commit=False):
        """Whether this system can take the instance's LPAR now; where it
        is (the PowerVMLiveMigrateData the other steps carry)."""
        with _precheck_failing():
            self.host_wrapper = self.host_wrapper.refresh()
            data = migration.check_destination(self.host_wrapper, instance)
            pvm_npiv.check_hostable(self.adapter, instance)
            return data

    def cleanup_live_migration_destination_check(self, context,
                                                 dest_check_data):
        """Nothing to clean up: the destination's check changes nothing.
        """

    def check_can_live_migrate_source(self, context, instance,
                                      dest_check_data,
                                      block_device_info=None):
        """Refuse, changing nothing, a live migration PowerVM cannot make
        (see migration.check_source)."""
        bdms = _volume_bdms(block_device_info)
        with _precheck_failing():
            migration.check_source(
                self.adapter, self.host_wrapper.refresh(), instance,
                dest_check_data,
                None if _boots_from_volume(bdms) else self.disk_driver,
                [self._volume(instance, bdm['connection_info'])
                 for bdm in bdms])
        return dest_check_data

    def pre_live_migration(self, context, instance, block_device_info,
                           network_info, disk_info, migrate_data):
        """Ready this host, the destination, for the instance's LPAR:
        trunk adapters for its Open vSwitch VIFs, its volumes found by
        this system's VIOSes.  On failure nothing of it is left."""
        volumes = [self._volume(instance, bdm['connection_info'])
                   for bdm in _volume_bdms(block_device_info)]
        try:
            flows.run(flows.receive(self.adapter, instance, network_info,
                                    self.platform, volumes, migrate_data),
                      instance)
        except Exception as exc:
            raise exception.MigrationError(
                reason='managed system %s cannot take the LPAR: %s' % (
                    self.host_wrapper.system_name, exc)) from exc
        return migrate_data

    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        """Move the instance's LPAR to ``dest`` (NovaLink's live partition
        mobility), then call nova's ``post_method``.

        A move that fails (or that nova aborts, or that outlasts [powervm]
        live_migration_timeout) leaves the LPAR running here as before:
        nova's ``recover_method`` rolls back, and nothing is raised, as
        the instance is fine where it was.  Only an LPAR that does not
        come to rest raises (nova then marks the instance in error).
        """
        try:
            if not isinstance(migrate_data,
                              pvm_migrate_data.PowerVMLiveMigrateData):
                raise migration.MoveFailed(
                    migration.FAILED, 'the migrate data is %s, not a '
                    'PowerVM host\'s' % type(migrate_data).__name__)
            self._mover.run(flows.live_migrate(
                self.adapter, instance, self._mover, migrate_data,
                config_drive=media.required(instance)), instance)
        except migration.MoveFailed as failed:
            LOG.error('The live migration to %(dest)s did not happen; the '
                      'instance runs on here: %(reason)s',
                      {'dest': dest, 'reason': failed.reason},
                      instance=instance)
            recover_method(context, instance, dest, migrate_data,
                           migration_status=failed.status)
            return
        post_method(context, instance, dest, block_migration, migrate_data)

    def live_migration_abort(self, instance):
        """Abort the instance's move (NovaLink's MigrateAbort); an LPAR not
        migrating (any more) has nothing to abort."""
        self._mover.abort(self.adapter, instance)

    def live_migration_force_complete(self, instance):
        """Nothing to do: live partition mobility has no way to hurry a
        move (no pause, no post-copy); it completes on its own, or is
        aborted."""
        LOG.warning('A live partition migration cannot be forced to '
                    'complete; it completes on its own (or abort it).',
                    instance=instance)

    def post_live_migration(self, context, instance, block_device_info,
                            migrate_data=None):
        """On the source, moved: its volumes' storage here goes."""
        migration.release_volumes([
            self._volume(instance, bdm['connection_info'])
            for bdm in _volume_bdms(block_device_info)])

    def post_live_migration_at_source(self, context, instance,
                                      network_info):
        """On the source, moved: the trunk adapters of its Open vSwitch
        VIFs and its config drive media go."""
        migration.release_source(self.adapter, instance, network_info,
                                 self.platform, media.required(instance))

    def post_live_migration_at_destination(self, context, instance,
                                           network_info,
                                           block_migration=False,
                                           block_device_info=None):
        """On the destination, arrived: the config drive is written anew;
        the instance keeps the port maps of its virtual FC adapters here.
        """
        migration.finish_destination(self.adapter, instance, network_info,
                                     media.required(instance))
        undo.retrying_once(pvm_npiv.take_over_ports, self.adapter, instance)

    def rollback_live_migration_at_source(self, context, instance,
                                          migrate_data):
        """On the source, not moved: have the destination undo what it
        readied."""
        if isinstance(migrate_data,
                      pvm_migrate_data.PowerVMLiveMigrateData) and \
                migrate_data.obj_attr_is_set('migration'):
            migration.ask_destination_to_roll_back(context, instance,
                                                   migrate_data)

    def rollback_live_migration_at_destination(
            self, context, instance, network_info, block_device_info,
            destroy_disks=True, migrate_data=None):
        """On the destination, not moved: what pre_live_migration made
        goes (nova disconnects the volumes itself)."""
        migration.roll_back_destination(self.adapter, instance,
                                        network_info, self.platform)

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


@contextlib.contextmanager
def _precheck_failing():
    """NovaLink's errors during a live migration's check are the check's
    failure to nova."""
    try:
        yield
    except pvm_exc.Error as exc:
        raise exception.MigrationPreCheckError(reason=exc) from exc


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
