"""The simulator's own control API under /sim/: JSON in, JSON out.

    GET    /sim/status            systems served here, partition counts,
                                  requests served, live sessions
    GET    /sim/faults            armed fault rules with how often each
                                  fired, and the registry's counters
    POST   /sim/faults            arm one rule (faults.rule_from_dict form);
                                  201 with its rule_id
    DELETE /sim/faults            disarm every rule
    DELETE /sim/faults/{rule_id}  disarm one rule
    GET    /sim/latency           the latency model (faults.latency_to_dict)
    PUT    /sim/latency           replace it (missing keys take defaults)
    POST   /sim/state/save        write the state file now (only when the
                                  simulator was started with one)

The SAN behind the VIOSes (one for every system of the simulator):

    GET    /sim/san               FC targets (ports, zones, LUNs), iSCSI
                                  targets (portals, CHAP, LUNs) and LUNs
                                  (identity, size, masking and the
                                  connection data Cinder would give)
    POST   /sim/san/fc-targets    {"name", "wwpns"?, "ports"?, "vendor"?,
                                  "product"?}: a new FC storage target
                                  (``ports`` WWPNs made up when ``wwpns``
                                  is not given); 201 with it
    PATCH  /sim/san/fc-targets/{name}
                                  {"refuses_logins"?, "zone"?: [initiator
                                  WWPN...], "unzone"?: [...],
                                  "target_wwpns"?: the ports zone/unzone
                                  touch (default all)}
    POST   /sim/san/luns          {"target" (FC target name or IQN),
                                  "size_gb", "initiators"? (WWPNs or
                                  IQNs), "lun_id"?, "name"?, "naa"?}: a new
                                  volume masked to the initiators, each FC
                                  one zoned with every target port; 201
                                  with it
    POST   /sim/san/iscsi-targets {"iqn", "portals", "chap_user"?,
                                  "chap_secret"?, "vendor"?, "product"?}:
                                  a new iSCSI target; 201 with it
    PATCH  /sim/san/iscsi-targets/{iqn}
                                  {"refuses_logins"?, "chap_user"?,
                                  "chap_secret"?} (null for both: no CHAP)
    PATCH  /sim/san/luns/{naa}    {"size_gb"? (grow only), "exported"?
                                  (false: the volume disappears), "mask"?:
                                  [initiator...], "unmask"?: [...]}
    DELETE /sim/san/luns/{naa}    the volume is gone from its target
    POST   /sim/san/rbd-images    {"name": "pool/image", "size_gb"}: a new
                                  Ceph RBD image; 201 with the SAN
    PATCH  /sim/san/rbd-images/{pool}/{image}
                                  {"size_gb"} (grow only)
    DELETE /sim/san/rbd-images/{pool}/{image}

VIOSes see SAN changes only when they look again (LUARecovery, rescans).

What the system this endpoint serves allows of partition mobility (a
migration that fails midway is a fault rule: job "Migrate", outcome
job_failure with "midway": true; how long one runs is the latency
model's per_job_operation "Migrate"):

    GET    /sim/mobility          {"active_capable",
                                  "max_active_migrations",
                                  "proc_compat_modes", "active_migrations",
                                  "public_key", "authorized_keys"}
    PATCH  /sim/mobility          {"active_capable"?,
                                  "max_active_migrations"?,
                                  "proc_compat_modes"?: [mode...],
                                  "authorized_keys"?: [key...]}

``public_key`` is the SSH key of this endpoint's NovaLink (its console);
``authorized_keys`` the keys it accepts, which must include the public key
of a NovaLink that migrates a partition to this one (the REST API's
ManagementConsole update does the same).

A client LPAR's NVRAM (what a guest writing its NVRAM does, and what
NovaLink then reports: a MODIFY event with detail NVRAM):

    GET    /sim/nvram/{uuid}      {"lpar", "nvram"} (base64, or null)
    POST   /sim/nvram/{uuid}      {"nvram"?: base64}: the guest writes it
                                  (new bytes of its own without "nvram")

The files of the NovaLink partition of the system this endpoint serves
(what FileIO disks are served from):

    GET    /sim/files             {path: size in MB}
    POST   /sim/files             {"path", "size_gb"}: a new file; 201
    PATCH  /sim/files             {"path", "size_gb"}: grow it
    DELETE /sim/files             {"path"}: remove it

The NovaLink partition of the system this endpoint serves, as the
driver's ``simulator`` mgmt platform in another process on this machine
sees it (powervm_sim/platform.py; consoles and Open vSwitch ports stay
until removed or the simulator closes):

    GET    /sim/partition/lparcfg its lparcfg values
    GET    /sim/partition/disks/{udid}
                                  {"path", "size"}: the content file of a
                                  disk a VIOS maps to the partition (404
                                  unless mapped there and with content)
    POST   /sim/partition/consoles/{lpar uuid}
                                  {"port"}: the LPAR's VNC console on
                                  loopback, opened or found open (404 for
                                  no such LPAR)
    DELETE /sim/partition/consoles/{lpar uuid}
                                  close it; {"open_consoles": [uuid...]}
    GET    /sim/partition/ovs     [{"bridge", "port", "external_ids"}...]
    PUT    /sim/partition/ovs/{bridge}/{device}
                                  {external id: text...}: the device, a
                                  trunk adapter of the partition, becomes
                                  a port of the bridge (409 for another
                                  device); answers the ports
    DELETE /sim/partition/ovs/{bridge}/{device}
                                  the port goes (gone is fine)

Fault rules and the latency model are shared by every endpoint of one
simulator process, so a change made through one endpoint applies to all.

Errors are JSON too, ``{"error": "..."}``: 400 for a body that is not JSON
or not a valid rule, latency model or SAN change (nothing changes then),
403 when
refused, 404 for unknown paths or rules, 405 for other methods, 409 for a
save without a state file, 413 for a body over 64 KiB, 500 for a failed
save.  Control requests never meet fault rules or latency.

Access: these requests bypass NovaLink logon, so they are guarded on their
own.  A simulator configured with a control token (``powervm-sim serve``
always makes one and prints it at start) answers only requests carrying
it in the ``X-Sim-Token`` header, from any address.  Without a token (the
in-process NovaLinkFixture) only loopback peers are served.
"""

