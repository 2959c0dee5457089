"""The SAN model: targets, LUNs, zoning and masking, the ITLs that reach a
LUN, and the hdisks a VIOS configures for what it reaches."""

import testtools

from powervm_sim import model as model_mod
from powervm_sim.model import builder
from powervm_sim.model import san

AVAILABLE = san.LuaStatus.DEVICE_AVAILABLE
IN_USE = san.LuaStatus.DEVICE_IN_USE
FOUND_ITL_ERR = san.LuaStatus.FOUND_ITL_ERR
INCORRECT_ITL = san.LuaStatus.INCORRECT_ITL


def built_model(test, systems=1):
    model = model_mod.Model()
    builder.build(model, systems=systems, vioses=2)
    test.addCleanup(model.content.close)
    return model


class TestLogicalUnitAddress(testtools.TestCase):

    def test_lun_ids_in_powervm_form(self):
        # As pypowervm's ITLs carry them: the LUN in hex, then zeros up to
        # eight bytes.
        self.assertEqual('0000000000000', san.lua_of(0))
        self.assertEqual('1000000000000', san.lua_of(1))
        self.assertEqual('ee000000000000', san.lua_of(238))
        self.assertEqual('4000400100000000', san.lua_of(0x40004001))

    def test_location_code_drops_the_leading_zeros(self):
        self.assertEqual('L0', san.location_lun(san.lua_of(0)))
        self.assertEqual('L1000000000000', san.location_lun(san.lua_of(1)))


