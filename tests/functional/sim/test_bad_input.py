"""Bad requests sent through pypowervm, and the error answers pypowervm
recovers from.

Every refusal is checked three ways: the HTTP status, the message of the
HttpErrorResponse as pypowervm parses it, and a model that is exactly as it
was (every object rendered before and after, etags included).
"""

import io
import os
import re

import fixtures
from lxml import etree
from pypowervm import adapter as pvm_adpt
from pypowervm import const as pvm_const
from pypowervm import entities
from pypowervm import exceptions as pvm_exc
from pypowervm.helpers import vios_busy
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import power
from pypowervm.utils import lpar_builder
from pypowervm.wrappers import event as pvm_event
from pypowervm.wrappers import job as pvm_job
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import network as pvm_net
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import faults
from powervm_sim import fixture
from powervm_sim import jobs
from powervm_sim import resources
from powervm_sim.model import partition as part_mod
from powervm_sim.wire import spec

UOM_NS = pvm_const.UOM_NS
SECRET = 'the-contents-of-a-local-file-0x5EC12E7'
# Elements that report the time of the read, not the model's state.
CLOCKS = re.compile(r'<(SystemTime)\b[^>]*>[^<]*</\1>')


class RawBody:
    """A request body pypowervm sends as it is (what a broken or hostile
    client could send)."""

    def __init__(self, data):
        self.data = data

    def toxmlstring(self, pretty=False):
        return self.data


def model_snapshot(model):
    """Every served object rendered, with its etag, plus the object count
    and the File records of uploads.
    """
    with model.registry.lock:
        rendered = {}
        for rtype in resources.TYPES.values():
            for obj in model.registry.of_kind(rtype.name):
                xml = spec.Renderer('').object(rtype.schema, obj)
                rendered[obj.uuid] = (obj.etag, CLOCKS.sub('', xml))
        return len(model.registry), rendered, model.file_registry.list()


class BadInputTestBase(testtools.TestCase):
    strict_order = True
    systems = 1
    novalink_io = False

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture(
            systems=self.systems, strict_order=self.strict_order,
            novalink_io=self.novalink_io))
        self.model = self.sim.model
        self.adapter = self.sim.adapter()
        self.host = pvm_ms.System.get(self.adapter)[0]

    def build_lpar(self, name='bad input', mem=1024, max_mem=2048):
        attrs = {lpar_builder.NAME: name, lpar_builder.MEM: mem,
                 lpar_builder.MAX_MEM: max_mem, lpar_builder.VCPU: 1,
                 lpar_builder.PROC_UNITS: '0.1'}
        stdz = lpar_builder.DefaultStandardize(self.host)
        return lpar_builder.LPARBuilder(self.adapter, attrs, stdz).build()

    def create_raw_lpar(self, data):
        return self.adapter.create(RawBody(data), pvm_ms.System.schema_type,
                                   self.host.uuid,
                                   pvm_lpar.LPAR.schema_type)

    def lpar_xml(self, **kwargs):
        return self.build_lpar(**kwargs).toxmlstring()

    def assertRefused(self, status, message, func, *args, **kwargs):
        """func must fail with status and message, changing nothing."""
        exc = self.assertClientError(func, *args, **kwargs)
        self.assertEqual(status, exc.response.status)
        self.assertIn(message, exc.her_wrap.message)
        return exc

    def assertClientError(self, func, *args, **kwargs):
        """func must fail with a 4xx HttpErrorResponse, changing nothing.
        """
        before = model_snapshot(self.model)
        exc = self.assertRaises(pvm_exc.HttpError, func, *args, **kwargs)
        self.assertIsNotNone(exc.her_wrap, exc.response.body)
        self.assertEqual(exc.response.status, exc.her_wrap.status)
        self.assertTrue(400 <= exc.response.status < 500,
                        '%d %s' % (exc.response.status, exc.her_wrap.message))
        self.assertEqual(before, model_snapshot(self.model))
        return exc

    def assertJobFails(self, message, job_w, uuid, job_parms=None):
        before = model_snapshot(self.model)
        exc = self.assertRaises(pvm_exc.JobRequestFailed, job_w.run_job,
                                uuid, job_parms=job_parms)
        self.assertIn(message, str(exc))
        self.assertEqual(before, model_snapshot(self.model))

    def job_template(self, rtype, uuid, operation):
        return pvm_job.Job.wrap(self.adapter.read(
            rtype, uuid, suffix_type=pvm_const.SUFFIX_TYPE_DO,
            suffix_parm=operation))


