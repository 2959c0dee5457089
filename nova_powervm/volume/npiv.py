"""Fibre Channel volumes over NPIV (``fc_attach_strategy = npiv``).

With N_Port ID Virtualization the LPAR has Fibre Channel ports of its own:
a virtual FC client adapter with a pair of virtual WWPNs, which logs in to
the fabric through a physical FC port of a VIOS (a VFC mapping on that VIOS
joins the client adapter, a server adapter and the physical port).  The SAN
zones and masks the volume to the LPAR's WWPNs and the LPAR's own FC stack
finds it: the VIOSes never see the LUN, and nothing of the volume's
connection_info is needed.

On each fabric of ``[powervm] fabrics`` the instance gets
``ports_per_fabric`` WWPN pairs from NovaLink, each assigned to one of the
fabric's physical ports (``fabric_<name>_port_wwpns``), round robin over
the VIOSes: the instance's port maps, ``(physical port WWPN, "V1 V2")`` as
pypowervm's vfc_mapper writes them.  They are made when the volume
connector is first asked for (Cinder zones and masks the volume to them
before nova connects it) and kept in the instance's system_metadata, so
that connects, later attaches, restarts and moves find the same WWPNs.
Only each pair's first WWPN logs in; a live migration's destination logs
in with the second (the volume connector gives Cinder both), and the pair
is kept the other way round there.

The port maps are the instance's, not a volume's: every volume reaches the
LPAR through the same client adapters.
"""

import itertools
import json

from nova.compute import task_states
from nova import exception
from oslo_log import log as logging
from oslo_utils import excutils
from pypowervm import const as pvm_const
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import vfc_mapper as pvm_vfcm
from pypowervm import util as pvm_util
from pypowervm.wrappers import storage as pvm_stg

from nova_powervm import conf
from nova_powervm import exception as pvm_nova_exc
from nova_powervm import mappings
from nova_powervm import undo
from nova_powervm import vm
from nova_powervm.volume import driver

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# system_metadata keys, '<key>_<fabric>', and fabric states, as
# nova-powervm 9.0.0 wrote them (instances it made keep their WWPNs).
WWPNS_KEY = 'npiv_adpt_wwpns'
STATE_KEY = 'fabric_state'
# Port maps made, not (yet) mapped to the LPAR.
UNMAPPED = 'unmapped'
# Mapped to the LPAR.
INST_MAPPED = 'inst_mapped'
# Port maps a key holds: 4 x 3 WWPNs and their commas (203 characters) fit
# nova's system_metadata values (255); more go to keys '..._2', '..._3'.
_MAPS_PER_KEY = 4
# The VIOS section VFC mappings are read and written with.
_VFC = (pvm_const.XAG.VIO_FMAP,)
# The task states in which nova disconnects the volumes of an LPAR it is
# removing: deleting the instance, undoing a failed spawn.
_REMOVING = (task_states.DELETING, task_states.SPAWNING)
# The live migration's entries of PowerVMLiveMigrateData's vol_data, as
# nova-powervm 9.0.0 named them: from the source, each fabric's client
# slots and the slots each of its VIOSes serves together; from the
# destination, the Migrate job's VirtualFCMappings.  JSON lists.
_SLOTS_KEY = 'src_npiv_fabric_slots_%s'
_PEERS_KEY = 'src_vios_peer_slots'
_MAPPINGS_KEY = 'vfc_lpm_mappings'


# ------------------------------------------------------ system_metadata
def _wwpns_key(fabric, number):
    key = '%s_%s' % (WWPNS_KEY, fabric)
    return key if number == 1 else '%s_%d' % (key, number)


def _wwpns_keys(sysmeta, fabric):
    """``fabric``'s keys in ``sysmeta``, in order."""
    return list(itertools.takewhile(
        sysmeta.__contains__,
        (_wwpns_key(fabric, number) for number in itertools.count(1))))


