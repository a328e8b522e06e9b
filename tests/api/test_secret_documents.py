"""Through POST /v1/documents, as department systems and an attacker would send (issue 12):
secret → 422 secret_document, counted once per recipient, nothing of its text kept or logged;
ordinary (and real producers' quirks) → 202 and byte-identical at the recipient."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from multidict import CIMultiDict

from gateway.edxml import Attachment
from tests.conftest import Net
from tests.edxml.producers import edit, in_other_info, iso_dates, sdk_style, with_element
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, HOME_AFFAIRS, bearer
from tests.policy.office_files import docx
from tests.policy.pdfs import make_pdf

MARKER = "PLANTED-5e0d-secret-text"
RECIPIENTS = (CITY.id, HOME_AFFAIRS.id)


def raw_doc(**kw: Any) -> bytes:
    kw.setdefault("content", f"{MARKER} nội dung")
    return document_bytes(sender=FINANCE.id, recipients=RECIPIENTS, **kw)


def subject(text: str) -> Callable[[], bytes]:
    return lambda: raw_doc(subject=text)


def attached(name: str, data: bytes) -> Callable[[], bytes]:
    return lambda: raw_doc(attachments=[Attachment.of("cid:1", name, data)])


def schema_broken_secret() -> bytes:
    raw = in_other_info(
        raw_doc(), f"<edXML:Secret>Mật</edXML:Secret><edXML:Bogus>{MARKER}</edXML:Bogus>"
    )
    return edit(raw, "<edXML:Subject>", f"<edXML:Subject2>{MARKER}</edXML:Subject2><edXML:Subject>")


SECRET: dict[str, Callable[[], bytes]] = {
    "comment in Subject": lambda: with_element(
        raw_doc(), "Subject", f"V/v phương án<!-- --> - MẬT - {MARKER}"
    ),
    "PI in Subject": lambda: with_element(
        raw_doc(), "Subject", f"V/v phương án<?x?> - MẬT - {MARKER}"
    ),
    "comment in Content": lambda: with_element(
        raw_doc(), "Content", f"{MARKER}<!-- -->\nTUYỆT MẬT"
    ),
    "comment in SecrecyLevel": lambda: in_other_info(
        raw_doc(), "<edXML:SecrecyLevel><!---->mat</edXML:SecrecyLevel>"
    ),
    "two SecrecyLevel": lambda: in_other_info(
        raw_doc(),
        "<edXML:SecrecyLevel>none</edXML:SecrecyLevel>"
        "<edXML:SecrecyLevel>Tuyệt mật</edXML:SecrecyLevel>",
    ),
    "spaced M Ậ T": subject("M Ậ T - V/v phương án"),
    "dotted M.Ậ.T": subject("M.Ậ.T - V/v phương án"),
    "Tối/mật": subject("Tối/mật - V/v phương án"),
    "fullwidth": subject("\uff2d\u1eac\uff34 - V/v phương án"),
    "Cyrillic": subject("\u041c\u1eac\u0422 - V/v phương án"),
    "Greek": subject("TỐ\u0399 \u039c\u1eac\u03a4 - V/v phương án"),
    "extra accent": subject("M\u1eac\u0301T - V/v phương án"),
    "text attachment": attached("to-trinh.txt", f"TỐI MẬT\n{MARKER}\n".encode()),
    "PDF after 4 kB": attached("a.pdf", b"\x00" * 4096 + make_pdf(["TUYỆT MẬT", MARKER])),
    "PDF without startxref": attached(
        "b.pdf", re.sub(rb"startxref\s*\d+\s*%%EOF\s*$", b"", make_pdf(["MẬT", MARKER]))
    ),
    "PDF without trailer nor /Root": attached(
        "c.pdf", re.sub(rb"\nxref\n.*$", b"\n", make_pdf(["TỐI MẬT", MARKER]), flags=re.S)
    ),
    "secret and schema-broken": schema_broken_secret,
    "legacy Secret 1": lambda: in_other_info(raw_doc(), "<edXML:Secret>1</edXML:Secret>"),
    "docx header": attached("to-trinh.docx", docx(headers=("MẬT",))),
}

ORDINARY: dict[str, Callable[[], bytes]] = {
    "a guide that names a level": subject("Hướng dẫn phân loại tài liệu tối mật theo Luật 29/2018"),
    "levels listed": subject("Hướng dẫn xác định độ mật: tối mật, tuyệt mật"),
    "a place name": subject("Báo cáo của UBND XÃ MẬT SƠN"),
    "SDK attributes and DigitalSignature": lambda: sdk_style(raw_doc()),
    "ISO date-times": lambda: iso_dates(
        raw_doc(), "2019-01-15T17:00:00.000Z", "2018-09-28T00:00:00"
    ),
    "a comment before the Subject": lambda: with_element(
        raw_doc(), "Subject", "<!-- trich yeu -->V/v họp"
    ),
    "ordinary text attachment": attached("ghi-chu.txt", "Quy chế bảo mật; đổi MẬT KHẨU".encode()),
    # legacy systems flag secrecy with <Secret>; a flag that says "not secret" is no error
    "legacy Secret 0": lambda: in_other_info(raw_doc(), "<edXML:Secret>0</edXML:Secret>"),
    "legacy Secret false": lambda: in_other_info(raw_doc(), "<edXML:Secret>false</edXML:Secret>"),
    "legacy Secret empty": lambda: in_other_info(raw_doc(), "<edXML:Secret/>"),
    "the agency's name in a docx header": attached(
        "to-trinh.docx", docx(headers=("UBND THÀNH PHỐ HÀ NỘI\nSỞ TÀI CHÍNH",))
    ),
}


async def audit_events(net: Net) -> list[dict[str, Any]]:
    response = await net.ops.get(
        "/v1/audit/events", params={"limit": "1000"}, headers=bearer(AUDITOR_TOKEN)
    )
    assert response.status == 200
    events: list[dict[str, Any]] = (await response.json())["events"]
    return events


def files_containing(folder: Path, needle: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.parametrize("case", list(SECRET))
async def test_a_secret_document_is_refused_counted_and_leaves_no_trace(
    net: Net, tmp_path: Path, case: str
) -> None:
    raw = SECRET[case]()
    with structlog.testing.capture_logs() as logs:
        status, problem = await net[FINANCE.id].submit(raw)
    assert (status, problem["code"]) == (422, "secret_document"), problem
    assert MARKER not in json.dumps(problem, ensure_ascii=False)
    events = await audit_events(net)
    excluded = [e for e in events if e["event"] == "secret_excluded"]
    assert sorted(e["recipient"] for e in excluded) == sorted(RECIPIENTS)  # once per recipient
    assert MARKER not in json.dumps(events, ensure_ascii=False)
    assert MARKER not in json.dumps(logs, ensure_ascii=False, default=str)
    assert files_containing(tmp_path / "data", MARKER.encode()) == []
    for recipient in RECIPIENTS:
        assert await net[recipient].inbox_all() == []


async def test_a_resent_secret_is_refused_again_and_counted_once(net: Net) -> None:
    raw = SECRET["comment in Subject"]()
    for _ in range(2):
        status, _problem = await net[FINANCE.id].submit(raw)
        assert status == 422
    response = await net.ops.get(
        "/v1/stats/exchanges", params={"by": "agency"}, headers=bearer(AUDITOR_TOKEN)
    )
    rows = {row["agency"]: row for row in await response.json()}
    assert rows[FINANCE.id]["secret_excluded"] == 2  # one document, two recipients


async def test_two_secrecy_headers_the_first_harmless_are_secret(net: Net) -> None:
    headers = CIMultiDict(
        [
            *bearer(FINANCE.token).items(),
            ("Content-Type", "application/xml"),
            ("Edoc-Secrecy", "none"),
            ("Edoc-Secrecy", "tuyet-mat"),
        ]
    )
    response = await net.client.post("/v1/documents", data=raw_doc(), headers=headers)
    problem = await response.json()
    assert (response.status, problem["code"], problem["level"]) == (
        422,
        "secret_document",
        "tuyet-mat",
    )


async def test_utf8_bytes_declared_latin1_are_refused_not_delivered(net: Net) -> None:
    raw = raw_doc(subject="TUYỆT MẬT").replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1)
    status, problem = await net[FINANCE.id].submit(raw)
    assert (status, problem["code"]) == (400, "malformed_xml")
    assert "send UTF-8" in problem["detail"]
    assert await net[CITY.id].inbox_all() == []


@pytest.mark.parametrize("case", list(ORDINARY))
async def test_an_ordinary_document_is_accepted_and_delivered_byte_identical(
    net: Net, case: str
) -> None:
    raw = ORDINARY[case]()
    status, receipt = await net[FINANCE.id].submit(raw)
    assert status == 202, receipt
    for recipient in RECIPIENTS:
        (item,) = await net[recipient].inbox_all()
        fetched_status, body = await net[recipient].fetch(item["delivery_id"])
        assert (fetched_status, body) == (200, raw)
    assert not [e for e in await audit_events(net) if e["event"] == "secret_excluded"]


async def test_a_document_to_itself_is_refused_and_never_counted(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(FINANCE.id,))
    status, problem = await net[FINANCE.id].submit(raw)
    assert (status, problem["code"]) == (404, "unknown_recipient")
    assert "itself" in problem["detail"] and problem["unknown"] == [FINANCE.id]
    secret = document_bytes(sender=FINANCE.id, recipients=(FINANCE.id, CITY.id), subject="MẬT")
    status, problem = await net[FINANCE.id].submit(secret)
    assert (status, problem["code"]) == (422, "secret_document")
    events = await audit_events(net)
    assert [e["recipient"] for e in events if e["event"] == "secret_excluded"] == [CITY.id]
    assert not [e for e in events if e["event"] not in ("refused", "secret_excluded")]


async def test_a_two_megabyte_field_is_quoted_in_120_characters(net: Net) -> None:
    raw = with_element(raw_doc(), "Priority", "9" * 2_000_000)
    with structlog.testing.capture_logs() as logs:
        status, problem = await net[FINANCE.id].submit(raw)
    assert (status, problem["code"]) == (400, "schema_invalid")
    assert "9" * 121 not in problem["detail"] and "9" * 100 in problem["detail"]
    assert len(problem["detail"]) <= 1001
    assert all(len(json.dumps(event, default=str)) < 2000 for event in logs)
    events = await audit_events(net)
    assert all(len(json.dumps(event)) < 2000 for event in events)
