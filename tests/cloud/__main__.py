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
    cloud = deploy.Cloud(BASE_DIR, log=_print)
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
        _print('down in %.1f s; left in MariaDB and RabbitMQ: %s' % (
            cloud.timings['down'], deploy.leftovers(cloud.run_id)))
    return status


if __name__ == '__main__':
    sys.exit(main())
