"""What each simulated POWER server holds, read through NovaLink's REST API
(pypowervm), as an operator checking for leftovers would."""

import collections

from pypowervm import adapter as pvm_adpt
from pypowervm import const as pvm_const
from pypowervm.wrappers import cluster as pvm_clust
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import storage as pvm_stor
from pypowervm.wrappers import virtual_io_server as pvm_vios

Holdings = collections.namedtuple(
    'Holdings', 'lpars disks client_mappings media')


class Host:
    """One NovaLink endpoint of the simulator."""

    def __init__(self, endpoint):
        scheme, rest = endpoint['url'].split('://', 1)
        address, port = rest.rsplit(':', 1)
        # The certificate is trusted through REQUESTS_CA_BUNDLE.
        self.adapter = pvm_adpt.Adapter(pvm_adpt.Session(
            host=address, port=int(port), protocol=scheme,
            username=endpoint['user'], password=endpoint['password'],
            conn_tries=1))

    def lpar_names(self):
        """Client LPARs (the NovaLink partition is not one)."""
        return sorted(lpar.name for lpar in pvm_lpar.LPAR.get(self.adapter)
                      if not lpar.is_mgmt_partition)

    def lpar_state(self, name):
        for lpar in pvm_lpar.LPAR.get(self.adapter):
            if lpar.name == name:
                return lpar.state
        return None

    def holdings(self):
        vioses = pvm_vios.VIOS.get(
            self.adapter, xag=[pvm_const.XAG.VIO_SMAP, pvm_const.XAG.VIO_STOR])
        mgmt_and_vios = {w.id for w in vioses} | {
            lpar.id for lpar in pvm_lpar.LPAR.get(self.adapter)
            if lpar.is_mgmt_partition}
        client_mappings = [
            mapping for vios in vioses for mapping in vios.scsi_mappings
            if mapping.server_adapter.lpar_id not in mgmt_and_vios]
        media = [medium.name for vios in vioses
                 for vg in pvm_stor.VG.get(self.adapter, parent=vios)
                 if vg.vmedia_repos
                 for medium in vg.vmedia_repos[0].optical_media]
        return Holdings(self.lpar_names(), self.instance_disks(),
                        len(client_mappings), sorted(media))

    def instance_disks(self):
        """Logical units of the shared pool but the image cache's."""
        names = set()
        for cluster in pvm_clust.Cluster.get(self.adapter):
            ssp = pvm_stor.SSP.wrap(
                self.adapter.read_by_href(cluster.ssp_uri))
            for lu in ssp.logical_units:
                if lu.lu_type != pvm_stor.LUType.IMAGE:
                    names.add(lu.name)
        return sorted(names)

    def close(self):
        self.adapter.session._logoff()

