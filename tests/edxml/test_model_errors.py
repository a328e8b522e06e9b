"""Precise refusals (which element, which line) and the leniency real senders need."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from lxml import etree

from gateway.edxml import (
    Code,
    Document,
    PromulgationInfo,
    ResponseFor,
    StatusMessage,
    TraceHeader,
    message_from_tree,
    parse_message,
    read_xml,
    to_xml,
)
from gateway.errors import GatewayError, SchemaInvalid, UnsupportedMessage
from tests.factories import attachment, document, status

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
BASE_DOCUMENT = document(
    document_id="000.00.00.H26,2025/01/15,12/UBND-VP",
    code=Code("12", "UBND-VP"),
    promulgation=PromulgationInfo("Hà Nội", date(2025, 1, 15)),
    attachments=(attachment("a.pdf", b"%PDF-1.4"),),
    traces=(TraceHeader("000.00.00.H26", datetime(2025, 1, 15, 8, 30)),),
)
BASE_STATUS = status(original=BASE_DOCUMENT, timestamp=datetime(2025, 1, 15, 9, 0))
DOC = to_xml(BASE_DOCUMENT).decode()
STATUS = to_xml(BASE_STATUS).decode()


def line_of(xml: str, needle: str, occurrence: int = 1) -> int:
    at = -1
    for _ in range(occurrence):
        at = xml.index(needle, at + 1)
    return xml.count("\n", 0, at) + 1


def changed(xml: str, old: str, new: str) -> str:
    assert old in xml, old
    return xml.replace(old, new, 1)


def without(xml: str, name: str) -> str:
    """`xml` less its first `<edXML:name>` element."""
    start = xml.index(f"<edXML:{name}>")
    end = xml.index(f"</edXML:{name}>", start) + len(f"</edXML:{name}>")
    return xml[:start] + xml[end:]


def field(name: str, value: str) -> str:
    return f"<edXML:{name}>{value}</edXML:{name}>"


def parsed(xml: str) -> Document:
    message = parse_message(xml.encode())
    assert isinstance(message, Document)
    return message


def parsed_status(xml: str) -> StatusMessage:
    message = parse_message(xml.encode())
    assert isinstance(message, StatusMessage)
    return message


@dataclass(frozen=True)
class Refusal:
    xml: str
    words: tuple[str, ...]  # each must appear in the detail
    line_at: str  # the detail names the line where this text starts
    occurrence: int = 1
    error: type[GatewayError] = SchemaInvalid


SUBJECT = field("Subject", BASE_DOCUMENT.subject)
LONG = "Đ" * 501

REFUSALS = {
    "missing Subject": Refusal(
        without(DOC, "Subject"), ("Subject", "missing"), "<edXML:MessageHeader>"
    ),
    "blank Subject": Refusal(
        changed(DOC, SUBJECT, field("Subject", "  ")), ("Subject", "empty"), "<edXML:Subject>"
    ),
    "Subject of 501 characters": Refusal(
        changed(DOC, SUBJECT, field("Subject", LONG)), ("Subject", "501"), "<edXML:Subject>"
    ),
    "Subject twice": Refusal(
        changed(DOC, SUBJECT, SUBJECT + SUBJECT), ("Subject", "2 times"), "<edXML:Subject>", 2
    ),
    "missing DocumentId": Refusal(
        without(DOC, "DocumentId"), ("DocumentId",), "<edXML:MessageHeader>"
    ),
    "no recipient": Refusal(
        without(DOC, "To"), ("/MessageHeader/To", "missing"), "<edXML:MessageHeader>"
    ),
    "missing From/OrganId": Refusal(
        changed(DOC, field("OrganId", "000.00.00.H26"), ""), ("From", "OrganId"), "<edXML:From>"
    ),
    "blank From/OrganId": Refusal(
        changed(DOC, field("OrganId", "000.00.00.H26"), field("OrganId", " ")),
        ("OrganId",),
        "<edXML:OrganId>",
    ),
    "impossible PromulgationDate": Refusal(
        changed(DOC, "2025/01/15</edXML:PromulgationDate>", "2020/13/45</edXML:PromulgationDate>"),
        ("PromulgationDate", "2020/13/45"),
        "<edXML:PromulgationDate>",
    ),
    "DueDate that is no date": Refusal(
        changed(DOC, SUBJECT, SUBJECT + field("DueDate", "ngày mai")),
        ("DueDate", "ngày mai"),
        "<edXML:DueDate>",
    ),
    "Priority not a number": Refusal(
        changed(DOC, field("Priority", "0"), field("Priority", "cao")),
        ("Priority", "cao"),
        "<edXML:Priority>",
    ),
    "Priority out of range": Refusal(
        changed(DOC, field("Priority", "0"), field("Priority", "9")),
        ("Priority", "9"),
        "<edXML:Priority>",
    ),
    "PageAmount negative": Refusal(
        changed(DOC, field("PageAmount", "1"), field("PageAmount", "-1")),
        ("PageAmount",),
        "<edXML:PageAmount>",
    ),
    "BussinessDocType 7": Refusal(
        changed(DOC, field("BussinessDocType", "0"), field("BussinessDocType", "7")),
        ("BussinessDocType", "7"),
        "<edXML:BussinessDocType>",
    ),
    "CodeNumber of 12 characters": Refusal(
        changed(DOC, field("CodeNumber", "12"), field("CodeNumber", "123456789012")),
        ("CodeNumber", "12 characters"),
        "<edXML:CodeNumber>",
    ),
    "CodeNotation of 31 characters": Refusal(
        changed(DOC, field("CodeNotation", "UBND-VP"), field("CodeNotation", "X" * 31)),
        ("CodeNotation", "31 characters"),
        "<edXML:CodeNotation>",
    ),
    "unknown element in MessageHeader": Refusal(
        changed(DOC, SUBJECT, SUBJECT + field("Urgency", "1")),
        ("Urgency", "not expected"),
        "<edXML:Urgency>",
    ),
    "trace Timestamp that is no time": Refusal(
        changed(DOC, "2025/01/15 08:30:00", "hôm qua"),
        ("Timestamp", "hôm qua"),
        "<edXML:Timestamp>",
    ),
    "attachment that is not base64": Refusal(
        changed(DOC, ">JVBERi0xLjQ=<", ">JVBERi0x!jQ=<"),
        ("ContentTransferEncoded", "base64"),
        "<edXML:ContentTransferEncoded",
    ),
    "Attachment without AttachmentName": Refusal(
        changed(DOC, "<AttachmentName>a.pdf</AttachmentName>", ""),
        ("/edXML/AttachmentEncoded/Attachment (line", "AttachmentName"),
        "<Attachment>",
    ),
    "document carrying a StatusCode is read as a status": Refusal(
        changed(DOC, SUBJECT, SUBJECT + field("StatusCode", "01")),
        ("To", "does not belong in a status"),
        "<edXML:To>",
    ),
    "status without StatusCode": Refusal(
        without(STATUS, "StatusCode"), ("StatusCode", "missing"), "<edXML:MessageHeader>"
    ),
    "status with an unknown StatusCode": Refusal(
        changed(STATUS, field("StatusCode", "01"), field("StatusCode", "07")),
        ("StatusCode", "'07'"),
        "<edXML:StatusCode>",
    ),
    "status without ResponseFor": Refusal(
        without(STATUS, "ResponseFor"), ("ResponseFor", "missing"), "<edXML:MessageHeader>"
    ),
    "status whose ResponseFor lacks the DocumentId": Refusal(
        without(STATUS, "DocumentId"),
        ("ResponseFor/DocumentId", "missing"),
        "<edXML:ResponseFor>",
    ),
    "status with a body": Refusal(
        changed(
            STATUS,
            "</edXML:edXMLHeader>",
            '</edXML:edXMLHeader><edXML:edXMLBody><edXML:edXMLManifest version="1.0"/>'
            "</edXML:edXMLBody>",
        ),
        ("edXMLBody", "no body"),
        "<edXML:edXMLBody>",
    ),
    "neither a document nor a status": Refusal(
        changed(
            STATUS,
            STATUS[STATUS.index("<edXML:ResponseFor>") : STATUS.index("</edXML:MessageHeader>")],
            "",
        ),
        ("neither a document", "line 5"),
        "<edXML:MessageHeader>",
        error=UnsupportedMessage,
    ),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusal_names_the_element_and_its_line(case: Refusal) -> None:
    with pytest.raises(case.error) as refused:
        parse_message(case.xml.encode())
    detail = refused.value.detail
    for word in case.words:
        assert word in detail
    line = line_of(case.xml, case.line_at, case.occurrence)
    assert f"line {line}" in detail
    if case.error is SchemaInvalid:
        assert refused.value.extensions["line"] == line


MODEL_ONLY = {
    "Priority not a number": (field("Priority", "0"), field("Priority", "cao"), "Priority"),
    "BussinessDocType 7": (
        field("BussinessDocType", "0"),
        field("BussinessDocType", "7"),
        "BussinessDocType",
    ),
    "Paper 2": (field("Paper", "0"), field("Paper", "2"), "Paper"),
    "Direction maybe": (field("Priority", "0"), field("Direction", "có"), "Direction"),
    "blank sender": (field("OrganId", "000.00.00.H26"), field("OrganId", ""), "OrganId"),
}


@pytest.mark.parametrize(("old", "new", "name"), MODEL_ONLY.values(), ids=MODEL_ONLY.keys())
def test_the_model_refuses_on_its_own_without_the_xsd(old: str, new: str, name: str) -> None:
    xml = changed(DOC, old, new)
    with pytest.raises(SchemaInvalid) as refused:
        message_from_tree(read_xml(xml.encode()))
    line = line_of(xml, f"<edXML:{name}>")
    assert f"/{name}: " in refused.value.detail
    assert refused.value.extensions == {"path": refused.value.extensions["path"], "line": line}
    assert refused.value.extensions["path"].endswith(f"/{name}")


@pytest.mark.parametrize(
    "raw",
    [
        DOC.replace(NS, "http://www.mic.gov.vn/TBT/QCVN_102_2017"),
        '<?xml version="1.0"?>\n<html><body/></html>',
        f'<edXMLEnvelope xmlns="{NS}"/>',
    ],
    ids=["another namespace", "not edXML", "an envelope as root"],
)
def test_a_root_that_is_not_edxml_is_unsupported(raw: str) -> None:
    with pytest.raises(UnsupportedMessage) as refused:
        parse_message(raw.encode())
    assert refused.value.status == 400
    assert "edXML" in refused.value.detail
    with pytest.raises(UnsupportedMessage):
        message_from_tree(read_xml(raw.encode()))


def test_an_edxml_root_without_envelope_is_schema_invalid() -> None:
    with pytest.raises(SchemaInvalid) as refused:
        parse_message(f'<edXML xmlns="{NS}"/>'.encode())
    assert "edXMLEnvelope" in refused.value.detail
    assert "line 1" in refused.value.detail


# --- leniency --------------------------------------------------------------------------------


def test_the_base_messages_parse_back_equal() -> None:
    assert parsed(DOC) == BASE_DOCUMENT
    assert parsed_status(STATUS) == BASE_STATUS


def test_element_order_inside_message_header_and_records_does_not_matter() -> None:
    root = read_xml(DOC.encode())
    header = root.find(f".//{{{NS}}}MessageHeader")
    assert header is not None
    header[:] = list(reversed(header))
    sender = header.find(f"{{{NS}}}From")
    assert sender is not None
    sender[:] = list(reversed(sender))
    reordered = etree.tostring(root)
    sender_at = reordered.index(b"<edXML:From>")
    assert reordered.index(b"<edXML:OtherInfo>") < sender_at
    assert reordered.index(b"<edXML:Email>", sender_at) < reordered.index(
        b"<edXML:OrganId>", sender_at
    )
    assert parse_message(reordered) == BASE_DOCUMENT


@pytest.mark.parametrize(
    "layout",
    [
        DOC.replace("edXML:", "ns1:").replace("xmlns:edXML", "xmlns:ns1"),
        DOC.replace("edXML:", "").replace(f' xmlns:edXML="{NS}"', ""),
        DOC.replace("<edXML xmlns=", f'<e:edXML xmlns:e="{NS}" xmlns=').replace(
            "</edXML>\n", "</e:edXML>\n"
        ),
    ],
    ids=["another prefix", "no prefix at all", "a prefixed root"],
)
def test_any_equivalent_namespace_layout_is_read(layout: str) -> None:
    assert layout != DOC
    assert parsed(layout) == BASE_DOCUMENT


@pytest.mark.parametrize(
    "text", ["2025/01/15", "15/01/2025", "2025-01-15", "15-01-2025", "2025/1/15"]
)
def test_promulgation_dates_in_the_forms_senders_use(text: str) -> None:
    doc = parsed(
        changed(DOC, ">2025/01/15</edXML:PromulgationDate>", f">{text}</edXML:PromulgationDate>")
    )
    assert doc.promulgation is not None
    assert doc.promulgation.promulgation_date == date(2025, 1, 15)


def test_empty_elements_mean_absent() -> None:
    xml = changed(DOC, field("Email", "vanthu.000.00.00.h26@example.gov.vn"), "<edXML:OrganAdd/>")
    xml = changed(xml, SUBJECT, SUBJECT + "<edXML:DueDate></edXML:DueDate><edXML:ResponseFor />")
    xml = changed(xml, field("Priority", "0"), "<edXML:Priority> </edXML:Priority>")
    xml = changed(xml, "<edXML:To>", "<edXML:To><edXML:Fax/><edXML:Website>\n</edXML:Website>")
    doc = parsed(xml)
    assert doc.sender.organ_add is None
    assert doc.sender.email is None
    assert doc.due_date is None
    assert doc.response_for is None
    assert doc.priority == 0
    assert (doc.recipients[0].fax, doc.recipients[0].website) == (None, None)
    assert doc.recipients[0].organ_id == "000.00.13.H26"


def test_priority_four_is_treated_as_flash() -> None:
    doc = parsed(changed(DOC, field("Priority", "0"), field("Priority", "4")))
    assert doc.other_info is not None
    assert doc.other_info.priority == 4
    assert doc.priority == 3


def test_no_other_info_means_normal_priority_and_no_bussiness_means_new() -> None:
    start, end = DOC.index("<edXML:OtherInfo>"), DOC.index("</edXML:OtherInfo>")
    xml = DOC[:start] + DOC[end + len("</edXML:OtherInfo>") :]
    start, end = DOC.index("<edXML:Bussiness>"), DOC.index("</edXML:Bussiness>")
    xml = xml.replace(DOC[start : end + len("</edXML:Bussiness>")], "")
    doc = parsed(xml)
    assert (doc.other_info, doc.priority, doc.business, doc.business_type) == (None, 0, None, 0)
    assert doc.paper_copy is False


def test_trace_headers_with_null_or_missing_organ_ids_and_iso_times() -> None:
    traces = (
        "<edXML:TraceHeader><edXML:OrganId>null</edXML:OrganId>"
        "<edXML:Timestamp>2025-10-23T16:28:42+07:00</edXML:Timestamp></edXML:TraceHeader>"
        "<edXML:TraceHeader><edXML:Timestamp>2025/10/23</edXML:Timestamp></edXML:TraceHeader>"
        "<edXML:TraceHeader><edXML:OrganId>H37.02.02</edXML:OrganId>"
        "<edXML:Timestamp>null</edXML:Timestamp></edXML:TraceHeader>"
    )
    doc = parsed(changed(DOC, "<edXML:TraceHeaderList>", "<edXML:TraceHeaderList>" + traces))
    vietnam = timezone(timedelta(hours=7))
    assert doc.traces[:3] == (
        TraceHeader(None, datetime(2025, 10, 23, 16, 28, 42, tzinfo=vietnam)),
        TraceHeader(None, datetime(2025, 10, 23)),
        TraceHeader("H37.02.02", None),
    )
    assert parse_message(to_xml(doc)) == doc


def test_status_code_without_its_leading_zero() -> None:
    message = parsed_status(changed(STATUS, field("StatusCode", "01"), field("StatusCode", "5")))
    assert message.status_code == "05"
    assert message.response_for == ResponseFor(
        "000.00.00.H26", "12/UBND-VP", "000.00.00.H26,2025/01/15,12/UBND-VP", date(2025, 1, 15)
    )


@pytest.mark.parametrize(
    "secrecy",
    [
        field("SecrecyLevel", "Mật"),
        '<s:SecrecyLevel xmlns:s="urn:example:secrecy">Mật</s:SecrecyLevel>',
        '<SecrecyLevel xmlns="">Mật</SecrecyLevel>',
    ],
    ids=["edXML namespace", "another namespace", "no namespace"],
)
def test_secrecy_level_is_read_in_any_namespace(secrecy: str) -> None:
    doc = parsed(changed(DOC, "</edXML:OtherInfo>", secrecy + "</edXML:OtherInfo>"))
    assert doc.other_info is not None
    assert doc.other_info.secrecy_level == "Mật"
    rebuilt = to_xml(doc).decode()
    assert "<edXML:SecrecyLevel>Mật</edXML:SecrecyLevel>\n        </edXML:OtherInfo>" in rebuilt
    assert parse_message(rebuilt.encode()) == doc


def test_signatures_in_the_header_are_left_to_the_trust_layer() -> None:
    ds = (
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
        '<ds:Reference URI=""/></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue>'
        "</ds:Signature>"
    )
    placeholder = '<Signature><SignedInfo><Reference URI=""/></SignedInfo></Signature>'
    for signature in (ds, placeholder, ds + placeholder):
        xml = changed(DOC, "</edXML:edXMLHeader>", signature + "</edXML:edXMLHeader>")
        assert parsed(xml) == BASE_DOCUMENT


def test_comments_and_processing_instructions_are_ignored() -> None:
    xml = changed(DOC, "<edXML:From>", "<!-- from --><?vendor x?><edXML:From><!-- c -->")
    xml = changed(xml, "<edXML:Code>", "<edXML:Code><!-- a --><!-- b -->")
    assert parsed(xml) == BASE_DOCUMENT


def test_wrapped_base64_is_unwrapped() -> None:
    content = bytes(range(256)) * 4
    doc = document(attachments=(attachment("x.bin", content),))
    xml = to_xml(doc).decode()
    encoded = doc.attachments[0].content_b64
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    again = parsed(changed(xml, encoded, "\n" + wrapped + "\n"))
    assert again.attachments[0].content_b64 == encoded
    assert again.attachments[0].content() == content


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (field("CodeNumber", "12"), field("CodeNumber", "74fass22")),  # the SDK's own sample
        (field("CodeNumber", "12"), field("CodeNumber", "12345678901")),  # 11: the limit
        (SUBJECT, field("Subject", "Đ" * 500)),
        (
            field("BussinessDocType", "0"),
            field("DocumentId", "000.00.00.G22,2014/02/30,7806/VPCP")
            + field("BussinessDocType", "0"),
        ),
    ],
    ids=[
        "letters in CodeNumber",
        "CodeNumber of 11",
        "Subject of 500",
        "opaque Bussiness DocumentId",
    ],
)
def test_values_at_the_limits_and_sample_quirks_are_accepted(old: str, new: str) -> None:
    doc = parsed(changed(DOC, old, new))
    assert parse_message(to_xml(doc)) == doc


def test_threads_validating_at_once_each_get_their_own_error() -> None:
    bad = changed(DOC, field("Priority", "0"), field("Priority", "cao")).encode()
    good = DOC.encode()
    failures: list[str] = []

    def check(raw: bytes, expect_error: bool) -> None:
        for _ in range(200):
            try:
                parse_message(raw)
            except SchemaInvalid as exc:
                if not expect_error or "Priority" not in exc.detail:
                    failures.append(exc.detail)
            else:
                if expect_error:
                    failures.append("accepted")

    threads = [
        threading.Thread(target=check, args=(raw, raw is bad)) for raw in (bad, good, bad, good)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
