"""Volumes: REST calls and time of an attach and a detach per protocol,
and ten attaches on one VIOS at once under the latency model.

Targets (from the volumes issue):

- the REST calls of an attach and a detach within 1.3 x the calls they
  cannot avoid (MINIMUM_CALLS, reasoned out below);
- 10 attaches at once on one VIOS, at 50 ms a REST call and 2 s a job,
  within 1.5 x the time of one.

The host has two VIOSes; each LUN reaches both (one, for the concurrent
attaches).
"""

import functools
import logging

from oslo_utils import uuidutils

from nova_powervm import demo
from nova_powervm import vm
from tests.bench import driver as bench_driver
from tests import bench

# The round trips of an attach to a running LPAR, and of a detach, that
# no client can avoid, per protocol (the host has two VIOSes; a job's
# template is the same every time, so only its submission and deletion
# count, though pypowervm reads the template anew):
#   FC (vSCSI) attach: read the LPAR (whether NovaLink can change its I/O
#     now) 1; read the VIOSes (which of their FC ports the initiator-
#     target map names) 1; per VIOS the LUARecovery job that finds the
#     LUN 2 x 2; read the VIOSes' mappings (their etags) 1, update each 2
#     = 9.  Detach: read the VIOSes (hdisks by UDID, mappings) 1, update
#     each 2, RemoveDevice on each 2 x 2 = 7.
#   iSCSI: the same, with ISCSIDiscovery and ISCSIRemove: 9 and 7.
#   RBD attach: read the LPAR 1, find the NovaLink partition 1, RBDExists
#     2, read its mappings and update them 2 = 6; detach: find it, read
#     its mappings, update them = 3.
#   File attach: as RBD without RBDExists = 4; detach 3.
MINIMUM_CALLS = {'FC': (9, 7), 'iSCSI': (9, 7), 'RBD': (6, 3), 'File': (4, 3)}
CALLS_FACTOR = 1.3
CONCURRENT_ATTACHES = 10
CONCURRENCY_RATIO = 1.5


def run(report):
    for name in ('pypowervm', 'taskflow', 'stevedore', 'nova_powervm'):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    with demo.ComputeHost(disk_driver='localdisk') as host:
        for number, protocol in enumerate(('FC', 'iSCSI'), 1):
            _costs(report, host, protocol, number)
        _concurrency(report, host)
    with demo.ComputeHost(disk_driver='localdisk', novalink_io=True) as host:
        for number, protocol in enumerate(('RBD', 'File'), 1):
            _costs(report, host, protocol, number)


def _running_instance(host, number):
    instance, _vifs = bench_driver._spawn(host, number)
    lpar = host.sim.model.registry.find(vm.get_pvm_uuid(instance))
    host.sim.model.set_partition_state(lpar, 'running', rmc_state='active')
    return instance


def _volume(host, protocol, **kwargs):
    """A new volume of ``protocol`` in the simulator: its
    connection_info."""
    if protocol == 'FC':
        kind, data = 'fibre_channel', host.sim.fc_lun(
            **kwargs).connection_data()
    elif protocol == 'iSCSI':
        kind, data = 'iscsi', host.sim.iscsi_lun(**kwargs).connection_data()
    elif protocol == 'RBD':
        kind, data = 'rbd', {'name': host.sim.rbd_image()}
    else:
        kind, data = 'local', {'device_path': host.sim.novalink_file()}
    return {'driver_volume_type': kind, 'serial': uuidutils.generate_uuid(),
            'data': data}


def _attach(host, instance, info):
    host.driver.attach_volume(host.context, info, instance, '/dev/sdb')


def _detach(host, instance, info):
    host.driver.detach_volume(host.context, info, instance, '/dev/sdb')


def _costs(report, host, protocol, number):
    """Attach and detach volumes of ``protocol`` to instance ``number``."""
    instance = _running_instance(host, number)
    attaches, detaches = [], []
    for _ in range(bench_driver.REPEATS):
        info = _volume(host, protocol)
        attaches.append(bench_driver.Measured(
            host, lambda info=info: _attach(host, instance, info)))
        detaches.append(bench_driver.Measured(
            host, lambda info=info: _detach(host, instance, info)))
    for name, runs, minimum in zip(('attach', 'detach'),
                                   (attaches, detaches),
                                   MINIMUM_CALLS[protocol], strict=True):
        report.measure('%s %s: REST calls' % (protocol, name),
                       bench_driver._median(m.calls for m in runs), 'calls',
                       minimum * CALLS_FACTOR, bench.LOWER, note=(
                           'target %.1f x the %d round trips no %s can '
                           'avoid (tests/bench/volumes.py)' % (
                               CALLS_FACTOR, minimum, name)))
        report.measure('%s %s: time' % (protocol, name),
                       bench_driver._median(m.seconds for m in runs), 's')


def _concurrency(report, host):
    vios = host.sim.model.vioses(host.system)[0]
    instances = [_running_instance(host, number) for number in (3, 4)]
    latency = host.sim.latency
    latency.per_request = bench_driver.LATENCY_PER_CALL
    latency.per_job = bench_driver.LATENCY_PER_JOB
    try:
        one_info = _volume(host, 'FC', vioses=[vios])
        one = bench_driver.Measured(
            host, lambda: _attach(host, instances[0], one_info))
        infos = [(instances[number % 2], _volume(host, 'FC', vioses=[vios]))
                 for number in range(CONCURRENT_ATTACHES)]
        many = bench_driver.Measured(host, lambda: bench_driver.in_threads([
            functools.partial(_attach, host, instance, info)
            for instance, info in infos]))
    finally:
        latency.per_request = latency.per_job = 0.0
    report.measure('1 FC attach on one VIOS at %d ms a call, %g s a job' % (
        bench_driver.LATENCY_PER_CALL * 1000, bench_driver.LATENCY_PER_JOB),
        one.seconds, 's', note='%d REST calls' % one.calls)
    report.measure('%d concurrent FC attaches on that VIOS' %
                   CONCURRENT_ATTACHES, many.seconds, 's',
                   note='%d REST calls' % many.calls)
    report.measure('%d concurrent FC attaches / 1 attach' %
                   CONCURRENT_ATTACHES, many.seconds / one.seconds, 'x',
                   CONCURRENCY_RATIO, bench.LOWER,
                   note='threads, as nova-compute runs them')
