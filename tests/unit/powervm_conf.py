"""``PowerVMConf``: the [powervm] options on a configuration of their own,
loaded with nothing (no files, no arguments), for unit tests."""

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture

from nova_powervm import conf


class PowerVMConf(fixtures.Fixture):
    """``.conf``: a ConfigOpts with [powervm] registered and loaded;
    ``.config(**options)`` sets [powervm] options for the test."""

    def _setUp(self):
        self.conf = cfg.ConfigOpts()
        conf.register_opts(self.conf)
        self._fixture = self.useFixture(config_fixture.Config(self.conf))
        self.conf(args=[], project='nova')

    def config(self, **options):
        self._fixture.config(group='powervm', **options)
