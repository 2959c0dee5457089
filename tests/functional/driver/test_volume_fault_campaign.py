"""Every REST call of a volume attach, a volume detach and a spawn from a
boot volume, failed in turn (the campaign of test_fault_campaign.py).

An attach ends attached on every VIOS, or failed with VolumeAttachFailed
and nothing of the volume left; a detach ends with the volume gone, or
fails and is tried again as nova would; a boot-from-volume spawn ends
running or failed with nothing of the instance or its volume left.  The
one thing a failure may leave is an hdisk a VIOS configured while the
answer to the discovery was lost before any VIOS told its UDID: unmapped,
it belongs to no partition, and the next attach of the LUN finds it.
"""

from nova import exception
from oslo_utils import uuidutils

from tests.functional.driver import fixtures
from tests.functional.driver import test_fault_campaign as campaign

# Jobs that configure a volume's hdisk on a VIOS.  A lost answer to the
# only one that ran leaves its hdisk (see the module's docstring).
DISCOVERIES = ('LUARecovery', 'ISCSIDiscovery')
LOST_ANSWERS = (campaign.DROP_AFTER.name,)


def _discovery_lost(call, fault):
    return call.job in DISCOVERIES and fault.name in LOST_ANSWERS


class VolumeCampaignTestCase(campaign.FaultCampaignTestCase):
    """The volumes of one protocol: how to make one and how to see it in
    the simulator (an FC LUN by default)."""

    # The VIOSes that serve a volume of this protocol.
    SERVING_VIOSES = 2

    def new_volume(self):
        """(what the simulator knows it by, connection_info)."""
        return self.fc_volume()

    def mappings_of(self, handle):
        """{VIOS name: partition ID} of the volume's mappings."""
        return self.mapped_to(handle)

    def leftovers(self, handle):
        """What of the volume a VIOS keeps besides mappings."""
        return self.hdisks_of(handle)

    def assert_attached(self, instance, handle):
        lpar_id = self.lpar_of(instance).partition_id
        mapped = self.mappings_of(handle)
        self.assertEqual(self.SERVING_VIOSES, len(mapped))
        self.assertEqual({lpar_id}, set(mapped.values()))

    def assert_not_attached(self, handle, call, fault):
        self.assertEqual({}, self.mappings_of(handle))
        if not _discovery_lost(call, fault):
            self.assertFalse(self.leftovers(handle))

    def assert_gone(self, handle):
        self.assertEqual({}, self.mappings_of(handle))
        self.assertFalse(self.leftovers(handle))

    def attach(self, instance, info):
        self.tracker.step = 'attach_volume'
        self.driver.attach_volume(self.context, info, instance, '/dev/sdb')

    def detach(self, instance, info):
        self.tracker.step = 'detach_volume'
        self.driver.detach_volume(self.context, info, instance, '/dev/sdb')


class ISCSIVolumes:
    """iSCSI LUNs: the hdisks each VIOS logged in to, and its sessions."""

    def new_volume(self):
        lun = self.sim.iscsi_lun()
        return lun, {'driver_volume_type': 'iscsi',
                     'serial': uuidutils.generate_uuid(),
                     'data': lun.connection_data()}

    def leftovers(self, handle):
        return list(self.hdisks_of(handle).items()) + [
            (vios.name, session)
            for vios in self.sim.model.vioses(self.system)
            for session in vios.iscsi_sessions]


class RBDVolumes:
    """Ceph images, served by the NovaLink partition."""

    NOVALINK_IO = True
    SERVING_VIOSES = 1

    def new_volume(self):
        name = self.sim.rbd_image()
        return name, {'driver_volume_type': 'rbd',
                      'serial': uuidutils.generate_uuid(),
                      'data': {'name': name}}

    def mappings_of(self, handle):
        novalink = self.system.mgmt_partition
        clients = [mapping.server.remote_lpar_id
                   for mapping in novalink.scsi_mappings
                   if mapping.vdisk is not None and
                   mapping.vdisk.name == handle]
        self.assertLessEqual(len(clients), 1)
        return dict.fromkeys([novalink.name], clients[0]) if clients else {}

    def leftovers(self, handle):
        # The served disk goes with its mapping.
        return []


