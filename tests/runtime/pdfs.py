"""PDFs that cost the reader time: a large one read at once, and a hostile one whose broken
`startxref` makes the PDF library rebuild its cross-reference table by scanning every object."""

from __future__ import annotations

from collections.abc import Sequence


def _assemble(objects: Sequence[bytes], *, startxref: int | None = None) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % (xref if startxref is None else startxref)
    return bytes(out)


def _page(text: bytes, extra: Sequence[bytes]) -> list[bytes]:
    stream = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *extra,
    ]


def large_pdf(text: bytes, size: int) -> bytes:
    """A well-formed one-page PDF of about `size` bytes: an unused stream makes up the size,
    which the reader skips (its table says where every object is)."""
    filler = b"<< /Length %d >>\nstream\n" % size + b"0" * size + b"\nendstream"
    return _assemble(_page(text, [filler]))


def broken_xref_pdf(text: bytes, objects: int) -> bytes:
    """A one-page PDF of `objects` small objects whose `startxref` points past the end."""
    extra = [b"<< /N %d >>" % n for n in range(objects)]
    return _assemble(_page(text, extra), startxref=10**9)
