"""The SAN behind the VIOSes, through unmodified pypowervm: FC LUNs found
by LUARecovery become hdisks, are mapped over vSCSI and removed again."""

import fixtures
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import hdisk
from pypowervm.tasks import power
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm.tasks import vfc_mapper
from pypowervm import util as pvm_util
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios

from powervm_sim import fixture
from powervm_sim import state
from tests.functional.sim import test_bad_input

SMAP = pvm_const.XAG.VIO_SMAP
FMAP = pvm_const.XAG.VIO_FMAP
STOR = pvm_const.XAG.VIO_STOR
Status = hdisk.LUAStatus
_PORT_PVS = pvm_util.xpath('PhysicalVolumes', pvm_stg.PV.schema_type)


def port_disks(vios_w):
    """{port name: [hdisk names under the port]} of a VIOS read with its
    storage."""
    return {port.name: [pvm_stg.PV.wrap(element).name
                        for element in port.element.findall(_PORT_PVS)]
            for port in vios_w.pfc_ports}


class SanTestBase(test_bad_input.BadInputTestBase):

    def setUp(self):
        super().setUp()
        self.vios1, self.vios2 = self.model.vioses(self.model.systems[0])
        self.lun = self.sim.fc_lun(size_gb=4)
        self.target = self.lun.target

    def itls(self, vios, lun=None, ports=None):
        """The ITLs a volume adapter builds for ``vios``: its port WWPNs
        that are keys of the initiator-target map, times the targets."""
        lun = lun or self.lun
        itmap = lun.initiator_target_map
        initiators = [p.wwpn for p in (ports or vios.fc_ports)
                      if p.wwpn in itmap]
        return hdisk.build_itls(initiators, lun.target.wwpns, lun.lun_id)

    def discover(self, vios, lun=None, adapter=None, **kwargs):
        return hdisk.discover_hdisk(adapter or self.adapter, vios.uuid,
                                    self.itls(vios, lun), **kwargs)

    def read_vios(self, vios, adapter=None):
        return pvm_vios.VIOS.get(adapter or self.adapter, uuid=vios.uuid,
                                 xag=[SMAP, STOR])

    def client(self):
        lpar_w = self.build_lpar('san client')
        return lpar_w.create(parent=self.host)

    def run_raw(self, vios, operation, **params):
        job_w = self.job_template(pvm_vios.VIOS.schema_type, vios.uuid,
                                  operation)
        parms = [job_w.create_job_parameter(k, v, cdata=k == 'inputXML')
                 for k, v in params.items()]
        return job_w, parms


