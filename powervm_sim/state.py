"""Saving the simulator's model to a file and loading it back.

A state file is JSON::

    {"format": "powervm-sim-state", "version": 1,
     "objects": [{"class": "powervm_sim.model.partition:LPAR",
                  "fields": {"name": "lpar0001", "parent": {"$ref": 0},
                             ...}}, ...],
     "model": {"systems": [{"$ref": 0}], "_macs": {"$count": [..., 1]}},
     "registry": {"objects": [{"$ref": 0}, ...],
                  "etags": {"$count": [1000123, 1]}}}

The saver knows nothing about particular model classes: it walks the
dataclass fields of every object it reaches from the model's attributes and
its registry, so a family module that adds a dataclass needs no change here.
Every model object is written once, in ``objects``, and every place that
holds it says ``{"$ref": index}``: references (a partition's parent, a CNA's
virtual switch, a physical volume listed by both its VIOS and its volume
group) come back as the same shared object, never as copies.  Values other
than JSON's own are tagged: ``$tuple``, ``$set``, ``$frozenset``, ``$dict``
(a list of key/value pairs, so keys need not be strings), ``$float`` (inf
and nan) and ``$count`` (an ``itertools.count``: the registry's etags and
the model's MAC addresses continue where they stopped, so nothing is reused
after a restart).

The file is input, so loading trusts nothing in it: a class is looked up
only in the ``powervm_sim.model`` package, must be a dataclass defined
there under exactly the saved name, and may only receive its own fields.
Anything else raises :class:`StateError` naming the offending entry.

A save writes the JSON to a temporary file beside ``FILE``
(``.FILE.state-`` and 8 random characters), renames it over ``FILE`` and
syncs the directory, so that the rename itself survives a crash.  A save
cut short by a kill leaves its temporary file behind; the next save
removes it.

Disk contents (the model's ContentStore) do not go into the JSON: they
stay files in the directory ``FILE + '.d'``.  A loaded model keeps its
contents there directly, so only models whose store lives elsewhere have
their blobs copied (sparsely) when saved.  Web File API records, jobs,
sessions and event queues are not saved: they belong to a running
simulator, not to the managed systems.
"""

import dataclasses
import errno
import importlib
import itertools
import json
import math
import os
import re
import tempfile
import threading

from oslo_log import log as logging

from powervm_sim import files
from powervm_sim import model as model_mod
from powervm_sim.model import registry as registry_mod

LOG = logging.getLogger(__name__)

FORMAT = 'powervm-sim-state'
VERSION = 1
MODEL_PACKAGE = 'powervm_sim.model'
CONTENT_SUFFIX = '.d'

# Model attributes that are not data: the registry is saved by its own
# rules, the content store is the directory beside the file and File API
# records are transient.
_MODEL_SPECIAL = frozenset({'registry', '_content', '_file_registry'})
_MODULE_NAME = re.compile(r'^powervm_sim\.model(\.[a-z_][a-z0-9_]*)*$')
_QUALNAME_PART = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')
_ATTRIBUTE_NAME = re.compile(r'^_?[a-z][a-z0-9_]*$')
_COUNT_REPR = re.compile(r'^count\((-?\d+)(?:, (-?\d+))?\)$')
_NON_FINITE = {'inf': math.inf, '-inf': -math.inf, 'nan': math.nan}
_COPY_CHUNK = 1024 * 1024
# Prefixes of the temporary files a save makes: beside the state file
# (after its name) and in its content directory.
_STATE_TEMP = '.%s.state-'
_COPY_TEMP = '.copy-'
# What tempfile.mkstemp adds to a prefix.
_TEMP_NAME = '[a-z0-9_]{8}'


class StateError(ValueError):
    """A model that cannot be saved, or a state file that is refused."""


def content_dir(path):
    """Where the disk contents of the state file ``path`` live."""
    return path + CONTENT_SUFFIX


