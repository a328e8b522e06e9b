"""The secrecy guard as an intake step: what it raises, what it says, what it never keeps."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.edxml import Attachment, Document, OtherInfo
from gateway.errors import BadInput, SchemaInvalid, SecretDocument
from gateway.intake.pipeline import Step
from gateway.intake.submission import Submission
from gateway.policy.secrecy import (
    SecrecyFinding,
    SecrecyGuard,
    detect_secrecy,
    parse_declared_secrecy,
    parse_secrecy_level,
)
from tests.factories import document
from tests.policy.pdfs import encrypted, make_pdf

MARKER = "PLANTED-7c1f-body"  # stands in every secret body: must never come back out


def submission(doc: Document, declared: str | None = None) -> Submission:
    caller: Any = SimpleNamespace(id=doc.sender.organ_id)
    return Submission(
        raw=b"<edXML/>", caller=caller, received_at=0.0, declared_secrecy=declared, message=doc
    )


def secret_everywhere(field: str) -> Document:
    """The marker in every field, and the stamp TỐI MẬT, next to the marker, in `field`."""
    stamp = f"{MARKER} TỐI MẬT {MARKER}"

    def text(name: str) -> str:
        return stamp if name == field else f"V/v {MARKER} kiểm tra"

    pdf_lines = ["ỦY BAN NHÂN DÂN", MARKER, *([stamp] if field == "pdf" else [])]
    attachments = (
        Attachment.of(
            "cid:1", text("name") + ".docx", MARKER.encode(), description=text("description")
        ),
        Attachment.of("cid:2", "van-ban.pdf", make_pdf(pdf_lines), content_type="application/pdf"),
    )
    return dataclasses.replace(
        document(subject=text("subject")),
        content=text("content"),
        other_info=OtherInfo(appendixes=(text("appendix"),)),
        attachments=attachments,
    )


FIELDS = {
    "subject": "Subject",
    "content": "Content",
    "appendix": "Appendix[1]",
    "name": "Attachment[1]/AttachmentName",
    "description": "Attachment[1]/Description",
    "pdf": "Attachment[2] (PDF, page 1)",
}


@pytest.mark.parametrize("where", list(FIELDS))
async def test_a_secret_document_is_refused_naming_field_and_rule(where: str) -> None:
    guard: Step = SecrecyGuard()
    with pytest.raises(SecretDocument) as caught:
        await guard(submission(secret_everywhere(where)))
    error = caught.value
    assert (error.status, error.code) == (422, "secret_document")
    assert error.extensions == {"level": "toi-mat", "field": FIELDS[where], "rule": "toi-mat"}
    problem = error.problem()
    assert problem["type"] == "urn:edocgw:error:secret_document"
    assert (problem["level"], problem["field"], problem["rule"]) == (
        "toi-mat",
        FIELDS[where],
        "toi-mat",
    )
    assert FIELDS[where] in error.detail
    assert "rule toi-mat" in error.detail
    assert "“TỐI MẬT”" in error.detail


@pytest.mark.parametrize("where", list(FIELDS))
async def test_nothing_of_the_document_but_the_marking_comes_back(where: str) -> None:
    with pytest.raises(SecretDocument) as caught:
        await SecrecyGuard()(submission(secret_everywhere(where)))
    error = caught.value
    said = error.detail + str(error) + repr(error) + json.dumps(error.problem(), ensure_ascii=False)
    assert MARKER not in said
    assert "kiểm tra" not in said and "ỦY BAN" not in said


async def test_the_guard_logs_nothing(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    # a wrong startxref offset: the reader repairs the file, and would log warnings about it
    broken = re.sub(
        rb"startxref\n(\d+)",
        lambda m: b"startxref\n" + str(int(m[1]) + 7).encode(),
        make_pdf([MARKER, "TỐI MẬT"]),
    )
    docs = [
        secret_everywhere("pdf"),
        document(
            subject=MARKER,
            attachments=[Attachment.of("cid:1", "a.pdf", broken, content_type="application/pdf")],
        ),
        document(subject=MARKER, attachments=[Attachment.of("cid:1", "b.pdf", broken[:300])]),
    ]
    refused = 0
    for doc in docs:
        try:
            await SecrecyGuard()(submission(doc, "none"))
        except SecretDocument:
            refused += 1
    assert refused == 2  # the repaired PDF was read
    assert caplog.records == []
    out, err = capsys.readouterr()
    assert (out, err) == ("", "")


async def test_an_ordinary_document_passes() -> None:
    sub = submission(document(subject="V/v bảo mật thông tin, đổi MẬT KHẨU"), "none")
    before = dataclasses.replace(sub)
    await SecrecyGuard()(sub)  # no refusal
    await SecrecyGuard()(submission(document()))
    assert sub == before  # the guard keeps nothing on the submission


async def test_a_declared_header_is_refused_before_reading_any_pdf() -> None:
    problems: list[tuple[str, str]] = []
    doc = document(attachments=[Attachment.of("cid:1", "a.pdf", b"%PDF-1.7 broken")])
    with pytest.raises(SecretDocument) as caught:
        await SecrecyGuard(on_pdf_problem=lambda *p: problems.append(p))(
            submission(doc, "Tuyet-Mat")
        )
    assert caught.value.extensions == {
        "level": "tuyet-mat",
        "field": "header Edoc-Secrecy",
        "rule": "header-code",
    }
    assert "The request header Edoc-Secrecy declares the document Tuyệt mật" in (
        caught.value.detail
    )
    assert problems == []  # the highest level was known: no PDF was read


async def test_unread_pdfs_are_reported_to_the_hook_without_text() -> None:
    problems: list[tuple[str, str]] = []
    locked = encrypted(make_pdf([MARKER, "TỐI MẬT"]), user_password="pw")
    doc = document(
        attachments=[
            Attachment.of("cid:1", "a.pdf", locked, content_type="application/pdf"),
            Attachment.of("cid:2", "scan.pdf", make_pdf([]), content_type="application/pdf"),
            Attachment.of("cid:3", "fake.pdf", b"not a pdf", content_type="application/pdf"),
            # cut inside its catalog (cut after it, the catalog is found: "no page 1")
            Attachment.of("cid:4", "b.pdf", make_pdf([MARKER])[:40]),
            Attachment.of("cid:5", "c.pdf", make_pdf(["TỐI MẬT"], padding=300_000)),
        ]
    )
    await SecrecyGuard(on_pdf_problem=lambda *p: problems.append(p))(submission(doc))  # no refusal
    assert problems[:3] == [
        ("Attachment[1] (PDF, page 1)", "encrypted with a password"),
        ("Attachment[2] (PDF, page 1)", "no text on page 1 (a scan?)"),
        ("Attachment[3] (PDF, page 1)", "no %PDF- header: not a PDF"),
    ]
    assert len(problems) == 5
    assert problems[3][0] == "Attachment[4] (PDF, page 1)"
    assert problems[3][1].startswith("unreadable (")  # the reader's exception type only
    assert problems[4] == ("Attachment[5] (PDF, page 1)", "page 1 holds over 256 kB of content")
    assert all(MARKER not in problem for _, problem in problems)


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (None, None),
        ("none", None),
        ("NONE", None),
        ("mat", "mat"),
        ("Mat", "mat"),
        ("toi-mat", "toi-mat"),
        (" TOI-MAT ", "toi-mat"),
        ("tuyet-mat", "tuyet-mat"),
        ("TUYET-MAT", "tuyet-mat"),
    ],
)
def test_header_values(value: str | None, level: str | None) -> None:
    assert parse_declared_secrecy(value) == level


@pytest.mark.parametrize(
    "value", ["", " ", "secret", "1", "toi mat", "toi_mat", "tuyetmat", "Mật", "none,bogus"]
)
async def test_a_malformed_header_is_bad_input_naming_the_allowed_values(value: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_declared_secrecy(value)
    error = caught.value
    assert error.status == 400
    assert "none, mat, toi-mat, tuyet-mat" in error.detail
    assert error.extensions == {
        "header": "Edoc-Secrecy",
        "allowed": ["none", "mat", "toi-mat", "tuyet-mat"],
    }
    with pytest.raises(BadInput):
        await SecrecyGuard()(submission(document(), value))


@pytest.mark.parametrize(
    ("declared", "level"),
    [("none,tuyet-mat", "tuyet-mat"), ("mat,toi-mat", "toi-mat"), ("bogus, mat", "mat")],
)
async def test_every_header_value_is_heard_and_the_highest_wins(declared: str, level: str) -> None:
    # several Edoc-Secrecy headers arrive joined by commas; a harmless first one hides nothing
    with pytest.raises(SecretDocument) as caught:
        await SecrecyGuard()(submission(document(), declared))
    assert caught.value.extensions["level"] == level


def test_an_unreadable_secrecy_level_is_not_echoed() -> None:
    with pytest.raises(SchemaInvalid) as caught:
        parse_secrecy_level(f"{MARKER} cấp 2")
    assert caught.value.status == 400
    assert MARKER not in caught.value.detail
    assert "OtherInfo/SecrecyLevel" in caught.value.detail
    assert caught.value.extensions == {"field": "OtherInfo/SecrecyLevel"}


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("Mật", "mat"),
        ("MẬT", "mat"),
        ("mat", "mat"),
        ("Tối mật", "toi-mat"),
        ("TOI-MAT", "toi-mat"),
        ("Độ mật: Tuyệt mật", "tuyet-mat"),
        ("Confidential", "mat"),
        ("Không", None),
        ("thuong", None),
        ("0", None),
        ("  ", None),
        (None, None),
    ],
)
def test_secrecy_level_values(value: str | None, level: str | None) -> None:
    assert parse_secrecy_level(value) == level


def test_a_finding_says_field_rule_and_level() -> None:
    finding = detect_secrecy(document(subject="Tài liệu TUYỆT MẬT"), None)
    assert finding == SecrecyFinding("tuyet-mat", "Subject", "tuyet-mat", "TUYỆT MẬT")
    assert finding.detail().startswith(
        "Subject carries the secrecy stamp “TUYỆT MẬT”, so the document is Tuyệt mật "
        "(tuyet-mat; rule tuyet-mat: “TUYỆT MẬT” in capitals, or in any case where a stamp "
        "stands; not after “độ” (a degree), not in a list of levels)."
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.level = "mat"  # type: ignore[misc]
