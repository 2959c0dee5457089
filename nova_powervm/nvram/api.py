"""What an NVRAM store does: keep each instance's NVRAM by its UUID."""

import abc


class StoreError(Exception):
    """The store could not do what was asked (the manager retries)."""


class NvramStore(abc.ABC):
    """Keeps the NVRAM of instances, by nova instance UUID.

    The manager calls these from its own thread (and ``fetch``, and a save
    before a move, from nova's); an implementation bounds each call's time
    and raises StoreError (or anything) when it fails.
    """

    @abc.abstractmethod
    def store(self, instance_uuid, data):
        """Keep ``data`` (bytes) as the instance's NVRAM."""

    @abc.abstractmethod
    def fetch(self, instance_uuid):
        """The instance's NVRAM (bytes), or None when none is kept."""

    @abc.abstractmethod
    def delete(self, instance_uuid):
        """Forget the instance's NVRAM; none kept is fine."""
