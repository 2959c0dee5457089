"""``python -m tests.cloud`` (``tox -e cloud``): a real OpenStack on
simulated POWER servers.

    run   bring the cloud up, run the scenario and the fault scenarios,
          print the table, take everything down (the default)
    up    bring the cloud up and keep it running until Ctrl-C, printing
          how to point the OpenStack client at it

Logs stay in .cloud/RUN_ID/logs/ of the checkout.
"""

import argparse
import os
import signal
import sys

from tests.cloud import deploy
from tests.cloud import scenario

BASE_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), '.cloud')


class Interrupted(Exception):
    pass


def _interrupt(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def _print(line):
    print(line, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.cloud')
    parser.add_argument('command', nargs='?', default='run',
                        choices=('run', 'up'))
    args = parser.parse_args(argv)
    # SIGTERM (CI, tox) tears down as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    for run_id in deploy.clean_stale(BASE_DIR):
        _print('cleaned up after run %s, which was killed' % run_id)
    cloud = deploy.Cloud(BASE_DIR)
    _print('cloud %s: logs in %s' % (cloud.run_id, cloud.log_dir))
    status = 1
    try:
        status = scenario.main(cloud, args.command, _print)
    except Interrupted as exc:
        _print('interrupted (%s): taking the cloud down' % exc)
    finally:
        # A second Ctrl-C must not cut the tear-down short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cloud.down()
        status = _after_down(cloud) or status
    return status


def _after_down(cloud):
    """1 if the run left anything behind or logged a secret."""
    databases, vhosts = deploy.leftovers(cloud.run_id)
    running = sorted(name for name, service in cloud.services.items()
                     if service.alive())
    _print('down in %.1f s (%s); left running: %s; left in MariaDB: %s, in '
           'RabbitMQ: %s' % (
               cloud.timings['down'], ', '.join(
                   '%s %.1f s' % item for item in cloud.stop_seconds.items()),
               running or 'nothing', databases or 'nothing',
               vhosts or 'nothing'))
    logged = _logs_with_secrets(cloud)
    if logged:
        _print('secrets in the logs: %s' % ', '.join(logged))
    return 1 if databases or vhosts or running or logged else 0


def _logs_with_secrets(cloud):
    secrets = [secret.encode() for secret in cloud.secrets()]
    found = []
    for name in sorted(os.listdir(cloud.log_dir)):
        with open(os.path.join(cloud.log_dir, name), 'rb') as f:
            text = f.read()
        if any(secret in text for secret in secrets):
            found.append(name)
    return found


if __name__ == '__main__':
    sys.exit(main())
