"""Schemas of storage: volume groups, virtual disks, physical volumes,
virtual optical media (and their VIOS sections).

The nested objects are written once and shared by the VolumeGroup document
and the VirtualIOServer sections that show the same objects.
"""

from powervm_sim.wire import spec

# Encryption of a disk (PhysicalVolume or VirtualDisk), at its indentation.
_ENCRYPTION = '''
      EncryptionState ~ encryption_state CUD
      EncryptionAgent ? luks CUD
        LUKSEncryptor
          Cipher ~ cipher CUD
          KeySize ~ key_size:int CUD
          Hash ~ hash_spec CUD'''

# A physical volume at indentation 4 (also listed under the FC port that
# reaches it, see io.py).
PHYSICAL_VOLUME = '''
    PhysicalVolume
      ReadIOPS ~ read_iops:int CUD
      WriteIOPS ~ write_iops:int CUD''' + _ENCRYPTION + '''
      Description ~ description CUD
      LocationCode ~ location_code ROR
      PersistentReserveKeyValue ~ reserve_key ROR
      ReservePolicy ~ reserve_policy CUD
      ReservePolicyAlgorithm ~ reserve_algorithm CUD
      UniqueDeviceID ~ udid ROR
      AvailableForUsage ~ available:bool CUD
      VolumeCapacity ~ capacity_mb:int CUR
      VolumeName = name CUR
      VolumeState ~ state ROR
      VolumeUniqueID ~ unique_id ROR
      IsFibreChannelBacked ~ fc_backed:bool ROR
      StorageLabel ~ storage_label ROR
      DescriptorPage83 ~ page83 ROR
'''

_MEDIA_REPOSITORY = '''
    VirtualMediaRepository
      OpticalMedia * media CUD
        VirtualOpticalMedia
          MediaName [required] = name CUR
          MediaUDID ~ udid ROR
          MountType = mount_type CUD
          Size = size_gb:float CUR
      RepositoryName [required] = name CUR
      RepositorySize = size_gb:float CUR
'''

_VIRTUAL_DISK = '''
    VirtualDisk
      ReadIOPS = read_iops:int CUD
      WriteIOPS = write_iops:int CUD''' + _ENCRYPTION + '''
      DiskCapacity = capacity_gb:float CUR
      DiskLabel = label CUR
      DiskName [required] = name CUR
      VolumeGroup -> vg_href
      BaseImage = base_image CUD
      UniqueDeviceID ~ udid ROR
      FileFormat = file_format CUD
'''


def _list(tag, attr, item, group=None):
    """A list section at the top level of a document."""
    group_attr = ' [group=%s]' % group if group else ''
    return '\n  %s%s * %s CUD%s' % (tag, group_attr, attr, item)


# Sections of the VirtualIOServer document (ViosStorage group).
VIOS_MEDIA_REPOSITORIES = _list('MediaRepositories', 'media_repositories',
                                _MEDIA_REPOSITORY, group='ViosStorage')

VIOS_PHYSICAL_VOLUMES = _list('PhysicalVolumes', 'physical_volumes',
                              PHYSICAL_VOLUME, group='ViosStorage')

VIOS_STORAGE_POOLS = '''
  StoragePools [group=ViosStorage] * volume_groups CUD
    link -> href
'''

VOLUME_GROUP = spec.compile_schema(
    'VolumeGroup' + '''
  AvailableSize ~ available_gb ROR
  FreeSpace ~ free_gb ROR
  GroupCapacity ~ capacity_gb CUR
  GroupName [required] = name CUR
  GroupSerialID ~ serial ROR
  MaximumLogicalVolumes ~ max_lvs:int ROR''' +
    _list('MediaRepositories', 'media_repositories', _MEDIA_REPOSITORY) + '''
  PartitionSize ~ partition_size:int CUR''' +
    _list('PhysicalVolumes', 'physical_volumes', PHYSICAL_VOLUME) + '''
  UniqueDeviceID ~ udid ROR''' +
    _list('VirtualDisks', 'vdisks', _VIRTUAL_DISK))

# The web-namespace File record of an upload (pypowervm sends the writable
# elements in this order; the server adds the read-only ones).
FILE = spec.compile_schema('''
File
  Filename [required] = filename COR
  DateModified ~ date_modified ROR
  InternetMediaType [required] = media_type COR
  SHA256 = sha256 COR
  FileUUID ~ uuid ROR
  AssetLink -> asset_href
  ExpectedFileSizeInBytes = expected_size:long COD
  CurrentFileSizeInBytes ~ current_size:long ROR
  FileEnumType [required] = file_enum_type COR
  TargetVirtualIOServerUUID [required] = target_vios_uuid COR
  TargetDeviceUniqueDeviceID = target_udid COR
''')
