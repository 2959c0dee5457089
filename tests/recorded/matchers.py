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

"""vcrpy request matching for PowerVM's XML.

xml_body compares request bodies as XML: whitespace between elements,
attribute order and namespace prefixes do not matter, element text does.
Bodies that are not XML are compared byte for byte.

Repeated identical requests (job polls of /rest/api/uom/jobs/{id}) need no
matcher of their own: with vcrpy's default allow_playback_repeats=False
each recorded response plays once, in recorded order, so successive polls
get successive responses.  Job IDs in those URLs match because the
Scrubber numbers them at record time and, run again as the replay's
before_record_request, leaves the numbered IDs the client sends alone.
"""

import vcr
from lxml import etree
from vcr import util as vcr_util

XML_BODY = 'xml_body'
# vcrpy's default matchers plus the XML body.
MATCH_ON = ('method', 'scheme', 'host', 'port', 'path', 'query', XML_BODY)


def _parser():
    # Request bodies are compared, never trusted: no entities, no network.
    return etree.XMLParser(resolve_entities=False, no_network=True,
                           remove_comments=True, remove_pis=True)


def _as_bytes(body):
    if body is None:
        return b''
    if isinstance(body, str):
        return body.encode('utf-8')
    return bytes(body)


def _significant(text):
    """Text that carries data; whitespace-only text is layout."""
    return text if text and text.strip() else None


def _canonical(element):
    """A comparable form: Clark names, sorted attributes, real text only."""
    children = tuple((_canonical(child), _significant(child.tail))
                     for child in element if isinstance(child.tag, str))
    return (element.tag, tuple(sorted(element.attrib.items())),
            _significant(element.text), children)


def canonical_xml(body):
    """The canonical form of an XML body, or None if it is not XML."""
    data = _as_bytes(body)
    if not data.lstrip().startswith(b'<'):
        return None
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError:
        return None
    return _canonical(root)


def _local(tag):
    return tag.rsplit('}', 1)[-1]


def first_difference(first, second, path=''):
    """Where two canonical forms first differ, as 'path: what', or None."""
    tag, attributes, text, children = first
    other_tag, other_attributes, other_text, other_children = second
    here = '%s/%s' % (path, _local(tag))
    if tag != other_tag:
        return '%s: element %s != %s' % (path or '/', tag, other_tag)
    if attributes != other_attributes:
        return '%s: attributes %s != %s' % (here, attributes,
                                            other_attributes)
    if text != other_text:
        return '%s: text %r != %r' % (here, text, other_text)
    for (child, tail), (other_child, other_tail) in zip(
            children, other_children, strict=False):
        difference = first_difference(child, other_child, here)
        if difference:
            return difference
        if tail != other_tail:
            return '%s: text after %s %r != %r' % (
                here, _local(child[0]), tail, other_tail)
    if len(children) != len(other_children):
        return '%s: %d child elements != %d' % (here, len(children),
                                                len(other_children))
    return None


def xml_body(r1, r2):
    """vcrpy matcher: request bodies equal as XML (else as bytes).

    Raises AssertionError naming the first difference, as vcrpy expects.
    """
    body1 = _as_bytes(vcr_util.read_body(r1))
    body2 = _as_bytes(vcr_util.read_body(r2))
    canonical1 = canonical_xml(body1)
    canonical2 = canonical_xml(body2)
    if canonical1 is not None and canonical2 is not None:
        difference = first_difference(canonical1, canonical2)
        if difference:
            raise AssertionError('XML bodies differ at ' + difference)
        return
    if body1 != body2:
        raise AssertionError('bodies differ (%d bytes != %d bytes)'
                             % (len(body1), len(body2)))


def register(my_vcr):
    """Register xml_body on a vcr.VCR; returns it."""
    my_vcr.register_matcher(XML_BODY, xml_body)
    return my_vcr


def make_vcr(scrubber=None, **kwargs):
    """A vcr.VCR matching on MATCH_ON, with a Scrubber's hooks if given.

    Keyword arguments go to vcr.VCR (record_mode, cassette_library_dir,
    ...).  allow_playback_repeats stays False: repeated requests replay
    their recorded responses in order, once each.
    """
    kwargs.setdefault('match_on', MATCH_ON)
    if scrubber is not None:
        kwargs.setdefault('before_record_request',
                          scrubber.before_record_request)
        kwargs.setdefault('before_record_response',
                          scrubber.before_record_response)
    return register(vcr.VCR(**kwargs))
