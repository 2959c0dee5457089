"""The tests of nova-powervm and the tools they share.

nova's functional test package is imported before anything else, for every
test package: with OS_NOVA_DISABLE_EVENTLET_PATCHING=1 (tox sets it; scripts
run as ``python -m tests.X`` get it here) it sets nova up for native threads,
as nova-compute runs in production, and forbids eventlet from then on.  That
only works before anything (taskflow, through pypowervm) imports eventlet,
so it cannot wait for the first test that needs nova's database.
"""

import os

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')

import nova.tests.functional  # noqa: E402,F401  (must stay the first import)
