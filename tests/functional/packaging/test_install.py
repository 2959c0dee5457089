"""The wheel a regular ``pip install .`` installs carries the nova.virt shim
and never nova's own package files, and declares every runtime dependency;
its .pth registers the driver's versioned objects in any nova process, as
nova-conductor needs them.

(The editable install is what every tox environment uses, so the loader
test in tests/unit covers that mode; the objects' registration is checked
here in both.)"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import zipfile

import testtools

from nova_powervm import migrate_data

REPO = pathlib.Path(__file__).resolve().parents[3]

# At the top of the wheel, so in site-packages, where site reads it.
PTH = 'nova_powervm_objects.pth'

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

# What nova-conductor does with a destination's answer to
# check_can_live_migrate_destination, and nothing more: nova's objects, then
# the primitive off the wire.  It prints the class it got, a field, and
# whether the driver had to be imported for it.
DESERIALISE = textwrap.dedent("""\
    import json, sys
    from nova import objects
    from nova.objects import base
    objects.register_all()
    obj = base.NovaObject.obj_from_primitive(json.load(sys.stdin))
    print(type(obj).__module__, type(obj).__qualname__)
    print(obj.dest_sys_name)
    print('nova_powervm.driver' in sys.modules)
""")

# What of nova and of the project an interpreter imports before its first
# line: the .pth must not import nova in every process of nova's venv.
AT_START = textwrap.dedent("""\
    import sys
    print(sorted(name for name in sys.modules
                 if name.split('.')[0] in ('nova', 'nova_powervm')))
""")

# Only the hook's own module; nova comes when the program imports it.
IMPORTED_AT_START = "['nova_powervm', 'nova_powervm.objects_hook']"

DESERIALISED = [
    'nova_powervm.migrate_data PowerVMLiveMigrateData', 'sys2', 'False']


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


def migrate_data_json():
    """A destination's migrate data as the driver's class serialises it."""
    return json.dumps(migrate_data.PowerVMLiveMigrateData(
        dest_sys_name='sys2', dest_ip='192.0.2.20',
        vea_vlan_mappings={'fa:16:3e:00:00:01': None}).obj_to_primitive())


def deserialise(python, **kwargs):
    """The lines DESERIALISE prints, run by ``python`` in a new process."""
    return run([python, '-c', DESERIALISE], input=migrate_data_json(),
               **kwargs).splitlines()


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
        self.assertIn(PTH, names)


class TestEditableInstall(_TmpDirTestCase):
    """The tox environment running this test holds the project installed
    editable, as tox installs it."""

    def test_a_conductor_like_process_gets_the_drivers_migrate_data(self):
        self.assertEqual(DESERIALISED,
                         deserialise(sys.executable, cwd=self.tmp))

    def test_nothing_of_nova_is_imported_at_start(self):
        self.assertEqual(IMPORTED_AT_START, run(
            [sys.executable, '-c', AT_START], cwd=self.tmp).strip())


class TestFreshVenvInstall(_TmpDirTestCase):
    """``pip install`` of the wheel alone, into a venv holding nothing else,
    brings everything the driver and the simulator import.

    One install serves every check: it resolves nova's whole tree (about
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

    def test_installed_driver_simulator_and_objects_registration(self):
        self._install_wheel_into_fresh_venv()

        cls, package_file = self._venv_run(
            'python', '-c', LOAD_DRIVER).splitlines()
        self.assertEqual('nova_powervm.driver PowerVMDriver', cls)
        self.assertTrue(package_file.startswith(str(self.venv)), package_file)

        self.assertIn('usage: powervm-sim',
                      self._venv_run('powervm-sim', '--help'))

        self._check_objects_registration()

    def _check_objects_registration(self):
        python = str(self.venv / 'bin' / 'python')
        self.assertEqual(IMPORTED_AT_START,
                         self._venv_run('python', '-c', AT_START).strip())
        self.assertEqual(DESERIALISED,
                         deserialise(python, cwd=self.tmp, env=self.env))

        # The same process without the .pth: nova alone cannot.
        [pth] = self.venv.glob('lib/python*/site-packages/' + PTH)
        pth.rename(pth.with_suffix('.off'))
        error = self.assertRaises(
            AssertionError, deserialise, python, cwd=self.tmp, env=self.env)
        self.assertIn('UnsupportedObjectError: Unsupported object type '
                      'PowerVMLiveMigrateData', str(error))
