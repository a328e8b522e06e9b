"""Real, minimal PDFs for the secrecy tests, written by hand.

Each page shows its lines in Helvetica; a ToUnicode CMap maps every character code to the
Unicode text it stands for, as PDF writers do for subset fonts, so that a reader extracts the
exact text given here: Vietnamese letters, precomposed (NFC) or as base letter plus combining
marks (NFD), whichever the test wrote. The glyphs drawn for non-ASCII codes are not the right
ones; only the text layer matters to the guard.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence

_FIRST_EXTRA_CODE = 0x80  # codes 0x20-0x7E are ASCII themselves; the rest are allotted from here


def _codes(pages: Sequence[Sequence[str]]) -> dict[str, int]:
    codes: dict[str, int] = {}
    next_code = _FIRST_EXTRA_CODE
    for page in pages:
        for line in page:
            for ch in line:
                if ch in codes:
                    continue
                if " " <= ch <= "~":
                    codes[ch] = ord(ch)
                else:
                    if next_code > 0xFF:
                        raise ValueError("too many distinct non-ASCII characters for one font")
                    codes[ch] = next_code
                    next_code += 1
    return codes


def _to_unicode(codes: dict[str, int]) -> bytes:
    entries = [
        f"<{code:02X}> <{''.join(f'{u:04X}' for u in _utf16(ch))}>"
        for ch, code in sorted(codes.items(), key=lambda item: item[1])
    ]
    blocks = []
    for i in range(0, len(entries), 100):
        chunk = entries[i : i + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _utf16(ch: str) -> list[int]:
    data = ch.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _content(lines: Sequence[str], codes: dict[str, int]) -> bytes:
    ops = ["BT", "/F1 12 Tf", "72 800 Td", "16 TL"]
    for line in lines:
        ops.append("(" + "".join(_literal(codes[ch]) for ch in line) + ") Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("ascii")


def _literal(code: int) -> str:
    """One character code in a PDF literal string."""
    if chr(code) in "()\\":
        return "\\" + chr(code)
    return chr(code) if 0x20 <= code <= 0x7E else f"\\{code:03o}"


def _stream(data: bytes, compress: bool) -> bytes:
    if compress:
        packed = zlib.compress(data)
        head = f"<< /Length {len(packed)} /Filter /FlateDecode >>".encode()
        return head + b"\nstream\n" + packed + b"\nendstream"
    return f"<< /Length {len(data)} >>".encode() + b"\nstream\n" + data + b"\nendstream"


def make_pdf(*pages: Sequence[str], compress: bool = True, padding: int = 0) -> bytes:
    """A PDF with one page per argument, each showing its lines of text from the top;
    `padding` spaces end page 1's content stream (a heavy page)."""
    if not pages:
        raise ValueError("a PDF has at least one page")
    codes = _codes(pages)
    # objects: 1 catalog, 2 pages, 3 font, 4 its ToUnicode, then a page and its content per page
    page_ids = [5 + 2 * i for i in range(len(pages))]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        (
            "<< /Type /Pages /Kids ["
            + " ".join(f"{pid} 0 R" for pid in page_ids)
            + f"] /Count {len(pages)} >>"
        ).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 4 0 R >>",
        _stream(_to_unicode(codes), compress),
    ]
    for i, (pid, lines) in enumerate(zip(page_ids, pages, strict=True)):
        objects.append(
            (
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                f"/Resources << /Font << /F1 3 0 R >> >> /Contents {pid + 1} 0 R >>"
            ).encode()
        )
        content = _content(lines, codes) + (b" " * padding if i == 0 else b"")
        objects.append(_stream(content, compress))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def encrypted(pdf: bytes, user_password: str, owner_password: str = "owner") -> bytes:
    """`pdf` encrypted with pypdf (AES-128): readable without a password when `user_password`
    is empty, as PDFs that only restrict printing or copying are."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password, owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