class TestSnapshotHelper(BadInputTestBase):

    def test_snapshot_sees_a_change(self):
        before = model_snapshot(self.model)
        self.assertEqual(before, model_snapshot(self.model))
        self.build_lpar().create(parent=self.host)
        self.assertNotEqual(before, model_snapshot(self.model))


class TestMalformedBodies(BadInputTestBase):

    def test_malformed_xml(self):
        self.assertRefused(
            400, 'not well-formed', self.create_raw_lpar,
            b'<uom:LogicalPartition xmlns:uom="%s"><PartitionName>x'
            b'</PartitionNam></uom:LogicalPartition>' % UOM_NS.encode())

    def test_malformed_update(self):
        lpar_w = self.build_lpar().create(parent=self.host)
        self.assertRefused(400, 'not well-formed',
                           self.adapter.update_by_path, b'<half',
                           lpar_w.etag, lpar_w.href)

    def test_empty_body(self):
        self.assertRefused(400, 'no body', self.create_raw_lpar, b'')

    def test_wrong_namespace(self):
        data = self.lpar_xml().replace(UOM_NS.encode(),
                                       b'http://example.com/not-uom/')
        self.assertRefused(400, 'namespace', self.create_raw_lpar, data)

    def test_wrong_root_element(self):
        vios_w = pvm_vios.VIOS.get(self.adapter, xag=[])[0]
        lpar_w = self.build_lpar().create(parent=self.host)
        self.assertRefused(400, 'expected a LogicalPartition body',
                           self.adapter.update_by_path, vios_w.toxmlstring(),
                           lpar_w.etag, lpar_w.href)

    def test_value_of_the_wrong_type(self):
        root = etree.fromstring(self.lpar_xml())
        desired = root.find('.//{%s}DesiredMemory' % UOM_NS)
        desired.text = 'lots'
        self.assertRefused(400, 'is not a valid int', self.create_raw_lpar,
                           etree.tostring(root))

    def test_out_of_order_elements(self):
        self.assertRefused(400, 'must come before', self.create_raw_lpar,
                           name_moved_first(self.lpar_xml(name='early')))

    def test_body_over_the_size_limit(self):
        self.sim.simulator.max_body = 1024
        data = self.lpar_xml()
        self.assertGreater(len(data), 1024)
        self.assertRefused(413, 'larger than 1024 bytes',
                           self.create_raw_lpar, data)

    def test_chunked_body_over_the_size_limit(self):
        # Without a Content-Length the limit is found while reading.
        lpar_w = self.build_lpar().create(parent=self.host)
        self.sim.simulator.max_body = 1024
        chunks = iter([lpar_w.toxmlstring()] * 4)
        self.assertRefused(413, 'larger than 1024 bytes',
                           self.adapter.update_by_path, chunks, lpar_w.etag,
                           lpar_w.href)


def name_moved_first(data):
    """The LPAR body with PartitionName moved ahead of its predecessors."""
    root = etree.fromstring(data)
    name = root.find('{%s}PartitionName' % UOM_NS)
    root.remove(name)
    # Index 0 is Metadata.
    root.insert(1, name)
    return etree.tostring(root)


class TestLenientOrder(BadInputTestBase):
    strict_order = False

    def test_out_of_order_elements_accepted(self):
        resp = self.create_raw_lpar(name_moved_first(
            self.lpar_xml(name='early')))
        lpar_w = pvm_lpar.LPAR.wrap(resp)
        self.assertEqual('early', lpar_w.name)
        self.assertEqual('early', self.model.get(lpar_w.uuid).name)


