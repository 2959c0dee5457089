"""PowerVMLiveMigrateData: its fields, its versions and nova's use of it."""

from unittest import mock

from nova.compute import manager
from nova import objects
from nova.objects import base as obj_base
from oslo_serialization import jsonutils
from oslo_versionedobjects import fixture as ovo_fixture
import testtools

from nova_powervm import migrate_data

# Each field's version of arrival: an older peer must never get it.  From
# 1.2 on, the base class's fields, in the order nova added them.
_ADDED_IN = (
    ('1.1', 'vea_vlan_mappings'),
    ('1.2', 'old_vol_attachment_ids'),
    ('1.3', 'wait_for_vif_plugged'),
    ('1.4', 'vifs'),
    ('1.5', 'pci_dev_map_src_dst'),
)


def _full_object():
    """An object with every field set, as a live migration fills it."""
    return migrate_data.PowerVMLiveMigrateData(
        dest_sys_name='Server-8286-42A-SN21B63CV',
        dest_ip='192.0.2.20',
        dest_user_id='neo',
        public_key='ssh-rsa AAAAB3NzaC1yc2E neo@novalink2',
        dest_proc_compat='default,POWER7,POWER8',
        host_mig_data={'active_migrations_in_progress': '0',
                       'active_migrations_supported': '16'},
        vea_vlan_mappings={'fa:16:3e:00:00:01': '1234',
                           'fa:16:3e:00:00:02': None},
        vol_data={'vscsi-vol-1': 'hdisk4'},
        is_volume_backed=True,
        old_vol_attachment_ids={'vol-1': 'attachment-1'},
        wait_for_vif_plugged=True,
        vifs=[objects.VIFMigrateData(port_id='port-1', vif_type='ovs')],
        pci_dev_map_src_dst={})


def _data(primitive):
    return primitive['nova_object.data']


class TestFields(testtools.TestCase):

    def test_own_fields_are_nova_powervm_9s(self):
        own = (set(migrate_data.PowerVMLiveMigrateData.fields) -
               set(objects.migrate_data.LiveMigrateData.fields))
        self.assertEqual(
            {'dest_sys_name', 'dest_ip', 'dest_user_id', 'public_key',
             'dest_proc_compat', 'host_mig_data', 'vea_vlan_mappings',
             'vol_data'}, own)

    def test_dict_values_may_be_none_as_in_nova_powervm_9(self):
        # The fingerprint below does not see the values' nullability.
        for name in ('host_mig_data', 'vea_vlan_mappings', 'vol_data'):
            obj = migrate_data.PowerVMLiveMigrateData(**{name: {'k': None}})
            self.assertEqual({'k': None}, getattr(obj, name))

    def test_fingerprint_changes_only_with_a_new_version(self):
        # A change of fields or of their types without a new VERSION (and a
        # compatibility rule) breaks this: update both together.
        checker = ovo_fixture.ObjectVersionChecker(
            {'PowerVMLiveMigrateData': [migrate_data.PowerVMLiveMigrateData]})
        expected, actual = checker.test_hashes(
            {'PowerVMLiveMigrateData': '1.5-bb9215c2f7960822c647b2ee2cc5997e'})
        self.assertEqual(expected, actual)


class TestRegistration(testtools.TestCase):

    def test_nova_finds_the_class_by_its_name(self):
        self.assertIs(
            migrate_data.PowerVMLiveMigrateData,
            obj_base.NovaObject.obj_class_from_name(
                'PowerVMLiveMigrateData', '1.5'))
        self.assertIs(migrate_data.PowerVMLiveMigrateData,
                      objects.PowerVMLiveMigrateData)


class TestVersions(testtools.TestCase):

    def _fields_sent_to(self, version):
        # As nova backports for an older peer: with the peer's manifest.
        return set(_data(_full_object().obj_to_primitive(
            target_version=version,
            version_manifest={'VIFMigrateData': '1.0'})))

    def test_each_version_lacks_the_fields_added_after_it(self):
        every_field = set(_data(_full_object().obj_to_primitive()))
        for version in ('1.0', '1.1', '1.2', '1.3', '1.4'):
            later = {name for added, name in _ADDED_IN if added > version}
            self.assertEqual(every_field - later,
                             self._fields_sent_to(version), version)

    def test_current_version_keeps_every_field(self):
        self.assertEqual(migrate_data.PowerVMLiveMigrateData.VERSION,
                         _ADDED_IN[-1][0])
        self.assertEqual(set(_data(_full_object().obj_to_primitive())),
                         self._fields_sent_to(_ADDED_IN[-1][0]))


class TestRoundTrip(testtools.TestCase):

    def test_json_primitive_gives_back_an_equal_object(self):
        sent = _full_object()
        # Without a list of changed fields, whose order is a set's.
        sent.obj_reset_changes(recursive=True)
        # RPC carries the primitive as JSON.
        wire = jsonutils.loads(jsonutils.dumps(sent.obj_to_primitive()))
        got = obj_base.NovaObject.obj_from_primitive(wire)
        self.assertIsInstance(got, migrate_data.PowerVMLiveMigrateData)
        self.assertEqual(sent.obj_to_primitive(), got.obj_to_primitive())


class TestNovaCleanupAfterLiveMigration(testtools.TestCase):
    """What the docstring promises the driver about nova's clean-up."""

    def test_no_driver_cleanup_and_no_disks_destroyed(self):
        flags = manager.ComputeManager._live_migration_cleanup_flags(
            mock.sentinel.manager, _full_object())
        self.assertEqual((False, False), flags)