import dataclasses
import hmac
import importlib
import json
import os
import threading
import typing
import weakref

from werkzeug import wrappers

from powervm_sim import app
from powervm_sim import auth
from powervm_sim import faults as faults_mod
from powervm_sim import model as model_mod
from powervm_sim.model import console as console_mod

CONTROL_HEADER = 'X-Sim-Token'
# Control bodies are a rule or a latency model: small.
MAX_BODY = 64 * 1024


@dataclasses.dataclass
class Settings:
    """How one simulator's control API is guarded and what it can do."""

    token: str | None = None
    # () -> path: saves the state file; None without --state.
    save_state: typing.Callable[[], str] | None = None


_SETTINGS = weakref.WeakKeyDictionary()
# simulator -> the SimulatedPartition of its system's NovaLink partition.
_MGMT_PARTITIONS = weakref.WeakKeyDictionary()
_MGMT_LOCK = threading.Lock()


def configure(simulator, token=None, save_state=None):
    """Set the control token and the state saver of ``simulator``."""
    _SETTINGS[simulator] = Settings(token, save_state)


def settings_of(simulator):
    return _SETTINGS.get(simulator) or Settings()


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _json(payload, status=200):
    return wrappers.Response(json.dumps(payload), status=status,
                             content_type='application/json')


@app.handler('control')
def handle_control(sim, request, rest):
    try:
        _authorize(sim, request)
        return _route(sim, request, [part for part in rest.split('/')
                                     if part])
    except ControlError as exc:
        return _json({'error': exc.message}, exc.status)


def _authorize(sim, request):
    token = settings_of(sim).token
    if token is not None:
        offered = request.headers.get(CONTROL_HEADER, '')
        if not hmac.compare_digest(offered.encode('utf-8'),
                                   token.encode('utf-8')):
            raise ControlError(403, 'The control API needs the %s header '
                               'with the token printed at start.' %
                               CONTROL_HEADER)
    elif not auth.is_loopback(request.remote_addr):
        raise ControlError(403, 'The control API only answers the local '
                           'host.')


