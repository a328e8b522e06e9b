"""Composing and signing the edXML a department sends, from a few fields."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from gateway.edxml import (
    Attachment,
    Document,
    Organization,
    SignerInfo,
    StatusCode,
    parse_message,
    to_xml,
)
from gateway.edxml.compose import compose_document, compose_status

Organ = str | Organization  # an organ id, or the full From/To entry
AttachmentSource = Path | tuple[str, bytes]  # a file, or (name, content)


def organization(organ: Organ) -> Organization:
    return organ if isinstance(organ, Organization) else Organization(organ_id=organ)


def attachment(source: AttachmentSource) -> Attachment:
    name, data = (source.name, source.read_bytes()) if isinstance(source, Path) else source
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Attachment.of(f"cid:{uuid.uuid4()}", name, data, content_type=content_type)


def build_document(
    sender: Organ,
    recipients: Sequence[Organ],
    *,
    subject: str,
    number: str,
    notation: str,
    content: str | None = None,
    priority: int = 0,
    attachments: Sequence[AttachmentSource] = (),
    paper_copy: bool = False,
    document_id: str | None = None,
    type_name: str = "Công văn",
    place: str = "Hà Nội",
    signer: SignerInfo | None = None,
    on: date | None = None,
) -> bytes:
    """A new document (BussinessDocType 0) as edXML, with the QCVN 102 DocumentId
    `<organ>,<yyyy/MM/dd>,<number>/<notation>` unless `document_id` is given."""
    if not recipients:
        raise ValueError("name at least one recipient")
    document = compose_document(
        organization(sender),
        [organization(r) for r in recipients],
        number=number,
        notation=notation,
        subject=subject,
        content=content,
        place=place,
        type_name=type_name,
        signer=signer,
        priority=priority,
        paper_copy=paper_copy,
        attachments=[attachment(a) for a in attachments],
        on=on,
        document_id=document_id,
    )
    return to_xml(document)


def build_status(
    sender: Organ, original: bytes | Document, status_code: str, *, description: str | None = None
) -> bytes:
    """A processing status (01-16) about `original`, the edXML of a document received."""
    if status_code not in StatusCode.ALL:
        raise ValueError(f"status code {status_code!r}: one of {', '.join(sorted(StatusCode.ALL))}")
    document = parse_message(original) if isinstance(original, bytes) else original
    if not isinstance(document, Document):
        raise ValueError("a status answers a document, and this is a status message")
    if description is None:
        description = StatusCode.MEANINGS[status_code][0]
    status = compose_status(organization(sender), document, status_code, description=description)
    return to_xml(status)


def sign(raw: bytes, key: Path, cert: Path, chain: Sequence[Path] = ()) -> bytes:
    """`raw` with the XML-DSig the gateway verifies (DESIGN §5), made with the agency's key
    and certificate (PEM files); the certificate's chain goes into KeyInfo.
    gateway.trust.sign.SigningError if the files or the message do not allow it."""
    from gateway.trust.sign import load_signer, sign_message  # cryptography only when signing

    private_key, certificate, more = load_signer(key, cert, chain)
    return sign_message(raw, private_key, certificate, more)