class TestDiscovery(SanTestBase):

    def test_a_zoned_lun_becomes_an_hdisk_on_each_vios(self):
        udids = set()
        for vios in (self.vios1, self.vios2):
            status, name, udid = self.discover(vios)
            self.assertEqual(Status.DEVICE_AVAILABLE, status)
            self.assertTrue(hdisk.good_discovery(status, name))
            vios_w = self.read_vios(vios)
            [pv_w] = [p for p in vios_w.phys_vols if p.name == name]
            self.assertEqual(udid, pv_w.udid)
            self.assertEqual(name, vios_w.hdisk_from_uuid(udid))
            self.assertEqual(4096, pv_w.capacity)
            self.assertTrue(pv_w.is_fc_backed)
            self.assertEqual(self.lun.naa, pv_w.pg83)
            self.assertEqual('NoReserve',
                             vios_w.hdisk_reserve_policy(self.lun.naa))
            self.assertIn('-W%s-L1000000000000' %
                          self.target.wwpns[0].upper(), pv_w.loc_code)
            disks = port_disks(vios_w)
            self.assertIn(name, disks['fcs0'])
            self.assertIn(name, disks['fcs1'])
            udids.add(udid)
        self.assertEqual({self.lun.udid}, udids)

    def test_the_same_lun_keeps_its_hdisk(self):
        first = self.discover(self.vios1)
        self.assertEqual(first, self.discover(self.vios1))

    def test_two_luns_two_hdisks(self):
        other = self.sim.fc_lun(size_gb=1)
        _s, first, _u = self.discover(self.vios1)
        _s, second, _u = self.discover(self.vios1, other)
        self.assertNotEqual(first, second)

    def test_found_through_one_port_of_two(self):
        self.model.san.unmask(self.lun, self.vios1.fc_ports[1].wwpn)
        status, name, _udid = hdisk.discover_hdisk(
            self.adapter, self.vios1.uuid, hdisk.build_itls(
                [p.wwpn for p in self.vios1.fc_ports], self.target.wwpns,
                self.lun.lun_id))
        self.assertEqual(Status.FOUND_ITL_ERR, status)
        disks = port_disks(self.read_vios(self.vios1))
        self.assertIn(name, disks['fcs0'])
        self.assertNotIn(name, disks['fcs1'])

    def test_the_fresh_san_disks_sit_under_their_port(self):
        disks = port_disks(self.read_vios(self.vios1))
        self.assertEqual({'fcs0': ['hdisk3', 'hdisk4', 'hdisk5'],
                          'fcs1': []}, disks)

    def test_a_port_of_another_vios_finds_nothing(self):
        before = test_bad_input.model_snapshot(self.model)
        status, name, udid = hdisk.discover_hdisk(
            self.adapter, self.vios1.uuid, self.itls(self.vios2))
        self.assertEqual((Status.INCORRECT_ITL, None, None),
                         (status, name, udid))
        self.assertEqual(before, test_bad_input.model_snapshot(self.model))

    def test_an_unzoned_or_unmasked_lun_is_not_found(self):
        unzoned = self.model.san.add_lun(self.target, 1)
        found = hdisk.lua_recovery(
            self.adapter, self.vios1.uuid, hdisk.build_itls(
                [p.wwpn for p in self.vios1.fc_ports], self.target.wwpns,
                unzoned.lun_id))
        self.assertEqual((Status.INCORRECT_ITL, None, None), found)

    def test_a_vanished_lun_or_a_dead_target_is_not_found(self):
        self.model.san.set_exported(self.lun, False)
        self.assertEqual(Status.INCORRECT_ITL, self.discover(self.vios1)[0])
        self.model.san.set_exported(self.lun, True)
        self.model.san.set_refuses_logins(self.target, True)
        self.assertEqual(Status.INCORRECT_ITL, self.discover(self.vios1)[0])
        self.model.san.set_refuses_logins(self.target, False)
        self.assertEqual(Status.DEVICE_AVAILABLE,
                         self.discover(self.vios1)[0])

    def test_rediscovery_sees_a_grown_lun(self):
        _s, name, _u = self.discover(self.vios1)
        self.model.san.grow(self.lun, 10)
        self.discover(self.vios1)
        [pv_w] = [p for p in self.read_vios(self.vios1).phys_vols
                  if p.name == name]
        self.assertEqual(10240, pv_w.capacity)

    def test_vendor_and_page83_filters(self):
        self.assertEqual(Status.STORAGE_NOT_INTEREST, self.discover(
            self.vios1, vendor=hdisk.LUAType.EMC)[0])
        self.assertEqual(Status.LUA_NOT_INTEREST, self.discover(
            self.vios1, device_id='bm90IGl0')[0])
        self.assertEqual(Status.DEVICE_AVAILABLE, self.discover(
            self.vios1, vendor=hdisk.LUAType.IBM,
            device_id=self.lun.page83)[0])

    def test_page83_by_inventory_query(self):
        _s, _name, udid = self.discover(self.vios1)
        self.assertEqual(self.lun.page83, hdisk.get_pg83_via_job(
            self.adapter, self.vios1.uuid, udid))
        self.assertIsNone(hdisk.get_pg83_via_job(
            self.adapter, self.vios1.uuid, '01bm8gc3VjaCBkaXNr'))


class TestTwoSystems(SanTestBase):

    systems = 2

    def test_both_hosts_see_the_same_lun(self):
        other_system = self.model.systems[1]
        far_vios = self.model.vioses(other_system)[0]
        self.assertIn(far_vios.fc_ports[0].wwpn,
                      self.lun.initiator_target_map)
        near = self.discover(self.vios1)
        far = self.discover(far_vios, adapter=self.sim.adapter(1))
        self.assertEqual(Status.DEVICE_AVAILABLE, far[0])
        self.assertEqual(near[2], far[2])


