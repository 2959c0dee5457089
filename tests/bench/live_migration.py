"""Live migration: REST calls and time of one, with no latency and under
the latency model with the partition mobility job's own time, against
what it cannot avoid.

Targets (from the migrations issue):

- a live migration to another host (the two systems' VIOSes share a
  storage pool) within 1.3 x the REST round trips it cannot avoid
  (MINIMUM_CALLS, reasoned out below);
- at 50 ms a REST call, 2 s a job and MIGRATE_SECONDS more for the
  Migrate job (the memory copy), within 1.3 x the time of those round
  trips and jobs.

nova takes it in steps on both hosts (tests.functional.driver.
test_live_migration NovaLiveMigrations).  The instance has a config
drive, an SEA and an OVS VIF.
"""

import logging

import fixtures
from nova.compute import rpcapi as compute_rpcapi

from nova_powervm import demo
from nova_powervm import vm
from tests.bench import driver as bench_driver
from tests.bench import migrations as bench_migrations
from tests import bench
from tests.functional.driver import test_live_migration

# The round trips no client can avoid (a job's template is the same every
# time, so only its submission and deletion count, though pypowervm reads
# the template anew; a job's polls while it runs are the job's time):
#   destination check  read the system (capability, migrations running,
#                      free memory, memory region size)                 1
#   source check       read the system, the LPAR (RMC, I/O, processor
#                      mode), the VIOSes' mappings (optical media), the
#                      console (its public SSH key)                     4
#   destination        read the console (the source's key authorized
#                      by an earlier move), read the virtual networks
#                      (a free VLAN), create the trunk adapter          3
#   move               read the LPAR's adapters (their MACs for the VLAN
#                      mappings), unmap the config drive (read the VIOS,
#                      update it), MigrateValidate, Migrate             7
#   source after       delete the trunk adapter (found by reading the
#                      NovaLink partition's adapters), unmap and delete
#                      the config drive media (read the VIOS's mappings,
#                      the volume group, update it)                     5
#   destination after  read the LPAR's adapters (the RMC adapter's
#                      address for the drive), upload the drive (File:
#                      create, send, delete), map it (read the VIOS,
#                      update it)                                       6
#                                                                    = 26
MINIMUM_CALLS = 26
# Of those, the jobs (MigrateValidate and Migrate), as many as a cold
# migration's; the targets are a cold migration's too.
JOBS = bench_migrations.JOBS
CALLS_FACTOR = bench_migrations.CALLS_FACTOR
TIME_FACTOR = bench_migrations.TIME_FACTOR
# The Migrate job's own time under the latency model: the copy of the
# partition's memory.
MIGRATE_SECONDS = 10.0


def run(report):
    for name in ('pypowervm', 'taskflow', 'stevedore', 'nova_powervm'):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    numbers = iter(range(1, 10000))
    with demo.ComputeHost(disk_driver='ssp', systems=2,
                          shared_ssp=True) as host:
        dest = bench_migrations._destination_driver(host)
        host.useFixture(_RollbackAtDestination(dest))
        # The destination's first move looks up what it keeps.
        _live_migration(host, dest, next(numbers))()
        _measure(report, host, lambda: _live_migration(
            host, dest, next(numbers)))


def _live_migration(host, dest, number):
    """Spawn instance ``number``; returns what live-migrates it to the
    second system."""
    instance, vifs = bench_driver._spawn(host, number)
    host.sim.model.set_partition_state(
        host.sim.model.registry.find(vm.get_pvm_uuid(instance)),
        'running', rmc_state='active')
    nova = test_live_migration.NovaLiveMigrations(
        host.context, vifs, host.driver, dest, bench_migrations.DEST)

    def move():
        outcome = nova.live_migrate(instance)
        if not outcome.post:
            raise RuntimeError('the live migration was rolled back (%s)' %
                               outcome.recovered)
    return move


class _RollbackAtDestination(fixtures.Fixture):
    """nova's RPC to the destination's manager, were a move rolled back:
    the destination driver's rollback."""

    def __init__(self, dest):
        super().__init__()
        self.dest = dest

    def _setUp(self):
        self.useFixture(fixtures.MockPatchObject(
            compute_rpcapi.ComputeAPI,
            'rollback_live_migration_at_destination',
            new=lambda ctxt, instance, host, destroy_disks, migrate_data:
            self.dest.rollback_live_migration_at_destination(
                ctxt, instance, [], {'block_device_mapping': []},
                migrate_data=migrate_data)))


def _measure(report, host, prepare):
    """REST calls (no latency) and time (latency model with the Migrate
    job's time) of the live migration ``prepare()`` readies."""
    calls = [bench_driver.Measured(host, prepare()).calls
             for _ in range(bench_driver.REPEATS)]
    latency = host.sim.latency
    latency.per_request = bench_driver.LATENCY_PER_CALL
    latency.per_job = bench_driver.LATENCY_PER_JOB
    host.sim.migration_seconds(MIGRATE_SECONDS)
    try:
        slow = bench_driver.Measured(host, prepare())
    finally:
        latency.per_request = latency.per_job = 0.0
        host.sim.migration_seconds(0.0)
    report.measure('live migration: REST calls', bench_driver._median(calls),
                   'calls', MINIMUM_CALLS * CALLS_FACTOR, bench.LOWER, note=(
                       'target %.1f x the %d round trips it cannot avoid '
                       '(tests/bench/live_migration.py)' % (
                           CALLS_FACTOR, MINIMUM_CALLS)))
    floor = (MINIMUM_CALLS * bench_driver.LATENCY_PER_CALL +
             JOBS * bench_driver.LATENCY_PER_JOB + MIGRATE_SECONDS)
    report.measure('live migration at %d ms a call, %g s a job, %g s more '
                   'to migrate' % (bench_driver.LATENCY_PER_CALL * 1000,
                                   bench_driver.LATENCY_PER_JOB,
                                   MIGRATE_SECONDS),
                   slow.seconds, 's', floor * TIME_FACTOR, bench.LOWER,
                   note='%d REST calls; target %.1f x %.2f s, its round '
                   'trips and jobs' % (slow.calls, TIME_FACTOR, floor))
