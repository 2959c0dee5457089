"""The driver's flows: one linear TaskFlow flow per nova operation.

Flows run on TaskFlow's serial engine, in the calling thread.  When a step
fails, every step that completed is reverted in reverse order and the
step's exception reaches the caller.
"""

from oslo_log import log as logging
import taskflow.engines
from taskflow import exceptions as tf_exc
from taskflow.listeners import logging as tf_logging
from taskflow.patterns import linear_flow

from nova_powervm.tasks import vm as tf_vm

LOG = logging.getLogger(__name__)


def spawn(adapter, host_w, instance, image_meta, power_on=True):
    """The flow that brings a new instance up on the host.

    The partition comes first and is powered on last.  What the instance
    boots from and talks through (boot disk, config drive media, network
    adapters) is attached in between, by tasks added to this same flow, so
    that a failure of any of them reverts the whole deploy.
    """
    flow = linear_flow.Flow('spawn_%s' % instance.uuid)
    flow.add(tf_vm.CreateLPAR(adapter, host_w, instance, image_meta))
    if power_on:
        flow.add(tf_vm.PowerOn(adapter, instance))
    return flow


def destroy(adapter, instance):
    """The flow that removes an instance's LPAR: stop it hard, delete it.
    """
    flow = linear_flow.Flow('destroy_%s' % instance.uuid)
    flow.add(tf_vm.PowerOff(adapter, instance, timeout=0),
             tf_vm.DeleteLPAR(adapter, instance))
    return flow


def run(flow, instance):
    """Run ``flow`` to the end, or revert it and raise what failed.

    When several steps failed (a step and a revert), the first failure is
    raised: it is what went wrong; the rest is already logged.
    """
    engine = taskflow.engines.load(flow, engine='serial')
    LOG.debug('Running flow %s.', flow.name, instance=instance)
    try:
        with tf_logging.DynamicLoggingListener(engine, log=LOG):
            engine.run()
    except tf_exc.WrappedFailure as wrapped:
        next(iter(wrapped)).reraise()