# ------------------------------------------------------------------ saving
class _Encoder:
    """Turns the model into JSON values, one table entry per object."""

    def __init__(self):
        self.objects = []
        self._index = {}
        self._pending = []

    def value(self, value, where):
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return value if math.isfinite(value) else {'$float': repr(value)}
        if isinstance(value, list):
            return [self.value(item, where) for item in value]
        if isinstance(value, tuple):
            return {'$tuple': [self.value(item, where) for item in value]}
        if isinstance(value, set | frozenset):
            tag = '$frozenset' if isinstance(value, frozenset) else '$set'
            items = [self.value(item, where) for item in value]
            # Sorted, so that saving the same model twice writes the same.
            return {tag: sorted(items, key=_sort_key)}
        if isinstance(value, dict):
            return {'$dict': [[self.value(key, where), self.value(item, where)]
                              for key, item in value.items()]}
        if isinstance(value, itertools.count):
            return {'$count': _count_state(value, where)}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {'$ref': self._ref(value, where)}
        raise StateError('%s: cannot save a %s.%s value; model state must be '
                         'dataclasses, lists, tuples, sets, dicts, numbers, '
                         'strings, booleans and None' % (
                             where, type(value).__module__,
                             type(value).__qualname__))

    def _ref(self, obj, where):
        index = self._index.get(id(obj))
        if index is None:
            index = len(self.objects)
            self._index[id(obj)] = index
            self.objects.append({'class': _class_name(obj, where)})
            self._pending.append((index, obj))
        return index

    def finish(self):
        """Encode the fields of every object referenced so far (and of the
        objects those reference in turn)."""
        while self._pending:
            index, obj = self._pending.pop()
            name = type(obj).__qualname__
            self.objects[index]['fields'] = {
                field.name: self.value(getattr(obj, field.name),
                                       '%s.%s' % (name, field.name))
                for field in dataclasses.fields(obj)}


def _sort_key(encoded):
    return json.dumps(encoded, sort_keys=True)


def _count_state(counter, where):
    # itertools.count exposes its position only through repr().
    match = _COUNT_REPR.match(repr(counter))
    if match is None:
        raise StateError('%s: only integer counters can be saved, not %r' % (
            where, counter))
    return [int(match.group(1)), int(match.group(2) or 1)]


def _class_name(obj, where):
    cls = type(obj)
    if not _in_model_package(cls.__module__):
        raise StateError('%s: %s.%s is not a model class (only dataclasses '
                         'of %s are saved)' % (where, cls.__module__,
                                               cls.__qualname__,
                                               MODEL_PACKAGE))
    return '%s:%s' % (cls.__module__, cls.__qualname__)


def _in_model_package(module):
    return bool(_MODULE_NAME.match(module))


def encode(model):
    """The JSON document of ``model`` (call under the registry lock)."""
    encoder = _Encoder()
    attributes = {
        name: encoder.value(value, 'Model.%s' % name)
        for name, value in sorted(vars(model).items())
        if name not in _MODEL_SPECIAL}
    registry = model.registry
    # The registry's index and etag counter are private to it; they are
    # exactly what must survive a restart.
    index = [encoder.value(obj, 'Registry') for obj in registry.all()]
    etags = encoder.value(registry._etags, 'Registry.etags')
    encoder.finish()
    return {'format': FORMAT, 'version': VERSION,
            'objects': encoder.objects, 'model': attributes,
            'registry': {'objects': index, 'etags': etags}}


def save(model, path):
    """Write ``model`` to ``path`` and its disk contents to ``path.d``.

    The JSON is written to a temporary file and renamed over ``path``, so
    a reader (or a crash) sees the old or the new state, never half of
    one.
    :raises StateError: if the model holds something that cannot be saved
                        (nothing is written then).
    """
    with model.registry.lock:
        document = encode(model)
        source = model.content.root_dir
    text = json.dumps(document, allow_nan=False, separators=(',', ':'))
    target = content_dir(path)
    # Saves of one file are not run side by side (AutoSaver serializes
    # them): every temporary file a save would make is a crashed one's.
    _remove_stale_temps(*_state_temp(path))
    _remove_stale_temps(target, _COPY_TEMP)
    if os.path.realpath(source) != os.path.realpath(target):
        _sync_content(source, target)
    _write_atomically(path, text)
    return path


def _state_temp(path):
    """(directory, prefix) of the temporary files that save ``path``."""
    directory, name = os.path.split(os.path.abspath(path))
    return directory, _STATE_TEMP % name


