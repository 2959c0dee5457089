"""The ``[powervm]`` option group.

nova dropped its own ``[powervm]`` group together with its PowerVM driver, so
this project registers it on nova's global configuration object.  Importing
this module is enough: the driver, the tests and oslo-config-generator (via
the ``oslo.config.opts`` entry point) all go through here.
"""

import importlib.metadata
import ipaddress
import re

from oslo_config import cfg

CONF = cfg.CONF

# The entry point group of the management partition platforms (mgmt.py).
MGMT_PLATFORM_NAMESPACE = 'nova_powervm.mgmt_platform'
# The entry point group of the NVRAM store back ends (nvram/).
NVRAM_STORE_NAMESPACE = 'nova_powervm.nvram'

powervm_group = cfg.OptGroup(
    'powervm',
    title='PowerVM (NovaLink) driver options',
    help='Options for the nova_powervm compute driver, selected with '
         '``compute_driver = powervm_ext.driver.PowerVMDriver``.')

# How to reach the NovaLink REST API.  In production nova-compute runs on the
# NovaLink partition itself and uses local file authentication, which needs
# no credentials at all; every option below defaults to that.
connection_opts = [
    cfg.HostAddressOpt(
        'host', default='localhost',
        help='Host name or address of the NovaLink REST API.  Keep the '
             'default when nova-compute runs on the NovaLink partition '
             '(local file authentication).  Point it elsewhere, together '
             'with username and password, to use password authentication '
             'over HTTPS, for example against a standalone powervm-sim.'),
    cfg.PortOpt(
        'port',
        help='Port of the NovaLink REST API.  Unset means the NovaLink '
             'default for the protocol: 12080 for http, 12443 for https.'),
    cfg.StrOpt(
        'protocol', choices=['http', 'https'],
        help='Protocol for the NovaLink REST API.  Unset means http for '
             'local file authentication and https for password '
             'authentication.'),
    cfg.StrOpt(
        'username',
        help='NovaLink user for password authentication.  Leave unset to '
             'use local file authentication on the NovaLink partition.'),
    cfg.StrOpt(
        'password', secret=True,
        help='Password of ``username``.  Never logged.'),
    cfg.StrOpt(
        'certpath', default='/etc/ssl/certs/',
        help='Directory holding the pinned NovaLink certificate, named after '
             'the host with dots and colons turned into underscores plus '
             'the ``.crt`` extension (for example 10_0_0_5.crt).  A '
             'certificate that does not match is verified against the '
             'system trust store instead.'),
    cfg.FloatOpt(
        'request_timeout', default=60.0, min=1.0,
        help='Seconds to wait for NovaLink to accept a connection, and then '
             'for each part of its answer, on every REST request: logons, '
             'reads, creates, updates (which pypowervm alone would let wait '
             'an hour), deletes, each poll of a job and each poll for '
             'events (NovaLink holds those about 10 seconds).  A request '
             'that waits longer fails like a dropped connection.  A job as '
             'a whole has its own, longer, timeout.'),
    cfg.IntOpt(
        'connection_retries', default=20, min=1,
        help='How many times to try logging on to NovaLink when '
             'nova-compute starts before giving up.  NovaLink may still be '
             'starting after a host reboot.  The wait between tries starts '
             'at connection_retry_interval and doubles up to 30 seconds: '
             'with the defaults, a NovaLink that refuses connections or '
             'answers that it is starting is waited for 480 seconds in '
             'all, and one that never answers for at most '
             'connection_retries x request_timeout more.'),
    cfg.FloatOpt(
        'connection_retry_interval', default=2.0, min=0.0, max=30.0,
        help='Seconds to wait after the first failed attempt to reach '
             'NovaLink at start-up; each later wait doubles, up to 30 '
             'seconds.'),
    cfg.IntOpt(
        'vios_active_wait_timeout', default=300, min=0,
        help='Seconds to wait at start-up for a Virtual I/O Server to be '
             'running with RMC active before the host is reported not '
             'ready.'),
]

