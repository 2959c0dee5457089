"""State behind NovaLink's web File API: file records and blob contents.

pypowervm uploads a disk image or an ISO in two steps: it creates a File
record describing the target, then streams the contents (chunked, of
unknown length) to it. Contents land in a ContentStore blob named by the
caller (a disk's UDID, a media's name). Blobs live on disk and are only
ever streamed, so multi-gigabyte images never sit in memory.
"""

import contextlib
import dataclasses
import hashlib
import os
import shutil
import tempfile
import threading
import time
import uuid as uuid_mod

CHUNK_SIZE = 1024 * 1024

DISK_IMAGE = 'BROKERED_DISK_IMAGE'
MEDIA_ISO = 'BROKERED_MEDIA_ISO'
FILE_ENUM_TYPES = (DISK_IMAGE, MEDIA_ISO)


def iter_chunks(file_obj, chunk_size=CHUNK_SIZE):
    """Yield a binary file's contents (a blob, a request body) in chunks."""
    while chunk := file_obj.read(chunk_size):
        yield chunk


def _now_ms():
    return int(time.time() * 1000)


@dataclasses.dataclass
class FileRecord:
    """One File entry of /rest/api/web/File."""

    uuid: str
    filename: str
    media_type: str
    file_enum_type: str
    target_vios_uuid: str
    target_udid: str | None = None
    expected_size: int | None = None
    sha256: str | None = None
    current_size: int = 0
    date_modified: int = dataclasses.field(default_factory=_now_ms)
    complete: bool = False


class ContentStore:
    """Blobs on disk, keyed by arbitrary strings.

    Every write goes to a temporary file renamed over the blob only when it
    succeeds, so readers see the old or the new contents, never a mix, and
    a failed write leaves the old contents in place.

    :param root_dir: where blobs are kept. Default: a private temporary
                     directory that close() removes; a given one is kept.
    """

    def __init__(self, root_dir=None):
        self._owns_root = root_dir is None
        if root_dir is None:
            root_dir = tempfile.mkdtemp(prefix='powervm-sim-content-')
        else:
            os.makedirs(root_dir, exist_ok=True)
        self.root_dir = root_dir

    def path(self, key):
        """The blob's file (it may not exist yet)."""
        # Keys are UDIDs or user-chosen media names; hash them into safe,
        # fixed-length file names.
        name = hashlib.sha256(key.encode('utf-8')).hexdigest()
        return os.path.join(self.root_dir, name)

    @contextlib.contextmanager
    def open_writer(self, key):
        """Write a blob's new contents through a binary file object.

        The contents replace the blob only if the with-block succeeds.
        """
        fd, temp_path = tempfile.mkstemp(dir=self.root_dir, prefix='.new-')
        try:
            with os.fdopen(fd, 'wb') as temp_file:
                yield temp_file
            os.replace(temp_path, self.path(key))
        except BaseException:
            os.unlink(temp_path)
            raise

    def write_stream(self, key, chunks):
        """Replace a blob with the concatenated chunks; returns its size."""
        size = 0
        with self.open_writer(key) as blob:
            for chunk in chunks:
                blob.write(chunk)
                size += len(chunk)
        return size

    def open_reader(self, key):
        """The blob as a binary file object; the caller closes it.

        :raises KeyError: if the blob does not exist.
        """
        try:
            return open(self.path(key), 'rb')
        except FileNotFoundError:
            raise KeyError(key) from None

    def size(self, key):
        """The blob's size in bytes.

        :raises KeyError: if the blob does not exist.
        """
        try:
            return os.path.getsize(self.path(key))
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key):
        return os.path.exists(self.path(key))

    def copy(self, src_key, dst_key):
        """Stream one blob's contents into another; returns the size.

        :raises KeyError: if the source blob does not exist.
        """
        with self.open_reader(src_key) as source, \
                self.open_writer(dst_key) as target:
            # A disk made from a sparse image stays sparse: a 1 GB volume
            # holding a few MB must not cost a 1 GB write.
            copy_data_regions(source, target)
            size = os.fstat(source.fileno()).st_size
            target.truncate(size)
            return size

    def delete(self, key):
        """Remove a blob; returns whether it existed."""
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            return False
        return True

    def sparse(self, key, size):
        """Make a blob of size zero bytes without writing them (a new disk)."""
        with self.open_writer(key) as blob:
            blob.truncate(size)

    def close(self):
        """Remove the blobs, if this store made its own directory."""
        if self._owns_root:
            shutil.rmtree(self.root_dir, ignore_errors=True)


_REQUIRED_FIELDS = ('filename', 'media_type', 'file_enum_type',
                    'target_vios_uuid')