class TestEntities(BadInputTestBase):
    """DTDs are refused outright: no entity is ever expanded."""

    def setUp(self):
        super().setUp()
        secret_dir = self.useFixture(fixtures.TempDir()).path
        self.secret_path = os.path.join(secret_dir, 'secret.txt')
        with open(self.secret_path, 'w') as secret:
            secret.write(SECRET)

    def with_entity(self, declaration, reference):
        body = self.lpar_xml(name='PLACEHOLDER').decode()
        body = body.replace('PLACEHOLDER', reference)
        root_tag = body.split(None, 1)[0][1:]
        return '<!DOCTYPE %s [%s]>%s' % (root_tag, declaration, body)

    def assertNoSecret(self, exc):
        self.assertNotIn(SECRET, exc.response.body)
        for _, xml in model_snapshot(self.model)[1].values():
            self.assertNotIn(SECRET, xml)

    def test_external_entity(self):
        data = self.with_entity(
            '<!ENTITY xxe SYSTEM "file://%s">' % self.secret_path, '&xxe;')
        exc = self.assertRefused(400, 'entity declarations are not accepted',
                                 self.create_raw_lpar, data.encode())
        self.assertNoSecret(exc)

    def test_external_entity_in_utf16(self):
        # The declaration is not ASCII bytes here; it is refused all the
        # same.
        data = self.with_entity(
            '<!ENTITY xxe SYSTEM "file://%s">' % self.secret_path, 'a&xxe;')
        data = '<?xml version="1.0" encoding="UTF-16"?>' + data
        exc = self.assertRefused(400, 'entity declarations are not accepted',
                                 self.create_raw_lpar, data.encode('utf-16'))
        self.assertNoSecret(exc)

    def test_entity_expansion_bomb(self):
        levels = ['<!ENTITY e0 "laugh">'] + [
            '<!ENTITY e%d "%s">' % (i, '&e%d;' % (i - 1) * 10)
            for i in range(1, 10)]
        data = self.with_entity(''.join(levels), '&e9;')
        self.assertRefused(400, 'entity declarations are not accepted',
                           self.create_raw_lpar, data.encode())


class TestRouting(BadInputTestBase):

    def test_unknown_resource_type(self):
        self.assertRefused(404, 'Unknown resource type NoSuchThing',
                           self.adapter.read, 'NoSuchThing')

    def test_unknown_child_type(self):
        self.assertRefused(404, 'Unknown resource type NoSuchChild',
                           self.adapter.read, pvm_ms.System.schema_type,
                           self.host.uuid, 'NoSuchChild')

    def test_child_type_under_the_wrong_parent(self):
        self.assertRefused(404, 'ManagedSystem has no VolumeGroup children',
                           self.adapter.read, pvm_ms.System.schema_type,
                           self.host.uuid, 'VolumeGroup')

    def test_unknown_uuid(self):
        self.assertRefused(404, 'not found', self.adapter.read,
                           pvm_lpar.LPAR.schema_type,
                           '0badc0de-0000-4000-8000-000000000000')

    def test_methods_a_type_does_not_take(self):
        self.assertRefused(405, 'ManagedSystem cannot be deleted',
                           self.adapter.delete, pvm_ms.System.schema_type,
                           self.host.uuid)
        vswitch_w = pvm_net.VSwitch.get(self.adapter, parent=self.host)[0]
        self.assertRefused(405, 'VirtualSwitch cannot be updated',
                           vswitch_w.update)

    def test_search_with_a_bad_clause(self):
        self.assertRefused(400, 'is not (Key==', self.adapter.read,
                           pvm_lpar.LPAR.schema_type,
                           suffix_type='search',
                           suffix_parm='(PartitionName=nobody)')

    def test_search_by_an_unknown_key(self):
        self.assertRefused(400, 'cannot be searched by Colour',
                           self.adapter.read, pvm_lpar.LPAR.schema_type,
                           suffix_type='search',
                           suffix_parm="(Colour=='red')")

    def test_unknown_quick_property(self):
        mgmt = [p for p in self.model.lpars() if p.is_mgmt][0]
        self.assertRefused(404, 'Unknown quick property Colour',
                           self.adapter.read, pvm_lpar.LPAR.schema_type,
                           mgmt.uuid, suffix_type='quick',
                           suffix_parm='Colour')

    def test_upload_to_an_unknown_file(self):
        descriptor = entities.Element(
            'File', self.adapter, ns=pvm_const.WEB_NS, children=[
                entities.Element('FileUUID', self.adapter,
                                 ns=pvm_const.WEB_NS,
                                 text='0badf11e-0000-4000-8000-000000000000'),
                entities.Element('InternetMediaType', self.adapter,
                                 ns=pvm_const.WEB_NS,
                                 text='application/octet-stream')])
        self.assertRefused(404, 'No File', self.adapter.upload_file,
                           descriptor, io.BytesIO(b'some bytes'))


