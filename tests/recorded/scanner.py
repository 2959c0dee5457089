# Copyright 2024 The nova-powervm authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Find secrets left in cassettes.

Reads vcrpy cassettes (YAML or JSON, top-level 'interactions') and Ruby VCR
cassettes (top-level 'http_interactions') and reports, per interaction:
passwords, session tokens and token file paths, credentials, cookies,
random-looking tokens in headers, PEM private keys, IP addresses outside
the loopback and documentation ranges, and host names that are neither
placeholders nor on an allow-list.  Everything the Scrubber of scrub.py
leaves behind passes.

    python -m tests.recorded.scanner PATH... [--allow-host NAME]
        [--allow-network CIDR] [--allow-fingerprint HEX]

exits 1 when it finds anything, 2 when a file is not a cassette.  Each
finding prints a fingerprint; an allow-list of fingerprints accepts a
known finding without writing the secret itself into the repository.
"""

import argparse
import base64
import dataclasses
import gzip
import hashlib
import io
import ipaddress
import json
import os
import re
import sys

import yaml
from vcr.serializers import yamlserializer

from tests.recorded import scrub

PASSWORD = 'password'
SESSION_TOKEN = 'session-token'
SESSION_FILE = 'session-file'
CREDENTIALS = 'credentials'
COOKIE = 'cookie'
TOKEN = 'token'
PRIVATE_KEY = 'private-key'
ADDRESS = 'address'
HOST = 'host'

CASSETTE_EXTENSIONS = ('.yml', '.yaml', '.json')
_EXCERPT_CONTEXT = 24
_FINGERPRINT_LENGTH = 16

_PRIVATE_KEY_MARK_RE = re.compile(r'-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----')
_SECRET_FIELDS = ((scrub.PASSWORD_FIELDS, PASSWORD),
                  (scrub.SESSION_FIELDS, SESSION_TOKEN),
                  (scrub.SESSION_FILE_FIELDS, SESSION_FILE))
_HOST_FIELDS = scrub.names_pattern(scrub.DEFAULT_HOST_ELEMENTS)


class CassetteFormatError(ValueError):
    """A file is not a cassette this scanner reads."""


class SecretsFound(AssertionError):
    """Cassettes hold secrets; .findings lists them."""

    def __init__(self, findings):
        self.findings = list(findings)
        super().__init__('%d finding(s):\n%s' % (
            len(self.findings), '\n'.join(str(f) for f in self.findings)))


@dataclasses.dataclass(frozen=True)
class Finding:
    """One secret: where it is, what kind, and an excerpt that hides it."""

    path: str
    index: int
    location: str
    kind: str
    excerpt: str
    fingerprint: str

    def __str__(self):
        return '%s: interaction %d: %s: %s: %s [%s]' % (
            self.path, self.index, self.location, self.kind, self.excerpt,
            self.fingerprint)


def fingerprint(kind, value):
    """A short stable digest naming a finding without showing its value."""
    digest = hashlib.sha256(('%s:%s' % (kind, value)).encode('utf-8'))
    return digest.hexdigest()[:_FINGERPRINT_LENGTH]


@dataclasses.dataclass(frozen=True)
class ScanPolicy:
    """What a scan accepts beyond placeholders and reserved names.

    allowed_hosts: host names (lower case) that may appear.
    allowed_networks: ipaddress networks whose addresses may appear.
    allowed_fingerprints: findings accepted one by one (see fingerprint).
    """

    allowed_hosts: frozenset = frozenset()
    allowed_networks: tuple = ()
    allowed_fingerprints: frozenset = frozenset()

    def allows_host(self, host):
        return scrub.is_safe_host(host, self.allowed_hosts)

    def allows_address(self, address):
        return scrub.is_safe_address(address) or any(
            address in network for network in self.allowed_networks
            if network.version == address.version)


def _redact(secret):
    shown = secret[:2] if len(secret) > 4 else ''
    return '%s…[%d chars]' % (shown, len(secret))


def _excerpt(text, start, end):
    before = text[max(0, start - _EXCERPT_CONTEXT):start]
    after = text[end:end + _EXCERPT_CONTEXT]
    return ' '.join((before + _redact(text[start:end]) + after).split())


def _values(values):
    if isinstance(values, (list, tuple)):
        return values
    return [] if values is None else [values]


def _decode(data):
    data = bytes(data)
    if data[:2] == b'\x1f\x8b':
        try:
            data = gzip.decompress(data)
        except OSError:
            pass
    return data.decode('utf-8', errors='replace')


def body_text(body):
    """The text of a cassette body in any form vcrpy or Ruby VCR write."""
    if body is None:
        return ''
    if isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray)):
        return _decode(body)
    if isinstance(body, io.BytesIO):
        return _decode(body.getvalue())
    if isinstance(body, dict):
        if body.get('base64_string'):
            return _decode(base64.b64decode(body['base64_string']))
        return body_text(body.get('string'))
    if isinstance(body, (list, tuple)):
        return ''.join(body_text(chunk) for chunk in body)
    return str(body)


class _Scan:
    """The findings of one cassette."""

    def __init__(self, path, policy):
        self.path = path
        self.policy = policy
        self.findings = []
        self._seen = set()
        self.index = 0
        self.location = ''

    def report(self, kind, text, start, end):
        value = text[start:end]
        mark = fingerprint(kind, value)
        key = (self.index, self.location, kind, mark)
        if mark in self.policy.allowed_fingerprints or key in self._seen:
            return
        self._seen.add(key)
        self.findings.append(Finding(
            path=self.path, index=self.index, location=self.location,
            kind=kind, excerpt=_excerpt(text, start, end), fingerprint=mark))

    def secret(self, kind, text, start, end):
        """Report text[start:end] unless it is a placeholder."""
        if not scrub.is_placeholder(text[start:end]):
            self.report(kind, text, start, end)

    def host(self, text, start, end):
        value = text[start:end]
        host = value.strip()
        if not host or scrub.parse_address(host) is not None:
            return
        if not self.policy.allows_host(host.lower()):
            start += value.index(host)
            self.report(HOST, text, start, start + len(host))

    def interaction(self, index, interaction):
        self.index = index
        for part in ('request', 'response'):
            message = interaction.get(part)
            if isinstance(message, dict):
                self.message(part, message)

    def message(self, part, message):
        if message.get('uri'):
            self.location = part + '.uri'
            self.text(str(message['uri']))
        headers = message.get('headers') or {}
        for name, values in headers.items():
            self.location = '%s.headers.%s' % (part, name)
            for value in _values(values):
                self.header(str(name), body_text(value))
        status = message.get('status')
        if isinstance(status, dict) and status.get('message'):
            self.location = part + '.status'
            self.text(str(status['message']))
        self.location = part + '.body'
        self.body(body_text(message.get('body')))

    def header(self, name, value):
        lower = name.lower()
        if lower in scrub.SESSION_HEADERS:
            self.secret(SESSION_TOKEN, value, 0, len(value))
        elif lower in scrub.CREDENTIAL_HEADERS:
            start = value.find(' ') + 1
            self.secret(CREDENTIALS, value, start, len(value))
        elif lower == 'cookie':
            self.cookies(scrub.COOKIE_PAIR_RE, value)
        elif lower == 'set-cookie':
            self.cookies(scrub.SET_COOKIE_PAIR_RE, value)
            for match in scrub.COOKIE_DOMAIN_RE.finditer(value):
                self.host(value, *match.span(2))
        elif lower == 'host':
            self.host(value, 0, len(scrub.split_host_port(value)[0]))
        elif lower not in scrub.DESCRIPTIVE_HEADERS:
            for match in scrub.iter_random_tokens(value):
                self.report(TOKEN, value, *match.span())
        self.text(value)

    def cookies(self, regex, value):
        for match in regex.finditer(value):
            if match.group(2).lower() not in scrub.COOKIE_ATTRIBUTES:
                self.secret(COOKIE, value, *match.span(3))

    def body(self, text):
        if not text:
            return
        for names, kind in _SECRET_FIELDS:
            for match, _ in scrub.iter_field_values(text, names):
                self.secret(kind, text, *scrub.field_value_span(match))
        for match, _ in scrub.iter_field_values(text, _HOST_FIELDS):
            self.host(text, *scrub.field_value_span(match))
        self.text(text)

    def text(self, text):
        for match in _PRIVATE_KEY_MARK_RE.finditer(text):
            self.report(PRIVATE_KEY, text, *match.span())
        for match in scrub.iter_password_params(text):
            self.secret(PASSWORD, text, *match.span(2))
        for match in scrub.SESSION_COOKIE_RE.finditer(text):
            self.secret(COOKIE, text, *match.span(2))
        for match, address in scrub.iter_addresses(text):
            if not self.policy.allows_address(address):
                self.report(ADDRESS, text, *match.span())
        for start, end, _ in scrub.iter_host_names(text):
            self.host(text, start, end)


def interactions_of(document):
    """The interaction list of a vcrpy or Ruby VCR cassette document."""
    if isinstance(document, dict):
        for key in ('interactions', 'http_interactions'):
            if isinstance(document.get(key), list):
                return document[key]
    raise CassetteFormatError('no interactions or http_interactions list')


def scan_cassette(document, path='<cassette>', policy=None):
    """Findings in a loaded cassette document."""
    scan = _Scan(path, policy or ScanPolicy())
    for index, interaction in enumerate(interactions_of(document)):
        if isinstance(interaction, dict):
            scan.interaction(index, interaction)
    return scan.findings


def load_cassette(path):
    """The document of a cassette file (JSON by extension, else YAML)."""
    try:
        with open(path, encoding='utf-8') as cassette:
            text = cassette.read()
        if path.endswith('.json'):
            return json.loads(text)
        # vcrpy's loader is safe and also reads the Python tags (BytesIO
        # bodies) older vcrpy cassettes contain.
        return yamlserializer.deserialize(text)
    except (ValueError, yaml.YAMLError) as error:
        raise CassetteFormatError('%s: %s' % (path, error)) from error


def scan_file(path, policy=None):
    """Findings in one cassette file."""
    document = load_cassette(path)
    try:
        return scan_cassette(document, path, policy)
    except CassetteFormatError as error:
        raise CassetteFormatError('%s: %s' % (path, error)) from error


def cassette_files(paths):
    """Cassette files named by paths; directories are searched recursively.

    Files named directly are scanned whatever their extension; in
    directories only .yml, .yaml and .json files are.
    """
    found = []
    for path in paths:
        if not os.path.isdir(path):
            found.append(path)
            continue
        found.extend(sorted(
            os.path.join(root, name)
            for root, _, files in os.walk(path) for name in files
            if name.endswith(CASSETTE_EXTENSIONS)))
    return found


def scan_paths(paths, policy=None):
    """Findings in every cassette under paths."""
    findings = []
    for path in cassette_files(paths):
        findings.extend(scan_file(path, policy))
    return findings


def check_paths(paths, policy=None):
    """Raise SecretsFound if any cassette under paths holds a secret."""
    findings = scan_paths(paths, policy)
    if findings:
        raise SecretsFound(findings)


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='python -m tests.recorded.scanner',
        description='Report secrets left in vcrpy and Ruby VCR cassettes.')
    parser.add_argument('paths', nargs='+', metavar='PATH',
                        help='cassette file or directory')
    parser.add_argument('--allow-host', action='append', default=[],
                        metavar='NAME', help='a host name to accept')
    parser.add_argument('--allow-network', action='append', default=[],
                        metavar='CIDR', type=ipaddress.ip_network,
                        help='addresses to accept')
    parser.add_argument('--allow-fingerprint', action='append', default=[],
                        metavar='HEX', help='a finding to accept')
    return parser.parse_args(argv)


def main(argv=None, out=None):
    """Command line entry; returns the exit status."""
    out = out or sys.stdout
    args = _parse_args(argv)
    policy = ScanPolicy(
        allowed_hosts=frozenset(host.lower() for host in args.allow_host),
        allowed_networks=tuple(args.allow_network),
        allowed_fingerprints=frozenset(args.allow_fingerprint))
    try:
        findings = scan_paths(args.paths, policy)
    except (CassetteFormatError, OSError) as error:
        print('error: %s' % error, file=out)
        return 2
    for finding in findings:
        print(finding, file=out)
    if findings:
        print('%d finding(s)' % len(findings), file=out)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
