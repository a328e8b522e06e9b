"""Reading edXML bytes safely: limits, a hardened parser, the XSD, then the model.

`parse_message(raw)` = `read_xml` (well-formed, no DTD, within limits) + `validate` (XSD)
+ `message_from_tree` (the model, with the precise checks the XSD cannot express).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from gateway.errors import MalformedXml, PayloadTooLarge

from .decode import check_root, message_from_tree
from .fields import element_path
from .model import Message
from .schema import validate_tree

__all__ = [
    "DEFAULT_LIMITS",
    "XmlLimits",
    "message_from_tree",
    "parse_message",
    "read_xml",
    "validate",
]


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """What one message may hold before it is refused unread."""

    max_bytes: int = 50 * 1024 * 1024
    max_depth: int = 64
    max_elements: int = 200_000


DEFAULT_LIMITS = XmlLimits()

# Built once (lxml serialises its use across threads). huge_tree: a 10 MB attachment is one
# legal base64 text node, over libxml2's default 10 MB text limit; it also relaxes libxml2's
# other limits, so the DOCTYPE is refused before parsing rather than left to libxml2's
# entity-amplification guard. XInclude is processed only on request: never.
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=True,
    collect_ids=False,
)
_UTF16_32_MARKS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
# The XML declaration's encoding, read before libxml2 sees the bytes (it would transcode). The
# declaration can only stand at the very start (after a UTF-8 BOM); 200 bytes hold any real one.
_DECLARED_ENCODING = re.compile(rb"<\?xml\s[^?>]{0,200}?\bencoding\s*=\s*[\"']([^\"']{0,40})[\"']")
_UTF8_NAMES = frozenset({b"utf-8", b"utf8"})
_SEND_UTF8 = 'send UTF-8 (and declare encoding="UTF-8" or no encoding at all)'
_LOCATION_SUFFIX = re.compile(r", line \d+, column \d+$")
# what may precede a DOCTYPE: whitespace, the XML declaration, processing instructions, comments
_PROLOG = re.compile(rb"(?:\s*(?:<\?.*?\?>|<!--.*?-->))*\s*", re.DOTALL)
# the smallest element, <a/>: a body of n bytes holds at most n / 4 elements
_MIN_ELEMENT_BYTES = 4


def read_xml(raw: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> etree._Element:
    """The root element of `raw`, parsed without DTDs, entities, network or XInclude.

    MalformedXml (naming line and column) when it is not well-formed, declares a DOCTYPE or
    nests deeper than the limit; PayloadTooLarge when it has too many bytes or elements.
    """
    if len(raw) > limits.max_bytes:
        raise PayloadTooLarge(
            f"the body has {len(raw)} bytes; at most {limits.max_bytes} are accepted",
            max_bytes=limits.max_bytes,
        )
    _refuse_unreadable(raw)
    _refuse_doctype(raw)
    if len(raw) > _MIN_ELEMENT_BYTES * limits.max_elements and _markup_over(
        raw, limits.max_elements
    ):
        # counted by a parser that builds nothing: an element bomb never becomes a tree
        _count_elements(raw, limits.max_elements)
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc) from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise MalformedXml("a DOCTYPE declaration is not accepted (no DTD, no entities)")
    _check_depth(root, limits.max_depth)
    return root


def validate(root: etree._Element) -> None:
    """Check `root` against schemas/edxml.xsd; SchemaInvalid names the element and line."""
    check_root(root)
    validate_tree(root)


def parse_message(raw: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> Message:
    """The document or status message in `raw`, read, validated and modelled."""
    root = read_xml(raw, limits)
    validate(root)
    return message_from_tree(root)


def _refuse_unreadable(raw: bytes) -> None:
    if not raw or raw.isspace():
        raise MalformedXml("the body is empty: an edXML message was expected", line=1, column=1)
    if raw.startswith(_UTF16_32_MARKS) or b"\x00" in raw[:4]:
        raise MalformedXml(
            f"the body is not UTF-8: edXML is accepted in UTF-8 only; {_SEND_UTF8}", line=1
        )
    _refuse_declared_encoding(raw)


def _refuse_declared_encoding(raw: bytes) -> None:
    # One decoding for everybody (DESIGN §2, docs/edxml.md): the secrecy guard, the signature
    # check and the recipient, who is served these very bytes, must read the same characters.
    # A declaration naming another encoding is refused before libxml2 transcodes anything: a
    # UTF-7 body would hide its "<" from the element pre-count, and UTF-8 bytes declared as
    # ISO-8859-1 would show the guard mojibake where the recipient reads TUYỆT MẬT.
    match = _DECLARED_ENCODING.match(raw, 3 if raw.startswith(_UTF8_BOM) else 0)
    if match is not None and match[1].strip().lower() not in _UTF8_NAMES:
        named = match[1].decode("ascii", "replace")[:40]
        raise MalformedXml(
            f"the XML declaration names the encoding {named!r}: edXML is accepted in UTF-8 "
            f"only; {_SEND_UTF8}",
            line=1,
        )


def _refuse_doctype(raw: bytes) -> None:
    # Refused before parsing, whatever libxml2's own guards: the internal subset is where entity
    # bombs live. A DOCTYPE can only stand in the prolog, before the root element, among
    # comments and processing instructions: only that much is scanned.
    prolog = _PROLOG.match(raw, 3 if raw.startswith(_UTF8_BOM) else 0)
    at = prolog.end() if prolog else 0
    if raw.startswith(b"<!DOCTYPE", at):
        line = raw.count(b"\n", 0, at) + 1
        raise MalformedXml(
            f"a DOCTYPE declaration is not accepted (no DTD, no entities) (line {line})",
            line=line,
        )


def _markup_over(raw: bytes, limit: int) -> bool:
    # whether `raw` holds more than `limit` "<": an upper bound on its elements. find() skips
    # a 10 MB base64 text at memchr speed, and stops after `limit` hits.
    at = -1
    for _ in range(limit + 1):
        at = raw.find(b"<", at + 1)
        if at < 0:
            return False
    return True


def _malformed(exc: etree.XMLSyntaxError) -> MalformedXml:
    line, column = exc.position
    reason = _LOCATION_SUFFIX.sub("", exc.msg or "syntax error")
    return MalformedXml(
        f"the body is not well-formed XML: {reason} (line {line}, column {column})",
        line=line,
        column=column,
    )


class _TooManyElements(Exception):
    pass


class _ElementCounter:
    """A parser target that counts start tags and builds nothing."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def start(self, tag: Any, attrib: Any, nsmap: Any = None) -> None:
        self.count += 1
        if self.count > self.limit:
            raise _TooManyElements

    def end(self, tag: Any) -> None:
        pass

    def data(self, data: Any) -> None:
        pass

    def comment(self, text: Any) -> None:
        pass

    def close(self) -> int:
        return self.count


def _count_elements(raw: bytes, limit: int) -> None:
    parser = etree.XMLParser(
        target=_ElementCounter(limit),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    )
    try:
        etree.fromstring(raw, parser)
    except _TooManyElements:
        raise PayloadTooLarge(
            f"the body has more than {limit} elements", max_elements=limit
        ) from None
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc) from None


@functools.lru_cache(maxsize=8)
def _deeper_than(depth: int) -> etree.XPath:
    # evaluated in C: the elements at depth `depth + 1`, the root being at depth 1
    return etree.XPath("/*" * (depth + 1), regexp=False, smart_strings=False)


def _check_depth(root: etree._Element, max_depth: int) -> None:
    found = _deeper_than(max_depth)(root)
    if isinstance(found, list) and found:
        el = found[0]
        if isinstance(el, etree._Element):
            raise MalformedXml(
                f"elements nest deeper than {max_depth} levels at {element_path(el)} "
                f"(line {el.sourceline})",
                line=el.sourceline,
            )
