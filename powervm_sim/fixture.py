"""``NovaLinkFixture``: the simulator on loopback for a test.

One shared model holds every managed system; each system is served by its
own simulator application on its own port, as each real POWER server has
its own NovaLink.  Tests reach the state through ``.model``, arm faults
through ``.faults`` and talk REST through ``.adapter()``.
"""

import itertools
import os

import fixtures
from pypowervm import adapter as pvm_adpt

from powervm_sim import app as app_mod
from powervm_sim import auth
from powervm_sim import faults as faults_mod
from powervm_sim import model as model_mod
from powervm_sim import server as server_mod
from powervm_sim.model import builder
from powervm_sim.model import mobility

# requests verifies HTTPS against the bundle this variable names.
_CA_BUNDLE = 'REQUESTS_CA_BUNDLE'
# The storage targets fc_lun and iscsi_lun make their volumes on.
FIXTURE_FC_TARGET = 'fixture_array'
FIXTURE_IQN = 'iqn.2024-01.example.sim:fixture'
FIXTURE_PORTALS = ['192.0.2.50:3260', '192.0.2.51:3260']
FIXTURE_CHAP = ('fixture', 'fixture-chap-secret')
# Where novalink_file makes its files.
FIXTURE_FILE_DIR = '/var/lib/nova/volumes'
# What fail_migrations' migrations fail with.
MIGRATION_FAILURE = ('%s The partition migration stopped midway: the mover '
                     'service partitions lost their connection. Recover '
                     'the partition.' % mobility.FAILED_MIDWAY)


class Endpoint:
    """One managed system's NovaLink: its application and server."""

    def __init__(self, system, simulator, server):
        self.system = system
        self.simulator = simulator
        self.server = server

    @property
    def host(self):
        return self.server.host

    @property
    def port(self):
        return self.server.port

    @property
    def protocol(self):
        return self.server.protocol