def _route(sim, request, parts):
    method = request.method
    if parts == ['status']:
        _allow(method, 'GET')
        return _json(_status(sim))
    if parts == ['faults']:
        _allow(method, 'GET', 'POST', 'DELETE')
        if method == 'GET':
            return _json(_faults(sim))
        if method == 'POST':
            return _arm(sim, request)
        sim.faults.clear()
        return _json(_faults(sim))
    if len(parts) == 2 and parts[0] == 'faults':
        _allow(method, 'DELETE')
        return _disarm(sim, parts[1])
    if parts == ['latency']:
        _allow(method, 'GET', 'PUT')
        if method == 'PUT':
            _replace_latency(sim.latency, _latency_from(request))
        return _json(faults_mod.latency_to_dict(sim.latency))
    if parts == ['state', 'save']:
        _allow(method, 'POST')
        return _save_state(sim)
    if parts[:1] == ['san']:
        return _route_san(sim.model.san, request, parts[1:])
    if parts == ['files']:
        return _files(sim, request)
    if parts == ['mobility']:
        return _mobility(sim, request)
    if len(parts) == 2 and parts[0] == 'nvram':
        return _nvram(sim, request, parts[1])
    if parts[:1] == ['partition']:
        return _route_partition(sim, request, parts[1:])
    raise ControlError(404, 'Unknown control resource /sim/%s.' %
                       '/'.join(parts))


def _route_san(san, request, parts):
    method = request.method
    if not parts:
        _allow(method, 'GET')
        return _json(san.describe())
    if parts == ['fc-targets']:
        _allow(method, 'POST')
        fields = _fields(request, ('name',), ('wwpns', 'ports', 'vendor',
                                              'product'))
        return _json(_model_call(san.add_fc_target, **fields).describe(), 201)
    if len(parts) == 2 and parts[0] == 'fc-targets':
        _allow(method, 'PATCH')
        target = _found(san.fc_target(parts[1]), 'FC target', parts[1])
        _model_call(san.update_fc_target, target, **_fields(
            request, (), ('refuses_logins', 'zone', 'unzone',
                          'target_wwpns')))
        return _json(target.describe())
    if parts == ['iscsi-targets']:
        _allow(method, 'POST')
        fields = _fields(request, ('iqn', 'portals'), (
            'chap_user', 'chap_secret', 'vendor', 'product'))
        return _json(_model_call(san.add_iscsi_target, **fields).describe(),
                     201)
    if len(parts) == 2 and parts[0] == 'iscsi-targets':
        _allow(method, 'PATCH')
        target = _found(san.iscsi_target(parts[1]), 'iSCSI target',
                        parts[1])
        _model_call(san.update_iscsi_target, target, **_fields(
            request, (), ('refuses_logins', 'chap_user', 'chap_secret')))
        return _json(target.describe())
    if parts == ['luns']:
        _allow(method, 'POST')
        fields = _fields(request, ('target', 'size_gb'), (
            'initiators', 'lun_id', 'name', 'naa'))
        target = _found(san.target(str(fields['target'])), 'target',
                        fields.pop('target'))
        lun = _model_call(san.add_lun, target, **fields)
        return _json(lun.describe(), 201)
    if len(parts) == 2 and parts[0] == 'luns':
        return _change_lun(san, request, parts[1])
    if parts == ['rbd-images']:
        _allow(method, 'POST')
        _model_call(san.add_rbd_image, **_fields(request, ('name', 'size_gb'),
                                               ()))
        return _json(san.describe(), 201)
    if len(parts) == 3 and parts[0] == 'rbd-images':
        return _change_rbd_image(san, request, '/'.join(parts[1:]))
    raise ControlError(404, 'Unknown control resource /sim/san/%s.' %
                       '/'.join(parts))


def _change_lun(san, request, naa):
    _allow(request.method, 'PATCH', 'DELETE')
    lun = _found(san.find_lun(naa.upper()), 'LUN', naa)
    if request.method == 'DELETE':
        san.remove_lun(lun)
        return _json(san.describe())
    _model_call(san.update_lun, lun, **_fields(
        request, (), ('size_gb', 'exported', 'mask', 'unmask')))
    return _json(lun.describe())


def _route_partition(sim, request, parts):
    method = request.method
    partition = _mgmt_partition(sim)
    if parts == ['lparcfg']:
        _allow(method, 'GET')
        return _json(partition.lparcfg())
    if len(parts) > 1 and parts[0] == 'disks':
        _allow(method, 'GET')
        # UDIDs are base64: one may hold '/', so the UDID is the rest of
        # the (decoded) path, not the next part.
        return _mapped_disk(partition,
                            request.path.partition('/disks/')[2])
    if len(parts) == 2 and parts[0] == 'consoles':
        _allow(method, 'POST', 'DELETE')
        return _console(sim, partition, method, parts[1])
    if parts == ['ovs']:
        _allow(method, 'GET')
        return _json(_ovs_ports(partition))
    if len(parts) == 3 and parts[0] == 'ovs':
        _allow(method, 'PUT', 'DELETE')
        return _ovs_port(partition, request, *parts[1:])
    raise ControlError(404, 'Unknown control resource /sim/partition/%s.'
                       % '/'.join(parts))


