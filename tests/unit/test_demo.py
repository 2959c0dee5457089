"""The demo's bookkeeping: received images, leftovers."""

import testtools

from nova_powervm import demo


class TestReceivedImage(testtools.TestCase):

    def receive(self, *chunks):
        received = demo.ReceivedImage()
        for chunk in chunks:
            received.add(chunk)
        return received

    def test_keeps_only_chunks_with_data(self):
        received = self.receive(b'ab', b'\0\0', b'c\0')
        self.assertEqual(6, received.size)
        self.assertEqual({0: b'ab', 4: b'c\0'}, received.chunks)

    def test_holds_data_then_zeros(self):
        received = self.receive(b'abc', b'd\0\0', b'\0\0\0')
        self.assertTrue(received.holds(b'abcd', 9))

    def test_other_size_does_not_hold(self):
        received = self.receive(b'abc', b'd\0\0')
        self.assertFalse(received.holds(b'abcd', 9))

    def test_different_data_does_not_hold(self):
        received = self.receive(b'abc', b'x\0\0')
        self.assertFalse(received.holds(b'abcd', 6))

    def test_bytes_after_the_data_do_not_hold(self):
        received = self.receive(b'abc', b'd\0\0', b'\0\x01\0')
        self.assertFalse(received.holds(b'abcd', 9))

    def test_missing_data_does_not_hold(self):
        received = self.receive(b'\0\0\0', b'd\0\0')
        self.assertFalse(received.holds(b'abcd', 6))


class TestImageCache(testtools.TestCase):

    def test_image_cache_volume_is_kept(self):
        self.assertTrue(demo.is_image_cache('disk i_0123 on vios1'))

    def test_boot_disk_and_other_leftovers_are_not(self):
        for held in ('disk b_0123 on vios1', 'media cfg_demo_1.iso on vios1',
                     'client LPAR i_demo'):
            self.assertFalse(demo.is_image_cache(held), held)
