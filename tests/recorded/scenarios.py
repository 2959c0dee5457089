# Copyright 2024 The nova-powervm authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Driver scenarios that can be recorded into cassettes and replayed.

A scenario is a function of a DriverEnvironment that calls the real
PowerVMDriver, loaded through nova's own loader, and returns a summary of
what the driver answered (plain JSON data).  The same scenario runs
against a live NovaLink (a real one, or the embedded simulator) while a
cassette is recorded, and against the cassette alone when it is replayed;
the summaries must be equal.

Everything the driver sends must be the same on every run, or a replay
would not find its requests in the cassette:

- the instance's UUID (from which the driver derives its LPAR's UUID),
  its ID (which names it), flavor and image are fixed;
- the NovaLink event listener is not started.  It long-polls
  /rest/api/uom/Event on its own thread and, after each state change, reads
  the LPAR again from a pool thread: how many of those requests are made,
  and where they fall among the driver's own, depends on timing, so no
  recording of them could replay in order.  Lifecycle events are covered
  by tests/functional/driver/test_events.py on the live simulator;
- pypowervm's FeedTasks run their per-VIOS subtasks one at a time
  (SerialFeedTasks);
- the partition-local platform is NovaLink's own ('novalink'): the
  scenarios use only its REST side (closing a virtual terminal), never its
  local devices, which no HTTP cassette could hold;
- password authentication is used: file authentication puts a token file
  path in the logon response and a random user name in the request.
"""

import dataclasses
import hashlib
import json
import random
import threading
import time
import types
import uuid as uuid_mod

import fixtures
from nova.compute import power_state
from nova.compute import provider_tree
from nova.compute import vm_states
from nova import conf as nova_conf
from nova import context as nova_context
from nova import exception as nova_exception
from nova import objects
from nova.virt import driver as nova_driver
from nova.virt import fake as nova_fake
from oslo_config import fixture as config_fixture
from pypowervm.utils import transaction as pvm_tx

from nova_powervm import event as pvm_event

CONF = nova_conf.CONF
COMPUTE_DRIVER = 'powervm_ext.driver.PowerVMDriver'
HOST = 'compute1'
# Fixed identities, so that every run sends the same requests.
INSTANCE_UUID = '3f7f4a55-5b0e-4c43-9f0c-1d7b2a6c9e01'
INSTANCE_ID = 1
IMAGE_UUID = '6a4b1b2e-8f9d-4d6c-a3e1-7c5f0b9d2e10'
PROVIDER_UUID = '9d0a3c1e-2b4f-4e6a-8c7d-5f1e3a2b4c60'
# Small, and not text: the upload is a binary request body in the cassette
# that neither the scrubber nor the scanner reads as words.
IMAGE_DATA = bytes(range(0x80, 0x100)) * 32
# Seconds pypowervm and the driver wait that a replay need not wait.
_WAITING_MODULES = ('pypowervm.wrappers.job', 'pypowervm.tasks.partition',
                    'pypowervm.utils.retry')


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where the driver logs on (always with a user ID and password)."""

    host: str
    port: int
    protocol: str
    username: str
    password: str
    # Further [powervm] options (volume_group_name, ...).
    options: tuple = ()
    # The embedded simulator rather than a real NovaLink.
    is_simulator: bool = False

    @property
    def origin(self):
        """scheme://host:port, as pypowervm writes it in links."""
        host = '[%s]' % self.host if ':' in self.host else self.host
        return '%s://%s:%d' % (self.protocol, host, self.port)

    def powervm_options(self):
        options = {'host': self.host, 'port': self.port,
                   'protocol': self.protocol, 'username': self.username,
                   'password': self.password}
        options.update(self.options)
        return options


class NoWaits(fixtures.Fixture):
    """pypowervm's job polls and retries go on without sleeping.

    Only the modules that wait are given a time module of their own whose
    sleep returns at once, so nothing else in the process is affected.
    """

    def _setUp(self):
        quick = types.SimpleNamespace(time=time.time,
                                      monotonic=time.monotonic,
                                      sleep=lambda seconds: None)
        for module in _WAITING_MODULES:
            self.useFixture(fixtures.MonkeyPatch(module + '.time', quick))
        self.useFixture(fixtures.MonkeyPatch(
            'pypowervm.helpers.vios_busy.SLEEP', quick.sleep))


class SerialFeedTasks(fixtures.Fixture):
    """pypowervm's FeedTasks run their per-VIOS subtasks one at a time.

    In parallel (ten threads by default) they send their requests in an
    order that changes from run to run, and vcrpy, recording, lost
    requests two threads made at once (the simulator served 34 requests of
    the inventory scenario, the cassette held 32).
    """

    def _setUp(self):
        parallel_init = pvm_tx.ContextThreadPoolExecutor.__init__

        def serial_init(executor, max_workers=None, *args, **kwargs):
            parallel_init(executor, 1, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'pypowervm.utils.transaction.ContextThreadPoolExecutor.__init__',
            serial_init))


