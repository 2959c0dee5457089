"""Declarative XML schemas for NovaLink's UOM objects.

Each resource type is described once, as an indented outline in NovaLink's
own element order, and the same description is used to render the object
from the model, to parse a client's body back into model fields and to check
the order of the elements a client sends.  One line per element::

    PartitionName = name            CUR   value from obj.name, client-writable
    PartitionID ~ partition_id:int  COD   value from obj.partition_id, server's
    PartitionType : AIX/Linux             constant text
    AssociatedManagedSystem -> system_href    link (href attribute)
    PartitionProcessorConfiguration ? has_proc   container, only if truthy
    VirtualDisks * vdisks                 list: the single child line below
      VirtualDisk                         is the item, rendered per element
                                          of obj.vdisks
    MediaRepositories [group=ViosStorage] extra attributes on the element

Field paths are attribute names on the model object (dotted for nested
objects).  ``:int``, ``:float`` and ``:bool`` convert parsed text.  The
trailing upper-case word, when present, is the ``kb`` access flag real NovaLink
attaches (CUD, CUR, COD, ROR, ROO, CUA, UOD).
"""

import dataclasses
import re
from xml.sax import saxutils

UOM_NS = 'http://www.ibm.com/xmlns/systems/power/firmware/uom/mc/2012_10/'
WEB_NS = 'http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/'
K2_NS = 'http://www.w3.org/XML/1998/namespace/k2'

_KB_FLAGS = {'CUD', 'CUR', 'COD', 'ROR', 'ROO', 'CUA', 'UOD', 'COR'}
_LINE = re.compile(
    r'^(?P<tag>[A-Za-z][\w.-]*)'
    r'(?:\s+\[(?P<attrs>[^\]]*)\])?'
    r'(?:\s+(?P<op>=|~|:|->|\?|\*)\s*(?P<arg>.*?))?'
    r'(?:\s+(?P<kb>[A-Z]{3}))?\s*$')


class SchemaError(ValueError):
    """A client body does not fit the schema (answered with HTTP 400)."""


@dataclasses.dataclass
class Node:
    tag: str
    op: str = ''            # '', '=', '~', ':', '->', '?', '*'
    arg: str = ''
    kind: str = 'str'       # conversion of parsed text
    kb: str = ''
    attrs: tuple = ()
    children: list = dataclasses.field(default_factory=list)

    @property
    def writable(self):
        return self.op == '='

    def child(self, tag):
        for node in self.children:
            if node.tag == tag:
                return node
        return None


def compile_schema(text):
    """Turn an outline into the root ``Node`` (the first line)."""
    stack = []
    root = None
    for raw in text.splitlines():
        line = raw.split('#', 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(' '))
        node = _parse_line(line.strip(), raw)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            stack[-1][1].children.append(node)
        elif root is None:
            root = node
        else:
            raise ValueError('schema has two roots: %r' % raw)
        stack.append((indent, node))
    return root


def _parse_line(line, raw):
    match = _LINE.match(line)
    if not match:
        raise ValueError('bad schema line: %r' % raw)
    node = Node(tag=match['tag'], op=match['op'] or '',
                arg=(match['arg'] or '').strip(), kb=match['kb'] or '')
    if node.kb and node.kb not in _KB_FLAGS:
        raise ValueError('unknown kb flag in %r' % raw)
    if match['attrs']:
        node.attrs = tuple(
            tuple(pair.split('=', 1)) for pair in match['attrs'].split())
    if node.op in ('=', '~') and ':' in node.arg:
        node.arg, node.kind = node.arg.split(':', 1)
    return node


# ---------------------------------------------------------------- rendering

def resolve(obj, path):
    for name in path.split('.'):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj() if callable(obj) else obj


def format_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float):
        return repr(round(value, 4))
    return str(value)


class Renderer:
    """Renders model objects through a schema into UOM XML text.

    ``base_url`` turns the model's relative links into the absolute hrefs
    NovaLink serves; ``groups`` is the set of extended attribute groups the
    request asked for (None means every group).
    """

    def __init__(self, base_url, groups=None):
        self.base_url = base_url
        self.groups = groups

    def object(self, root, obj, namespace=UOM_NS, schema_version='V1_0'):
        body = self._children(root, obj)
        tag = root.tag
        return (
            '<%s:%s xmlns:%s="%s" xmlns="%s" xmlns:ns2="%s" '
            'schemaVersion="%s">%s%s</%s:%s>' % (
                tag, tag, tag, namespace, namespace, K2_NS, schema_version,
                _metadata(obj), body, tag, tag))

    def _children(self, node, obj):
        return ''.join(self._node(child, obj) for child in node.children)

    def _node(self, node, obj):
        group = dict(node.attrs).get('group')
        if group and self.groups is not None and group not in self.groups:
            return ''
        if node.op in ('=', '~'):
            return self._leaf(node, resolve(obj, node.arg))
        if node.op == ':':
            return self._leaf(node, node.arg)
        if node.op == '->':
            return self._link(node, obj)
        if node.op == '*':
            return self._list(node, obj)
        if node.op == '?':
            scope = resolve(obj, node.arg)
            if not scope:
                return ''
            obj = obj if scope is True else scope
        return '<%s%s>%s%s</%s>' % (
            node.tag, self._attrs(node, container=True),
            _EMPTY_METADATA if _has_metadata(node) else '',
            self._children(node, obj), node.tag)

    def _link(self, node, obj):
        # List items of link lists are the hrefs themselves.
        href = obj if isinstance(obj, str) else resolve(obj, node.arg)
        if href is None:
            return ''
        return '<%s%s href="%s" rel="related"/>' % (
            node.tag, self._attrs(node), saxutils.escape(
                self.base_url + href, {'"': '&quot;'}))

    def _list(self, node, obj):
        items = resolve(obj, node.arg) or ()
        [item_node] = node.children
        if item_node.op == '->':
            inner = ''.join(self._link(item_node, item) for item in items)
        else:
            inner = ''.join(
                '<%s%s>%s%s</%s>' % (
                    item_node.tag, self._attrs(item_node, container=True),
                    _metadata(item), self._children(item_node, item),
                    item_node.tag)
                for item in items)
        return '<%s%s>%s%s</%s>' % (
            node.tag, self._attrs(node),
            _EMPTY_METADATA if _list_has_metadata(node) else '', inner,
            node.tag)

    def _leaf(self, node, value):
        if value is None:
            return ''
        if isinstance(value, (list, tuple)):
            # Repeated leaves, e.g. SupportedPartitionProcessorCompatibility
            # Modes once per mode.
            return ''.join(self._leaf(node, item) for item in value)
        return '<%s%s>%s</%s>' % (
            node.tag, self._attrs(node),
            saxutils.escape(format_value(value)), node.tag)

    @staticmethod
    def _attrs(node, container=False):
        parts = ['%s="%s"' % pair for pair in node.attrs]
        if node.kb:
            parts.append('kb="%s" kxe="false"' % node.kb)
        if container and node.children and node.op != '*':
            parts.append('schemaVersion="V1_0"')
        return (' ' + ' '.join(parts)) if parts else ''


