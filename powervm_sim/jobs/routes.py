"""The job URLs: ``.../do/{Op}`` templates and submissions, and the
``/rest/api/uom/jobs/{id}`` resources, parsed and rendered."""

import uuid as uuidlib
from xml.sax import saxutils

from werkzeug import wrappers

from powervm_sim import app as app_mod
from powervm_sim import jobs
from powervm_sim.wire import atom
from powervm_sim.wire import request as wire_request
from powervm_sim.wire import spec


@app_mod.handler('do')
def handle_do(sim, request, target, tail):
    if len(tail) != 1:
        raise app_mod.HttpError(404, 'A job path ends in do/{Operation}.')
    op = jobs.lookup(target.rtype.name, tail[0])
    obj = target.obj
    # Every operation served acts on one object named by its UUID.
    if obj is None:
        raise app_mod.HttpError(404, 'Job %s needs a %s UUID in the URL.' %
                                (op.name, target.rtype.name))
    if request.method == 'GET':
        return _template_response(request, target.rtype.name, op.name)
    if request.method == 'PUT':
        return _submit(sim, request, target, op)
    raise app_mod.HttpError(405, 'Jobs take GET (template) or PUT.')


@app_mod.handler('jobs')
def handle_jobs(sim, request, segments):
    store = jobs.store_of(sim)
    if len(segments) == 1 and request.method == 'GET':
        return _job_response(request, store.poll(segments[0]))
    if len(segments) == 1 and request.method == 'DELETE':
        store.delete(segments[0])
        return wrappers.Response(status=204)
    if len(segments) == 2 and segments[1] == jobs.CANCEL and \
            request.method == 'POST':
        return _job_response(request, store.cancel(segments[0]))
    if len(segments) in (1, 2):
        raise app_mod.HttpError(405, '%s is not allowed here.' %
                                request.method)
    raise app_mod.HttpError(404, 'Unknown jobs resource.')


def _submit(sim, request, target, op):
    params = _parse_job_request(_read_body(sim, request), target.rtype.name,
                                op.name)
    obj = target.obj
    base = request.host_url.rstrip('/')
    store = jobs.store_of(sim)
    job = store.new_job(op.name, target.rtype.name, base + request.path,
                        obj.uuid.upper() if obj is not None else None,
                        params)
    ctx = jobs.JobContext(sim, obj, job, dict(params))
    store.submit(job, lambda: op.func(ctx),
                 duration=sim.latency.job_duration(op.name),
                 failure=request.environ.get('powervm_sim.job_failure'))
    return _job_response(request, job)


def _read_body(sim, request):
    data = request.stream.read(sim.max_body + 1)
    if len(data) > sim.max_body:
        raise app_mod.HttpError(413, 'The request body is larger than %d '
                                'bytes.' % sim.max_body)
    return data


def _children(element, tag):
    return [c for c in element if spec.local_name(c) == tag]


def _child_text(element, tag):
    found = _children(element, tag)
    return (found[0].text or '').strip() if found else None


def _parse_job_request(data, group, name):
    """The (name, value) parameters of a JobRequest for ``group``/``name``.
    """
    root = wire_request.parse_body(data)
    if spec.local_name(root) != 'JobRequest':
        raise spec.SchemaError('Expected a JobRequest, got %s.' %
                               spec.local_name(root))
    requested = _children(root, 'RequestedOperation')
    if not requested:
        raise spec.SchemaError('The JobRequest has no RequestedOperation.')
    sent = (_child_text(requested[0], 'GroupName'),
            _child_text(requested[0], 'OperationName'))
    if sent != (group, name):
        raise spec.SchemaError('The JobRequest is for %s/%s but was sent to '
                               '%s/do/%s.' % (sent + (group, name)))
    holders = _children(root, 'JobParameters')
    if not holders:
        raise spec.SchemaError('The JobRequest has no JobParameters.')
    params = []
    for param in _children(holders[0], 'JobParameter'):
        key = _child_text(param, 'ParameterName')
        if not key:
            raise spec.SchemaError('A JobParameter has no ParameterName.')
        if not jobs.PARAMETER_NAME.fullmatch(key):
            raise spec.SchemaError('%r is not a job parameter name.' %
                                   key[:40])
        values = _children(param, 'ParameterValue')
        # CDATA sections arrive merged into the text by the parser.
        params.append((key, (values[0].text or '') if values else ''))
    return params


