"""``python -m powervm_sim``: the ``powervm-sim`` command."""

import sys

from powervm_sim import cli

sys.exit(cli.main())
