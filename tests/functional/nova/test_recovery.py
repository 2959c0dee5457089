"""Rebuild, evacuate and shelve through nova's API, checked in the
simulator and in placement.

Evacuate: two compute hosts on two managed systems whose VIOSes form one
shared storage pool; the server's host goes down (its nova-compute
stopped and forced down through nova's API), nova recreates the server on
the other host from its boot disk, and when the first host's nova-compute
starts again its clean-up of evacuated instances removes the LPAR left
there, and not the disk the other host now uses.
"""

from unittest import mock

from oslo_utils.fixture import uuidsentinel

from powervm_sim import faults
from tests.functional.driver import fixtures as driver_fixtures
from tests.functional.nova import base
from tests.functional.nova import test_migrations

SOURCE = test_migrations.SOURCE
DEST = test_migrations.DEST
NEW_IMAGE_DATA = driver_fixtures.image_bytes(len(base.IMAGE_DATA) + 4096,
                                             seed=b'rebuilt')
# Chunks of a snapshot's data as Glance hands them out.
CHUNK = 64 * 1024


class RecoveryTestCase(test_migrations.TwoHostsTestCase):

    def setUp(self):
        super().setUp()
        self._download_snapshots()

    def _download_snapshots(self):
        """Have nova's GlanceFixture hand out the data of snapshots (which
        base keeps in ``snapshot_uploads``), as Glance does: unshelve
        spawns from the shelved server's snapshot."""
        download = self.glance.download

        def download_snapshot(context, image_id, data=None, dst_path=None,
                              trusted_certs=None):
            upload = self.snapshot_uploads.get(image_id)
            if upload is None or data is not None or dst_path is not None:
                return download(context, image_id, data=data,
                                dst_path=dst_path,
                                trusted_certs=trusted_certs)
            return (upload.read(offset, min(CHUNK, upload.size - offset))
                    for offset in range(0, upload.size, CHUNK))

        self.glance.download = download_snapshot

    def disk_bytes(self, disk, size):
        with self.sim.model.content.open_reader(disk.udid) as blob:
            return blob.read(size)

    def service_id(self, hostname):
        [service] = self.admin_api.get_services(host=hostname,
                                                binary='nova-compute')
        return service['id']

    def host_goes_down(self, hostname):
        """nova-compute stops and the operator tells nova it is down (as
        evacuate requires)."""
        self.computes[hostname].stop()
        self.admin_api.put_service(self.service_id(hostname),
                                   {'forced_down': 'true'})

    def host_comes_back(self, hostname, index):
        """nova-compute of ``hostname`` (system ``index``) starts again,
        the same driver on the same system, and is no longer forced
        down."""
        endpoint = self.sim.endpoints[index]
        self.flags(group='powervm', host=endpoint.host, port=endpoint.port,
                   protocol=endpoint.protocol)
        # The compute node's UUID its first start had (base).
        node_uuid = getattr(uuidsentinel, 'node_%s' % hostname)
        with mock.patch('nova.virt.node.get_local_node_uuid',
                        return_value=node_uuid):
            self.computes[hostname] = self.restart_compute_service(
                self.computes[hostname])
        # nova refuses this while evacuations from the host are not
        # cleaned up (init_host's).
        self.admin_api.put_service(self.service_id(hostname),
                                   {'forced_down': 'false'})


