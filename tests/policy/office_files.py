"""Word (docx) and OpenDocument (odt) files written in the tests, with header and footer parts
where a stamp is often placed, and zip bombs."""

from __future__ import annotations

import io
import zipfile

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
ODF = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def zipped(members: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def paragraphs(*texts: str) -> str:
    return "".join(f"<w:p><w:r><w:t>{t}</w:t></w:r></w:p>" for t in texts)


def docx(
    body: tuple[str, ...] = ("Kế hoạch phòng chống thiên tai",),
    headers: tuple[str, ...] = (),
    footers: tuple[str, ...] = (),
) -> bytes:
    """A docx whose headerN.xml and footerN.xml each hold one paragraph."""
    members: dict[str, str | bytes] = {
        "[Content_Types].xml": "<Types/>",
        "word/document.xml": f"<w:document {W}><w:body>{paragraphs(*body)}</w:body></w:document>",
    }
    for i, text in enumerate(headers, 1):
        members[f"word/header{i}.xml"] = f"<w:hdr {W}>{paragraphs(text)}</w:hdr>"
    for i, text in enumerate(footers, 1):
        members[f"word/footer{i}.xml"] = f"<w:ftr {W}>{paragraphs(text)}</w:ftr>"
    return zipped(members)


def odt(body: str, header: str | None = None, styles_before: int = 0) -> bytes:
    """An odt whose master page has `header`, after `styles_before` bytes of style definitions
    (office:master-styles comes last in styles.xml)."""
    content = (
        f"<office:document-content {ODF}><office:body><office:text><text:p>{body}</text:p>"
        "</office:text></office:body></office:document-content>"
    )
    padding = '<style:style style:name="P"/>' * (styles_before // 29 + 1) if styles_before else ""
    master = (
        '<style:master-page style:name="Standard"><style:header>'
        f'<text:p text:style-name="Header">{header}</text:p></style:header></style:master-page>'
        if header is not None
        else ""
    )
    styles = (
        f"<office:document-styles {ODF}><office:styles>{padding}</office:styles>"
        f"<office:master-styles>{master}</office:master-styles></office:document-styles>"
    )
    return zipped(
        {
            "mimetype": "application/vnd.oasis.opendocument.text",
            "content.xml": content,
            "styles.xml": styles,
        }
    )


def deflated_bomb(member: str, prefix: bytes, size: int, suffix: bytes = b"") -> bytes:
    """A zip whose `member` inflates to `size` bytes (spaces between prefix and suffix),
    written by streaming: the test never holds it inflated."""
    buffer = io.BytesIO()
    chunk = b" " * (1 << 20)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(member, "w") as stream,
    ):
        stream.write(prefix)
        for _ in range((size - len(prefix) - len(suffix)) // len(chunk)):
            stream.write(chunk)
        stream.write(suffix)
    return buffer.getvalue()


def many_entries(count: int, stamp_last: str) -> bytes:
    """A docx with `count` empty header parts, the last one holding `stamp_last`."""
    body = paragraphs("Báo cáo")
    members: dict[str, str | bytes] = {
        "word/document.xml": f"<w:document {W}><w:body>{body}</w:body></w:document>",
    }
    for i in range(1, count):
        members[f"word/header{i}.xml"] = ""
    members[f"word/header{count}.xml"] = f"<w:hdr {W}>{paragraphs(stamp_last)}</w:hdr>"
    return zipped(members)
