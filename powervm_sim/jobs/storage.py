"""Storage jobs of a VIOS: FC disk discovery (LUARecovery), iSCSI
discovery and removal, RBD checks, virtual disk rescans and device
removal."""

import itertools
import uuid as uuidlib

from powervm_sim import jobs
from powervm_sim.wire import lua as lua_wire
from powervm_sim.wire import spec


@jobs.operation('LUARecovery', 'VirtualIOServer')
def lua_recovery(ctx):
    """Find the FC disks the ITLs of ``inputXML`` reach and configure
    their hdisks, or answer an inventory query of disks."""
    vios, model = ctx.target, ctx.model
    try:
        request = lua_wire.parse_input(ctx.required('inputXML'))
    except spec.SchemaError as exc:
        raise jobs.JobError('%s The job parameter inputXML is not valid: '
                            '%s' % (jobs.BAD_PARAMETER, exc)) from None
    if isinstance(request, lua_wire.InventoryQuery):
        with model.registry.lock:
            pvs = [pv for pv in vios.physical_volumes
                   if pv.udid in request.udids]
            return {'OutputXML': lua_wire.inventory_result(
                vios.logical_serial, pvs)}
    answers = [(device, model.recover_lua(
        vios, device.itls, vendor=device.vendor, device_id=device.device_id,
        reliable=request.reliable)) for device in request.devices]
    return {'OutputXML': lua_wire.discovery_result(answers)}


@jobs.operation('RBDExists', 'VirtualIOServer')
def rbd_exists(ctx):
    name = ctx.required('name')
    exists = name in ctx.model.rbd_volumes
    return {'exists': 'true' if exists else 'false'}


# hdisk/_iscsi.py's ISCSIStatus values.
ISCSI_SUCCESS = '0'
ISCSI_ERR_NO_OBJS_FOUND = '21'


@jobs.operation('ISCSIDiscovery', 'VirtualIOServer')
def iscsi_discovery(ctx):
    """Log in to a target: one hdisk per target, reached by all its IQNs.

    With no parameters the job reports the VIOS's initiator name instead.
    """
    vios, model = ctx.target, ctx.model
    if not ctx.params:
        return {'RETURN_CODE': ISCSI_SUCCESS,
                'InitiatorName': vios.iscsi_initiator}
    iqns = _list_param(ctx.required('targetIQN'))
    portals = _list_param(ctx.required('hostIP'))
    with model.registry.lock:
        devices = vios.iscsi_devices
        known = [devices[iqn] for iqn in iqns if iqn in devices]
        if known:
            device = known[0]
        else:
            name = 'hdisk%d' % _next_hdisk(vios)
            udid = '01M0lCTTIxNDUxMjQ2%s' % uuidlib.uuid5(
                uuidlib.NAMESPACE_URL, ','.join(portals + iqns)).hex
            device = [name, udid]
        for iqn in iqns:
            devices[iqn] = device
    lines = ['%s %s %s' % (iqn, device[0], device[1]) for iqn in iqns]
    return {'RETURN_CODE': ISCSI_SUCCESS, 'DEV_OUTPUT': repr(lines)}


@jobs.operation('ISCSIRemove', 'VirtualIOServer')
def iscsi_remove(ctx):
    iqns = _list_param(ctx.required('targetIQN'))
    with ctx.model.registry.lock:
        devices = ctx.target.iscsi_devices
        gone = [iqn for iqn in iqns if devices.pop(iqn, None)]
    return {'RETURN_CODE': ISCSI_SUCCESS if gone else
            ISCSI_ERR_NO_OBJS_FOUND}


def _list_param(text):
    """pypowervm sends lists as '[a,b]' (hdisk/_iscsi.py)."""
    if text.startswith('[') and text.endswith(']'):
        return [v.strip() for v in text[1:-1].split(',') if v.strip()]
    return [text]


def _next_hdisk(vios):
    taken = {name for name, _ in vios.iscsi_devices.values()}
    taken |= {getattr(pv, 'name', None) for pv in vios.physical_volumes}
    return next(n for n in itertools.count(100)
                if 'hdisk%d' % n not in taken)


@jobs.operation('RescanVirtualDisk', 'VirtualIOServer')
def rescan_virtual_disk(ctx):
    ctx.required('VirtualDiskUDID')
    return {'RETURN_CODE': '0'}


@jobs.operation('RemoveDevice', 'VirtualIOServer')
def remove_device(ctx):
    """rmdev of an hdisk nothing uses (RETURN_CODE 0), else the job fails
    with rmdev's message."""
    name = ctx.required('devName')
    with ctx.model.registry.lock:
        devices = ctx.target.iscsi_devices
        if any(dev[0] == name for dev in devices.values()):
            for iqn in [i for i, dev in devices.items() if dev[0] == name]:
                del devices[iqn]
        else:
            ctx.model.remove_device(ctx.target, name)
    return {'RETURN_CODE': '0'}
