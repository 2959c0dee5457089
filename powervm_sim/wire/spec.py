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
    AuthorizedKeys * authorized_keys      a list of values: the item line is
      AuthorizedKey = key                 a leaf, and the items are the
                                          values themselves (strings)
    MediaRepositories [group=ViosStorage] extra attributes on the element
    HostChannelAdapters [metadata]        an object with nothing in it but
                                          its (empty) Metadata block
    PartitionName [required] = name       a client's body must carry it,
                                          not empty, wherever its parent
                                          element is (each item of a list)

Field paths are attribute names on the model object (dotted for nested
objects).  ``:int`` (32 bits), ``:long`` (64 bits), ``:float`` and ``:bool``
convert parsed text; ``:base64`` keeps text up to MAX_BASE64_TEXT long
(a partition's NVRAM, whose content the model checks).  The
trailing upper-case word, when present, is the ``kb`` access flag real NovaLink
attaches (CUD, CUR, COD, ROR, ROO, CUA, UOD).

Parsing is strict where Python is lenient: values are read as XML Schema
writes them (no ``1_000``, no other scripts' digits, no NaN or infinity),
ints are 32-bit and longs 64-bit as NovaLink's, floats at most 2**53 in
size, and no text is longer than MAX_TEXT.
"""

import dataclasses
import functools
import re
from xml.sax import saxutils

UOM_NS = 'http://www.ibm.com/xmlns/systems/power/firmware/uom/mc/2012_10/'
WEB_NS = 'http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/'
K2_NS = 'http://www.w3.org/XML/1998/namespace/k2'

_KB_FLAGS = {'CUD', 'CUR', 'COD', 'ROR', 'ROO', 'CUA', 'UOD', 'COR'}
# Flags of an outline line that are not attributes of the element.
_MARKERS = frozenset({'metadata', 'required'})
# The longest text a client may write in an element: far beyond every name
# and value NovaLink takes, short enough that a hostile body cannot plant
# megabytes in the model (which every feed would render again).
MAX_TEXT = 4096
# A partition's NVRAM (``:base64``) is tens of KB of base64 text; this
# leaves room for the largest while still bounding what a body may plant.
MAX_BASE64_TEXT = 1024 * 1024
_TEXT_LIMITS = {'base64': MAX_BASE64_TEXT}
# XML Schema's int (most of NovaLink's numbers) and long (byte counts),
# and the lexical forms of integers and doubles.
_INT_RANGES = {'int': range(-2 ** 31, 2 ** 31),
               'long': range(-2 ** 63, 2 ** 63)}
# Beyond this a double no longer holds every whole number; no size or rate
# NovaLink takes comes near it, and the model's arithmetic on a value up to
# it (GB to bytes) stays finite.
_FLOAT_LIMIT = 2.0 ** 53
_INT_TEXT = re.compile(r'[+-]?[0-9]+')
_FLOAT_TEXT = re.compile(
    r'[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?')
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
    # An empty object that still opens with Metadata ([metadata]).
    metadata: bool = False
    # A client's body must carry the element ([required]).
    required: bool = False

    @property
    def writable(self):
        return self.op == '='

    @functools.cached_property
    def required_children(self):
        return [node for node in self.children if node.required]

    def child(self, tag):
        for node in self.children:
            if node.tag == tag:
                return node
        return None

    @functools.cached_property
    def markup(self):
        """The node's fixed markup, made on first use: the renderer needs
        it for every object of every feed."""
        return _Markup(self)


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


def optional(outline):
    """``outline`` with nothing required: the same elements where they only
    refer to an object, or are never parsed."""
    return outline.replace(' [required]', '')


def require(outline, *tags):
    """``outline`` with the elements ``tags`` (at any depth) required."""
    for tag in tags:
        outline, found = re.subn(r'^( *%s) ' % re.escape(tag),
                                 r'\1 [required] ', outline, flags=re.M)
        if not found:
            raise ValueError('the outline has no element %s' % tag)
    return outline


def _parse_line(line, raw):
    match = _LINE.match(line)
    if not match:
        raise ValueError('bad schema line: %r' % raw)
    node = Node(tag=match['tag'], op=match['op'] or '',
                arg=(match['arg'] or '').strip(), kb=match['kb'] or '')
    if node.kb and node.kb not in _KB_FLAGS:
        raise ValueError('unknown kb flag in %r' % raw)
    if match['attrs']:
        pairs = match['attrs'].split()
        node.metadata = 'metadata' in pairs
        node.required = 'required' in pairs
        node.attrs = tuple(
            tuple(pair.split('=', 1)) for pair in pairs
            if pair not in _MARKERS)
    if node.op in ('=', '~') and ':' in node.arg:
        node.arg, node.kind = node.arg.split(':', 1)
    if node.required and node.op not in ('=', '', '*'):
        # Only what a client writes can be required of it.
        raise ValueError('only a writable element, container or list can '
                         'be required: %r' % raw)
    return node


# ---------------------------------------------------------------- rendering

def resolve(obj, path):
    return _resolve(obj, path.split('.'))


def _resolve(obj, names):
    for name in names:
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


def _text(value):
    text = format_value(value)
    # Most values need no escaping; looking is cheaper than replacing.
    if '&' in text or '<' in text or '>' in text:
        return saxutils.escape(text)
    return text


class _Markup:
    """What a schema node renders the same way for every object."""

    def __init__(self, node):
        self.group = dict(node.attrs).get('group')
        self.path = tuple(node.arg.split('.')) if node.arg else ()
        plain = _attrs(node)
        self.leaf_open = '<%s%s>' % (node.tag, plain)
        self.open = '<%s%s>' % (node.tag, _attrs(node, container=True))
        self.close = '</%s>' % node.tag
        self.link_open = '<%s%s href="' % (node.tag, plain)
        if node.op == '*':
            self.metadata = (_EMPTY_METADATA if _list_has_metadata(node)
                             else '')
        else:
            self.metadata = _EMPTY_METADATA if _has_metadata(node) else ''
        self.constant = None
        if node.op == ':':
            self.constant = self.leaf_open + _text(node.arg) + self.close


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
        return ''.join([self._node(child, obj) for child in node.children])

    def _node(self, node, obj):
        markup = node.markup
        group = markup.group
        if group and self.groups is not None and group not in self.groups:
            return ''
        op = node.op
        if op == '=' or op == '~':
            return self._leaf(markup, _resolve(obj, markup.path))
        if op == ':':
            return markup.constant
        if op == '->':
            return self._link(node, obj)
        if op == '*':
            return self._list(node, obj)
        if op == '?':
            scope = _resolve(obj, markup.path)
            if not scope:
                return ''
            obj = obj if scope is True else scope
        return ''.join((markup.open, markup.metadata,
                        self._children(node, obj), markup.close))

    def _link(self, node, obj):
        # List items of link lists are the hrefs themselves.
        markup = node.markup
        href = obj if isinstance(obj, str) else _resolve(obj, markup.path)
        if href is None:
            return ''
        return '%s%s" rel="related"/>' % (markup.link_open, saxutils.escape(
            self.base_url + href, {'"': '&quot;'}))

    def _list(self, node, obj):
        markup = node.markup
        items = _resolve(obj, markup.path) or ()
        [item_node] = node.children
        if item_node.op == '->':
            inner = ''.join([self._link(item_node, item) for item in items])
        elif item_node.op == '=':
            inner = self._leaf(item_node.markup, list(items))
        else:
            item = item_node.markup
            # An item that only wraps one object (IOAdapterChoice around an
            # adapter) has no Metadata: the object inside carries it.
            wraps_one = _is_wrapper(item_node)
            inner = ''.join([
                ''.join((item.open, '' if wraps_one else _metadata(each),
                         self._children(item_node, each), item.close))
                for each in items])
        return ''.join((markup.open, markup.metadata, inner, markup.close))

    def _leaf(self, markup, value):
        if value is None:
            return ''
        if isinstance(value, (list, tuple)):
            # Repeated leaves, e.g. SupportedPartitionProcessorCompatibility
            # Modes once per mode.
            return ''.join([self._leaf(markup, item) for item in value])
        return markup.leaf_open + _text(value) + markup.close


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
    if node.metadata:
        return True
    return (bool(node.children) and
            not all(child.op == '->' for child in node.children) and
            not _is_wrapper(node))


def _list_has_metadata(node):
    # Lists of complex objects (VirtualDisks, PhysicalVolumes) open with
    # an empty Metadata block; lists of links or plain values do not,
    # unless marked [metadata] (a console's AuthorizedKeys).
    [item] = node.children
    return node.metadata or (item.op != '->' and bool(item.children))


def _is_wrapper(node):
    # A wrapper holds exactly one complex object: always the same one, or
    # whichever of several optional alternatives applies (a mapping's
    # Storage holds a VirtualDisk, a PhysicalVolume, ...).
    children = node.children
    if not children or not all(child.op in ('', '?') and child.children
                               for child in children):
        return False
    return len(children) == 1 or all(child.op == '?' for child in children)


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
    seen = set()
    for sub in element:
        tag = local_name(sub)
        if tag is None or tag == 'Metadata' or tag not in positions:
            continue
        index = positions[tag]
        if check_order and index < last_index:
            raise SchemaError(
                'element %s/%s must come before %s' % (path, tag, last_tag))
        last_index, last_tag = index, tag
        seen.add(tag)
        child = node.children[index]
        _collect_child(child, sub, fields, check_order, path + '/' + tag)
    for child in node.required_children:
        if child.tag not in seen:
            raise SchemaError('element %s/%s is required' % (path,
                                                             child.tag))


def _collect_child(child, sub, fields, check_order, path):
    if child.op == '=':
        fields[child.arg] = _value(child, sub, path)
    elif child.op == '*':
        [item_node] = child.children
        items = []
        for item in sub:
            if local_name(item) != item_node.tag:
                continue
            if item_node.op == '=':
                items.append(_value(item_node, item,
                                    path + '/' + item_node.tag))
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
        if child.required and not len(sub):
            raise SchemaError('element %s must not be empty' % path)
        _collect(child, sub, fields, check_order, path)
    elif child.op == '->' and child.arg:
        fields[child.arg] = sub.get('href')


def _value(node, element, path):
    """The value of a client-writable leaf element."""
    if len(element):
        raise SchemaError('element %s holds elements, not a value' % path)
    text = (element.text or '').strip()
    limit = _TEXT_LIMITS.get(node.kind, MAX_TEXT)
    if len(text) > limit:
        raise SchemaError('element %s holds %d characters; at most %d are '
                          'accepted' % (path, len(text), limit))
    if node.required and not text:
        raise SchemaError('element %s must not be empty' % path)
    return _converted(node.kind, text, path)


def _converted(kind, text, path):
    if kind in _INT_RANGES and _INT_TEXT.fullmatch(text) and \
            int(text) in _INT_RANGES[kind]:
        return int(text)
    if kind == 'float' and _FLOAT_TEXT.fullmatch(text) and \
            abs(float(text)) <= _FLOAT_LIMIT:
        return float(text)
    if kind == 'bool' and text.lower() in ('true', 'false'):
        return text.lower() == 'true'
    if kind == 'str':
        return text
    if kind == 'base64':
        # The model checks the content (a partition's NVRAM).
        return text
    raise SchemaError('%s: %r is not a valid %s' % (
        path, _shortened(text), kind))


def _shortened(text, limit=40):
    # An error message quotes the start of a long value, not all of it.
    return text if len(text) <= limit else text[:limit] + '...'


def element_paths(root, prefix=''):
    """Every element path the schema can produce (for conformance)."""
    paths = []
    for child in root.children:
        path = prefix + child.tag
        paths.append(path)
        if (child.children or child.metadata) and child.op != '*':
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
                if not _is_wrapper(item):
                    paths += [item_path + '/Metadata',
                              item_path + '/Metadata/Atom']
                paths += element_paths(item, item_path + '/')
    return paths