def _remove_stale_temps(directory, prefix):
    """Remove what mkstemp made in ``directory`` with ``prefix``."""
    pattern = re.compile(re.escape(prefix) + _TEMP_NAME)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        if pattern.fullmatch(name):
            LOG.info('Removing %s, left by a save that did not finish',
                     os.path.join(directory, name))
            _remove(os.path.join(directory, name))


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _write_atomically(path, text):
    directory, prefix = _state_temp(path)
    fd, temp_path = tempfile.mkstemp(dir=directory, prefix=prefix)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_path, path)
    except BaseException:
        os.unlink(temp_path)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    # The rename is an entry of the directory: until the directory is
    # synced, a crash may bring back the old state file, or none at all.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _blob_names(directory):
    # Hidden names are a store's half-written temporary files.
    return {name for name in os.listdir(directory)
            if not name.startswith('.')}


def _sync_content(source, target):
    """Make ``target`` hold exactly the blobs of the store at ``source``."""
    os.makedirs(target, exist_ok=True)
    wanted = _blob_names(source)
    for name in wanted:
        _copy_sparse(os.path.join(source, name), target, name)
    for name in _blob_names(target) - wanted:
        os.unlink(os.path.join(target, name))


def _copy_sparse(source_path, target_dir, name):
    """Copy one blob, leaving its holes holes: a new 20 GB disk is a 20 GB
    sparse file, which must not become 20 GB of written zeros."""
    fd, temp_path = tempfile.mkstemp(dir=target_dir, prefix=_COPY_TEMP)
    try:
        with open(source_path, 'rb') as source, os.fdopen(fd, 'wb') as out:
            size = os.fstat(source.fileno()).st_size
            for start, end in _data_ranges(source.fileno(), size):
                _copy_range(source, out, start, end)
            out.truncate(size)
        os.replace(temp_path, os.path.join(target_dir, name))
    except BaseException:
        os.unlink(temp_path)
        raise


def _data_ranges(fd, size):
    """(start, end) of the parts of a file that hold data."""
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                return      # only a hole is left
            # The file system cannot say where its holes are.
            yield offset, size
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end
        offset = end


def _copy_range(source, out, start, end):
    source.seek(start)
    position = start
    while position < end:
        chunk = source.read(min(_COPY_CHUNK, end - position))
        if not chunk:
            return
        out.seek(position)
        if chunk.count(0) != len(chunk):
            out.write(chunk)
        position += len(chunk)


# ----------------------------------------------------------------- loading
def _resolve_class(name, where):
    """The model dataclass called ``name`` ('module:qualname'), refusing
    everything outside the model package before importing anything."""
    if not isinstance(name, str) or name.count(':') != 1:
        raise StateError('%s: class must be "module:qualname", got %r' % (
            where, name))
    module_name, qualname = name.split(':')
    if not _in_model_package(module_name):
        raise StateError('%s: refusing class %r: only classes of %s are '
                         'loaded' % (where, name, MODEL_PACKAGE))
    parts = qualname.split('.')
    if not all(_QUALNAME_PART.match(part) for part in parts):
        raise StateError('%s: refusing class %r: not a plain class name' % (
            where, name))
    try:
        target = importlib.import_module(module_name)
    except ImportError:
        raise StateError('%s: unknown model module %r' % (
            where, module_name)) from None
    for part in parts:
        target = getattr(target, part, None)
    if not (isinstance(target, type) and dataclasses.is_dataclass(target)
            and target.__module__ == module_name
            and target.__qualname__ == qualname):
        raise StateError('%s: %r is not a model dataclass' % (where, name))
    return target