class NovaLinkFixture(fixtures.Fixture):
    """Run simulated NovaLinks for the length of a test.

    :param systems: managed systems (each gets its own endpoint).
    :param vioses: VIOSes per system.
    :param lpars: client LPARs created up front on each system.
    :param https: serve HTTPS with a generated certificate and password
                  authentication instead of HTTP with file authentication.
                  The fixture generates the password (``.username``,
                  ``.password``) and trusts the certificate (``.cert_path``)
                  the way unmodified pypowervm can: see _trust_certificate.
                  Over HTTP, besides file authentication, the well-known
                  auth.DEFAULT_USERS may log on with a password: the test
                  owns its simulator.
    :param seed: seed of the fault rules' random draws.
    :param novalink_io: each NovaLink partition hosts I/O: it is the
                        management VIOS (in the VIOS feed, not the LPAR
                        feed) and serves file and RBD disks.
    :param shared_ssp: the VIOSes of every system form one SSP cluster,
                       which every endpoint serves (else each system has
                       a cluster of its own VIOSes).
    """

    def __init__(self, systems=1, vioses=2, lpars=0, https=False, seed=0,
                 strict_order=True, event_wait=1.0, model=None,
                 novalink_io=False, shared_ssp=False):
        super().__init__()
        self.novalink_io = novalink_io
        self.shared_ssp = shared_ssp
        self.systems = systems
        self.vioses = vioses
        self.lpars = lpars
        self.https = https
        self.seed = seed
        self.strict_order = strict_order
        self.event_wait = event_wait
        self.model = model
        self.endpoints = []
        self.certdir = None
        self.cert_path = None
        self.username = None
        self.password = None

    def _setUp(self):
        if self.model is None:
            self.model = model_mod.Model()
            builder.build(self.model, self.systems, self.vioses, self.lpars,
                          novalink_io=self.novalink_io,
                          shared_ssp=self.shared_ssp)
            # Disk contents live in files; remove them with the test.
            self.addCleanup(self.model.content.close)
        self.faults = faults_mod.FaultRegistry(seed=self.seed)
        self.latency = faults_mod.LatencyModel()
        cert = None
        if self.https:
            self.certdir = self.useFixture(fixtures.TempDir()).path + '/'
            cert = auth.generate_self_signed_cert(self.certdir)
            self.cert_path = cert[0]
            self.username, self.password = 'padmin', auth.new_secret()
            self._trust_certificate()
        for system in self.model.systems:
            self._start_endpoint(system, cert)

    def _trust_certificate(self):
        """Make pypowervm's logon verify, and accept only, our certificate.

        pypowervm 1.1.27 pins a certificate found at certpath + host +
        certext, but on Python 3 that check fails with OSError (EBADF)
        whenever the file exists (see auth.install_pinned_cert).  So
        certdir holds no such file: pypowervm then logs on with
        verification on, and requests verifies against REQUESTS_CA_BUNDLE,
        which names this certificate (after any bundle already in force).
        """
        previous = os.environ.get(_CA_BUNDLE)
        bundle = auth.trust_bundle(self.cert_path,
                                   self.certdir + 'ca-bundle.pem', previous)
        self.useFixture(fixtures.EnvironmentVariable(_CA_BUNDLE, bundle))

    def _start_endpoint(self, system, cert):
        users = ({self.username: self.password} if self.https
                 else auth.DEFAULT_USERS)
        sessions = auth.SessionStore(users=users)
        self.addCleanup(sessions.close)
        simulator = app_mod.Simulator(
            self.model, scope=system, sessions=sessions, faults=self.faults,
            latency=self.latency, strict_order=self.strict_order,
            event_wait=self.event_wait)
        server = server_mod.Server(simulator, cert=cert).start()
        simulator.base_url = server.url
        self.addCleanup(server.stop)
        self.addCleanup(simulator.close)
        self.endpoints.append(Endpoint(system, simulator, server))

    @property
    def simulator(self):
        return self.endpoints[0].simulator

    def session(self, index=0, **kwargs):
        """A logged-on pypowervm Session to endpoint ``index``."""
        endpoint = self.endpoints[index]
        if self.https:
            kwargs.setdefault('username', self.username)
            kwargs.setdefault('password', self.password)
            kwargs.setdefault('certpath', self.certdir)
        session = pvm_adpt.Session(
            host=endpoint.host, port=endpoint.port,
            protocol=endpoint.protocol, conn_tries=1, **kwargs)
        # Log off while the server still runs (pypowervm would otherwise
        # try from __del__, after the endpoint is gone).
        self.addCleanup(session._logoff)
        return session

    def adapter(self, index=0, **kwargs):
        """A pypowervm Adapter logged on to endpoint ``index``."""
        return pvm_adpt.Adapter(self.session(index, **kwargs))

    def set_mobility(self, index, **changes):
        """Change what the system of endpoint ``index`` allows of
        migrations: ``active_capable`` (bool), ``max_active_migrations``,
        ``proc_compat_modes`` (the processor compatibility modes it runs).
        """
        self.model.set_mobility(self.endpoints[index].system, **changes)

    def trust_migrations(self):
        """Make every NovaLink's console authorize every other's public
        SSH key, as an operator who exchanged them: migrations between any
        two systems are no longer refused for want of trust."""
        model = self.model
        with model.registry.lock:
            for console in model.consoles():
                others = [other.public_key for other in model.consoles()
                          if other is not console]
                model.set_authorized_keys(
                    console, console.authorized_keys + others)

    def guest_writes_nvram(self, lpar_uuid, nvram=None):
        """The guest of LPAR ``lpar_uuid`` writes its NVRAM: ``nvram``
        (base64 text) or new bytes of its own; NovaLink reports a MODIFY
        with detail NVRAM.  Returns the LPAR's NVRAM now."""
        lpar = self.model.registry.get(lpar_uuid, 'LogicalPartition')
        return self.model.write_nvram(lpar, nvram)

    def migration_seconds(self, seconds):
        """How long each Migrate job runs from now on: the partition is
        'migrating running' (and served by both NovaLinks) meanwhile."""
        self.latency.per_job_operation['Migrate'] = seconds

    def fail_migrations(self, message=MIGRATION_FAILURE, count=1):
        """The next ``count`` migrations fail midway: the Migrate job fails
        with ``message`` and the partition stays 'migrating running', its
        MigrationState 'Migration_Failed', until MigrateRecover.  Returns
        the fault rule's id."""
        return self.faults.add(faults_mod.FaultRule(
            job='Migrate', max_count=count, outcome=faults_mod.JobFailure(
                message, status='COMPLETED_WITH_ERROR', midway=True)))

    def fc_lun(self, size_gb=1, vioses=None, target=None, initiators=None,
               **kwargs):
        """A new SAN volume every FC port of ``vioses`` (default: all
        VIOSes of every system) reaches, or ``initiators`` (a client's
        virtual WWPNs, for NPIV) if given, on ``target`` (default: one FC
        target the fixture makes for its volumes).

        The LUN's ``connection_data()`` is what Cinder's FC drivers return
        for it: ``target_wwn``, ``target_lun`` and an
        ``initiator_target_map`` keyed by the VIOSes' port WWPNs, spelt as
        the VIOS documents show them.  Other keyword arguments go to
        ``model.san.add_lun``.
        """
        san = self.model.san
        if target is None:
            target = (san.fc_target(FIXTURE_FC_TARGET) or
                      san.add_fc_target(FIXTURE_FC_TARGET))
        if initiators is not None:
            return san.add_lun(target, size_gb, initiators=initiators,
                               **kwargs)
        return self._lun(target, size_gb, vioses, lambda vios: [
            port.wwpn for port in vios.fc_ports], kwargs)

    def iscsi_lun(self, size_gb=1, vioses=None, target=None, **kwargs):
        """A new iSCSI volume the initiators of ``vioses`` (default: all
        VIOSes of every system) may log in to, on ``target`` (default: a
        target the fixture makes, two portals, CHAP user ``FIXTURE_CHAP``).

        Its ``connection_data()`` holds what Cinder's iSCSI drivers return:
        ``target_portal(s)``, ``target_iqn(s)``, ``target_lun(s)`` and the
        CHAP ``auth_method``, ``auth_username`` and ``auth_password``.
        """
        san = self.model.san
        if target is None:
            target = (san.iscsi_target(FIXTURE_IQN) or san.add_iscsi_target(
                FIXTURE_IQN, FIXTURE_PORTALS, *FIXTURE_CHAP))
        return self._lun(target, size_gb, vioses,
                         lambda vios: [vios.iscsi_initiator], kwargs)

    def rbd_image(self, size_gb=1, pool='volumes'):
        """A new Ceph RBD image; its name ('pool/volume-N', the first free
        N), what Cinder's RBD driver gives as connection_info['data']
        ['name']."""
        san = self.model.san
        with san.lock:
            names = ('%s/volume-%d' % (pool, n) for n in itertools.count(1))
            name = next(n for n in names if san.rbd_image_mb(n) is None)
            san.add_rbd_image(name, size_gb)
        return name

    def novalink_file(self, size_gb=1, directory=FIXTURE_FILE_DIR,
                      index=0):
        """A new file on the NovaLink partition of endpoint ``index``
        (``directory``/volume-N, the first free N); its path, what a local
        or GPFS Cinder volume gives as ``device_path`` (NFS: ``export`` +
        ``name``)."""
        system = self.endpoints[index].system
        with self.model.registry.lock:
            files = system.mgmt_partition.files
            paths = ('%s/volume-%d' % (directory, n)
                     for n in itertools.count(1))
            path = next(p for p in paths if p not in files)
            self.model.add_novalink_file(system, path, size_gb)
        return path

    def _lun(self, target, size_gb, vioses, initiators_of, kwargs):
        with self.model.registry.lock:
            vioses = self.model.vioses() if vioses is None else vioses
            initiators = [i for vios in vioses for i in initiators_of(vios)]
        return self.model.san.add_lun(target, size_gb, initiators=initiators,
                                      **kwargs)
