"""Tasks on the instance's LPAR itself."""

from nova import exception
from oslo_log import log as logging
from taskflow import task
from taskflow.types import failure as tf_failure

from nova_powervm import vm

LOG = logging.getLogger(__name__)

# What later tasks of a flow find the new LPAR's wrapper under.
LPAR_WRAP = 'lpar_wrap'


class CreateLPAR(task.Task):
    """Create the instance's LPAR (provides ``lpar_wrap``).

    Revert deletes it, including after a create whose answer was lost.
    """

    def __init__(self, adapter, host_w, instance, image_meta):
        super().__init__(name='create_lpar', provides=LPAR_WRAP)
        self.adapter = adapter
        self.host_w = host_w
        self.instance = instance
        self.image_meta = image_meta

    def execute(self):
        return vm.create_lpar(self.adapter, self.host_w, self.instance,
                              self.image_meta)

    def revert(self, result, flow_failures, **kwargs):
        if isinstance(result, tf_failure.Failure) and \
                not vm.create_outcome_unknown(result.exception):
            # NovaLink refused the LPAR (or it was never sent): nothing to
            # remove, and an LPAR that already had this UUID is not ours.
            return
        LOG.warning('Removing the LPAR of the failed deploy.',
                    instance=self.instance)
        try:
            vm.delete_lpar(self.adapter, self.instance)
        except exception.InstanceTerminationFailure:
            LOG.exception('Could not remove the LPAR of the failed deploy; '
                          'it has to be deleted by hand.',
                          instance=self.instance)


class PowerOn(task.Task):
    """Start the LPAR (from ``lpar_wrap`` when the flow made it, without
    reading it again).  Revert stops it at once (hard)."""

    def __init__(self, adapter, instance):
        super().__init__(name='power_on')
        self.adapter = adapter
        self.instance = instance

    def execute(self, lpar_wrap=None):
        vm.power_on(self.adapter, self.instance, lpar_w=lpar_wrap)

    def revert(self, result, flow_failures, **kwargs):
        # The deploy failed: nothing on the LPAR deserves a clean shutdown,
        # and a running LPAR cannot be deleted by the earlier steps' undo.
        LOG.warning('Powering off the LPAR of the failed deploy.',
                    instance=self.instance)
        try:
            vm.power_off(self.adapter, self.instance, timeout=0)
        except (exception.InstancePowerOffFailure,
                exception.InstanceNotFound):
            LOG.exception('Could not power off the LPAR of the failed '
                          'deploy.', instance=self.instance)


class PowerOff(task.Task):
    """Stop the LPAR.

    Nothing to undo: the flows that stop an LPAR tear the instance down,
    and a stopped LPAR is the safe state for a teardown that failed.
    """

    def __init__(self, adapter, instance, timeout=0):
        super().__init__(name='power_off')
        self.adapter = adapter
        self.instance = instance
        self.timeout = timeout

    def execute(self):
        vm.power_off(self.adapter, self.instance, timeout=self.timeout)


class DeleteLPAR(task.Task):
    """Delete the LPAR (already gone is fine).  A deleted LPAR cannot be
    brought back, so there is nothing to revert."""

    def __init__(self, adapter, instance):
        super().__init__(name='delete_lpar')
        self.adapter = adapter
        self.instance = instance

    def execute(self):
        vm.delete_lpar(self.adapter, self.instance)