_OPTIONAL_FIELDS = ('target_udid', 'expected_size', 'sha256')


def _check_fields(fields):
    unknown = sorted(set(fields) - set(_REQUIRED_FIELDS + _OPTIONAL_FIELDS))
    if unknown:
        raise ValueError('Unknown File fields: %s' % ', '.join(unknown))
    missing = [name for name in _REQUIRED_FIELDS if not fields.get(name)]
    if missing:
        raise ValueError('Missing File fields: %s' % ', '.join(missing))
    if fields['file_enum_type'] not in FILE_ENUM_TYPES:
        raise ValueError('FileEnumType must be one of %s, not %r'
                         % (', '.join(FILE_ENUM_TYPES),
                            fields['file_enum_type']))
    if fields['file_enum_type'] == DISK_IMAGE and not fields.get(
            'target_udid'):
        raise ValueError('A %s upload needs TargetDeviceUniqueDeviceID'
                         % DISK_IMAGE)


def _expected_size(value):
    if value is None:
        return None
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise ValueError('ExpectedFileSizeInBytes must be an integer, not %r'
                         % (value,)) from None
    if size < 0:
        raise ValueError('ExpectedFileSizeInBytes must not be negative')
    return size


def _sha256(value):
    if value is None:
        return None
    digest = value.strip().lower()
    if len(digest) != 64 or any(c not in '0123456789abcdef' for c in digest):
        raise ValueError('SHA256 must be 64 hexadecimal digits, not %r'
                         % (value,))
    return digest


class FileRegistry:
    """The File records and their uploads; safe to share between threads.

    Records handed out are copies: change them through this registry.
    """

    def __init__(self, content_store):
        self.content = content_store
        self._records = {}
        self._lock = threading.Lock()

    def create(self, **fields):
        """Create a File record from its fields; returns a copy of it.

        :raises ValueError: on unknown or missing fields, an unknown
                            file_enum_type, a bad size or checksum.
        """
        _check_fields(fields)
        fields['expected_size'] = _expected_size(fields.get('expected_size'))
        fields['sha256'] = _sha256(fields.get('sha256'))
        record = FileRecord(uuid=str(uuid_mod.uuid4()), **fields)
        with self._lock:
            self._records[record.uuid] = record
            return dataclasses.replace(record)

    def get(self, uuid):
        """:raises KeyError: if there is no such File."""
        with self._lock:
            return dataclasses.replace(self._records[uuid])

    def list(self):
        with self._lock:
            return [dataclasses.replace(r) for r in self._records.values()]

    def delete(self, uuid):
        """:raises KeyError: if there is no such File."""
        with self._lock:
            del self._records[uuid]

    def upload(self, uuid, chunks, sink_key):
        """Stream a File's contents into the blob sink_key; returns the size.

        When the record gives an expected size or SHA-256, contents that do
        not match raise ValueError and leave the blob as it was.
        :raises KeyError: if there is no such File.
        """
        record = self.get(uuid)
        digest = hashlib.sha256()
        size = 0
        with self.content.open_writer(sink_key) as blob:
            for chunk in chunks:
                size += len(chunk)
                _check_not_oversized(record, size)
                digest.update(chunk)
                blob.write(chunk)
            _check_contents(record, size, digest.hexdigest())
        with self._lock:
            stored = self._records.get(uuid)
            if stored is not None:
                stored.current_size = size
                stored.date_modified = _now_ms()
                stored.complete = True
        return size


def _check_not_oversized(record, size):
    # Stop reading at once rather than filling the disk with a runaway body.
    if record.expected_size is not None and size > record.expected_size:
        raise ValueError('File %s got more than its expected %d bytes'
                         % (record.uuid, record.expected_size))


def _check_contents(record, size, sha256):
    if record.expected_size is not None and size != record.expected_size:
        raise ValueError('File %s got %d bytes, expected %d'
                         % (record.uuid, size, record.expected_size))
    if record.sha256 is not None and sha256 != record.sha256:
        raise ValueError('File %s contents have SHA256 %s, expected %s'
                         % (record.uuid, sha256, record.sha256))


def copy_data_regions(reader, writer):
    """Stream the data regions of file ``reader`` into file ``writer`` at
    the same offsets; holes are skipped, so a sparse blob stays sparse.
    """
    fd = reader.fileno()
    end = os.fstat(fd).st_size
    offset = 0
    while offset < end:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError:
            # ENXIO: nothing but a hole from offset to the end.
            break
        stop = os.lseek(fd, start, os.SEEK_HOLE)
        reader.seek(start)
        writer.seek(start)
        remaining = stop - start
        while remaining > 0:
            chunk = reader.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            writer.write(chunk)
            remaining -= len(chunk)
        offset = stop
