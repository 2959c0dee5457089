"""Saving the model to a state file and loading it back."""

import copy
import dataclasses
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import typing

import fixtures
import testtools

from powervm_sim import bindings  # noqa: F401  (registers the schemas)
from powervm_sim import model as model_mod
from powervm_sim import resources
from powervm_sim import state
from powervm_sim.model import builder
from powervm_sim.model import network
from powervm_sim.model import registry
from powervm_sim.wire import spec

GIB = 1024 ** 3


def built_model(test, systems=2, vioses=2, lpars=2):
    model = model_mod.Model()
    builder.build(model, systems=systems, vioses=vioses, lpars=lpars)
    test.addCleanup(model.content.close)
    return model


# The clock a managed system reports differs between any two renderings.
_SYSTEM_TIME = re.compile(r'(<SystemTime [^>]*>)\d+(</SystemTime>)')


def rendered(model):
    """uuid -> the XML NovaLink would serve for every typed object."""
    renderer = spec.Renderer('https://sim:12443')
    return {obj.uuid: _SYSTEM_TIME.sub(
                r'\1\2', renderer.object(resources.TYPES[obj.kind].schema,
                                         obj))
            for obj in model.registry.all()
            if obj.kind in resources.TYPES}


class GraphComparer:
    """Walks two object graphs side by side: equal values, and objects
    shared in one graph are shared the same way in the other."""

    def __init__(self, test):
        self.test = test
        self.pairs = {}

    def compare(self, before, after, where):
        if dataclasses.is_dataclass(before):
            self._object(before, after, where)
        elif isinstance(before, list | tuple):
            self.test.assertIs(type(before), type(after), where)
            self.test.assertEqual(len(before), len(after), where)
            for index, (one, other) in enumerate(zip(before, after,
                                                     strict=True)):
                self.compare(one, other, '%s[%d]' % (where, index))
        elif isinstance(before, itertools.count):
            self.test.assertEqual(repr(before), repr(after), where)
        else:
            self.test.assertIs(type(before), type(after), where)
            self.test.assertEqual(before, after, where)

    def _object(self, before, after, where):
        self.test.assertIs(type(before), type(after), where)
        self.test.assertIsNot(before, after, where)
        if id(before) in self.pairs:
            self.test.assertIs(self.pairs[id(before)], after,
                               '%s is shared, so must stay shared' % where)
            return
        self.pairs[id(before)] = after
        for field in dataclasses.fields(before):
            self.compare(getattr(before, field.name),
                         getattr(after, field.name),
                         '%s.%s' % (where, field.name))

    def distinct_objects(self):
        return len({id(after) for after in self.pairs.values()})


