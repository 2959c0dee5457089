"""Identity, etags, locking and change notification for every object.

Every model object is a :class:`Resource` held by one :class:`Registry`.
All mutation happens under the registry's lock; each change gives the object
(and the objects that embed it) a new etag and tells the listeners, which
turn changes into NovaLink events.
"""

import dataclasses
import itertools
import threading
import time
import typing
import uuid as uuidlib

ADD = 'ADD_URI'
MODIFY = 'MODIFY_URI'
DELETE = 'DELETE_URI'


class NotFound(KeyError):
    """No object with that identity (HTTP 404)."""


class Conflict(Exception):
    """A request fights the model's state (HTTP 409 or a job failure).

    ``code`` carries the NovaLink/HMC message code clients look for.
    """

    def __init__(self, message, code='', status=409):
        super().__init__(message)
        self.code = code
        self.status = status

    def __str__(self):
        text = super().__str__()
        return '%s %s' % (self.code, text) if self.code else text


def new_uuid():
    """A random UUID that PowerVM accepts: NovaLink's UUIDs never have the
    top bit set (pypowervm refuses a first hex digit of 8 or more)."""
    return str(uuidlib.UUID(int=uuidlib.uuid4().int & ~(1 << 127)))


def now_ms():
    return int(time.time() * 1000)


@dataclasses.dataclass(kw_only=True, eq=False)
class Resource:
    """Base of every model object: identity, etag, the embedding parent."""

    kind: typing.ClassVar[str] = ''
    uuid: str = dataclasses.field(default_factory=new_uuid)
    etag: str = ''
    created: int = dataclasses.field(default_factory=now_ms)
    parent: typing.Optional['Resource'] = dataclasses.field(
        default=None, repr=False)

    @property
    def href(self):
        """Path of the object in the REST API (relative to the host)."""
        if self.parent is None or self.root_level:
            return '/rest/api/uom/%s/%s' % (self.kind, self.uuid)
        return '%s/%s/%s' % (self.parent.href, self.kind, self.uuid)

    # Objects NovaLink serves at /rest/api/uom/{kind}/{uuid} even though they
    # belong to a managed system (partitions, switches are children only).
    root_level: typing.ClassVar[bool] = False
    # Kinds of child whose content appears inside this object's own XML.
    embedded_kinds: typing.ClassVar[frozenset] = frozenset()

    def embeds(self, kind):
        return kind in self.embedded_kinds

    def shared_with(self, system):
        """Whether ``system``'s NovaLink also serves this object (and what
        lies under it), though it is not the object's own system: a
        cluster spanning several servers, a partition migrating there."""
        return False


def served_under(obj, container):
    """Whether ``obj`` is ``container``, lies under it, or lies under an
    object shared with it: what a NovaLink serving ``container`` shows."""
    while obj is not None:
        if obj is container or obj.shared_with(container):
            return True
        obj = obj.parent
    return False


class Registry:
    """The index of all objects, their etags and the model lock.

    UUIDs name objects; two systems may each hold an object of the same
    UUID (each NovaLink knows its own system alone: a partition made on
    one with the UUID of another's), so the index keeps a list per UUID
    and a lookup may say within which object to look.
    """

    def __init__(self):
        self.lock = threading.RLock()
        # UUID (lower case) -> the objects of that UUID.
        self._objects = {}
        # Real etags are signed integers; any strictly changing number
        # will do.
        self._etags = itertools.count(1_000_001)
        self._listeners = []
        self._view_listeners = []

    def subscribe(self, listener):
        """``listener(event_type, resource, detail)`` after each change."""
        self._listeners.append(listener)

    def unsubscribe(self, listener):
        if listener in self._listeners:
            self._listeners.remove(listener)

    def subscribe_views(self, listener):
        """``listener(event_type, resource, detail, system)`` when an
        object comes into or goes out of the view of ``system``'s NovaLink
        alone (ADD or DELETE for it, not for everyone): a partition
        arriving on the system it migrates to, or leaving the one it
        came from."""
        self._view_listeners.append(listener)

    def unsubscribe_views(self, listener):
        if listener in self._view_listeners:
            self._view_listeners.remove(listener)

    def shown(self, resource, system, detail='Other'):
        """``resource`` is now also seen from ``system``."""
        self._notify_view(ADD, resource, detail, system)

    def hidden(self, resource, system, detail='Other'):
        """``resource`` is no longer seen from ``system``."""
        self._notify_view(DELETE, resource, detail, system)

    def add(self, resource, detail='Other'):
        with self.lock:
            self._objects.setdefault(resource.uuid.lower(), []).append(
                resource)
            resource.etag = self._next_etag()
            self._touch_parents(resource)
            self._notify(ADD, resource, detail)
        return resource

    def changed(self, resource, detail='Other'):
        """Record that ``resource`` changed: new etags, a MODIFY event."""
        with self.lock:
            resource.etag = self._next_etag()
            self._touch_parents(resource)
            self._notify(MODIFY, resource, detail)

    def remove(self, resource, detail='Other'):
        with self.lock:
            key = resource.uuid.lower()
            same_uuid = self._objects.get(key, [])
            if resource in same_uuid:
                same_uuid.remove(resource)
            if not same_uuid:
                self._objects.pop(key, None)
            self._touch_parents(resource)
            self._notify(DELETE, resource, detail)

    def get(self, uuid, kind=None, within=None):
        """The object of ``uuid`` (and ``kind``), under ``within`` if given.

        :raises NotFound: there is none.
        """
        obj = self.find(uuid, kind, within)
        if obj is None:
            raise NotFound('%s %s' % (kind or 'object', uuid))
        return obj

    def find(self, uuid, kind=None, within=None):
        """The object of ``uuid`` (and ``kind``) that ``within`` serves
        (served_under), or None."""
        return next((obj for obj in self._objects.get(str(uuid).lower(), ())
                     if (not kind or obj.kind == kind) and
                     (within is None or served_under(obj, within))), None)

    def holds(self, resource):
        """Whether ``resource`` is (still) in the model."""
        return any(obj is resource
                   for obj in self._objects.get(resource.uuid.lower(), ()))

    def all(self):
        return [obj for objs in self._objects.values() for obj in objs]

    def of_kind(self, kind):
        return [o for o in self.all() if o.kind == kind]

    def __len__(self):
        return len(self.all())

    def _next_etag(self):
        return str(next(self._etags))

    def _touch_parents(self, resource):
        # An embedded object is part of its parent's XML, so the parent's
        # etag must move too (pypowervm's etag retry depends on it).
        parent = resource.parent
        while parent is not None and parent.embeds(resource.kind):
            parent.etag = self._next_etag()
            resource, parent = parent, parent.parent

    def _notify(self, event_type, resource, detail):
        for listener in self._listeners:
            listener(event_type, resource, detail)

    def _notify_view(self, event_type, resource, detail, system):
        with self.lock:
            for listener in self._view_listeners:
                listener(event_type, resource, detail, system)
