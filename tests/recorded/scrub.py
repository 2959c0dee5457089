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

"""Remove secrets from HTTP traffic before it is written to a cassette.

A Scrubber gives vcrpy two hooks, before_record_request and
before_record_response, and scrubs already loaded cassettes with
scrub_cassette_dict.  It replaces:

- the Logon password and user ID, pypowervm's X-Audit-Memento header,
  X-API-Session tokens (headers and the LogonResponse), the
  X-API-SessionFile path, Authorization headers, the values of Cookie and
  Set-Cookie headers and of session cookies written in text,
  password=... parameters, random-looking tokens in other headers, PEM
  private keys;
- host names (in URLs, Host headers, cookie domains, HostName elements and
  anything that looks like a fully qualified name) with host-N.example;
- IPv4 and IPv6 addresses with documentation addresses (192.0.2.N,
  198.51.100.N, 203.0.113.N, 2001:db8::N);
- serial numbers (configured values, SerialNumber elements, the serial of
  MTMS strings such as 8286-42A*214D29V) with SERIAL0001...;
- job IDs with 1000000000001..., so re-recorded cassettes diff cleanly;
- any configured extra strings.

A value always gets the same placeholder from one Scrubber, so the URLs of
Atom links still resolve and replayed requests still match.  Placeholders
are left as they are, which makes scrubbing idempotent: vcrpy runs the
hooks again on every loaded interaction and on every live request it
matches during replay.

The configuration can come from the environment (ScrubConfig.from_environ):

PVM_SCRUB_HOSTS           host names to replace everywhere, numbered first
PVM_SCRUB_SERIALS         serial numbers to replace everywhere
PVM_SCRUB_STRINGS         other strings to replace everywhere
PVM_SCRUB_ALLOWED_HOSTS   host names to keep (beyond SAFE_HOSTS)
PVM_SCRUB_HOST_ELEMENTS   element/JSON key names holding host names
                          (replaces DEFAULT_HOST_ELEMENTS)
PVM_SCRUB_SERIAL_ELEMENTS element names or slash paths holding serial
                          numbers (replaces DEFAULT_SERIAL_ELEMENTS)
PVM_SCRUB_JOB_IDS         0/false/no/off keeps job IDs as recorded

Lists are comma separated; blanks around items are dropped.
"""

import copy
import dataclasses
import functools
import gzip
import ipaddress
import os
import re
import threading
import zlib

from lxml import etree

PASSWORD_PLACEHOLDER = 'scrubbed-password'
USER_PLACEHOLDER = 'scrubbed-user'
SESSION_PLACEHOLDER = 'scrubbed-session'
SESSION_FILE_PLACEHOLDER = '/scrubbed/x-api-session-file'
COOKIE_PLACEHOLDER = 'scrubbed-cookie'
CREDENTIALS_PLACEHOLDER = 'scrubbed-credentials'
SECRET_PLACEHOLDER = 'scrubbed-secret'
PRIVATE_KEY_PLACEHOLDER = 'scrubbed-private-key'
_STRING_PLACEHOLDER = 'scrubbed-string-%d'
_HOST_PLACEHOLDER = 'host-%d'
_FQDN_PLACEHOLDER = 'host-%d.example'
_SERIAL_PLACEHOLDER = 'SERIAL%04d'
# Job IDs are milliseconds since 1970 on NovaLink and the HMC; these
# stand for September 2001, long before any PowerVM REST API existed.
_JOB_ID_BASE = 1000000000000

# Values the ManageIQ recordings in ../shared/recorded already put in
# place of their secrets and host name.
UPSTREAM_PLACEHOLDERS = frozenset({
    'xxx', 'ibm-power-hmc-hostname', 'ibm-power-hmc-username',
    'ibm-power-hmc-password', '<sensitive>'})

_PLACEHOLDER_RE = re.compile(
    r'(?:scrubbed-[\w.-]*|/scrubbed/[\w./-]*|host-\d+(?:\.example)?'
    r'|SERIAL\d{4,}|1000000\d{6})\Z')

# Host names that identify nothing: XML namespace owners, loopback.
SAFE_HOSTS = frozenset({
    'localhost', 'www.w3.org', 'www.ibm.com', 'a9.com'})
# Reserved for documentation and tests (RFC 2606, RFC 6761).
SAFE_DOMAINS = ('example', 'example.com', 'example.net', 'example.org',
                'test', 'invalid', 'localhost')

_DOCUMENTATION_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'))
_IPV4_PLACEHOLDERS = tuple(
    str(address) for net in _DOCUMENTATION_NETWORKS[:3]
    for address in net.hosts())
