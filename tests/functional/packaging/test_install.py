"""The wheel a regular ``pip install .`` installs carries the nova.virt shim
and never nova's own package files, and declares every runtime dependency.

(The editable install is what every tox environment uses, so the loader
test in tests/unit covers that mode.)"""

import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import zipfile

import testtools

REPO = pathlib.Path(__file__).resolve().parents[3]

# Loads the driver the way nova-compute does and names the class it got and
# where the package came from, so the test can tell the venv's copy from the
# checkout's.
LOAD_DRIVER = textwrap.dedent("""\
    from nova.virt import driver, fake
    import nova_powervm
    drv = driver.load_compute_driver(
        fake.FakeVirtAPI(), 'powervm_ext.driver.PowerVMDriver')
    print(type(drv).__module__, type(drv).__qualname__)
    print(nova_powervm.__file__)
""")


def build_wheel(dest):
    subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '-q', '-w', dest, str(REPO)],
        check=True, capture_output=True)
    [wheel] = pathlib.Path(dest).glob('nova_powervm-*.whl')
    return wheel


def run(args, **kwargs):
    """Run ``args``; on failure the exception carries its output."""
    proc = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if proc.returncode:
        raise AssertionError('%s exited %d:\n%s\n%s' % (
            args, proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout


class _TmpDirTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(subprocess.run, ['rm', '-rf', self.tmp])


class TestRegularInstall(_TmpDirTestCase):

    def test_wheel_ships_the_shim_but_not_novas_packages(self):
        names = zipfile.ZipFile(build_wheel(self.tmp)).namelist()
        self.assertIn('nova/virt/powervm_ext/driver.py', names)
        self.assertNotIn('nova/__init__.py', names)
        self.assertNotIn('nova/virt/__init__.py', names)
        self.assertIn('powervm_sim/app.py', names)


class TestFreshVenvInstall(_TmpDirTestCase):
    """``pip install`` of the wheel alone, into a venv holding nothing else,
    brings everything the driver and the simulator import.

    One install serves both checks: it resolves nova's whole tree (about
    half a minute), too slow to repeat per check.
    """

    def setUp(self):
        super().setUp()
        self.venv = pathlib.Path(self.tmp, 'venv')
        # Nothing from the test's own environment may leak in: no
        # PYTHONPATH, no virtualenv, and the checkout is not the cwd.
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
        # As tox installs: nova 34 needs the project's constraints.
        self.env['PIP_CONSTRAINT'] = str(REPO / 'constraints.txt')
        self.env['OS_NOVA_DISABLE_EVENTLET_PATCHING'] = '1'

    def _venv_run(self, program, *args):
        return run([str(self.venv / 'bin' / program), *args],
                   cwd=self.tmp, env=self.env)

    def _install_wheel_into_fresh_venv(self):
        wheel = build_wheel(self.tmp)
        run([sys.executable, '-m', 'venv', str(self.venv)], env=self.env)
        self._venv_run('pip', 'install', '-q', str(wheel))

    def test_installed_driver_loads_and_simulator_runs(self):
        self._install_wheel_into_fresh_venv()

        cls, package_file = self._venv_run(
            'python', '-c', LOAD_DRIVER).splitlines()
        self.assertEqual('nova_powervm.driver PowerVMDriver', cls)
        self.assertTrue(package_file.startswith(str(self.venv)), package_file)

        self.assertIn('usage: powervm-sim',
                      self._venv_run('powervm-sim', '--help'))
