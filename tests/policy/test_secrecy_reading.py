"""The guard reads what a reader reads (issue 12): the whole text of every field, every
declaration, from the tree before the schema; the first lines of text-like attachments; PDFs
past the first kB or without startxref. Both ways: caught, and ordinary text left alone."""

from __future__ import annotations

import io
import os
import re
import zipfile
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.edxml import Attachment, read_xml
from gateway.errors import SchemaInvalid, SecretDocument
from gateway.intake.submission import Submission
from gateway.policy.secrecy import (
    SecrecyFinding,
    SecrecyGuard,
    detect_secrecy,
    has_bulky_text_attachment,
)
from gateway.policy.secrecy_view import view_of_tree
from tests.edxml.producers import in_other_info, sdk_style, with_element
from tests.factories import document_bytes
from tests.policy.pdfs import make_pdf


def finding(raw: bytes, declared: str | None = None) -> SecrecyFinding | None:
    return detect_secrecy(view_of_tree(read_xml(raw)), declared)


def level_of(raw: bytes, declared: str | None = None) -> str | None:
    found = finding(raw, declared)
    return None if found is None else found.level


@pytest.mark.parametrize(
    ("field", "inner"),
    [
        ("Subject", "V/v phương án<!-- --> - MẬT - kế hoạch"),
        ("Subject", "V/v phương án<?x?> - MẬT - kế hoạch"),
        ("Subject", "<!-- trich yeu -->TỐI MẬT - V/v phương án"),
        ("Content", "Nội dung<!-- -->\nTUYỆT MẬT"),
        ("Subject", "V/v phương án<![CDATA[ - MẬT]]>"),
    ],
)
def test_a_comment_or_pi_hides_nothing_from_the_guard(field: str, inner: str) -> None:
    assert level_of(with_element(document_bytes(), field, inner)) is not None


@pytest.mark.parametrize(
    ("markup", "level"),
    [
        ("<edXML:SecrecyLevel><!---->mat</edXML:SecrecyLevel>", "mat"),
        (
            "<edXML:SecrecyLevel>none</edXML:SecrecyLevel>"
            "<edXML:SecrecyLevel>Tuyệt mật</edXML:SecrecyLevel>",
            "tuyet-mat",
        ),
        ("<edXML:Secret>Mật</edXML:Secret>", "mat"),
        ("<edXML:Secret>1</edXML:Secret>", "mat"),
        ('<s:Secret xmlns:s="urn:legacy">Tối mật</s:Secret>', "toi-mat"),
        ("<edXML:SecrecyLevel>Thường</edXML:SecrecyLevel>", None),
        ("<edXML:Secret>0</edXML:Secret>", None),
    ],
)
def test_every_declaring_element_is_heard(markup: str, level: str | None) -> None:
    assert level_of(in_other_info(document_bytes(), markup)) == level


def test_a_declaration_anywhere_in_the_header_is_heard() -> None:
    raw = with_element(document_bytes(), "Subject", "V/v họp")
    raw = raw.replace(
        b"</edXML:MessageHeader>",
        b"<edXML:SecrecyLevel>toi-mat</edXML:SecrecyLevel></edXML:MessageHeader>",
        1,
    )
    found = finding(raw)
    assert found is not None and (found.level, found.field) == (
        "toi-mat",
        "MessageHeader/SecrecyLevel",
    )


def test_sdk_attributes_beside_a_secrecy_level_are_read() -> None:
    raw = sdk_style(in_other_info(document_bytes(), "<edXML:SecrecyLevel>mat</edXML:SecrecyLevel>"))
    assert level_of(raw) == "mat"


def test_contradictory_header_values_are_secret() -> None:
    assert level_of(document_bytes(), "none,tuyet-mat") == "tuyet-mat"
    assert level_of(document_bytes(), "none") is None


def test_an_unreadable_level_alone_is_a_400_not_echoed() -> None:
    raw = in_other_info(document_bytes(), "<edXML:SecrecyLevel>PLANTED-x</edXML:SecrecyLevel>")
    with pytest.raises(SchemaInvalid) as refused:
        finding(raw)
    assert "PLANTED" not in refused.value.detail
    # beside a secret declaration it is secret
    assert level_of(raw, "mat") == "mat"


# --- attachments ------------------------------------------------------------------------------


