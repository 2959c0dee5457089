"""ManagementConsole: each NovaLink serves its own, and takes updates of
the SSH keys it authorizes."""

from powervm_sim.resources import register
from powervm_sim.resources import ResourceType
from powervm_sim.wire.schemas import console as console_schema

register(ResourceType(
    'ManagementConsole', console_schema.MANAGEMENT_CONSOLE,
    children=lambda model, parent: model.consoles(), root=True,
    update=lambda model, obj, fields, groups: model.update_console(
        obj, fields)))
