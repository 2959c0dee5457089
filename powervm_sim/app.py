"""The WSGI application: routing, auth, faults and latency around the model.
"""

import importlib
import json
import socket
import time
import urllib.parse

from oslo_log import log as logging
from werkzeug import wrappers

from powervm_sim import auth as auth_mod
from powervm_sim import bindings  # noqa: F401  (registers the types)
from powervm_sim import events as events_mod
from powervm_sim import faults as faults_mod
from powervm_sim import model as model_mod
from powervm_sim import resources
from powervm_sim.wire import atom
from powervm_sim.wire import request as wire_request
from powervm_sim.wire import spec

LOG = logging.getLogger(__name__)

UOM = '/rest/api/uom/'
WEB = '/rest/api/web/'
SIM = '/sim/'
SUFFIXES = ('do', 'quick', 'search')
EVENT_WAIT = 10.0


HANDLERS = {}
# Modules whose import registers handlers (they import this module, so they
# are loaded when the first Simulator is made, not at import time).
HANDLER_MODULES = ('powervm_sim.jobs.routes', 'powervm_sim.files_api',
                   'powervm_sim.control')


def handler(name):
    """Register ``func`` as the handler of one part of the API."""
    def register(func):
        HANDLERS[name] = func
        return func
    return register


class HttpError(Exception):
    """Answered as an HttpErrorResponse with ``status``."""

    def __init__(self, status, message, reason_code=''):
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason_code = reason_code