compute_opts = [
    cfg.FloatOpt(
        'proc_units_factor', default=0.1, min=0.05, max=1,
        help='Physical processor units given to each virtual processor of a '
             'flavor that does not set ``powervm:proc_units``.  0.1 means '
             'a 4-vCPU flavor gets 0.4 processor units.  The host\'s VCPU '
             'inventory is its processor units rounded up; the VCPU '
             'allocation ratio accounts for the sharing.'),
    cfg.FloatOpt(
        'lifecycle_event_delay', default=15.0, min=0.0,
        help='Seconds to hold a partition state change reported by '
             'NovaLink before telling nova about it.  A newer change of '
             'the same partition within that time replaces the older one, '
             'so the short-lived states of a reboot (off, then starting) '
             'do not reach nova as a stop.'),
    cfg.IntOpt(
        'uncapped_proc_weight', default=64, min=1, max=255,
        help='Uncapped weight of shared-processor LPARs whose flavor does '
             'not set ``powervm:shared_weight``.'),
    cfg.StrOpt(
        'disk_driver', default='localdisk', choices=['localdisk', 'ssp'],
        ignore_case=True,
        help='Where instance boot disks live: ``localdisk`` for a volume '
             'group on a Virtual I/O Server, ``ssp`` for a shared storage '
             'pool cluster.'),
    cfg.StrOpt(
        'volume_group_name', default='',
        help='Volume group holding instance disks when disk_driver is '
             'localdisk.  Empty means the first non-rootvg volume group '
             'found on a Virtual I/O Server.'),
    cfg.StrOpt(
        'cluster_name', default='',
        help='Shared storage pool cluster to use when disk_driver is ssp.  '
             'Empty means the only cluster NovaLink reports.'),
    cfg.StrOpt(
        'vopt_media_volume_group', default='rootvg',
        help='Volume group of a Virtual I/O Server in which to make the '
             'virtual optical media repository for config drives when no '
             'Virtual I/O Server has one yet.'),
    cfg.IntOpt(
        'vopt_media_rep_size', default=1, min=1,
        help='Size in GB of the virtual optical media repository created '
             'when none exists.'),
    cfg.BoolOpt(
        'remove_vopt_media_on_boot', default=False,
        help='Unmap and delete the config drive media a set time after the '
             'instance first boots.'),
    cfg.IntOpt(
        'remove_vopt_media_time', default=60, min=0,
        help='Minutes after boot at which config drive media is removed '
             'when remove_vopt_media_on_boot is set.'),
    cfg.StrOpt(
        'pvm_vswitch_for_novalink_io', default='NovaLinkVEABridge',
        help='Virtual switch carrying the trunk adapters of Open vSwitch '
             'VIFs between the NovaLink partition and client LPARs; made '
             'when missing.  Each VIF gets a VLAN of its own on it, so it '
             'cannot be ETHERNET0 (bridged by the Shared Ethernet '
             'Adapters) or MGMTSWITCH (RMC).'),
    cfg.BoolOpt(
        'use_rmc_mgmt_vif', default=True,
        help='Give every LPAR a management adapter on MGMTSWITCH so that '
             'RMC (needed for OS shutdown and dynamic changes) can reach '
             'it.'),
    cfg.BoolOpt(
        'use_rmc_ipv6_scheme', default=True,
        help='Put an IPv6 link-local configuration for the RMC management '
             'adapter into the config drive.'),
    cfg.StrOpt(
        'mgmt_platform', default='novalink',
        help='What nova-compute runs on, which reads snapshot disks as '
             'local block devices and serves VNC consoles: ``novalink`` '
             'for the NovaLink partition itself, ``simulator`` for '
             'powervm-sim, in the process (tests) or a ``powervm-sim '
             'serve`` on this machine (POWERVM_SIM_CONTROL_TOKEN in the '
             'environment).  Names an entry point of '
             'the ``%s`` group.' % MGMT_PLATFORM_NAMESPACE),
]


def _fabric_opt(name):
    """The option of fabric ``name``'s physical ports.

    One option per fabric, named after it, as the earlier PowerVM drivers
    had them (their nova.conf files keep working).  The names come from
    the configuration itself, so only the default fabric's option can be
    registered (and listed in the sample file) in advance;
    fabric_port_wwpns() registers the others once the files are read.
    """
    return cfg.ListOpt(
        'fabric_%s_port_wwpns' % name, default=[],
        help='WWPNs of the physical FC ports (on any of the Virtual I/O '
             'Servers) cabled to fabric %s, through which the instances\' '
             'virtual FC ports log in when fc_attach_strategy is npiv.  '
             'Every fabric <name> in fabrics has such an option, '
             'fabric_<name>_port_wwpns.' % name)


volume_opts = [
    cfg.StrOpt(
        'fc_attach_strategy', default='vscsi', choices=['vscsi', 'npiv'],
        ignore_case=True, mutable=True,
        help='How Fibre Channel volumes reach an LPAR: ``vscsi`` maps the '
             'VIOS hdisk, ``npiv`` gives the LPAR virtual FC ports.'),
    cfg.IntOpt(
        'vscsi_vios_connections_required', default=1, min=1,
        help='Virtual I/O Servers that must see a vSCSI volume for an '
             'attach to succeed.'),
    cfg.BoolOpt(
        'volume_use_multipath', default=False,
        help='Discover iSCSI volumes over multiple paths.'),
    cfg.StrOpt(
        'iscsi_iface', default='default',
        help='iSCSI interface the Virtual I/O Server uses for discovery.'),
    cfg.StrOpt(
        'rbd_user', default='',
        help='Ceph user for RBD volumes.'),
    cfg.IntOpt(
        'ports_per_fabric', default=1, min=1, max=8,
        help='Virtual FC ports (WWPN pairs from NovaLink, which hands out '
             'at most 8 at a time) each instance gets on each fabric when '
             'fc_attach_strategy is npiv, spread over the Virtual I/O '
             'Servers.'),
    cfg.ListOpt(
        'fabrics', default=['A'],
        help='Names (letters and digits) of the Fibre Channel fabrics '
             'instances log in to when fc_attach_strategy is npiv.  Each '
             'fabric <name> has its physical ports in the option '
             'fabric_<name>_port_wwpns.'),
    # The default fabric's; fabric_port_wwpns() registers the others.
    _fabric_opt('A'),
]