def zipped(member: str, markup: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/octet-stream")
        archive.writestr(member, markup)
    return buffer.getvalue()


def docx(*paragraphs: str) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return zipped(
        "word/document.xml",
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>",
    )


def odt(*paragraphs: str) -> bytes:
    body = "".join(f"<text:p>{p}</text:p>" for p in paragraphs)
    return zipped(
        "content.xml",
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f"<office:body><office:text>{body}</office:text></office:body></office:document-content>",
    )


def rtf(*lines: str) -> bytes:
    def escape(text: str) -> str:
        return "".join(
            ch if ord(ch) < 128 else f"\\u{ord(ch) if ord(ch) < 32768 else ord(ch) - 65536}?"
            for ch in text
        )

    return ("{\\rtf1\\ansi\\ansicpg1258 " + "\\par ".join(map(escape, lines)) + "}").encode()


def files(first: str, second: str) -> dict[str, bytes]:
    return {
        "thong-bao.txt": f"{first}\n{second}\n".encode(),
        "du-lieu.xml": f"<doc><stamp>{first}</stamp><title>{second}</title></doc>".encode(),
        "trang.html": f"<html><body><p>{first}</p><h1>{second}</h1></body></html>".encode(),
        "van-ban.docx": docx(first, second),
        "van-ban.odt": odt(first, second),
        "van-ban.rtf": rtf(first, second),
    }


STAMPED = files("TỐI MẬT", "KẾ HOẠCH phòng chống thiên tai")
ORDINARY = files("Quy chế bảo mật thông tin", "Đổi MẬT KHẨU định kỳ; mật độ dân số")


def with_file(name: str, data: bytes) -> bytes:
    return document_bytes(attachments=[Attachment.of("cid:1", name, data)])


@pytest.mark.parametrize("name", list(STAMPED))
def test_a_stamp_on_the_first_lines_of_a_text_attachment_is_caught(name: str) -> None:
    found = finding(with_file(name, STAMPED[name]))
    assert found is not None
    assert found.level == "toi-mat"
    assert found.field.startswith("Attachment[1] (") and found.field.endswith("first lines)")


@pytest.mark.parametrize("name", list(ORDINARY))
def test_ordinary_text_attachments_are_left_alone(name: str) -> None:
    assert finding(with_file(name, ORDINARY[name])) is None


def test_only_the_first_lines_are_read() -> None:
    far = ("Nội dung thường. " * 400 + "\nTỐI MẬT\n").encode()
    assert finding(with_file("dai.txt", far)) is None


def test_a_broken_docx_is_no_finding_and_no_error() -> None:
    assert finding(with_file("hong.docx", b"PK\x03\x04 not a zip")) is None


def test_a_pdf_with_more_than_a_kb_before_its_header_is_read() -> None:
    pdf = b"\x00" * 4096 + make_pdf(["TUYỆT MẬT", "Kế hoạch"])
    found = finding(with_file("a.pdf", pdf))
    assert found is not None and (found.level, found.field) == (
        "tuyet-mat",
        "Attachment[1] (PDF, page 1)",
    )


def test_a_pdf_without_startxref_is_read() -> None:
    pdf = re.sub(rb"startxref\s*\d+\s*%%EOF\s*$", b"", make_pdf(["MẬT", "Báo cáo"]))
    found = finding(with_file("b.pdf", pdf))
    assert found is not None and found.level == "mat"


def test_an_ordinary_pdf_is_left_alone() -> None:
    pdf = b"\x00" * 4096 + make_pdf(["Quy chế bảo mật", "Kế hoạch"])
    assert finding(with_file("c.pdf", pdf)) is None


async def test_a_large_docx_is_read_off_the_loop_and_its_stamp_caught() -> None:
    big = zipped("word/document.xml", "<w:p>TUYỆT MẬT</w:p>")
    padding = zipfile.ZipInfo("word/media/image1.bin")
    buffer = io.BytesIO(big)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(padding, os.urandom(100_000))  # random: stays large in the zip
    raw = with_file("lon.docx", buffer.getvalue())
    root = read_xml(raw)
    assert has_bulky_text_attachment(view_of_tree(root))
    caller: Any = SimpleNamespace(id="000.00.00.H26")
    sub = Submission(raw=raw, caller=caller, received_at=0.0, root=root)
    with pytest.raises(SecretDocument) as refused:
        await SecrecyGuard()(sub)
    assert refused.value.extensions["field"] == "Attachment[1] (docx, first lines)"
    assert sub.secrecy_view is not None and sub.secrecy_view.recipients