class AttachCampaign:

    def setUp(self):
        super().setUp()
        self.instance = self.running_instance()

    def run_attach(self, prepared, call, fault):
        handle, info = prepared
        expected = (None if campaign.survivable(call)
                    else exception.VolumeAttachFailed)
        failed = self.ends_as(expected, self.attach, self.instance, info)
        if failed:
            self.assert_not_attached(handle, call, fault)
        else:
            self.assert_attached(self.instance, handle)
            self.detach(self.instance, info)
        self.assertEqual({}, self.mappings_of(handle))
        return failed

    def test_every_call_of_attach(self):
        calls = self.record(
            lambda prepared: self.attach(self.instance, prepared[1]),
            self.new_volume,
            lambda prepared: self.detach(self.instance, prepared[1]))
        self.report('%s attach' % self.PROTOCOL, self.campaign(
            calls, self.new_volume, self.run_attach))


class DetachCampaign:

    def setUp(self):
        super().setUp()
        self.instance = self.running_instance()

    def attached(self):
        handle, info = self.new_volume()
        self.attach(self.instance, info)
        return handle, info

    def run_detach(self, prepared, call, fault):
        handle, info = prepared
        try:
            self.detach(self.instance, info)
        except exception.NovaException:
            # What nova does next: detach again, once NovaLink is back.
            self.detach(self.instance, info)
            failed = True
        else:
            failed = False
        self.assert_gone(handle)
        return failed

    def test_every_call_of_detach(self):
        calls = self.record(
            lambda prepared: self.detach(self.instance, prepared[1]),
            self.attached, lambda prepared: None)
        self.report('%s detach' % self.PROTOCOL, self.campaign(
            calls, self.attached, self.run_detach))


class TestFCAttachCampaign(AttachCampaign, VolumeCampaignTestCase):
    PROTOCOL = 'FC volume'


class TestFCDetachCampaign(DetachCampaign, VolumeCampaignTestCase):
    PROTOCOL = 'FC volume'


class TestISCSIAttachCampaign(ISCSIVolumes, AttachCampaign,
                              VolumeCampaignTestCase):
    PROTOCOL = 'iSCSI volume'


class TestISCSIDetachCampaign(ISCSIVolumes, DetachCampaign,
                              VolumeCampaignTestCase):
    PROTOCOL = 'iSCSI volume'


class TestRBDAttachCampaign(RBDVolumes, AttachCampaign,
                            VolumeCampaignTestCase):
    PROTOCOL = 'RBD volume'


class TestRBDDetachCampaign(RBDVolumes, DetachCampaign,
                            VolumeCampaignTestCase):
    PROTOCOL = 'RBD volume'


class TestBootFromVolumeCampaign(VolumeCampaignTestCase):

    def boot_volume(self):
        """An instance to boot from a new volume."""
        lun, info = self.fc_volume(size_gb=10)
        return self.new_instance(), lun, fixtures.DriverBDM(info,
                                                            boot_index=0)

    def spawn_from(self, prepared):
        instance, _lun, bdm = prepared
        self.tracker.step = None
        self.driver.spawn(self.context, instance, self.image_meta(), [],
                          None, {}, network_info=self.network_info,
                          block_device_info=fixtures.block_device_info(bdm))

    def destroy_of(self, prepared):
        instance, lun, bdm = prepared
        self.tracker.step = None
        self.driver.destroy(self.context, instance, self.network_info,
                            block_device_info=fixtures.block_device_info(
                                bdm))
        self.assert_gone(lun)
        self.assert_nothing_left(instance)

    def run_spawn(self, prepared, call, fault):
        instance, lun, _bdm = prepared
        expected = None
        if not campaign.survivable(call):
            expected = (exception.VolumeAttachFailed
                        if call.step.startswith('connect_volume')
                        else campaign.SPAWN_STEP_ERRORS[call.step])
        failed = self.ends_as(expected, self.spawn_from, prepared)
        if failed:
            self.assert_not_attached(lun, call, fault)
            self.assert_nothing_left(instance)
        else:
            self.assertEqual([], self.boot_vdisks())
            self.assert_attached(instance, lun)
        self.destroy_of(prepared)
        return failed

    def test_every_call_of_a_boot_from_volume_spawn(self):
        # The host facts a first deploy reads are kept for the later ones:
        # the campaign is about those.
        first = self.boot_volume()
        self.spawn_from(first)
        self.destroy_of(first)
        calls = self.record(self.spawn_from, self.boot_volume,
                            self.destroy_of)
        self.assertIn('LUARecovery', {call.job for call in calls})
        self.report('boot from volume', self.campaign(
            calls, self.boot_volume, self.run_spawn))