def _mgmt_partition(sim):
    """The SimulatedPartition of the endpoint's system, made on first use
    and closed with the simulator."""
    with _MGMT_LOCK:
        partition = _MGMT_PARTITIONS.get(sim)
        if partition is None:
            partition = _platform().SimulatedPartition(sim.model,
                                                       _own_system(sim))
            _MGMT_PARTITIONS[sim] = partition
            sim.close_with(partition.close)
        return partition


def _platform():
    # Imported on first use: the platform module is the driver's side and
    # loads nova, which a serve process needs only once it is asked for
    # its NovaLink partition.
    return importlib.import_module('powervm_sim.platform')


def _mapped_disk(partition, udid):
    try:
        path = partition.mapped_disk(udid)
        return _json({'path': path, 'size': os.path.getsize(path)})
    except (_platform().DiskNotMapped, FileNotFoundError) as exc:
        raise ControlError(404, str(exc)) from None


def _console(sim, partition, method, lpar_uuid):
    if method == 'DELETE':
        partition.close_console(lpar_uuid)
        return _json({'open_consoles': partition.open_consoles()})
    with sim.model.registry.lock:
        lpar = _found(sim.model.registry.find(
            lpar_uuid, 'LogicalPartition', within=partition.system),
            'LogicalPartition', lpar_uuid)
        name = lpar.name
    return _json({'port': partition.console(lpar_uuid, name).port})


def _ovs_ports(partition):
    return [{'bridge': bridge, 'port': port, 'external_ids': ids}
            for (bridge, port), ids in sorted(partition.ovs_ports().items())]


def _ovs_port(partition, request, bridge, dev_name):
    if request.method == 'DELETE':
        partition.remove_ovs_port(bridge, dev_name)
        return _json(_ovs_ports(partition))
    external_ids = _body(request)
    if not (isinstance(external_ids, dict) and all(
            isinstance(value, str) for value in external_ids.values())):
        raise ControlError(400, 'The body must be a JSON object of external '
                           'IDs, each a text.')
    try:
        partition.add_ovs_port(bridge, dev_name, external_ids)
    except _platform().OvsRefused as exc:
        raise ControlError(409, str(exc)) from None
    return _json(_ovs_ports(partition))


def _own_system(sim):
    """The endpoint's system (its first, for a simulator serving
    several)."""
    return next(s for s in sim.model.systems if sim.in_scope(s))


def _files(sim, request):
    """The NovaLink files of the endpoint's system."""
    _allow(request.method, 'GET', 'POST', 'PATCH', 'DELETE')
    model = sim.model
    system = _own_system(sim)
    if request.method == 'DELETE':
        _model_call(model.remove_novalink_file, system,
                  **_fields(request, ('path',), ()))
    elif request.method != 'GET':
        change = (model.add_novalink_file if request.method == 'POST'
                  else model.grow_novalink_file)
        _model_call(change, system, **_fields(request, ('path', 'size_gb'),
                                            ()))
    with model.registry.lock:
        files = dict(system.mgmt_partition.files)
    return _json(files, 201 if request.method == 'POST' else 200)


def _mobility(sim, request):
    _allow(request.method, 'GET', 'PATCH')
    model = sim.model
    system = _own_system(sim)
    if request.method == 'PATCH':
        changes = _fields(request, (), (
            'active_capable', 'max_active_migrations', 'proc_compat_modes',
            'authorized_keys'))
        keys = changes.pop('authorized_keys', None)
        if keys is not None and not (isinstance(keys, list) and all(
                isinstance(key, str) for key in keys)):
            raise ControlError(400, 'authorized_keys must be a list of SSH '
                               'public key lines.')
        with model.registry.lock:
            if keys is not None:
                # Checked before anything changes: a refused key leaves the
                # mobility settings as they were too.
                for key in keys:
                    _model_call(console_mod.key_identity, key)
            _model_call(model.set_mobility, system, **changes)
            if keys is not None:
                model.set_authorized_keys(system.console, keys)
    with model.registry.lock:
        return _json({'active_capable': system.active_lpm_capable,
                      'max_active_migrations': system.max_active_migrations,
                      'proc_compat_modes': list(system.proc_compat_modes),
                      'active_migrations': system.active_migrations,
                      'public_key': system.console.public_key,
                      'authorized_keys': list(system.console.authorized_keys)})


