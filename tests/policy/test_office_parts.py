"""A docx's header and footer parts and an odt's master page are read for stamps, within the
same bounds as the main text; zip bombs are read within those bounds (issue 12)."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from gateway.edxml import Attachment, read_xml
from gateway.policy.attachment_text import MAX_READ_BYTES, first_lines
from gateway.policy.secrecy import SecrecyFinding, detect_secrecy
from gateway.policy.secrecy_view import view_of_tree
from tests.factories import document_bytes
from tests.policy.office_files import deflated_bomb, docx, many_entries, odt, zipped

AGENCY_HEADER = "UBND THÀNH PHỐ HÀ NỘI\nSỞ TÀI CHÍNH"


def finding(name: str, data: bytes) -> SecrecyFinding | None:
    raw = document_bytes(attachments=[Attachment.of("cid:1", name, data)])
    return detect_secrecy(view_of_tree(read_xml(raw)), None)


@pytest.mark.parametrize(
    ("name", "data", "level"),
    [
        ("header.docx", docx(headers=("MẬT",)), "mat"),
        ("second-header.docx", docx(headers=("Sở Tài chính", "TỐI MẬT")), "toi-mat"),
        ("footer.docx", docx(footers=("Tuyệt mật",)), "tuyet-mat"),
        ("header.odt", odt("Kế hoạch", header="MẬT"), "mat"),
        # office:master-styles comes after the style definitions: 100 kB of them
        ("header-after-styles.odt", odt("Kế hoạch", "TỐI MẬT", styles_before=100_000), "toi-mat"),
    ],
)
def test_a_stamp_in_a_header_or_footer_is_caught(name: str, data: bytes, level: str) -> None:
    found = finding(name, data)
    assert found is not None and found.level == level
    assert found.field == f"Attachment[1] ({name.rsplit('.', 1)[1]}, first lines)"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("agency.docx", docx(headers=(AGENCY_HEADER,), footers=("Trang 1/3",))),
        ("policy.docx", docx(headers=("Quy chế bảo mật thông tin",), footers=("MẬT KHẨU: xem",))),
        ("agency.odt", odt("Kế hoạch", header=AGENCY_HEADER)),
    ],
)
def test_an_ordinary_header_is_left_alone(name: str, data: bytes) -> None:
    assert finding(name, data) is None


def test_the_body_still_comes_through_beside_the_headers() -> None:
    text = first_lines("docx", docx(body=("Kế hoạch năm",), headers=(AGENCY_HEADER,)))
    assert "SỞ TÀI CHÍNH" in text and "Kế hoạch năm" in text
    assert text.index("SỞ TÀI CHÍNH") < text.index("Kế hoạch năm")


def test_a_zip_bomb_is_read_within_the_bound_without_inflating_it() -> None:
    # 64 MB of spaces after the stamp-free start, a stamp at the end: never reached
    bomb = deflated_bomb(
        "word/document.xml",
        b"<w:p><w:t>B\xc3\xa1o c\xc3\xa1o</w:t></w:p>",
        64 << 20,
        b"<w:p><w:t>T\xe1\xbb\x90I M\xe1\xba\xacT</w:t></w:p>",
    )
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        text = first_lines("docx", bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert text.strip() == "Báo cáo"
    assert peak < 4 * MAX_READ_BYTES + len(bomb)  # the bound, not the 64 MB


def test_header_bombs_share_one_budget_with_the_body() -> None:
    header = deflated_bomb("word/header1.xml", b"", 16 << 20)
    data = zipped({"word/document.xml": "<w:p><w:t>TỐI MẬT</w:t></w:p>"})
    # the body of a file whose header inflates to 16 MB is still read (after the budget's share
    # that the header may take)
    both = zipped_with(header, "word/document.xml", "<w:p><w:t>TỐI MẬT</w:t></w:p>")
    assert "TỐI MẬT" in first_lines("docx", data)
    assert "TỐI MẬT" in first_lines("docx", both)


def test_only_the_first_header_parts_are_opened() -> None:
    # thousands of parts: the directory is not read at all (a stamp in the body is then not
    # seen either; the stamp rules are a safety net, docs/secrecy.md)
    assert "TỐI MẬT" not in first_lines("docx", many_entries(5000, "TỐI MẬT"))
    # a few more header parts than are opened: the one past the bound is not read
    assert "TỐI MẬT" not in first_lines("docx", many_entries(12, "TỐI MẬT"))
    assert "TỐI MẬT" in first_lines("docx", many_entries(3, "TỐI MẬT"))


def zipped_with(archive: bytes, member: str, content: str) -> bytes:
    buffer = io.BytesIO(archive)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as appended:
        appended.writestr(member, content)
    return buffer.getvalue()
