"""Sessions, token files and TLS certificates of the simulator."""

import datetime
import os
import socket
import ssl
import stat
import threading
from unittest import mock
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import serialization
import fixtures
from lxml import etree
from pyasn1.codec.der import decoder as der_decoder
from pyasn1_modules import rfc2459
from pypowervm import adapter as pvm_adapter
from pypowervm import const as pvm_const
from pypowervm import util as pvm_util
import testtools

from powervm_sim import auth


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class TestPasswordLogonIsOffByDefault(testtools.TestCase):

    def test_no_password_logs_on_unless_users_are_configured(self):
        # Not even the well-known one: whoever cannot read a token file
        # must not get a session another way.
        store = auth.SessionStore()
        self.addCleanup(store.close)
        for user, password in auth.DEFAULT_USERS.items():
            err = self.assertRaises(auth.AuthError, store.logon_password,
                                    user, password)
            self.assertEqual(401, err.status)
            self.assertIn('Password logon is not enabled', str(err))
        self.assertEqual(0, store.active_count())


class TestPasswordLogon(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.store = auth.SessionStore(users=auth.DEFAULT_USERS)
        self.addCleanup(self.store.close)

    def test_configured_user_logs_on(self):
        token = self.store.logon_password('padmin', 'padmin')
        self.assertTrue(self.store.validate(token))
        self.assertEqual(1, self.store.active_count())

    def test_tokens_are_long_unique_and_url_safe(self):
        tokens = {self.store.logon_password('padmin', 'padmin')
                  for _ in range(20)}
        self.assertEqual(20, len(tokens))
        for token in tokens:
            self.assertGreaterEqual(len(token), 43)
            self.assertRegex(token, r'^[A-Za-z0-9_-]+$')

    def test_wrong_password_is_401_without_the_password(self):
        err = self.assertRaises(auth.AuthError, self.store.logon_password,
                                'padmin', 's3cret-guess')
        self.assertEqual(401, err.status)
        self.assertNotIn('s3cret-guess', str(err))
        self.assertNotIn('s3cret-guess', repr(err.args))
        self.assertEqual(0, self.store.active_count())

    def test_unknown_user_gets_the_same_answer(self):
        wrong_user = self.assertRaises(auth.AuthError,
                                       self.store.logon_password,
                                       'nobody', 'padmin')
        wrong_password = self.assertRaises(auth.AuthError,
                                           self.store.logon_password,
                                           'padmin', 'nobody')
        self.assertEqual(401, wrong_user.status)
        self.assertEqual(str(wrong_password), str(wrong_user))

    def test_users_are_the_only_ones_accepted(self):
        store = auth.SessionStore(users={'neo': 'trinity'})
        self.addCleanup(store.close)
        self.assertTrue(store.validate(store.logon_password('neo',
                                                            'trinity')))
        self.assertRaises(auth.AuthError, store.logon_password,
                          'padmin', 'padmin')

    def test_unknown_token_is_invalid(self):
        self.assertFalse(self.store.validate('not-a-token'))
        self.assertFalse(self.store.validate(None))

    def test_logoff_invalidates(self):
        token = self.store.logon_password('padmin', 'padmin')
        self.store.logoff(token)
        self.assertFalse(self.store.validate(token))
        self.assertEqual(0, self.store.active_count())
        # A second logoff, like pypowervm's __del__ after logoff, is ignored.
        self.store.logoff(token)

    def test_expire_makes_token_stale_but_other_sessions_live(self):
        stale = self.store.logon_password('padmin', 'padmin')
        live = self.store.logon_password('padmin', 'padmin')
        self.store.expire(stale)
        self.assertFalse(self.store.validate(stale))
        self.assertTrue(self.store.validate(live))
        self.assertEqual(1, self.store.active_count())

    def test_expire_unknown_token_raises(self):
        self.assertRaises(KeyError, self.store.expire, 'not-a-token')

    def test_expire_all(self):
        tokens = [self.store.logon_password('padmin', 'padmin')
                  for _ in range(3)]
        self.store.expire_all()
        self.assertEqual(0, self.store.active_count())
        self.assertFalse(any(self.store.validate(t) for t in tokens))
        # Logging on again after a timeout works, as pypowervm's re-login.
        self.assertTrue(self.store.validate(
            self.store.logon_password('padmin', 'padmin')))

    def test_concurrent_logons_all_count(self):
        tokens = []
        lock = threading.Lock()

        def logon_many():
            mine = [self.store.logon_password('padmin', 'padmin')
                    for _ in range(50)]
            with lock:
                tokens.extend(mine)

        threads = [threading.Thread(target=logon_many) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(400, len(set(tokens)))
        self.assertEqual(400, self.store.active_count())


class TestUsersFile(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'users')

    def write(self, text, mode=0o600):
        with open(self.path, 'w') as users_file:
            users_file.write(text)
        os.chmod(self.path, mode)

    def test_names_and_passwords(self):
        self.write('# who may log on\nneo:trinity\n\n morpheus :a:b c\n')
        self.assertEqual({'neo': 'trinity', 'morpheus': 'a:b c'},
                         auth.load_users(self.path))

    def test_a_file_others_may_read_is_refused(self):
        for mode in (0o640, 0o604, 0o660):
            self.write('neo:trinity\n', mode)
            self.assertRaisesRegex(auth.UsersFileError,
                                   'readable by its owner only',
                                   auth.load_users, self.path)

    def test_bad_lines_are_named_without_their_password(self):
        for text in ('neo\n', ':trinity\n', 'neo:\n'):
            self.write('ok:fine\n' + text)
            err = self.assertRaises(auth.UsersFileError, auth.load_users,
                                    self.path)
            self.assertIn('line 2 is not NAME:PASSWORD', str(err))
            self.assertNotIn('trinity', str(err))

    def test_no_user_or_no_file(self):
        self.write('# nobody\n')
        self.assertRaisesRegex(auth.UsersFileError, 'names no user',
                               auth.load_users, self.path)
        os.unlink(self.path)
        self.assertRaisesRegex(auth.UsersFileError, 'cannot read users file',
                               auth.load_users, self.path)


class TestFileLogon(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.store = auth.SessionStore()
        self.addCleanup(self.store.close)

    def _pypowervm_reads_token(self, path):
        """Read the token file exactly as pypowervm's Session does."""
        root = etree.Element('{%s}LogonResponse' % pvm_const.WEB_NS)
        etree.SubElement(root, '{%s}X-API-SessionFile'
                         % pvm_const.WEB_NS).text = path
        return pvm_adapter.Session._get_auth_tok_from_file(root, None)

    def test_token_file_holds_the_token_for_pypowervm(self):
        token, path = self.store.logon_file('pypowervm_x', '127.0.0.1')
        self.assertEqual(token, self._pypowervm_reads_token(path))
        self.assertTrue(self.store.validate(token))

    def test_token_file_is_private_to_this_user(self):
        _token, path = self.store.logon_file('pypowervm_x', '127.0.0.1')
        self.assertEqual(0o600, _mode(path))
        self.assertEqual(os.getuid(), os.stat(path).st_uid)
        self.assertEqual(0o700, _mode(self.store.token_dir))

    def test_each_logon_gets_its_own_file(self):
        first = self.store.logon_file('pypowervm_a', '127.0.0.1')
        second = self.store.logon_file('pypowervm_b', '127.0.0.1')
        self.assertNotEqual(first[1], second[1])
        self.assertNotEqual(first[0], second[0])

    def test_token_is_not_in_the_file_name(self):
        token, path = self.store.logon_file('pypowervm_x', '127.0.0.1')
        self.assertNotIn(token, path)

    def test_loopback_addresses_are_accepted(self):
        for addr in ('127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'):
            token, _path = self.store.logon_file('pypowervm_x', addr)
            self.assertTrue(self.store.validate(token), addr)

    def test_remote_addresses_are_forbidden(self):
        for addr in ('10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1',
                     'fe80::1', '', 'localhost'):
            err = self.assertRaises(auth.AuthError, self.store.logon_file,
                                    'pypowervm_x', addr)
            self.assertEqual(403, err.status, addr)
        self.assertEqual([], os.listdir(self.store.token_dir))
        self.assertEqual(0, self.store.active_count())

    def test_logoff_removes_the_token_file(self):
        token, path = self.store.logon_file('pypowervm_x', '127.0.0.1')
        self.store.logoff(token)
        self.assertFalse(os.path.exists(path))
        self.assertFalse(self.store.validate(token))

    def test_expired_session_keeps_its_file_until_logoff(self):
        token, path = self.store.logon_file('pypowervm_x', '127.0.0.1')
        self.store.expire(token)
        self.assertFalse(self.store.validate(token))
        self.assertTrue(os.path.exists(path))
        self.store.logoff(token)
        self.assertFalse(os.path.exists(path))

    def test_close_removes_the_private_token_dir(self):
        store = auth.SessionStore()
        store.logon_file('pypowervm_x', '127.0.0.1')
        store.close()
        self.assertFalse(os.path.exists(store.token_dir))

    def test_close_keeps_a_given_token_dir_but_not_its_tokens(self):
        token_dir = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(token_dir, 'unrelated'), 'w'):
            pass
        store = auth.SessionStore(token_dir=token_dir)
        _token, path = store.logon_file('pypowervm_x', '127.0.0.1')
        self.assertEqual(token_dir, os.path.dirname(path))
        store.close()
        self.assertEqual(['unrelated'], os.listdir(token_dir))
        self.assertEqual(0, store.active_count())


class _OneShotTLSServer:
    """Serve a certificate to one TLS client on a loopback ephemeral port."""

    def __init__(self, cert_path, key_path):
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert_path, key_path)
        self._listener = socket.create_server(('127.0.0.1', 0))
        # Only so a broken client cannot hang the test run.
        self._listener.settimeout(30)
        self.port = self._listener.getsockname()[1]
        self.error = None
        self._thread = threading.Thread(target=self._serve_one)
        self._thread.start()

    def _serve_one(self):
        try:
            conn, _addr = self._listener.accept()
            # The client has the certificate once the handshake is done.
            with self._context.wrap_socket(conn, server_side=True):
                pass
        except (OSError, ssl.SSLError) as exc:
            self.error = exc

    def stop(self):
        self._thread.join()
        self._listener.close()


class TestCertificate(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.cert_path, self.key_path = auth.generate_self_signed_cert(
            self.tmp)
        with open(self.cert_path, 'rb') as cert_file:
            self.cert = x509.load_pem_x509_certificate(cert_file.read())

    def _serve(self, cert_path=None, key_path=None):
        server = _OneShotTLSServer(cert_path or self.cert_path,
                                   key_path or self.key_path)
        self.addCleanup(server.stop)
        return server

    def test_key_file_is_private(self):
        self.assertEqual(0o600, _mode(self.key_path))

    def test_names_cover_the_hosts(self):
        san = self.cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
        self.assertEqual(['localhost'], san.get_values_for_type(x509.DNSName))
        self.assertEqual(['127.0.0.1'],
                         [str(ip) for ip in
                          san.get_values_for_type(x509.IPAddress)])

    def test_custom_hosts(self):
        directory = self.useFixture(fixtures.TempDir()).path
        cert_path, _key = auth.generate_self_signed_cert(
            directory, hosts=['::1', 'novalink.example'])
        with open(cert_path, 'rb') as cert_file:
            cert = x509.load_pem_x509_certificate(cert_file.read())
        san = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
        self.assertEqual(['novalink.example'],
                         san.get_values_for_type(x509.DNSName))
        self.assertEqual(['::1'], [str(ip) for ip in
                                   san.get_values_for_type(x509.IPAddress)])

    def test_valid_now_and_expires_before_2050(self):
        now = datetime.datetime.now(datetime.UTC)
        self.assertLess(self.cert.not_valid_before_utc, now)
        self.assertGreater(self.cert.not_valid_after_utc,
                           now + datetime.timedelta(days=365))
        self.assertLess(self.cert.not_valid_after_utc.year, 2050)

    def test_expiry_is_utctime_as_pypowervm_parses_it(self):
        der = self.cert.public_bytes(serialization.Encoding.DER)
        decoded = der_decoder.decode(der, asn1Spec=rfc2459.Certificate())[0]
        not_after = decoded['tbsCertificate']['validity']['notAfter']
        self.assertEqual('utcTime', not_after.getName())
        parsed = datetime.datetime.strptime(str(not_after.getComponent()),
                                            '%y%m%d%H%M%SZ')
        self.assertEqual(self.cert.not_valid_after_utc.replace(tzinfo=None),
                         parsed)

    def test_requests_style_verification_accepts_it(self):
        # What requests does when REQUESTS_CA_BUNDLE names this certificate.
        for hostname in ('127.0.0.1', 'localhost'):
            server = self._serve()
            context = ssl.create_default_context(cafile=self.cert_path)
            raw = socket.create_connection(('127.0.0.1', server.port))
            with context.wrap_socket(raw, server_hostname=hostname) as tls:
                self.assertEqual(
                    self.cert.public_bytes(serialization.Encoding.DER),
                    tls.getpeercert(True))

    def test_pinned_cert_path_matches_pypowervm_naming(self):
        self.assertEqual('/etc/ssl/certs/127_0_0_1.crt',
                         auth.pinned_cert_path('/etc/ssl/certs/',
                                               '127.0.0.1'))
        self.assertEqual('/certs/fe80__1.pem',
                         auth.pinned_cert_path('/certs/', 'fe80::1', '.pem'))
        # pypowervm concatenates: no separator is added.
        self.assertEqual('/certslocalhost.crt',
                         auth.pinned_cert_path('/certs', 'localhost'))

    def test_install_pinned_cert_copies_the_pem(self):
        certdir = self.tmp + os.sep
        installed = auth.install_pinned_cert(self.cert_path, certdir,
                                             '127.0.0.1')
        self.assertEqual(auth.pinned_cert_path(certdir, '127.0.0.1'),
                         installed)
        with open(installed) as copy, open(self.cert_path) as original:
            self.assertEqual(original.read(), copy.read())

    def _validate_with_pypowervm(self, port):
        """Run pypowervm's validate_certificate with a Python 3 fix.

        ssl.wrap_socket detaches the socket pypowervm later shuts down
        (EBADF), so wrap a duplicate instead; everything else, the file
        lookup, fingerprint and expiry checks, runs unmodified.
        """
        def wrap_duplicate(sock):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            tls = context.wrap_socket(sock.dup())
            self.addCleanup(tls.close)
            return tls

        with mock.patch.object(pvm_util.ssl, 'wrap_socket', wrap_duplicate):
            return pvm_util.validate_certificate(
                '127.0.0.1', port, self.tmp + os.sep, '.crt')

    def test_pypowervm_accepts_the_pinned_certificate(self):
        auth.install_pinned_cert(self.cert_path, self.tmp + os.sep,
                                 '127.0.0.1')
        server = self._serve()
        self.assertTrue(self._validate_with_pypowervm(server.port))
        server.stop()
        self.assertIsNone(server.error)

    def test_pypowervm_rejects_a_different_certificate(self):
        other_dir = self.useFixture(fixtures.TempDir()).path
        other_cert, _key = auth.generate_self_signed_cert(other_dir)
        auth.install_pinned_cert(other_cert, self.tmp + os.sep, '127.0.0.1')
        server = self._serve()
        self.assertFalse(self._validate_with_pypowervm(server.port))

    def test_unpatched_pypowervm_cannot_pin_on_python3(self):
        # Why the simulator's https mode must rely on REQUESTS_CA_BUNDLE:
        # with a pinned file present, pypowervm's check itself blows up.
        auth.install_pinned_cert(self.cert_path, self.tmp + os.sep,
                                 '127.0.0.1')
        server = self._serve()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            self.assertRaises(OSError, pvm_util.validate_certificate,
                              '127.0.0.1', server.port, self.tmp + os.sep,
                              '.crt')