class TestEvacuate(RecoveryTestCase):

    def test_evacuate_then_the_host_comes_back(self):
        server = self.boot_on_source()
        [lu] = self.boot_lus()
        self.host_goes_down(SOURCE)
        server = self._evacuate_server(server, expected_host=DEST,
                                       expected_state='SHUTOFF')
        # Recreated on the destination from the same LU (nova's latest
        # microversion evacuates to a stopped server) ...
        self.assertEqual(base.LPAR_OFF, self.lpar_on(DEST, server).state)
        self.assertEqual([lu], self.boot_lus())
        self.assertEqual(base.IMAGE_DATA,
                         self.disk_bytes(lu, len(base.IMAGE_DATA)))
        self.assertEqual(1, len(self.config_media(self.system_of(DEST))))
        # ... while the source, down, still has its LPAR.
        self.assertIsNotNone(self.lpar_on(SOURCE, server))
        self.host_comes_back(SOURCE, 0)
        # Its nova-compute removed the LPAR and what it had, not the disk.
        self.assertIsNone(self.lpar_on(SOURCE, server))
        self.assertEqual([], self.client_lpars(self.system_of(SOURCE)))
        self.assertEqual([], self.config_media(self.system_of(SOURCE)))
        self.assertEqual([], self.disk_mappings(self.system_of(SOURCE)))
        self.assertEqual([lu], self.boot_lus())
        self.assertFlavorMatchesAllocation(self.flavor, server['id'],
                                           self.rps[DEST])
        self.assertFlavorMatchesUsage(self.rps[SOURCE])
        server = self._start_server(server)
        self.assert_runs_on(DEST, server, 2048)
        self._delete_server(server)
        self.assertEqual([], self.boot_lus())


class TestEvacuateLocalDisk(RecoveryTestCase):

    SHARED_SSP = False
    DISK_DRIVER = 'localdisk'

    def test_evacuate_is_refused_and_the_server_stays(self):
        server = self.boot_on_source()
        self.host_goes_down(SOURCE)
        self.admin_api.post_server_action(server['id'], {'evacuate': {}})
        self._wait_for_migration_status(server, ['failed'])
        event = self._wait_for_instance_action_event(
            server, 'evacuate', 'compute_rebuild_instance', 'Error')
        self.assertIn('volume group', event['details'])
        server = self._wait_for_server_parameter(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None,
                     'OS-EXT-SRV-ATTR:host': SOURCE})
        self.assertIsNone(self.lpar_on(DEST, server))
        self.assertEqual([], self.client_lpars(self.system_of(DEST)))
        self.assertIsNotNone(self.lpar_on(SOURCE, server))
        self.assertFlavorMatchesUsage(self.rps[DEST])


class TestEvacuateFromVolume(RecoveryTestCase):
    """Volume-group disks, but the server boots from a volume: its volume
    follows it."""

    SHARED_SSP = False
    DISK_DRIVER = 'localdisk'

    def test_evacuate_then_the_host_comes_back(self):
        volume_id, lun = self.create_fc_volume(
            volume_id=base.SANCinderFixture.IMAGE_BACKED_VOL)
        server = self.boot_server(
            self.flavor['id'], imageRef='',
            block_device_mapping_v2=[base.volume_bdm(volume_id,
                                                     boot_index=0)],
            availability_zone='nova:%s' % SOURCE)
        source, dest = self.system_of(SOURCE), self.system_of(DEST)
        self.assertTrue(self.lun_mappings(source, lun))
        self.host_goes_down(SOURCE)
        server = self._evacuate_server(server, expected_host=DEST,
                                       expected_state='SHUTOFF')
        lpar_id = self.lpar_on(DEST, server).partition_id
        self.assertEqual({lpar_id}, {
            partition for _vios, partition in self.lun_mappings(dest, lun)})
        self.assertEqual([], self.boot_vdisks(dest))
        self.host_comes_back(SOURCE, 0)
        # The source let go of the LUN: no mapping, no hdisk.
        self.assertIsNone(self.lpar_on(SOURCE, server))
        self.assertEqual([], self.lun_mappings(source, lun))
        self.assertEqual({}, self.lun_hdisks(source, lun))
        self.assertEqual([volume_id], self.attached_volumes(server))
        server = self._start_server(server)
        self.assertEqual(base.LPAR_RUNNING, self.lpar_on(DEST, server).state)