class TestFabric(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.san = san.SAN()
        self.target = self.san.add_fc_target(
            'array1', wwpns=['50:05:07:68:0B:21:56:60', '500507680b215661'])
        self.lun = self.san.add_lun(self.target, 2, initiators=[
            '10000090FA000001', '10000090FA000002'])

    def test_target_wwpns_are_kept_plain(self):
        self.assertEqual(['500507680b215660', '500507680b215661'],
                         self.target.wwpns)

    def test_each_lun_gets_the_next_id_and_its_own_identity(self):
        other = self.san.add_lun(self.target, 1)
        self.assertEqual((1, 2), (self.lun.lun_id, other.lun_id))
        self.assertNotEqual(self.lun.naa, other.naa)
        self.assertEqual(32, len(self.lun.naa))
        self.assertEqual(2048, self.lun.size_mb)
        self.assertTrue(self.lun.udid.startswith('01'))

    def test_a_masked_and_zoned_initiator_reaches_the_lun(self):
        for target_wwpn in self.target.wwpns:
            self.assertIs(self.lun, self.san.reachable_lun(
                '10000090fa000001', target_wwpn, self.lun.lua))

    def test_what_does_not_reach_the_lun(self):
        lua = self.lun.lua
        wwpn = self.target.wwpns[0]
        self.assertIsNone(self.san.reachable_lun('10000090fa000009', wwpn,
                                                 lua))
        self.assertIsNone(self.san.reachable_lun('10000090fa000001',
                                                 '500507680b2156ff', lua))
        self.assertIsNone(self.san.reachable_lun(
            '10000090fa000001', wwpn, san.lua_of(7)))

    def test_unzoning_one_target_port_keeps_the_other_path(self):
        self.san.unzone('10000090FA000001', self.target,
                        ['500507680b215661'])
        self.assertIsNone(self.san.reachable_lun(
            '10000090fa000001', '500507680b215661', self.lun.lua))
        self.assertIs(self.lun, self.san.reachable_lun(
            '10000090fa000001', '500507680b215660', self.lun.lua))
        self.san.zone('10000090FA000001', self.target)
        self.assertIs(self.lun, self.san.reachable_lun(
            '10000090fa000001', '500507680b215661', self.lun.lua))

    def test_a_hidden_lun_and_a_target_refusing_logins_are_not_reached(self):
        wwpn = self.target.wwpns[0]
        self.san.set_exported(self.lun, False)
        self.assertIsNone(self.san.reachable_lun('10000090fa000001', wwpn,
                                                 self.lun.lua))
        self.san.set_exported(self.lun, True)
        self.san.set_refuses_logins(self.target, True)
        self.assertIsNone(self.san.reachable_lun('10000090fa000001', wwpn,
                                                 self.lun.lua))

    def test_unmasking_hides_the_lun_from_that_initiator_only(self):
        self.san.unmask(self.lun, '10000090fa000001')
        wwpn = self.target.wwpns[0]
        self.assertIsNone(self.san.reachable_lun('10000090fa000001', wwpn,
                                                 self.lun.lua))
        self.assertIs(self.lun, self.san.reachable_lun(
            '10000090fa000002', wwpn, self.lun.lua))

    def test_initiator_target_map_keeps_the_initiators_spelling(self):
        self.san.unzone('10000090FA000002', self.target,
                        ['500507680b215661'])
        self.assertEqual(
            {'10000090FA000001': ['500507680b215660', '500507680b215661'],
             '10000090FA000002': ['500507680b215660']},
            self.lun.initiator_target_map)
        data = self.lun.connection_data()
        self.assertEqual(1, data['target_lun'])
        self.assertEqual(self.target.wwpns, data['target_wwn'])
        self.assertEqual(self.lun.initiator_target_map,
                         data['initiator_target_map'])

    def test_grow_and_refuse_to_shrink(self):
        self.san.grow(self.lun, 3)
        self.assertEqual(3072, self.lun.size_mb)
        exc = self.assertRaises(model_mod.Conflict, self.san.grow,
                                self.lun, 1)
        self.assertIn('cannot shrink', str(exc))
        self.assertEqual(3072, self.lun.size_mb)

    def test_bad_input_is_refused(self):
        self.assertRaises(model_mod.Conflict, self.san.add_fc_target,
                          'array1')
        self.assertRaises(model_mod.Conflict, self.san.add_fc_target,
                          'array2', wwpns=['not-a-wwpn'])
        self.assertRaises(model_mod.Conflict, self.san.add_fc_target,
                          'array2', wwpns=['500507680b215660'])
        self.assertRaises(model_mod.Conflict, self.san.add_lun,
                          self.target, 0)
        self.assertRaises(model_mod.Conflict, self.san.add_lun,
                          self.target, 1, lun_id=1)
        self.assertRaises(model_mod.Conflict, self.san.add_lun,
                          self.target, 1, initiators=['xyz'])
        self.assertEqual(1, len(self.san.fc_targets))
        self.assertEqual([self.lun], self.target.luns)


class TestHdisks(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        self.vios1, self.vios2 = self.model.vioses()
        self.target = self.model.san.add_fc_target('array1')
        self.lun = self.model.san.add_lun(
            self.target, 5, initiators=[p.wwpn for v in (self.vios1,
                                                         self.vios2)
                                        for p in v.fc_ports])

    def itls(self, vios, ports=None, lun=None):
        lun = lun or self.lun
        return [(p.wwpn.lower(), t, lun.lua)
                for p in (ports or vios.fc_ports)
                for t in self.target.wwpns]

    def test_the_fresh_model_configured_its_san_disks(self):
        names = [pv.name for pv in self.vios1.physical_volumes
                 if pv.fc_backed]
        self.assertEqual(['hdisk3', 'hdisk4', 'hdisk5'], names)
        fcs0, fcs1 = self.vios1.fc_ports
        self.assertEqual(names, [pv.name for pv in fcs0.physical_volumes])
        self.assertEqual([], fcs1.physical_volumes)

    def test_discovery_configures_one_hdisk_per_lun(self):
        etag = self.vios1.etag
        outcome = self.model.recover_lua(self.vios1, self.itls(self.vios1))
        self.assertEqual(AVAILABLE, outcome.status)
        pv = outcome.pv
        self.assertEqual('hdisk9', pv.name)
        self.assertIn(pv, self.vios1.physical_volumes)
        self.assertNotEqual(etag, self.vios1.etag)
        self.assertEqual(self.lun.udid, pv.udid)
        self.assertEqual(5120, pv.capacity_mb)
        self.assertTrue(pv.fc_backed)
        port = self.vios1.fc_ports[0]
        self.assertEqual('%s-W%s-L1000000000000' % (
            port.location_code, self.target.wwpns[0].upper()),
            pv.location_code)
        self.assertEqual(['fcs0', 'fcs1'], pv.fc_ports)
        again = self.model.recover_lua(self.vios1, self.itls(self.vios1))
        self.assertIs(pv, again.pv)

    def test_hdisk_numbers_skip_the_cluster_disks(self):
        # hdisk6-8 are the SSP cluster's disks on every node.
        self.model.recover_lua(self.vios1, self.itls(self.vios1))
        self.model.recover_lua(self.vios2, self.itls(self.vios2))
        names = {pv.name for pv in self.vios1.physical_volumes}
        cluster = self.model.clusters()[0]
        disks = cluster.repository_disks + cluster.ssp.physical_volumes
        self.assertEqual(set(), names & {pv.name for pv in disks})

    def test_found_on_some_paths_only(self):
        self.model.san.unmask(self.lun, self.vios1.fc_ports[1].wwpn)
        outcome = self.model.recover_lua(self.vios1, self.itls(self.vios1))
        self.assertEqual(FOUND_ITL_ERR, outcome.status)
        self.assertEqual(['fcs0'], outcome.pv.fc_ports)
        self.assertIn(self.vios1.fc_ports[1].wwpn.lower(), outcome.message)

    def test_initiators_of_another_vios_find_nothing(self):
        before = list(self.vios1.physical_volumes)
        outcome = self.model.recover_lua(self.vios1, self.itls(self.vios2))
        self.assertEqual(INCORRECT_ITL, outcome.status)
        self.assertIsNone(outcome.pv)
        self.assertEqual(before, self.vios1.physical_volumes)

    def test_a_mapped_disk_is_in_use_and_cannot_be_removed(self):
        pv = self.model.recover_lua(self.vios1, self.itls(self.vios1)).pv
        lpar = self.model.create_lpar(self.vios1.parent, {
            'name': 'client', 'mem_desired': 1024, 'mem_min': 1024,
            'mem_max': 1024, 'proc_units_desired': 0.1,
            'proc_units_min': 0.1, 'proc_units_max': 0.1})
        self.model.update_scsi_mappings(self.vios1, [{
            'client_lpar_href': lpar.href, 'pv.name': pv.name}])
        outcome = self.model.recover_lua(self.vios1, self.itls(self.vios1))
        self.assertEqual(IN_USE, outcome.status)
        exc = self.assertRaises(model_mod.Conflict, self.model.remove_device,
                                self.vios1, pv.name)
        self.assertIn('0514-062', str(exc))
        self.model.update_scsi_mappings(self.vios1, [])
        self.model.remove_device(self.vios1, pv.name)
        self.assertNotIn(pv, self.vios1.physical_volumes)

    def test_removing_what_is_not_there(self):
        exc = self.assertRaises(model_mod.Conflict, self.model.remove_device,
                                self.vios1, 'hdisk99')
        self.assertIn('0514-519', str(exc))
        exc = self.assertRaises(model_mod.Conflict, self.model.remove_device,
                                self.vios1, 'hdisk0')
        self.assertIn('0514-062', str(exc))

    def test_rediscovery_sees_a_grown_lun(self):
        pv = self.model.recover_lua(self.vios1, self.itls(self.vios1)).pv
        self.model.san.grow(self.lun, 8)
        self.assertEqual(5120, pv.capacity_mb)
        self.model.recover_lua(self.vios1, self.itls(self.vios1))
        self.assertEqual(8192, pv.capacity_mb)

    def test_a_vanished_lun_is_not_found(self):
        self.model.san.set_exported(self.lun, False)
        outcome = self.model.recover_lua(self.vios1, self.itls(self.vios1))
        self.assertEqual(INCORRECT_ITL, outcome.status)

    def test_vendor_and_device_id_must_match(self):
        outcome = self.model.recover_lua(self.vios1, self.itls(self.vios1),
                                         vendor='EMC')
        self.assertEqual(san.LuaStatus.STORAGE_NOT_INTEREST, outcome.status)
        outcome = self.model.recover_lua(self.vios1, self.itls(self.vios1),
                                         device_id='bm90IHRoaXMgb25l')
        self.assertEqual(san.LuaStatus.LUA_NOT_INTEREST, outcome.status)
        outcome = self.model.recover_lua(self.vios1, self.itls(self.vios1),
                                         vendor='IBM',
                                         device_id=self.lun.page83)
        self.assertEqual(AVAILABLE, outcome.status)

    def test_reliable_itls_must_all_work(self):
        self.model.san.unmask(self.lun, self.vios1.fc_ports[1].wwpn)
        outcome = self.model.recover_lua(self.vios1, self.itls(self.vios1),
                                         reliable=True)
        self.assertEqual(san.LuaStatus.ITL_NOT_RELIABLE, outcome.status)
        self.assertIsNone(outcome.pv)


class TestIscsi(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        self.vios = self.model.vioses()[0]
        self.san = self.model.san
        self.target = self.san.add_iscsi_target(
            'iqn.2016-06.world.srv:t0', ['192.0.2.1', '192.0.2.2:3261'],
            chap_user='u', chap_secret='p')
        self.lun = self.san.add_lun(self.target, 1,
                                    initiators=[self.vios.iscsi_initiator])
        self.chap = san.Chap('CHAP', 'u', 'p')

    def login(self, portal='192.0.2.1:3260', chap=None, lun_id=1,
              iqn='iqn.2016-06.world.srv:t0'):
        return self.model.iscsi_login(self.vios, [(portal, iqn, lun_id)],
                                      chap or self.chap)

    def test_portals_take_the_default_port(self):
        self.assertEqual(['192.0.2.1:3260', '192.0.2.2:3261'],
                         self.target.portals)

    def test_login_then_session_exists(self):
        first = self.login()
        self.assertEqual(san.IscsiCode.SUCCESS, first.code)
        [(iqn, pv)] = first.devices
        self.assertEqual(self.lun.udid, pv.udid)
        self.assertFalse(pv.fc_backed)
        self.assertIsNone(pv.location_code)
        again = self.login()
        self.assertEqual(san.IscsiCode.SESSION_EXISTS, again.code)
        self.assertIs(pv, again.devices[0][1])

    def test_refusals_change_nothing(self):
        before = (list(self.vios.physical_volumes),
                  list(self.vios.iscsi_sessions))
        for code, kwargs in (
                (san.IscsiCode.AUTH_FAILED, {'chap': san.Chap('CHAP', 'u',
                                                              'x')}),
                (san.IscsiCode.AUTH_FAILED, {'chap': san.Chap()}),
                (san.IscsiCode.TIMEOUT, {'portal': '192.0.2.9:3260'}),
                (san.IscsiCode.NO_OBJECTS, {'iqn': 'iqn.2016-06.x:y'})):
            self.assertEqual(code, self.login(**kwargs).code)
        self.assertEqual(before, (self.vios.physical_volumes,
                                  self.vios.iscsi_sessions))

    def test_a_target_without_chap_takes_any_login(self):
        open_target = self.san.add_iscsi_target('iqn.2016-06.x:open',
                                                ['192.0.2.3'])
        self.san.add_lun(open_target, 1,
                         initiators=[self.vios.iscsi_initiator])
        self.assertEqual(san.IscsiCode.SUCCESS, self.login(
            portal='192.0.2.3', iqn='iqn.2016-06.x:open',
            chap=san.Chap()).code)

    def test_a_session_without_the_lun_keeps_the_session(self):
        self.san.unmask(self.lun, self.vios.iscsi_initiator)
        outcome = self.login()
        self.assertEqual(san.IscsiCode.NO_OBJECTS, outcome.code)
        self.assertEqual([], outcome.devices)
        self.assertEqual(1, len(self.vios.iscsi_sessions))

    def test_logout_removes_the_disk_then_the_session(self):
        pv = self.login().devices[0][1]
        code = self.model.iscsi_logout(self.vios,
                                       ['iqn.2016-06.world.srv:t0'])
        self.assertEqual(san.IscsiCode.SUCCESS, code)
        self.assertNotIn(pv, self.vios.physical_volumes)
        self.assertEqual([], self.vios.iscsi_sessions)
        self.assertEqual(san.IscsiCode.NO_OBJECTS, self.model.iscsi_logout(
            self.vios, ['iqn.2016-06.world.srv:t0']))

    def test_bad_targets_are_refused(self):
        for args, kwargs in ((('not an iqn', ['192.0.2.1']), {}),
                             (('iqn.2016-06.x:z', []), {}),
                             (('iqn.2016-06.x:z', ['192.0.2.1:99999']), {}),
                             (('iqn.2016-06.x:z', ['192.0.2.1']),
                              {'chap_user': 'u'}),
                             (('iqn.2016-06.world.srv:t0', ['192.0.2.5']),
                              {})):
            self.assertRaises(model_mod.Conflict,
                              self.san.add_iscsi_target, *args, **kwargs)
        self.assertEqual([self.target], self.san.iscsi_targets)
        self.assertRaises(model_mod.Conflict, self.san.add_lun, self.target,
                          1, initiators=['10000090fa000001'])


class TestCeph(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.san = san.SAN()

    def test_images_live_in_pools(self):
        self.san.add_rbd_image('volumes/volume-1', 2)
        self.san.add_rbd_image('volumes/volume-2', 1)
        self.assertEqual(2048, self.san.rbd_image_mb('volumes/volume-1'))
        self.assertIsNone(self.san.rbd_image_mb('images/volume-1'))
        self.san.grow_rbd_image('volumes/volume-1', 5)
        self.assertEqual(5120, self.san.rbd_image_mb('volumes/volume-1'))
        self.san.remove_rbd_image('volumes/volume-1')
        self.assertIsNone(self.san.rbd_image_mb('volumes/volume-1'))
        self.assertEqual(['volumes'], [p.name for p in self.san.rbd_pools])

    def test_bad_images_are_refused(self):
        self.san.add_rbd_image('volumes/volume-1', 2)
        for args in (('volume-1', 1), ('volumes/', 1), ('/x', 1),
                     ('volumes/volume-1', 1), ('a/b/c', 1), ('p/i', 0)):
            self.assertRaises(model_mod.Conflict, self.san.add_rbd_image,
                              *args)
        self.assertRaises(model_mod.Conflict, self.san.grow_rbd_image,
                          'volumes/volume-1', 1)
        self.assertRaises(model_mod.Conflict, self.san.remove_rbd_image,
                          'volumes/volume-9')
        self.assertEqual({'volumes/volume-1': 2048}, {
            '%s/%s' % (p.name, i): mb for p in self.san.rbd_pools
            for i, mb in p.images.items()})


class TestNpivLogin(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = model_mod.Model()
        builder.build(self.model, vioses=1, lpars=1)
        self.addCleanup(self.model.content.close)
        [self.vios] = self.model.vioses()
        [self.lpar] = [p for p in self.model.lpars() if not p.is_mgmt]
        self.port = self.vios.fc_ports[1]
        self.model.update_fc_mappings(self.vios, [{
            'client_lpar_href': self.lpar.href, 'port.name': 'fcs1',
            'client.wwpn_text': 'C050760000000A00 C050760000000A01'}])
        self.target = self.model.san.add_fc_target('array1')
        self.lun = self.model.san.add_lun(self.target, 1,
                                          initiators=['c050760000000a00'])

    def test_an_active_client_logs_in_its_first_wwpn(self):
        self.assertEqual([], self.port.logged_in_wwpns)
        self.assertEqual([], self.model.npiv_luns('c050760000000a00'))
        self.model.set_partition_state(self.lpar, 'running')
        self.assertEqual(['c050760000000a00'], self.port.logged_in_wwpns)
        self.assertEqual([self.lun],
                         self.model.npiv_luns('C0:50:76:00:00:00:0A:00'))
        # The second WWPN of the pair logs in on a migration's target.
        self.assertEqual([], self.model.npiv_luns('c050760000000a01'))
        self.model.set_partition_state(self.lpar, 'migrating running')
        self.assertEqual(['c050760000000a00', 'c050760000000a01'],
                         self.port.logged_in_wwpns)

    def test_masking_and_the_port_decide(self):
        self.model.set_partition_state(self.lpar, 'running')
        self.model.san.unmask(self.lun, 'c050760000000a00')
        self.assertEqual([], self.model.npiv_luns('c050760000000a00'))
        self.model.san.mask(self.lun, 'c050760000000a00')
        self.assertEqual([self.lun],
                         self.model.npiv_luns('c050760000000a00'))
        # Without its mapping the WWPN is on no port.
        self.model.update_fc_mappings(self.vios, [])
        self.assertEqual([], self.port.logged_in_wwpns)
        self.assertEqual([], self.model.npiv_luns('c050760000000a00'))
