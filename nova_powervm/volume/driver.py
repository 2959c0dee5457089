"""What every volume adapter (one per kind of Cinder connection) provides.

A volume reaches an LPAR through the VIOSes: each adapter makes the
volume's storage appear on them (an hdisk, a virtual disk, virtual FC
ports) and maps it to the instance's LPAR; disconnecting undoes both.
Adapters work from the volume's ``connection_info`` alone, and record
what they need to find the volume again (its UDID) in its ``data``, which
nova keeps with the block device mapping.
"""

import abc

from nova import exception
from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc

from nova_powervm import vm

LOG = logging.getLogger(__name__)


class VolumeAdapter(abc.ABC):
    """One Cinder volume of one instance.

    :param adapter: the pypowervm Adapter.
    :param instance: the nova instance.
    :param connection_info: the volume's connection_info from Cinder (its
                            ``data`` is updated in place).
    """

    def __init__(self, adapter, instance, connection_info):
        self.adapter = adapter
        self.instance = instance
        self.connection_info = connection_info

    @property
    def data(self):
        return self.connection_info.setdefault('data', {})

    @property
    def volume_id(self):
        """The Cinder volume's ID (nova's serial, else Cinder's own)."""
        return (self.connection_info.get('serial') or
                self.data.get('volume_id'))

    def describe(self):
        """The volume as the log names it."""
        return 'volume %s' % self.volume_id

    @abc.abstractmethod
    def check(self):
        """Refuse a connection_info this adapter cannot attach, before
        anything changes.

        :raises nova.exception.InvalidVolume: naming what is missing.
        """

    def connect(self):
        """Make the volume reachable by the instance's LPAR.

        Either it is, or nothing of it is left (what it made is undone).

        :raises nova.exception.VolumeAttachFailed: the LPAR cannot take
                new I/O now (running without RMC), or NovaLink failed it.
        """
        try:
            lpar_w = vm.get_lpar(self.adapter, self.instance)
            capable, reason = lpar_w.can_modify_io()
            if not capable:
                raise self.attach_failed(reason)
            self.connect_to_lpar()
        except pvm_exc.Error as exc:
            raise self.attach_failed(exc) from exc

    @abc.abstractmethod
    def connect_to_lpar(self):
        """connect's own work, once the LPAR can take it (pypowervm's
        errors become VolumeAttachFailed)."""

    @abc.abstractmethod
    def disconnect(self):
        """Remove the volume from the instance's LPAR (or from an LPAR
        that is gone), and what connect made for it; a volume that is not
        connected is fine."""

    @abc.abstractmethod
    def extend(self):
        """Make the LPAR able to see the volume's new size."""

    # ---------------------------------------------------- live migration
    def check_movable(self):
        """Refuse a volume that cannot follow its LPAR to another managed
        system (live migration).

        :raises nova.exception.MigrationPreCheckError: saying why.
        """
        LOG.debug('%s can follow its LPAR.', self.describe(),
                  instance=self.instance)

    def prepare_incoming(self):
        """Ready this host for the volume of an LPAR that migrates here,
        as far as NovaLink needs it to move the LPAR's mappings (nothing
        by default).  Either it is ready, or nothing of it is left;
        ``disconnect`` undoes it.

        :raises nova.exception.VolumeAttachFailed: it cannot be readied.
        """
        LOG.debug('%s needs nothing readied for the migration.',
                  self.describe(), instance=self.instance)

    def invalid(self, reason):
        """An InvalidVolume naming this volume."""
        return exception.InvalidVolume(
            reason='%s: %s' % (self.describe(), reason))

    def attach_failed(self, reason):
        return exception.VolumeAttachFailed(volume_id=self.volume_id,
                                            reason=reason)
