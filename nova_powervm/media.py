"""The config drive: the instance's metadata on virtual optical media.

The drive is an ISO 9660 image labelled ``config-2`` (what cloud-init and
cloudbase-init look for), written in Python with pycdlib, uploaded into the
media repository of a Virtual I/O Server and mapped to the LPAR as a
virtual optical device over vSCSI.  It carries Rock Ridge and Joliet names
so that every path reads back exactly as nova's metadata names it.
"""

import io
import tempfile
import threading
import weakref

from nova.api.metadata import base as instance_metadata
from nova import exception
from nova.network import model as network_model
from nova.virt import configdrive
from nova import version
import netaddr
from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import scsi_mapper
from pypowervm.tasks import storage as pvm_storage
from pypowervm.tasks import vopt as pvm_vopt
from pypowervm import util as pvm_util
from pypowervm.utils import transaction as pvm_tx
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios
import pycdlib

from nova_powervm import conf
from nova_powervm import vif as pvm_vif
from nova_powervm import vm

LOG = logging.getLogger(__name__)
CONF = conf.CONF

VOLUME_LABEL = 'config-2'
_MEDIA_PREFIX = 'cfg_'
_MEDIA_SUFFIX = '.iso'
# Rock Ridge 1.09 is what every reader (Linux, AIX, IBM i) understands.
_ROCK_RIDGE = '1.09'
_JOLIET_LEVEL = 3
# ISO 9660:1999: names of any case and length up to 207 characters, so the
# primary directory tree holds the real names too.
_INTERCHANGE_LEVEL = 4
# The link-local network of the RMC management adapter.
_LINK_LOCAL_SUBNET = 'fe80::/64'
MGMT_VIF_ID = 'pvm_rmc_mgmt'

# Where each Adapter's (NovaLink session's) media repository is: it stays
# put while nova-compute runs, so deploys need not look it up each time.
_REPOSITORIES = weakref.WeakKeyDictionary()
_REPOSITORIES_LOCK = threading.Lock()


def required(instance):
    """Whether ``instance`` gets a config drive."""
    return configdrive.required_by(instance)


def media_name(instance):
    """The name of the instance's config drive media in the repository
    (NovaLink allows 37 characters from a restricted set)."""
    return pvm_util.sanitize_file_name_for_api(
        instance.name, prefix=_MEDIA_PREFIX, suffix=_MEDIA_SUFFIX,
        max_len=pvm_const.MaxLen.VOPT_NAME)


# ----------------------------------------------------------- the image
def write_iso(files, out, publisher=''):
    """Write an ISO image of ``files`` to the binary file object ``out``.

    :param files: iterable of (path, data) with '/'-separated relative
                  paths and str (UTF-8) or bytes data.
    :param publisher: the image's publisher identifier.
    """
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=_INTERCHANGE_LEVEL, vol_ident=VOLUME_LABEL,
            joliet=_JOLIET_LEVEL, rock_ridge=_ROCK_RIDGE,
            pub_ident_str=publisher)
    made = set()
    try:
        for path, data in files:
            _add_file(iso, made, path, data)
        iso.write_fp(out)
    finally:
        iso.close()


def _publisher():
    return '%s %s' % (version.product_string(),
                      version.version_string_with_package())