class TestPartitionRules(BadInputTestBase):

    def test_too_much_memory(self):
        self.assertRefused(400, 'HSCL1544',
                           self.build_lpar(mem=1024 * 1024,
                                           max_mem=1024 * 1024).create,
                           parent=self.host)

    def test_bad_names(self):
        for name, message in (
                ('', 'PartitionName must not be empty'),
                ('n' * 48, 'HSCL1553 The partition name')):
            lpar_w = self.build_lpar()
            lpar_w.name = name
            self.assertRefused(400, message, lpar_w.create, parent=self.host)

    def test_minimum_above_desired(self):
        lpar_w = self.build_lpar()
        lpar_w.mem_config.min = 2048
        self.assertRefused(400, 'minimum <= desired <= maximum',
                           lpar_w.create, parent=self.host)

    def test_duplicate_client_uuid(self):
        # nova picks the UUIDs of the partitions it creates.
        uuid = '1b2c3d4e-0000-4000-8000-00000000abcd'
        first = self.build_lpar()
        first.uuid = uuid
        first.create(parent=self.host)
        second = self.build_lpar(name='twin')
        second.uuid = uuid
        self.assertRefused(409, 'HSCL3A3C', second.create, parent=self.host)

    def test_update_with_a_stale_etag(self):
        lpar_w = self.build_lpar().create(parent=self.host)
        stale = pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid)
        lpar_w.name = 'first writer'
        lpar_w.update()
        stale.name = 'lost update'
        self.assertRefused(412, 'has changed', stale.update)
        self.assertEqual('first writer', self.model.get(lpar_w.uuid).name)

    def test_delete_with_a_stale_etag(self):
        lpar_w = self.build_lpar().create(parent=self.host)
        stale_etag = lpar_w.etag
        lpar_w.name = 'renamed'
        lpar_w.update()
        self.assertRefused(412, 'has changed', self.adapter.delete,
                           pvm_lpar.LPAR.schema_type, root_id=lpar_w.uuid,
                           etag=stale_etag)

    def test_refused_update_changes_nothing(self):
        lpar_w = self.build_lpar().create(parent=self.host)
        lpar_w.name = 'half applied'
        lpar_w.mem_config.desired = 4096
        self.assertRefused(400, 'minimum <= desired <= maximum',
                           lpar_w.update)
        self.assertEqual('bad input', self.model.get(lpar_w.uuid).name)

    def test_partition_type_cannot_change(self):
        lpar_w = self.build_lpar().create(parent=self.host)
        lpar_w.set_parm_value('PartitionType', 'OS400')
        self.assertRefused(400, 'HSCL1557', lpar_w.update)

    def running_lpar_without_rmc(self):
        lpar_w = self.build_lpar().create(parent=self.host)
        power.power_on(lpar_w, None)
        part = self.model.get(lpar_w.uuid)
        self.model.set_partition_state(part, part_mod.RUNNING, 'inactive')
        return pvm_lpar.LPAR.get(self.adapter, uuid=lpar_w.uuid)

    def test_resize_running_lpar_without_rmc(self):
        lpar_w = self.running_lpar_without_rmc()
        lpar_w.mem_config.desired = 2048
        self.assertRefused(409, 'HSCL2926', lpar_w.update)
        self.assertEqual(1024, self.model.get(lpar_w.uuid).mem_desired)

    def test_delete_running_lpar(self):
        lpar_w = self.running_lpar_without_rmc()
        self.assertRefused(409, 'HSCL1548', self.adapter.delete,
                           pvm_lpar.LPAR.schema_type, root_id=lpar_w.uuid)


