"""What real producers emit is read; what is really broken is still refused (issue 12).

Each tolerated quirk is listed, with the producer that emits it, in docs/edxml.md.
"""

from __future__ import annotations

from datetime import date

import pytest

from gateway.edxml import Document, XmlLimits, parse_message, read_xml
from gateway.errors import MalformedXml, PayloadTooLarge, SchemaInvalid
from tests.edxml.producers import edit, in_other_info, iso_dates, sdk_style, with_element
from tests.factories import document_bytes


def parsed(raw: bytes) -> Document:
    message = parse_message(raw)
    assert isinstance(message, Document)
    return message


def test_sdk_attributes_and_an_empty_digital_signature_are_accepted() -> None:
    raw = sdk_style(document_bytes(subject="V/v họp giao ban"))
    assert b'mustUnderstand="1"' in raw and b"xlink:href" in raw
    assert b"<edXML:DigitalSignature/>" in raw
    doc = parsed(raw)
    assert doc.subject == "V/v họp giao ban"
    assert len(doc.manifest) == 1 and len(doc.traces) == 1


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2019-01-16T00:00:00", date(2019, 1, 16)),  # .NET DateTime
        ("2019-01-15T17:00:00.000Z", date(2019, 1, 16)),  # toISOString(): midnight in Vietnam
        ("2019-01-16T00:00:00+07:00", date(2019, 1, 16)),
        ("2019-01-16T23:30:00+00:00", date(2019, 1, 17)),  # the date is Vietnam's
        ("2019/01/16", date(2019, 1, 16)),
    ],
)
def test_iso_date_times_in_date_fields_give_the_date_in_vietnam(written: str, day: date) -> None:
    doc = parsed(iso_dates(document_bytes(), written, due="2018-09-28T00:00:00"))
    assert doc.promulgation is not None and doc.promulgation.promulgation_date == day
    assert doc.due_date == date(2018, 9, 28)


def test_a_date_time_that_is_no_date_is_still_refused() -> None:
    with pytest.raises(SchemaInvalid, match="PromulgationDate"):
        parse_message(iso_dates(document_bytes(), "2019-02-30T00:00:00"))


@pytest.mark.parametrize(
    "inner",
    [
        "<!-- trich yeu -->V/v kế hoạch năm 2026",
        "<?x?>V/v kế hoạch năm 2026",
        "V/v kế hoạch<!-- --> năm 2026",
        "V/v kế hoạch<![CDATA[ năm]]> 2026",
    ],
)
def test_a_field_is_its_whole_text_across_comments_pis_and_cdata(inner: str) -> None:
    doc = parsed(with_element(document_bytes(), "Subject", inner))
    assert doc.subject == "V/v kế hoạch năm 2026"


def test_the_whole_text_everywhere_the_model_reads() -> None:
    raw = with_element(document_bytes(), "Content", "Nội dung <!-- c -->thứ hai")
    raw = with_element(raw, "Priority", "<!-- khẩn -->1")
    raw = in_other_info(raw, "<edXML:SecrecyLevel><!---->mat</edXML:SecrecyLevel>")
    doc = parsed(raw)
    assert doc.content == "Nội dung thứ hai"
    assert doc.other_info is not None
    assert doc.other_info.priority == 1
    assert doc.other_info.secrecy_level == "mat"


# --- what stays refused ----------------------------------------------------------------------


def test_a_newline_before_the_xml_declaration_is_malformed() -> None:
    with pytest.raises(MalformedXml):
        read_xml(b"\n" + document_bytes())


def test_an_undeclared_prefix_is_malformed() -> None:
    with pytest.raises(MalformedXml, match=r"[Nn]amespace"):
        read_xml(in_other_info(document_bytes(), "<x:Foo/>"))


def test_an_attachment_that_is_not_base64_is_refused() -> None:
    broken = edit(document_bytes(), "JVBERi0xLjQgdGVzdAo=", "ồ!JVBERi0xLjQgdGVzdAo=")
    with pytest.raises(SchemaInvalid, match="not base64"):
        parse_message(broken)


def test_priority_as_text_is_refused() -> None:
    with pytest.raises(SchemaInvalid, match="Priority"):
        parse_message(with_element(document_bytes(), "Priority", "Khẩn"))


def test_attributes_elsewhere_are_still_refused() -> None:
    raw = edit(document_bytes(), "<edXML:Subject>", '<edXML:Subject mustUnderstand="1">')
    with pytest.raises(SchemaInvalid):
        parse_message(raw)


# --- one decoding for everybody: UTF-8 only ---------------------------------------------------


@pytest.mark.parametrize("encoding", ["UTF-7", "UTF-16", "ISO-8859-1", "windows-1258", "ascii"])
def test_a_declared_encoding_other_than_utf8_is_refused_asking_for_utf8(encoding: str) -> None:
    raw = document_bytes(subject="TUYỆT MẬT").replace(
        b'encoding="UTF-8"', f'encoding="{encoding}"'.encode(), 1
    )
    with pytest.raises(MalformedXml) as refused:
        read_xml(raw)
    assert refused.value.status == 400
    assert encoding in refused.value.detail and "send UTF-8" in refused.value.detail


@pytest.mark.parametrize("declaration", [b'encoding="utf-8"', b"encoding='UTF-8'", b""])
def test_utf8_declared_or_not_is_read(declaration: bytes) -> None:
    raw = document_bytes().replace(b'encoding="UTF-8"', declaration, 1)
    assert parsed(raw).subject


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"])
def test_a_bom_other_than_utf8_is_refused(bom: bytes) -> None:
    with pytest.raises(MalformedXml, match="send UTF-8"):
        read_xml(bom + document_bytes())


def test_the_element_limit_holds_whatever_the_declared_encoding() -> None:
    # issue 13 item 3: in UTF-7 the "<" of 2.5 million elements are "+ADw-": none is counted,
    # the tree would be built in full. Refused before libxml2 reads a byte of it.
    body = b"+ADw-a/+AD4-" * 50_000
    raw = b'<?xml version="1.0" encoding="UTF-7"?><r>' + body + b"</r>"
    with pytest.raises(MalformedXml, match="UTF-7"):
        read_xml(raw, XmlLimits(max_elements=1000))
    with pytest.raises(PayloadTooLarge):
        read_xml(b"<r>" + b"<a/>" * 2000 + b"</r>", XmlLimits(max_elements=1000))


def test_the_depth_limit_holds_whatever_the_declared_encoding() -> None:
    deep = b"<a>" * 100 + b"</a>" * 100
    with pytest.raises(MalformedXml, match="UTF-16"):
        read_xml(b'<?xml version="1.0" encoding="UTF-16"?>' + deep, XmlLimits(max_depth=10))
    with pytest.raises(MalformedXml, match="deeper"):
        read_xml(b'<?xml version="1.0" encoding="UTF-8"?>' + deep, XmlLimits(max_depth=10))


@pytest.mark.parametrize(
    "markup",
    [
        "<edXML:Secret>0</edXML:Secret>",
        "<edXML:Secret>false</edXML:Secret>",
        "<edXML:Secret/>",
        "<Secret>0</Secret>",
    ],
)
def test_a_legacy_secret_flag_that_says_not_secret_passes_the_schema(markup: str) -> None:
    raw = in_other_info(document_bytes(subject="V/v họp giao ban"), markup)
    assert parsed(raw).subject == "V/v họp giao ban"
