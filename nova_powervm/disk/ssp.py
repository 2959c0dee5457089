"""Instance disks as logical units (LUs) of a shared storage pool.

Each image is uploaded from Glance once per pool, into an image LU named
after it ('image_' and the image UUID's digits) that every host of the
cluster uses; an instance's boot disk is a thin linked clone of that LU,
as large as the flavor's root disk, mapped by every VIOS of this host that
is a node of the cluster.
"""

import contextlib

from nova import exception
from oslo_concurrency import lockutils
from oslo_log import log as logging
from pypowervm import exceptions as pvm_exc
from pypowervm.tasks import cluster_ssp as pvm_cssp
from pypowervm.tasks import storage as pvm_tstg
from pypowervm import util as pvm_util
from pypowervm.wrappers import cluster as pvm_clust
from pypowervm.wrappers import storage as pvm_stg

from nova_powervm import conf
from nova_powervm.disk import driver
from nova_powervm import exception as pvm_nova_exc
from nova_powervm import undo

LOG = logging.getLogger(__name__)
CONF = conf.CONF

IMAGE_PREFIX = 'image_'
# 'b_' and all 32 digits of the instance UUID (LU names may be long).
DISK_NAME_LEN = 34


def find_cluster(adapter, name=''):
    """The Cluster wrapper named ``name``, or the only one if empty.

    :raises ClusterNotFound: not exactly one such cluster.
    """
    if name:
        clusters = pvm_clust.Cluster.search(adapter, name=name)
    else:
        clusters = pvm_clust.Cluster.get(adapter)
    if len(clusters) != 1:
        raise pvm_nova_exc.ClusterNotFound(count=len(clusters),
                              name=name or '(any name)')
    return clusters[0]


def local_node_vios_uuids(cluster_w, host_uuid):
    """UUIDs of the cluster's nodes that are VIOSes of ``host_uuid``.

    NovaLink links a node to its VIOS only on the VIOS's own host.
    """
    return [node.vios_uuid for node in cluster_w.nodes
            if node.vios_uri and pvm_util.get_req_path_uuid(
                node.vios_uri, root=True) == host_uuid.lower()]


def image_lu_name(image_id):
    # Digits only: pypowervm would turn the dashes into underscores.
    return IMAGE_PREFIX + image_id.replace('-', '')


