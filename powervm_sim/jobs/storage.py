"""Storage jobs of a VIOS: FC disk discovery (LUARecovery), iSCSI
discovery and removal, RBD checks, virtual disk rescans and device
removal."""

from powervm_sim import jobs
from powervm_sim import model as model_mod
from powervm_sim.model import san
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
    exists = ctx.model.san.rbd_image_mb(ctx.required('name')) is not None
    return {'exists': 'true' if exists else 'false'}


@jobs.operation('ISCSIDiscovery', 'VirtualIOServer')
def iscsi_discovery(ctx):
    """Log in to iSCSI targets and configure the hdisk of the LUN found:
    one (portal, IQN, LUN) path, or lists of them with ``multipath``.

    DEV_OUTPUT lists 'IQN hdiskN UDID' per IQN that reached the LUN.  A
    failed login fails the job, RETURN_CODE still in its results (what
    pypowervm reads).  With no parameters the job reports the VIOS's
    initiator name instead.
    """
    vios = ctx.target
    if not ctx.params:
        return {'RETURN_CODE': san.IscsiCode.SUCCESS,
                'InitiatorName': vios.iscsi_initiator}
    ctx.flag('multipath')
    chap = san.Chap(ctx.param('auth'), ctx.param('user'),
                    ctx.param('password'))
    outcome = ctx.model.iscsi_login(vios, _iscsi_paths(ctx), chap)
    if not outcome.devices:
        raise jobs.JobError(outcome.message, results={
            'RETURN_CODE': outcome.code, 'DEV_OUTPUT': '[]'})
    lines = {iqn: '%s %s %s' % (iqn, pv.name, pv.udid)
             for iqn, pv in outcome.devices}
    return {'RETURN_CODE': outcome.code, 'DEV_OUTPUT': repr(list(
        lines.values()))}


@jobs.operation('ISCSIRemove', 'VirtualIOServer')
def iscsi_remove(ctx):
    """Remove the hdisks of targets and log out of their sessions (21:
    no session to log out of).  A disk in use fails the job (RETURN_CODE
    1)."""
    ctx.flag('multipath')
    iqns = _list_of(ctx, 'targetIQN', str, required=True)
    portals = _list_of(ctx, 'targetPORTAL', _portal)
    lun_ids = _list_of(ctx, 'targetLUN', _lun_id)
    try:
        code = ctx.model.iscsi_logout(ctx.target, iqns, portals, lun_ids)
    except model_mod.Conflict as exc:
        raise jobs.JobError(str(exc), results={
            'RETURN_CODE': san.IscsiCode.ERROR}) from None
    return {'RETURN_CODE': code}


def _iscsi_paths(ctx):
    """[(portal, IQN, LUN id or None)] of an ISCSIDiscovery request."""
    iqns = _list_of(ctx, 'targetIQN', str, required=True)
    portals = _list_of(ctx, 'hostIP', _portal, required=True)
    lun_ids = _list_of(ctx, 'targetLUN', _lun_id) or [None] * len(iqns)
    if not len(iqns) == len(portals) == len(lun_ids):
        raise jobs.JobError(
            '%s The job parameters hostIP, targetIQN and targetLUN must '
            'list as many values each (%d, %d, %d).' % (
                jobs.BAD_PARAMETER, len(portals), len(iqns), len(lun_ids)))
    return list(zip(portals, iqns, lun_ids, strict=True))


def _list_of(ctx, name, convert, required=False):
    """The values of list parameter ``name`` made by ``convert`` (which
    raises ValueError for a bad one); None when an optional one is not
    given."""
    text = ctx.required(name) if required else (ctx.param(name) or '')
    if not text.strip():
        return None
    try:
        return [convert(value) for value in _list_param(text.strip())]
    except ValueError:
        raise jobs.JobError('%s The job parameter %s is not valid: %r.' % (
            jobs.BAD_PARAMETER, name, text[:80])) from None


def _portal(text):
    try:
        return san.normal_portal(text)
    except model_mod.Conflict:
        raise ValueError(text) from None


def _lun_id(text):
    value = int(text)
    if not 0 <= value < 2 ** 32:
        raise ValueError(text)
    return value


def _list_param(text):
    """pypowervm sends lists as '[a,b]' (hdisk/_iscsi.py)."""
    if text.startswith('[') and text.endswith(']'):
        return [v.strip() for v in text[1:-1].split(',') if v.strip()]
    return [text]


# pypowervm's tasks/storage.py VOLUME_NOT_FOUND: the RETURN_CODE of a
# rescan of a disk the VIOS does not have (it raises VstorNotFound).
VOLUME_NOT_FOUND = '-1'


@jobs.operation('RescanVirtualDisk', 'VirtualIOServer')
def rescan_virtual_disk(ctx):
    """The disk (UDID, or a served disk's path) takes the size of what
    backs it now."""
    ident = ctx.required('VirtualDiskUDID')
    if not ctx.model.rescan_disk(ctx.target, ident):
        raise jobs.JobError(
            'The virtual disk %s was not found on %s.' % (
                ident, ctx.target.name),
            results={'RETURN_CODE': VOLUME_NOT_FOUND})
    return {'RETURN_CODE': '0'}


@jobs.operation('RemoveDevice', 'VirtualIOServer')
def remove_device(ctx):
    """rmdev of an hdisk nothing uses (RETURN_CODE 0), else the job fails
    with rmdev's message."""
    ctx.model.remove_device(ctx.target, ctx.required('devName'))
    return {'RETURN_CODE': '0'}
