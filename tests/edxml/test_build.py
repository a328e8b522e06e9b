"""Writing messages: the SDK's prefix layout, escaping, and what the factories build."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from gateway.edxml import (
    Business,
    Document,
    OtherInfo,
    Receiver,
    ReplacementInfo,
    StaffInfo,
    StatusCode,
    StatusMessage,
    TraceHeader,
    parse_message,
    read_xml,
    to_xml,
    validate,
)
from tests.factories import (
    attachment,
    document,
    document_bytes,
    filler_attachment,
    status,
    status_bytes,
)

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
HEAD = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    f'<edXML xmlns="{NS}">',
    f'  <edXML:edXMLEnvelope xmlns:edXML="{NS}">',
    "    <edXML:edXMLHeader>",
    "      <edXML:MessageHeader>",
    "        <edXML:From>",
]


def round_trip(message: Document | StatusMessage) -> bytes:
    raw = to_xml(message)
    validate(read_xml(raw))
    assert parse_message(raw) == message
    return raw


def test_a_document_starts_like_the_sdk_samples_and_ends_with_its_attachments() -> None:
    doc = document(attachments=(attachment("a.pdf", b"%PDF-1.4"),))
    lines = round_trip(doc).decode().split("\n")
    assert lines[: len(HEAD)] == HEAD
    assert lines[-12:] == [
        "    </edXML:edXMLBody>",
        "  </edXML:edXMLEnvelope>",
        "  <AttachmentEncoded>",
        "    <Attachment>",
        f"      <ContentId>{doc.attachments[0].content_id}</ContentId>",
        "      <AttachmentName>a.pdf</AttachmentName>",
        "      <ContentType>application/pdf</ContentType>",
        f'      <edXML:ContentTransferEncoded xmlns:edXML="{NS}">JVBERi0xLjQ='
        "</edXML:ContentTransferEncoded>",
        "    </Attachment>",
        "  </AttachmentEncoded>",
        "</edXML>",
        "",
    ]


def test_attachment_children_are_unprefixed_except_the_content() -> None:
    root = read_xml(document_bytes())
    [encoded] = root.findall(f"{{{NS}}}AttachmentEncoded")
    assert encoded.prefix is None
    [item] = encoded
    assert [(child.prefix, child.tag.split("}")[1]) for child in item] == [
        (None, "ContentId"),
        (None, "AttachmentName"),
        (None, "ContentType"),
        ("edXML", "ContentTransferEncoded"),
    ]
    envelope = root[0]
    assert envelope.prefix == "edXML"
    assert {el.prefix for el in envelope.iter()} == {"edXML"}


def test_a_status_has_no_body_and_no_attachments() -> None:
    raw = round_trip(status(status_code=StatusCode.PROCESSING))
    text = raw.decode()
    assert text.split("\n")[: len(HEAD)] == HEAD
    assert "edXMLBody" not in text
    assert "AttachmentEncoded" not in text
    assert "<edXML:StatusCode>05</edXML:StatusCode>" in text


def test_text_is_escaped_and_survives_the_round_trip() -> None:
    subject = "A & B < C > D \"quoted\" 'single' ]]> and a CR\r inside"
    raw = round_trip(document(subject=subject))
    assert "A &amp; B &lt; C &gt; D" in raw.decode()
    assert "&#13;" in raw.decode()


def test_characters_xml_cannot_carry_are_refused() -> None:
    with pytest.raises(ValueError, match="U\\+0000"):
        to_xml(document(subject="nul \x00 here"))


def test_attachment_content_that_is_not_base64_is_escaped_not_injected() -> None:
    doc = document()
    bad = replace(doc.attachments[0], content_b64="<x/>&")
    raw = to_xml(replace(doc, attachments=(bad,)))
    assert b"&lt;x/&gt;&amp;</edXML:ContentTransferEncoded>" in raw


def test_every_field_round_trips() -> None:
    vietnam = timezone(timedelta(hours=7))
    doc = document(
        priority=2,
        business_type=2,
        paper=True,
        to_places=("Các sở", "UBND các quận"),
        steering_type="1",
        other_info=OtherInfo(
            priority=2,
            sphere_of_promulgation="Công khai",
            typer_notation="VT",
            promulgation_amount=5,
            page_amount=3,
            direction=True,
            appendixes=("Phụ lục I", "Phụ lục II"),
            secrecy_level="Mật",
        ),
        business=Business(
            business_doc_type=3,
            document_id="000.00.00.H26,2014/02/30,1/X",
            reason="Thay thế",
            paper=True,
            document_info="1",
            document_receiver="1",
            receivers=(Receiver("000.00.13.H26", 0), Receiver("000.00.14.H26", 1)),
            replacements=(ReplacementInfo("OLD-1", ("000.00.13.H26",)),),
            staff_info=StaffInfo("Văn thư", "B", "b@example.vn", "0900000000"),
        ),
        traces=(
            TraceHeader("000.00.00.H26", datetime(2025, 1, 1, 8, 0, 0)),
            TraceHeader(None, datetime(2025, 1, 1, 8, 0, 0, 123000)),
            TraceHeader("H37.02.02", datetime(2025, 1, 1, 8, tzinfo=vietnam)),
            TraceHeader(None, None),
        ),
    )
    raw = round_trip(doc)
    assert raw.index(b"<edXML:Appendixes>") < raw.index(b"<edXML:SecrecyLevel>")
    assert raw.index(b"<edXML:SecrecyLevel>") < raw.index(b"</edXML:OtherInfo>")
    assert b"<edXML:Timestamp>2025/01/01 08:00:00</edXML:Timestamp>" in raw
    assert b"<edXML:Timestamp>2025-01-01T08:00:00+07:00</edXML:Timestamp>" in raw
    assert b"<edXML:Paper>1</edXML:Paper>" in raw


def test_factories_make_fresh_ids_and_the_asked_shapes() -> None:
    first, second = document(), document()
    assert first.document_id != second.document_id
    assert first.document_id.startswith("000.00.00.H26,")
    doc = document(
        sender="000.00.01.H26",
        recipients=("A.1", "A.2"),
        priority=3,
        business_type=1,
        paper=True,
        subject="Khẩn",
    )
    assert [r.organ_id for r in doc.recipients] == ["A.1", "A.2"]
    assert (doc.priority, doc.business_type, doc.paper_copy, doc.subject) == (3, 1, True, "Khẩn")
    assert parse_message(to_xml(doc)) == doc
    assert document(document_id="X-1", subject="S").document_id == "X-1"


def test_attachment_size_adds_a_filler_of_that_many_bytes() -> None:
    doc = document(attachment_size=5000)
    assert len(doc.attachments) == 2
    assert len(doc.attachments[1].content()) == 5000
    assert [m.content_id for m in doc.manifest] == [a.content_id for a in doc.attachments]
    assert len(document_bytes(attachment_size=30_000)) > 40_000
    assert len(filler_attachment(10).content()) == 10
    assert document(attachments=()).attachments == ()


def test_a_status_about_a_document_answers_it() -> None:
    original = document(sender="000.00.00.H26", recipients=("000.00.13.H26",))
    answer = status(original=original, status_code="03")
    assert answer.sender.organ_id == "000.00.13.H26"
    assert answer.response_for.organ_id == "000.00.00.H26"
    assert answer.response_for.document_id == original.document_id
    assert original.promulgation is not None
    assert answer.response_for.promulgation_date == original.promulgation.promulgation_date
    assert answer.status_code == "03"
    round_trip(answer)


def test_a_status_by_ids_and_status_bytes() -> None:
    answer = status(sender="B.1", response_for_sender="A.1", document_id="D-1", status_code="16")
    assert (answer.sender.organ_id, answer.response_for.organ_id) == ("B.1", "A.1")
    assert answer.response_for.document_id == "D-1"
    parsed = parse_message(status_bytes(sender="B.1", response_for_sender="A.1", document_id="D-1"))
    assert isinstance(parsed, StatusMessage)
    assert (parsed.status_code, parsed.response_for.document_id) == ("01", "D-1")


def test_attachment_content_decodes() -> None:
    item = attachment("x.bin", b"\x00\x01binary")
    assert item.content() == b"\x00\x01binary"
    assert item.content_b64 == base64.b64encode(b"\x00\x01binary").decode()
    with pytest.raises(ValueError, match="not base64"):
        replace(item, content_b64="!!!!").content()
