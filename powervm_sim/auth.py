"""NovaLink authentication: sessions, token files and the TLS certificate.

The simulator accepts the two logons pypowervm knows: local file auth (the
token is written to a file only the local user can read, and the response
names the file) and, when users are configured, a user ID and password (the
token travels back in the response body).  Sessions can be expired on demand
so tests can drive pypowervm's re-login path, like a NovaLink session
timeout would.
"""

import datetime
import hmac
import ipaddress
import os
import re
import secrets
import shutil
import tempfile
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID

# NovaLink's administrator with a well-known password: what NovaLinkFixture's
# HTTP endpoints accept, for a test that owns its simulator (the recorder
# logs on with it).  Never a default: anyone on the host knows it.
DEFAULT_USERS = {'padmin': 'padmin'}

# 48 random bytes: 64 URL-safe characters, far beyond guessing.
_TOKEN_BYTES = 48
# Generated secrets: 24 URL-safe characters, easy to paste.
_SECRET_BYTES = 18
_SESSION_FILE_PREFIX = 'x-api-session-'

# pypowervm reads the certificate's expiry as a UTCTime ('%y%m%d%H%M%SZ');
# X.509 encodes dates from 2050 on as GeneralizedTime, which it cannot parse.
_LAST_UTCTIME = datetime.datetime(2049, 12, 31, 23, 59, 59,
                                  tzinfo=datetime.UTC)
_CERT_LIFETIME = datetime.timedelta(days=5 * 365)
_CERT_BACKDATE = datetime.timedelta(days=1)


class AuthError(Exception):
    """A rejected logon or request; status is the HTTP code to answer."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class UsersFileError(ValueError):
    """A users file (NAME:PASSWORD lines) that cannot be used."""


class _Session:
    """One logon: who made it, its token file (if any), whether it expired."""

    def __init__(self, user, token_file=None):
        self.user = user
        self.token_file = token_file
        self.expired = False


def is_loopback(remote_addr):
    """Whether a peer address (as WSGI reports it) is this host."""
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    mapped = getattr(address, 'ipv4_mapped', None)
    return (mapped or address).is_loopback


def _remove_file(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class SessionStore:
    """The simulator's logged-on sessions, keyed by X-API-Session token.

    :param token_dir: where file-auth token files are written. Default: a
                      private (0700) temporary directory that close()
                      removes. A directory passed in is kept; only the token
                      files this store wrote are removed from it.
    :param users: user ID -> password accepted by password logon. Default:
                  none, so password logon is off: file auth proves the
                  caller is a local user who may read the token file; a
                  password nobody configured proves nothing.  File auth
                  accepts any user ID, since pypowervm makes one up per
                  session.
    """

    def __init__(self, token_dir=None, users=None):
        self._owns_token_dir = token_dir is None
        if token_dir is None:
            # mkdtemp creates the directory with mode 0700.
            token_dir = tempfile.mkdtemp(prefix='powervm-sim-tokens-')
        self.token_dir = token_dir
        self._users = dict(users or {})
        self._sessions = {}
        self._lock = threading.Lock()

    def logon_password(self, user, password):
        """Log on with a user ID and password; returns the new token."""
        if not self._users:
            raise AuthError(401, 'Password logon is not enabled on this '
                                 'NovaLink; log on with file '
                                 'authentication')
        expected = self._users.get(user)
        if expected is None or not hmac.compare_digest(
                expected.encode('utf-8'), password.encode('utf-8')):
            # Never echo the password, nor say which of the two was wrong.
            raise AuthError(401, 'Invalid user ID or password')
        return self._add_session(_Session(user))

    def logon_file(self, user, remote_addr):
        """Log on with file auth; returns (token, token file path).

        File auth proves the caller is a local user, so it is refused (403)
        to anything but a loopback peer.
        """
        if not is_loopback(remote_addr):
            raise AuthError(403, 'File authentication is only allowed from '
                                 'the local host, not %s' % remote_addr)
        token = self._new_token()
        path = self._write_token_file(token)
        with self._lock:
            self._sessions[token] = _Session(user, token_file=path)
        return token, path

    def validate(self, token):
        """True if the token names a live (logged on, unexpired) session."""
        with self._lock:
            session = self._sessions.get(token)
            return session is not None and not session.expired

    def logoff(self, token):
        """End a session (expired or not) and remove its token file.

        Unknown tokens are ignored: pypowervm ignores logoff errors too.
        """
        with self._lock:
            session = self._sessions.pop(token, None)
        if session is not None and session.token_file:
            _remove_file(session.token_file)

    def expire(self, token):
        """Make a session stale, as a NovaLink session timeout would.

        The token then fails validation (so requests get 401 and pypowervm
        logs on again) but the session stays known until logged off.
        :raises KeyError: if no such session exists.
        """
        with self._lock:
            self._sessions[token].expired = True

    def expire_all(self):
        """Make every current session stale."""
        with self._lock:
            for session in self._sessions.values():
                session.expired = True

    def active_count(self):
        """How many sessions are logged on and not expired."""
        with self._lock:
            return sum(1 for session in self._sessions.values()
                       if not session.expired)

    def close(self):
        """Forget every session and remove the token files."""
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        if self._owns_token_dir:
            shutil.rmtree(self.token_dir, ignore_errors=True)
            return
        for session in sessions:
            if session.token_file:
                _remove_file(session.token_file)

    def _add_session(self, session):
        token = self._new_token()
        with self._lock:
            self._sessions[token] = session
        return token

    @staticmethod
    def _new_token():
        return secrets.token_urlsafe(_TOKEN_BYTES)

    def _write_token_file(self, token):
        # O_EXCL: never reuse or follow an existing file; 0600: only this
        # uid (the local user pypowervm runs as) may read the token.
        path = os.path.join(self.token_dir,
                            _SESSION_FILE_PREFIX + secrets.token_hex(16))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as token_file:
            token_file.write(token + '\n')
        return path


def load_users(path):
    """The users of a users file: ``NAME:PASSWORD`` a line, ``#`` comments.

    The file holds passwords, so it must be readable by its owner only.
    :raises UsersFileError: naming the file and what is wrong with it.
    """
    try:
        with open(path, encoding='utf-8') as users_file:
            if os.fstat(users_file.fileno()).st_mode & 0o077:
                raise UsersFileError(
                    'users file %s is open to other users; make it '
                    'readable by its owner only (chmod 600)' % path)
            lines = users_file.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsersFileError('cannot read users file %s: %s' % (
            path, exc)) from None
    users = dict(_user_entry(path, number, line)
                 for number, line in enumerate(lines, start=1)
                 if line.strip() and not line.lstrip().startswith('#'))
    if not users:
        raise UsersFileError('users file %s names no user' % path)
    return users


def _user_entry(path, number, line):
    name, sep, password = line.partition(':')
    if not sep or not name.strip() or not password:
        # The line may hold a password: never quote it.
        raise UsersFileError('%s line %d is not NAME:PASSWORD' % (
            path, number))
    return name.strip(), password


def new_secret():
    """A random secret: a run's logon password, a control token."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def _subject_alt_name(hosts):
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _build_certificate(key, hosts):
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'powervm_sim'),
    ])
    return (x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CERT_BACKDATE)
            .not_valid_after(min(now + _CERT_LIFETIME, _LAST_UTCTIME))
            .add_extension(_subject_alt_name(hosts), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                           critical=True)
            # Key identifiers and key usage: what strict verifiers (Python
            # 3.13's X509_STRICT default) expect of a trusted certificate.
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    key.public_key()), critical=False)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_encipherment=True,
                content_commitment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False)
            .sign(key, hashes.SHA256()))


