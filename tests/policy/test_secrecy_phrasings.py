"""The secrecy rules, phrasing by phrasing (issue 4, Measured: "at least 40 phrasings").

Each row is a document (and the raw `Edoc-Secrecy` header) with the expected finding
(level, field, rule), None when the document is not secret, or the error a malformed
declaration gets. The rule table's own EXAMPLES are checked in Subject, as written and
decomposed (NFD); the other rows put phrasings in every field, in real PDFs, in the header and
in the SecrecyLevel element as the parser decodes it from edXML.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from gateway.edxml import Attachment, Document, DocumentType, OtherInfo, parse_message, to_xml
from gateway.errors import BadInput, SchemaInvalid
from gateway.policy.secrecy import detect_secrecy
from gateway.policy.secrecy_rules import EXAMPLES, STAMP_RULES
from tests.factories import document
from tests.policy.pdfs import encrypted, make_pdf

Expected = tuple[str, str, str] | None | type[Exception]

PLAIN_SUBJECT = "V/v báo cáo kết quả chuyển đổi số năm 2025"
PLAIN_CONTENT = "Đề nghị các cơ quan, đơn vị cập nhật và gửi báo cáo trước ngày 15/12/2025."


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def plain(**overrides: Any) -> Document:
    """An ordinary document (no stamp anywhere) with `overrides`."""
    doc = document(
        subject=PLAIN_SUBJECT,
        attachments=[Attachment.of("cid:1", "van-ban.docx", b"PK\x03\x04 docx")],
    )
    doc = dataclasses.replace(
        doc, content=PLAIN_CONTENT, document_type=DocumentType("1", "0", "Công văn")
    )
    return dataclasses.replace(doc, **overrides) if overrides else doc


def with_appendixes(*appendixes: str) -> Document:
    return plain(other_info=OtherInfo(appendixes=appendixes))


def with_attachments(*attachments: Attachment) -> Document:
    return plain(attachments=attachments)


def pdf_attachment(
    *pages: list[str],
    name: str = "van-ban.pdf",
    content_type: str | None = "application/pdf",
    data: bytes | None = None,
) -> Attachment:
    return Attachment.of(
        "cid:pdf", name, make_pdf(*pages) if data is None else data, content_type=content_type
    )


FIRST_PAGE = ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ HÀ NỘI", "Số: 125/UBND-VP"]
SIGNATURE_PAGE = ["Nơi nhận:", "- Như trên;", "- Lưu: VT."]


def with_secrecy_level(element: str) -> Document:
    """A document whose OtherInfo holds `element`, decoded by the real parser."""
    raw = to_xml(plain()).decode()
    assert raw.count("</edXML:OtherInfo>") == 1
    doc = parse_message(raw.replace("</edXML:OtherInfo>", element + "</edXML:OtherInfo>").encode())
    assert isinstance(doc, Document)
    return doc


def edxml_level(text: str) -> Document:
    return with_secrecy_level(f"<edXML:SecrecyLevel>{text}</edXML:SecrecyLevel>")


def other_ns_level(text: str) -> Document:
    return with_secrecy_level(
        f'<s:SecrecyLevel xmlns:s="urn:example:secrecy">{text}</s:SecrecyLevel>'
    )


def row(
    name: str, build: Callable[[], Document], expected: Expected, declared: str | None = None
) -> Any:
    return pytest.param(build, declared, expected, id=name)


SUBJECT, CONTENT, TYPE_NAME = "Subject", "Content", "DocumentType/TypeName"
PDF1 = "Attachment[1] (PDF, page 1)"
HEADER, ELEMENT = "header Edoc-Secrecy", "OtherInfo/SecrecyLevel"
ELEMENT_RULE = "secrecy-level-element"

ROWS = [
    # --- each field -----------------------------------------------------------------------
    row("subject capitals", lambda: plain(subject="MẬT - " + PLAIN_SUBJECT),
        ("mat", SUBJECT, "mat-capitals")),
    row("content lower case", lambda: plain(content="Tài liệu tối mật. " + PLAIN_CONTENT),
        ("toi-mat", CONTENT, "toi-mat")),
    row("content NFD", lambda: plain(content=nfd("TUYỆT MẬT\n" + PLAIN_CONTENT)),
        ("tuyet-mat", CONTENT, "tuyet-mat")),
    row("type name", lambda: plain(document_type=DocumentType("1", "0", "Công văn MẬT")),
        ("mat", TYPE_NAME, "mat-capitals")),
    row("type name, no stamp",
        lambda: plain(document_type=DocumentType("1", "0", "Quy chế bảo mật")), None),
    row("appendix 2", lambda: with_appendixes("Phụ lục I: Danh sách", "Phụ lục II (TỐI MẬT)"),
        ("toi-mat", "Appendix[2]", "toi-mat")),
    row("appendix label", lambda: with_appendixes("Độ mật: Mật"),
        ("mat", "Appendix[1]", "do-mat-label")),
    row("attachment name", lambda: with_attachments(
        Attachment.of("cid:1", "CV_Tối_mật_125.docx", b"PK")),
        ("toi-mat", "Attachment[1]/AttachmentName", "toi-mat")),
    row("attachment name NFD", lambda: with_attachments(
        Attachment.of("cid:1", nfd("MẬT-125.docx"), b"PK")),
        ("mat", "Attachment[1]/AttachmentName", "mat-capitals")),
    row("attachment 2 description", lambda: with_attachments(
        Attachment.of("cid:1", "a.docx", b"PK", description="Dự thảo"),
        Attachment.of("cid:2", "b.docx", b"PK", description="Bản TUYỆT MẬT")),
        ("tuyet-mat", "Attachment[2]/Description", "tuyet-mat")),
    row("attachment description, password", lambda: with_attachments(
        Attachment.of("cid:1", "a.zip", b"PK", description="MẬT KHẨU giải nén gửi sau")),
        None),
    # --- PDF first page -------------------------------------------------------------------
    row("pdf page 1 capitals", lambda: with_attachments(
        pdf_attachment([*FIRST_PAGE, "MẬT", "V/v kiểm tra"], SIGNATURE_PAGE)),
        ("mat", PDF1, "mat-capitals")),
    row("pdf page 1 NFD", lambda: with_attachments(
        pdf_attachment([nfd(line) for line in [*FIRST_PAGE, "TỐI MẬT"]])),
        ("toi-mat", PDF1, "toi-mat")),
    row("pdf page 1 label", lambda: with_attachments(
        pdf_attachment([*FIRST_PAGE, "Độ mật: Tuyệt mật"])),
        ("tuyet-mat", PDF1, "do-mat-label")),
    row("pdf stamp on page 2 only", lambda: with_attachments(
        pdf_attachment(FIRST_PAGE, ["TUYỆT MẬT", *SIGNATURE_PAGE])),
        None),
    row("pdf words with mật", lambda: with_attachments(
        pdf_attachment([*FIRST_PAGE, "V/v BẢO MẬT THÔNG TIN", "đổi mật khẩu, mật mã"])),
        None),
    row("pdf by name only", lambda: with_attachments(
        pdf_attachment([*FIRST_PAGE, "TỐI MẬT"], name="QD.PDF", content_type=None)),
        ("toi-mat", PDF1, "toi-mat")),
    row("pdf by content only", lambda: with_attachments(
        pdf_attachment([*FIRST_PAGE, "TỐI MẬT"], name="vb.bin",
                       content_type="application/octet-stream")),
        ("toi-mat", PDF1, "toi-mat")),
    row("pdf readable without a password", lambda: with_attachments(pdf_attachment(
        data=encrypted(make_pdf([*FIRST_PAGE, "MẬT"]), user_password=""))),
        ("mat", PDF1, "mat-capitals")),
    row("pdf encrypted: not read, no finding", lambda: with_attachments(pdf_attachment(
        data=encrypted(make_pdf([*FIRST_PAGE, "MẬT"]), user_password="secret"))),
        None),
    row("pdf malformed: no finding", lambda: with_attachments(pdf_attachment(
        data=make_pdf([*FIRST_PAGE, "MẬT"])[:200])),
        None),
    row("pdf stamp in the name wins over the page", lambda: with_attachments(
        pdf_attachment([*FIRST_PAGE, "MẬT"], name="TỐI MẬT.pdf")),
        ("toi-mat", "Attachment[1]/AttachmentName", "toi-mat")),
    # --- the header -----------------------------------------------------------------------
    row("header mat", plain, ("mat", HEADER, "header-code"), "mat"),
    row("header toi-mat", plain, ("toi-mat", HEADER, "header-code"), "toi-mat"),
    row("header tuyet-mat", plain, ("tuyet-mat", HEADER, "header-code"), "tuyet-mat"),
    row("header any case", plain, ("toi-mat", HEADER, "header-code"), " TOI-MAT "),
    row("header none", plain, None, "none"),
    row("header None", plain, None, "None"),
    row("header none does not override a stamp", lambda: plain(subject="TỐI MẬT"),
        ("toi-mat", SUBJECT, "toi-mat"), "none"),
    row("header bad value", plain, BadInput, "secret"),
    row("header empty", plain, BadInput, ""),
    row("header Vietnamese name is not a code", plain, BadInput, "Mật"),
    row("header bad value, stamp still reported", lambda: plain(content="MẬT"),
        ("mat", CONTENT, "mat-capitals"), "yes"),
    row("higher stamp beats the header", lambda: plain(content="TUYỆT MẬT"),
        ("tuyet-mat", CONTENT, "tuyet-mat"), "mat"),
    row("header beats a lower stamp", lambda: plain(subject="MẬT"),
        ("toi-mat", HEADER, "header-code"), "toi-mat"),
    # --- the SecrecyLevel element, through the parser ---------------------------------------
    row("element edXML ns", lambda: edxml_level("Mật"), ("mat", ELEMENT, ELEMENT_RULE)),
    row("element other ns", lambda: other_ns_level("Tối mật"), ("toi-mat", ELEMENT, ELEMENT_RULE)),
    row("element no ns code", lambda: with_secrecy_level(
        '<SecrecyLevel xmlns="">tuyet-mat</SecrecyLevel>'),
        ("tuyet-mat", ELEMENT, ELEMENT_RULE)),
    row("element capitals", lambda: edxml_level("TUYỆT MẬT"), ("tuyet-mat", ELEMENT, ELEMENT_RULE)),
    row("element NFD", lambda: other_ns_level(nfd("Tối mật")), ("toi-mat", ELEMENT, ELEMENT_RULE)),
    row("element no diacritics", lambda: edxml_level("Toi_Mat"),
        ("toi-mat", ELEMENT, ELEMENT_RULE)),
    row("element with label", lambda: edxml_level("Độ mật: Mật"), ("mat", ELEMENT, ELEMENT_RULE)),
    row("element odd spaces", lambda: edxml_level("Tuyệt\u00a0\u00a0mật"),
        ("tuyet-mat", ELEMENT, ELEMENT_RULE)),
    row("element English", lambda: edxml_level("Top Secret"), ("tuyet-mat", ELEMENT, ELEMENT_RULE)),
    row("element none", lambda: edxml_level("none"), None),
    row("element thường", lambda: other_ns_level("Thường"), None),
    row("element unreadable", lambda: edxml_level("cấp 2"), SchemaInvalid),
    row("element unreadable, stamp still reported", lambda: dataclasses.replace(
        edxml_level("?"), subject="MẬT"), ("mat", SUBJECT, "mat-capitals")),
    row("element beats the header", lambda: edxml_level("Tuyệt mật"),
        ("tuyet-mat", ELEMENT, ELEMENT_RULE), "mat"),
    # --- odd spaces, words containing mật, order ------------------------------------------
    row("narrow nbsp in content", lambda: plain(content="TỐI\u202fMẬT"),
        ("toi-mat", CONTENT, "toi-mat")),
    row("ideographic space in subject", lambda: plain(subject="Tuyệt\u3000mật"),
        ("tuyet-mat", SUBJECT, "tuyet-mat")),
    row("zero-width space in the word", lambda: plain(subject="M\u200bẬT"),
        ("mat", SUBJECT, "mat-capitals")),
    row("line break inside the stamp", lambda: plain(content="Độ mật:\r\n\tTối\nmật"),
        ("toi-mat", CONTENT, "do-mat-label")),
    row("bảo mật everywhere", lambda: plain(
        subject="V/V BẢO MẬT THÔNG TIN", content="bí mật nhà nước; mật khẩu; mật ong; mật thiết",
        document_type=DocumentType("1", "0", "QUY CHẾ BẢO VỆ BÍ MẬT NHÀ NƯỚC")), None),
    row("NFD words with mật",
        lambda: plain(content=nfd("BẢO MẬT, BÍ MẬT, MẬT KHẨU, MẬT MÃ")), None),
    row("highest level wins", lambda: plain(
        subject="MẬT", content="TỐI MẬT", other_info=OtherInfo(appendixes=("TUYỆT MẬT",))),
        ("tuyet-mat", "Appendix[1]", "tuyet-mat")),
    row("first field among equals", lambda: plain(
        subject="Tối mật", content="TỐI MẬT", document_type=DocumentType("1", "0", "TỐI MẬT")),
        ("toi-mat", SUBJECT, "toi-mat")),
    row("text fields come before PDFs", lambda: with_attachments(
        pdf_attachment([*FIRST_PAGE, "MẬT"]), Attachment.of("cid:2", "MẬT.docx", b"PK")),
        ("mat", "Attachment[2]/AttachmentName", "mat-capitals")),
    row("a document without anything", plain, None),
]  # fmt: skip


@pytest.mark.parametrize(("build", "declared", "expected"), ROWS)
def test_phrasing(build: Callable[[], Document], declared: str | None, expected: Expected) -> None:
    doc = build()
    if isinstance(expected, type):
        with pytest.raises(expected):
            detect_secrecy(doc, declared)
        return
    finding = detect_secrecy(doc, declared)
    got = None if finding is None else (finding.level, finding.field, finding.rule)
    assert got == expected


@pytest.mark.parametrize(
    ("text", "level", "rule"),
    [pytest.param(e.text, e.level, e.rule, id=f"{e.text!r} ({e.why})") for e in EXAMPLES],
)
@pytest.mark.parametrize("form", ["as written", "NFD"])
def test_rule_table_example_in_subject(
    text: str, level: str | None, rule: str | None, form: str
) -> None:
    subject = nfd(text) if form == "NFD" else text
    finding = detect_secrecy(plain(subject=subject), None)
    got = None if finding is None else (finding.level, finding.field, finding.rule)
    assert got == (None if level is None else (level, SUBJECT, rule))


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.level is not None], ids=lambda e: repr(e.text)
)
def test_rule_table_example_amid_a_long_content(example: Any) -> None:
    """A stamp is found wherever it stands in a long text (the matcher works on windows)."""
    filler = (PLAIN_CONTENT + " Luật số 29/2018; cập nhật, tiếp nhận. ") * 40
    content = f"{filler}\n{example.text}\n{filler}"
    finding = detect_secrecy(plain(content=content), None)
    assert finding is not None
    assert (finding.level, finding.field, finding.rule) == (example.level, CONTENT, example.rule)


def test_the_tables_are_sound() -> None:
    assert len(ROWS) >= 40
    assert len({p.id for p in ROWS}) == len(ROWS)
    # every rule has examples of its own, and some examples are no stamp
    assert {e.rule for e in EXAMPLES} == {rule.id for rule in STAMP_RULES} | {None}
