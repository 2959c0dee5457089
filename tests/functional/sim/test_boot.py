"""What a partition booted from: the PowerOn job's boot mode and the disk
the simulator starts the guest from (powervm_sim/model/boot.py)."""

import io

from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import power
from pypowervm.tasks import power_opts
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as tsk_stg
from pypowervm.wrappers import base_partition as pvm_bp
from pypowervm.wrappers import logical_partition as pvm_lpar
import testtools

from powervm_sim import fixture as sim_fixture
from powervm_sim.model import partition as part_mod


class TestBootMode(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(sim_fixture.NovaLinkFixture(lpars=1))
        self.adapter = self.sim.adapter()
        self.part = [p for p in self.sim.model.lpars() if not p.is_mgmt][0]
        self.vios, self.vios2 = self.sim.model.vioses()

    def lpar_w(self):
        return pvm_lpar.LPAR.get(self.adapter, uuid=self.part.uuid)

    def map_new_vdisk(self, name, vios=None):
        vios = vios or self.vios
        vdisk = tsk_stg.crt_vdisk(self.adapter, vios.uuid,
                                  vios.volume_groups[1].uuid, name, 1)
        scsi_mapper.add_vscsi_mapping(None, vios.uuid, self.part.uuid,
                                      vdisk)

    def start(self, mode=None):
        opts = power_opts.PowerOnOpts()
        if mode is not None:
            opts.bootmode(mode)
        power.power_on(self.lpar_w(), None, add_parms=opts)

    def test_never_started(self):
        self.assertIsNone(self.part.last_boot)

    def test_normal_boot_without_a_mode(self):
        self.start()
        self.assertEqual('norm', self.part.last_boot.mode)
        self.assertIsNone(self.part.last_boot.device)

    def test_partition_boot_mode_is_the_default(self):
        self.part.boot_mode = 'System_Management_Services'
        self.start()
        self.assertEqual('sms', self.part.last_boot.mode)

    def test_normal_boot_follows_the_boot_list(self):
        self.map_new_vdisk('bootdisk')
        self.map_new_vdisk('second')
        self.start(power_opts.BootMode.NORM)
        self.assertEqual('norm', self.part.last_boot.mode)
        self.assertEqual('bootdisk', self.part.last_boot.device)

    def test_sms_boot_takes_the_disk_mapped_last(self):
        self.map_new_vdisk('bootdisk')
        # Media are no disk to boot from.
        vopt, _ = tsk_stg.upload_vopt(self.adapter, self.vios.uuid,
                                      io.BytesIO(b'x' * 512), 'cfg',
                                      f_size=512)
        self.map_new_vdisk('rescue')
        scsi_mapper.add_vscsi_mapping(None, self.vios.uuid, self.part.uuid,
                                      vopt)
        self.start(power_opts.BootMode.SMS)
        self.assertEqual('sms', self.part.last_boot.mode)
        self.assertEqual('rescue', self.part.last_boot.device)

    def test_mappings_count_in_the_order_made_on_any_vios(self):
        # A disk of the second VIOS mapped before the rescue disk of the
        # first: SMS still takes the rescue disk, the newest.
        self.map_new_vdisk('bootdisk')
        self.map_new_vdisk('volume', vios=self.vios2)
        self.map_new_vdisk('rescue')
        self.start(power_opts.BootMode.SMS)
        self.assertEqual('rescue', self.part.last_boot.device)

    def test_each_start_is_recorded(self):
        self.map_new_vdisk('bootdisk')
        self.map_new_vdisk('rescue')
        self.start(power_opts.BootMode.SMS)
        power.PowerOp.stop(self.lpar_w(),
                           power_opts.PowerOffOpts().vsp_hard())
        self.start()
        self.assertEqual(('norm', 'bootdisk'), (
            self.part.last_boot.mode, self.part.last_boot.device))

    def test_boot_mode_on_the_wire(self):
        # NovaLink's PartitionBootMode values, not the job's.
        self.assertEqual(pvm_bp.BootMode.NORM, self.lpar_w().bootmode)
        lpar_w = self.lpar_w()
        lpar_w.bootmode = pvm_bp.BootMode.SMS
        lpar_w.update()
        self.assertEqual(pvm_bp.BootMode.SMS, self.lpar_w().bootmode)
        self.start()
        self.assertEqual('sms', self.part.last_boot.mode)

    def test_unknown_boot_mode_is_refused(self):
        lpar_w = self.lpar_w()
        lpar_w.set_parm_value('BootMode', 'norm')
        with testtools.ExpectedException(pvm_exc.HttpError, '.*400.*'):
            lpar_w.update()
        self.assertEqual(pvm_bp.BootMode.NORM, self.lpar_w().bootmode)

    def test_unknown_boot_mode_fails_the_job(self):
        # pypowervm's PowerOnOpts refuses it; its legacy dict does not.
        with testtools.ExpectedException(pvm_exc.VMPowerOnFailure,
                                         '.*HSCL0B5C.*'):
            power.power_on(self.lpar_w(), None,
                           add_parms={'bootmode': 'floppy'})
        self.assertEqual(part_mod.NOT_ACTIVATED, self.part.state)
        self.assertIsNone(self.part.last_boot)
