"""The ``simulator`` mgmt platform against a ``powervm-sim serve`` process:
nova-compute and the simulator as separate processes on one machine."""

import fixtures
from nova.compute import task_states
from nova import context as nova_context
from nova import test
from nova.virt import driver as nova_driver
from pypowervm import adapter as pvm_adpt
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import partition as pvm_partition
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from nova_powervm import exception as pvm_nova_exc
from nova_powervm import mgmt
from nova_powervm import vm
from powervm_sim import platform as sim_platform
from tests.functional.driver import fixtures as driver_fixtures
from tests.functional.driver import glance_fake
from tests.functional.sim import test_partition_control as partition_tests
from tests.functional.sim import test_serve

DISK_BYTES = partition_tests.DISK_BYTES
GIB = 1024 ** 3


class ServeEnvironment(fixtures.Fixture):
    """A ``powervm-sim serve --https`` process and the environment of a
    nova-compute process using it: its certificate trusted, its control
    token in TOKEN_VARIABLE.

    :param args: further ``serve`` arguments.
    """

    def __init__(self, *args):
        super().__init__()
        self.args = args

    def _setUp(self):
        self.serve = self.useFixture(test_serve.ServeProcess(
            '--https', '--port', '0', *self.args))
        [self.endpoint] = self.serve.endpoints
        self.useFixture(fixtures.EnvironmentVariable(
            'REQUESTS_CA_BUNDLE', self.endpoint['cert']))
        self.useFixture(fixtures.EnvironmentVariable(
            sim_platform.TOKEN_VARIABLE, self.serve.control['token']))
        # Any folder without the certificate: pypowervm then leaves the
        # verification to requests (see powervm_sim/auth.py).
        self.certpath = self.useFixture(fixtures.TempDir()).path + '/'

    def adapter(self):
        session = test_serve._session(
            self.endpoint, username=self.endpoint['user'],
            password=self.endpoint['password'], certpath=self.certpath)
        self.addCleanup(session._logoff)
        return pvm_adpt.Adapter(session)

    def ovs_ports(self):
        return self.serve.control_call('GET', 'partition/ovs').json()


class ServePlatformTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.env = self.useFixture(ServeEnvironment('--lpars', '1'))
        self.adapter = self.env.adapter()
        self.platform = mgmt.load_platform('simulator')
        [self.lpar_w] = [lpar for lpar in pvm_lpar.LPAR.get(self.adapter)
                         if not lpar.is_mgmt_partition]


class TestLparcfg(ServePlatformTestCase):

    def test_lparcfg_is_the_novalink_partitions_of_the_system(self):
        [system_w] = pvm_ms.System.get(self.adapter)
        mgmt_w = pvm_partition.get_mgmt_partition(self.adapter)
        lparcfg = self.platform.lparcfg(self.adapter)
        self.assertEqual('IBM,02%s' % system_w.mtms.serial,
                         lparcfg['serial_number'])
        self.assertEqual('IBM,%s-%s' % (system_w.mtms.machine_type,
                                        system_w.mtms.model),
                         lparcfg['system_type'])
        self.assertEqual(mgmt_w.id, mgmt.this_partition_id(self.platform,
                                                           self.adapter))


class TestDisks(ServePlatformTestCase):

    def test_a_disk_mapped_here_reads_as_the_model_holds_it(self):
        vios_uuid, lu_w = partition_tests.upload_disk(
            self.adapter, 'snap_me', DISK_BYTES)
        mapping, unmap = partition_tests.map_to_mgmt(self.adapter,
                                                     vios_uuid, lu_w)
        path = self.platform.discover_disk(self.adapter, mapping)
        with self.platform.open_disk(path) as stream:
            self.assertEqual(DISK_BYTES, stream.read(len(DISK_BYTES)))
        self.platform.remove_disk(path)
        unmap()
        err = self.assertRaises(pvm_nova_exc.DiskDiscoveryFailed,
                                self.platform.discover_disk, self.adapter,
                                mapping)
        self.assertIn('no VIOS maps it to the NovaLink partition', str(err))


class TestConsole(partition_tests.ConsoleClient, ServePlatformTestCase):

    def test_open_speak_rfb_and_close(self):
        console = self.platform.open_vnc_console(self.adapter,
                                                 self.lpar_w.uuid)
        sock = self.connect(console.port)
        self.assert_greeted(sock)
        self.assertEqual(console, self.platform.open_vnc_console(
            self.adapter, self.lpar_w.uuid))
        self.platform.close_vterm(self.adapter, self.lpar_w.uuid)
        self.assertEqual(b'', sim_platform.receive_exactly(sock, 1))
        self.assertRaises(ConnectionRefusedError, self.connect,
                          console.port)

    def test_no_console_without_lpar(self):
        self.assertRaises(pvm_exc.HttpNotFound,
                          self.platform.open_vnc_console, self.adapter,
                          'c0ffee00-0000-4000-8000-000000000001')


class TestOvs(ServePlatformTestCase):

    def test_plug_and_unplug(self):
        partition_tests.ovs_trunk(self.adapter, self.lpar_w.uuid, 'tap-1')
        self.platform.plug_ovs_port(self.adapter, 'br-int', 'tap-1',
                                    'port-1', 'fa:16:3e:00:00:01',
                                    'c0ffee00-0000-4000-8000-000000000001')
        self.assertEqual([{'bridge': 'br-int', 'port': 'tap-1',
                           'external_ids': {
                               'iface-id': 'port-1', 'iface-status':
                               'active', 'attached-mac': 'fa:16:3e:00:00:01',
                               'vm-uuid':
                               'c0ffee00-0000-4000-8000-000000000001'}}],
                         self.env.ovs_ports())
        self.platform.unplug_ovs_port(self.adapter, 'br-int', 'tap-1')
        self.assertEqual([], self.env.ovs_ports())

    def test_a_device_not_on_the_partition_is_refused(self):
        err = self.assertRaises(
            sim_platform.OvsRefused, self.platform.plug_ovs_port,
            self.adapter, 'br-int', 'tap-9', 'port-9', 'fa:16:3e:00:00:09',
            'c0ffee00-0000-4000-8000-000000000001')
        self.assertIn('no device tap-9', str(err))
        self.assertEqual([], self.env.ovs_ports())


