"""The ``powervm:*`` flavor extra specs.

One table serves two readers: nova's API, which loads ``register()``
through the ``nova.api.extra_spec_validators`` entry point and refuses a
flavor with a bad value, and the driver, which turns a flavor's specs into
pypowervm ``LPARBuilder`` attributes with ``builder_attributes()``.  A key
the API accepts is therefore always a key the driver understands.
"""

import dataclasses
import typing

from nova.api.validation.extra_specs import base
from nova import exception
from oslo_utils import strutils
from pypowervm.utils import lpar_builder as pvm_bldr
from pypowervm.wrappers import base_partition as pvm_bp

PREFIX = 'powervm:'

# Builder attributes the driver resolves itself before building: the
# sharing mode depends on whether processors are dedicated, and a shared
# processor pool is named in the flavor but identified by number on the
# system.
UNCAPPED = 'powervm_uncapped'
DEDICATED_SHARING_MODE = 'powervm_dedicated_sharing_mode'
SHARED_PROC_POOL_NAME = 'powervm_shared_proc_pool_name'

# Flavor spelling -> NovaLink's dedicated processor sharing mode.
DEDICATED_SHARING_MODES = {
    'share_idle_procs': pvm_bp.DedicatedSharingMode.SHARE_IDLE_PROCS,
    'keep_idle_procs': pvm_bp.DedicatedSharingMode.KEEP_IDLE_PROCS,
    'share_idle_procs_active':
        pvm_bp.DedicatedSharingMode.SHARE_IDLE_PROCS_ACTIVE,
    'share_idle_procs_always':
        pvm_bp.DedicatedSharingMode.SHARE_IDLE_PROCS_ALWAYS,
}


def _compat_spellings():
    """Flavor spelling -> NovaLink processor compatibility mode.

    Flavors of the earlier drivers wrote ``POWER6+``; NovaLink says
    ``POWER6_Plus``.  Both are accepted.
    """
    modes = {}
    for mode in pvm_bp.LPARCompat.ALL_VALUES:
        modes[mode] = mode
        modes[mode.replace('_Plus', '+')] = mode
    return modes


PROC_COMPAT_MODES = _compat_spellings()


def _bool(value):
    return strutils.bool_from_string(value, strict=True)


@dataclasses.dataclass(frozen=True)
class Spec:
    """One ``powervm:`` key: how nova validates it, what it builds."""

    key: str
    description: str
    # nova's validator description of the value ({'type': int, ...}).
    value: dict
    # The LPARBuilder attribute (or one of the driver's own above).
    attribute: str
    # Turns the (validated) flavor string into the attribute value.
    convert: typing.Callable

    @property
    def name(self):
        return PREFIX + self.key

    def validator(self):
        return base.ExtraSpecValidator(
            name=self.name, description=self.description, value=self.value)


_PROC_UNITS = {'type': str, 'pattern': r'\d+\.\d+',
               'description': 'processing units, e.g. 0.5'}

