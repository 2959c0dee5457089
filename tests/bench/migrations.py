"""Resize and cold migration: REST calls and time of each, with no latency
and under the latency model, against what they cannot avoid.

Targets (from the migrations issue):

- a resize on the instance's host and a cold migration to another host
  (the two systems' VIOSes share a storage pool) within 1.3 x the REST
  round trips they cannot avoid (MINIMUM_CALLS, reasoned out below);
- each, at 50 ms a REST call and 2 s a job, within 1.3 x the time of
  those round trips and their jobs.

nova takes both in two steps: migrate_disk_and_power_off on the source,
finish_migration on the destination (tests.functional.driver.test_resize
NovaMoves).  The instance has a config drive, an SEA and an OVS VIF.
"""

import logging

from nova.virt import driver as nova_driver
from nova.virt import fake as nova_fake

from nova_powervm import demo
from tests.bench import driver as bench_driver
from tests import bench
from tests.functional.driver import test_resize

DEST = 'demo-compute-2'

# The round trips no client can avoid (a job's template is the same every
# time, so only its submission and deletion count, though pypowervm reads
# the template anew):
#   resize on the host, the boot disk (a logical volume) 1 GB -> 2 GB:
#     stop       read the LPAR (whether it runs, to start it again should
#                the resize fail), the PowerOff job                     3
#     disk       read the volume group (its etag), update it            2
#     flavor     read the LPAR (stopping it changed it), update it      2
#     start      the PowerOn job (the update's answer says the LPAR is
#                off)                                                   2
#                                                                       = 9
#   cold migration, the boot disk a logical unit of the shared pool:
#     source     read the LPAR, the PowerOff job                        3
#     LPAR       read the system (its free memory and processors for
#                the flavor), create the LPAR                           2
#     network    read the virtual networks (a free VLAN for the OVS
#                VIF's point-to-point link), create the trunk, OVS, SEA
#                and RMC adapters                                       5
#     boot disk  find the logical unit in the tier                      1
#     config     create the upload's File, send its bytes, delete it    3
#     mappings   read the VIOSes (both map the unit), update each       3
#     start      the PowerOn job                                        2
#                                                                       = 19
# The destination keeps what it looks up once (its virtual switches, its
# media repository) for every later move, as for spawns.
MINIMUM_CALLS = {'resize (same host)': 9, 'cold migration': 19}
# Of those, the jobs (each runs LATENCY_PER_JOB under the latency model).
JOBS = 2
CALLS_FACTOR = 1.3
TIME_FACTOR = 1.3


def run(report):
    for name in ('pypowervm', 'taskflow', 'stevedore', 'nova_powervm'):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    numbers = iter(range(1, 10000))
    with demo.ComputeHost(disk_driver='localdisk') as host:
        _measure(report, host, 'resize (same host)', lambda: _resize(
            host, next(numbers)))
    with demo.ComputeHost(disk_driver='ssp', systems=2,
                          shared_ssp=True) as host:
        dest = _destination_driver(host)
        # The destination's first move looks up what it keeps.
        _cold_migration(host, dest, next(numbers))()
        _measure(report, host, 'cold migration', lambda: _cold_migration(
            host, dest, next(numbers)))


def _destination_driver(host):
    """The driver of the second system, as its own nova-compute (DEST)
    loads it."""
    endpoint = host.sim.endpoints[1]
    host.conf.config(group='powervm', host=endpoint.host,
                     port=endpoint.port, protocol=endpoint.protocol)
    host.conf.config(host=DEST)
    dest = nova_driver.load_compute_driver(nova_fake.FakeVirtAPI(),
                                           demo.COMPUTE_DRIVER)
    dest.init_host(DEST)
    host.addCleanup(dest.cleanup_host, DEST)
    return dest


def _spawned(host, number):
    """Instance ``number`` spawned on the first system, and nova's side of
    its moves."""
    instance, vifs = bench_driver._spawn(host, number)
    return instance, test_resize.NovaMoves(host.context, vifs,
                                           host.image_meta())


def _resize(host, number):
    """Spawn instance ``number``; returns what resizes it on its host to
    a larger flavor (one of its own, beside the instances' flavor 1)."""
    instance, nova = _spawned(host, number)
    flavor = test_resize.flavor_of(id=number + 1, vcpus=2 + number)
    return lambda: nova.move(host.driver, host.driver, instance, flavor,
                             demo.HOST)


def _cold_migration(host, dest, number):
    """Spawn instance ``number``; returns what moves it to the second
    system, with its own flavor."""
    instance, nova = _spawned(host, number)
    return lambda: nova.move(host.driver, dest, instance, instance.flavor,
                             DEST)


def _measure(report, host, name, prepare):
    """REST calls (no latency) and time (latency model) of the move that
    ``prepare()`` readies, against the minimum."""
    minimum = MINIMUM_CALLS[name]
    calls = [bench_driver.Measured(host, prepare()).calls
             for _ in range(bench_driver.REPEATS)]
    latency = host.sim.latency
    latency.per_request = bench_driver.LATENCY_PER_CALL
    latency.per_job = bench_driver.LATENCY_PER_JOB
    try:
        slow = bench_driver.Measured(host, prepare())
    finally:
        latency.per_request = latency.per_job = 0.0
    report.measure('%s: REST calls' % name, bench_driver._median(calls),
                   'calls', minimum * CALLS_FACTOR, bench.LOWER, note=(
                       'target %.1f x the %d round trips it cannot avoid '
                       '(tests/bench/migrations.py)' % (CALLS_FACTOR,
                                                        minimum)))
    floor = (minimum * bench_driver.LATENCY_PER_CALL +
             JOBS * bench_driver.LATENCY_PER_JOB)
    report.measure('%s at %d ms a call, %g s a job' % (
        name, bench_driver.LATENCY_PER_CALL * 1000,
        bench_driver.LATENCY_PER_JOB), slow.seconds, 's',
        floor * TIME_FACTOR, bench.LOWER, note=(
            '%d REST calls; target %.1f x %.2f s, its round trips and '
            'jobs' % (slow.calls, TIME_FACTOR, floor)))
