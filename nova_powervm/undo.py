"""Undoing what a step made, when the step or what followed it failed."""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def quietly(undo, *args):
    """Run ``undo(*args)`` while an error propagates: log its failure
    rather than let it replace the error that made the undo necessary."""
    try:
        undo(*args)
    except Exception:
        LOG.exception('Could not undo %s%r; what it leaves behind has to '
                      'be removed by hand.', undo.__name__, args)


def retrying_once(undo, *args):
    """Run ``undo(*args)`` after the work it undoes went well, once more if
    it fails: one refused or unanswered request must not leave behind what
    only an operator could remove.  A second failure is raised."""
    try:
        undo(*args)
    except Exception:
        LOG.warning('Could not undo %s%r; trying once more.',
                    undo.__name__, args, exc_info=True)
        undo(*args)
