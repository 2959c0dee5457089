"""The NVRAM store: each LPAR's NVRAM kept outside its host, so that a
partition made again elsewhere (a cold migration to another host, an
evacuation, an unshelve) starts with the firmware settings it had.

``[powervm] nvram_store`` names the back end, an entry point of
NAMESPACE (``none``, ``swift``).
"""

import base64

from nova.compute import task_states
from nova.compute import vm_states
from nova import context as nova_context
from oslo_log import log as logging
from pypowervm import const as pvm_const
from pypowervm import exceptions as pvm_exc
from pypowervm.wrappers import logical_partition as pvm_lpar
from stevedore import driver as stevedore_driver

from nova_powervm import conf
from nova_powervm.nvram import manager
from nova_powervm import vm

LOG = logging.getLogger(__name__)
CONF = conf.CONF
NAMESPACE = conf.NVRAM_STORE_NAMESPACE
# The back end that keeps nothing.
NONE = 'none'
# The extended attribute group NovaLink shows a partition's NVRAM in.
XAG = [pvm_const.XAG.NVRAM]


def load_store(name=None):
    """The NvramStore named ``name`` (default: [powervm] nvram_store)."""
    return stevedore_driver.DriverManager(
        NAMESPACE, name or CONF.powervm.nvram_store,
        invoke_on_load=True).driver


def start(adapter, store=None):
    """An NvramManager saving the NVRAM of ``adapter``'s LPARs in
    ``store`` (default: the configured one); None with ``nvram_store =
    none``, whose store keeps nothing: no thread, and no REST call to read
    what would not be kept."""
    if store is None:
        if CONF.powervm.nvram_store == NONE:
            return None
        store = load_store()
    return manager.NvramManager(store, reader(adapter), resolve_instance)


def reader(adapter):
    """read(lpar_uuid): the LPAR's NVRAM as bytes, None when the LPAR is
    gone or has none: one GET of the LPAR with xag NVRAM."""
    def read(lpar_uuid):
        try:
            lpar_w = pvm_lpar.LPAR.get(adapter, uuid=lpar_uuid.upper(),
                                       xag=XAG)
        except pvm_exc.HttpNotFound:
            return None
        return lpar_w.nvram.encode() if lpar_w.nvram else None
    return read


def resolve_instance(lpar_uuid):
    """The UUID of the nova instance of LPAR ``lpar_uuid``, or None."""
    context = nova_context.get_admin_context()
    instance = vm.find_instances(context, [lpar_uuid]).get(lpar_uuid)
    return None if instance is None else instance.uuid


def as_nvram(data):
    """What the store gave back as the text pypowervm's ``nvram`` takes
    (NovaLink's base64), or None: nothing kept, or bytes that are not
    NVRAM (logged: NovaLink would refuse the LPAR made with them, and the
    move with it)."""
    if data is None:
        return None
    try:
        text = data.decode('ascii')
        base64.b64decode(text, validate=True)
    except ValueError:
        LOG.warning('The NVRAM store holds %d bytes that are not an LPAR\'s '
                    'NVRAM (base64); the LPAR starts with a new one.',
                    len(data))
        return None
    return text


# What destroy does with an instance's NVRAM (destroy_action).
REMOVE = 'remove'
KEEP = 'keep'
SAVE = 'save'
# Shelving: the LPAR goes (offload) and unshelve makes it again from the
# store, so its last NVRAM is saved first.
_SHELVING = frozenset([
    vm_states.SHELVED, vm_states.SHELVED_OFFLOADED])
_SHELVING_TASKS = frozenset([
    task_states.SHELVING, task_states.SHELVING_IMAGE_PENDING_UPLOAD,
    task_states.SHELVING_IMAGE_UPLOADING, task_states.SHELVING_OFFLOADING])
# Moves: the instance lives on in another LPAR (a resize reverted on its
# destination; a rebuild makes the LPAR again here), whose NVRAM the store
# keeps.
_MOVING_TASKS = frozenset([
    task_states.RESIZE_REVERTING, task_states.RESIZE_MIGRATING,
    task_states.RESIZE_MIGRATED, task_states.RESIZE_FINISH,
    task_states.REBUILDING, task_states.REBUILD_SPAWNING,
    task_states.REBUILD_BLOCK_DEVICE_MAPPING])


def restores_on_spawn(instance):
    """Whether a spawn of ``instance`` makes its LPAR again (an unshelve
    of an offloaded instance), with the NVRAM the store keeps."""
    return instance.vm_state == vm_states.SHELVED_OFFLOADED


def destroy_action(instance, this_host):
    """What destroying ``instance``'s LPAR on ``this_host`` does with its
    NVRAM in the store, as nova-powervm decided it:

    - SAVE (then keep) when it is shelved or being shelved: unshelve
      makes the LPAR again, here or elsewhere, from the store;
    - KEEP when the instance lives elsewhere now (``instance.host`` is
      another host: nova cleans up after an evacuation) or is moving or
      being rebuilt: its other LPAR's NVRAM is the one kept, and this
      LPAR's, older, must not overwrite it;
    - REMOVE otherwise: the instance is being deleted (or its deploy
      failed), and its NVRAM would be left in the store for nobody.
    """
    if instance.host is not None and instance.host != this_host:
        return KEEP
    if instance.task_state in _MOVING_TASKS:
        return KEEP
    if instance.vm_state in _SHELVING or \
            instance.task_state in _SHELVING_TASKS:
        return SAVE
    return REMOVE
