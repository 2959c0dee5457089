"""Binds each REST resource type to its schema and its model operations.

The routes know URLs, the wire knows XML, the model knows behaviour; this
table says, per NovaLink type, which schema renders it and which model calls
list, create, update and delete it.
"""

import dataclasses
import typing



@dataclasses.dataclass
class ResourceType:
    name: str
    schema: object
    # children(model, parent_or_None) -> list of objects of this type.
    children: typing.Callable
    # Parent types under which the type is served as a child feed.
    parents: tuple = ()
    # Served at /rest/api/uom/{name} as well.
    root: bool = False
    # Entries (not the feed) served at /rest/api/uom/{name}/{uuid}.
    root_entry: bool = False
    create: typing.Callable | None = None   # (model, parent, f)
    # (model, obj, fields, groups): groups limit what the update replaces.
    update: typing.Callable | None = None
    delete: typing.Callable | None = None   # (model, obj)
    # PartitionName-style search keys: query key -> attribute.
    search_keys: dict = dataclasses.field(default_factory=dict)
    # Quick properties: name -> attribute.
    quick: dict = dataclasses.field(default_factory=dict)


TYPES = {}


def register(rtype):
    TYPES[rtype.name] = rtype
    return rtype
