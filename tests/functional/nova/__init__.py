"""The driver behind nova's real API, conductor, scheduler and placement.

nova's functional test package goes first: with
OS_NOVA_DISABLE_EVENTLET_PATCHING=1 it sets nova up for native threads (as
nova-compute runs in production) and forbids eventlet from then on.

The driver's modules are imported here, at package import, rather than by
the compute service: nova's test case snapshots the object and option
registries in setUp and restores them afterwards, so anything first
registered during a test would be gone for the next test of the worker.
"""

import nova.tests.functional  # noqa: F401  (must stay the first import)

import nova_powervm.conf  # noqa: F401,E402  ([powervm] options)
import nova_powervm.driver  # noqa: F401,E402
import nova_powervm.extra_specs  # noqa: F401,E402  (API validators)