class TestMappingAndRemoval(SanTestBase):

    def test_map_refuse_removal_unmap_remove(self):
        status, name, udid = self.discover(self.vios1)
        lpar_w = self.client()
        scsi_mapper.add_vscsi_mapping(
            None, self.vios1.uuid, lpar_w.uuid,
            pvm_stg.PV.bld(self.adapter, name, udid=udid, tag='vol-1'))
        vios_w = self.read_vios(self.vios1)
        [smap] = scsi_mapper.find_maps(vios_w.scsi_mappings,
                                       client_lpar_id=lpar_w.id)
        self.assertEqual((name, udid), (smap.backing_storage.name,
                                        smap.backing_storage.udid))
        # Found again while mapped: in use, and still a good discovery.
        self.assertEqual((Status.DEVICE_IN_USE, name, udid),
                         self.discover(self.vios1))
        self.assertRemoveFails('0514-062', name)
        scsi_mapper.remove_maps(vios_w, lpar_w.id, match_func=(
            scsi_mapper.gen_match_func(pvm_stg.PV, names=[name])))
        vios_w.update()
        hdisk.remove_hdisk(self.adapter, None, name, self.vios1.uuid)
        vios_w = self.read_vios(self.vios1)
        self.assertIsNone(vios_w.hdisk_from_uuid(udid))
        self.assertNotIn(name, sum(port_disks(vios_w).values(), []))

    def test_removing_an_unknown_device_fails(self):
        self.assertRemoveFails('0514-519', 'hdisk99')

    def assertRemoveFails(self, message, name):
        job_w, parms = self.run_raw(self.vios1, 'RemoveDevice',
                                    devName=name)
        self.assertJobFails(message, job_w, self.vios1.uuid, parms)


class TestBadLuaInput(SanTestBase):

    def assertLuaRefused(self, message, xml):
        job_w, parms = self.run_raw(self.vios1, 'LUARecovery', inputXML=xml)
        self.assertJobFails(message, job_w, self.vios1.uuid, parms)

    def test_not_xml(self):
        self.assertLuaRefused('inputXML', '<XML_LIST><general>')

    def test_wrong_root(self):
        self.assertLuaRefused('XML_LIST', '<LIST/>')

    def test_no_device(self):
        self.assertLuaRefused('device', '<XML_LIST><deviceList/></XML_LIST>')

    def test_bad_itls(self):
        for itl in ('<itl><Iwwpn>zz</Iwwpn><Twwpn>500507680b215660</Twwpn>'
                    '<lua>1000000000000</lua></itl>',
                    '<itl><Twwpn>500507680b215660</Twwpn>'
                    '<lua>1000000000000</lua></itl>',
                    '<itl><Iwwpn>10000090fa000001</Iwwpn>'
                    '<Twwpn>500507680b215660</Twwpn><lua>xyz</lua></itl>'):
            self.assertLuaRefused('ITL', (
                '<XML_LIST><reliableITL>false</reliableITL><deviceList>'
                '<device><vendor>OTHER</vendor><deviceTag>1</deviceTag>'
                '<itlList><number>1</number>%s</itlList></device>'
                '</deviceList></XML_LIST>' % itl))

    def test_the_itl_count_must_match(self):
        self.assertLuaRefused('number', (
            '<XML_LIST><deviceList><device><vendor>OTHER</vendor>'
            '<deviceTag>1</deviceTag><itlList><number>2</number><itl>'
            '<Iwwpn>10000090fa000001</Iwwpn><Twwpn>500507680b215660</Twwpn>'
            '<lua>1000000000000</lua></itl></itlList></device></deviceList>'
            '</XML_LIST>'))

    def test_unreliable_itls(self):
        everywhere = self.itls(self.vios1)
        self.model.san.unmask(self.lun, self.vios1.fc_ports[1].wwpn)
        itls = ''.join(
            '<itl><Iwwpn>%s</Iwwpn><Twwpn>%s</Twwpn><lua>%s</lua></itl>' % (
                itl.initiator, itl.target, itl.lun) for itl in everywhere)
        job_w, parms = self.run_raw(self.vios1, 'LUARecovery', inputXML=(
            '<XML_LIST><reliableITL>true</reliableITL><deviceList><device>'
            '<vendor>OTHER</vendor><deviceTag>7</deviceTag><itlList>'
            '<number>%d</number>%s</itlList></device></deviceList>'
            '</XML_LIST>' % (len(everywhere), itls)))
        job_w.run_job(self.vios1.uuid, job_parms=parms)
        output = job_w.get_job_results_as_dict()['OutputXML']
        self.assertIn('<deviceTag>7</deviceTag>', output)
        self.assertIn('<status>2</status>', output)
        self.assertNotIn('pvName', output)



