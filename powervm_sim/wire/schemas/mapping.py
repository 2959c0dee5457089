"""Schemas of vSCSI and virtual Fibre Channel mappings (VIOS sections)
and of the client adapters they create (LPAR children).

Inside a mapping the adapters, storage and target device are reached
through the mapping object with prefixed field paths ('client.slot',
'server.slot', 'vdisk.udid', 'target.lua'): a client's posted mapping then
parses into one flat dict whose keys cannot collide.  Only a LogicalUnit
keeps the SSP schema's own (unprefixed) fields.

Adapter bodies are templates: ``{p}`` is the path from the rendered object
to the adapter, empty where the adapter is the object itself.
"""

import textwrap

from powervm_sim.wire import spec
from powervm_sim.wire.schemas import io
from powervm_sim.wire.schemas import ssp

_ADAPTER_HEAD = '''
AdapterType : {side} ROR
DynamicReconfigurationConnectorName ~ {p}location_code CUD
LocationCode ~ {p}location_code ROR
LocalPartitionID {lpar_op} {p}{lpar_id}:int CUR
RequiredAdapter : false CUD
VariedOn : true CUD
UseNextAvailableSlotID = {p}use_next_slot:bool CUD
VirtualSlotNumber = {p}slot:int COD'''

_SCSI_CLIENT = _ADAPTER_HEAD + '''
RemoteLogicalPartitionID ~ {p}remote_lpar_id CUR
RemoteSlotNumber ~ {p}remote_slot CUA
ServerLocationCode ~ {p}server_location_code CUR'''

_SCSI_SERVER = _ADAPTER_HEAD + '''
AdapterName ~ {p}name CUR
BackingDeviceName ~ {p}backing_device_name CUR
RemoteLogicalPartitionID ~ {p}remote_lpar_id CUR
RemoteSlotNumber ~ {p}remote_slot CUA
ServerLocationCode ~ {p}client_location_code CUR
UniqueDeviceID ~ {p}udid ROR'''

_FC_CLIENT_HEAD = _ADAPTER_HEAD + '''
ConnectingPartitionID ~ {p}remote_lpar_id CUR
ConnectingVirtualSlotNumber ~ {p}remote_slot CUR'''

_WWPNS = '''
WWPNs = {p}wwpn_text CUR'''

_FC_SERVER = _ADAPTER_HEAD + '''
AdapterName ~ {p}name CUR
ConnectingPartitionID ~ {p}remote_lpar_id CUR
ConnectingVirtualSlotNumber ~ {p}remote_slot CUR
UniqueDeviceID ~ {p}udid ROR
MapPort ~ {p}map_port CUR
PhysicalPort ? {p}port CUD''' + textwrap.indent(
    textwrap.dedent(io.FC_PORT_BODY), '  ').rstrip()


def _adapter(template, side, indent, prefix='', lpar_id='lpar_id',
             lpar_op='='):
    """An adapter body at ``indent`` spaces."""
    body = template.format(side=side, p=prefix, lpar_id=lpar_id,
                           lpar_op=lpar_op)
    return textwrap.indent(textwrap.dedent(body), ' ' * indent)


def _server(template, indent, prefix='server.'):
    # The server's own partition is the VIOS: never a client's choice.
    return _adapter(template, 'Server', indent, prefix, lpar_id='vios_id',
                    lpar_op='~')


# ------------------------------------------------------------------ vSCSI
# Storage and target device: one alternative per kind of storage.
_STORAGE = '''
      Storage ? has_storage CUR
        VirtualDisk ? is_vdisk
          DiskCapacity ~ vdisk.capacity_gb CUR
          DiskLabel ~ vdisk.label CUR
          DiskName = vdisk.name CUR
          UniqueDeviceID = vdisk.udid ROR
          VirtualDiskType = vdisk.disk_type CUD
          BackStoreType = vdisk.backstore CUD
          RbdUser = vdisk.rbd_user CUD
        PhysicalVolume ? is_pv
          Description ~ pv.description CUD
          LocationCode ~ pv.location_code ROR
          PersistentReserveKeyValue ~ pv.reserve_key ROR
          ReservePolicy ~ pv.reserve_policy CUD
          ReservePolicyAlgorithm ~ pv.reserve_algorithm CUD
          UniqueDeviceID = pv.udid ROR
          AvailableForUsage ~ pv.available CUD
          VolumeCapacity ~ pv.capacity_mb CUR
          VolumeName = pv.name CUR
          VolumeState ~ pv.state ROR
          VolumeUniqueID ~ pv.unique_id ROR
          IsFibreChannelBacked ~ pv.fc_backed ROR
          StorageLabel ~ pv.storage_label ROR
          DescriptorPage83 ~ pv.page83 ROR
        VirtualOpticalMedia ? is_vopt
          MediaName = vopt.name CUR
          MediaUDID = vopt.udid ROR
          MountType ~ vopt.mount_type CUD
          Size ~ vopt.size_gb CUR
        LogicalUnit ? lu''' + textwrap.indent(
    spec.optional(ssp.LOGICAL_UNIT_BODY), ' ' * 4).rstrip()

