"""The main job on the embedded simulator: ``tox -e demo``.

Starts a simulated NovaLink on loopback, then uses nothing but pypowervm's
public API, as the driver does, to show what it serves and to take a client
LPAR through create, power on, power off and delete.  Ends with a table of
operations, their time and REST calls, and a check that nothing is left.
"""

import sys
import time

from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import power as pvm_power
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import virtual_io_server as pvm_vios

from powervm_sim import fixture


def _step(rows, sim, name, func):
    calls = sim.simulator.request_count
    start = time.monotonic()
    result = func()
    rows.append((name, time.monotonic() - start,
                 sim.simulator.request_count - calls))
    print('  %-28s done' % name, flush=True)
    return result


def _build(adapter, host, name):
    attrs = {lpar_builder.NAME: name, lpar_builder.MEM: 2048,
             lpar_builder.VCPU: 2, lpar_builder.PROC_UNITS: '0.2'}
    stdz = lpar_builder.DefaultStandardize(host)
    return lpar_builder.LPARBuilder(adapter, attrs, stdz).build().create(
        parent=host)


def _inventory(adapter):
    host = pvm_ms.System.get(adapter)[0]
    print('Managed system %s (%s)' % (host.system_name, host.mtms.mtms_str))
    print('  memory %d MB configurable, %d MB free; processor units %.2f '
          'configurable, %.2f free' % (
              host.memory_configurable, host.memory_free,
              host.proc_units_configurable, host.proc_units_avail))
    for lpar in pvm_lpar.LPAR.get(adapter):
        print('  LPAR %-24s id %-3d %-15s%s' % (
            lpar.name, lpar.id, lpar.state,
            ' (NovaLink partition)' if lpar.is_mgmt_partition else ''))
    for vios in pvm_vios.VIOS.get(adapter, xag=[]):
        print('  VIOS %-24s id %-3d %-15s RMC %s' % (
            vios.name, vios.id, vios.state, vios.rmc_state))
    for vswitch in pvm_net.VSwitch.get(adapter, parent=host):
        print('  vswitch %s (id %d)' % (vswitch.name, vswitch.switch_id))
    return host


def main():
    with fixture.NovaLinkFixture(systems=1, lpars=2) as sim:
        endpoint = sim.endpoints[0]
        print('Simulated NovaLink at %s://%s:%d (file authentication)\n' % (
            endpoint.protocol, endpoint.host, endpoint.port))
        adapter = sim.adapter()
        host = _inventory(adapter)
        before = {p.uuid for p in sim.model.lpars()}
        print('\nLifecycle of a client LPAR:')
        rows = []
        lpar = _step(rows, sim, 'create LPAR',
                     lambda: _build(adapter, host, 'demo-instance'))
        _step(rows, sim, 'create CNA (VLAN 100)',
              lambda: pvm_cna.crt_cna(adapter, None, lpar.uuid, 100))
        _step(rows, sim, 'power on', lambda: pvm_power.power_on(lpar, host))
        _step(rows, sim, 'power off (progressive)',
              lambda: pvm_power.power_off_progressive(lpar, host))
        _step(rows, sim, 'delete LPAR', lambda: adapter.delete(
            pvm_lpar.LPAR.schema_type, root_id=lpar.uuid))
        print('\n%-28s %8s %10s' % ('operation', 'seconds', 'REST calls'))
        for name, seconds, calls in rows:
            print('%-28s %8.3f %10d' % (name, seconds, calls))
        leftovers = {p.uuid for p in sim.model.lpars()} - before
        print('\nLeft behind: %s' % (sorted(leftovers) or 'nothing'))
        return 1 if leftovers else 0


if __name__ == '__main__':
    sys.exit(main())
