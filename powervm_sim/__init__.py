"""An in-process, stateful NovaLink REST API simulator."""
