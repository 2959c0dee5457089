"""The wheel a regular ``pip install .`` installs carries the nova.virt shim
and never nova's own package files.

(The editable install is what every tox environment uses, so the loader
test in tests/unit covers that mode.)"""

import pathlib
import subprocess
import sys
import tempfile
import zipfile

import testtools

REPO = pathlib.Path(__file__).resolve().parents[3]


class TestRegularInstall(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(subprocess.run, ['rm', '-rf', self.tmp])

    def _build_wheel(self):
        subprocess.run(
            [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
             '-q', '-w', self.tmp, str(REPO)],
            check=True, capture_output=True)
        [wheel] = pathlib.Path(self.tmp).glob('nova_powervm-*.whl')
        return wheel

    def test_wheel_ships_the_shim_but_not_novas_packages(self):
        names = zipfile.ZipFile(self._build_wheel()).namelist()
        self.assertIn('nova/virt/powervm_ext/driver.py', names)
        self.assertNotIn('nova/__init__.py', names)
        self.assertNotIn('nova/virt/__init__.py', names)
        self.assertIn('powervm_sim/app.py', names)