class TestSanSurvivesARestart(SanTestBase):

    def test_volumes_zoning_and_hdisks_are_saved(self):
        _status, name, udid = self.discover(self.vios1)
        self.model.san.unzone(self.vios2.fc_ports[1].wwpn, self.target)
        path = self.useFixture(fixtures.TempDir()).path + '/state.json'
        state.save(self.model, path)
        later = self.useFixture(fixture.NovaLinkFixture(
            model=state.load(path)))
        self.assertEqual(self.model.san.describe(),
                         later.model.san.describe())
        lun = later.model.san.find_lun(self.lun.naa)
        self.assertEqual(self.lun.initiator_target_map,
                         lun.initiator_target_map)
        vios1 = later.model.get(self.vios1.uuid)
        self.assertEqual((Status.DEVICE_AVAILABLE, name, udid),
                         hdisk.discover_hdisk(later.adapter(), vios1.uuid,
                                              self.itls(vios1, lun)))
        self.assertIn(name, port_disks(self.read_vios(
            vios1, later.adapter()))['fcs1'])
        # New volumes do not take the identities of saved ones.
        self.assertNotEqual(lun.naa, later.fc_lun().naa)


class IscsiTestBase(SanTestBase):
    portals = ['192.0.2.10:3260', '192.0.2.11:3260']
    iqn = 'iqn.2016-06.world.srv:target00'

    def setUp(self):
        super().setUp()
        self.array = self.model.san.add_iscsi_target(
            self.iqn, self.portals, chap_user='nova', chap_secret='s3cret')
        self.volume = self.model.san.add_lun(self.array, 3, initiators=[
            v.iscsi_initiator for v in self.model.vioses()])

    def login(self, vios=None, password='s3cret', **kwargs):
        kwargs.setdefault('lunid', self.volume.lun_id)
        kwargs.setdefault('auth', 'CHAP')
        return hdisk.discover_iscsi(
            self.adapter, kwargs.pop('host_ip', self.portals[0]),
            kwargs.pop('user', 'nova'), password, kwargs.pop('iqn', self.iqn),
            (vios or self.vios1).uuid, **kwargs)

    def assertLoginFails(self, status, **kwargs):
        before = test_bad_input.model_snapshot(self.model)
        exc = self.assertRaises(pvm_exc.ISCSIDiscoveryFailed, self.login,
                                **kwargs)
        self.assertIn('Return code: %s' % status, str(exc))
        self.assertEqual(before, test_bad_input.model_snapshot(self.model))