class TestRoundTrip(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.model = built_model(self)
        lpar = self.model.lpars()[0]
        self.cna = self.model.create_cna(lpar, {'vswitch_id': 0,
                                                'pvid': 100})
        self.vdisk = self.model.volume_groups(
            self.model.vioses()[0])[1].vdisks[0]
        self.model.content.write_stream(self.vdisk.udid,
                                        [b'boot sector', b'\0' * 100])
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'state.json')
        state.save(self.model, self.path)
        self.loaded = state.load(self.path)

    def test_every_object_renders_the_same(self):
        before = rendered(self.model)
        after = rendered(self.loaded)
        self.assertEqual(len(self.model.registry), len(self.loaded.registry))
        self.assertEqual(sorted(before), sorted(after))
        for uuid, xml in before.items():
            self.assertEqual(xml, after[uuid], uuid)

    def test_fields_and_shared_references_survive(self):
        comparer = GraphComparer(self)
        comparer.compare(self.model.systems, self.loaded.systems, 'systems')
        for obj in self.model.registry.all():
            comparer.compare(obj, self.loaded.get(obj.uuid), obj.uuid)
        self.assertEqual(len(comparer.pairs), comparer.distinct_objects())
        # Spot checks of what the comparison covers.
        vios = self.loaded.vioses()[0]
        datavg = vios.volume_groups[1]
        self.assertIs(vios.physical_volumes[1], datavg.physical_volumes[0])
        self.assertIs(datavg, datavg.vdisks[0].vg)
        cna = self.loaded.get(self.cna.uuid)
        self.assertIs(cna.parent.parent.vswitches[0], cna.vswitch)
        self.assertIn(cna.parent.parent, self.loaded.systems)

    def test_etags_and_macs_continue(self):
        old_etags = {int(obj.etag) for obj in self.model.registry.all()}
        lpar = self.model.lpars()[1]
        self.model.registry.changed(lpar)
        loaded_lpar = self.loaded.get(lpar.uuid)
        self.loaded.registry.changed(loaded_lpar)
        self.assertEqual(lpar.etag, loaded_lpar.etag)
        self.assertGreater(int(loaded_lpar.etag), max(old_etags))
        fields = {'vswitch_id': 0, 'pvid': 5}
        mac = self.model.create_cna(lpar, dict(fields)).mac
        self.assertEqual(mac, self.loaded.create_cna(loaded_lpar,
                                                     dict(fields)).mac)
        self.assertNotEqual(self.cna.mac, mac)

    def test_disk_contents_survive_and_stay_sparse(self):
        self.assertEqual(state.content_dir(self.path),
                         self.loaded.content.root_dir)
        with self.loaded.content.open_reader(self.vdisk.udid) as blob:
            self.assertEqual(b'boot sector' + b'\0' * 100, blob.read())
        backup = self.loaded.volume_groups(
            self.loaded.vioses()[1])[1].vdisks[0]
        blob_path = self.loaded.content.path(backup.udid)
        self.assertEqual(20 * GIB, os.path.getsize(blob_path))
        self.assertLess(os.stat(blob_path).st_blocks * 512, 1024 * 1024)

    def test_a_loaded_model_saves_in_place(self):
        lpar = self.loaded.lpars()[0]
        self.loaded.set_partition_state(lpar, 'running')
        self.loaded.content.write_stream(self.vdisk.udid, [b'new'])
        state.save(self.loaded, self.path)
        again = state.load(self.path)
        self.assertEqual('running', again.get(lpar.uuid).state)
        with again.content.open_reader(self.vdisk.udid) as blob:
            self.assertEqual(b'new', blob.read())

    def test_saving_leaves_only_the_file_and_its_directory(self):
        directory = os.path.dirname(self.path)
        self.assertEqual(['state.json', 'state.json.d'],
                         sorted(os.listdir(directory)))
        self.assertFalse([name for name in os.listdir(self.path + '.d')
                          if name.startswith('.')])
        with open(self.path) as saved:
            document = json.load(saved)
        self.assertEqual((state.FORMAT, state.VERSION),
                         (document['format'], document['version']))

    def test_blobs_of_deleted_disks_are_not_kept(self):
        self.model.content.delete(self.vdisk.udid)
        state.save(self.model, self.path)
        self.assertFalse(os.path.exists(os.path.join(
            self.path + '.d', os.path.basename(
                self.model.content.path(self.vdisk.udid)))))


class TestOpenModel(testtools.TestCase):

    def test_builds_a_new_model_beside_the_file_then_loads_it(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 's')
        built = []

        def build(model):
            built.append(model)
            builder.build(model, systems=1, vioses=1, lpars=1)

        model = state.open_model(path, build)
        self.assertEqual([model], built)
        self.assertEqual(path + '.d', model.content.root_dir)
        state.save(model, path)
        again = state.open_model(path, build)
        self.assertEqual(1, len(built))
        self.assertEqual(sorted(p.uuid for p in model.lpars()),
                         sorted(p.uuid for p in again.lpars()))


class TestNewModelClasses(testtools.TestCase):
    """A family module that adds a dataclass needs no change to the saver.
    """

    def test_an_added_resource_round_trips(self):
        bridge_cls = dataclasses.make_dataclass(
            'SimBridge',
            [('vswitch', network.VirtualSwitch, dataclasses.field(
                default=None)),
             ('pvids', tuple, dataclasses.field(default=())),
             ('members', frozenset, dataclasses.field(default=frozenset())),
             ('load', dict, dataclasses.field(default_factory=dict)),
             ('weight', float, dataclasses.field(default=0.0))],
            bases=(registry.Resource,), kw_only=True, eq=False,
            namespace={'__module__': network.__name__,
                       'kind': 'SimBridge'})
        bridge_cls.__annotations__['kind'] = typing.ClassVar[str]
        self.useFixture(fixtures.MonkeyPatch(
            'powervm_sim.model.network.SimBridge', bridge_cls))
        model = built_model(self, systems=1, vioses=1, lpars=0)
        system = model.systems[0]
        bridge = bridge_cls(parent=system, vswitch=system.vswitches[1],
                            pvids=(1, 4094), members=frozenset({'ent0'}),
                            load={4094: ['ent0'], ('a', 1): None},
                            weight=float('inf'))
        model.registry.add(bridge)
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 's')
        state.save(model, path)
        loaded = state.load(path).get(bridge.uuid)
        self.assertIs(bridge_cls, type(loaded))
        self.assertIs(loaded.parent.vswitches[1], loaded.vswitch)
        self.assertEqual((1, 4094), loaded.pvids)
        self.assertEqual(frozenset({'ent0'}), loaded.members)
        self.assertEqual({4094: ['ent0'], ('a', 1): None}, loaded.load)
        self.assertEqual(float('inf'), loaded.weight)