_IPV6_PLACEHOLDER_NET = _DOCUMENTATION_NETWORKS[3]

DEFAULT_HOST_ELEMENTS = ('HostName', 'Hostname', 'ManagementConsoleName')
DEFAULT_SERIAL_ELEMENTS = ('SerialNumber', 'LogicalSerialNumber',
                           'VitalProductDataSerialNumber',
                           'MachineTypeModelAndSerialNumber/SerialNumber')
# Header names in lower case.
SESSION_HEADERS = ('x-api-session', 'x-auth-token')
CREDENTIAL_HEADERS = ('authorization', 'proxy-authorization')
# pypowervm sends the user name (or a configured memento) for audit logs.
USER_HEADERS = ('x-audit-memento',)

# Headers whose long values are entity tags, links or descriptions, never
# credentials: random-looking words in them are left alone.
DESCRIPTIVE_HEADERS = frozenset({
    'etag', 'if-match', 'if-none-match', 'location', 'content-location',
    'link', 'content-type', 'accept', 'user-agent', 'date', 'expires',
    'last-modified', 'cache-control'})

_FALSE_WORDS = ('0', 'false', 'no', 'off')
# Shorter passwords or cookie values are not replaced wherever they occur:
# a value of two or three characters is too likely to be part of data.
_MIN_SECRET_LENGTH = 4

# Patterns of field names (XML element local names, JSON keys).
PASSWORD_FIELDS = r'[\w.-]*[Pp]assword'
SESSION_FIELDS = r'X-API-Session'
SESSION_FILE_FIELDS = r'X-API-SessionFile'
_USER_FIELDS = r'UserID'
_JOB_ID_FIELDS = r'JobID'

PRIVATE_KEY_RE = re.compile(
    r'-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----'
    r'(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*)', re.DOTALL)
_TOKEN_MIN_LENGTH = 32
_TOKEN_RE = re.compile(r'[A-Za-z0-9+/_=-]{%d,}' % _TOKEN_MIN_LENGTH)
_UUID_RE = re.compile(r'[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}')
_PASSWORD_PARAM_RE = re.compile(
    r'(?i)(?<![\w-])(password|passwd|pwd|passphrase)=([^&\s;"\'<>]*)')
_URL_RE = re.compile(
    r'(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s"\'<>]*@)?'
    r'(\[[0-9a-f:.]+\]|[^/\s:"\'<>?#\[\]@]+)')
_FQDN_RE = re.compile(
    r'(?i)(?<![\w./-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+'
    r'[a-z]{2,24})(?![\w-]|\.[a-z0-9])')
# Top level domains that mark a dotted word as a host name even with two
# labels; country codes need three labels (module.py is not a host).
_GENERIC_TLDS = frozenset({
    'com', 'net', 'org', 'edu', 'gov', 'mil', 'int', 'info', 'biz', 'io',
    'cloud', 'corp', 'local', 'lan', 'internal', 'intranet', 'home',
    'localdomain'})
_IPV4_RE = re.compile(r'(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)')
_IPV6_RE = re.compile(
    r'(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:)'
    r'[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])')
# Quads that are software levels, not addresses: VIOS 3.1.0.11.
_NOT_ADDRESS_FIELD_RE = re.compile(r'(?i)version|level')
_XML_OPEN_TAIL_RE = re.compile(r'<(?:[\w.-]+:)?([\w.-]+)(?:\s[^<>]*)?>'
                               r'[^<>]*\Z')
_JSON_KEY_TAIL_RE = re.compile(r'"([^"\\]+)"\s*:\s*"[^"\\]*\Z')
_FIELD_LOOKBACK = 256
# Machine type, model and serial: 8286-42A*214D29V or 8247-22L-SN2125D4A.
_MTMS_RE = re.compile(
    r'(?<![A-Za-z0-9])[0-9A-Z]{4}-[0-9A-Z]{3}(?:\*|%2A|-SN)([0-9A-Z]{7})'
    r'(?![A-Za-z0-9])')
_SERIAL_VALUE_RE = re.compile(r'(?=[A-Za-z]*\d)[A-Za-z0-9]{4,32}\Z')
# Words that could be (or hold, after 'SN') a serial number.
_SERIAL_WORD_RE = re.compile(
    r'(?<![A-Za-z0-9])[A-Za-z]*\d[A-Za-z0-9]*(?![A-Za-z0-9])')
