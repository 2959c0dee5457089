"""Which NovaLink events are partition state changes."""

import testtools

from nova_powervm import event

_UUID = '3F5A1C2B-0000-4000-8000-000000000001'
_URI = 'https://novalink:12443/rest/api/uom/LogicalPartition/' + _UUID


class TestStateChangeEvents(testtools.TestCase):

    def test_state_change_of_an_lpar(self):
        for etype in ('MODIFY_URI', 'ADD_URI'):
            self.assertEqual(_UUID, event.state_change_lpar_uuid(
                etype, _URI, 'PartitionState,Other'))

    def test_lpar_under_its_managed_system(self):
        uri = ('https://novalink:12443/rest/api/uom/ManagedSystem/'
               '1b2c3d4e-0000-4000-8000-000000000000/LogicalPartition/' +
               _UUID)
        self.assertEqual(_UUID, event.state_change_lpar_uuid(
            'MODIFY_URI', uri, 'Other, PartitionState'))

    def test_other_changes_are_not_state_changes(self):
        cases = [
            ('MODIFY_URI', _URI, 'Other'),
            ('MODIFY_URI', _URI, 'NVRAM'),
            ('MODIFY_URI', _URI, ''),
            ('MODIFY_URI', _URI, None),
            # Gone: nothing to read.
            ('DELETE_URI', _URI, 'PartitionState'),
            ('NEW_CLIENT', '', ''),
            ('CACHE_CLEARED', None, None),
            # Not a client LPAR.
            ('MODIFY_URI', _URI.replace('LogicalPartition',
                                        'VirtualIOServer'), 'PartitionState'),
            # A child of the LPAR, not the LPAR.
            ('MODIFY_URI', _URI + '/ClientNetworkAdapter/' + _UUID,
             'PartitionState'),
            ('CUSTOM_CLIENT_EVENT', _URI, 'PartitionState'),
        ]
        for etype, data, detail in cases:
            self.assertIsNone(
                event.state_change_lpar_uuid(etype, data, detail),
                (etype, data, detail))


class TestNVRAMChangeEvents(testtools.TestCase):

    def test_nvram_change_of_an_lpar(self):
        # As pypowervm's recorded event feed shows it.
        for detail in ('NVRAM', 'PartitionState,NVRAM', 'Other, NVRAM'):
            self.assertEqual(_UUID, event.nvram_change_lpar_uuid(
                'MODIFY_URI', _URI, detail))

    def test_other_changes_are_not_nvram_changes(self):
        cases = [
            ('MODIFY_URI', _URI, 'PartitionState'),
            ('MODIFY_URI', _URI, 'NVRAMX'),
            ('DELETE_URI', _URI, 'NVRAM'),
            ('MODIFY_URI', _URI.replace('LogicalPartition',
                                        'VirtualIOServer'), 'NVRAM'),
            ('MODIFY_URI', None, 'NVRAM'),
        ]
        for etype, data, detail in cases:
            self.assertIsNone(
                event.nvram_change_lpar_uuid(etype, data, detail),
                (etype, data, detail))
