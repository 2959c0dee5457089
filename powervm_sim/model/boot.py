"""What a partition booted from: the PowerOn job's boot mode and the disk
the simulated firmware then starts the guest from.

NovaLink's PowerOn job takes ``bootmode`` (pypowervm's
``power_opts.BootMode``: norm, sms, dd, ds, of, pbl); without it the
partition starts in its own ``BootMode`` (the wire's ``Normal``,
``System_Management_Services`` ...).  The REST API does not show what a
partition last booted, so the simulator keeps it in the model only
(``Partition.last_boot``), for tests to assert.

Which disk the guest boots from is the simulator's rule, as no firmware
runs here:

- a normal boot (and every mode but SMS) follows the boot list: the first
  disk mapped to the partition (the one it was deployed with);
- an SMS boot stops in System Management Services, where the operator (or
  nova's rescue) picks a device: the simulator takes the disk mapped to the
  partition last, which is how a rescue designates its rescue disk.

Disks are vSCSI-mapped storage other than optical media, in the order
their mappings were made on any VIOS (``VSCSIMapping.made``; a disk
several VIOSes map counts from its first mapping).
"""

import dataclasses

NORMAL = 'norm'
SMS = 'sms'
# The PowerOn job's bootmode values (pypowervm's power_opts.BootMode).
JOB_BOOT_MODES = (NORMAL, SMS, 'dd', 'ds', 'of', 'pbl')
# A partition's own BootMode (the wire's PartitionBootMode) as the job's.
PARTITION_BOOT_MODES = {
    'Normal': NORMAL, 'System_Management_Services': SMS,
    'Diagnostic_With_Default_Boot_List': 'dd',
    'Diagnostic_With_Stored_Boot_List': 'ds', 'Open_Firmware': 'of',
    'Petitboot': 'pbl',
    # What NovaLink shows when it cannot tell: a start takes the boot list.
    'Default': NORMAL, 'Unavailable': NORMAL, 'Unknown': NORMAL,
}


@dataclasses.dataclass(kw_only=True)
class Boot:
    """How a partition was last started.

    :param mode: the PowerOn job's boot mode (JOB_BOOT_MODES).
    :param device: the name of the disk the guest booted from (a logical
                   volume, logical unit, hdisk or file), or None when
                   the partition has no disk.
    """

    mode: str
    device: str | None = None


def job_mode(requested, part):
    """The boot mode of a PowerOn job: ``requested`` (its bootmode
    parameter, validated) or the partition's own.

    :raises ValueError: ``requested`` is no boot mode.
    """
    if requested is None:
        return PARTITION_BOOT_MODES.get(part.boot_mode, NORMAL)
    mode = requested.strip()
    if mode not in JOB_BOOT_MODES:
        raise ValueError('Unknown boot mode %r: one of %s.' % (
            requested, ', '.join(JOB_BOOT_MODES)))
    return mode


def boot(model, part, mode):
    """The Boot of ``part`` started in ``mode`` now."""
    disks = mapped_disks(model, part)
    if not disks:
        return Boot(mode=mode)
    return Boot(mode=mode, device=disks[-1] if mode == SMS else disks[0])


def mapped_disks(model, part):
    """Names of the disks mapped to ``part``, oldest mapping first."""
    mappings = sorted(
        (mapping for vios in model.vioses(part.parent)
         for mapping in vios.scsi_mappings
         if mapping.storage is not None and not mapping.is_vopt and
         mapping.client is not None and mapping.client.parent is part),
        key=lambda mapping: mapping.made)
    names = []
    for mapping in mappings:
        if mapping.storage.name not in names:
            names.append(mapping.storage.name)
    return names
