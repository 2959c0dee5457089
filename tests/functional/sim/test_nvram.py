"""A partition's NVRAM (the NVRAM extended attribute group) over real HTTP:
written with a create or an update, kept, read back with xag NVRAM; the
guest writing it changes it and NovaLink reports a MODIFY with detail
NVRAM; bad NVRAM is refused with 400 and changes nothing."""

import base64

from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
import requests
import testtools

from powervm_sim import fixture
from tests.functional.sim import test_events_wire

NVRAM_XAG = [pvm_const.XAG.NVRAM]
FIRST = base64.b64encode(b'boot-list=disk0 ' * 64).decode()
SECOND = base64.b64encode(b'boot-list=net0 ' * 64).decode()


class NVRAMTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture())
        self.adapter = self.sim.adapter()
        self.host = pvm_ms.System.get(self.adapter)[0]

    def build(self, name='nvram-lpar', nvram=None):
        attrs = {lpar_builder.NAME: name, lpar_builder.MEM: 1024,
                 lpar_builder.VCPU: 1}
        stdz = lpar_builder.DefaultStandardize(self.host)
        lpar_w = lpar_builder.LPARBuilder(self.adapter, attrs, stdz).build()
        if nvram is not None:
            lpar_w.nvram = nvram
        return lpar_w

    def create(self, nvram=None):
        return self.build(nvram=nvram).create(parent=self.host)

    def read_nvram(self, uuid):
        return pvm_lpar.LPAR.get(self.adapter, uuid=uuid,
                                 xag=NVRAM_XAG).nvram

    def model_lpar(self, uuid):
        return self.sim.model.registry.get(uuid, 'LogicalPartition')


class TestNVRAMOverREST(NVRAMTestCase):

    def test_created_with_nvram_keeps_it(self):
        lpar_w = self.create(nvram=FIRST)
        self.assertEqual(FIRST, self.read_nvram(lpar_w.uuid))

    def test_created_without_nvram_has_none(self):
        lpar_w = self.create()
        self.assertIsNone(self.read_nvram(lpar_w.uuid))

    def test_nvram_only_shown_with_its_group(self):
        lpar_w = self.create(nvram=FIRST)
        plain = pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid)
        self.assertNotIn(b'PartitionNVRAM', plain.toxmlstring())

    def test_update_with_nvram_replaces_it(self):
        lpar_w = self.create(nvram=FIRST)
        lpar_w = pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid,
                                   xag=NVRAM_XAG)
        lpar_w.nvram = SECOND
        lpar_w.update()
        self.assertEqual(SECOND, self.read_nvram(lpar_w.uuid))

    def test_update_without_its_group_keeps_it(self):
        lpar_w = self.create(nvram=FIRST)
        plain = pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid)
        plain.avail_priority = 100
        plain.update()
        self.assertEqual(100, self.model_lpar(lpar_w.uuid)
                         .availability_priority)
        self.assertEqual(FIRST, self.read_nvram(lpar_w.uuid))

    def test_nvram_of_real_size_is_taken(self):
        # A real partition's NVRAM is tens of KB, far over the text limit
        # of other elements.
        big = base64.b64encode(bytes(range(256)) * 256).decode()
        lpar_w = self.create(nvram=big)
        self.assertEqual(big, self.read_nvram(lpar_w.uuid))

    def test_create_with_bad_nvram_refused(self):
        before = len(self.sim.model.lpars())
        exc = self.assertRaises(pvm_exc.HttpError, self.create,
                                nvram='not base64!')
        self.assertEqual(400, exc.response.status)
        self.assertEqual(before, len(self.sim.model.lpars()))

    def test_update_with_bad_nvram_refused_and_kept(self):
        lpar_w = self.create(nvram=FIRST)
        lpar_w = pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid,
                                   xag=NVRAM_XAG)
        lpar_w.nvram = 'A' * 5
        exc = self.assertRaises(pvm_exc.HttpError, lpar_w.update)
        self.assertEqual(400, exc.response.status)
        self.assertEqual(FIRST, self.read_nvram(lpar_w.uuid))

    def test_update_with_huge_nvram_refused(self):
        lpar_w = self.create(nvram=FIRST)
        lpar_w = pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid,
                                   xag=NVRAM_XAG)
        lpar_w.nvram = 'A' * (4 * 1024 * 1024)
        exc = self.assertRaises(pvm_exc.HttpError, lpar_w.update)
        self.assertEqual(400, exc.response.status)
        self.assertEqual(FIRST, self.read_nvram(lpar_w.uuid))