class TestToken(ServePlatformTestCase):

    def test_without_the_token_the_error_names_the_variable(self):
        self.useFixture(fixtures.EnvironmentVariable(
            sim_platform.TOKEN_VARIABLE))
        err = self.assertRaises(sim_platform.NotAttached,
                                self.platform.lparcfg, self.adapter)
        self.assertIn(sim_platform.TOKEN_VARIABLE, str(err))

    def test_a_wrong_token_is_refused(self):
        self.useFixture(fixtures.EnvironmentVariable(
            sim_platform.TOKEN_VARIABLE, 'not-the-token'))
        err = self.assertRaises(sim_platform.ControlAPIError,
                                self.platform.lparcfg, self.adapter)
        self.assertEqual(403, err.status)
        self.assertIn('X-Sim-Token', str(err))
        self.assertNotIn(self.env.serve.control['token'], str(err))


class TestDriver(partition_tests.ConsoleClient,
                 driver_fixtures.DriverTestCase):
    """PowerVMDriver, loaded by nova, on a serve process: spawn (lparcfg),
    snapshot of a running instance's SSP boot disk (the LU mapped to the
    NovaLink partition and read from the serve process's content file),
    its VNC console and an Open vSwitch VIF."""

    def setUp(self):
        # DriverTestCase's own set-up starts an in-process simulator and
        # attaches it: skip it for nova's (database, config), and point the
        # driver at the serve process instead.
        test.TestCase.setUp(self)
        self.env = env = self.useFixture(ServeEnvironment())
        protocol, host, port = test_serve._split_url(env.endpoint['url'])
        self.flags(group='powervm', host=host, port=port,
                   protocol=protocol, username=env.endpoint['user'],
                   password=env.endpoint['password'],
                   certpath=env.certpath, mgmt_platform='simulator',
                   disk_driver='ssp', connection_retries=3,
                   connection_retry_interval=0.01)
        self.flags(host=driver_fixtures.HOST)
        self.driver = nova_driver.load_compute_driver(
            driver_fixtures.EventVirtAPI(), driver_fixtures.COMPUTE_DRIVER)
        self.driver.init_host(driver_fixtures.HOST)
        self.addCleanup(self.driver.cleanup_host, driver_fixtures.HOST)
        self.context = nova_context.get_admin_context()
        self.glance = self.useFixture(glance_fake.GlanceFake())
        self.image_data = driver_fixtures.image_bytes(
            driver_fixtures.IMAGE_SIZE)
        self.image = self.glance.add_image(self.image_data)
        self.useFixture(fixtures.MockPatch(
            'nova.network.security_group_api.get_instance_security_groups',
            return_value=[]))

    def mgmt_mappings(self):
        """vSCSI mappings to the NovaLink partition, as NovaLink lists
        them."""
        adapter = self.driver.adapter
        mgmt_w = pvm_partition.get_mgmt_partition(adapter)
        return [mapping for vios_w in pvm_vios.VIOS.get(
            adapter, xag=[pvm_const.XAG.VIO_SMAP])
            for mapping in pvm_smap.find_maps(vios_w.scsi_mappings,
                                              client_lpar_id=mgmt_w.id)]

    def test_snapshot_of_a_running_instance_on_ssp(self):
        instance = self.make_instance()
        self.spawn(instance)
        image_id = self.glance.add_snapshot_target()
        mapped_meanwhile = []
        self.glance.during_upload = lambda: mapped_meanwhile.append(
            [mapping.backing_storage.name
             for mapping in self.mgmt_mappings()])
        states = []
        self.driver.snapshot(
            self.context, instance, image_id,
            lambda task_state, expected_state=None: states.append(
                task_state))
        self.assertEqual([task_states.IMAGE_PENDING_UPLOAD,
                          task_states.IMAGE_UPLOADING], states)
        upload = self.glance.uploads[image_id]
        self.assertEqual(GIB, upload.size)
        self.assertEqual(self.image_data,
                         upload.read(0, len(self.image_data)))
        self.assertEqual(
            [[self.driver.disk_driver.disk_name(instance)]],
            mapped_meanwhile)
        self.assertEqual([], self.mgmt_mappings())
        self.assertEqual('running', vm.get_state(
            self.driver.adapter, vm.get_pvm_uuid(instance)))
        self.driver.destroy(self.context, instance, None)

    def test_vnc_console_and_ovs_vif(self):
        vif = driver_fixtures.ovs_vif(1)
        instance = self.spawn_with([vif])
        [port] = self.env.ovs_ports()
        self.assertEqual((vif['id'], instance.uuid), (
            port['external_ids']['iface-id'],
            port['external_ids']['vm-uuid']))
        console = self.driver.get_vnc_console(self.context, instance)
        sock = self.connect(console.port)
        self.assert_greeted(sock)
        self.driver.destroy(self.context, instance, [vif])
        self.assertEqual([], self.env.ovs_ports())
        self.assertEqual(b'', sim_platform.receive_exactly(sock, 1))
