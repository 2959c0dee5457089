"""The XML inside a LUARecovery job: its ``inputXML`` and ``OutputXML``.

Two requests share the job (pypowervm's tasks/hdisk/_fc.py): hdisk
discovery, an ``XML_LIST`` without namespace listing devices and their
ITLs, and the inventory query of a disk's page 83 descriptor, a ``VIO``
document in the UOM namespace.  The answers are plain documents without an
XML declaration with ``encoding=`` (pypowervm parses them from a str,
which lxml refuses with one); the inventory answer opens with
``<?xml version="1.0"?>``, the separator pypowervm splits several answers
on.
"""

import dataclasses
import re
from xml.sax import saxutils

from powervm_sim.wire import request
from powervm_sim.wire import spec

_WWPN = re.compile(r'^[0-9a-fA-F]{16}$')
_LUA = re.compile(r'^[0-9a-fA-F]{1,16}$')
_INVENTORY_NS = 'http://ausgsa.austin.ibm'
_XML_DECLARATION = '<?xml version="1.0"?>'


@dataclasses.dataclass(frozen=True)
class Device:
    """One device of a discovery request."""

    tag: str
    vendor: str | None
    device_id: str | None
    # (initiator WWPN, target WWPN, LUA), as sent.
    itls: tuple


@dataclasses.dataclass(frozen=True)
class Discovery:
    reliable: bool
    devices: tuple


@dataclasses.dataclass(frozen=True)
class InventoryQuery:
    """QUERY_INVENTORY of physical volumes, by UDID."""

    udids: tuple


def parse_input(text):
    """The Discovery or InventoryQuery an ``inputXML`` asks for.

    :raises spec.SchemaError: the text is not one of them.
    """
    root = request.parse_xml(text.encode('utf-8'), 'inputXML')
    name = spec.local_name(root)
    if name == 'VIO':
        return _inventory_query(root)
    if name != 'XML_LIST':
        raise spec.SchemaError('inputXML must be an XML_LIST (or a VIO '
                               'inventory request), not %s.' % name)
    reliable = (_text(root, 'reliableITL') or 'false').lower()
    if reliable not in ('true', 'false'):
        raise spec.SchemaError('reliableITL must be true or false.')
    devices = [_device(element) for element in
               _children(_child(root, 'deviceList'), 'device')]
    if not devices:
        raise spec.SchemaError('inputXML lists no device in its deviceList.')
    return Discovery(reliable == 'true', tuple(devices))


def _device(element):
    itl_list = _child(element, 'itlList')
    itls = tuple(_itl(itl) for itl in _children(itl_list, 'itl'))
    if not itls:
        raise spec.SchemaError('A device of inputXML has no ITL.')
    number = _text(itl_list, 'number')
    if number != str(len(itls)):
        raise spec.SchemaError('The itlList number %r does not count its %d '
                               'ITLs.' % (number, len(itls)))
    return Device(tag=_text(element, 'deviceTag') or '',
                  vendor=_text(element, 'vendor'),
                  device_id=_text(element, 'deviceID'), itls=itls)


def _itl(element):
    initiator = _text(element, 'Iwwpn') or ''
    target = _text(element, 'Twwpn') or ''
    lua = _text(element, 'lua') or ''
    if not (_WWPN.match(initiator) and _WWPN.match(target) and
            _LUA.match(lua)):
        raise spec.SchemaError(
            'ITL (%r, %r, %r) is not two WWPNs (16 hex digits each) and a '
            'logical unit address (up to 16 hex digits).' % (
                initiator[:20], target[:20], lua[:20]))
    return initiator, target, lua


def _inventory_query(root):
    found = root.find('{*}Request')
    if found is None or found.get('action_str') != 'QUERY_INVENTORY':
        raise spec.SchemaError('A VIO inputXML must be a QUERY_INVENTORY '
                               'request.')
    udids = tuple(f.get('udid') for f in found.iter('{*}VioUdidFilter')
                  if f.get('udid'))
    return InventoryQuery(udids)


def _children(element, tag):
    return [c for c in element if spec.local_name(c) == tag]


def _child(element, tag):
    found = _children(element, tag)
    if not found:
        raise spec.SchemaError('inputXML: %s has no %s.' % (
            spec.local_name(element), tag))
    return found[0]


def _text(element, tag):
    found = _children(element, tag)
    return (found[0].text or '').strip() if found else None


# --------------------------------------------------------------- answers
def _leaf(tag, value):
    return '<%s>%s</%s>' % (tag, saxutils.escape(str(value)), tag)


def discovery_result(answers):
    """The OutputXML of a discovery: ``answers`` is [(Device, outcome)],
    the outcome a model.san.LuaOutcome."""
    return '<luaResult>%s<deviceList>%s</deviceList></luaResult>' % (
        _leaf('version', '2.0'), ''.join(
            _device_result(device, outcome) for device, outcome in answers))


def _device_result(device, outcome):
    parts = [_leaf('deviceTag', device.tag), _leaf('status', outcome.status)]
    if outcome.message:
        parts.append('<msg>%s%s</msg>' % (
            _leaf('msgLen', len(outcome.message)),
            _leaf('msgText', outcome.message)))
    pv = outcome.pv
    if pv is not None:
        parts += [_leaf('pvName', pv.name), _leaf('uniqueID', pv.unique_id),
                  _leaf('udid', pv.udid)]
    return '<device>%s</device>' % ''.join(parts)


def inventory_result(vios_id, pvs):
    """The OutputXML of an inventory query answered with ``pvs``."""
    return ('%s<VIO xmlns="%s" version="1.21"><Response><InventoryResponse '
            'viosId=%s sequence="1" inventoryType="base" eventLogOn="true">'
            '%s</InventoryResponse></Response></VIO>' % (
                _XML_DECLARATION, _INVENTORY_NS, _attr(vios_id),
                ''.join(_inventory_volume(pv) for pv in pvs)))


def _inventory_volume(pv):
    descriptor = ''
    if pv.page83:
        descriptor = ' descriptor=%s desType="NAA"' % _attr(pv.page83)
    return ('<PhysicalVolume udid=%s name=%s description=%s>'
            '<PhysicalVolume_base capacity="%d" locationCode=%s unique_id=%s'
            '%s></PhysicalVolume_base></PhysicalVolume>' % (
                _attr(pv.udid), _attr(pv.name), _attr(pv.description),
                pv.capacity_mb, _attr(pv.location_code), _attr(pv.unique_id),
                descriptor))


def _attr(value):
    return saxutils.quoteattr(str(value))