vnc_opts = [
    cfg.BoolOpt(
        'vnc_use_x509_auth', default=False,
        help='Protect the VNC console with VeNCrypt x509 authentication.'),
    cfg.StrOpt(
        'vnc_ca_certs',
        help='CA certificates for VNC x509 authentication.'),
    cfg.StrOpt(
        'vnc_server_cert',
        help='Server certificate for VNC x509 authentication.'),
    cfg.StrOpt(
        'vnc_server_key',
        help='Server key for VNC x509 authentication.'),
]

migration_opts = [
    cfg.IntOpt(
        'live_migration_timeout', default=7200, min=1,
        help='Seconds a live migration (NovaLink\'s Migrate job, which '
             'copies the partition\'s memory while it runs) may take '
             'before it is aborted and the instance stays on its host.  '
             'The default is pypowervm\'s own for the job; a partition '
             'with much memory that it changes fast, over a slow network '
             'between the mover service partitions, may need more.'),
]

# Where LPARs' NVRAM is kept (nvram/), with nova-powervm's names and
# defaults.
nvram_opts = [
    cfg.StrOpt(
        'nvram_store', default='none',
        help='Where to keep each LPAR\'s NVRAM (its firmware settings, '
             'such as the boot list), so that a partition made again on '
             'another host (cold migration, evacuation) or after a shelve '
             'offload starts as it was: "swift" (OpenStack Swift, the '
             'swift_* options) or "none" (such a partition starts with a '
             'fresh NVRAM).'),
    cfg.StrOpt(
        'swift_container', default='powervm_nvram',
        help='Swift container of the NVRAM objects (one per instance, '
             'named by its UUID); made when first needed.'),
    cfg.StrOpt('swift_username', default='powervm',
               help='Swift user.'),
    cfg.StrOpt('swift_user_domain_name', default='powervm',
               help='Keystone domain of the Swift user.'),
    cfg.StrOpt('swift_project_name', default='powervm',
               help='Keystone project the NVRAM objects belong to.'),
    cfg.StrOpt('swift_project_domain_name', default='powervm',
               help='Keystone domain of swift_project_name.'),
    cfg.StrOpt('swift_password', secret=True,
               help='Password of swift_username.'),
    cfg.StrOpt('swift_auth_url',
               help='Keystone URL (auth version 3), or the Swift '
                    'authentication URL (version 1, e.g. tempauth\'s '
                    'http://proxy:8080/auth/v1.0).'),
    cfg.StrOpt('swift_cacert',
               help='CA bundle to check the Swift and Keystone '
                    'certificates with (default: the system\'s).'),
    cfg.StrOpt('swift_endpoint_type', default='publicURL',
               choices=['publicURL', 'internalURL', 'adminURL'],
               help='Which Swift endpoint of the Keystone catalog to use.'),
    cfg.IntOpt('swift_auth_version', default=3, choices=[1, 3],
               help='3: Keystone v3; 1: Swift\'s own authentication '
                    '(tempauth, swauth), with swift_username as '
                    '"account:user".'),
]

ALL_OPTS = (connection_opts + compute_opts + volume_opts + vnc_opts +
            migration_opts + nvram_opts)


class ConfigError(ValueError):
    """A ``[powervm]`` setting is invalid."""


def register_opts(conf=CONF):
    conf.register_group(powervm_group)
    conf.register_opts(ALL_OPTS, group=powervm_group)


def list_opts():
    """Options for oslo-config-generator (the oslo.config.opts entry)."""
    return [(powervm_group, ALL_OPTS)]


def validate(conf=CONF):
    """Check every ``[powervm]`` value now rather than on first use.

    oslo.config checks types, ranges and choices only when a value is read,
    which would let a typo surface in the middle of a spawn.  Reading every
    option here makes the driver refuse to load instead, with a message that
    names the option.
    """
    group = conf.powervm
    for opt in ALL_OPTS:
        try:
            getattr(group, opt.dest)
        except (cfg.ConfigFileValueError, ValueError) as exc:
            raise ConfigError(
                'Invalid [powervm] %s: %s' % (opt.name, _reason(exc))) from exc
    _check_auth(group)
    _check_fabrics(conf)
    _check_mgmt_platform(group)
    _check_nvram_store(group)
    _check_network(group)