class TestRebuild(RecoveryTestCase):

    def test_rebuild_with_a_new_image_keeps_the_partition(self):
        server = self.boot_on_source()
        lpar = self.lpar_on(SOURCE, server)
        image_id = self.create_image(NEW_IMAGE_DATA)
        server = self._rebuild_server(server, image_id)
        self.assertIs(lpar, self.lpar_on(SOURCE, server))
        self.assertEqual(base.LPAR_RUNNING, lpar.state)
        [lu] = self.boot_lus()
        self.assertEqual(NEW_IMAGE_DATA,
                         self.disk_bytes(lu, len(NEW_IMAGE_DATA)))
        self.assertFlavorMatchesAllocation(self.flavor, server['id'],
                                           self.rps[SOURCE])


    def test_a_failed_rebuild_gives_the_server_back(self):
        server = self.boot_on_source()
        lpar = self.lpar_on(SOURCE, server)
        [lu] = self.boot_lus()
        image_id = self.create_image(NEW_IMAGE_DATA)
        # Reading the pool for the new image fails.
        self.sim.faults.add(faults.FaultRule(
            method='GET', path='/LogicalUnit$', max_count=1,
            outcome=faults.internal_error('Injected.')))
        self.api.post_server_action(server['id'],
                                    {'rebuild': {'imageRef': image_id}})
        event = self._wait_for_instance_action_event(
            server, 'rebuild', 'compute_rebuild_instance', 'Error')
        self.assertIn('Injected', event['details'])
        server = self._wait_for_server_parameter(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})
        # Running on its old disk.  (nova 34 drops the server's
        # allocations after any failed rebuild on its host: nova-manage
        # placement heal_allocations gives them back.)
        self.assertIs(lpar, self.lpar_on(SOURCE, server))
        self.assertEqual(base.LPAR_RUNNING, lpar.state)
        self.assertEqual([lu], self.boot_lus())
        self.assertEqual(base.IMAGE_DATA,
                         self.disk_bytes(lu, len(base.IMAGE_DATA)))


class TestShelve(RecoveryTestCase):

    def setUp(self):
        super().setUp()
        # A boot disk the size of the image: the snapshot carries all of
        # it.
        self.flavor = self.api.get_flavor(self.create_flavor(disk=0))

    def test_shelve_offload_then_unshelve_on_the_same_host(self):
        server = self.boot_on_source()
        server = self._shelve_server(server)
        self.assertEqual([], self.client_lpars(self.system_of(SOURCE)))
        self.assertEqual([], self.boot_lus())
        self.api.post_server_action(server['id'],
                                    {'unshelve': {'host': SOURCE}})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assert_runs_on(SOURCE, server, 2048)
        [lu] = self.boot_lus()
        self.assertEqual(base.IMAGE_DATA,
                         self.disk_bytes(lu, len(base.IMAGE_DATA)))
        self.assertEqual(1, len(self.config_media(self.system_of(SOURCE))))

    def test_shelve_offload_then_unshelve_on_the_other_host(self):
        server = self.boot_on_source()
        server = self._shelve_server(server)
        # Offloaded: nothing of it is left on the host, and placement
        # holds nothing for it.
        self.assertEqual([], self.client_lpars(self.system_of(SOURCE)))
        self.assertEqual([], self.boot_lus())
        self.assertEqual([], self.config_media(self.system_of(SOURCE)))
        self.assertEqual([], self.disk_mappings(self.system_of(SOURCE)))
        self.assertFlavorMatchesUsage(self.rps[SOURCE])
        [upload] = self.snapshot_uploads.values()
        self.assertEqual(base.IMAGE_DATA,
                         upload.read(0, len(base.IMAGE_DATA)))
        self.api.post_server_action(server['id'],
                                    {'unshelve': {'host': DEST}})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assert_runs_on(DEST, server, 2048)
        [lu] = self.boot_lus()
        self.assertEqual(base.IMAGE_DATA,
                         self.disk_bytes(lu, len(base.IMAGE_DATA)))
        # The flavor's root disk is 0 GB: placement holds no DISK_GB.
        usages = self._get_provider_usages(self.rps[DEST])
        self.assertEqual((2, 2048), (usages['VCPU'], usages['MEMORY_MB']))
        self.assertFlavorMatchesUsage(self.rps[SOURCE])
