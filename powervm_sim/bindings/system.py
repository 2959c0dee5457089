"""ManagedSystem."""

from powervm_sim.resources import register
from powervm_sim.resources import ResourceType
from powervm_sim.wire.schemas import system as sys_schema

register(ResourceType(
    'ManagedSystem', sys_schema.MANAGED_SYSTEM,
    children=lambda model, parent: list(model.systems), root=True))
