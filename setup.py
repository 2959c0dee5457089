"""setup.cfg describes the package; this file adds what setup.cfg cannot: a
.pth at the top of site-packages (see nova_powervm/objects_hook.py)."""

import os

import setuptools
from setuptools.command import build_py

PTH = 'nova_powervm_objects.pth'
# site runs a .pth line that starts with "import" in every interpreter of the
# environment: this one only puts an import hook in place.
PTH_LINE = ('import nova_powervm.objects_hook; '
            'nova_powervm.objects_hook.install()\n')


class BuildPyWithPth(build_py.build_py):
    """build_py, and the .pth beside the top-level packages."""

    def run(self):
        super().run()
        with open(os.path.join(self._top(), PTH), 'w') as pth:
            pth.write(PTH_LINE)

    def _top(self):
        # A wheel gets what build_lib holds.  An editable wheel gets nothing
        # of it (the packages stay in the checkout), only what is written
        # where the install would put modules: its own top folder.
        if self.editable_mode:
            return self.get_finalized_command('install').install_lib
        return self.build_lib


setuptools.setup(cmdclass={'build_py': BuildPyWithPth})
