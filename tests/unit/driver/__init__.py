"""Unit tests of the driver's pure logic (no NovaLink, no network)."""

from nova import objects

# The tests build nova objects (Instance, Flavor, ImageMeta).
objects.register_all()
