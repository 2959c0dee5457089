"""NovaLink's web File API (/rest/api/web/File): upload records, and the
contents streamed into disks and the media repository.

    PUT    File                  create a record (web-namespace File body)
    GET    File[/{id}]           the records (feed) or one record
    DELETE File/{id}             forget a record (the uploaded data stays)
    PUT    File/contents/{id}    upload (POST replaces); chunked, no length
    GET    File/contents/{id}    download what the record points at

A BROKERED_DISK_IMAGE upload fills the target disk (VirtualDisk or LU) by
UDID; a BROKERED_MEDIA_ISO upload becomes a VirtualOpticalMedia named after
the file in the target VIOS's media repository.  Bodies are streamed in
chunks, never held whole in memory.
"""

from werkzeug import wrappers

from powervm_sim import app
from powervm_sim import files
from powervm_sim.model import registry
from powervm_sim.wire import atom
from powervm_sim.wire import request as wire_request
from powervm_sim.wire import spec
from powervm_sim.wire.schemas import storage as storage_schema

_VIOS = 'VirtualIOServer'
_CONTENTS = 'contents'
# pypowervm sends 64 KiB chunks; reading the body in pieces of the same
# order keeps an upload's memory bounded whatever its size.
_CHUNK = 64 * 1024
_FIELDS = ('filename', 'media_type', 'file_enum_type', 'target_vios_uuid',
           'target_udid', 'expected_size', 'sha256')


@app.handler('File')
def handle(sim, request, rest):
    parts = [part for part in rest.split('/') if part][1:]
    method = request.method
    if not parts:
        if method == 'PUT':
            return _create(sim, request)
        if method == 'GET':
            return _feed(sim, request)
    elif len(parts) == 1 and parts[0] != _CONTENTS:
        if method == 'GET':
            return _entry(request, _record(sim, parts[0]))
        if method == 'DELETE':
            return _delete(sim, parts[0])
    elif len(parts) == 2 and parts[0] == _CONTENTS:
        if method in ('PUT', 'POST'):
            return _upload(sim, request, _record(sim, parts[1]))
        if method == 'GET':
            return _download(sim, _record(sim, parts[1]))
    raise app.HttpError(405 if len(parts) <= 2 else 404,
                        '%s is not served on /rest/api/web/%s.' % (
                            method, rest))


class _FileView:
    """A FileRecord as the File schema renders it."""

    def __init__(self, record):
        self._record = record

    def __getattr__(self, name):
        return getattr(self._record, name)

    @property
    def asset_href(self):
        return '/rest/api/web/File/contents/%s' % self._record.uuid


def _registry(sim):
    return sim.model.file_registry


def _record(sim, uuid):
    try:
        record = _registry(sim).get(uuid)
    except KeyError:
        raise app.HttpError(404, 'No File %s.' % uuid) from None
    if not sim.in_scope(_target_vios(sim, record.target_vios_uuid)):
        raise app.HttpError(404, 'No File %s.' % uuid)
    return record


def _target_vios(sim, uuid):
    try:
        return sim.model.get(uuid, _VIOS)
    except registry.NotFound:
        raise app.HttpError(400, 'TargetVirtualIOServerUUID %s is not a '
                            'Virtual I/O Server.' % uuid) from None


def _create(sim, request):
    element = wire_request.parse_body(sim._body(request))
    fields = spec.parse(storage_schema.FILE, element,
                        check_order=sim.strict_order)
    fields = {name: fields[name] for name in _FIELDS if name in fields}
    vios = _target_vios(sim, fields.get('target_vios_uuid', ''))
    if not sim.in_scope(vios):
        raise app.HttpError(400, 'Virtual I/O Server %s is not managed '
                            'here.' % vios.uuid)
    if fields.get('file_enum_type') == files.DISK_IMAGE:
        _check_disk(sim, vios, fields.get('target_udid'),
                    fields.get('expected_size'))
    try:
        record = _registry(sim).create(**fields)
    except ValueError as exc:
        raise app.HttpError(400, str(exc)) from None
    return _entry(request, record)


