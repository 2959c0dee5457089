"""File records, uploads and the disk-backed content store."""

import hashlib
import io
import os
import threading
import tracemalloc

import fixtures
import testtools

from powervm_sim import files

VIOS = '1300C76F-9814-4A4D-B1F0-5B69352A7DEA'
UDID = '0300f8d6de00004b000000014a54555cd9.3'
KIB = 1024
MIB = 1024 * KIB


def _read(store, key):
    with store.open_reader(key) as blob:
        return b''.join(files.iter_chunks(blob))


def _sha(data):
    return hashlib.sha256(data).hexdigest()


class TestContentStore(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.store = files.ContentStore()
        self.addCleanup(self.store.close)

    def test_write_then_read(self):
        size = self.store.write_stream('disk', [b'abc', b'', b'defg'])
        self.assertEqual(7, size)
        self.assertEqual(7, self.store.size('disk'))
        self.assertTrue(self.store.exists('disk'))
        self.assertEqual(b'abcdefg', _read(self.store, 'disk'))

    def test_write_replaces_contents(self):
        self.store.write_stream('disk', [b'old contents'])
        self.store.write_stream('disk', [b'new'])
        self.assertEqual(b'new', _read(self.store, 'disk'))

    def test_unsafe_keys_stay_inside_the_root(self):
        keys = ['../../etc/passwd', 'a/b', 'con', 'ünïcode name.iso', '.']
        for n, key in enumerate(keys):
            self.store.write_stream(key, [b'%d' % n])
            self.assertEqual(self.store.root_dir,
                             os.path.dirname(self.store.path(key)))
        for n, key in enumerate(keys):
            self.assertEqual(b'%d' % n, _read(self.store, key))
        self.assertEqual(len(keys), len(os.listdir(self.store.root_dir)))

    def test_missing_blob(self):
        self.assertFalse(self.store.exists('nothing'))
        self.assertRaises(KeyError, self.store.open_reader, 'nothing')
        self.assertRaises(KeyError, self.store.size, 'nothing')

    def test_failed_write_keeps_old_contents_and_no_leftovers(self):
        self.store.write_stream('disk', [b'good'])

        def broken_upload():
            yield b'partial'
            raise ConnectionError('client went away')

        self.assertRaises(ConnectionError, self.store.write_stream, 'disk',
                          broken_upload())
        self.assertEqual(b'good', _read(self.store, 'disk'))
        self.assertEqual([os.path.basename(self.store.path('disk'))],
                         os.listdir(self.store.root_dir))

    def test_failed_first_write_creates_nothing(self):
        def write_then_fail():
            with self.store.open_writer('disk') as blob:
                blob.write(b'partial')
                raise RuntimeError('abort')

        self.assertRaises(RuntimeError, write_then_fail)
        self.assertFalse(self.store.exists('disk'))
        self.assertEqual([], os.listdir(self.store.root_dir))

    def test_copy(self):
        data = os.urandom(3 * MIB + 17)
        self.store.write_stream('image', [data])
        self.assertEqual(len(data), self.store.copy('image', 'clone'))
        self.store.write_stream('image', [b'changed later'])
        self.assertEqual(data, _read(self.store, 'clone'))

    def test_copy_of_missing_blob(self):
        self.assertRaises(KeyError, self.store.copy, 'nothing', 'clone')
        self.assertFalse(self.store.exists('clone'))

    def test_delete(self):
        self.store.write_stream('disk', [b'x'])
        self.assertTrue(self.store.delete('disk'))
        self.assertFalse(self.store.exists('disk'))
        self.assertFalse(self.store.delete('disk'))

    def test_sparse_disk_is_blank_and_not_written(self):
        self.store.sparse('disk', 64 * MIB)
        self.assertEqual(64 * MIB, self.store.size('disk'))
        with self.store.open_reader('disk') as blob:
            self.assertEqual(bytes(MIB), blob.read(MIB))
        allocated = os.stat(self.store.path('disk')).st_blocks * 512
        self.assertLess(allocated, MIB)

    def test_sparse_replaces_contents(self):
        self.store.write_stream('disk', [b'old'])
        self.store.sparse('disk', 2)
        self.assertEqual(b'\0\0', _read(self.store, 'disk'))

    def test_close_removes_its_own_directory(self):
        store = files.ContentStore()
        store.write_stream('disk', [b'x'])
        store.close()
        self.assertFalse(os.path.exists(store.root_dir))

    def test_close_keeps_a_given_directory(self):
        root = os.path.join(self.useFixture(fixtures.TempDir()).path, 'new')
        store = files.ContentStore(root)
        store.write_stream('disk', [b'x'])
        store.close()
        self.assertEqual(b'x', _read(files.ContentStore(root), 'disk'))

    def test_iter_chunks(self):
        chunks = list(files.iter_chunks(io.BytesIO(b'abcdefg'), 3))
        self.assertEqual([b'abc', b'def', b'g'], chunks)


class TestFileRegistry(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.store = files.ContentStore()
        self.addCleanup(self.store.close)
        self.registry = files.FileRegistry(self.store)

    def _create(self, **overrides):
        fields = {'filename': 'boot_image', 'file_enum_type':
                  files.DISK_IMAGE, 'media_type': 'application/octet-stream',
                  'target_vios_uuid': VIOS, 'target_udid': UDID}
        fields.update(overrides)
        return self.registry.create(**fields)

    def test_create_fills_in_the_server_fields(self):
        record = self._create(expected_size='12', sha256=_sha(b'x').upper())
        self.assertRegex(record.uuid, '^[0-9a-f-]{36}$')
        self.assertEqual(12, record.expected_size)
        self.assertEqual(_sha(b'x'), record.sha256)
        self.assertEqual(0, record.current_size)
        self.assertFalse(record.complete)
        self.assertIsInstance(record.date_modified, int)
        # Milliseconds since the epoch: after 2020.
        self.assertGreater(record.date_modified, 1577836800000)
        self.assertEqual(record, self.registry.get(record.uuid))

    def test_iso_needs_no_target_device(self):
        record = self._create(file_enum_type=files.MEDIA_ISO,
                              target_udid=None, filename='config.iso')
        self.assertEqual(files.MEDIA_ISO, record.file_enum_type)

    def test_invalid_fields_are_explained(self):
        cases = [
            ({'file_enum_type': 'BROKERED_FLOPPY'}, 'FileEnumType'),
            ({'filename': ''}, 'filename'),
            ({'target_vios_uuid': None}, 'target_vios_uuid'),
            ({'target_udid': None}, 'TargetDeviceUniqueDeviceID'),
            ({'colour': 'blue'}, 'colour'),
            ({'expected_size': 'big'}, 'ExpectedFileSizeInBytes'),
            ({'expected_size': -1}, 'ExpectedFileSizeInBytes'),
            ({'sha256': 'abc'}, 'SHA256'),
            ({'sha256': 'g' * 64}, 'SHA256'),
        ]
        for overrides, mentioned in cases:
            err = self.assertRaises(ValueError, self._create, **overrides)
            self.assertIn(mentioned, str(err))
        self.assertEqual([], self.registry.list())

    def test_get_list_delete(self):
        first, second = self._create(), self._create(filename='other')
        self.assertEqual({first.uuid, second.uuid},
                         {r.uuid for r in self.registry.list()})
        self.registry.delete(first.uuid)
        self.assertRaises(KeyError, self.registry.get, first.uuid)
        self.assertRaises(KeyError, self.registry.delete, first.uuid)
        self.assertEqual([second], self.registry.list())

    def test_records_handed_out_are_copies(self):
        record = self._create()
        record.complete = True
        self.assertFalse(self.registry.get(record.uuid).complete)

    def test_upload_completes_the_record(self):
        data = b'0123456789' * 1000
        record = self._create(expected_size=len(data), sha256=_sha(data))
        size = self.registry.upload(record.uuid, [data[:7], data[7:]], UDID)
        self.assertEqual(len(data), size)
        self.assertEqual(data, _read(self.store, UDID))
        stored = self.registry.get(record.uuid)
        self.assertTrue(stored.complete)
        self.assertEqual(len(data), stored.current_size)
        self.assertGreaterEqual(stored.date_modified, record.date_modified)

    def test_upload_without_checks(self):
        record = self._create(file_enum_type=files.MEDIA_ISO,
                              target_udid=None)
        self.assertEqual(3, self.registry.upload(record.uuid, [b'iso'],
                                                 'config.iso'))
        self.assertEqual(b'iso', _read(self.store, 'config.iso'))

    def test_upload_to_unknown_file(self):
        self.assertRaises(KeyError, self.registry.upload, 'no-such-uuid',
                          [b'x'], UDID)
        self.assertFalse(self.store.exists(UDID))

    def _assert_rejected_and_unchanged(self, record, chunks):
        self.store.write_stream(UDID, [b'previous'])
        self.assertRaises(ValueError, self.registry.upload, record.uuid,
                          chunks, UDID)
        self.assertEqual(b'previous', _read(self.store, UDID))
        self.assertFalse(self.registry.get(record.uuid).complete)
        self.assertEqual(0, self.registry.get(record.uuid).current_size)

    def test_sha_mismatch_leaves_old_contents(self):
        record = self._create(sha256=_sha(b'expected'))
        self._assert_rejected_and_unchanged(record, [b'corrupted'])

    def test_short_upload_is_rejected(self):
        record = self._create(expected_size=100)
        self._assert_rejected_and_unchanged(record, [b'x' * 99])

    def test_oversized_upload_stops_reading_early(self):
        consumed = []

        def body():
            for n in range(100):
                consumed.append(n)
                yield b'x' * 10

        record = self._create(expected_size=25)
        self._assert_rejected_and_unchanged(record, body())
        self.assertEqual(3, len(consumed))

    def test_large_upload_streams_in_bounded_memory(self):
        chunk = b'\xa5' * (64 * KIB)
        chunk_count = 64 * MIB // len(chunk)
        expected_sha = hashlib.sha256()
        for _ in range(chunk_count):
            expected_sha.update(chunk)
        record = self._create(expected_size=64 * MIB,
                              sha256=expected_sha.hexdigest())

        tracemalloc.start()
        self.addCleanup(tracemalloc.stop)
        size = self.registry.upload(
            record.uuid, (chunk for _ in range(chunk_count)), UDID)
        _current, peak = tracemalloc.get_traced_memory()

        self.assertEqual(64 * MIB, size)
        self.assertEqual(64 * MIB, self.store.size(UDID))
        self.assertLess(peak, 8 * MIB)

    def test_concurrent_uploads_keep_their_own_contents(self):
        records = [self._create(filename='f%d' % n) for n in range(6)]
        bodies = [os.urandom(256 * KIB) for _ in records]

        def upload(record, body):
            self.registry.upload(record.uuid, files.iter_chunks(
                io.BytesIO(body), 4 * KIB), record.filename)

        threads = [threading.Thread(target=upload, args=pair)
                   for pair in zip(records, bodies, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for record, body in zip(records, bodies, strict=True):
            self.assertEqual(body, _read(self.store, record.filename))
            self.assertTrue(self.registry.get(record.uuid).complete)
