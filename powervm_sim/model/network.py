"""Virtual networking: virtual switches and client network adapters (CNAs).

A trunk adapter is a CNA with ``is_trunk`` set; on a VIOS it backs a SEA, on
the NovaLink partition it carries Open vSwitch traffic.
"""

import dataclasses
import typing

from powervm_sim.model import registry

MAX_VLAN = 4094


@dataclasses.dataclass(kw_only=True, eq=False)
class VirtualSwitch(registry.Resource):
    kind: typing.ClassVar[str] = 'VirtualSwitch'

    switch_id: int
    name: str
    mode: str = 'Veb'
    no_networks = ()


@dataclasses.dataclass(kw_only=True, eq=False)
class CNA(registry.Resource):
    kind: typing.ClassVar[str] = 'ClientNetworkAdapter'

    slot: int
    mac: str
    pvid: int = 1
    vswitch: VirtualSwitch = None
    tagged_vlans: tuple = ()
    tagged_vlans_supported: bool = False
    is_trunk: bool = False
    trunk_priority: int = 0
    enabled: bool = True
    ovs_bridge: str = ''
    mtu: int = 1500
    ovs_ext_ids: str = ''
    device_name: str | None = None
    no_networks = ()
    # Request-only switches: the slot is always reported explicitly.
    use_next_slot = None
    use_next_high_slot = None

    @property
    def owner(self):
        return self.parent

    @property
    def location_code(self):
        return self.parent.location_code(self.slot)

    @property
    def vswitch_id(self):
        return self.vswitch.switch_id

    @property
    def vswitch_href(self):
        return self.vswitch.href

    @property
    def tagged_vlan_text(self):
        return ' '.join(str(v) for v in self.tagged_vlans) or None


_WRITABLE = {'pvid', 'tagged_vlans_supported', 'trunk_priority', 'enabled',
             'ovs_bridge', 'ovs_ext_ids', 'mtu'}


class NetworkOps:
    """Network behaviour of the model (mixed into ``Model``)."""

    def add_vswitch(self, system, name, switch_id=None, mode='Veb'):
        with self.registry.lock:
            if switch_id is None:
                switch_id = len(system.vswitches)
            vswitch = VirtualSwitch(parent=system, switch_id=switch_id,
                                    name=name, mode=mode)
            system.vswitches.append(vswitch)
            return self.registry.add(vswitch)

    def vswitch_by_href(self, system, href):
        for vswitch in system.vswitches:
            if href and href.rstrip('/').lower().endswith(
                    vswitch.uuid.lower()):
                return vswitch
        raise registry.Conflict('Virtual switch %s does not exist on the '
                                'managed system.' % href, code='HSCL1A02',
                                status=400)

    def vswitch_by_id(self, system, switch_id):
        for vswitch in system.vswitches:
            if vswitch.switch_id == switch_id:
                return vswitch
        raise registry.Conflict('Virtual switch %s does not exist on the '
                                'managed system.' % switch_id,
                                code='HSCL1A02', status=400)

    def create_cna(self, part, fields):
        with self.registry.lock:
            system = part.parent
            vswitch = (self.vswitch_by_href(system, fields['vswitch_href'])
                       if fields.get('vswitch_href') else
                       self.vswitch_by_id(system, fields.get('vswitch_id', 0)))
            explicit = not (fields.get('use_next_slot') or
                            fields.get('use_next_high_slot'))
            slot = part.allocate_slot(
                fields.get('slot') if explicit and fields.get('slot')
                else None)
            cna = CNA(parent=part, slot=slot, vswitch=vswitch,
                      mac=fields.get('mac') or self._next_mac())
            self._apply_cna_fields(cna, fields)
            # A trunk priority is what makes an adapter a trunk.
            cna.is_trunk = bool(cna.trunk_priority)
            part.adapters.append(cna)
            return self.registry.add(cna)

    def update_cna(self, cna, fields):
        with self.registry.lock:
            self._apply_cna_fields(cna, fields)
            if fields.get('vswitch_href'):
                cna.vswitch = self.vswitch_by_href(cna.parent.parent,
                                                   fields['vswitch_href'])
            self.registry.changed(cna)
            return cna

    def remove_adapter(self, adapter):
        with self.registry.lock:
            adapter.parent.adapters.remove(adapter)
            self.registry.remove(adapter)

    def cnas(self, part):
        return [a for a in part.adapters if a.kind == CNA.kind]

    def _apply_cna_fields(self, cna, fields):
        for name in _WRITABLE & fields.keys():
            setattr(cna, name, fields[name])
        if 'tagged_vlan_text' in fields:
            cna.tagged_vlans = _parse_vlans(fields['tagged_vlan_text'])
        for vlan in (cna.pvid,) + cna.tagged_vlans:
            if not 1 <= vlan <= MAX_VLAN:
                raise registry.Conflict(
                    'VLAN %d is outside 1-%d.' % (vlan, MAX_VLAN),
                    code='HSCL1A05', status=400)

    def _next_mac(self):
        return '%012X' % next(self._macs)


def _parse_vlans(text):
    if isinstance(text, (tuple, list)):
        return tuple(int(v) for v in text)
    try:
        return tuple(int(v) for v in (text or '').split())
    except ValueError:
        raise registry.Conflict('Tagged VLAN list %r is not a list of '
                                'numbers.' % text, code='HSCL1A05',
                                status=400) from None