class TestRefused(testtools.TestCase):
    """Saving what is not model state, and loading what is not ours."""

    def setUp(self):
        super().setUp()
        self.model = built_model(self, systems=1, vioses=1, lpars=1)
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'state.json')
        state.save(self.model, self.path)
        with open(self.path) as saved:
            self.document = json.load(saved)

    def _load_edited(self, edit, message):
        document = copy.deepcopy(self.document)
        edit(document)
        with open(self.path, 'w') as out:
            json.dump(document, out)
        self.assertRaisesRegex(state.StateError, message, state.load,
                               self.path)

    def _set_class(self, name):
        def edit(document):
            document['objects'][0]['class'] = name
        return edit

    def test_unknown_class_of_a_model_module(self):
        self._load_edited(self._set_class('powervm_sim.model.partition:Nope'),
                          'not a model dataclass')

    def test_classes_outside_the_model_package_are_not_imported(self):
        self.assertNotIn('this', sys.modules)
        for name in ('this:s', 'subprocess:Popen', 'os:system',
                     'powervm_sim.faults:FaultRule',
                     'powervm_sim.model_evil:X', '.model:LPAR'):
            self._load_edited(self._set_class(name), 'refusing class')
        self.assertNotIn('this', sys.modules)

    def test_only_dataclasses_defined_in_the_model_are_loaded(self):
        for name in ('powervm_sim.model:Model',
                     'powervm_sim.model.registry:Registry',
                     'powervm_sim.model.storage:files.FileRecord',
                     'powervm_sim.model.storage:os.system'):
            self._load_edited(self._set_class(name), 'not a model dataclass')
        self._load_edited(
            self._set_class('powervm_sim.model.partition:LPAR.__init__'),
            'not a plain class name')

    def test_unknown_field(self):
        def edit(document):
            document['objects'][0]['fields']['__class__'] = 1
        self._load_edited(edit, "no field.*'__class__'")

    def test_bad_reference_and_unknown_tag(self):
        def bad_ref(document):
            document['model']['systems'] = [{'$ref': 10 ** 6}]
        self._load_edited(bad_ref, 'bad object reference')

        def unknown_tag(document):
            document['model']['systems'] = {'$eval': 'x'}
        self._load_edited(unknown_tag, "unknown value tag '\\$eval'")

    def test_model_attributes_must_be_data(self):
        for name in ('content', '__class__', 'add_system', 'registry'):
            def edit(document, name=name):
                document['model'] = {name: 1}
            self._load_edited(edit, 'not a model data attribute')

        def wrong_type(document):
            document['model']['systems'] = 'all of them'
        self._load_edited(wrong_type, 'expected a list')

    def test_wrong_format_or_version(self):
        self._load_edited(lambda d: d.update(version=99), 'version 99')
        self._load_edited(lambda d: d.update(format='x'), 'not a powervm')

    def test_not_json(self):
        with open(self.path, 'w') as out:
            out.write('{"format": NaN}')
        self.assertRaisesRegex(state.StateError, 'not a state file',
                               state.load, self.path)

    def test_unsaveable_values_are_named_and_nothing_is_written(self):
        with open(self.path, 'rb') as saved:
            before = saved.read()
        self.model.systems[0].vswitches.append(object())
        self.assertRaisesRegex(state.StateError,
                               r'ManagedSystem\.vswitches: cannot save a '
                               r'builtins\.object', state.save, self.model,
                               self.path)
        with open(self.path, 'rb') as saved:
            self.assertEqual(before, saved.read())

    def test_dataclasses_outside_the_model_are_not_saved(self):
        self.model.systems[0].partitions.append(
            resources.ResourceType('x', None, list))
        self.assertRaisesRegex(state.StateError, 'is not a model class',
                               state.save, self.model, self.path)