_SERIAL_PREFIX = 'SN'
_JOB_PATH_RE = re.compile(r'(?<=/jobs/)(\d+)(?!\d)')
# Cookie pairs: group 2 is the name, group 3 the value.
SET_COOKIE_PAIR_RE = re.compile(r'(^|,\s*)([^=;,\s]+)=([^;,]*)')
COOKIE_PAIR_RE = re.compile(r'(^|;\s*)([^=;\s]+)=([^;]*)')
# Session cookies written out in text; group 2 is the value.
SESSION_COOKIE_RE = re.compile(
    r'(?i)\b(JSESSIONID|CCFWSESSION|PHPSESSID|SESSION_?ID)'
    r'=([^;,\s"\'<>&]+)')
# Group 2 is the domain.
COOKIE_DOMAIN_RE = re.compile(r'(?i)(;\s*domain=\.?)([^;,\s]+)')
COOKIE_ATTRIBUTES = frozenset({
    'path', 'domain', 'expires', 'max-age', 'secure', 'httponly',
    'samesite', 'version', 'comment', 'priority', 'partitioned'})

_GZIP_MAGIC = b'\x1f\x8b'
_CDATA_START = '<![CDATA['
_CDATA_END = ']]>'


class ScrubError(ValueError):
    """Scrubbing cannot continue (such as running out of placeholders)."""


def is_placeholder(value):
    """True if value stands in for a secret rather than being one.

    Empty values, masks of one repeated character ('xxx', '****'; not
    digits, which job IDs and serial numbers may be), the upstream
    recordings' placeholders and this module's own count.
    """
    text = value.strip()
    return (not text or text in UPSTREAM_PLACEHOLDERS
            or (len(text) >= 3 and len(set(text)) == 1
                and not text.isdigit())
            or _PLACEHOLDER_RE.match(text) is not None)


def is_safe_host(host, allowed=()):
    """True if a host name identifies nothing real."""
    name = host.strip().strip('.').lower()
    if (name in SAFE_HOSTS or is_placeholder(name)
            or any(name == entry.lower() for entry in allowed)):
        return True
    return any(name == domain or name.endswith('.' + domain)
               for domain in SAFE_DOMAINS)


def parse_address(text):
    """An ipaddress object for text, or None if text is no address."""
    try:
        return ipaddress.ip_address(text.strip('[]'))
    except ValueError:
        return None


def split_host_port(value):
    """(host, ':port' or '') of a Host header value ('[::1]:80' too)."""
    host, colon, port = value.rpartition(':')
    if colon and port.isdigit() and (']' in host or ':' not in host):
        return host, colon + port
    return value, ''


def _is_netmask(address):
    if address.version != 4:
        return False
    inverted = ~int(address) & 0xFFFFFFFF
    return inverted & (inverted + 1) == 0


def is_safe_address(address):
    """True for loopback, unspecified, documentation addresses and masks."""
    return (address.is_loopback or address.is_unspecified
            or _is_netmask(address)
            or any(address in net for net in _DOCUMENTATION_NETWORKS
                   if net.version == address.version))


def field_name_before(text, position):
    """Name of the XML element or JSON key whose value holds position.

    None when position is not inside the text of an element or a JSON
    string value (attribute values, plain text).
    """
    before = text[max(0, position - _FIELD_LOOKBACK):position]
    match = (_XML_OPEN_TAIL_RE.search(before)
             or _JSON_KEY_TAIL_RE.search(before))
    return match.group(1) if match else None


def iter_addresses(text):
    """Yield (match, address) for each IP address written in text.

    Dotted quads that stand in a version or level field are software
    levels and are skipped; so are words that do not parse as addresses.
    """
    for regex in (_IPV4_RE, _IPV6_RE):
        for match in regex.finditer(text):
            address = parse_address(match.group(0))
            if address is None:
                continue
            field = field_name_before(text, match.start())
            if field and _NOT_ADDRESS_FIELD_RE.search(field):
                continue
            yield match, address


def looks_random(word):
    """True for a long word mixing upper case, lower case and digits.

    UUIDs are taken out first: resource IDs are not secrets.
    """
    rest = _UUID_RE.sub('', word)
    return (len(rest) >= _TOKEN_MIN_LENGTH
            and any(char.isupper() for char in rest)
            and any(char.islower() for char in rest)
            and any(char.isdigit() for char in rest))


def iter_random_tokens(text):
    """Matches of random-looking words (likely tokens) in text."""
    return (match for match in _TOKEN_RE.finditer(text)
            if looks_random(match.group(0)) and
            not is_placeholder(match.group(0)))


def looks_like_fqdn(name):
    """True if a dotted word reads as a host name, not a file or type."""
    labels = name.lower().split('.')
    tld = labels[-1]
    if tld in _GENERIC_TLDS:
        return len(labels) >= 2
    return len(labels) >= 3 and len(tld) == 2


