"""Hypothesis settings of the stateful driver tests.

``ci`` (the default) runs a few short, derandomized examples so that every
CI run explores the same sequences; ``deep`` runs thousands of longer ones
for a lab.  ``HYPOTHESIS_PROFILE=deep`` selects it.  Both print the blob
that reproduces a failure (``@reproduce_failure``).
"""

import os

from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import settings

PROFILE_VARIABLE = 'HYPOTHESIS_PROFILE'
DEFAULT_PROFILE = 'ci'

# Examples talk to a simulator over HTTP and steps wait for jobs:
# Hypothesis must not judge that slow.
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

# The nova machine's steps go through nova's whole stack, seconds each:
# fewer and shorter examples.  Its CI profile does not shrink (each shrink
# attempt replays an example through nova): a failing example is reported
# with all its steps.
settings.register_profile(
    'nova-ci',
    max_examples=6,
    stateful_step_count=10,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    **_COMMON)

settings.register_profile(
    'nova-deep',
    max_examples=300,
    stateful_step_count=20,
    **_COMMON)


def selected():
    """The settings of the profile HYPOTHESIS_PROFILE names (ci if unset).

    Returned rather than loaded, so that other tests in the same process
    keep Hypothesis' defaults.
    """
    return settings.get_profile(
        os.environ.get(PROFILE_VARIABLE) or DEFAULT_PROFILE)


def selected_nova():
    """The nova machine's settings of the profile HYPOTHESIS_PROFILE names
    (``nova-ci`` or ``nova-deep``)."""
    return settings.get_profile(
        'nova-%s' % (os.environ.get(PROFILE_VARIABLE) or DEFAULT_PROFILE))