def _add_file(iso, made, path, data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    parts = [part for part in path.split('/') if part]
    for depth in range(1, len(parts)):
        directory = '/' + '/'.join(parts[:depth])
        if directory not in made:
            iso.add_directory(directory, rr_name=parts[depth - 1],
                              joliet_path=directory)
            made.add(directory)
    full_path = '/' + '/'.join(parts)
    iso.add_fp(io.BytesIO(data), len(data), full_path, rr_name=parts[-1],
               joliet_path=full_path)


def metadata_files(instance, injected_files, network_info, admin_password):
    """The (path, data) pairs of the instance's config drive."""
    extra_md = {}
    if admin_password is not None:
        extra_md['admin_pass'] = admin_password
    metadata = instance_metadata.InstanceMetadata(
        instance, content=injected_files, extra_md=extra_md,
        network_info=network_info)
    return metadata.metadata_for_config_drive()


def mgmt_vif(mac):
    """The RMC management adapter with MAC ``mac`` as a nova VIF, for the
    config drive's network data: a static IPv6 link-local address derived
    from the MAC (modified EUI-64), which is where RMC looks for it."""
    address = str(netaddr.EUI(mac).ipv6_link_local())
    subnet = network_model.Subnet(
        version=6, cidr=_LINK_LOCAL_SUBNET,
        ips=[network_model.FixedIP(address=address)])
    network = network_model.Network(id=MGMT_VIF_ID, subnets=[subnet],
                                    injected=True)
    return network_model.VIF(id=MGMT_VIF_ID,
                             address=pvm_vif.nova_mac(mac), network=network)


def drive_network_info(network_info, mgmt_cna=None):
    """The VIFs the config drive describes: nova's, and the management
    adapter when [powervm] use_rmc_ipv6_scheme asks for it."""
    vifs = list(network_info or [])
    if mgmt_cna is not None and CONF.powervm.use_rmc_ipv6_scheme:
        vifs.append(mgmt_vif(mgmt_cna.mac))
    return network_model.NetworkInfo(vifs)


# ----------------------------------------------------- on the host
def _repository(adapter):
    """(VIOS UUID, volume group UUID) of the virtual media repository,
    made in [powervm] vopt_media_volume_group if there is none.

    Looked up once per Adapter; ``_forget_repository`` after a failure
    that may mean it moved or went away.
    """
    with _REPOSITORIES_LOCK:
        found = _REPOSITORIES.get(adapter)
    if found is None:
        found = pvm_vopt.validate_vopt_repo_exists(
            adapter,
            vopt_media_volume_group=CONF.powervm.vopt_media_volume_group,
            vopt_media_rep_size=CONF.powervm.vopt_media_rep_size)
        with _REPOSITORIES_LOCK:
            _REPOSITORIES[adapter] = found
    return found


def _forget_repository(adapter):
    with _REPOSITORIES_LOCK:
        _REPOSITORIES.pop(adapter, None)


def create_config_drive(adapter, instance, injected_files, network_info,
                        admin_password, mgmt_cna=None, connect=True):
    """Build the config drive, upload it and (if ``connect``) map it to
    the LPAR.

    :param connect: False leaves the mapping to the caller (to make with
                    the boot disk's, in one update of the VIOS).
    :returns: ``(vios_uuid, VOptMedia)``: where the media is.
    :raises InstanceDeployFailure: any step failed.  Whatever was made is
            left for ``delete_config_drive``.
    """
    name = media_name(instance)
    files = metadata_files(instance, injected_files,
                           drive_network_info(network_info, mgmt_cna),
                           admin_password)
    LOG.info('Creating config drive media %s.', name, instance=instance)
    try:
        vios_uuid, _vg_uuid = _repository(adapter)
        # A file, not memory: injected files and user data may be large.
        with tempfile.TemporaryFile(prefix='cfgdrv_') as image:
            write_iso(files, image, publisher=_publisher())
            size = image.tell()
            image.seek(0)
            vopt, _file = pvm_storage.upload_vopt(
                adapter, vios_uuid, image, name, f_size=size)
        if connect:
            scsi_mapper.add_vscsi_mapping(None, vios_uuid,
                                          vm.get_pvm_uuid(instance), vopt)
    except (pvm_exc.Error, OSError, pycdlib.pycdlibexception.PyCdlibException
            ) as exc:
        _forget_repository(adapter)
        raise exception.InstanceDeployFailure(
            reason='config drive %s: %s' % (name, exc)) from exc
    return vios_uuid, vopt


def delete_config_drive(adapter, instance):
    """Unmap the instance's config drive and delete its media; either
    being gone already is fine.

    :raises InstanceTerminationFailure: NovaLink refused.
    """
    name = media_name(instance)
    try:
        vios_uuid, vg_uuid = _repository(adapter)
        _unmap_media(adapter, vios_uuid, name, instance)
        _delete_media(adapter, vios_uuid, vg_uuid, name, instance)
    except pvm_exc.Error as exc:
        _forget_repository(adapter)
        raise exception.InstanceTerminationFailure(
            reason='config drive %s: %s' % (name, exc)) from exc


def _unmap_media(adapter, vios_uuid, name, instance):
    """Remove every mapping of the media ``name``.

    Matched by the media's name alone: it is the instance's own, and a
    mapping left by an LPAR deleted outside nova has no client to match.
    """
    match = scsi_mapper.gen_match_func(pvm_stg.VOptMedia,
                                       name_prop='media_name', names=[name])
    unmap = pvm_tx.WrapperTask(
        'unmap_%s' % name, pvm_vios.VIOS.getter(
            adapter, entry_uuid=vios_uuid, xag=[pvm_const.XAG.VIO_SMAP]))
    unmap.add_functor_subtask(scsi_mapper.remove_maps, None,
                              match_func=match, include_orphans=True,
                              provides='removed')
    _vios_w, provided = unmap.execute()
    if provided['removed']:
        LOG.info('Unmapped config drive media %s.', name, instance=instance)


def unmap_config_drive(adapter, instance):
    """Unmap the instance's config drive, keeping its media: NovaLink
    moves no optical media with a migrating partition, and a migration
    that fails maps it again (``map_config_drive``).

    :raises pypowervm.exceptions.Error: NovaLink refused.
    """
    vios_uuid, _vg_uuid = _repository(adapter)
    _unmap_media(adapter, vios_uuid, media_name(instance), instance)


def map_config_drive(adapter, instance):
    """Map the instance's config drive media (kept in the repository
    by ``unmap_config_drive``) to its LPAR again.

    :raises pypowervm.exceptions.Error: NovaLink refused.
    :raises InstanceNotFound: the media is gone.
    """
    name = media_name(instance)
    vios_uuid, vg_uuid = _repository(adapter)
    _vg_w, media = _find_media(adapter, vios_uuid, vg_uuid, name)
    if not media:
        raise exception.InstanceNotFound(
            instance_id='%s (config drive media %s)' % (instance.uuid, name))
    LOG.info('Mapping config drive media %s again.', name, instance=instance)
    scsi_mapper.add_vscsi_mapping(None, vios_uuid, vm.get_pvm_uuid(instance),
                                  media[0])


def _find_media(adapter, vios_uuid, vg_uuid, name):
    """The repository's volume group and its media called ``name``."""
    vg_w = pvm_stg.VG.get(adapter, uuid=vg_uuid, parent_type=pvm_vios.VIOS,
                          parent_uuid=vios_uuid)
    return vg_w, [medium for repo in vg_w.vmedia_repos
                  for medium in repo.optical_media if medium.name == name]


def _delete_media(adapter, vios_uuid, vg_uuid, name, instance):
    vg_w, media = _find_media(adapter, vios_uuid, vg_uuid, name)
    if not media:
        LOG.debug('Config drive media %s is already gone.', name,
                  instance=instance)
        return
    LOG.info('Deleting config drive media %s.', name, instance=instance)
    pvm_storage.rm_vg_storage(vg_w, vopts=media)