def iter_host_names(text):
    """Yield (start, end, host) for host names in URLs and bare FQDNs."""
    for match in _URL_RE.finditer(text):
        host = match.group(3)
        if parse_address(host) is None:
            yield match.start(3), match.end(3), host
    for match in _FQDN_RE.finditer(text):
        if looks_like_fqdn(match.group(1)):
            yield match.start(1), match.end(1), match.group(1)


@functools.lru_cache(maxsize=32)
def _field_pattern(names):
    """Regex for the values of fields named by the names pattern.

    Matches XML element text (plain or CDATA) and JSON string values; the
    value is group 'value' for elements and 'json' for JSON.
    """
    return re.compile(
        r'<(?:[\w.-]+:)?(?:%(n)s)(?:\s[^<>]*?)?(?<!/)>'
        r'(?P<value>[^<]*|<!\[CDATA\[.*?\]\]>)</'
        r'|"(?:%(n)s)"\s*:\s*"(?P<json>(?:[^"\\]|\\.)*)"' % {'n': names},
        re.DOTALL)


def names_pattern(names):
    """A field names pattern matching exactly the given names."""
    return '|'.join(re.escape(name) for name in names)


def field_value_span(match):
    """(start, end) of the value of a field match, CDATA markers excluded."""
    group, value = _field_value(match)
    start, end = match.span(group)
    if value.startswith(_CDATA_START) and value.endswith(_CDATA_END):
        return start + len(_CDATA_START), end - len(_CDATA_END)
    return start, end


def iter_password_params(text):
    """Matches of password=VALUE parameters; group 2 is the value."""
    return _PASSWORD_PARAM_RE.finditer(text)


def _field_value(match):
    group = 'value' if match.group('value') is not None else 'json'
    return group, match.group(group)


def iter_field_values(text, names):
    """Yield (match, value) for fields whose name matches names (a regex)."""
    for match in _field_pattern(names).finditer(text):
        yield match, _field_value(match)[1]


def _cdata_inner(value):
    if value.startswith(_CDATA_START) and value.endswith(_CDATA_END):
        return value[len(_CDATA_START):-len(_CDATA_END)]
    return value


def _replace_fields(text, names, replace):
    """Text with each named field's raw value passed through replace."""
    def substitute(match):
        group, value = _field_value(match)
        start = match.start(group) - match.start(0)
        end = match.end(group) - match.start(0)
        whole = match.group(0)
        return whole[:start] + replace(value) + whole[end:]
    return _field_pattern(names).sub(substitute, text)


def _split_list(value):
    return tuple(item.strip() for item in value.split(',') if item.strip())


@dataclasses.dataclass(frozen=True)
class ScrubConfig:
    """What a Scrubber replaces beyond the secrets it always removes."""

    hosts: tuple = ()
    serials: tuple = ()
    strings: tuple = ()
    allowed_hosts: tuple = ()
    host_elements: tuple = DEFAULT_HOST_ELEMENTS
    serial_elements: tuple = DEFAULT_SERIAL_ELEMENTS
    job_ids: bool = True

    @classmethod
    def from_environ(cls, environ=None):
        """A configuration from the PVM_SCRUB_* environment variables."""
        environ = os.environ if environ is None else environ
        values = {}
        for field, variable in (
                ('hosts', 'PVM_SCRUB_HOSTS'),
                ('serials', 'PVM_SCRUB_SERIALS'),
                ('strings', 'PVM_SCRUB_STRINGS'),
                ('allowed_hosts', 'PVM_SCRUB_ALLOWED_HOSTS'),
                ('host_elements', 'PVM_SCRUB_HOST_ELEMENTS'),
                ('serial_elements', 'PVM_SCRUB_SERIAL_ELEMENTS')):
            if environ.get(variable, '').strip():
                values[field] = _split_list(environ[variable])
        job_ids = environ.get('PVM_SCRUB_JOB_IDS', '').strip().lower()
        if job_ids:
            values['job_ids'] = job_ids not in _FALSE_WORDS
        return cls(**values)


def _as_text(value):
    """(text, kind) of a body or header value; kind restores the type."""
    if isinstance(value, str):
        return value, str
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode('utf-8'), bytes
        except UnicodeDecodeError:
            return None, None
    return None, None


def _restore(text, kind):
    return text.encode('utf-8') if kind is bytes else text


def _header_lookup(headers, name):
    """The key under which headers holds name, ignoring case."""
    for key in headers:
        if key.lower() == name.lower():
            return key
    return None


