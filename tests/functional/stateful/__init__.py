"""Hypothesis state machines over the driver and the simulator.

nova's functional test package goes first, as in tests.functional.driver:
it sets nova up for native threads before anything imports eventlet.
"""

import nova.tests.functional  # noqa: F401  (must stay the first import)