class SSPDiskAdapter(driver.DiskAdapter):
    """Boot disks in a shared storage pool (``[powervm] cluster_name``)."""

    disk_wrapper_class = pvm_stg.LU
    # Every node of the cluster, on whichever host, reaches the pool.
    shared = True

    def __init__(self, adapter, host_uuid):
        super().__init__(adapter, host_uuid)
        cluster_w = find_cluster(adapter, CONF.powervm.cluster_name)
        self._vios_uuids = local_node_vios_uuids(cluster_w, host_uuid)
        if not self._vios_uuids:
            raise pvm_nova_exc.NotAClusterNode(name=cluster_w.name)
        self.ssp_uuid = pvm_util.get_req_path_uuid(cluster_w.ssp_uri,
                                                   preserve_case=True)
        ssp_w = self._pool()
        self.tier_w = pvm_tstg.default_tier_for_ssp(ssp_w)
        # IDs of the images whose LU this process saw complete (found or
        # uploaded): a later failure to read the pool is no failed upload.
        self._complete_images = set()
        LOG.info('Instance disks go to shared storage pool %(ssp)s of '
                 'cluster %(cluster)s.',
                 {'ssp': ssp_w.name, 'cluster': cluster_w.name})

    @property
    def vios_uuids(self):
        return list(self._vios_uuids)

    @property
    def storage_id(self):
        return self.ssp_uuid

    def _pool(self):
        return pvm_stg.SSP.get(self.adapter, uuid=self.ssp_uuid)

    def _find_disk_lus(self, name):
        return [lu for lu in pvm_stg.LUEnt.search(
                    self.adapter, parent=self.tier_w, name=name)
                if lu.lu_type == pvm_stg.LUType.DISK]

    def capacity(self):
        ssp_w = self._pool()
        return driver.DiskCapacity(total_gb=ssp_w.capacity,
                                   used_gb=ssp_w.capacity - ssp_w.free_space)

    def disk_name(self, instance):
        return driver.boot_disk_name(instance, DISK_NAME_LEN,
                                     self.disk_prefix)

    def create_disk_from_image(self, context, instance, image_meta):
        image_lu = self._image_lu(context, image_meta)
        size_gb = driver.root_disk_bytes(
            instance, round(image_lu.capacity * driver.GIB)) / driver.GIB
        name = self.disk_name(instance)
        LOG.info('Cloning image LU %(image)s to boot disk %(disk)s.',
                 {'image': image_lu.name, 'disk': name}, instance=instance)
        _tier_w, lu_w = pvm_tstg.crt_lu(self.tier_w, name, size_gb,
                                        thin=True, clone=image_lu)
        return pvm_stg.LU.bld_ref(self.adapter, lu_w.name, lu_w.udid)

    def find_disk(self, instance):
        lu_w = self._disk_lu(instance)
        return pvm_stg.LU.bld_ref(self.adapter, lu_w.name, lu_w.udid)

    def _disk_lu(self, instance):
        name = self.disk_name(instance)
        found = self._find_disk_lus(name)
        if not found:
            raise exception.DiskNotFound(location='%s/%s' % (
                self.tier_w.name, name))
        return found[0]

    def extend_disk(self, instance, size_bytes):
        # pypowervm has no helper for it: NovaLink takes the LU back with
        # a larger UnitCapacity.
        lu_w = self._disk_lu(instance)
        size_gb = size_bytes / driver.GIB
        if lu_w.capacity >= size_gb:
            return
        LOG.info('Growing logical unit %(name)s from %(old)s GB to '
                 '%(new)s GB.', {'name': lu_w.name, 'old': lu_w.capacity,
                                 'new': size_gb}, instance=instance)
        lu_w._capacity(size_gb)
        lu_w.update()

    def _storage_for_mapping(self, disk):
        return pvm_stg.LU.bld_ref(self.adapter, disk.name, disk.udid)

    def cache_image(self, context, image_meta):
        self._image_lu(context, image_meta)

    def _image_lu(self, context, image_meta):
        """The image LU of the image, uploaded if need be.

        pypowervm coordinates the hosts of the cluster (marker LUs); the
        lock keeps deploys on this host from uploading in parallel, which
        the markers would only sort out after minutes of waiting.
        """
        name = image_lu_name(image_meta.id)
        known = image_meta.id in self._complete_images
        with lockutils.lock('powervm-image-%s' % image_meta.id):
            markers = None
            try:
                if not known:
                    markers = self._marker_names(name)
                image_lu = pvm_cssp.get_or_upload_image_lu(
                    self.tier_w, name, self._vios_uuids[0],
                    lambda: driver.image_chunks(context, image_meta.id),
                    driver.raw_image_size(image_meta))
            except Exception:
                # One seen complete is the image cache, whatever failed
                # (the clones of it stay its; it must not be uploaded
                # twice).
                if not known:
                    undo.quietly(self._remove_failed_upload, name, markers)
                raise
            self._complete_images.add(image_meta.id)
            return image_lu

    def _image_lus(self, name):
        """The image LUs whose names hold ``name``: the image's, and the
        marker LUs of uploads of it ('part', 8 hex digits, ``name``)."""
        return [lu_w for lu_w in pvm_stg.LUEnt.search(
                    self.adapter, parent=self.tier_w,
                    lu_type=pvm_stg.LUType.IMAGE) if name in lu_w.name]

    def _marker_names(self, name):
        return {lu_w.name for lu_w in self._image_lus(name)
                if lu_w.name != name}

    def _remove_failed_upload(self, name, markers_before):
        """Remove what a failed upload of image LU ``name`` left.

        An image LU whose upload failed is ours (the markers let one host
        upload); one left here, maybe created by a request whose answer
        was lost, would pass for the image.  A marker LU that appeared
        meanwhile is ours too (the lock lets no other upload of the image
        run here), left by a request whose answer was lost, or whose
        delete failed: every host's next upload of the image would wait
        for it without end (pypowervm's get_or_upload_image_lu).

        :param markers_before: the names of the image's marker LUs before
                               the upload; None if unknown (then none is
                               removed: they may be other hosts').
        """
        for lu_w in self._image_lus(name):
            if lu_w.name == name or (markers_before is not None and
                                     lu_w.name not in markers_before):
                LOG.info('Deleting image LU %s of a failed upload.',
                         lu_w.name)
                lu_w.delete()

    def delete_disk(self, instance):
        # LU by LU rather than with pypowervm's rm_tier_storage, which logs
        # and forgets a delete NovaLink refused: a destroy must not report
        # success while the disk is still there.  The image LU stays, as
        # the image cache: another host may be cloning it right now.
        lus = self._find_disk_lus(self.disk_name(instance))
        for lu_w in lus:
            if lu_w.in_use:
                # This host's mappings are gone: another host's VIOS maps
                # it, to the instance's LPAR left there by a move that
                # failed on this host.  That host deletes the disk with
                # its LPAR (nova reaps it once the instance is deleted).
                LOG.warning('Logical unit %s is mapped on another host; '
                            'it is left for that host to delete.',
                            lu_w.name, instance=instance)
                continue
            LOG.info('Deleting logical unit %s.', lu_w.name,
                     instance=instance)
            try:
                lu_w.delete()
            except pvm_exc.HttpNotFound:
                LOG.info('Logical unit %s was already deleted.', lu_w.name,
                         instance=instance)
        return bool(lus)

    @contextlib.contextmanager
    def snapshot_source(self, instance):
        """The boot disk itself: an LU can back several target devices,
        so it maps to the management partition while the LPAR uses it."""
        yield self._vios_uuids[0], self.find_disk(instance)
