"""Parsing client bodies safely, and the small web-namespace documents
(logon, events) that have no schema of their own."""

import re
from xml.sax import saxutils

from lxml import etree

from powervm_sim.wire import atom
from powervm_sim.wire import spec

# No DTDs, no entity expansion, no network: a body is data, never a program.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True,
                          load_dtd=False, huge_tree=False,
                          remove_comments=True)
_NAMESPACES = (spec.UOM_NS, spec.WEB_NS)
_SEARCH = re.compile(r"^\((?P<key>\w+)(?P<op>==|!=)'(?P<value>.*)'\)$")


def parse_body(data):
    """Parse a request body into its root element, refusing the unsafe."""
    if not data or not data.strip():
        raise spec.SchemaError('The request has no body.')
    root = parse_xml(data)
    namespace = etree.QName(root).namespace
    if namespace not in _NAMESPACES:
        raise spec.SchemaError('Element %s is in namespace %r, expected %s' %
                               (spec.local_name(root), namespace,
                                ' or '.join(_NAMESPACES)))
    return root


def parse_xml(data, what='The request body'):
    """Parse XML a client sent (a body, a job's XML parameter: ``what``)
    into its root element, refusing the unsafe."""
    if not data or not data.strip():
        raise spec.SchemaError('%s is empty.' % what)
    if b'<!DOCTYPE' in data or b'<!ENTITY' in data:
        raise _declarations_refused()
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise spec.SchemaError('%s is not well-formed XML: %s' % (
            what, exc)) from None
    # The byte check above misses a declaration in another encoding
    # (UTF-16); the parsed document tells whatever the encoding.
    if root.getroottree().docinfo.doctype:
        raise _declarations_refused()
    return root


def _declarations_refused():
    return spec.SchemaError('Document type and entity declarations are not '
                            'accepted.')


def client_uuid(element):
    """The UUID a client chose for a new object (nova picks LPAR UUIDs)."""
    for path in ('Metadata/Atom/AtomID', 'PartitionUUID'):
        found = element.find(_ns_path(path))
        if found is not None and found.text and found.text.strip():
            return found.text.strip().lower()
    return None


def _ns_path(path):
    return '/'.join('{%s}%s' % (spec.UOM_NS, part) for part in
                    path.split('/'))


def _text(element, tag):
    for child in element:
        if spec.local_name(child) == tag:
            return (child.text or '').strip()
    return None


def parse_logon(data):
    root = parse_body(data)
    if spec.local_name(root) != 'LogonRequest':
        raise spec.SchemaError('Expected a LogonRequest.')
    user = _text(root, 'UserID')
    if not user:
        raise spec.SchemaError('LogonRequest needs a UserID.')
    file_auth = (_text(root, 'GenerateX-API-SessionFile') or '') == 'true'
    return {'user': user, 'password': _text(root, 'Password'),
            'file_auth': file_auth}


def parse_search(clause):
    match = _SEARCH.match(clause)
    if not match:
        raise spec.SchemaError('Search clause %r is not (Key==\'value\').' %
                               clause)
    return match['key'], match['op'], match['value']


def parse_event(data):
    root = parse_body(data)
    if spec.local_name(root) != 'Event':
        raise spec.SchemaError('Expected an Event.')
    return {'data': _text(root, 'EventData') or '',
            'detail': _text(root, 'EventDetail') or ''}


def _event_object(event_type, event_id, data, detail):
    body = ''.join('<%s kb="ROR" kxe="false">%s</%s>' % (
        tag, saxutils.escape(str(value)), tag) for tag, value in (
        ('EventType', event_type), ('EventID', event_id),
        ('EventData', data), ('EventDetail', detail)))
    return ('<Event:Event xmlns:Event="%s" xmlns="%s" schemaVersion="V1_0">'
            '<Metadata><Atom/></Metadata>%s</Event:Event>' % (
                spec.UOM_NS, spec.UOM_NS, body))


def event_entry(fields):
    obj = _event_object('CUSTOM_CLIENT_EVENT', '0', fields.get('data', ''),
                        fields.get('detail', ''))
    return atom.entry(obj, 'Event', '00000000-0000-0000-0000-000000000000',
                      '0', '/rest/api/uom/Event')


def event_feed(events, base_url):
    entries = [atom.entry(
        _event_object(e.type, e.id, e.data, e.detail), 'Event',
        '00000000-0000-0000-0000-%012d' % int(e.id), '0',
        base_url + '/rest/api/uom/Event', standalone=False)
        for e in events]
    return atom.feed(entries, base_url + '/rest/api/uom/Event')