class TestGuestWritesNVRAM(NVRAMTestCase):

    def listen(self):
        recorder = test_events_wire.Recorder()
        listener = self.adapter.session.get_event_listener()
        listener.subscribe(recorder)
        self.addCleanup(listener.unsubscribe, recorder)
        return recorder

    def test_guest_write_changes_nvram_and_reports_it(self):
        lpar_w = self.create(nvram=FIRST)
        recorder = self.listen()
        written = self.sim.guest_writes_nvram(lpar_w.uuid)
        self.assertNotEqual(FIRST, written)
        self.assertEqual(written, self.read_nvram(lpar_w.uuid))
        event = recorder.wait_for('MODIFY_URI',
                                  'LogicalPartition/' + lpar_w.uuid,
                                  detail='NVRAM')
        self.assertEqual('NVRAM', event.detail)

    def test_guest_write_of_given_bytes(self):
        lpar_w = self.create()
        self.assertEqual(SECOND,
                         self.sim.guest_writes_nvram(lpar_w.uuid, SECOND))
        self.assertEqual(SECOND, self.read_nvram(lpar_w.uuid))

    def test_a_partition_made_again_writes_anew(self):
        lpar_w = self.create()
        first = self.sim.guest_writes_nvram(lpar_w.uuid)
        self.adapter.delete(pvm_lpar.LPAR.schema_type, root_id=lpar_w.uuid)
        again = self.build()
        again.uuid = lpar_w.uuid
        again = again.create(parent=self.host)
        self.assertNotEqual(first, self.sim.guest_writes_nvram(again.uuid))

    def test_each_guest_write_differs(self):
        lpar_w = self.create()
        written = {self.sim.guest_writes_nvram(lpar_w.uuid)
                   for _ in range(5)}
        self.assertEqual(5, len(written))


class TestNVRAMControl(NVRAMTestCase):

    def call(self, method, path, expected, **kwargs):
        url = self.sim.endpoints[0].server.url + '/sim/' + path
        response = requests.request(method, url, timeout=10, **kwargs)
        self.assertEqual(expected, response.status_code, response.text)
        return response.json()

    def test_read_and_write_through_control_api(self):
        lpar_w = self.create(nvram=FIRST)
        path = 'nvram/' + lpar_w.uuid
        self.assertEqual({'lpar': lpar_w.uuid, 'nvram': FIRST},
                         self.call('GET', path, 200))
        answer = self.call('POST', path, 200, json={})
        self.assertNotEqual(FIRST, answer['nvram'])
        self.assertEqual(answer['nvram'], self.read_nvram(lpar_w.uuid))
        answer = self.call('POST', path, 200, json={'nvram': SECOND})
        self.assertEqual(SECOND, self.read_nvram(lpar_w.uuid))

    def test_bad_requests_change_nothing(self):
        lpar_w = self.create(nvram=FIRST)
        path = 'nvram/' + lpar_w.uuid
        self.call('POST', path, 400, json={'nvram': 'not base64!'})
        self.call('POST', path, 400, json={'nvram': 5})
        self.call('POST', path, 400, json={'bytes': SECOND})
        self.call('POST', path, 400, data=b'{')
        self.call('DELETE', path, 405)
        self.call('POST', 'nvram/' + '0' * 8 + '-0000-0000-0000-' + '0' * 12,
                  404, json={})
        self.call('POST', 'nvram/not-a-uuid', 404, json={})
        self.assertEqual(FIRST, self.read_nvram(lpar_w.uuid))

    def test_vios_has_no_guest_nvram_to_write(self):
        vios = self.sim.model.vioses()[0]
        self.call('POST', 'nvram/' + vios.uuid, 404, json={})