def _nvram(sim, request, uuid):
    _allow(request.method, 'GET', 'POST')
    model = sim.model
    lpar = _found(model.registry.find(uuid, 'LogicalPartition'),
                  'LogicalPartition', uuid)
    if request.method == 'POST':
        nvram = _fields(request, (), ('nvram',)).get('nvram')
        _model_call(model.write_nvram, lpar, nvram)
    with model.registry.lock:
        return _json({'lpar': lpar.uuid, 'nvram': lpar.nvram})


def _change_rbd_image(san, request, name):
    _allow(request.method, 'PATCH', 'DELETE')
    _found(san.rbd_image_mb(name), 'RBD image', name)
    if request.method == 'DELETE':
        _model_call(san.remove_rbd_image, name)
    else:
        _model_call(san.grow_rbd_image, name, **_fields(request, ('size_gb',),
                                                      ()))
    return _json(san.describe())


def _fields(request, required, optional):
    """The members of a JSON object body: all of ``required``, any of
    ``optional``, nothing else."""
    data = _body(request)
    if not isinstance(data, dict):
        raise ControlError(400, 'The body must be a JSON object.')
    unknown = sorted(set(data) - set(required) - set(optional))
    missing = [name for name in required if name not in data]
    if unknown or missing:
        raise ControlError(400, 'Unknown members %s, missing members %s; '
                           'this takes %s.' % (unknown, missing, ', '.join(
                               list(required) + list(optional))))
    return data


def _found(obj, what, name):
    if obj is None:
        raise ControlError(404, 'No %s %s.' % (what, name))
    return obj


def _model_call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except model_mod.Conflict as exc:
        raise ControlError(400, str(exc)) from None


def _allow(method, *methods):
    if method not in methods:
        raise ControlError(405, '%s is not allowed here; use %s.' % (
            method, ' or '.join(methods)))


def _body(request):
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise ControlError(413, 'Control requests are limited to %d bytes.'
                           % MAX_BODY)
    data = request.stream.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise ControlError(413, 'Control requests are limited to %d bytes.'
                           % MAX_BODY)
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ControlError(400, 'The body is not valid JSON: %s' % exc) \
            from None


def _status(sim):
    model = sim.model
    with model.registry.lock:
        systems = [_system_status(system) for system in model.systems
                   if sim.in_scope(system)]
    return {'url': sim.base_url, 'systems': systems,
            'requests': sim.request_count,
            'sessions': sim.sessions.active_count(),
            'fault_rules': len(sim.faults.rules())}


def _system_status(system):
    lpars = [p for p in system.partitions if not p.is_vios]
    vioses = [p for p in system.partitions if p.is_vios]
    return {'uuid': system.uuid, 'name': system.name,
            'lpars': len(lpars), 'vioses': len(vioses),
            'running': sum(1 for p in system.partitions if p.is_running)}


def _faults(sim):
    counters = sim.faults.counters()
    fired = counters['by_rule']
    rules = [dict(faults_mod.rule_to_dict(rule),
                  fired=fired.get(rule.rule_id, 0))
             for rule in sim.faults.rules()]
    return {'rules': rules, 'counters': counters}


def _arm(sim, request):
    data = _body(request)
    try:
        rule = faults_mod.rule_from_dict(data)
        rule_id = sim.faults.add(rule)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    rule = next(r for r in sim.faults.rules() if r.rule_id == rule_id)
    return _json({'rule_id': rule_id,
                  'rule': faults_mod.rule_to_dict(rule)}, 201)


def _disarm(sim, rule_id):
    try:
        sim.faults.remove(rule_id)
    except KeyError:
        raise ControlError(404, 'No fault rule %r is armed.' % rule_id) \
            from None
    return _json(_faults(sim))


def _latency_from(request):
    try:
        return faults_mod.latency_from_dict(_body(request))
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None


def _replace_latency(current, new):
    # In place: every endpoint of the process holds the same model.
    current.per_request = new.per_request
    current.per_job = new.per_job
    current.jitter = new.jitter
    current.per_method = new.per_method
    current.per_job_operation = new.per_job_operation
    current.reseed(new.seed)


def _save_state(sim):
    save = settings_of(sim).save_state
    if save is None:
        raise ControlError(409, 'This simulator has no state file; start '
                           'it with --state FILE.')
    try:
        path = save()
    except (OSError, ValueError) as exc:
        raise ControlError(500, 'Saving the state failed: %s' % exc) \
            from None
    return _json({'saved': path})
