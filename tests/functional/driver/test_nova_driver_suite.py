"""nova's own driver conformance suite, run on PowerVMDriver.

Every in-tree nova driver runs ``_VirtDriverTestCase``
(nova/tests/unit/virt/test_virt_drivers.py).  Here its test bodies run
unchanged against the real driver, over HTTP to the simulator; only the
set-up is PowerVM's: the simulator and ``[powervm]`` where the suite would
set up fake libvirt, nova's Glance serving the test instances' image
as raw bytes, and nova's 'fake' volumes attached as LUNs of the simulated
SAN.

The suite forgives NotImplementedError: a test of a method the driver does
not implement passes (nova logs "... does not implement ...").  So each
test here also checks how it passed against nova_driver_suite.json, which
lists the tests that pass for real and the counts: a listed test that
passes only by NotImplementedError fails, and so does an unlisted one that
passes for real until it is listed, so the real passes only ever go up.
"""

import json
import logging
import os
import unittest

import fixtures as fixtures_lib
from nova.tests import fixtures as nova_fixtures
from nova.tests.unit.virt import test_virt_drivers
from nova import test
import testtools

from nova_powervm.volume import fcvscsi
from powervm_sim import fixture as sim_fixture
from tests.functional.driver import fixtures
from tests.functional.driver import glance_fake

BASELINE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             'nova_driver_suite.json')
# The image nova's test instances boot from (test_utils.get_test_instance).
TEST_IMAGE_ID = nova_fixtures.GlanceFixture.image4['id']
_TEST_IMAGE_DATA = fixtures.image_bytes(fixtures.IMAGE_SIZE)


def load_baseline(path=BASELINE_PATH):
    """{'real': [test names], 'counts': {'real', 'not_implemented',
    'total'}}."""
    with open(path, encoding='utf-8') as baseline:
        return json.load(baseline)


class RawImageGlance(nova_fixtures.GlanceFixture):
    """nova's Glance, with the test instances' image as a raw disk image
    holding bytes (nova's is an 'ami' without any) and, like Glance's
    client, downloads returned as chunks when no file is given."""

    def setUp(self):
        super().setUp()
        self.images[TEST_IMAGE_ID].update(
            disk_format='raw', container_format='bare',
            size=len(_TEST_IMAGE_DATA))
        self._imagedata[TEST_IMAGE_ID] = _TEST_IMAGE_DATA

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        if data or dst_path:
            return super().download(context, image_id, data=data,
                                    dst_path=dst_path)
        self.show(context, image_id)
        return _chunks(self._imagedata.get(image_id, b''))


def fake_volume_class(sim):
    """The adapter of nova's 'fake' volumes: a LUN of the simulated SAN,
    attached over Fibre Channel as a real one (as libvirt's suite attaches
    its fake volumes through a volume driver of its own)."""

    class FakeSANVolume(fcvscsi.FCVscsiVolume):

        def check(self):
            # The first sight of a volume gives it its LUN.
            if 'initiator_target_map' not in self.data:
                self.data.update(sim.fc_lun().connection_data())
            super().check()

    return FakeSANVolume


def _chunks(content):
    for start in range(0, len(content), glance_fake.CHUNK):
        yield content[start:start + glance_fake.CHUNK]


class NotImplementedLog(logging.Handler):
    """The driver methods nova's suite forgave during a test: its
    catch_notimplementederror logs each at ERROR ("%(driver)s does not
    implement %(method)s required for test %(test)s")."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.methods = []

    def emit(self, record):
        if 'does not implement' in record.msg:
            self.methods.append(record.args['method'])


class TestNovaDriverSuite(test_virt_drivers._VirtDriverTestCase,
                          test.TestCase):

    driver_module = 'nova.virt.' + fixtures.COMPUTE_DRIVER
    baseline = load_baseline()

    # [powervm] disk_driver of the tests that need another than localdisk:
    # the resize test moves its instance to another host ('dest_host'),
    # which only a disk in a shared storage pool can follow.
    DISK_DRIVERS = {
        'test_migrate_disk_and_power_off': {'disk_driver': 'ssp'},
    }

    def setUp(self):
        super().setUp()
        # nova's set-up made two GlanceFixtures whose test image has no
        # bytes; this one, made last, is the Glance the driver and the test
        # bodies (their snapshot targets) use.
        self.image_service = self.useFixture(RawImageGlance(self))
        # nova's force-complete test queues its request in the map of
        # running migrations libvirt's driver keeps (and FakeDriver, for
        # this test); PowerVMDriver keeps its own (migration.Mover).
        vars(self.connection).setdefault('active_migrations', {})
        # Checked once cleanup_host has run.
        self.addCleanup(self._assert_logged_off)
        # As nova-compute does before anything else.
        self.connection.init_host(fixtures.HOST)
        self.addCleanup(self.connection.cleanup_host, fixtures.HOST)
        self._watch_how_the_test_passes()

    def _setup_fakelibvirt(self):
        """Where the suite puts fake libvirt: the simulated NovaLink, which
        the driver loaded next is configured for."""
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(
            event_wait=0.2))
        self.useFixture(fixtures.SimulatorConfig(
            self.sim, **self.DISK_DRIVERS.get(self._testMethodName, {})))
        self.useFixture(fixtures_lib.MonkeyPatch(
            'nova_powervm.volume._ADAPTERS',
            {'fake': fake_volume_class(self.sim)}))

    def _teardown_fakelibvirt(self):
        """Nothing to restore: libvirt was never replaced."""

    def _assert_logged_off(self):
        """The driver left no session (nor its event long-poll) behind."""
        self.assertEqual(0, self.sim.simulator.sessions.active_count())

    # ----------------------------------------------------------- ratchet
    def _watch_how_the_test_passes(self):
        self._not_implemented = NotImplementedLog()
        self.useFixture(fixtures_lib.LogHandler(
            self._not_implemented, name=test_virt_drivers.__name__,
            nuke_handlers=False))
        self._raised = []
        self.addOnException(self._raised.append)
        self.addCleanup(self._check_against_the_baseline)

    def _check_against_the_baseline(self):
        if self._raised:
            # Failed or skipped: that outcome is the one reported.
            return
        name = self._testMethodName
        listed = name in self.baseline['real']
        forgiven = self._not_implemented.methods
        if listed and forgiven:
            self.fail('%s passed for real before; now it passes only because '
                      'PowerVMDriver does not implement %s.'
                      % (name, ', '.join(forgiven)))
        if not listed and not forgiven:
            self.fail('%s now passes for real: add it to "real" in %s and '
                      'raise the counts.' % (name, BASELINE_PATH))


class TestBaseline(testtools.TestCase):
    """nova_driver_suite.json names tests of the suite, and its counts are
    those of the tests it lists."""

    def test_counts_are_those_of_the_listed_tests(self):
        baseline = load_baseline()
        suite = unittest.TestLoader().getTestCaseNames(TestNovaDriverSuite)
        real = baseline['real']
        self.assertEqual([], sorted(set(real) - set(suite)))
        self.assertEqual(len(real), len(set(real)))
        self.assertEqual({'real': len(real),
                          'not_implemented': len(suite) - len(real),
                          'total': len(suite)}, baseline['counts'])
