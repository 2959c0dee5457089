"""The driver against the simulator, through nova's loader and objects.

nova's functional test package goes first: with
OS_NOVA_DISABLE_EVENTLET_PATCHING=1 it sets nova up for native threads and
forbids eventlet from then on, as nova-compute does.
"""

import nova.tests.functional  # noqa: F401  (must stay the first import)