# --------------------------------------------------------------- rendering
def _nested(tag, children_xml, kb='CUR'):
    return ('<%s kb="%s" kxe="false" schemaVersion="V1_0"><Metadata><Atom/>'
            '</Metadata>%s</%s>' % (tag, kb, children_xml, tag))


def _parameter(name, value):
    return ('<JobParameter schemaVersion="V1_0"><Metadata><Atom/></Metadata>'
            '%s%s</JobParameter>' % (atom.leaf('ParameterName', name),
                                     atom.leaf('ParameterValue', value,
                                               kb='CUR')))


def _requested_operation(group, name):
    return _nested('RequestedOperation', atom.leaf('OperationName', name) +
                   atom.leaf('GroupName', group))


def _template_response(request, group, name):
    body = atom.web_object('JobRequest', _requested_operation(group, name) +
                           _nested('JobParameters', ''))
    href = request.host_url.rstrip('/') + request.full_path.rstrip('?')
    xml = atom.entry(body, 'JobRequest', uuidlib.uuid4(), '0', href,
                     content_type=atom.WEB_CONTENT)
    return wrappers.Response(xml, status=200, content_type=atom.ATOM_TYPE)


def _progress(job):
    messages = [('Started', 'STARTED')]
    if not job.active:
        messages.append(('Completed', 'COMPLETE'))
    tasks = ''.join(
        '<NLSMessage schemaVersion="V1_0"><Metadata><Atom/></Metadata>%s%s'
        '</NLSMessage>' % (atom.leaf('UntranslatedMessage', text),
                           atom.leaf('MessageKey', key))
        for text, key in messages)
    fraction = '0.0' if job.active else '1.0'
    return _nested('Progress', _nested('CompletedTasks', tasks, kb='ROR') +
                   atom.leaf('LinearProgress', fraction), kb='ROO')


def render_job(job):
    """The JobResponse object of ``job``."""
    failure = ''
    if job.message and job.status != jobs.COMPLETED_OK:
        failure = _nested('ResponseException',
                          atom.leaf('Message', job.message), kb='ROR')
    instance = _nested(
        'JobRequestInstance', _requested_operation(job.group, job.operation) +
        _nested('JobParameters', ''.join(
            _parameter(k, v) for k, v in job.params)), kb='ROR')
    results = _nested('Results', ''.join(
        _parameter(k, v) for k, v in job.results.items()), kb='ROR')
    body = ''.join((
        '<RequestURL kb="ROR" kxe="false" href="%s" rel="via" title="The '
        'URL to which the JobRequest was submitted."/>' % saxutils.escape(
            job.request_url, {'"': '&quot;'}),
        atom.leaf('TargetUuid', job.target_uuid),
        atom.leaf('JobID', job.job_id),
        atom.leaf('TimeStarted', job.started),
        atom.leaf('TimeCompleted', job.completed),
        atom.leaf('Status', job.status),
        failure, instance, _progress(job), results))
    return atom.web_object('JobResponse', body)


def _job_response(request, job):
    base = request.host_url.rstrip('/')
    xml = atom.entry(render_job(job), 'JobResponse', job.entry_uuid, '0',
                     '%s/rest/api/uom/jobs/%s' % (base, job.job_id),
                     content_type=atom.WEB_CONTENT)
    return wrappers.Response(xml, status=200, content_type=atom.ATOM_TYPE)