def _decode_content(headers, body):
    """(headers, body) with a gzip or deflate body decompressed.

    With urllib3 2 vcrpy already hands over the decoded body while the
    Content-Encoding header still says gzip; either way the header goes,
    so the recorded body is readable, scannable and replays as it is.
    """
    key = _header_lookup(headers, 'Content-Encoding')
    if key is None or body is None:
        return headers, body
    values = headers[key] if isinstance(headers[key], list) else [
        headers[key]]
    encoding = (values[0] if values else '').strip().lower()
    if encoding not in ('gzip', 'x-gzip', 'deflate'):
        return headers, body
    # A str body was decoded already (loaded from a cassette file).
    if isinstance(body, (bytes, bytearray)):
        if encoding == 'deflate':
            body = _inflate(body)
        elif bytes(body[:2]) == _GZIP_MAGIC:
            body = gzip.decompress(body)
    headers = dict(headers)
    del headers[key]
    _fix_content_length(headers, body)
    return headers, body


def _inflate(body):
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        try:
            return zlib.decompress(body, wbits)
        except zlib.error:
            continue
    # Already inflated by the HTTP client.
    return body


class Scrubber:
    """Replaces secrets consistently across one cassette.

    Use one Scrubber per cassette: its placeholders are numbered in the
    order values are first seen (configured hosts first).  The hooks are
    safe to call from several threads.
    """

    def __init__(self, config=None):
        self.config = config or ScrubConfig()
        self._lock = threading.RLock()
        self._allowed_hosts = frozenset(
            host.lower() for host in self.config.allowed_hosts)
        self._hosts = {}
        self._addresses = {}
        self._address_counts = {4: 0, 6: 0}
        self._serials = {}
        self._job_ids = {}
        self._secrets = {}
        self._host_regex = None
        self._secret_regex = None
        for host in self.config.hosts:
            self._host_placeholder(host)
        for serial in self.config.serials:
            self._serial_placeholder(serial)
        # Configured strings are replaced whatever their length.
        for number, string in enumerate(self.config.strings, start=1):
            if string:
                self._secrets[string] = _STRING_PLACEHOLDER % number

    # vcrpy hooks.

    def before_record_request(self, request):
        """vcrpy hook: a scrubbed copy of a vcr.request.Request."""
        request = copy.deepcopy(request)
        headers = {name: [value] for name, value in request.headers.items()}
        body = request.body
        with self._lock:
            self._discover(request.uri, headers, body)
            uri, headers, new_body = self._replace(request.uri, headers,
                                                   body)
        request.uri = uri
        request.headers = headers
        if new_body is not body:
            request.body = new_body
        return request

    def before_record_response(self, response):
        """vcrpy hook: a scrubbed copy of a response dict."""
        response = copy.deepcopy(response)
        body = response.get('body') or {}
        headers, content = _decode_content(response.get('headers') or {},
                                           body.get('string'))
        with self._lock:
            self._discover(None, headers, content)
            _, headers, content = self._replace(None, headers, content)
        response['headers'] = headers
        if 'string' in body:
            body['string'] = content
        return response

    # Cassettes already loaded.

    def scrub_cassette_dict(self, cassette):
        """A scrubbed copy of a cassette in vcrpy's serialised form.

        Every interaction is looked at before any is changed, so a host
        first named in a late response is also replaced where an earlier
        one mentions it in passing.
        """
        cassette = copy.deepcopy(cassette)
        interactions = cassette.get('interactions') or []
        with self._lock:
            for interaction in interactions:
                for part in self._parts(interaction):
                    self._discover(*part)
            for interaction in interactions:
                self._scrub_interaction(interaction)
        return cassette

    def _parts(self, interaction):
        request = interaction.get('request') or {}
        response = interaction.get('response') or {}
        response_body = (response.get('body') or {}).get('string')
        response_headers, response_body = _decode_content(
            response.get('headers') or {}, response_body)
        return ((request.get('uri'), request.get('headers') or {},
                 request.get('body')),
                (None, response_headers, response_body))

    def _scrub_interaction(self, interaction):
        request_part, response_part = self._parts(interaction)
        request = interaction.get('request')
        if request is not None:
            uri, headers, body = self._replace(*request_part)
            request.update(headers=headers, body=body)
            if uri is not None:
                request['uri'] = uri
        response = interaction.get('response')
        if response is not None:
            _, headers, body = self._replace(*response_part)
            response['headers'] = headers
            if isinstance(response.get('body'), dict):
                response['body']['string'] = body

    # Discovery: learn what must be replaced.

    def _discover(self, uri, headers, body):
        if uri:
            self._discover_text(uri)
        for name, values in headers.items():
            for value in _values(values):
                text, _ = _as_text(value)
                if text is not None:
                    self._discover_header(name, text)
        text, _ = _as_text(body)
        if text:
            self._discover_body(text)

    def _discover_text(self, text):
        for _, _, host in iter_host_names(text):
            self._host_placeholder(host)
        for match in _MTMS_RE.finditer(text):
            self._serial_placeholder(match.group(1))
        for regex in (_PASSWORD_PARAM_RE, SESSION_COOKIE_RE):
            for match in regex.finditer(text):
                self._add_secret(match.group(2))
        if self.config.job_ids:
            for match in _JOB_PATH_RE.finditer(text):
                self._job_id_placeholder(match.group(1))

    def _discover_header(self, name, value):
        lower = name.lower()
        if lower in SESSION_HEADERS + CREDENTIAL_HEADERS:
            self._add_secret(value.split(' ', 1)[-1])
        elif lower == 'cookie':
            for match in COOKIE_PAIR_RE.finditer(value):
                self._add_secret(match.group(3))
        elif lower == 'set-cookie':
            self._discover_set_cookie(value)
        elif lower == 'host':
            self._host_placeholder(split_host_port(value)[0])
        elif lower not in DESCRIPTIVE_HEADERS:
            for match in iter_random_tokens(value):
                self._add_secret(match.group(0))
        self._discover_text(value)

    def _discover_set_cookie(self, value):
        for match in SET_COOKIE_PAIR_RE.finditer(value):
            if match.group(2).lower() not in COOKIE_ATTRIBUTES:
                self._add_secret(match.group(3))
        for match in COOKIE_DOMAIN_RE.finditer(value):
            self._host_placeholder(match.group(2))

    def _discover_body(self, text):
        for pattern in (PASSWORD_FIELDS, SESSION_FIELDS):
            for _, value in iter_field_values(text, pattern):
                self._add_secret(_cdata_inner(value))
        for _, value in iter_field_values(
                text, names_pattern(self.config.host_elements)):
            self._host_placeholder(value)
        for value in self._serial_field_values(text):
            self._serial_placeholder(value)
        if self.config.job_ids:
            for _, value in iter_field_values(text, _JOB_ID_FIELDS):
                self._job_id_placeholder(value.strip())
        self._discover_text(text)

    def _serial_field_values(self, text):
        """Values of the configured serial number elements and JSON keys.

        Element paths are checked on the parsed XML; a body that does not
        parse falls back to matching the last name of each path.
        """
        specs = [spec.split('/') for spec in self.config.serial_elements]
        xml_values = None
        if text.lstrip().startswith('<'):
            xml_values = _xml_values_at(text, specs)
        last_names = names_pattern(sorted({spec[-1] for spec in specs}))
        for match, value in iter_field_values(text, last_names):
            if xml_values is None or match.group('json') is not None:
                yield _cdata_inner(value)
        yield from xml_values or ()

    # Placeholders.

    def _host_placeholder(self, host):
        name = host.strip().strip('.').lower()
        if (not name or parse_address(name) is not None
                or is_safe_host(name, self._allowed_hosts)):
            return None
        if name not in self._hosts:
            number = len(self._hosts) + 1
            template = _FQDN_PLACEHOLDER if '.' in name else _HOST_PLACEHOLDER
            self._hosts[name] = template % number
            self._host_regex = None
        return self._hosts[name]

    def _address_placeholder(self, address):
        if is_safe_address(address):
            return None
        key = str(address)
        if key not in self._addresses:
            self._addresses[key] = self._next_address(address.version)
        return self._addresses[key]

    def _next_address(self, version):
        used = self._address_counts[version]
        self._address_counts[version] += 1
        if version == 6:
            return str(_IPV6_PLACEHOLDER_NET[used + 1])
        if used >= len(_IPV4_PLACEHOLDERS):
            raise ScrubError('more than %d IPv4 addresses to replace'
                             % len(_IPV4_PLACEHOLDERS))
        return _IPV4_PLACEHOLDERS[used]

    def _serial_placeholder(self, serial):
        value = serial.strip()
        if is_placeholder(value) or not _SERIAL_VALUE_RE.match(value):
            return None
        if value not in self._serials:
            self._serials[value] = _SERIAL_PLACEHOLDER % (
                len(self._serials) + 1)
        return self._serials[value]

    def _job_id_placeholder(self, job_id):
        if not job_id.isdigit() or is_placeholder(job_id):
            return None
        if job_id not in self._job_ids:
            self._job_ids[job_id] = str(
                _JOB_ID_BASE + len(self._job_ids) + 1)
        return self._job_ids[job_id]

    def _add_secret(self, value):
        value = value.strip()
        if len(value) < _MIN_SECRET_LENGTH or is_placeholder(value):
            return
        if value not in self._secrets:
            self._secrets[value] = SECRET_PLACEHOLDER
            self._secret_regex = None

    # Replacement.

    def _replace(self, uri, headers, body):
        if uri is not None:
            uri = self._replace_text(uri)
        new_headers = {}
        for name, values in headers.items():
            new_headers[name] = self._replace_header_values(name, values)
        text, kind = _as_text(body)
        if text is not None:
            new_text = self._replace_body(text)
            if new_text != text:
                body = _restore(new_text, kind)
                _fix_content_length(new_headers, body)
        return uri, new_headers, body

    def _replace_header_values(self, name, values):
        replaced = []
        for value in _values(values):
            text, kind = _as_text(value)
            if text is None:
                replaced.append(value)
                continue
            replaced.append(_restore(self._replace_header(name, text), kind))
        if isinstance(values, list):
            return replaced
        return replaced[0] if replaced else values

    def _replace_header(self, name, value):
        lower = name.lower()
        if lower in SESSION_HEADERS:
            return value if is_placeholder(value) else SESSION_PLACEHOLDER
        if lower in CREDENTIAL_HEADERS:
            return _replace_credentials(value)
        if lower in USER_HEADERS:
            return value if is_placeholder(value) else USER_PLACEHOLDER
        if lower == 'cookie':
            value = COOKIE_PAIR_RE.sub(_scrub_cookie_pair, value)
        elif lower == 'set-cookie':
            value = SET_COOKIE_PAIR_RE.sub(_scrub_cookie_pair, value)
            value = COOKIE_DOMAIN_RE.sub(self._scrub_cookie_domain, value)
        elif lower == 'host':
            value = self._replace_host_port(value)
        return self._replace_text(value)

    def _replace_host_port(self, value):
        host, port = split_host_port(value)
        return (self._host_placeholder(host) or host) + port

    def _scrub_cookie_domain(self, match):
        placeholder = self._host_placeholder(match.group(2))
        return match.group(1) + (placeholder or match.group(2))

    def _replace_body(self, text):
        text = _replace_fields(text, PASSWORD_FIELDS,
                               _keep_placeholder(PASSWORD_PLACEHOLDER))
        text = _replace_fields(text, _USER_FIELDS,
                               _keep_placeholder(USER_PLACEHOLDER))
        text = _replace_fields(text, SESSION_FILE_FIELDS,
                               _keep_placeholder(SESSION_FILE_PLACEHOLDER))
        text = _replace_fields(text, SESSION_FIELDS,
                               _keep_placeholder(SESSION_PLACEHOLDER))
        text = _replace_fields(
            text, names_pattern(self.config.host_elements),
            self._replace_host_field)
        if self.config.job_ids:
            text = _replace_fields(text, _JOB_ID_FIELDS,
                                   self._replace_job_id)
        return self._replace_text(text)

    def _replace_host_field(self, value):
        placeholder = self._host_placeholder(value)
        if placeholder is None:
            return value
        # Keep the whitespace a pretty-printed element has around its text.
        stripped = value.strip()
        start = value.index(stripped)
        return value[:start] + placeholder + value[start + len(stripped):]

    def _replace_job_id(self, value):
        placeholder = self._job_id_placeholder(value.strip())
        return value if placeholder is None else value.replace(
            value.strip(), placeholder)

    def _replace_text(self, text):
        text = PRIVATE_KEY_RE.sub(PRIVATE_KEY_PLACEHOLDER, text)
        text = _PASSWORD_PARAM_RE.sub(_scrub_password_param, text)
        text = SESSION_COOKIE_RE.sub(_scrub_session_cookie, text)
        text = self._replace_secrets(text)
        text = _URL_RE.sub(self._scrub_url, text)
        text = self._replace_hosts(text)
        text = self._replace_addresses(text)
        text = self._replace_serials(text)
        if self.config.job_ids:
            text = _JOB_PATH_RE.sub(self._scrub_job_path, text)
        return text

    def _replace_secrets(self, text):
        if not self._secrets:
            return text
        if self._secret_regex is None:
            self._secret_regex = _alternation(self._secrets)
        return self._secret_regex.sub(
            lambda match: self._secrets[match.group(0)], text)

    def _scrub_url(self, match):
        scheme, userinfo, host = match.groups()
        if userinfo:
            userinfo = CREDENTIALS_PLACEHOLDER + '@'
        placeholder = None
        if parse_address(host) is None:
            placeholder = self._host_placeholder(host)
        return scheme + (userinfo or '') + (placeholder or host)

    def _replace_hosts(self, text):
        # Bare single-label names (vios1) are replaced only where a host is
        # expected; elsewhere they are too likely to be ordinary words.
        dotted = {name: placeholder for name, placeholder
                  in self._hosts.items() if '.' in name}
        if not dotted:
            return text
        if self._host_regex is None:
            self._host_regex = re.compile(
                r'(?<![\w.-])(?:%s)(?![\w-]|\.[\w-])' % '|'.join(
                    re.escape(name) for name in
                    sorted(dotted, key=len, reverse=True)),
                re.IGNORECASE)
        return self._host_regex.sub(
            lambda match: dotted[match.group(0).lower()], text)

    def _replace_addresses(self, text):
        pieces = []
        end = 0
        for match, address in sorted(iter_addresses(text),
                                     key=lambda found: found[0].start()):
            placeholder = self._address_placeholder(address)
            if placeholder is None or match.start() < end:
                continue
            pieces.append(text[end:match.start()])
            pieces.append(placeholder)
            end = match.end()
        if not pieces:
            return text
        pieces.append(text[end:])
        return ''.join(pieces)

    def _replace_serials(self, text):
        # A word lookup: one regex alternation of many serial numbers
        # costs seconds on a large cassette.
        if not self._serials:
            return text
        return _SERIAL_WORD_RE.sub(self._scrub_serial_word, text)

    def _scrub_serial_word(self, match):
        word = match.group(0)
        if word in self._serials:
            return self._serials[word]
        rest = word[len(_SERIAL_PREFIX):]
        if word.startswith(_SERIAL_PREFIX) and rest in self._serials:
            return _SERIAL_PREFIX + self._serials[rest]
        return word

    def _scrub_job_path(self, match):
        return self._job_id_placeholder(match.group(1)) or match.group(1)


