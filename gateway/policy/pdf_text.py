"""The text of a PDF attachment's first page, for the secrecy guard (pypdf).

Failure policy, a conscious decision: a PDF whose first page cannot be read is *not* a
finding. The reasons (`PdfText.problem`) are: no `%PDF-` header in the first 64 kB, larger than
MAX_PDF_BYTES, encrypted with a user password (one with only an owner password, which merely
restricts printing or copying, is opened with the empty password and read), malformed (any
exception of the reader; a file with neither a trailer nor /Root is read when an object of
/Type /Catalog is found, as viewers do), over one of the resource limits below, or no text
on page 1 (a scanned image). Refusing these would refuse every scanned, password-protected
or slightly broken PDF, which is ordinary traffic, while the stamp rules are a safety net behind the
sender's duty to keep secrets off the network and behind its own declaration (header or
SecrecyLevel element), not a defence against a sender that hides a marking. The guard reports
each problem to a hook (a counter, never the text) so that operators see how much goes unread.

Resources, so that no PDF can make the guard work without end: the file is at most
MAX_PDF_BYTES; page 1 is found by going down the page tree, not by listing every page; its
content stream may hold at most MAX_CONTENT_BYTES once decoded, and reading it stops after
MAX_READ_SECONDS; the reader runs under tighter limits than pypdf's defaults (decoded stream
sizes, parsing work, form XObjects); at most MAX_TEXT_CHARS of text are kept. A text page costs
a few milliseconds (pypdf spends about 2 µs per byte of content), a hostile one in the order
of a second of one core at most, on the guard's worker thread.

pypdf's own log messages may quote objects of the file, so its loggers are silenced here: the
gateway never logs anything of a document's content.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from pypdf import Configuration, PageObject, PasswordType, PdfReader, apply_configuration
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
)

MAX_PDF_BYTES: Final = 64 * 1024 * 1024
MAX_CONTENT_BYTES: Final = 256 * 1024  # a page of text takes tens of kB
MAX_READ_SECONDS: Final = 0.5
MAX_TEXT_CHARS: Final = 1_000_000
MAX_TREE_DEPTH: Final = 32
MAX_CATALOG_SEARCH: Final = 10_000  # objects looked at for the catalog of a file without /Root
PDF_MAGIC: Final = b"%PDF-"
# Acrobat looks for the header in the first kB, but pdf.js (Firefox) and repairing readers open
# a file with more in front of it: the guard looks as far as this, and reads from the header on.
MAGIC_WINDOW: Final = 64 * 1024
_STARTXREF: Final = b"startxref"
_TAIL: Final = 1024  # where startxref stands, before %%EOF
_INHERITABLE: Final = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")

_MB = 1024 * 1024
# pypdf.Configuration overrides while the guard reads a PDF (defaults: 75 MB, 2M, 5000)
_LIMITS: Final[dict[str, int]] = {
    "maximum_declared_stream_length": 32 * _MB,
    "zlib_maximum_output_length": 8 * _MB,
    "lzw_maximum_output_length": 8 * _MB,
    "run_length_maximum_output_length": 8 * _MB,
    "array_based_stream_maximum_output_length": 8 * _MB,
    "stream_decoding_work_maximum_length": 32 * _MB,
    "stream_parsing_work_maximum_count": 200_000,
    "xform_maximum_invocations_per_extraction": 200,
}
_CONFIGURATION: Final = Configuration().with_overwrites(**_LIMITS)

# pypdf warns about malformed files through logging, sometimes quoting the objects it read
logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)


@dataclass(frozen=True, slots=True)
class PdfText:
    text: str  # empty when the page could not be read
    problem: str | None = None  # why nothing was read: no finding can come of this PDF


def is_pdf(name: str | None, content_type: str | None) -> bool:
    """The content type or the name says PDF."""
    if content_type is not None and "pdf" in content_type.lower():
        return True
    return name is not None and name.lower().rstrip().endswith(".pdf")


def has_pdf_header(head: bytes) -> bool:
    """`head` (the first bytes of a file) holds the `%PDF-` header within MAGIC_WINDOW."""
    return PDF_MAGIC in head[: MAGIC_WINDOW + len(PDF_MAGIC)]


def as_readers_see_it(data: bytes) -> bytes:
    """`data` from its `%PDF-` header on (offsets in a PDF count from there), with a
    `startxref` added when the file has none: readers then rebuild the cross-reference
    table from the objects, as viewers do, where pypdf would give up."""
    at = data.find(PDF_MAGIC, 0, MAGIC_WINDOW + len(PDF_MAGIC))
    if at > 0:
        data = data[at:]
    if _STARTXREF not in data[-_TAIL:]:
        data += b"\nstartxref\n0\n%%EOF\n"
    return data


class _TooSlow(Exception):
    pass


def _deadline(seconds: float) -> Callable[[Any, Any, Any, Any], None]:
    """A visitor of the page's operators that stops the reading after `seconds`."""
    end = time.monotonic() + seconds
    seen = 0

    def visit(operator: Any, operands: Any, cm: Any, tm: Any) -> None:
        nonlocal seen
        seen += 1
        if seen % 256 == 0 and time.monotonic() > end:
            raise _TooSlow

    return visit