class TestIscsi(IscsiTestBase):

    def test_login_makes_an_hdisk_the_vios_maps(self):
        name, udid = self.login()
        self.assertEqual(self.volume.udid, udid)
        vios_w = self.read_vios(self.vios1)
        [pv_w] = [p for p in vios_w.phys_vols if p.name == name]
        self.assertEqual(udid, pv_w.udid)
        self.assertEqual(3072, pv_w.capacity)
        self.assertFalse(pv_w.is_fc_backed)
        self.assertNotIn(name, sum(port_disks(vios_w).values(), []))
        lpar_w = self.client()
        scsi_mapper.add_vscsi_mapping(
            None, self.vios1.uuid, lpar_w.uuid,
            pvm_stg.PV.bld(self.adapter, name, udid=udid, tag='vol-2'))
        [smap] = scsi_mapper.find_maps(self.read_vios(self.vios1)
                                       .scsi_mappings,
                                       client_lpar_id=lpar_w.id)
        self.assertEqual(udid, smap.backing_storage.udid)

    def test_a_second_login_finds_the_session_and_the_same_disk(self):
        first = self.login()
        self.assertEqual([[self.iqn, self.portals[0]]],
                         self.vios1.iscsi_sessions)
        self.assertEqual(first, self.login())
        self.assertEqual(1, len(self.vios1.iscsi_sessions))

    def test_each_vios_has_its_own_hdisk(self):
        name1, udid1 = self.login(self.vios1)
        name2, udid2 = self.login(self.vios2)
        self.assertEqual(udid1, udid2)
        self.assertIn(name2, [p.name for p in self.vios2.physical_volumes])

    def test_multipath_lists_reach_one_disk(self):
        name, udid = self.login(host_ip=self.portals, iqn=[self.iqn] * 2,
                                lunid=[self.volume.lun_id] * 2,
                                multipath=True)
        self.assertEqual(2, len(self.vios1.iscsi_sessions))
        self.assertEqual(1, sum(1 for p in self.vios1.physical_volumes
                                if p.udid == udid))

    def test_wrong_or_missing_chap(self):
        self.assertLoginFails('24', password='wrong')
        self.assertLoginFails('24', auth=None, user=None, password=None)

    def test_unknown_target_portal_or_lun(self):
        self.assertLoginFails('21', iqn='iqn.2016-06.world.srv:nothing')
        self.assertLoginFails('8', host_ip='192.0.2.99:3260')
        self.assertLoginFails('21', lunid=9)

    def test_broken_or_hidden(self):
        self.model.san.set_refuses_logins(self.array, True)
        self.assertLoginFails('5')
        self.model.san.set_refuses_logins(self.array, False)
        self.model.san.unmask(self.volume, self.vios1.iscsi_initiator)
        self.assertLoginFails('21')

    def test_remove_logs_out_once_the_disk_is_free(self):
        name, udid = self.login()
        lpar_w = self.client()
        scsi_mapper.add_vscsi_mapping(None, self.vios1.uuid, lpar_w.uuid,
                                      pvm_stg.PV.bld(self.adapter, name,
                                                     udid=udid))
        before = test_bad_input.model_snapshot(self.model)
        self.assertRaises(pvm_exc.JobRequestFailed, hdisk.remove_iscsi,
                          self.adapter, self.iqn, self.vios1.uuid)
        self.assertEqual(before, test_bad_input.model_snapshot(self.model))
        scsi_mapper.remove_pv_mapping(self.adapter, self.vios1.uuid,
                                      lpar_w.id, name)
        hdisk.remove_iscsi(self.adapter, self.iqn, self.vios1.uuid,
                           lun=self.volume.lun_id, portal=self.portals[0])
        self.assertIsNone(self.read_vios(self.vios1).hdisk_from_uuid(udid))
        self.assertEqual([], self.vios1.iscsi_sessions)
        # Nothing left to log out of: code 21, which pypowervm accepts.
        job_w, parms = self.run_raw(self.vios1, 'ISCSIRemove',
                                    targetIQN=self.iqn)
        job_w.run_job(self.vios1.uuid, job_parms=parms)
        self.assertEqual('21',
                         job_w.get_job_results_as_dict()['RETURN_CODE'])

    def test_remove_device_takes_an_iscsi_disk(self):
        name, udid = self.login()
        hdisk.remove_hdisk(self.adapter, None, name, self.vios1.uuid)
        self.assertIsNone(self.read_vios(self.vios1).hdisk_from_uuid(udid))

    def test_connection_data_logs_in(self):
        data = self.volume.connection_data()
        self.assertEqual(
            {'target_discovered': False, 'target_portal': self.portals[0],
             'target_iqn': self.iqn, 'target_lun': self.volume.lun_id,
             'target_portals': self.portals,
             'target_iqns': [self.iqn] * 2,
             'target_luns': [self.volume.lun_id] * 2,
             'auth_method': 'CHAP', 'auth_username': 'nova',
             'auth_password': 's3cret'}, data)
        name, _udid = hdisk.discover_iscsi(
            self.adapter, data['target_portal'], data['auth_username'],
            data['auth_password'], data['target_iqn'], self.vios2.uuid,
            lunid=data['target_lun'], auth=data['auth_method'])
        self.assertTrue(name.startswith('hdisk'))


class TestFixtureIscsiVolume(SanTestBase):

    def test_every_vios_logs_in_over_every_portal(self):
        lun = self.sim.iscsi_lun(size_gb=2)
        data = lun.connection_data()
        for vios in (self.vios1, self.vios2):
            _name, udid = hdisk.discover_iscsi(
                self.adapter, data['target_portals'], data['auth_username'],
                data['auth_password'], data['target_iqns'], vios.uuid,
                lunid=data['target_luns'], auth=data['auth_method'],
                multipath=True)
            self.assertEqual(lun.udid, udid)
            self.assertEqual(2, len(vios.iscsi_sessions))


