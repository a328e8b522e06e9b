"""Hostile bodies: DTDs and entities, XInclude, deep or wide trees, size, bad bytes."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.edxml import Document, XmlLimits, parse_message, read_xml
from gateway.edxml import parse as parse_module
from gateway.errors import MalformedXml, PayloadTooLarge, SchemaInvalid
from tests.factories import document_bytes

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n'
    b'<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']>\n<lolz a="&lol9;">&lol9;</lolz>\n'
)

EXTERNAL_ENTITY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<edXML xmlns="' + NS.encode() + b'">&xxe;</edXML>\n'
)


def refused_as_malformed(raw: bytes, limits: XmlLimits | None = None) -> MalformedXml:
    with pytest.raises(MalformedXml) as refused:
        read_xml(raw, limits or XmlLimits())
    assert refused.value.status == 400
    assert refused.value.code == "malformed_xml"
    return refused.value


def test_internal_entities_are_refused_before_any_expansion() -> None:
    error = refused_as_malformed(BILLION_LAUGHS)
    assert "DOCTYPE" in error.detail
    assert "line 2" in error.detail
    assert "lol" not in error.detail


def test_external_entity_is_refused_and_nothing_is_read() -> None:
    error = refused_as_malformed(EXTERNAL_ENTITY)
    assert "DOCTYPE" in error.detail
    assert "root:" not in error.detail


@pytest.mark.parametrize(
    "prolog",
    [
        b"",
        b"\xef\xbb\xbf",
        b'<?xml version="1.0"?>\n\n',
        b'<?xml version="1.0"?><!-- a comment --><?pi data?>\r\n  ',
    ],
)
def test_a_doctype_after_any_legal_prolog_is_refused(prolog: bytes) -> None:
    raw = prolog + b"<!DOCTYPE edXML>" + document_bytes().split(b"\n", 1)[1]
    assert "DOCTYPE" in refused_as_malformed(raw).detail


def test_doctype_text_inside_the_body_is_no_doctype() -> None:
    raw = document_bytes(subject="<![CDATA[ <!DOCTYPE x> ]]>")
    message = parse_message(raw)
    assert isinstance(message, Document)
    assert message.subject == "<![CDATA[ <!DOCTYPE x> ]]>"


@pytest.mark.parametrize("raw", [EXTERNAL_ENTITY, BILLION_LAUGHS])
def test_without_the_prolog_scan_the_parser_still_refuses_dtds(
    raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the second line of defence: the parsed tree's docinfo, or libxml2's own guard
    monkeypatch.setattr(parse_module, "_refuse_doctype", lambda raw: None)
    error = refused_as_malformed(raw)
    assert "root:" not in error.detail


def test_xinclude_is_never_processed() -> None:
    include = (
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" '
        'parse="text"/>'
    )
    raw = document_bytes().replace(b"<edXML:OtherInfo>", b"<edXML:OtherInfo>" + include.encode(), 1)
    root = read_xml(raw)
    assert root.findall(".//{http://www.w3.org/2001/XInclude}include") != []
    assert b"root:" not in etree.tostring(root)
    message = parse_message(raw)  # a foreign element in OtherInfo: allowed, ignored
    assert isinstance(message, Document)
    in_subject = document_bytes(subject="S").replace(b">S<", b">" + include.encode() + b"<", 1)
    with pytest.raises(SchemaInvalid):
        parse_message(in_subject)


def nested(depth: int) -> bytes:
    return b"<a>" * depth + b"x" + b"</a>" * depth


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    read_xml(nested(64))
    error = refused_as_malformed(nested(65))
    assert "64" in error.detail
    assert error.extensions["line"] == 1


def test_a_real_document_is_too_deep_for_a_tight_limit() -> None:
    raw = document_bytes()
    read_xml(raw, XmlLimits(max_depth=7))
    error = refused_as_malformed(raw, XmlLimits(max_depth=5))
    assert "deeper than 5" in error.detail
    assert "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From/" in error.detail


def wide(elements: int) -> bytes:
    return b"<a>" + b"<b/>" * (elements - 1) + b"</a>"


def test_element_count_over_the_limit_is_payload_too_large() -> None:
    read_xml(wide(1000), XmlLimits(max_elements=1000))
    with pytest.raises(PayloadTooLarge) as refused:
        read_xml(wide(1001), XmlLimits(max_elements=1000))
    assert refused.value.status == 413
    assert "more than 1000 elements" in refused.value.detail


def test_an_element_bomb_is_refused_with_the_default_limits() -> None:
    with pytest.raises(PayloadTooLarge) as refused:
        read_xml(wide(300_000))
    assert "200000" in refused.value.detail


def test_comments_do_not_count_as_elements() -> None:
    raw = b"<a>" + b"<!-- c -->" * 2000 + b"<b/></a>"
    assert len(read_xml(raw, XmlLimits(max_elements=2))) == 2001


def test_oversize_is_payload_too_large_before_parsing() -> None:
    body = b"<a>" + b"x" * 93 + b"</a>"
    assert len(body) == 100
    read_xml(body, XmlLimits(max_bytes=100))
    with pytest.raises(PayloadTooLarge) as refused:
        read_xml(body + b" ", XmlLimits(max_bytes=100))
    assert refused.value.status == 413
    assert refused.value.detail == "the body has 101 bytes; at most 100 are accepted"


def test_oversize_applies_to_parse_message_too() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_message(document_bytes(attachment_size=10_000), XmlLimits(max_bytes=4096))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "empty"),
        (b" \r\n\t", "empty"),
        ("<a>chữ</a>".encode("utf-16"), "UTF-8"),
        (b"\x00\x00\x00<", "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 1"),
        (b"<a>\n<b>caf\xe9</b></a>", "line 2"),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n<a>\n<b>\xc3\x28</b></a>', "line 3"),
        (b"<edXML><unclosed></edXML>", "line 1, column"),
        (b"not xml at all", "line 1, column 1"),
    ],
)
def test_garbage_is_malformed_with_a_location(raw: bytes, expected: str) -> None:
    assert expected in refused_as_malformed(raw).detail


def test_a_truncated_document_names_the_line_where_it_ends() -> None:
    raw = document_bytes()
    cut = raw[: len(raw) // 2]
    error = refused_as_malformed(cut)
    assert error.extensions["line"] == cut.count(b"\n") + 1


def test_limits_default_to_the_documented_values() -> None:
    assert XmlLimits() == XmlLimits(max_bytes=50 * 1024 * 1024, max_depth=64, max_elements=200_000)