def _first_page(reader: PdfReader) -> PageObject | None:
    """Page 1, found by going down the first kids of the page tree with the inheritable
    attributes: reader.pages would walk the whole tree, however many pages there are."""
    node: PdfObject | None = reader.root_object.get("/Pages")
    inherited: dict[str, PdfObject] = {}
    for _ in range(MAX_TREE_DEPTH):
        reference = node if isinstance(node, IndirectObject) else None
        node = None if node is None else node.get_object()
        if not isinstance(node, DictionaryObject):
            return None
        kids = node.get("/Kids")
        if node.get("/Type") == "/Page" or kids is None:
            page = PageObject(reader, reference)
            page.update(node)
            for name, value in inherited.items():
                if name not in page:
                    page[NameObject(name)] = value
            return page
        inherited.update((name, node[name]) for name in _INHERITABLE if name in node)
        kids = kids.get_object()
        if not isinstance(kids, ArrayObject) or not kids:
            return None
        node = kids[0]
    return None


def _size_for_the_catalog_search(reader: PdfReader) -> None:
    """A file with neither a trailer nor a cross-reference stream has no /Root: pdf.js and
    MuPDF open it by finding the object of /Type /Catalog. pypdf searches for it too, but only
    among the /Size objects the trailer declares: give it the objects the rebuilt table found
    (the search stops after MAX_CATALOG_SEARCH of them)."""
    trailer = reader.trailer
    if "/Root" in trailer or "/Size" in trailer:
        return
    found = [number for table in reader.xref.values() for number in table]
    trailer[NameObject("/Size")] = NumberObject(max(found, default=0) + 1)


def first_page_text(data: bytes) -> PdfText:
    """The text of page 1 of the PDF `data`, as the reader extracts it (often NFD)."""
    if len(data) > MAX_PDF_BYTES:
        return PdfText("", f"larger than {MAX_PDF_BYTES // _MB} MiB, not read")
    if not has_pdf_header(data):
        return PdfText("", "no %PDF- header: not a PDF")
    data = as_readers_see_it(data)
    try:
        with apply_configuration(_CONFIGURATION):
            reader = PdfReader(
                io.BytesIO(data), strict=False, root_object_recovery_limit=MAX_CATALOG_SEARCH
            )
            _size_for_the_catalog_search(reader)
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                return PdfText("", "encrypted with a password")
            page = _first_page(reader)
            if page is None:
                return PdfText("", "no page 1")
            contents = page.get_contents()
            if contents is not None and len(contents.get_data()) > MAX_CONTENT_BYTES:
                return PdfText("", f"page 1 holds over {MAX_CONTENT_BYTES // 1024} kB of content")
            text = page.extract_text(visitor_operand_before=_deadline(MAX_READ_SECONDS))
    except _TooSlow:
        return PdfText("", f"page 1 took over {MAX_READ_SECONDS} s to read")
    except Exception as exc:  # any failure of the reader on a hostile or broken file
        # the type only: an exception's message may quote the file
        return PdfText("", f"unreadable ({type(exc).__name__})")
    if not text.strip():
        return PdfText("", "no text on page 1 (a scan?)")
    return PdfText(text[:MAX_TEXT_CHARS])
