"""Registration of every resource type the simulator serves, one module per
resource family (importing the package registers them all)."""

from powervm_sim.bindings import console  # noqa: F401
from powervm_sim.bindings import mapping  # noqa: F401
from powervm_sim.bindings import network  # noqa: F401
from powervm_sim.bindings import partition  # noqa: F401
from powervm_sim.bindings import ssp  # noqa: F401
from powervm_sim.bindings import storage  # noqa: F401
from powervm_sim.bindings import system  # noqa: F401