class Simulator:
    """Everything one simulator process serves, shared by all requests."""

    def __init__(self, model, scope=None, sessions=None, faults=None,
                 latency=None,
                 events=None, jobs=None, files=None, strict_order=True,
                 max_body=16 * 1024 * 1024, event_wait=EVENT_WAIT):
        self.model = model
        # The managed system this NovaLink manages (None: all of them).
        self.scope = scope
        self.sessions = sessions or auth_mod.SessionStore()
        self.faults = faults or faults_mod.FaultRegistry()
        self.latency = latency or faults_mod.LatencyModel()
        self.events = events or events_mod.EventHub()
        self.jobs = jobs
        self.files = files
        self.strict_order = strict_order
        self.max_body = max_body
        self.event_wait = event_wait
        self.base_url = ''
        self.request_count = 0
        # The last document rendered for each object, reused while the
        # object keeps its etag: uuid -> ((etag, groups, base), xml).
        self._rendered = {}
        # Handlers of the non-CRUD parts of the API (jobs, files, the
        # simulator's own control API), registered by their modules.
        for module in HANDLER_MODULES:
            importlib.import_module(module)
        self.handlers = dict(HANDLERS)
        # What handlers keep for this simulator and close with it (the
        # control API's NovaLink partition with its consoles).
        self._closers = []
        model.registry.subscribe(self._on_change)
        model.registry.subscribe_views(self._on_view_change)

    def close_with(self, close):
        """Call ``close()`` when this simulator closes."""
        self._closers.append(close)

    def close(self):
        self.model.registry.unsubscribe(self._on_change)
        self.model.registry.unsubscribe_views(self._on_view_change)
        self.events.close()
        if self.jobs is not None:
            self.jobs.close()
        for close in self._closers:
            close()

    def in_scope(self, obj):
        return self.scope is None or model_mod.registry.served_under(
            obj, self.scope)

    def _on_change(self, event_type, resource, detail):
        if event_type == model_mod.registry.DELETE:
            self._rendered.pop(resource.uuid, None)
        if not self.in_scope(resource):
            return
        self.events.publish(event_type, self.base_url + resource.href,
                            detail)

    def _on_view_change(self, event_type, resource, detail, system):
        if self.scope is system:
            self.events.publish(event_type, self.base_url + resource.href,
                                detail)

    # --------------------------------------------------------------- WSGI
    def _handler(self, name):
        try:
            return self.handlers[name]
        except KeyError:
            raise HttpError(404, 'This simulator does not serve %s.' %
                            name) from None

    def __call__(self, environ, start_response):
        request = wrappers.Request(environ)
        self.request_count += 1
        try:
            response = self._handle(request)
        except HttpError as exc:
            response = self._error(request, exc.status, exc.message,
                                   exc.reason_code)
        except model_mod.NotFound as exc:
            response = self._error(request, 404, 'The requested resource '
                                   'was not found: %s' % exc.args[0])
        except model_mod.Conflict as exc:
            response = self._error(request, exc.status, str(exc))
        except spec.SchemaError as exc:
            response = self._error(request, 400, str(exc))
        except _Dropped:
            response = None
        if response is None or environ.get(_DROP_ANSWER):
            _drop(environ)
            response = wrappers.Response(b'', status=500)
        return response(environ, start_response)

    def _handle(self, request):
        path = request.path
        if path.startswith(SIM):
            return self._control(request, path[len(SIM):])
        info = faults_mod.RequestInfo(
            method=request.method, path=path,
            resource_type=_resource_type(path), job=_job_name(request))
        delay = self.latency.request_delay(info)
        fired = self.faults.match(info)
        if fired is not None:
            delay += fired.delay
        if delay:
            time.sleep(delay)
        if path == WEB + 'Logon':
            # A rule that fired for a logon counts it: it has to act on it.
            if fired is not None:
                self._apply_fault(request, fired)
            return self._logon(request)
        self._check_session(request)
        if fired is not None:
            self._apply_fault(request, fired)
        if path.startswith(WEB + 'File'):
            return self._handler('File')(self, request, path[len(WEB):])
        if path.startswith(UOM):
            return self._uom(request, path[len(UOM):])
        raise HttpError(404, 'Unknown resource %s' % path)

    def _apply_fault(self, request, fired):
        outcome = fired.outcome
        if isinstance(outcome, faults_mod.HttpFault):
            raise HttpError(outcome.status, outcome.message,
                            outcome.reason_code)
        if isinstance(outcome, faults_mod.EtagConflict):
            raise HttpError(412, 'The object has been changed by another '
                            'request; reload it and try again (etag '
                            'mismatch).')
        if isinstance(outcome, faults_mod.DropConnection):
            if not outcome.after_processing:
                raise _Dropped()
            # Served as usual; only the answer, error or not, is lost.
            request.environ[_DROP_ANSWER] = True
        if isinstance(outcome, faults_mod.JobFailure):
            request.environ['powervm_sim.job_failure'] = outcome

    # ------------------------------------------------------------ auth
    def _logon(self, request):
        if request.method == 'DELETE':
            token = request.headers.get('X-API-Session', '')
            self.sessions.logoff(token)
            return wrappers.Response(status=204)
        if request.method != 'PUT':
            raise HttpError(405, 'Logon takes PUT or DELETE.')
        fields = wire_request.parse_logon(self._body(request))
        try:
            if fields.get('file_auth'):
                token, path = self.sessions.logon_file(
                    fields['user'], request.remote_addr)
                inner = '<X-API-SessionFile kb="ROR" kxe="false">%s' \
                        '</X-API-SessionFile>' % path
            else:
                token = self.sessions.logon_password(
                    fields['user'], fields.get('password', ''))
                inner = '<X-API-Session kb="ROR" kxe="false">%s' \
                        '</X-API-Session>' % token
        except auth_mod.AuthError as exc:
            raise HttpError(exc.status, str(exc)) from None
        body = ('<LogonResponse xmlns="%s" schemaVersion="V1_1_0">'
                '<Metadata><Atom/></Metadata>%s</LogonResponse>' % (
                    spec.WEB_NS, inner))
        return wrappers.Response(
            body, status=200, headers={'X-MC-Type': 'PVM'},
            content_type='application/vnd.ibm.powervm.web+xml; '
                         'type=LogonResponse')

    def _check_session(self, request):
        token = request.headers.get('X-API-Session')
        if not token or not self.sessions.validate(token):
            raise HttpError(401, 'The request requires a valid session; '
                            'log on first.')

    # ------------------------------------------------------------ uom
    def _uom(self, request, rest):
        segments = [urllib.parse.unquote(s) for s in rest.split('/') if s]
        if not segments:
            raise HttpError(404, 'No resource type given.')
        if segments[0] == 'Event':
            return self._events(request)
        if segments[0] == 'jobs':
            return self._handler('jobs')(self, request, segments[1:])
        suffix = None
        for i, seg in enumerate(segments):
            if seg in SUFFIXES and i > 0:
                suffix, tail = seg, segments[i + 1:]
                segments = segments[:i]
                break
        target = self._resolve(segments)
        if suffix == 'do':
            return self._handler('do')(self, request, target, tail)
        if suffix == 'quick':
            return self._quick(request, target, tail)
        if suffix == 'search':
            return self._search(request, target, tail)
        return self._crud(request, target)

    def _resolve(self, segments):
        """Turn path segments into a Target (a feed or an entry)."""
        rtype = self._rtype(segments[0])
        if not rtype.root and len(segments) <= 2:
            if len(segments) == 2 and rtype.root_entry:
                obj = self._served(segments[1], rtype.name)
                return _Target(rtype, None, obj)
            raise HttpError(404, '%s is only served under its parent.' %
                            rtype.name)
        parent = None
        if len(segments) >= 3:
            parent = self._served(segments[1], rtype.name)
            child_type = self._rtype(segments[2])
            if rtype.name not in child_type.parents:
                raise HttpError(404, '%s has no %s children.' % (
                    rtype.name, child_type.name))
            rtype, segments = child_type, segments[2:]
        obj = None
        if len(segments) == 2:
            obj = self._served(segments[1], rtype.name)
            if parent is not None and \
                    not model_mod.registry.served_under(obj, parent):
                raise HttpError(404, '%s %s is not under %s' % (
                    rtype.name, segments[1], parent.uuid))
        elif len(segments) > 2:
            raise HttpError(404, 'Path too deep.')
        return _Target(rtype, parent, obj)

    def _served(self, uuid, kind):
        """The object of ``kind`` with ``uuid``, if this NovaLink serves
        it: another system's objects are unknown here, as on a real
        NovaLink."""
        return self.model.get(uuid, kind, within=self.scope)

    def _rtype(self, name):
        try:
            return resources.TYPES[name]
        except KeyError:
            raise HttpError(404, 'Unknown resource type %s.' % name) \
                from None

    def _crud(self, request, target):
        method = request.method
        if method == 'GET':
            return self._get(request, target)
        if method == 'PUT' and target.obj is None:
            return self._create(request, target)
        if method == 'POST' and target.obj is not None:
            return self._update(request, target)
        if method == 'DELETE' and target.obj is not None:
            return self._delete(request, target)
        raise HttpError(405, '%s is not allowed on this resource.' % method)

    def _get(self, request, target):
        groups = _groups(request)
        if target.obj is not None:
            return self._entry_response(request, target.rtype, target.obj,
                                        groups)
        # Listed and rendered under the lock: a feed shows one moment.
        with self.model.registry.lock:
            objs = [o for o in target.rtype.children(self.model,
                                                     target.parent)
                    if self.in_scope(o)]
            return self._feed_response(request, target.rtype, objs, groups)

    def _create(self, request, target):
        rtype = target.rtype
        if rtype.create is None:
            raise HttpError(405, '%s cannot be created.' % rtype.name)
        fields = self._parse(request, rtype)
        with self.model.registry.lock:
            obj = rtype.create(self.model, target.parent, fields)
        return self._entry_response(request, rtype, obj, None,
                                    self_href=self._base(request) + obj.href)

    def _update(self, request, target):
        rtype, obj = target.rtype, target.obj
        if rtype.update is None:
            raise HttpError(405, '%s cannot be updated.' % rtype.name)
        # A stale etag is answered before the body is judged: a 412 tells
        # the client to reload and retry, which a 400 about stale content
        # would not.  It is checked again under the lock, after parsing.
        self._check_etag(request, obj)
        fields = self._parse(request, rtype)
        with self.model.registry.lock:
            self._check_etag(request, obj)
            rtype.update(self.model, obj, fields, _groups(request))
        return self._entry_response(request, rtype, obj, _groups(request))

    def _delete(self, request, target):
        rtype, obj = target.rtype, target.obj
        if rtype.delete is None:
            raise HttpError(405, '%s cannot be deleted.' % rtype.name)
        with self.model.registry.lock:
            self._check_etag(request, obj)
            rtype.delete(self.model, obj)
        return wrappers.Response(status=204)

    @staticmethod
    def _check_etag(request, obj):
        wanted = request.headers.get('If-Match')
        if wanted and wanted != obj.etag:
            raise HttpError(412, 'The object %s has changed (etag %s, '
                            'expected %s); reload it and try again.' % (
                                obj.uuid, obj.etag, wanted))

    def _parse(self, request, rtype):
        element = wire_request.parse_body(self._body(request))
        fields = spec.parse(rtype.schema, element,
                            check_order=self.strict_order)
        fields['uuid'] = wire_request.client_uuid(element)
        return fields

    def _body(self, request):
        if request.content_length and request.content_length > \
                self.max_body:
            raise HttpError(413, 'The request body is larger than %d '
                            'bytes.' % self.max_body)
        # Read in pieces: one read of max_body bytes would allocate that
        # much for every small body.
        pieces, size = [], 0
        while size <= self.max_body:
            piece = request.stream.read(64 * 1024)
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
        data = b''.join(pieces)
        if len(data) > self.max_body:
            raise HttpError(413, 'The request body is larger than %d '
                            'bytes.' % self.max_body)
        return data

    def _quick(self, request, target, tail):
        if target.obj is None or not target.rtype.quick:
            raise HttpError(404, 'No quick properties here.')
        values = {name: spec.resolve(target.obj, attr)
                  for name, attr in target.rtype.quick.items()}
        if tail:
            if tail[0] not in values:
                raise HttpError(404, 'Unknown quick property %s.' % tail[0])
            payload = values[tail[0]]
        else:
            payload = values
        return wrappers.Response(json.dumps(payload), status=200,
                                 content_type='application/json')

    def _search(self, request, target, tail):
        rtype = target.rtype
        if target.obj is not None or not tail:
            raise HttpError(400, 'A search needs a (Key==value) clause.')
        key, op, value = wire_request.parse_search(tail[0])
        attr = rtype.search_keys.get(key)
        if attr is None:
            raise HttpError(400, '%s cannot be searched by %s.' % (
                rtype.name, key))
        with self.model.registry.lock:
            objs = [o for o in rtype.children(self.model, target.parent)
                    if self.in_scope(o) and
                    (str(spec.resolve(o, attr)) == value) == (op == '==')]
            return self._feed_response(request, rtype, objs,
                                       _groups(request))

    # --------------------------------------------------------- responses
    def _base(self, request):
        # Not request.host_url: its IRI decoding was a quarter of an entry
        # GET's time in the application.
        return '%s://%s' % (request.scheme, request.host)

    def _entry_response(self, request, rtype, obj, groups, self_href=None):
        base = self._base(request)
        # SELF echoes the request (group query included): pypowervm POSTs
        # updates to it.
        self_href = self_href or base + request.full_path.rstrip('?')
        # Under the lock, so the body and the ETag are of the same state.
        with self.model.registry.lock:
            xml = self._render_entry(rtype, obj, groups, base,
                                     standalone=True, self_href=self_href)
            etag = obj.etag
        return wrappers.Response(xml, status=200, content_type=atom.ATOM_TYPE,
                                 headers={'ETag': etag})

    def _feed_response(self, request, rtype, objs, groups):
        if not objs:
            return wrappers.Response(status=204)
        base = self._base(request)
        query = request.query_string.decode()
        suffix = ('?' + query) if query else ''
        with self.model.registry.lock:
            entries = [self._render_entry(
                rtype, obj, groups, base, standalone=False,
                self_href=base + obj.href + suffix) for obj in objs]
        xml = atom.feed(entries, base + request.full_path.rstrip('?'))
        return wrappers.Response(xml, status=200, content_type=atom.ATOM_TYPE)

    def _render_entry(self, rtype, obj, groups, base, standalone, self_href):
        """The object's entry; call under the model lock (a change half
        made must not be rendered, and never kept for reuse)."""
        key = (obj.etag, groups, base)
        cached = self._rendered.get(obj.uuid)
        if cached is None or cached[0] != key:
            body = spec.Renderer(base, groups).object(rtype.schema, obj)
            cached = self._rendered[obj.uuid] = (key, body)
        return atom.entry(cached[1], rtype.name, obj.uuid, obj.etag,
                          self_href, standalone=standalone)

    def _error(self, request, status, message, reason_code=''):
        body = atom.error_entry(status, message, request.path, reason_code)
        return wrappers.Response(body, status=status,
                                 content_type=atom.ATOM_TYPE)

    # ------------------------------------------------------------ events
    def _events(self, request):
        if request.method == 'PUT':
            fields = wire_request.parse_event(self._body(request))
            self.events.publish_custom(fields.get('data', ''),
                                       fields.get('detail', ''))
            return wrappers.Response(
                wire_request.event_entry(fields), status=200,
                content_type=atom.ATOM_TYPE)
        if request.method != 'GET':
            raise HttpError(405, 'Event takes GET or PUT.')
        appid = request.args.get('QUEUE_APPLICATIONID')
        if not appid:
            raise HttpError(400, 'QUEUE_APPLICATIONID is required.')
        events = self.events.poll(appid, self.event_wait)
        if not events:
            return wrappers.Response(status=204)
        xml = wire_request.event_feed(events, self._base(request))
        return wrappers.Response(xml, status=200, content_type=atom.ATOM_TYPE)

    # ---------------------------------------------------------- control
    def _control(self, request, rest):
        return self._handler('control')(self, request, rest)


class _Dropped(Exception):
    """A fault rule asked for the connection to be dropped."""


# Set in a request's environ when its answer is to be dropped once the
# request has been carried out.
_DROP_ANSWER = 'powervm_sim.drop_answer'


class _Target:
    def __init__(self, rtype, parent, obj):
        self.rtype = rtype
        self.parent = parent
        self.obj = obj


def _groups(request):
    value = request.args.get('group')
    if value is None:
        return None
    if value == 'None':
        return frozenset()
    return frozenset(v for v in value.split(',') if v)


def _resource_type(path):
    parts = [p for p in path.split('/') if p]
    # /rest/api/uom/Type[/id[/Child[/id]]]
    names = [p for p in parts[3:] if not _looks_like_uuid(p) and
             p not in SUFFIXES]
    if path.startswith(WEB):
        return parts[3] if len(parts) > 3 else None
    return names[-1] if names else None


def _looks_like_uuid(text):
    return len(text) == 36 and text.count('-') == 4


def _job_name(request):
    parts = request.path.split('/do/')
    if len(parts) == 2 and request.method == 'PUT':
        return parts[1].strip('/')
    return None


def _drop(environ):
    sock = environ.get('werkzeug.socket')
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            LOG.debug('socket already closed while dropping a connection')