SPECS = (
    Spec('min_mem', 'Minimum memory (MB) the LPAR can be shrunk to while '
         'running.', {'type': int, 'min': 256}, pvm_bldr.MIN_MEM, int),
    Spec('max_mem', 'Maximum memory (MB) the LPAR can be grown to while '
         'running.', {'type': int, 'min': 256}, pvm_bldr.MAX_MEM, int),
    Spec('min_vcpu', 'Minimum virtual processors of the running LPAR.',
         {'type': int, 'min': 1}, pvm_bldr.MIN_VCPU, int),
    Spec('max_vcpu', 'Maximum virtual processors of the running LPAR.',
         {'type': int, 'min': 1}, pvm_bldr.MAX_VCPU, int),
    Spec('proc_units', 'Physical processing units of a shared-processor '
         'LPAR.  Default: the flavor\'s vCPUs times [powervm] '
         'proc_units_factor.', _PROC_UNITS, pvm_bldr.PROC_UNITS, float),
    Spec('min_proc_units', 'Minimum processing units of the running LPAR.',
         _PROC_UNITS, pvm_bldr.MIN_PROC_U, float),
    Spec('max_proc_units', 'Maximum processing units of the running LPAR.',
         _PROC_UNITS, pvm_bldr.MAX_PROC_U, float),
    Spec('dedicated_proc', 'Give the LPAR whole dedicated processors '
         'instead of shares of the shared processor pool.',
         {'type': bool}, pvm_bldr.DED_PROCS, _bool),
    Spec('uncapped', 'Let a shared-processor LPAR use idle capacity beyond '
         'its processing units.', {'type': bool}, UNCAPPED, _bool),
    Spec('dedicated_sharing_mode', 'What a dedicated-processor LPAR does '
         'with idle processor cycles.',
         {'type': str, 'enum': sorted(DEDICATED_SHARING_MODES)},
         DEDICATED_SHARING_MODE, DEDICATED_SHARING_MODES.__getitem__),
    Spec('shared_weight', 'Weight (0-255) of an uncapped LPAR when it '
         'competes for idle capacity.  Default: [powervm] '
         'uncapped_proc_weight.', {'type': int, 'min': 0, 'max': 255},
         pvm_bldr.UNCAPPED_WEIGHT, int),
    Spec('availability_priority', 'Priority (0-255) of the LPAR for '
         'processors when the system has to deconfigure a failed one.',
         {'type': int, 'min': 0, 'max': 255}, pvm_bldr.AVAIL_PRIORITY, int),
    Spec('processor_compatibility', 'Processor compatibility mode the LPAR '
         'runs in; must be one the host supports.',
         {'type': str, 'enum': sorted(PROC_COMPAT_MODES)},
         pvm_bldr.PROC_COMPAT, PROC_COMPAT_MODES.__getitem__),
    Spec('shared_proc_pool_name', 'Shared processor pool of a '
         'shared-processor LPAR.  Default: the default pool.',
         {'type': str, 'pattern': r'\S.*'}, SHARED_PROC_POOL_NAME, str),
    Spec('srr_capability', 'Whether the LPAR can be restarted on another '
         'host (simplified remote restart).  Default: true where the host '
         'supports it.', {'type': bool}, pvm_bldr.SRR_CAPABLE, _bool),
    Spec('enable_lpar_metric', 'Allow the LPAR\'s performance data to be '
         'collected.', {'type': bool}, pvm_bldr.ENABLE_LPAR_METRIC, _bool),
    Spec('ppt_ratio', 'Physical page table ratio of the LPAR\'s memory.',
         {'type': str, 'enum': sorted(pvm_bldr.ALLOWED_PPT_RATIOS,
                                      key=pvm_bldr.ALLOWED_PPT_RATIOS.get)},
         pvm_bldr.PPT_RATIO, str),
    Spec('enforce_affinity_check', 'Refuse to create the LPAR when the '
         'host cannot give it a good processor-memory affinity score.',
         {'type': bool}, pvm_bldr.ENFORCE_AFFINITY_CHECK, _bool),
    Spec('secure_boot', 'Secure boot policy (0 disables it, 1-9 enforce '
         'growing levels); AIX/Linux LPARs on hosts that support it.',
         {'type': int, 'min': 0, 'max': 9}, pvm_bldr.SECURE_BOOT, int),
)

_BY_NAME = {spec.name: spec for spec in SPECS}
_VALIDATORS = {spec.name: spec.validator() for spec in SPECS}


def register():
    """The validators nova's API loads (``nova.api.extra_spec_validators``).
    """
    return list(_VALIDATORS.values())


def builder_attributes(extra_specs):
    """LPARBuilder attributes set by a flavor's ``powervm:`` specs.

    Flavors made before the validators were installed (or with validation
    turned off) may hold anything, so every value is checked again here.

    :param extra_specs: the flavor's extra specs (any namespace).
    :returns: dict of LPARBuilder attributes; the shared processor pool
              comes back by name under SHARED_PROC_POOL_NAME.
    :raises nova.exception.InvalidAttribute: an unknown ``powervm:`` key or
            a value nova's validator refuses.
    """
    attrs = {}
    for name, value in extra_specs.items():
        if not name.startswith(PREFIX):
            continue
        spec = _BY_NAME.get(name)
        if spec is None:
            raise exception.InvalidAttribute(attr=name)
        try:
            _VALIDATORS[name].validate(name, value)
        except exception.ValidationError as exc:
            raise exception.InvalidAttribute(
                attr='%s=%s (%s)' % (name, value, exc)) from exc
        attrs[spec.attribute] = spec.convert(value)
    _resolve_sharing_mode(attrs)
    return attrs


def _resolve_sharing_mode(attrs):
    """Turn uncapped / dedicated_sharing_mode into one sharing mode.

    Only the setting that fits the processor type applies: a
    dedicated-processor LPAR has no cap, a shared one no idle-processor
    policy.  Without dedicated_proc, whichever was given decides (and the
    builder infers the processor type from it).
    """
    uncapped = attrs.pop(UNCAPPED, None)
    dedicated_mode = attrs.pop(DEDICATED_SHARING_MODE, None)
    dedicated = attrs.get(pvm_bldr.DED_PROCS)
    shared_mode = None
    if uncapped is not None:
        shared_mode = (pvm_bp.SharingMode.UNCAPPED if uncapped
                       else pvm_bp.SharingMode.CAPPED)
    if dedicated is True:
        mode = dedicated_mode
    elif dedicated is False:
        mode = shared_mode
    else:
        mode = shared_mode if shared_mode is not None else dedicated_mode
    if mode is not None:
        attrs[pvm_bldr.SHARING_MODE] = mode