class TestAdapterRules(BadInputTestBase):

    def setUp(self):
        super().setUp()
        self.lpar_w = self.build_lpar().create(parent=self.host)

    def test_vlan_out_of_range_on_create(self):
        self.assertRefused(400, 'HSCL1A05', pvm_cna.crt_cna, self.adapter,
                           None, self.lpar_w.uuid, 4095)

    def test_slot_in_use(self):
        pvm_cna.crt_cna(self.adapter, None, self.lpar_w.uuid, 5, slot_num=7)
        self.assertRefused(400, 'HSCL294C', pvm_cna.crt_cna, self.adapter,
                           None, self.lpar_w.uuid, 6, slot_num=7)

    def test_vlan_out_of_range_on_update(self):
        cna_w = pvm_cna.crt_cna(self.adapter, None, self.lpar_w.uuid, 5)
        cna_w.pvid = 4095
        self.assertRefused(400, 'HSCL1A05', cna_w.update)

    def test_unknown_vswitch_on_update(self):
        cna_w = pvm_cna.crt_cna(self.adapter, None, self.lpar_w.uuid, 5)
        cna_w.pvid = 6
        cna_w.vswitch_uri = cna_w.vswitch_uri.rsplit('/', 1)[0] + (
            '/0badc0de-0000-4000-8000-000000000000')
        self.assertRefused(400, 'HSCL1A02', cna_w.update)


class TestJobInput(BadInputTestBase):

    def setUp(self):
        super().setUp()
        self.lpar_w = self.build_lpar().create(parent=self.host)

    def test_invalid_parameter(self):
        job_w = self.job_template(pvm_lpar.LPAR.schema_type,
                                  self.lpar_w.uuid, 'PowerOff')
        self.assertJobFails(
            jobs.BAD_PARAMETER + ' Unknown power off operation', job_w,
            self.lpar_w.uuid,
            [job_w.create_job_parameter('operation', 'explode')])

    def test_missing_parameter(self):
        job_w = self.job_template(pvm_ms.System.schema_type, self.host.uuid,
                                  'GetNextWWPNs')
        self.assertJobFails(
            jobs.BAD_PARAMETER + ' The job parameter numberPairsRequested '
            'is required', job_w, self.host.uuid)

    def test_parameter_of_the_wrong_type(self):
        job_w = self.job_template(pvm_ms.System.schema_type, self.host.uuid,
                                  'GetNextWWPNs')
        self.assertJobFails(
            'must be a whole number', job_w, self.host.uuid,
            [job_w.create_job_parameter('numberPairsRequested', 'many')])

    def test_unknown_job_name(self):
        job_w = self.job_template(pvm_lpar.LPAR.schema_type,
                                  self.lpar_w.uuid, 'PowerOn')
        job_w.entry.element.find(
            'RequestedOperation/OperationName').text = 'Explode'
        self.assertRefused(404, 'Unknown job operation Explode',
                           self.adapter.create_job, job_w.entry.element,
                           pvm_lpar.LPAR.schema_type, self.lpar_w.uuid)

    def test_job_request_sent_to_another_operation(self):
        job_w = self.job_template(pvm_lpar.LPAR.schema_type,
                                  self.lpar_w.uuid, 'PowerOn')
        self.assertRefused(400, 'is for LogicalPartition/PowerOn',
                           self.adapter.create, job_w.entry.element,
                           pvm_lpar.LPAR.schema_type, self.lpar_w.uuid,
                           suffix_type=pvm_const.SUFFIX_TYPE_DO,
                           suffix_parm='PowerOff', content_service='web')


class TestEventInput(BadInputTestBase):

    def test_malformed_custom_events_are_not_published(self):
        appid = 'bad-input-listener'
        pvm_event.Event.get(self.adapter, appid)   # NEW_CLIENT
        self.assertRefused(400, 'not well-formed', self.adapter.create,
                           RawBody(b'<Event'), pvm_event.Event.schema_type)
        self.assertRefused(400, 'Expected an Event', self.adapter.create,
                           RawBody(self.lpar_xml()),
                           pvm_event.Event.schema_type)
        pvm_event.Event.bld(self.adapter, 'marker', None).create()
        self.assertEqual(
            [(pvm_event.EventType.CUSTOM_CLIENT_EVENT, 'marker')],
            [(e.etype, e.data) for e in pvm_event.Event.get(self.adapter,
                                                            appid)])


