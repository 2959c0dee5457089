"""Cinder volumes: the adapter for each kind of connection, and what the
host offers storage back ends (connector.py).

nova hands the driver a volume's ``connection_info``; its
``driver_volume_type`` chooses the adapter: ``fibre_channel`` by ``[powervm]
fc_attach_strategy``, ``iscsi`` and ``iser``, and what the NovaLink
partition serves itself: ``local``, ``nfs`` and ``gpfs`` files, ``rbd``
images.  A kind this release cannot attach is refused before anything
changes.
"""

from nova import exception

from nova_powervm import conf
from nova_powervm.volume import fcvscsi
from nova_powervm.volume import iscsi
from nova_powervm.volume import npiv
from nova_powervm.volume import virtual_disk

CONF = conf.CONF

# Fibre Channel adapters by [powervm] fc_attach_strategy.
_FC_STRATEGIES = {'vscsi': fcvscsi.FCVscsiVolume, 'npiv': npiv.NPIVVolume}
# Adapters by driver_volume_type, Fibre Channel aside.
_ADAPTERS = {'iscsi': iscsi.ISCSIVolume, 'iser': iscsi.ISCSIVolume,
             'local': virtual_disk.FileVolume,
             'nfs': virtual_disk.FileVolume,
             'gpfs': virtual_disk.FileVolume,
             'rbd': virtual_disk.RBDVolume}


def adapter_for(adapter, instance, connection_info):
    """The VolumeAdapter of ``connection_info``, checked.

    :raises nova.exception.VolumeDriverNotFound: a kind of volume this
            driver does not attach.
    :raises nova.exception.InvalidVolume: connection_info lacks what its
            kind needs.
    """
    volume_type = connection_info.get('driver_volume_type')
    if volume_type == 'fibre_channel':
        strategy = CONF.powervm.fc_attach_strategy.lower()
        cls = _FC_STRATEGIES.get(strategy)
        if cls is None:
            raise exception.VolumeDriverNotFound(
                driver_type='fibre_channel (fc_attach_strategy %s)' %
                strategy)
    else:
        cls = _ADAPTERS.get(volume_type)
        if cls is None:
            raise exception.VolumeDriverNotFound(driver_type=volume_type)
    volume = cls(adapter, instance, connection_info)
    volume.check()
    return volume


def check_unencrypted(connection_info, encryption):
    """Refuse a volume nova would have to encrypt or decrypt on the host:
    the LPAR reaches its volumes through the VIOSes, not through this
    host's block layer, so there is nowhere to put the encryptor.

    :raises nova.exception.VolumeEncryptionNotSupported:
    """
    if encryption and encryption.get('provider'):
        raise exception.VolumeEncryptionNotSupported(
            volume_type=connection_info.get('driver_volume_type'),
            volume_id=connection_info.get('serial'))