_EMPTY_METADATA = '<Metadata><Atom/></Metadata>'


def _has_metadata(node):
    # Real NovaLink puts an empty Metadata block at the head of every
    # complex child object; link holders have none, and neither has a
    # wrapper around one complex object (VirtualDisk's EncryptionAgent).
    return (bool(node.children) and
            not all(child.op == '->' for child in node.children) and
            not _is_wrapper(node))


def _list_has_metadata(node):
    # Lists of complex objects (VirtualDisks, PhysicalVolumes) open with
    # an empty Metadata block; lists of links or plain values do not.
    [item] = node.children
    return item.op != '->' and bool(item.children)


def _is_wrapper(node):
    return (len(node.children) == 1 and node.children[0].op in ('', '?')
            and bool(node.children[0].children))


def _metadata(obj):
    uuid = getattr(obj, 'uuid', None)
    if not uuid:
        return _EMPTY_METADATA
    created = getattr(obj, 'created', None)
    return '<Metadata><Atom><AtomID>%s</AtomID>%s</Atom></Metadata>' % (
        uuid, '<AtomCreated>%d</AtomCreated>' % created if created else '')


# ------------------------------------------------------------------ parsing

def local_name(element):
    tag = element.tag
    if not isinstance(tag, str):
        return None
    return tag.rsplit('}', 1)[-1]


def parse(root, element, check_order=True):
    """Collect the client-writable fields of ``element`` into a dict.

    Unknown elements are ignored (pypowervm appends tags it does not know
    about).  With ``check_order`` the known children of every element must
    appear in schema order; :class:`SchemaError` names the first offender.
    """
    if local_name(element) != root.tag:
        raise SchemaError('expected a %s body, got %s' % (
            root.tag, local_name(element)))
    fields = {}
    _collect(root, element, fields, check_order, root.tag)
    return fields


def _collect(node, element, fields, check_order, path):
    last_index = -1
    last_tag = None
    positions = {child.tag: i for i, child in enumerate(node.children)}
    for sub in element:
        tag = local_name(sub)
        if tag is None or tag == 'Metadata' or tag not in positions:
            continue
        index = positions[tag]
        if check_order and index < last_index:
            raise SchemaError(
                'element %s/%s must come before %s' % (path, tag, last_tag))
        last_index, last_tag = index, tag
        child = node.children[index]
        _collect_child(child, sub, fields, check_order, path + '/' + tag)


def _collect_child(child, sub, fields, check_order, path):
    if child.op == '=':
        fields[child.arg] = convert(child, sub.text, path)
    elif child.op == '*':
        [item_node] = child.children
        items = []
        for item in sub:
            if local_name(item) != item_node.tag:
                continue
            item_fields = {}
            if item_node.op == '->':
                item_fields['href'] = item.get('href')
            else:
                _collect(item_node, item, item_fields, check_order,
                         path + '/' + item_node.tag)
            items.append(item_fields)
        fields[child.arg] = items
    elif child.op in ('', '?'):
        _collect(child, sub, fields, check_order, path)
    elif child.op == '->' and child.arg:
        fields[child.arg] = sub.get('href')


def convert(node, text, path):
    text = (text or '').strip()
    try:
        if node.kind == 'int':
            return int(text)
        if node.kind == 'float':
            return float(text)
        if node.kind == 'bool':
            if text.lower() not in ('true', 'false'):
                raise ValueError(text)
            return text.lower() == 'true'
    except ValueError:
        raise SchemaError('%s: %r is not a valid %s' % (
            path, text, node.kind)) from None
    return text


def element_paths(root, prefix=''):
    """Every element path the schema can produce (for conformance)."""
    paths = []
    for child in root.children:
        path = prefix + child.tag
        paths.append(path)
        if child.children and child.op != '*':
            if _has_metadata(child):
                paths += [path + '/Metadata', path + '/Metadata/Atom']
            paths += element_paths(child, path + '/')
        elif child.op == '*':
            [item] = child.children
            if _list_has_metadata(child):
                paths += [path + '/Metadata', path + '/Metadata/Atom']
            item_path = path + '/' + item.tag
            paths.append(item_path)
            if item.children:
                paths += [item_path + '/Metadata',
                          item_path + '/Metadata/Atom']
                paths += element_paths(item, item_path + '/')
    return paths