class TestClientRecovery(BadInputTestBase):
    """Error answers pypowervm's helpers and re-login recover from."""

    def setUp(self):
        super().setUp()
        self.sleeps = []
        self.useFixture(fixtures.MonkeyPatch(
            'pypowervm.helpers.vios_busy.SLEEP', self.sleeps.append))
        self.busy_adapter = pvm_adpt.Adapter(
            self.sim.session(),
            helpers=[vios_busy.vios_busy_retry_helper])

    def arm(self, outcome, count, method='GET',
            resource_type='VirtualIOServer'):
        return self.sim.faults.add(faults.FaultRule(
            outcome=outcome, method=method, resource_type=resource_type,
            max_count=count))

    def fired(self, rule_id):
        return self.sim.faults.counters()['by_rule'][rule_id]

    def test_vios_busy_is_retried_until_it_clears(self):
        rule = self.arm(faults.vios_busy(), 2)
        vioses = pvm_vios.VIOS.get(self.busy_adapter, xag=[])
        self.assertEqual(2, len(vioses))
        self.assertEqual(2, self.fired(rule))
        self.assertEqual([5, 10], self.sleeps)

    def test_vios_busy_beyond_the_retries_raises(self):
        rule = self.arm(faults.vios_busy(), 4)
        exc = self.assertRaises(pvm_exc.HttpError, pvm_vios.VIOS.get,
                                self.busy_adapter, xag=[])
        self.assertEqual(503, exc.response.status)
        self.assertIn('HSCL3205', exc.her_wrap.message)
        self.assertTrue(exc.her_wrap.is_vios_busy())
        self.assertEqual(4, self.fired(rule))
        self.assertEqual([5, 10, 15], self.sleeps)

    def test_busy_code_is_retried_whatever_the_status(self):
        rule = self.arm(faults.HttpFault(
            500, 'HSCL3205 The VIOS is busy.'), 1)
        pvm_vios.VIOS.get(self.busy_adapter, xag=[])
        self.assertEqual(1, self.fired(rule))
        self.assertEqual([5], self.sleeps)

    def test_internal_error_is_not_retried(self):
        rule = self.arm(faults.internal_error(), 1)
        exc = self.assertRaises(pvm_exc.HttpError, pvm_vios.VIOS.get,
                                self.busy_adapter, xag=[])
        self.assertEqual(500, exc.her_wrap.status)
        self.assertFalse(exc.her_wrap.is_vios_busy())
        self.assertEqual(1, self.fired(rule))
        self.assertEqual([], self.sleeps)

    def test_busy_write_lands_once(self):
        lpar_w = pvm_lpar.LPAR.wrap(self.busy_adapter.create(
            self.build_lpar().element, pvm_ms.System.schema_type,
            self.host.uuid, pvm_lpar.LPAR.schema_type))
        rule = self.arm(faults.vios_busy(), 1, method='POST',
                        resource_type='LogicalPartition')
        lpar_w.name = 'after busy'
        resp = self.busy_adapter.update_by_path(lpar_w, lpar_w.etag,
                                                lpar_w.href)
        self.assertEqual('after busy', pvm_lpar.LPAR.wrap(resp).name)
        self.assertEqual('after busy', self.model.get(lpar_w.uuid).name)
        self.assertEqual(1, self.fired(rule))

    def test_unauthorised_write_is_resent_after_relogin(self):
        lpar_w = self.build_lpar().create(parent=self.host)
        rule = self.arm(faults.HttpFault(401, 'The session has expired.'),
                        1, method='POST', resource_type='LogicalPartition')
        lpar_w.name = 'after relogin'
        lpar_w = lpar_w.update()
        self.assertEqual('after relogin', self.model.get(lpar_w.uuid).name)
        self.assertEqual(1, self.fired(rule))

    def test_401_after_relogin_is_not_retried_again(self):
        rule = self.arm(faults.HttpFault(401, 'Still not authorised.'), 5)
        exc = self.assertRaises(pvm_exc.Error, pvm_vios.VIOS.get,
                                self.adapter, xag=[])
        self.assertIn('suspicious HTTP 401', str(exc))
        self.assertEqual(2, self.fired(rule))

    def test_rule_that_fires_on_a_logon_fails_it(self):
        rule = self.sim.faults.add(faults.FaultRule(
            outcome=faults.HttpFault(503, 'Logons are paused.'),
            max_count=1))
        exc = self.assertRaises(pvm_exc.HttpError, self.sim.session)
        self.assertEqual(503, exc.response.status)
        self.assertEqual(1, self.fired(rule))
        # Spent: the next logon and request go through.
        pvm_vios.VIOS.get(self.sim.adapter(), xag=[])
