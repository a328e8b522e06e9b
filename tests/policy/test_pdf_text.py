"""The first page of a PDF attachment, as the secrecy guard reads it."""

from __future__ import annotations

import re
import unicodedata

import pytest

from gateway.policy import pdf_text
from gateway.policy.pdf_text import first_page_text, has_pdf_header, is_pdf
from tests.policy.pdfs import make_pdf


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("a.pdf", None, True),
        ("A.PDF ", "application/octet-stream", True),
        ("a.bin", "application/pdf", True),
        ("a.bin", "Application/X-PDF", True),
        ("a.docx", "application/msword", False),
        (None, None, False),
    ],
)
def test_what_says_pdf(name: str | None, content_type: str | None, expected: bool) -> None:
    assert is_pdf(name, content_type) is expected


def test_the_header_may_stand_anywhere_in_the_first_64_kb() -> None:
    assert has_pdf_header(b"%PDF-1.7\n")
    assert has_pdf_header(b"\0" * 1000 + b"%PDF-1.4")
    assert has_pdf_header(b"\0" * 1100 + b"%PDF-1.4")  # issue 12: past the first kB too
    assert not has_pdf_header(b"\0" * (65 * 1024) + b"%PDF-1.4")


def test_more_than_a_kb_before_the_header_and_no_startxref_are_read_as_viewers_do() -> None:
    pdf = make_pdf(["TỐI MẬT", "Kế hoạch"])
    assert first_page_text(b"x" * 2000 + pdf).text.split()[:2] == ["TỐI", "MẬT"]
    no_startxref = re.sub(rb"startxref\s*\d+\s*%%EOF\s*$", b"", pdf)
    assert b"startxref" not in no_startxref
    assert first_page_text(no_startxref).text.split()[:2] == ["TỐI", "MẬT"]


def without_trailer(pdf: bytes) -> bytes:
    """`pdf` cut after its last object: no xref table, no trailer (so no /Root), no startxref."""
    cut = re.sub(rb"\nxref\n.*$", b"\n", pdf, flags=re.S)
    assert b"trailer" not in cut and b"/Root" not in cut and b"startxref" not in cut
    return cut


def test_no_trailer_nor_root_is_read_by_finding_the_catalog_as_viewers_do() -> None:
    read = first_page_text(without_trailer(make_pdf(["TUYỆT MẬT", "Kế hoạch"])))
    assert read.problem is None and read.text.split()[:2] == ["TUYỆT", "MẬT"]


def test_no_trailer_and_no_catalog_is_unread_not_an_error() -> None:
    pdf = without_trailer(make_pdf(["TUYỆT MẬT"])).replace(b"/Type /Catalog ", b"")
    read = first_page_text(pdf)
    assert (read.text, read.problem) == ("", "unreadable (PdfReadError)")


def test_page_1_only_and_decomposed_text_as_the_file_has_it() -> None:
    decomposed = unicodedata.normalize("NFD", "TỐI MẬT")
    read = first_page_text(make_pdf(["Trang 1", decomposed], ["Trang 2"]))
    assert read.problem is None
    assert read.text.split() == ["Trang", "1", *decomposed.split()]


def test_page_1_of_a_long_file_without_walking_the_page_tree() -> None:
    pages = [[f"Trang {n}"] for n in range(1, 1501)]
    assert first_page_text(make_pdf(*pages)).text.strip() == "Trang 1"


def test_resources_inherited_from_the_page_tree() -> None:
    pdf = make_pdf(["Độ mật: Mật"], ["Trang 2"], compress=False)
    pdf = pdf.replace(b"/Resources << /Font << /F1 3 0 R >> >> ", b"")
    pdf = pdf.replace(
        b"/Type /Pages /Kids", b"/Type /Pages /Resources << /Font << /F1 3 0 R >> >> /Kids"
    )
    assert first_page_text(pdf).text.strip() == "Độ mật: Mật"


def test_a_page_that_takes_too_long_is_left_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_text, "MAX_READ_SECONDS", 0.0)
    read = first_page_text(make_pdf(["MẬT"] * 300))
    assert (read.text, read.problem) == ("", "page 1 took over 0.0 s to read")
