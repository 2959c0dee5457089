# Copyright 2024 The nova-powervm authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""No secrets in cassettes.

Every cassette of this repository (tests/recorded/cassettes) must scan
clean.  The shared recordings (../shared/recorded) scan clean apart from
the findings listed in SHARED_RECORDINGS_POLICY, which were in them when
they were published upstream.  The Scrubber is also run on the shared
recordings and on traffic recorded from the simulator, whose cassettes
must then scan clean with no allow-list at all.
"""

import glob
import ipaddress
import os

import fixtures
import testtools
from pypowervm.tasks import power
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms

from powervm_sim import fixture
from tests.recorded import convert
from tests.recorded import matchers
from tests.recorded import recordings
from tests.recorded import scanner
from tests.recorded import scrub

CASSETTE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            'cassettes')

# What ManageIQ's scrubbing of its 2022 HMC cassettes left behind.  These
# files are public upstream and read-only here, so their findings are
# accepted one by one; anything else found in them fails the test.
SHARED_RECORDINGS_POLICY = scanner.ScanPolicy(
    allowed_hosts=frozenset({
        # The lab's HMC (ManagementConsoleName and Set-Cookie domain) and
        # a VIOS HostName, in refresher*.yml and metrics_capture_*.yml.
        'coophmc2',
        'coophmc2.coopibm.frec.bull.fr',
        'polluxios2.coopibm.frec.bull.fr',
    }),
    allowed_networks=tuple(ipaddress.ip_network(net) for net in (
        # The lab network (its SubnetMask is 255.255.240.0): system,
        # partition and RMC addresses in the refresher cassettes.
        '10.197.64.0/20',
        # An HMC's internal and link-local interfaces.
        '192.168.128.1/32',
        '169.254.3.1/32',
    )),
    allowed_fingerprints=frozenset({
        # metrics_capture_host.yml and metrics_capture_lpar.yml were
        # recorded without scrubbing: the real X-API-Session token of
        # each April 2022 session (LogonResponse and request headers)...
        '4c9c6f698a8bbe8f',
        '6380c78f6650afb0',
        # ... and the CCFWSESSION and JSESSIONID cookies set at logon and
        # cleared at logoff.
        '1bbcaf72be43bf39',
        '1fb79ebf827b3c0b',
        '2fb831ed4a7f2c9d',
        '7983c172c950fae2',
        'bd90a58209d93656',
        'ca85bdb151a5e509',
    }))


def shared_cassettes():
    return sorted(glob.glob(os.path.join(
        recordings.shared_recordings_dir(), '*', '*.yml')))


class TestRepositoryCassettes(testtools.TestCase):

    def test_directory_exists(self):
        self.assertTrue(os.path.isdir(CASSETTE_DIR))

    def test_every_cassette_scans_clean(self):
        scanner.check_paths([CASSETTE_DIR])


class TestSharedRecordings(testtools.TestCase):

    def test_nothing_beyond_the_known_findings(self):
        self.assertTrue(shared_cassettes())
        scanner.check_paths([recordings.shared_recordings_dir()],
                            SHARED_RECORDINGS_POLICY)

    def test_every_accepted_finding_is_still_there(self):
        # A stale allow-list entry would hide a future leak of that value.
        findings = scanner.scan_paths([recordings.shared_recordings_dir()])
        found_marks = {finding.fingerprint for finding in findings}
        self.assertEqual(
            set(), SHARED_RECORDINGS_POLICY.allowed_fingerprints - found_marks)
        host_marks = {scanner.fingerprint(scanner.HOST, host)
                      for host in SHARED_RECORDINGS_POLICY.allowed_hosts}
        self.assertEqual(set(), host_marks - found_marks)

    def test_scrubbed_copies_scan_clean_without_an_allow_list(self):
        for path in shared_cassettes():
            scrubbed = scrub.scrub_cassette_dict(
                convert.ruby_vcr_to_vcrpy(path))
            self.assertEqual([], scanner.scan_cassette(scrubbed, path))


class TestRecordingFromTheSimulator(testtools.TestCase):
    """pypowervm's own traffic, recorded through vcrpy and the Scrubber."""

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(lpars=1))
        self.dir = self.useFixture(fixtures.TempDir()).path

    def record(self, name, scrubber):
        path = os.path.join(self.dir, name)
        with matchers.make_vcr(scrubber).use_cassette(path):
            adapter = self.sim.adapter()
            pvm_ms.System.get(adapter)
            lpar = pvm_lpar.LPAR.get(adapter)[-1]
            power.power_on(lpar, None)
        with open(path, encoding='utf-8') as cassette:
            return path, cassette.read()

    def test_scrubbed_recording_scans_clean(self):
        raw, _ = self.record('raw.yaml', None)
        kinds = {finding.kind for finding in scanner.scan_file(raw)}
        self.assertTrue({scanner.SESSION_TOKEN, scanner.SESSION_FILE}
                        <= kinds, kinds)
        scrubbed, text = self.record('scrubbed.yaml', scrub.Scrubber())
        scanner.check_paths([scrubbed])
        # The power-on job's ID was numbered where it was polled.
        self.assertIn('/rest/api/uom/jobs/1000000000001', text)
        self.assertIn('<UserID>scrubbed-user</UserID>', text)
