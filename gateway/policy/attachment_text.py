"""The first lines of a text-like attachment, for the secrecy guard's stamp rules.

A stamp stands at the top of a document's first page; a reader sees it in a text, XML, HTML,
RTF, Word (docx) or OpenDocument (odt) attachment as much as in a PDF. The guard reads the first
FIRST_LINES_CHARS characters of such a file's text, and no more: the work is bounded by
MAX_READ_BYTES of the file (or of the inflated zip members of a docx or odt: its body, and its
headers and footers where stamps often stand; office_text.py), whatever the attachment's size.
A file that cannot be read (not a zip, no text member, an encrypted docx) gives no text: as
for PDFs (pdf_text.py), the stamp rules are a safety net behind the sender's own declaration,
not a defence against a sender hiding a marking.
"""

from __future__ import annotations

import re
from typing import Final

from .office_text import office_text, strip_markup

FIRST_LINES_CHARS: Final = 4000  # a first page of text
MAX_READ_BYTES: Final = 256 * 1024
# base64 characters holding MAX_READ_BYTES (a multiple of 4)
HEAD_B64_CHARS: Final = MAX_READ_BYTES // 3 * 4

_PLAIN: Final = frozenset({"txt", "text", "csv", "log"})
_MARKUP: Final = frozenset({"xml", "html", "htm", "xhtml"})
_ZIPPED: Final = frozenset({"docx", "odt"})
_TYPES: Final = {
    "text/plain": "txt",
    "text/csv": "txt",
    "text/xml": "xml",
    "application/xml": "xml",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
}
_RTF_UNICODE: Final = re.compile(r"\\u(-?\d+)\??")
_RTF_HEX: Final = re.compile(r"\\'([0-9a-fA-F]{2})")
_RTF_CONTROL: Final = re.compile(r"\\[a-zA-Z]+-?\d* ?|\\[^a-zA-Z]|[{}]")
_RTF_PAR: Final = re.compile(r"\\(?:par|line)\b ?")


def text_kind(name: str | None, content_type: str | None) -> str | None:
    """txt, xml, html, rtf, docx or odt, as the name's extension or the content type says;
    None for other files."""
    if name is not None and "." in name:
        ext = name.rsplit(".", 1)[1].strip().lower()
        if ext in _PLAIN:
            return "txt"
        if ext in _MARKUP:
            return "html" if ext.startswith(("htm", "xht")) else "xml"
        if ext in ("rtf", "docx", "odt"):
            return ext
    if content_type is not None:
        return _TYPES.get(content_type.split(";")[0].strip().lower())
    return None


def is_zipped(kind: str) -> bool:
    """The whole file is needed (a zip's directory is at its end)."""
    return kind in _ZIPPED


def first_lines(kind: str, data: bytes) -> str:
    """The first FIRST_LINES_CHARS characters of the text of `data`, a file of `kind` (of a
    docx or odt: of its body, with its headers before and footers after)."""
    if kind in _ZIPPED:
        # the headers and footers too, within the same budget (office_text.py)
        return office_text(kind, data, MAX_READ_BYTES, FIRST_LINES_CHARS)
    if kind == "rtf":
        text = _rtf_text(data[:MAX_READ_BYTES].decode("latin-1"))
    else:
        decoded = _decode(data[:MAX_READ_BYTES])
        text = decoded if kind == "txt" else strip_markup(decoded)
    return text[:FIRST_LINES_CHARS]


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8", "replace")


def _rtf_text(rtf: str) -> str:
    text = _RTF_PAR.sub("\n", rtf)
    text = _RTF_UNICODE.sub(lambda m: chr(int(m[1]) % 65536), text)
    text = _RTF_HEX.sub(lambda m: bytes.fromhex(m[1]).decode("cp1252", "replace"), text)
    return _RTF_CONTROL.sub("", text)
