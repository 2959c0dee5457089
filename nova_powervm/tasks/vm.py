"""Tasks on the instance's LPAR itself."""

from nova import exception
from oslo_log import log as logging
from taskflow import task
from taskflow.types import failure as tf_failure

from nova_powervm import vm

LOG = logging.getLogger(__name__)

# What later tasks of a flow find the wrapper of the LPAR the flow made (or
# updated) under.
LPAR_WRAP = 'lpar_wrap'


class CreateLPAR(task.Task):
    """Create the instance's LPAR (provides ``lpar_wrap``).

    Revert deletes it, including after a create whose answer was lost.

    :param nvram: the NVRAM the LPAR starts with (one recreated from
                  another host's), or None.
    """

    def __init__(self, adapter, host_w, instance, image_meta, nvram=None):
        super().__init__(name='create_lpar', provides=LPAR_WRAP)
        self.adapter = adapter
        self.host_w = host_w
        self.instance = instance
        self.image_meta = image_meta
        self.nvram = nvram

    def execute(self):
        return vm.create_lpar(self.adapter, self.host_w, self.instance,
                              self.image_meta, nvram=self.nvram)

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
    """Start the LPAR (from ``lpar_wrap`` when the flow made or updated
    it, without reading it again).  Revert stops it at once (hard)."""

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

    :param restore: revert starts the LPAR again if this step stopped it
                    (a move that failed gives the instance back as it
                    was).  Otherwise there is nothing to undo: the flows
                    that stop an LPAR tear the instance down, and a
                    stopped LPAR is the safe state for a teardown that
                    failed.
    """

    def __init__(self, adapter, instance, timeout=0, restore=False):
        super().__init__(name='power_off')
        self.adapter = adapter
        self.instance = instance
        self.timeout = timeout
        self.restore = restore
        self.was_on = False

    def execute(self):
        if not self.restore:
            vm.power_off(self.adapter, self.instance, timeout=self.timeout)
            return
        # Read first: a stop that failed (or whose answer was lost) may
        # have stopped it all the same.
        lpar_w = vm.get_lpar(self.adapter, self.instance)
        self.was_on = vm.is_on(lpar_w)
        vm.power_off(self.adapter, self.instance, timeout=self.timeout,
                     lpar_w=lpar_w)

    def revert(self, result, flow_failures, **kwargs):
        if self.was_on:
            LOG.warning('Starting the LPAR again after the failure.',
                        instance=self.instance)
            # A failure here is the flow's to raise: the instance is not
            # as it was.
            vm.power_on(self.adapter, self.instance)


class UpdateLPAR(task.Task):
    """Give the (stopped) LPAR the settings of ``flavor``; revert gives it
    those of ``prior_flavor`` again.  Provides ``lpar_wrap``, the updated
    LPAR's wrapper: a later power on need not read it again."""

    def __init__(self, adapter, host_w, instance, flavor, prior_flavor):
        super().__init__(name='update_lpar', provides=LPAR_WRAP)
        self.adapter = adapter
        self.host_w = host_w
        self.instance = instance
        self.flavor = flavor
        self.prior_flavor = prior_flavor

    def execute(self):
        return vm.update_lpar(self.adapter, self.host_w, self.instance,
                              self.flavor)

    def revert(self, result, flow_failures, **kwargs):
        LOG.warning('Giving the LPAR its flavor %s again after the failure.',
                    self.prior_flavor.name, instance=self.instance)
        vm.update_lpar(self.adapter, self.host_w, self.instance,
                       self.prior_flavor)


class DeleteLPAR(task.Task):
    """Delete the LPAR (already gone is fine).  A deleted LPAR cannot be
    brought back, so there is nothing to revert."""

    def __init__(self, adapter, instance):
        super().__init__(name='delete_lpar')
        self.adapter = adapter
        self.instance = instance

    def execute(self):
        vm.delete_lpar(self.adapter, self.instance)