_TARGET_KINDS = (
    ('is_vdisk', 'LogicalVolumeVirtualTargetDevice'),
    ('is_pv', 'PhysicalVolumeVirtualTargetDevice'),
    ('is_vopt', 'VirtualOpticalTargetDevice'),
    ('is_lu', 'SharedStoragePoolLogicalUnitVirtualTargetDevice'),
)

_TARGET = '\n      TargetDevice ? has_storage CUR' + ''.join('''
        %s ? %s
          LogicalUnitAddress = target.lua CUR
          TargetName = target.name CUR
          UniqueDeviceID ~ target.udid ROR''' % (tag, test)
    for test, tag in _TARGET_KINDS)

VIOS_SCSI_MAPPINGS = '''
  VirtualSCSIMappings [group=ViosSCSIMapping] * scsi_mappings CUD
    VirtualSCSIMapping
      AssociatedLogicalPartition -> client_lpar_href CUR
      ClientAdapter ? has_client CUR''' + _adapter(
    _SCSI_CLIENT, 'Client', 8, 'client.') + '''
      ServerAdapter CUR''' + _server(_SCSI_SERVER, 8) + _STORAGE + _TARGET

# ------------------------------------------------------------------- VFC
_PORT = '''
      Port ? has_port CUR
        LocationCode ~ port.location_code ROR
        PortName = port.name CUR
        UniqueDeviceID ~ port.udid ROR
        WWPN ~ port.wwpn CUR
        WWNN ~ port.wwnn ROO
        AvailablePorts ~ port.available_ports ROR
        TotalPorts ~ port.total_ports ROR'''

VIOS_FC_MAPPINGS = '''
  VirtualFibreChannelMappings [group=ViosFCMapping] * fc_mappings CUD
    VirtualFibreChannelMapping
      AssociatedLogicalPartition -> client_lpar_href CUR
      ClientAdapter ? has_client CUR''' + _adapter(
    _FC_CLIENT_HEAD + _WWPNS, 'Client', 8, 'client.') + _PORT + '''
      ServerAdapter CUR''' + _server(_FC_SERVER, 8) + '\n'

# ------------------------------------------------------ client adapters
VSCSI_CLIENT_ADAPTER = spec.compile_schema(
    'VirtualSCSIClientAdapter' + _adapter(_SCSI_CLIENT, 'Client', 2) + '''
  ServerAdapter ? server CUR''' + _server(_SCSI_SERVER, 4, prefix=''))

VFC_CLIENT_ADAPTER = spec.compile_schema(
    'VirtualFibreChannelClientAdapter' + _adapter(
        _FC_CLIENT_HEAD.replace(
            '\nConnectingPartitionID',
            '\nConnectingPartition -> {p}vios_href CUR'
            '\nConnectingPartitionID'), 'Client', 2) + '''
  ServerAdapter ? server CUR''' + _server(_FC_SERVER, 4, prefix='') +
    _adapter(_WWPNS, 'Client', 2) + '''
  NportLoggedInStatus * logins UOD
    VirtualFibreChannelNPortLoginStatus
      WWPN ~ wwpn ROR
      WWPNStatus ~ status UOD
      LoggedInBy : Unknown ROR
      StatusReason : MIG_PROP_DEFAULT_ENGLISH_MESSAGE=null, MIG_PROP_MESSAGE_ID=null, MIG_PROP_MESSAGE_PARMS=null, MIG_PROP_NLS_ENCODED_MSG_STRING= ROR
''')