def stored_port_maps(sysmeta, fabric):
    """``fabric``'s port maps kept in ``sysmeta`` (an instance's
    system_metadata); none if it has none."""
    wwpns = [wwpn for key in _wwpns_keys(sysmeta, fabric)
             for wwpn in sysmeta[key].split(',')]
    return [(port, '%s %s' % (first, second)) for port, first, second
            in zip(wwpns[::3], wwpns[1::3], wwpns[2::3], strict=True)]


def store_port_maps(sysmeta, fabric, port_maps):
    """Keep ``port_maps`` in ``sysmeta`` as ``fabric``'s, in place of
    those it had: "port,v1,v2,port,v1,v2,...", _MAPS_PER_KEY maps a key."""
    for key in _wwpns_keys(sysmeta, fabric):
        del sysmeta[key]
    for start in range(0, len(port_maps), _MAPS_PER_KEY):
        sysmeta[_wwpns_key(fabric, start // _MAPS_PER_KEY + 1)] = ','.join(
            wwpn for port, pair in port_maps[start:start + _MAPS_PER_KEY]
            for wwpn in [port, *pair.split()])


def _set_state(instance, fabric, state):
    instance.system_metadata['%s_%s' % (STATE_KEY, fabric)] = state


# ---------------------------------------------------------- port maps
def client_wwpns(adapter, instance, vioses):
    """The WWPNs the instance's LPAR logs in to the fabrics with, both of
    each pair (lower case, as the volume connector offers WWPNs): the
    partition logs in with the second on the destination of a live
    migration, so the SAN must let both in.

    Port maps the instance keeps are taken as they are, wherever their
    physical ports are: nova asks a live migration's destination for the
    connector before the move, while the source's maps are still the
    instance's.  Those of a fabric it has none of yet are made here.

    :param vioses: the host's active VIOSes (get_active_vioses).
    """
    found = {fabric: stored_port_maps(instance.system_metadata, fabric)
             for fabric in conf.fabric_port_wwpns()}
    if not all(found.values()):
        found = fabric_port_maps(adapter, instance, vioses)
    return [wwpn.lower() for port_maps in found.values()
            for _port, pair in port_maps for wwpn in pair.split()]


def fabric_port_maps(adapter, instance, vioses):
    """{fabric: port maps} of the instance on this host's active
    ``vioses``: the ones it keeps, made on first use, and assigned to this
    host's ports again where a physical port is not one of ``vioses`` (the
    instance came from another host, or a VIOS is down); the virtual
    WWPNs stay the instance's.

    :raises NPIVPortsNotFound: a fabric has no physical port on ``vioses``
            (checked first: no WWPNs are drawn then).
    """
    wanted = conf.fabric_port_wwpns()
    for fabric, ports in wanted.items():
        _check_ports(fabric, ports, vioses)
    found = {}
    assigned = False
    for index, (fabric, ports) in enumerate(wanted.items()):
        found[fabric] = stored_port_maps(instance.system_metadata, fabric)
        if not _all_on(found[fabric], vioses):
            found[fabric] = _assign(adapter, instance, fabric, ports,
                                    found[fabric], _rotated(vioses, index))
            assigned = True
    if assigned:
        instance.save()
    return found


def _all_on(port_maps, vioses):
    """Whether there are ``port_maps``, all on physical ports of
    ``vioses``."""
    return bool(port_maps) and all(_vios_of(port, vioses)
                                   for port, _pair in port_maps)


def _assign(adapter, instance, fabric, ports, old, vioses):
    """New port maps of ``fabric`` on ``vioses``: the virtual WWPNs of the
    ``old`` port maps (NovaLink's next ones if there are none), each on
    one of the fabric's physical ``ports``; kept in the instance, which
    the caller saves."""
    wwpns = ([wwpn for _port, pair in old for wwpn in pair.split()] or
             pvm_vfcm.build_wwpn_pair(adapter, adapter.sys_uuid,
                                      CONF.powervm.ports_per_fabric))
    port_maps = pvm_vfcm.derive_npiv_map(vioses, ports, wwpns)
    LOG.info('Fabric %(fabric)s port maps: %(maps)s.',
             {'fabric': fabric, 'maps': port_maps}, instance=instance)
    store_port_maps(instance.system_metadata, fabric, port_maps)
    _set_state(instance, fabric, UNMAPPED)
    return port_maps


def _check_ports(fabric, ports, vioses):
    if not any(_vios_of(port, vioses) for port in ports):
        raise pvm_nova_exc.NPIVPortsNotFound(
            fabric=fabric, wwpns=', '.join(ports) or '(none)',
            ports=', '.join(port.wwpn for vios_w in vioses
                            for port in vios_w.pfc_ports) or '(none)')


def _vios_of(port, vioses):
    """The one of ``vioses`` that has the physical port ``port``, or
    None."""
    return pvm_vfcm.find_vios_for_wwpn(vioses, port)[0]


def _rotated(vioses, index):
    # Each fabric starts on another VIOS: with one port a fabric, the
    # fabrics' paths do not all depend on the same VIOS.
    start = index % len(vioses)
    return vioses[start:] + vioses[:start]


class NPIVVolume(driver.VolumeAdapter):
    """A LUN the instance's LPAR reaches with WWPNs of its own."""

    def describe(self):
        return 'Fibre Channel volume %s (NPIV)' % self.volume_id

    def check(self):
        """Nothing of connection_info is needed: the LPAR finds the LUN
        with its own FC ports."""

    def connect_to_lpar(self):
        """Map the instance's port maps to its LPAR (those mapped already
        stay as they are), on their VIOSes in one batched update."""
        vioses = pvm_partition.get_active_vioses(self.adapter)
        found = fabric_port_maps(self.adapter, self.instance, vioses)
        by_vios = {}
        for port_maps in found.values():
            for port_map in port_maps:
                by_vios.setdefault(_vios_of(port_map[0], vioses).uuid,
                                   []).append(port_map)
        added = set()
        try:
            mappings.change(self.adapter, [
                (vios_uuid, self._adder(port_maps, added))
                for vios_uuid, port_maps in by_vios.items()], xags=_VFC)
            for fabric in found:
                _set_state(self.instance, fabric, INST_MAPPED)
            self.instance.save()
        except Exception:
            with excutils.save_and_reraise_exception():
                # Some VIOSes may have taken their update (or answered
                # none): only what this connect added goes, the mappings
                # other volumes use stay.
                undo.quietly(self._remove, self._mappings_of(added))

    def _adder(self, port_maps, added):
        """The change that maps ``port_maps`` to the LPAR on a VIOS, and
        notes those it added in ``added``."""
        lpar_uuid = vm.get_pvm_uuid(self.instance)

        def add(vios_w):
            new = [port_map for port_map in port_maps
                   if pvm_vfcm.add_map(vios_w, None, lpar_uuid, port_map)]
            for port, pair in new:
                LOG.info('Mapping virtual FC port %(wwpns)s to physical '
                         'port %(port)s of Virtual I/O Server %(vios)s.',
                         {'wwpns': pair, 'port': port, 'vios': vios_w.name},
                         instance=self.instance)
            added.update(new)
            return bool(new)
        return add

    def disconnect(self):
        """Remove the LPAR's VFC mappings, only when the LPAR goes.

        Every volume reaches the LPAR through the same virtual FC ports,
        so detaching one volume leaves them: the SAN unmasks the volume
        from the LPAR's WWPNs, and the next volume finds the ports in
        place.  They are removed with the LPAR: when nova deletes the
        instance or undoes its spawn (task state deleting or spawning),
        when the instance is another host's (this host removes what an
        evacuation left), or when its LPAR is gone already (deleted outside
        nova: its mappings lost their client adapters).
        """
        if self._lpar_stays():
            LOG.info('%s is detached; the LPAR keeps its virtual FC ports '
                     'for its other volumes.', self.describe(),
                     instance=self.instance)
            return
        remove_ports(self.adapter, self.instance)

    def _lpar_stays(self):
        return (self.instance.task_state not in _REMOVING and
                self.instance.host in (None, CONF.host) and
                vm.instance_exists(self.adapter, self.instance))

    def extend(self):
        """Nothing to do: the LPAR's own FC stack sees the LUN's new
        size."""

    # ------------------------------------------------------------ removal
    def _mappings_of(self, port_maps):
        """What finds the LPAR's VFC mappings of ``port_maps`` on a
        VIOS."""
        lpar_uuid = vm.get_pvm_uuid(self.instance)
        return lambda vios_w: [
            mapping for port_map in port_maps
            for mapping in pvm_vfcm.find_maps(vios_w.vfc_mappings, lpar_uuid,
                                              port_map=port_map)]

    def _remove(self, find):
        _remove(self.adapter, self.instance, find)


def has_ports(instance):
    """Whether the instance has virtual FC ports (port maps kept)."""
    return any(stored_port_maps(instance.system_metadata, fabric)
               for fabric in conf.fabric_port_wwpns())


def remove_ports(adapter, instance):
    """Remove the LPAR's virtual FC ports: its VFC mappings on every VIOS,
    and those its port maps' physical ports kept of it after it was
    deleted (they have no client adapter)."""
    _remove(adapter, instance, _mappings_to_lpar(instance))


def _mappings_to_lpar(instance):
    """What finds the instance's VFC mappings on a VIOS (see
    remove_ports)."""
    lpar_uuid = vm.get_pvm_uuid(instance)
    ports = {pvm_util.sanitize_wwpn_for_api(port)
             for fabric in conf.fabric_port_wwpns()
             for port, _pair in stored_port_maps(instance.system_metadata,
                                                 fabric)}
    return lambda vios_w: pvm_vfcm.find_maps(
        vios_w.vfc_mappings, lpar_uuid) + [
        mapping for mapping in vios_w.vfc_mappings
        if _left_on(mapping, ports)]


def _remove(adapter, instance, find):
    """Remove the VFC mappings ``find(vios_w)`` lists from every VIOS
    (their client adapters go with them)."""
    def remove(vios_w):
        found = find(vios_w)
        for mapping in found:
            LOG.info('Removing the VFC mapping of %(server)s on Virtual I/O '
                     'Server %(vios)s.',
                     {'server': mapping.server_adapter.name,
                      'vios': vios_w.name}, instance=instance)
            vios_w.vfc_mappings.remove(mapping)
        return bool(found)

    mappings.change(adapter, [(mappings.EVERY_VIOS, remove)], xags=_VFC)


def _left_on(mapping, ports):
    """Whether ``mapping`` lost its client adapter with its LPAR, on one of
    the physical ``ports`` (server adapters made to take any client have
    none either, and stay)."""
    port = mapping.backing_port
    return (mapping.client_adapter is None and port is not None and
            pvm_util.sanitize_wwpn_for_api(port.wwpn) in ports and
            mapping.server_adapter.lpar_slot_num != pvm_stg.ANY_SLOT)


# ------------------------------------------------------- live migration
def _kept_fabrics(instance):
    """{fabric: its physical port WWPNs} of the fabrics the instance keeps
    port maps of."""
    return {fabric: ports
            for fabric, ports in conf.fabric_port_wwpns().items()
            if stored_port_maps(instance.system_metadata, fabric)}


def check_hostable(adapter, instance):
    """On the destination of a live migration: refuse an instance with
    virtual FC ports on a fabric none of whose physical ports is on this
    host's active VIOSes (NovaLink would land them on ports the SAN does
    not zone).

    :raises nova.exception.MigrationPreCheckError:
    """
    fabrics = _kept_fabrics(instance)
    if not fabrics:
        return
    vioses = pvm_partition.get_active_vioses(adapter)
    try:
        for fabric, ports in fabrics.items():
            _check_ports(fabric, ports, vioses)
    except pvm_nova_exc.NPIVPortsNotFound as exc:
        raise exception.MigrationPreCheckError(
            reason='the LPAR\'s virtual FC ports cannot move here: %s' %
            exc) from exc


def describe_outgoing(adapter, instance):
    """On the source of a live migration: what the destination needs to
    place the LPAR's virtual FC client adapters, as vol_data entries:
    each fabric's client slots, and the slots each VIOS here serves
    together (the destination keeps those on one VIOS of its own).  Port
    maps never mapped to the LPAR have no adapter to move.
    """
    fabrics = _kept_fabrics(instance)
    if not fabrics:
        return {}
    vioses = pvm_partition.get_active_vioses(adapter, xag=_VFC)
    entries = {}
    peers = {}
    for fabric in fabrics:
        slots = []
        for _port, pair in stored_port_maps(instance.system_metadata,
                                            fabric):
            vios_w, vfc_map = pvm_vfcm.find_vios_for_vfc_wwpns(
                vioses, pair.split())
            if vfc_map is not None:
                slot = vfc_map.client_adapter.lpar_slot_num
                slots.append(slot)
                peers.setdefault(vios_w.uuid, []).append(slot)
        if slots:
            entries[_SLOTS_KEY % fabric] = json.dumps(slots)
    if peers:
        entries[_PEERS_KEY] = json.dumps(list(peers.values()))
    return entries


def plan_incoming(adapter, vol_data):
    """On the destination of a live migration: a physical port of this
    host's VIOSes, on its fabric, for each client adapter the source
    described (describe_outgoing), as the Migrate job's
    VirtualFCMappings (pypowervm's build_migration_mappings); the
    vol_data entry, none when the source described none.

    :raises pypowervm.exceptions.UnableToFindFCPortMap: no VIOS here has
            the ports for the adapters a source VIOS serves together.
    """
    fabric_data = {
        fabric: {'slots': json.loads(vol_data[_SLOTS_KEY % fabric]),
                 # As build_migration_mappings compares them.
                 'p_port_wwpns': [pvm_util.sanitize_wwpn_for_api(port)
                                  for port in ports]}
        for fabric, ports in conf.fabric_port_wwpns().items()
        if _SLOTS_KEY % fabric in vol_data}
    if not fabric_data:
        return {}
    planned = {slot for data in fabric_data.values()
               for slot in data['slots']}
    # Slots of fabrics this host does not know NovaLink places itself.
    peers = [kept for kept in ([slot for slot in group if slot in planned]
                               for group in json.loads(vol_data[_PEERS_KEY]))
             if kept]
    vioses = pvm_partition.get_active_vioses(adapter, xag=_VFC)
    mappings = pvm_vfcm.build_migration_mappings(vioses, fabric_data, peers)
    LOG.info('The virtual FC client adapters land on %s.', mappings)
    return {_MAPPINGS_KEY: json.dumps(mappings)}


def virtual_fc_mappings(vol_data):
    """The Migrate job's VirtualFCMappings the destination planned
    (plan_incoming), or None."""
    planned = (vol_data or {}).get(_MAPPINGS_KEY)
    return json.loads(planned) if planned else None


def take_over_ports(adapter, instance):
    """On the destination, once the LPAR arrived: the instance keeps the
    port maps of its adapters here, each on the physical port NovaLink
    moved it to, the WWPN that logged in here first (as nova-powervm kept
    them), so that later attaches, detaches, deletes and moves find them.
    """
    fabrics = _kept_fabrics(instance)
    if not fabrics:
        return
    vioses = pvm_partition.get_active_vioses(adapter, xag=_VFC)
    for fabric in fabrics:
        old = stored_port_maps(instance.system_metadata, fabric)
        new = [_landed(vioses, port_map) for port_map in old]
        store_port_maps(instance.system_metadata, fabric, new)
        if new != old:
            _set_state(instance, fabric, INST_MAPPED)
    instance.save()


def _landed(vioses, port_map):
    """``port_map`` as it is on ``vioses`` after the move; as it was if
    it was never mapped (connect_to_lpar places it)."""
    _vios, vfc_map = pvm_vfcm.find_vios_for_vfc_wwpns(vioses,
                                                      port_map[1].split())
    if vfc_map is None:
        return port_map
    return (vfc_map.backing_port.wwpn,
            ' '.join(reversed(port_map[1].split())))
