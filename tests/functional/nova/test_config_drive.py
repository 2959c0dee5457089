"""config_drive=True through nova's API: virtual optical media on a VIOS.
"""

import io
import json
import types

import pycdlib

from nova_powervm import media
from tests.functional.nova import base

_HOST = 'host1'
_META_DATA = '/openstack/latest/meta_data.json'


class TestConfigDrive(base.PowerVMTestCase):

    def setUp(self):
        super().setUp()
        self.start_powervm_compute(_HOST)
        self.system = self.system_of(_HOST)

    def read_metadata(self, medium):
        """The nova metadata in the medium's ISO image."""
        with open(self.sim.model.content.path(medium.content_key),
                  'rb') as blob:
            image = io.BytesIO(blob.read())
        iso = pycdlib.PyCdlib()
        iso.open_fp(image)
        self.addCleanup(iso.close)
        self.assertEqual(b'config-2', iso.pvd.volume_identifier.rstrip(b' '))
        data = io.BytesIO()
        iso.get_file_from_iso_fp(data, rr_path=_META_DATA)
        return json.loads(data.getvalue())

    def test_config_drive_is_mapped_media_and_goes_with_the_server(self):
        server = self.boot_server(self.create_flavor(), config_drive=True,
                                  metadata={'role': 'web'})
        self.assertEqual('True', server['config_drive'])
        [medium] = self.config_media(self.system)
        # Named after the instance, as media_name names it.
        instance = types.SimpleNamespace(
            name=server['OS-EXT-SRV-ATTR:instance_name'])
        self.assertEqual(media.media_name(instance), medium.name)
        metadata = self.read_metadata(medium)
        self.assertEqual(server['id'], metadata['uuid'])
        self.assertEqual({'role': 'web'}, metadata['meta'])
        # Mapped to the server's LPAR, which booted with it.
        lpar = self.lpar_of(server)
        self.assertEqual([(lpar.partition_id, medium.name)],
                         [(mapping.server.remote_lpar_id,
                           mapping.storage.name)
                          for mapping in self.vopt_mappings(self.system)])
        self.assertEqual(base.LPAR_RUNNING, lpar.state)

        self._delete_server(server)
        self.assertEqual([], self.config_media(self.system))
        self.assertEqual([], self.vopt_mappings(self.system))
        self.assertEqual([], self.client_lpars(self.system))
