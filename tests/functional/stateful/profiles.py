"""Hypothesis settings of the stateful driver tests.

``ci`` (the default) runs a few short, derandomized examples so that every
CI run explores the same sequences; ``deep`` runs thousands of longer ones
for a lab.  ``HYPOTHESIS_PROFILE=deep`` selects it.  Both print the blob
that reproduces a failure (``@reproduce_failure``).
"""

import os

from hypothesis import HealthCheck
from hypothesis import settings

PROFILE_VARIABLE = 'HYPOTHESIS_PROFILE'
DEFAULT_PROFILE = 'ci'

# Each example starts a simulator and a driver: Hypothesis must not judge
# that slow, nor a step that waits for a job.
_COMMON = {
    'deadline': None,
    'print_blob': True,
    'suppress_health_check': [HealthCheck.too_slow,
                              HealthCheck.filter_too_much],
}

settings.register_profile(
    'ci',
    max_examples=12,
    stateful_step_count=6,
    derandomize=True,
    # A derandomized run needs no example database; none is written into
    # the source tree either.
    database=None,
    **_COMMON)

settings.register_profile(
    'deep',
    max_examples=3000,
    stateful_step_count=25,
    **_COMMON)


def selected():
    """The settings of the profile HYPOTHESIS_PROFILE names (ci if unset).

    Returned rather than loaded, so that other tests in the same process
    keep Hypothesis' defaults.
    """
    return settings.get_profile(
        os.environ.get(PROFILE_VARIABLE) or DEFAULT_PROFILE)
