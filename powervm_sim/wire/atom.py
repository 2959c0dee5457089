"""The Atom envelope NovaLink wraps every object in, and its error bodies.

pypowervm parses Atom bodies from a ``str``, so nothing here emits an XML
declaration with an encoding (that would raise in the client).
"""

import time
import uuid as uuidlib
from xml.sax import saxutils

from powervm_sim.wire.spec import UOM_NS
from powervm_sim.wire.spec import WEB_NS

ATOM_NS = 'http://www.w3.org/2005/Atom'
AUTHOR = 'IBM Power Systems Management Console'
UOM_CONTENT = 'application/vnd.ibm.powervm.uom+xml; type=%s'
WEB_CONTENT = 'application/vnd.ibm.powervm.web+xml; type=%s'
ATOM_TYPE = 'application/atom+xml; charset=UTF-8'


def _now_iso():
    return time.strftime('%Y-%m-%dT%H:%M:%S.000Z', time.gmtime())


def _attr(value):
    return saxutils.escape(value, {'"': '&quot;'})


def entry(object_xml, resource_type, uuid, etag, self_href,
          content_type=UOM_CONTENT, standalone=True):
    """One ``<entry>``; ``standalone`` adds the namespace declarations."""
    head = '<entry xmlns="%s">' % ATOM_NS if standalone else '<entry>'
    return (
        '%s<id>%s</id><title>%s</title><published>%s</published>'
        '<link rel="SELF" href="%s"/><author><name>%s</name></author>'
        '<etag:etag xmlns:etag="%s">%s</etag:etag>'
        '<content type="%s">%s</content></entry>' % (
            head, uuid, resource_type, _now_iso(), _attr(self_href), AUTHOR,
            UOM_NS, etag, content_type % resource_type, object_xml))


def feed(entries, self_href, feed_id=None):
    return (
        '<feed xmlns="%s"><id>%s</id><updated>%s</updated>'
        '<link rel="SELF" href="%s"/><generator>%s</generator>%s</feed>' % (
            ATOM_NS, feed_id or uuidlib.uuid4(), _now_iso(), _attr(self_href),
            AUTHOR, ''.join(entries)))


def web_object(tag, children_xml, schema_version='V1_0'):
    """A web-namespace object (JobRequest, JobResponse, File, ...)."""
    return ('<%s:%s xmlns:%s="%s" xmlns="%s" schemaVersion="%s">'
            '<Metadata><Atom/></Metadata>%s</%s:%s>' % (
                tag, tag, tag, WEB_NS, WEB_NS, schema_version, children_xml,
                tag, tag))


def leaf(tag, value, kb='ROR'):
    if value is None:
        return ''
    return '<%s kb="%s" kxe="false">%s</%s>' % (
        tag, kb, saxutils.escape(str(value)), tag)


def error_entry(status, message, request_uri, reason_code='',
                request_body=''):
    """An ``HttpErrorResponse`` entry, as NovaLink answers a failure."""
    body = ''.join((
        leaf('HTTPStatus', status),
        leaf('RequestURI', request_uri),
        leaf('ReasonCode', reason_code or _REASONS.get(status, 'Error')),
        leaf('Message', message),
        leaf('RequestBody', request_body[:1024]),
        leaf('RequestHeaders', ''),
    ))
    obj = web_object('HttpErrorResponse', body)
    return entry(obj, 'HttpErrorResponse', uuidlib.uuid4(), '0',
                 request_uri, content_type=WEB_CONTENT)


_REASONS = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
    404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict',
    412: 'Precondition Failed', 413: 'Request Entity Too Large',
    415: 'Unsupported Media Type', 500: 'Internal Server Error',
    503: 'Service Unavailable',
}
