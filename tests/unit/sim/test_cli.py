"""The powervm-sim command line: arguments, checks and refusals."""

import io
import json
import os

import fixtures
import testtools

from powervm_sim import cli
from powervm_sim import model as model_mod
from powervm_sim import state
from powervm_sim.model import builder


class CliTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.stdout))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.stderr))

    def refused(self, argv, message):
        err = self.assertRaises(SystemExit, cli.parse_args, argv)
        self.assertEqual(2, err.code)
        self.assertIn(message, self.stderr.getvalue())


class TestArguments(CliTestCase):

    def test_help_lists_the_serve_command(self):
        err = self.assertRaises(SystemExit, cli.main, ['--help'])
        self.assertEqual(0, err.code)
        self.assertIn('serve', self.stdout.getvalue())

    def test_serve_help_names_every_option(self):
        self.assertRaises(SystemExit, cli.main, ['serve', '--help'])
        for option in ('--systems', '--lpars', '--vioses', '--port',
                       '--host', '--file-auth', '--https', '--users',
                       '--latency-ms', '--job-seconds', '--state', '--seed',
                       '--shared-ssp'):
            self.assertIn(option, self.stdout.getvalue())

    def test_defaults_are_file_auth_on_the_novalink_port(self):
        args = cli.parse_args(['serve'])
        self.assertEqual((1, 0, 2), (args.systems, args.lpars, args.vioses))
        self.assertEqual(('127.0.0.1', 12080, False, None, 0),
                         (args.host, args.port, args.https, args.state,
                          args.seed))
        self.assertEqual((0.0, 0.0), (args.latency_ms, args.job_seconds))
        self.assertFalse(args.shared_ssp)
        self.assertTrue(cli.parse_args(['serve', '--shared-ssp']).shared_ssp)

    def test_https_defaults_to_the_https_port(self):
        args = cli.parse_args(['serve', '--https'])
        self.assertTrue(args.https)
        self.assertEqual(12443, args.port)
        self.assertEqual(0, cli.parse_args(['serve', '--https', '--port',
                                            '0']).port)

    def test_file_auth_listens_on_loopback_only(self):
        for host in ('127.0.0.1', '::1', 'localhost', '127.0.0.2'):
            self.assertEqual(host, cli.parse_args(
                ['serve', '--file-auth', '--host', host]).host)
        self.refused(['serve', '--host', '192.0.2.7'], 'only listens on '
                     'loopback, not on 192.0.2.7; use --https')
        self.refused(['serve', '--file-auth', '--host', 'novalink.example'],
                     'loopback')

    def test_https_may_listen_elsewhere(self):
        self.assertEqual('192.0.2.7', cli.parse_args(
            ['serve', '--https', '--host', '192.0.2.7']).host)

    def test_bad_values_are_refused(self):
        self.refused(['serve', '--file-auth', '--https'], 'not allowed with')
        self.refused(['serve', '--systems', '0'], 'must be at least 1')
        self.refused(['serve', '--lpars', '-1'], 'must be at least 0')
        self.refused(['serve', '--latency-ms', '-5'], 'finite number >= 0')
        self.refused(['serve', '--job-seconds', 'nan'], 'finite number')
        self.refused(['serve', '--port', '65535', '--systems', '2'],
                     'ports 65535 to 65536')
        self.refused([], 'a command is required')


class TestRefusedState(CliTestCase):

    def test_a_refused_state_file_stops_the_start(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'sim.json')
        model = model_mod.Model()
        builder.build(model, systems=1, vioses=1)
        self.addCleanup(model.content.close)
        state.save(model, path)
        with open(path) as saved:
            document = json.load(saved)
        document['objects'][0]['class'] = 'subprocess:Popen'
        with open(path, 'w') as out:
            json.dump(document, out)
        status = cli.serve(cli.parse_args(['serve', '--state', path,
                                           '--port', '0']))
        self.assertEqual(1, status)
        self.assertIn("refusing class 'subprocess:Popen'",
                      self.stderr.getvalue())
        self.assertNotIn('ready', self.stdout.getvalue())

    def test_a_deeply_nested_state_file_is_one_line_too(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'sim.json')
        with open(path, 'w') as out:
            out.write('[' * 100000 + ']' * 100000)
        status = cli.serve(cli.parse_args(['serve', '--state', path,
                                           '--port', '0']))
        self.assertEqual(1, status)
        self.assertEqual('powervm-sim: %s nests its values too deeply to be '
                         'a state file\n' % path, self.stderr.getvalue())


class TestRefusedUsers(CliTestCase):

    def test_a_users_file_others_may_read_stops_the_start(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'users')
        with open(path, 'w') as users_file:
            users_file.write('neo:trinity\n')
        os.chmod(path, 0o644)
        status = cli.serve(cli.parse_args(['serve', '--users', path,
                                           '--port', '0']))
        self.assertEqual(1, status)
        self.assertEqual(
            'powervm-sim: users file %s is open to other users; make it '
            'readable by its owner only (chmod 600)\n' % path,
            self.stderr.getvalue())
        self.assertNotIn('ready', self.stdout.getvalue())