def _values(values):
    if isinstance(values, list):
        return values
    return [] if values is None else [values]


def _xml_values_at(text, specs):
    """Texts of elements whose ancestry ends with one of specs' paths.

    None if text is not well-formed XML.
    """
    try:
        root = etree.fromstring(text.encode('utf-8'), parser=_xml_parser())
    except etree.XMLSyntaxError:
        return None
    last_names = {spec[-1].lower() for spec in specs}
    return [element.text for element in root.iter()
            if isinstance(element.tag, str) and element.text
            and _local_name(element) in last_names
            and any(_ends_with_path(element, spec) for spec in specs)]


def _local_name(element):
    return element.tag.rsplit('}', 1)[-1].lower()


def _ends_with_path(element, spec):
    node = element
    for name in reversed(spec):
        if node is None or _local_name(node) != name.lower():
            return False
        node = node.getparent()
    return True


def _xml_parser():
    # Recorded traffic is data: no entities, no network, no huge trees.
    return etree.XMLParser(resolve_entities=False, no_network=True,
                           huge_tree=False)


def _keep_placeholder(placeholder):
    def replace(value):
        inner = _cdata_inner(value)
        return value if is_placeholder(inner) else placeholder
    return replace


def _replace_credentials(value):
    """An Authorization value with its credentials replaced, scheme kept."""
    scheme, space, credentials = value.partition(' ')
    if not space:
        return value if is_placeholder(value) else CREDENTIALS_PLACEHOLDER
    if is_placeholder(credentials):
        return value
    return scheme + ' ' + CREDENTIALS_PLACEHOLDER


