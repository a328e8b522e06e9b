"""The text a reader sees at the top of a Word (docx) or OpenDocument (odt) file: the headers,
the first lines of the body, the footers (a stamp "MẬT" very often stands in the page header).

Both are zip archives, and the bytes come from a client: a zip bomb inflates a few kB into
gigabytes, and a directory of a million entries costs seconds and hundreds of MB to list. So
the work is bounded three ways, whatever the file says:
- the archive's directory is checked from its end record before it is listed: at most
  MAX_ENTRIES entries and MAX_DIRECTORY_BYTES bytes, and no ZIP64 (a docx or odt under 4 GB
  needs none); otherwise the file gives no text;
- at most MAX_SIDE_PARTS header/footer parts are opened, beside the body;
- the inflated bytes read from all parts together are at most `budget` (attachment_text's
  MAX_READ_BYTES): the side parts first, sharing at most half of it, then the body gets the
  rest. Parts are inflated as a stream (zipfile inflates only what is read).
"""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile
from typing import Final

MAX_SIDE_PARTS: Final = 6  # Word: default, first-page and even-page header and footer
MAX_ENTRIES: Final = 4096
MAX_DIRECTORY_BYTES: Final = 256 * 1024
SIDE_TEXT_CHARS: Final = 1000  # a header or footer's text
_BODY: Final = {"docx": "word/document.xml", "odt": "content.xml"}
_DOCX_SIDE: Final = re.compile(r"word/(header|footer)(\d{1,4})\.xml")
_ODT_STYLES: Final = "styles.xml"
_MASTER: Final = re.compile(r"<office:master-styles\b.*?(?:</office:master-styles>|$)", re.S)
_END_RECORD: Final = b"PK\x05\x06"
_ZIP64_LOCATOR: Final = b"PK\x06\x07"
_END_SIZE: Final = 22
_TAG: Final = re.compile(r"<[^>]*>")
# the ends of paragraphs and line breaks in Word and OpenDocument, and of HTML blocks
_BREAK: Final = re.compile(
    r"</(?:w:p|text:p|text:h|p|div|h\d|li|tr|title)>|<(?:w:br|br|text:line-break)\b[^>]*>", re.I
)
_ZIP_ERRORS: Final = (zipfile.BadZipFile, KeyError, RuntimeError, OSError, NotImplementedError)


def strip_markup(markup: str) -> str:
    """The text of Word, OpenDocument, XML or HTML markup, a line per paragraph."""
    return html.unescape(_TAG.sub(" ", _BREAK.sub("\n", markup)))


def office_text(kind: str, data: bytes, budget: int, body_chars: int) -> str:
    """Headers, the first `body_chars` characters of the body, footers, of a docx or odt;
    "" for a file that cannot be read within the bounds (not a zip, too many entries,
    encrypted, an unknown compression)."""
    if not _directory_is_small(data):
        return ""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _read(archive, kind, budget, body_chars)
    except (*_ZIP_ERRORS, ValueError, struct.error):
        return ""


def _read(archive: zipfile.ZipFile, kind: str, budget: int, body_chars: int) -> str:
    left = budget // 2
    before: list[str] = []
    after: list[str] = []
    for name, is_footer in _side_parts(archive, kind):
        inflated = _inflated(archive, name, left)
        left -= len(inflated)
        markup = inflated.decode("utf-8", "replace")
        if kind == "odt":
            found = _MASTER.search(markup)
            markup = found[0] if found else ""
        text = strip_markup(markup)[:SIDE_TEXT_CHARS]
        (after if is_footer else before).append(text)
    used = budget // 2 - left
    body = _inflated(archive, _BODY[kind], budget - used).decode("utf-8", "replace")
    return "\n".join([*before, strip_markup(body)[:body_chars], *after])


def _side_parts(archive: zipfile.ZipFile, kind: str) -> list[tuple[str, bool]]:
    """(name, is a footer) of the parts read beside the body: a docx's headers then footers by
    number, an odt's styles.xml (its master page); at most MAX_SIDE_PARTS."""
    if kind == "odt":
        return [(_ODT_STYLES, False)] if _ODT_STYLES in archive.NameToInfo else []
    found = [m for m in map(_DOCX_SIDE.fullmatch, archive.namelist()) if m]
    found.sort(key=lambda m: (m[1], int(m[2])))
    return [(m[0], m[1] == "footer") for m in found[:MAX_SIDE_PARTS]]


def _inflated(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    if limit <= 0:
        return b""
    with archive.open(name) as stream:
        return stream.read(limit)


def _directory_is_small(data: bytes) -> bool:
    """The end record, found as zipfile finds it, declares a directory within the bounds."""
    at = len(data) - _END_SIZE
    if at < 0 or data[at : at + 4] != _END_RECORD or data[-2:] != b"\0\0":
        at = data.rfind(_END_RECORD, max(0, len(data) - _END_SIZE - 0xFFFF))
    if at < 0 or len(data) - at < _END_SIZE:
        return False
    if at >= 20 and data[at - 20 : at - 16] == _ZIP64_LOCATOR:
        return False
    entries: int
    size: int
    _, _, _, entries, size, _, _ = struct.unpack("<HHHHLLH", data[at + 4 : at + _END_SIZE])
    return entries <= MAX_ENTRIES and size <= MAX_DIRECTORY_BYTES