def _check_disk(sim, vios, udid, expected_size):
    try:
        size = sim.model.disk_size(udid or '')
    except registry.NotFound:
        raise app.HttpError(400, 'TargetDeviceUniqueDeviceID %s is not a '
                            'disk.' % udid) from None
    vdisk = sim.model.lookup_vdisk(udid)
    if vdisk is not None and vdisk.vg.parent is not vios:
        raise app.HttpError(400, 'Disk %s is not on Virtual I/O Server '
                            '%s.' % (udid, vios.name))
    lu = sim.model.find_logical_unit(udid)
    if lu is not None:
        sim.model.check_node_reaches(vios, lu)
    if expected_size is not None and expected_size > size:
        raise app.HttpError(400, 'A %d byte file does not fit disk %s of '
                            '%d bytes.' % (expected_size, udid, size))


def _delete(sim, uuid):
    _record(sim, uuid)
    try:
        _registry(sim).delete(uuid)
    except KeyError:
        raise app.HttpError(404, 'No File %s.' % uuid) from None
    return wrappers.Response(status=204)


def _upload(sim, request, record):
    chunks = files.iter_chunks(request.stream, _CHUNK)
    try:
        if record.file_enum_type == files.DISK_IMAGE:
            sim.model.write_disk_image(record.target_udid, record.uuid,
                                       chunks)
        else:
            sim.model.upload_optical_media(
                _target_vios(sim, record.target_vios_uuid),
                record.filename, record.uuid, chunks)
    except ValueError as exc:
        raise app.HttpError(400, str(exc)) from None
    return wrappers.Response(status=204)


def _download(sim, record):
    if record.file_enum_type == files.DISK_IMAGE:
        key = record.target_udid
    else:
        key = _media_key(sim, record)
    try:
        blob = sim.model.content.open_reader(key)
    except KeyError:
        raise app.HttpError(404, 'File %s has no contents.' %
                            record.uuid) from None
    return wrappers.Response(_stream(blob), status=200,
                             mimetype=record.media_type,
                             direct_passthrough=True)


def _media_key(sim, record):
    """The blob of the medium an ISO upload made on its target VIOS."""
    vios = _target_vios(sim, record.target_vios_uuid)
    with sim.model.registry.lock:
        _, repo = sim.model.media_repository_of(vios)
        medium = repo.find(record.filename)
    if medium is None:
        raise app.HttpError(404, 'File %s has no contents.' % record.uuid)
    return medium.content_key


def _stream(blob):
    with blob:
        yield from files.iter_chunks(blob)


def _base(request):
    return request.host_url.rstrip('/')


def _render(request, record):
    return spec.Renderer(_base(request)).object(
        storage_schema.FILE, _FileView(record), namespace=spec.WEB_NS)


def _entry(request, record):
    xml = atom.entry(_render(request, record), 'File', record.uuid,
                     str(record.date_modified), _base(request) +
                     '/rest/api/web/File/' + record.uuid,
                     content_type=atom.WEB_CONTENT)
    return wrappers.Response(xml, status=200, content_type=atom.ATOM_TYPE,
                             headers={'ETag': str(record.date_modified)})


def _feed(sim, request):
    records = [r for r in _registry(sim).list()
               if sim.in_scope(sim.model.registry.find(r.target_vios_uuid))]
    if not records:
        return wrappers.Response(status=204)
    base = _base(request)
    entries = [atom.entry(_render(request, r), 'File', r.uuid,
                          str(r.date_modified),
                          base + '/rest/api/web/File/' + r.uuid,
                          content_type=atom.WEB_CONTENT, standalone=False)
               for r in records]
    return wrappers.Response(atom.feed(entries, base + request.path),
                             status=200, content_type=atom.ATOM_TYPE)
