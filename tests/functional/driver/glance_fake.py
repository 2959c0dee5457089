"""Glance for the driver's functional tests: images with real bytes.

The driver reaches Glance through ``nova.image.glance.API``; this fixture
stands in for the image service behind it.  Downloads are streamed in
chunks; an upload is consumed chunk by chunk too and kept sparse (only the
chunks that are not all zeros), so a snapshot of a 1 GB disk holding a few
MB of image costs those few MB.
"""

import copy
import threading

import fixtures
from nova import exception
from oslo_utils import uuidutils

from nova_powervm import demo

CHUNK = demo.CHUNK


class Upload(demo.ReceivedImage):
    """The bytes an image received, without its runs of zeros."""

    def read(self, offset, size):
        """``size`` bytes from ``offset``, as the image received them."""
        out = bytearray(size)
        for start, chunk in self.chunks.items():
            low, high = max(start, offset), min(start + len(chunk),
                                                offset + size)
            if low < high:
                out[low - offset:high - offset] = chunk[low - start:
                                                        high - start]
        return bytes(out)


class GlanceFake(fixtures.Fixture):
    """Images in memory, served through nova's image API.

    ``downloads`` counts the downloads of each image; ``uploads`` holds
    what each image received.  ``during_upload``, if set, is called as an
    upload starts; ``fail_upload``, an exception, makes the next uploads
    raise it after reading part of the data.
    """

    def __init__(self):
        super().__init__()
        self.images = {}
        self.downloads = {}
        self.uploads = {}
        self.during_upload = None
        self.fail_upload = None
        self._lock = threading.Lock()

    def _setUp(self):
        self.useFixture(fixtures.MockPatch(
            'nova.image.glance.get_remote_image_service',
            lambda context, image_href: (self, image_href)))

    def add_image(self, data, disk_format='raw', **properties):
        """A new active image holding ``data``; returns its metadata."""
        image_id = uuidutils.generate_uuid()
        meta = {'id': image_id, 'name': 'image-%s' % image_id[:8],
                'status': 'active', 'disk_format': disk_format,
                'container_format': 'bare', 'size': len(data),
                'min_disk': 0, 'min_ram': 0, 'properties': properties}
        with self._lock:
            self.images[image_id] = (meta, bytes(data))
            self.downloads[image_id] = 0
        return copy.deepcopy(meta)

    def add_snapshot_target(self):
        """An image nova created for a snapshot: metadata, no data yet."""
        image_id = uuidutils.generate_uuid()
        meta = {'id': image_id, 'name': 'snapshot-%s' % image_id[:8],
                'status': 'queued', 'properties': {}}
        with self._lock:
            self.images[image_id] = (meta, None)
        return image_id

    def show(self, context, image_id, include_locations=False,
             show_deleted=True):
        with self._lock:
            if image_id not in self.images:
                raise exception.ImageNotFound(image_id=image_id)
            return copy.deepcopy(self.images[image_id][0])

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        self.show(context, image_id)
        with self._lock:
            self.downloads[image_id] += 1
            content = self.images[image_id][1]
        return (content[start:start + CHUNK]
                for start in range(0, len(content), CHUNK))

    def update(self, context, image_id, metadata, data=None,
               purge_props=False):
        self.show(context, image_id)
        upload = Upload()
        if self.during_upload is not None:
            self.during_upload()
        if data is not None:
            self._receive(data, upload)
        with self._lock:
            meta = self.images[image_id][0]
            meta['properties'].update(metadata.get('properties', {}))
            meta.update({key: value for key, value in metadata.items()
                         if key != 'properties'})
            meta.update(status='active', size=upload.size)
            self.uploads[image_id] = upload
            self.images[image_id] = (meta, None)
            return copy.deepcopy(meta)

    def _receive(self, data, upload):
        chunks = (iter(lambda: data.read(CHUNK), b'')
                  if hasattr(data, 'read') else iter(data))
        for chunk in chunks:
            upload.add(chunk)
            if self.fail_upload is not None and upload.size >= CHUNK:
                raise self.fail_upload