class ImageService(fixtures.Fixture):
    """The one image scenarios boot from, served through nova's image API."""

    def _setUp(self):
        self.useFixture(fixtures.MockPatch(
            'nova.image.glance.get_remote_image_service',
            lambda context, image_href: (self, image_href)))

    @staticmethod
    def meta():
        return {'id': IMAGE_UUID, 'name': 'scenario-image',
                'status': 'active', 'disk_format': 'raw',
                'container_format': 'bare', 'size': len(IMAGE_DATA),
                'min_disk': 0, 'min_ram': 0, 'properties': {}}

    def show(self, context, image_id, include_locations=False,
             show_deleted=True):
        if image_id != IMAGE_UUID:
            raise nova_exception.ImageNotFound(image_id=image_id)
        return self.meta()

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        self.show(context, image_id)
        return iter([IMAGE_DATA])


class DriverEnvironment(fixtures.Fixture):
    """The driver, loaded through nova's loader, configured for endpoint.

    No event listener (see the module's docstring); nova's objects are
    registered but no database is needed: the scenarios' instance is never
    saved.
    """

    def __init__(self, endpoint):
        super().__init__()
        self.endpoint = endpoint

    def _setUp(self):
        objects.register_all()
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(group='powervm', mgmt_platform='novalink',
                    connection_retries=1, **self.endpoint.powervm_options())
        conf.config(host=HOST)
        self.useFixture(fixtures.MockPatchObject(
            pvm_event, 'start', return_value=None))
        self.useFixture(ImageService())
        self.useFixture(SerialFeedTasks())
        self.context = nova_context.get_admin_context()
        self.driver = nova_driver.load_compute_driver(
            nova_fake.FakeVirtAPI(), COMPUTE_DRIVER)

    def make_instance(self):
        """The scenarios' instance: the same identity on every run."""
        flavor = objects.Flavor(
            id=1, name='pvm.scenario', flavorid='pvm-scenario',
            memory_mb=2048, vcpus=1, root_gb=1, ephemeral_gb=0, swap=0,
            extra_specs={}, is_public=True, disabled=False, rxtx_factor=1.0,
            vcpu_weight=0)
        return objects.Instance(
            context=self.context, id=INSTANCE_ID, uuid=INSTANCE_UUID,
            user_id='scenario-user', project_id='scenario-project',
            host=HOST, node=HOST, image_ref=IMAGE_UUID, flavor=flavor,
            instance_type_id=flavor.id, memory_mb=flavor.memory_mb,
            vcpus=flavor.vcpus, root_gb=flavor.root_gb, ephemeral_gb=0,
            vm_state=vm_states.BUILDING, power_state=power_state.NOSTATE,
            task_state=None, system_metadata={}, metadata={},
            config_drive='', hostname='scenario-vm',
            display_name='scenario-vm')

    @staticmethod
    def image_meta():
        return objects.ImageMeta.from_dict(ImageService.meta())


def _power_state(driver, instance):
    return power_state.STATE_MAP[driver.get_info(instance).state]


def _plain(value):
    """value as JSON would give it back (tuples become lists, ...)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def inventory(env):
    """init_host, the host's resources and inventory, its instances."""
    driver = env.driver
    driver.init_host(HOST)
    try:
        resource = driver.get_available_resource(HOST)
        tree = provider_tree.ProviderTree()
        tree.new_root(HOST, PROVIDER_UUID)
        driver.update_provider_tree(tree, HOST)
        return _plain({
            'nodes': driver.get_available_nodes(),
            'resource': resource,
            'inventory': tree.data(HOST).inventory,
            'instances': sorted(driver.list_instances()),
        })
    finally:
        driver.cleanup_host(HOST)


def lifecycle(env):
    """Spawn on local disk, power off and on, reboot, destroy."""
    driver = env.driver
    driver.init_host(HOST)
    try:
        instance = env.make_instance()
        states = []
        driver.spawn(env.context, instance, env.image_meta(), [], None, {},
                     network_info=[], power_on=True)
        states.append(('spawn', _power_state(driver, instance)))
        driver.power_off(instance)
        states.append(('power_off', _power_state(driver, instance)))
        driver.power_on(env.context, instance, [])
        states.append(('power_on', _power_state(driver, instance)))
        driver.reboot(env.context, instance, [], 'HARD')
        states.append(('reboot', _power_state(driver, instance)))
        listed = instance.name in driver.list_instances()
        driver.destroy(env.context, instance, [])
        return _plain({
            'instance_name': instance.name,
            'states': states,
            'listed_while_running': listed,
            'exists_after_destroy': driver.instance_exists(instance),
        })
    finally:
        driver.cleanup_host(HOST)


SCENARIOS = {'inventory': inventory, 'lifecycle': lifecycle}


def run(name, endpoint):
    """Run scenario ``name`` against endpoint; returns its summary."""
    scenario = SCENARIOS[name]
    with DriverEnvironment(endpoint) as env:
        return scenario(env)


def digest(summary):
    """A short digest of a summary, for messages."""
    text = json.dumps(summary, sort_keys=True)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]


class SeededUUIDs(fixtures.Fixture):
    """uuid.uuid4 draws from a seeded generator for the length of a run.

    The simulator names what it creates with uuid4 (partitions, disks,
    jobs' request IDs, feed IDs); seeded, two recordings against fresh
    simulators send the same URLs.
    """

    def __init__(self, seed=0):
        super().__init__()
        self.seed = seed

    def _setUp(self):
        generator = random.Random(self.seed)
        lock = threading.Lock()

        def uuid4():
            with lock:
                bits = generator.getrandbits(128)
            return uuid_mod.UUID(int=bits, version=4)

        self.useFixture(fixtures.MonkeyPatch('uuid.uuid4', uuid4))