class _Decoder:
    """Rebuilds the objects of a state document, then their fields."""

    def __init__(self, entries):
        if not isinstance(entries, list):
            raise StateError('"objects" must be a list')
        self.objects = []
        self._entries = entries
        for index, entry in enumerate(entries):
            where = 'object %d' % index
            if not isinstance(entry, dict) or set(entry) != {'class',
                                                             'fields'}:
                raise StateError('%s: expected {"class": ..., "fields": '
                                 '...}' % where)
            cls = _resolve_class(entry['class'], where)
            # Made without __init__: fields (and references between
            # objects, cycles included) are filled in the second pass.
            self.objects.append(object.__new__(cls))

    def fill(self):
        pairs = zip(self.objects, self._entries, strict=True)
        for index, (obj, entry) in enumerate(pairs):
            self._fill(obj, entry['fields'], 'object %d (%s)' % (
                index, entry['class']))

    def _fill(self, obj, saved, where):
        if not isinstance(saved, dict):
            raise StateError('%s: "fields" must be an object' % where)
        fields = {field.name: field for field in dataclasses.fields(obj)}
        unknown = sorted(set(saved) - set(fields))
        if unknown:
            raise StateError('%s has no field(s) %s' % (
                where, ', '.join(map(repr, unknown))))
        for name, field in fields.items():
            if name in saved:
                value = self.value(saved[name], '%s.%s' % (where, name))
            else:
                value = _default(field, where)
            # object.__setattr__ also fills frozen dataclasses.
            object.__setattr__(obj, name, value)

    def value(self, raw, where):
        if raw is None or isinstance(raw, bool | int | float | str):
            return raw
        if isinstance(raw, list):
            return [self.value(item, where) for item in raw]
        if not isinstance(raw, dict) or len(raw) != 1:
            raise StateError('%s: a tagged value has exactly one key, got %r'
                             % (where, raw))
        [(tag, payload)] = raw.items()
        decode = self._TAGS.get(tag)
        if decode is None:
            raise StateError('%s: unknown value tag %r' % (where, tag))
        return decode(self, payload, where)

    def _ref(self, payload, where):
        if (not isinstance(payload, int) or isinstance(payload, bool)
                or not 0 <= payload < len(self.objects)):
            raise StateError('%s: bad object reference %r' % (where, payload))
        return self.objects[payload]

    def _items(self, payload, where):
        if not isinstance(payload, list):
            raise StateError('%s: expected a list, got %r' % (where, payload))
        return [self.value(item, where) for item in payload]

    def _tuple(self, payload, where):
        return tuple(self._items(payload, where))

    def _set(self, payload, where):
        return _hashable(set, self._items(payload, where), where)

    def _frozenset(self, payload, where):
        return _hashable(frozenset, self._items(payload, where), where)

    def _dict(self, payload, where):
        pairs = self._items(payload, where)
        if not all(isinstance(pair, list) and len(pair) == 2
                   for pair in pairs):
            raise StateError('%s: a $dict is a list of [key, value] pairs'
                             % where)
        return _hashable(dict, pairs, where)

    def _float(self, payload, where):
        if payload not in _NON_FINITE:
            raise StateError('%s: bad $float %r' % (where, payload))
        return _NON_FINITE[payload]

    def _count(self, payload, where):
        if not (isinstance(payload, list) and len(payload) == 2 and
                all(isinstance(n, int) and not isinstance(n, bool)
                    for n in payload)):
            raise StateError('%s: a $count is [next, step], got %r' % (
                where, payload))
        return itertools.count(*payload)

    _TAGS = {'$ref': _ref, '$tuple': _tuple, '$set': _set,
             '$frozenset': _frozenset, '$dict': _dict, '$float': _float,
             '$count': _count}


def _hashable(make, items, where):
    try:
        return make(items)
    except TypeError as exc:
        raise StateError('%s: %s' % (where, exc)) from None


def _default(field, where):
    # A field added to a class after the file was saved takes its default.
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise StateError('%s: required field %r is missing' % (where, field.name))


def _reject_constant(name):
    raise StateError('%s is not a valid JSON number' % name)


def _read_document(path):
    with open(path, encoding='utf-8') as source:
        try:
            document = json.load(source, parse_constant=_reject_constant)
        except ValueError as exc:
            raise StateError('%s is not a state file: %s' % (path, exc)) \
                from None
    if not isinstance(document, dict) or document.get('format') != FORMAT:
        raise StateError('%s is not a %s file' % (path, FORMAT))
    if document.get('version') != VERSION:
        raise StateError('%s has state version %r; this simulator reads '
                         'version %d' % (path, document.get('version'),
                                         VERSION))
    expected = {'format', 'version', 'objects', 'model', 'registry'}
    if set(document) != expected:
        raise StateError('%s must hold exactly the keys %s' % (
            path, ', '.join(sorted(expected))))
    return document