class TestBadIscsiInput(IscsiTestBase):

    def assertIscsiRefused(self, message, operation, **params):
        job_w, parms = self.run_raw(self.vios1, operation, **params)
        self.assertJobFails(message, job_w, self.vios1.uuid, parms)

    def test_missing_or_bad_parameters(self):
        self.assertIscsiRefused('targetIQN', 'ISCSIDiscovery',
                                hostIP=self.portals[0], multipath='False')
        self.assertIscsiRefused('multipath', 'ISCSIDiscovery',
                                hostIP=self.portals[0], targetIQN=self.iqn,
                                multipath='perhaps')
        self.assertIscsiRefused('targetLUN', 'ISCSIDiscovery',
                                hostIP=self.portals[0], targetIQN=self.iqn,
                                targetLUN='one', multipath='False')
        self.assertIscsiRefused('hostIP', 'ISCSIDiscovery',
                                hostIP='[%s]' % self.portals[0],
                                targetIQN='[%s,%s]' % (self.iqn, self.iqn),
                                multipath='True')
        self.assertIscsiRefused('targetIQN', 'ISCSIRemove', multipath='False')


class TestRescanHdisks(IscsiTestBase):

    def test_rescan_sees_grown_luns(self):
        _name, iscsi_udid = self.login()
        _status, fc_name, fc_udid = self.discover(self.vios1)
        self.model.san.grow(self.volume, 6)
        self.model.san.grow(self.lun, 7)
        for udid in (iscsi_udid, fc_udid):
            tsk_stg.rescan_vstor(self.vios1.uuid, udid, adapter=self.adapter)
        sizes = {p.udid: p.capacity
                 for p in self.read_vios(self.vios1).phys_vols}
        self.assertEqual((6144, 7168), (sizes[iscsi_udid], sizes[fc_udid]))

    def test_rescan_of_a_disk_the_vios_does_not_have(self):
        self.assertRaises(pvm_exc.VstorNotFound, tsk_stg.rescan_vstor,
                          self.vios1.uuid, self.lun.udid,
                          adapter=self.adapter)
        self.assertRaises(pvm_exc.JobRequestFailed, tsk_stg.rescan_vstor,
                          self.vios1.uuid, '', adapter=self.adapter)


class TestNpivLogin(SanTestBase):

    def test_the_client_wwpn_sees_its_masked_lun_once_active(self):
        lpar_w = self.client()
        host_uuid = self.model.systems[0].uuid
        wwpns = vfc_mapper.build_wwpn_pair(self.adapter, host_uuid)
        vioses = pvm_vios.VIOS.get(self.adapter, xag=[FMAP])
        [port_map] = vfc_mapper.derive_npiv_map(
            vioses, [p.wwpn for v in vioses for p in v.pfc_ports], wwpns)
        vios_w = vfc_mapper.find_vios_for_port_map(vioses, port_map)
        vfc_mapper.add_map(vios_w, host_uuid, lpar_w.uuid, port_map)
        vios_w.update()
        # Cinder zones and masks the first WWPN of the pair.
        lun = self.sim.fc_lun(initiators=[wwpns[0]])
        self.assertEqual({wwpns[0]: self.target.wwpns},
                         lun.initiator_target_map)
        self.assertEqual([], self.model.npiv_luns(wwpns[0]))
        power.power_on(lpar_w, None)
        self.assertEqual([lun], self.model.npiv_luns(wwpns[0]))
        port = next(p for v in self.model.vioses() for p in v.fc_ports
                    if p.wwpn == port_map[0])
        self.assertEqual([wwpns[0].lower()], port.logged_in_wwpns)
        # Zoned and masked for the client, not for the VIOS's own ports.
        self.assertEqual(Status.INCORRECT_ITL, hdisk.lua_recovery(
            self.adapter, vios_w.uuid, hdisk.build_itls(
                [p.wwpn for p in vios_w.pfc_ports], self.target.wwpns,
                lun.lun_id))[0])