def generate_self_signed_cert(directory, hosts=('127.0.0.1', 'localhost')):
    """Write a self-signed server certificate and its key into directory.

    :param hosts: IP addresses and DNS names the certificate is valid for;
                  the first one is also the subject's common name.
    :returns: (cert_path, key_path), both PEM; the key file is mode 0600.
    """
    hosts = tuple(hosts)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _build_certificate(key, hosts)
    cert_path = os.path.join(directory, 'powervm-sim.crt')
    key_path = os.path.join(directory, 'powervm-sim.key')
    key_fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(key_fd, 'wb') as key_file:
        key_file.write(key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    with open(cert_path, 'wb') as cert_file:
        cert_file.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def pinned_cert_path(certdir, host, certext='.crt'):
    """The trusted-certificate file pypowervm looks for when logging on.

    pypowervm's util.validate_certificate joins its certpath, the host with
    ':' and '.' turned into '_', and certext by plain concatenation, so
    certdir must be given exactly as passed to pypowervm's Session (normally
    ending in a path separator).
    """
    return '%s%s%s' % (certdir, re.sub('[:.]', '_', host), certext)


def install_pinned_cert(cert_path, certdir, host, certext='.crt'):
    """Copy a PEM certificate to where pypowervm trusts it for host.

    Beware: on Python 3, pypowervm 1.1.27's validate_certificate shuts down
    the socket ssl.wrap_socket has already detached, so once this file
    exists and the server answers, Session logon fails with OSError (EBADF)
    whatever the file holds.  With unmodified pypowervm, pin through
    requests instead: leave this file absent (validate_certificate then
    returns False without connecting, and pypowervm logs on with
    verification on) and name the simulator's certificate, alone, in
    REQUESTS_CA_BUNDLE (see trust_bundle).
    :returns: the path of the installed copy.
    """
    target = pinned_cert_path(certdir, host, certext)
    shutil.copyfile(cert_path, target)
    return target


def trust_bundle(cert_path, bundle_path, previous=None):
    """Write the CA bundle that makes requests trust the simulator.

    The bundle holds the certificate at cert_path, after the certificates
    of the bundle previous (the REQUESTS_CA_BUNDLE already in force, if
    any, and a file), so that simulators started one inside another all
    stay trusted.
    :returns: bundle_path.
    """
    parts = []
    for path in (previous, cert_path):
        if path and os.path.isfile(path):
            with open(path, encoding='ascii') as pem:
                parts.append(pem.read().strip() + '\n')
    with open(bundle_path, 'w', encoding='ascii') as bundle:
        bundle.write(''.join(parts))
    return bundle_path