class TestDeepNesting(testtools.TestCase):
    """A state file nested deeper than Python recurses is refused like any
    other bad file, never with a RecursionError."""

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'state.json')

    def assertRefused(self, text):
        with open(self.path, 'w') as out:
            out.write(text)
        self.assertRaisesRegex(state.StateError, 'nests its values too '
                               'deeply', state.load, self.path)

    def test_deeper_than_the_json_parser_goes(self):
        self.assertRefused('[' * 100000 + ']' * 100000)

    def test_deeper_than_the_decoder_goes(self):
        # Parsed, then too deep for the decoder's recursion.
        depth = sys.getrecursionlimit() - 100
        nested = '[' * depth + ']' * depth
        self.assertRefused(
            '{"format": "%s", "version": %d, "objects": [], "model": '
            '{"systems": %s}, "registry": {"objects": [], "etags": '
            '{"$count": [1, 1]}}}' % (state.FORMAT, state.VERSION, nested))


# Run in a child process: saves a model to argv[1] and is killed (as by
# kill -9) between writing a temporary file and renaming it to its place
# in the directory argv[2] (the state file's or its contents').
_KILLED_SAVE = '''
import os, signal, sys
from powervm_sim import model as model_mod, state
from powervm_sim.model import builder
model = model_mod.Model()
builder.build(model, systems=1, vioses=1)
rename = os.replace
def replace(source, target):
    if os.path.dirname(target) == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)
    rename(source, target)
os.replace = replace
state.save(model, sys.argv[1])
'''


class TestCrashedSaves(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.directory = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.directory, 'state.json')
        self.model = built_model(self, systems=1, vioses=1, lpars=0)

    def killed_save(self, directory):
        """The temporary files a save killed before a rename into
        ``directory`` left there."""
        child = subprocess.run([sys.executable, '-c', _KILLED_SAVE,
                                self.path, directory], capture_output=True)
        self.assertEqual(-signal.SIGKILL, child.returncode, child.stderr)
        return [name for name in os.listdir(directory)
                if name.startswith('.')]

    def test_the_next_save_removes_what_a_killed_save_left(self):
        [left] = self.killed_save(self.directory)
        self.assertTrue(left.startswith('.state.json.state-'), left)
        state.save(self.model, self.path)
        self.assertEqual(['state.json', 'state.json.d'],
                         sorted(os.listdir(self.directory)))

    def test_the_next_save_removes_a_killed_copy_of_contents(self):
        contents = state.content_dir(self.path)
        self.assertEqual(1, len(self.killed_save(contents)))
        state.save(self.model, self.path)
        self.assertEqual([], [name for name in os.listdir(contents)
                              if name.startswith('.')])

    def test_only_this_files_leftovers_are_removed(self):
        others = ['.other.json.state-abcd1234', '.state-abcd1234',
                  '.state.json.state-abcd12345', 'state.json.state-abcd1234',
                  '.state.json.state-x']
        for name in others:
            open(os.path.join(self.directory, name), 'w').close()
        os.makedirs(self.path + '.d')
        copies = os.path.join(self.path + '.d', '.copy-abcd1234')
        uploads = os.path.join(self.path + '.d', '.new-abcd1234')
        for name in (copies, uploads):
            open(name, 'w').close()
        state.save(self.model, self.path)
        self.assertEqual(sorted(others + ['state.json', 'state.json.d']),
                         sorted(os.listdir(self.directory)))
        # A save's own copies go; a blob being uploaded is not a save's.
        self.assertFalse(os.path.exists(copies))
        self.assertTrue(os.path.exists(uploads))


class TestDurableRename(testtools.TestCase):
    """The rename of a save is synced to disk with its directory.

    An fsync leaves nothing a test can read back (only a crash at the
    right moment would show it was missing), so os.fsync is wrapped, not
    replaced: every sync still happens, and the wrapper notes what was
    synced and what the state file held at that moment.
    """

    def test_the_directory_is_synced_after_the_rename(self):
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, 'state.json')
        model = built_model(self, systems=1, vioses=1, lpars=0)
        real_fsync = os.fsync
        synced = []

        def fsync(fd):
            real_fsync(fd)
            synced.append((os.fstat(fd), os.path.exists(path)))

        self.useFixture(fixtures.MonkeyPatch('os.fsync', fsync))
        state.save(model, path)
        directory_stat = os.stat(directory)
        # One sync of the directory, once the state file was in place.
        self.assertEqual([True], [
            renamed for synced_stat, renamed in synced
            if (synced_stat.st_dev, synced_stat.st_ino) ==
            (directory_stat.st_dev, directory_stat.st_ino)])
