"""The driver behind nova's real API, conductor, scheduler and placement.

The driver's modules are imported here, at package import, rather than by
the compute service: nova's test case snapshots the object and option
registries in setUp and restores them afterwards, so anything first
registered during a test would be gone for the next test of the worker.
"""

import nova_powervm.conf  # noqa: F401  ([powervm] options)
import nova_powervm.driver  # noqa: F401
import nova_powervm.extra_specs  # noqa: F401  (API validators)