def _scrub_cookie_pair(match):
    prefix, name, value = match.groups()
    if name.lower() in COOKIE_ATTRIBUTES or is_placeholder(value):
        return match.group(0)
    return '%s%s=%s' % (prefix, name, COOKIE_PLACEHOLDER)


def _scrub_session_cookie(match):
    name, value = match.groups()
    if is_placeholder(value):
        return match.group(0)
    return '%s=%s' % (name, COOKIE_PLACEHOLDER)


def _scrub_password_param(match):
    name, value = match.groups()
    if is_placeholder(value):
        return match.group(0)
    return '%s=%s' % (name, PASSWORD_PLACEHOLDER)


def _alternation(values):
    return re.compile('|'.join(
        re.escape(value) for value in sorted(values, key=len, reverse=True)))


def _fix_content_length(headers, body):
    """Make a Content-Length header agree with a body scrubbing changed."""
    key = _header_lookup(headers, 'Content-Length')
    if key is None or not isinstance(body, (bytes, bytearray, str)):
        return
    length = str(len(body.encode('utf-8') if isinstance(body, str)
                     else body))
    headers[key] = [length] if isinstance(headers[key], list) else length


def scrub_cassette_dict(cassette, config=None):
    """A scrubbed copy of a cassette dict ({'interactions': [...]})."""
    return Scrubber(config).scrub_cassette_dict(cassette)
