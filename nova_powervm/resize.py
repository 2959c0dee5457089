"""Resize and cold migration: what the driver checks before an instance
moves, and how it tells where the instance goes.

nova moves an instance in steps, each on one host: the source stops it
and lets go of it (migrate_disk_and_power_off), the destination brings it
up with the new flavor (finish_migration); then the source forgets it
(confirm_migration) or takes it back (destroy on the destination,
finish_revert_migration on the source).  When source and destination are
the same host the LPAR stays and is updated in place; otherwise the
destination makes an LPAR of its own (the same UUID, the new flavor) and
the source's stays, stopped, until nova confirms or reverts.  A boot disk
moves only in storage both hosts reach (a shared storage pool of both);
volumes are connected wherever the instance runs.
"""

from nova.compute import task_states
from nova import exception
from nova import objects

from nova_powervm import conf

CONF = conf.CONF

# What disk_info, from the source to the destination, and the shared
# storage check data name the boot disks' storage by.
STORAGE_KEY = 'storage'


def migration_of(context, instance):
    """nova's record of the move ``instance`` is in (its migration context
    names it), or None."""
    migration_context = instance.migration_context
    if migration_context is None:
        return None
    return objects.Migration.get_by_id(context,
                                       migration_context.migration_id)


def same_host(migration):
    """Whether ``migration`` (a resize) leaves the instance on its host."""
    return migration.source_compute == migration.dest_compute


def stays_on_host(context, instance, dest):
    """Whether moving ``instance`` to ``dest`` (nova gives the
    destination's address) leaves it on this host.

    nova's migration record tells; the address alone cannot, where
    several nova-computes share one (as in nova's functional tests).
    Without a record (nova's driver tests call the driver directly) it is
    all there is.
    """
    migration = migration_of(context, instance)
    if migration is None:
        return dest == CONF.my_ip
    return same_host(migration)


def reverting_in_place(context, instance):
    """Whether nova is reverting a resize that kept ``instance`` on this
    host: its revert then 'destroys the resized instance', which is the
    instance's only LPAR."""
    if instance.task_state != task_states.RESIZE_REVERTING:
        return False
    migration = migration_of(context, instance)
    return migration is not None and same_host(migration)


def check_move(instance, flavor, in_place, disk_driver):
    """Refuse, before anything changes, a move the driver cannot make.

    :param flavor: the flavor the instance moves to.
    :param in_place: whether it stays on this host.
    :param disk_driver: the disk driver of its boot disk; None when it
                        boots from a volume.
    :raises nova.exception.InstanceFaultRollback: of a ResizeError saying
            why: nova then gives the instance back its state.
    """
    if disk_driver is None:
        return
    if flavor.root_gb < instance.flavor.root_gb:
        _refuse('its root disk cannot shrink from %d GB to %d GB' % (
            instance.flavor.root_gb, flavor.root_gb))
    if not in_place and not disk_driver.shared:
        _refuse('its boot disk is in a volume group of this host, which '
                'no other host reaches; instances with their boot disk in '
                'a shared storage pool, or booted from a volume, can move '
                'to another host')


def _refuse(reason):
    raise exception.InstanceFaultRollback(
        inner_exception=exception.ResizeError(reason=reason))


def storage_info(disk_driver):
    """Where the boot disks are, for another host to tell whether it
    reaches them too: what the source gives the destination (disk_info)
    and nova's shared storage check.

    :param disk_driver: the disk driver of the instance's boot disk; None
                        when it boots from a volume.
    """
    if disk_driver is None:
        return {}
    return {STORAGE_KEY: disk_driver.storage_id}


def shares_storage(disk_driver, info):
    """Whether the boot disks of the host that gave ``info``
    (storage_info) are in this host's storage too."""
    return info.get(STORAGE_KEY) == disk_driver.storage_id


def check_disk_info(info, disk_driver):
    """Refuse, on the destination, a boot disk its storage does not hold.

    :raises nova.exception.ResizeError:
    """
    if STORAGE_KEY in info and not shares_storage(disk_driver, info):
        raise exception.ResizeError(
            reason='the boot disk is in storage %s, which this host does '
            'not reach (its disks are in %s)' % (info[STORAGE_KEY],
                                                disk_driver.storage_id))
