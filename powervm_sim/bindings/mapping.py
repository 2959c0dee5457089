"""Client and server adapters of vSCSI and VFC mappings; the VIOS
mapping sections.

Mappings are made only through the VIOS document (its ViosSCSIMapping and
ViosFCMapping sections, posted as desired state); the client adapters they
create are served read-only under their LPAR.
"""

from powervm_sim.bindings import partition
from powervm_sim.model import mapping as mapping_model
from powervm_sim.resources import register
from powervm_sim.resources import ResourceType
from powervm_sim.wire.schemas import mapping as mapping_schema


def _slots(shared):
    return shared.setdefault('slots', mapping_model.SlotReservation())


@partition.vios_section('ViosSCSIMapping')
def _plan_scsi_mappings(model, vios, fields, shared):
    # A body without the section leaves the mappings alone; an empty
    # section removes them all.
    if 'scsi_mappings' not in fields:
        return None
    return model.plan_scsi_mappings(vios, fields['scsi_mappings'],
                                    _slots(shared))


@partition.vios_section('ViosFCMapping')
def _plan_fc_mappings(model, vios, fields, shared):
    if 'fc_mappings' not in fields:
        return None
    return model.plan_fc_mappings(vios, fields['fc_mappings'],
                                  _slots(shared))


def _client_adapters(kind):
    def lister(model, parent):
        return model.client_adapters(parent, kind)
    return lister


register(ResourceType(
    mapping_model.SCSI_CLIENT, mapping_schema.VSCSI_CLIENT_ADAPTER,
    children=_client_adapters(mapping_model.SCSI_CLIENT),
    parents=('LogicalPartition',)))
register(ResourceType(
    mapping_model.FC_CLIENT, mapping_schema.VFC_CLIENT_ADAPTER,
    children=_client_adapters(mapping_model.FC_CLIENT),
    parents=('LogicalPartition',)))
