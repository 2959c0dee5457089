"""The configuration file of every service of the cloud.

Each function returns {section: {option: value}}; ``write`` turns that
into an INI file.  Only what differs from the services' defaults is set.
"""

import os


def write(path, sections):
    with open(path, 'w') as f:
        for section, options in sections.items():
            f.write('[%s]\n' % section)
            for option, value in options.items():
                f.write('%s = %s\n' % (option, value))
            f.write('\n')
    os.chmod(path, 0o600)


def _authtoken(cloud, user):
    """keystonemiddleware's section: the service user's password logon and
    what it asks of the tokens it is shown."""
    return dict(_password_auth(cloud, user),
                www_authenticate_uri=cloud.url('keystone'),
                service_token_roles_required='true')


def _password_auth(cloud, user='nova'):
    return {
        'auth_type': 'password',
        'auth_url': cloud.url('keystone'),
        'project_domain_name': 'Default',
        'user_domain_name': 'Default',
        'project_name': 'service',
        'username': user,
        'password': cloud.service_password,
        'region_name': 'RegionOne',
    }


def keystone(cloud):
    return {
        'database': {'connection': cloud.database_url('keystone')},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': cloud.path('keystone-fernet')},
        'credential': {'key_repository': cloud.path('keystone-credential')},
    }


def placement(cloud):
    return {
        'placement_database': {
            'connection': cloud.database_url('placement')},
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': _authtoken(cloud, 'placement'),
    }


def glance(cloud):
    return {
        'DEFAULT': {
            'enabled_backends': 'fs:file',
            'worker_self_reference_url': cloud.url('glance'),
        },
        'database': {'connection': cloud.database_url('glance')},
        'paste_deploy': {'flavor': 'keystone'},
        'glance_store': {'default_backend': 'fs'},
        'fs': {'filesystem_store_datadir': cloud.path('glance-images')},
        'os_glance_staging_store': {
            'filesystem_store_datadir': cloud.path('glance-staging')},
        'os_glance_tasks_store': {
            'filesystem_store_datadir': cloud.path('glance-tasks')},
        'oslo_concurrency': {'lock_path': cloud.path('locks')},
        'keystone_authtoken': _authtoken(cloud, 'glance'),
    }


def neutron(cloud):
    return {
        'DEFAULT': {
            'core_plugin': 'ml2',
            'service_plugins': '',
            'auth_strategy': 'keystone',
            'transport_url': cloud.transport_url,
            'api_paste_config': cloud.venv_path('etc', 'neutron',
                                                'api-paste.ini'),
            'state_path': cloud.path('neutron'),
        },
        'database': {'connection': cloud.database_url('neutron')},
        'oslo_concurrency': {'lock_path': cloud.path('locks')},
        'keystone_authtoken': _authtoken(cloud, 'neutron'),
        'nova': _password_auth(cloud),
    }


def ml2():
    # No mechanism driver: nothing on this machine could wire a port (the
    # PowerVM SEA agent of networking-powervm is gone), so servers boot
    # without one; networks and ports are still neutron's own.
    return {
        'ml2': {
            'type_drivers': 'flat,vlan',
            'tenant_network_types': '',
            'mechanism_drivers': '',
            'extension_drivers': 'port_security',
        },
        'ml2_type_flat': {'flat_networks': '*'},
    }


def nova(cloud):
    """What every nova service reads."""
    return {
        'DEFAULT': {
            'transport_url': cloud.transport_url,
            'my_ip': '127.0.0.1',
            'state_path': cloud.path('nova'),
            'compute_driver': 'powervm_ext.driver.PowerVMDriver',
            # A resize may land on the same host as on any other.
            'allow_resize_to_same_host': 'true',
            # nova-novncproxy serves no noVNC pages here (none are
            # installed), only the consoles' WebSocket.
            'web': cloud.path('novnc'),
        },
        'oslo_concurrency': {'lock_path': cloud.path('locks')},
        'scheduler': {'workers': '1',
                      'discover_hosts_in_cells_interval': '-1'},
        'conductor': {'workers': '1'},
        'vnc': {
            'enabled': 'true',
            'server_listen': '127.0.0.1',
            'server_proxyclient_address': '127.0.0.1',
            'novncproxy_host': '127.0.0.1',
            'novncproxy_port': str(cloud.ports['novncproxy']),
            'novncproxy_base_url': cloud.url('novncproxy') +
            '/vnc_lite.html',
        },
        'keystone_authtoken': _authtoken(cloud, 'nova'),
        'service_user': dict(_password_auth(cloud),
                             send_service_user_token='true'),
        'placement': _password_auth(cloud),
        'neutron': _password_auth(cloud),
    }


def nova_databases(cloud):
    """Only nova-api, the conductor, the scheduler and nova-manage read
    this: a nova-compute with database access refuses to start."""
    return {
        'api_database': {'connection': cloud.database_url('nova_api')},
        'database': {'connection': cloud.database_url('nova')},
    }


def compute(cloud, host, endpoint):
    """One nova-compute's own file: its host name, state and NovaLink."""
    url = endpoint['url']
    hostport = url.split('://', 1)[1]
    address, port = hostport.rsplit(':', 1)
    return {
        'DEFAULT': {
            'host': host,
            # Its own state_path: nova keeps the node's UUID there.
            'state_path': cloud.path('nova-%s' % host),
        },
        'powervm': {
            'host': address,
            'port': port,
            'protocol': 'https',
            'username': endpoint['user'],
            'password': endpoint['password'],
            'disk_driver': 'ssp',
            'mgmt_platform': 'simulator',
        },
    }