# Switches NovaLink gives other jobs: the default one, which the Shared
# Ethernet Adapters bridge, and the RMC network's.
_RESERVED_VSWITCHES = frozenset(['ETHERNET0', 'MGMTSWITCH'])


def _check_network(group):
    name = group.pvm_vswitch_for_novalink_io.strip()
    if not name or name.upper() in _RESERVED_VSWITCHES:
        raise ConfigError(
            'Invalid [powervm] pvm_vswitch_for_novalink_io %r: Open vSwitch '
            'VIFs need a virtual switch of their own, not %s.' % (
                name, ' or '.join(sorted(_RESERVED_VSWITCHES))))
    if not group.vopt_media_volume_group.strip():
        raise ConfigError(
            'Invalid [powervm] vopt_media_volume_group: name the volume '
            'group in which to make the config drive media repository.')


def _reason(exc):
    # oslo.config wraps the real reason after "is not valid: "
    text = str(exc)
    marker = 'is not valid: '
    return text.split(marker, 1)[1] if marker in text else text


def uses_file_auth(group):
    return not group.password


def _check_auth(group):
    if bool(group.username) != bool(group.password):
        raise ConfigError(
            'Invalid [powervm] authentication: username and password must be '
            'set together (password authentication) or both left unset '
            '(local file authentication on the NovaLink partition).')
    if uses_file_auth(group) and not _is_loopback(group.host):
        raise ConfigError(
            'Invalid [powervm] host %s: local file authentication only works '
            'on the NovaLink partition itself; set username and password to '
            'reach a remote NovaLink.' % group.host)


def _is_loopback(host):
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_mgmt_platform(group):
    _check_entry_point(group, 'mgmt_platform', MGMT_PLATFORM_NAMESPACE)


def _check_entry_point(group, option, namespace):
    """The option names an entry point of ``namespace``."""
    names = sorted(entry.name for entry in importlib.metadata.entry_points(
        group=namespace))
    value = getattr(group, option)
    if value not in names:
        raise ConfigError(
            'Invalid [powervm] %s %s: use one of %s.' % (
                option, value, ', '.join(names) or '(none installed)'))


def _check_nvram_store(group):
    _check_entry_point(group, 'nvram_store', NVRAM_STORE_NAMESPACE)
    if group.nvram_store == 'swift' and not (
            group.swift_auth_url and group.swift_password):
        raise ConfigError(
            'Invalid [powervm] nvram_store swift: set swift_auth_url and '
            'swift_password (and the other swift_* options).')


def fabric_port_wwpns(conf=CONF):
    """{fabric name: [physical port WWPN, ...]} of the fabrics of
    ``[powervm] fabrics``, the WWPNs as configured."""
    opts = {name: _fabric_opt(name) for name in conf.powervm.fabrics}
    # oslo.config reads an option from the files only once it is
    # registered.  Registering empties its cache of every value: only the
    # options it lacks.
    new = [opt for opt in opts.values() if opt.dest not in conf.powervm]
    if new:
        conf.register_opts(new, group=powervm_group)
    return {name: getattr(conf.powervm, opt.dest)
            for name, opt in opts.items()}


# A WWPN as configured: 16 hex digits, colons between bytes allowed.
_WWPN = re.compile(r'^[0-9A-Fa-f]{16}$')


def _check_fabrics(conf):
    group = conf.powervm
    for name in group.fabrics:
        # Fabric names go into option names and system_metadata keys,
        # where '_' separates the parts.
        if not name.isalnum():
            raise ConfigError(
                'Invalid [powervm] fabrics: fabric name %r must be letters '
                'and digits only.' % name)
    npiv = group.fc_attach_strategy.lower() == 'npiv'
    if npiv and not group.fabrics:
        raise ConfigError(
            'Invalid [powervm] fabrics: fc_attach_strategy npiv needs at '
            'least one fabric.')
    for name, wwpns in fabric_port_wwpns(conf).items():
        _check_fabric_wwpns(name, wwpns, npiv)


def _check_fabric_wwpns(name, wwpns, npiv):
    for wwpn in wwpns:
        if not _WWPN.match(wwpn.replace(':', '')):
            raise ConfigError(
                'Invalid [powervm] fabric_%s_port_wwpns: %r is not a WWPN '
                '(16 hex digits).' % (name, wwpn))
    if npiv and not wwpns:
        raise ConfigError(
            'Invalid [powervm] fabric_%s_port_wwpns: with '
            'fc_attach_strategy npiv, name the WWPNs of the physical FC '
            'ports cabled to fabric %s.' % (name, name))


register_opts()
