"""Faults of the real deployment: a nova-compute killed in the middle of a
boot, and every RabbitMQ connection of the cloud dropped at once."""

import datetime
import re
import subprocess
import time

from tests.cloud.checks import check

CRASH_HOST = 'cmp2'
WAIT = 300


def kill_compute_mid_boot(scenario):
    """kill -9 the nova-compute of a host while the driver builds an LPAR
    there, start it again: nova decides the server's fate (ERROR, as a
    build that lost its compute), and the host holds nothing that is not
    the server's; deleting it leaves the host as it was."""
    conn, cloud = scenario.conn, scenario.cloud
    host = scenario.hosts[CRASH_HOST]
    before = host.holdings()
    server = conn.compute.create_server(
        name='pvm-crash', image_id=scenario.image.id,
        flavor_id=scenario.flavors['pvm.small'].id, networks='none',
        availability_zone='nova:%s' % CRASH_HOST)
    deadline = time.monotonic() + WAIT
    # The LPAR shows on NovaLink: the driver's spawn is under way.
    while not set(host.lpar_names()) - set(before.lpars):
        check(time.monotonic() < deadline, 'no LPAR appeared on %s',
              CRASH_HOST)
        time.sleep(0.02)
    cloud.services['nova-compute-%s' % CRASH_HOST].kill9()
    at_kill = host.holdings()
    cloud.start_compute(CRASH_HOST)
    ended = _settled(scenario, server)
    name = conn.compute.get_server(server.id).instance_name
    holdings = host.holdings()
    check(set(holdings.lpars) - set(before.lpars) <= {name},
          'LPARs on %s besides the server\'s: %s', CRASH_HOST,
          holdings.lpars)
    scenario.servers.append(server)
    scenario.delete_server(server)
    after = host.holdings()
    check(after == before, '%s holds %s after the delete, not %s',
          CRASH_HOST, after, before)
    return ('killed with %d new LPAR(s), %d new disk(s); restarted: %s; '
            'deleted: nothing left' % (
                len(set(at_kill.lpars) - set(before.lpars)),
                len(set(at_kill.disks) - set(before.disks)), ended))


def _settled(scenario, server):
    """The server's status once nova is done with it (ACTIVE or ERROR)."""
    deadline = time.monotonic() + WAIT
    while True:
        now = scenario.conn.compute.get_server(server.id)
        if now.status in ('ACTIVE', 'ERROR') and now.task_state is None:
            return now.status
        check(time.monotonic() < deadline, '%s still %s (%s)', now.name,
              now.status, now.task_state)
        time.sleep(0.5)


def drop_broker_connections(scenario):
    """Close every connection of the cloud's vhost on the broker (other
    vhosts of the machine's RabbitMQ untouched); the services reconnect,
    their computes report in again, and the scenario goes on."""
    vhost = scenario.cloud.run_id
    before = _connections(vhost)
    check(before, 'no connections on vhost %s', vhost)
    began = time.monotonic()
    closed_at = datetime.datetime.now(datetime.UTC)
    deadline = began + WAIT
    closed = rounds = 0
    # The broker closes what is open when asked; one still opening then
    # takes another request.
    while _connections(vhost) & before:
        check(time.monotonic() < deadline, 'old connections stay open')
        closed += _close_all(vhost)
        rounds += 1
        time.sleep(1)
    # Every service reports its state over RPC (the computes through the
    # conductor): a report newer than the drop has crossed the broker again.
    while not _reported_since(scenario, closed_at):
        check(time.monotonic() < deadline, 'services did not report again')
        time.sleep(0.5)
    back = time.monotonic() - began
    return '%d open, %d closed in %d request(s); %d new, every service ' \
        'reporting again after %.1f s' % (
            len(before), closed, rounds, len(_connections(vhost)), back)


def _close_all(vhost):
    """Ask the broker to close the vhost's connections; how many it did."""
    said = subprocess.run(
        ['rabbitmqctl', 'close_all_connections', '--vhost', vhost,
         'nova-powervm cloud fault scenario'],
        check=True, capture_output=True, text=True, timeout=60).stdout
    count = re.search(r'Closed (\d+) connection', said)
    return int(count.group(1)) if count else 0


def _reported_since(scenario, moment):
    for service in scenario.conn.compute.services():
        updated = datetime.datetime.fromisoformat(service.updated_at)
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=datetime.UTC)
        if updated <= moment or service.state != 'up':
            return False
    return True


def _connections(vhost):
    """The broker's connections to ``vhost``, by Erlang process (a name
    is the client's address, which a new connection may take again)."""
    lines = subprocess.run(
        ['rabbitmqctl', '--quiet', 'list_connections', 'pid', 'vhost'],
        check=True, capture_output=True, text=True, timeout=60).stdout
    return {line.rsplit('\t', 1)[0] for line in lines.splitlines()
            if line.endswith('\t' + vhost)}

