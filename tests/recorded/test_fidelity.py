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

"""The simulator's fidelity must not fall behind fidelity_baseline.json.

When the simulator gets closer to real XML, run
``tox -e fidelity -- --update-baseline`` and commit the new baseline.
"""

import testtools

from tests.recorded import fidelity


class TestFidelityBaseline(testtools.TestCase):

    def test_no_type_falls_behind_the_baseline(self):
        reports = fidelity.measure()
        self.addDetail('fidelity', testtools.content.text_content(
            fidelity.format_table(reports)))
        measured = {report.name: report.summary() for report in reports}
        self.assertEqual(
            [], fidelity.compare_to_baseline(measured,
                                             fidelity.load_baseline()))
