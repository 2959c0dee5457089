"""Many servers at once on one host: concurrent builds through nova."""

from tests.functional.nova import base

_HOST = 'host1'
_COUNT = 10
_MEMORY_MB = 2048
_VCPUS = 2
_DISK_GB = 1


class TestManyServers(base.PowerVMTestCase):

    def setUp(self):
        super().setUp()
        self.start_powervm_compute(_HOST)
        self.system = self.system_of(_HOST)
        self.flavor_id = self.create_flavor(memory_mb=_MEMORY_MB,
                                            vcpu=_VCPUS, disk=_DISK_GB)

    def servers_of(self, reservation_id):
        return self.api.get_servers(
            search_opts={'reservation_id': reservation_id})

    def test_ten_servers_booted_together_all_run(self):
        answer = self.request_server(self.flavor_id, min_count=_COUNT,
                                     max_count=_COUNT,
                                     return_reservation_id=True)
        reservation_id = answer['reservation_id']

        def all_built():
            servers = self.servers_of(reservation_id)
            built = len(servers) == _COUNT and all(
                server['status'] != 'BUILD' for server in servers)
            return servers if built else None

        servers = self.wait_for(all_built, 'ten builds')
        self.assertEqual(['ACTIVE'] * _COUNT,
                         [server['status'] for server in servers],
                         [server.get('fault') for server in servers])
        lpars = [self.lpar_of(server) for server in servers]
        self.assertEqual(sorted(lpar.uuid for lpar in lpars),
                         sorted(lpar.uuid for lpar in
                                self.client_lpars(self.system)))
        self.assertEqual([base.LPAR_RUNNING] * _COUNT,
                         [lpar.state for lpar in lpars])
        self.assertEqual(_COUNT, len(self.boot_vdisks(self.system)))
        # Placement holds what the LPARs have, no more and no less.
        usages = self._get_provider_usages(
            self._get_provider_uuid_by_host(_HOST))
        self.assertEqual(
            {'VCPU': sum(lpar.vprocs_desired for lpar in lpars),
             'MEMORY_MB': sum(lpar.mem_desired for lpar in lpars),
             'DISK_GB': _COUNT * _DISK_GB},
            usages)
        self.assertEqual(
            {'VCPU': _COUNT * _VCPUS, 'MEMORY_MB': _COUNT * _MEMORY_MB},
            {'VCPU': usages['VCPU'], 'MEMORY_MB': usages['MEMORY_MB']})
