"""Registers the driver's versioned objects in every process nova's are in.

nova-conductor deserialises the PowerVMLiveMigrateData a destination's
check_can_live_migrate_destination returns, but it never imports a compute
driver, and nova offers no plugin point for versioned objects: an
unregistered class fails with UnsupportedObjectError.  The package's
``nova_powervm_objects.pth`` therefore calls ``install()`` when any
interpreter of the environment starts.

Importing nova's objects there would cost every Python process of nova's
environment about a second, and would stop nova's services: it imports
eventlet, and a nova service on native threads refuses to start once
eventlet is imported.  So ``install()`` only watches for nova's own
migrate_data module: right after it has run, ``nova_powervm.migrate_data``
is imported, which registers the subclass.  Any process that can read nova's
migrate data (conductor, compute, API) can then read the driver's too.
"""

import importlib
import importlib.util
import sys

# nova_powervm.migrate_data subclasses this module's LiveMigrateData.
_NOVA_MODULE = 'nova.objects.migrate_data'
_OBJECTS_MODULE = 'nova_powervm.migrate_data'


class _AfterNovaMigrateData:
    """A meta path finder that finds nothing itself: it makes the loader
    of nova's module import the driver's objects after nova's."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _NOVA_MODULE:
            return None
        # Done once, and out of the way of the finders that do find it.
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None:
            _import_after_exec(spec.loader, _OBJECTS_MODULE)
        return spec


def _import_after_exec(loader, name):
    # Only this module's loader: finders make one per module found.
    exec_module = loader.exec_module

    def exec_then_import(module):
        exec_module(module)
        importlib.import_module(name)

    loader.exec_module = exec_then_import


def install():
    """Called by the .pth at interpreter start, before any import of nova.
    """
    # First, so that it sees nova's module before the finder that finds it.
    sys.meta_path.insert(0, _AfterNovaMigrateData())