def _restore_attributes(model, saved, decoder):
    if not isinstance(saved, dict):
        raise StateError('"model" must be an object')
    for name, raw in saved.items():
        where = 'Model.%s' % name
        # Data attributes only: never a method, property or special name.
        if (not _ATTRIBUTE_NAME.match(name) or name in _MODEL_SPECIAL
                or hasattr(type(model), name)):
            raise StateError('%s: not a model data attribute' % where)
        value = decoder.value(raw, where)
        current = vars(model).get(name)
        if current is not None and type(value) is not type(current):
            raise StateError('%s: expected a %s, got a %s' % (
                where, type(current).__name__, type(value).__name__))
        setattr(model, name, value)


def _restore_registry(model, saved, decoder):
    if not isinstance(saved, dict) or set(saved) != {'objects', 'etags'}:
        raise StateError('"registry" must be {"objects": [...], "etags": '
                         '...}')
    objects = decoder.value(saved['objects'], 'Registry.objects')
    etags = decoder.value(saved['etags'], 'Registry.etags')
    if not isinstance(objects, list) or not isinstance(etags,
                                                        itertools.count):
        raise StateError('Registry: bad objects list or etag counter')
    index = {}
    for obj in objects:
        if not isinstance(obj, registry_mod.Resource) or not isinstance(
                obj.uuid, str):
            raise StateError('Registry: %r is not a model resource' % (obj,))
        index.setdefault(obj.uuid.lower(), []).append(obj)
    registry = model.registry
    registry._objects = index
    registry._etags = etags


def bind_content(model, path):
    """Keep ``model``'s disk contents beside the state file ``path``
    (before anything has touched ``model.content``)."""
    model._content = files.ContentStore(root_dir=content_dir(path))
    return model


def load(path):
    """The model saved in ``path``; its contents stay in ``path.d``.

    :raises StateError: if the file is not a state file this simulator
                        accepts (wrong format or version, a class outside
                        the model package, unknown fields, bad references).
    """
    try:
        document = _read_document(path)
        decoder = _Decoder(document['objects'])
        decoder.fill()
        model = model_mod.Model()
        _restore_attributes(model, document['model'], decoder)
        _restore_registry(model, document['registry'], decoder)
    except RecursionError:
        # Nesting only a hostile or corrupt file has: the JSON parser and
        # the decoder both recurse per level.
        raise StateError('%s nests its values too deeply to be a state '
                         'file' % path) from None
    return bind_content(model, path)


def open_model(path, build):
    """The model saved in ``path`` if there is one; otherwise a new model,
    keeping its contents beside ``path``, that ``build(model)`` fills."""
    if os.path.exists(path):
        return load(path)
    model = bind_content(model_mod.Model(), path)
    build(model)
    return model


# --------------------------------------------------------------- autosave
class AutoSaver:
    """Saves a model to its state file after changes and when stopped.

    Changes are noticed through the registry; a burst of them is written
    once, ``interval`` seconds after the first.  Errors of a background
    save are logged and retried at the next change; those of save_now()
    and stop() are raised.
    """

    def __init__(self, model, path, interval=1.0):
        self.model = model
        self.path = path
        self.interval = interval
        self._save_lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        model.registry.subscribe(self._on_change)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='powervm-sim-autosave')
        self._thread.start()

    def _on_change(self, event_type, resource, detail):
        # Called under the model lock by the request that changed it.
        self._dirty.set()

    def _run(self):
        while True:
            self._dirty.wait()
            if self._stopping.wait(self.interval):
                return
            self._dirty.clear()
            try:
                self.save_now()
            except (OSError, StateError):
                LOG.exception('Saving the simulator state to %s failed',
                              self.path)

    def save_now(self):
        """Save at once; returns the state file's path."""
        with self._save_lock:
            return save(self.model, self.path)

    def stop(self):
        """Stop watching, then write the final state."""
        self.model.registry.unsubscribe(self._on_change)
        self._stopping.set()
        self._dirty.set()
        self._thread.join()
        return self.save_now()
