"""Composing new messages: what a department system (or the demo, or the bench) sends."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from .model import (
    Attachment,
    Business,
    Code,
    Document,
    DocumentType,
    ManifestReference,
    Organization,
    OtherInfo,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusMessage,
    TraceHeader,
)


def pdf_attachment(name: str, data: bytes, description: str | None = None) -> Attachment:
    return Attachment.of(
        f"cid:{uuid.uuid4()}", name, data, description=description, content_type="application/pdf"
    )


def compose_document(
    sender: Organization,
    recipients: Sequence[Organization],
    *,
    number: str,
    notation: str,
    subject: str,
    content: str | None = None,
    place: str = "Hà Nội",
    type_name: str = "Công văn",
    signer: SignerInfo | None = None,
    priority: int = 0,
    business_type: int = 0,
    paper_copy: bool = False,
    attachments: Sequence[Attachment] = (),
    on: date | None = None,
    document_id: str | None = None,
) -> Document:
    """A document with the QCVN 102 DocumentId `<organ>,<yyyy/MM/dd>,<number>/<notation>`."""
    day = on or date.today()
    return Document(
        sender=sender,
        recipients=tuple(recipients),
        document_id=document_id or f"{sender.organ_id},{day:%Y/%m/%d},{number}/{notation}",
        code=Code(number, notation),
        promulgation=PromulgationInfo(place, day),
        document_type=DocumentType("1", "0", type_name),
        subject=subject,
        content=content if content is not None else subject,
        signer=signer,
        due_date=None,
        other_info=OtherInfo(priority=priority, promulgation_amount=1, page_amount=1),
        response_for=None,
        steering_type=None,
        to_places=(),
        traces=(TraceHeader(sender.organ_id, datetime.now().replace(microsecond=0)),),
        business=Business(business_type, paper=paper_copy),
        manifest=tuple(
            ManifestReference(a.content_id, a.content_type, a.description, a.attachment_name)
            for a in attachments
        ),
        attachments=tuple(attachments),
    )


def compose_status(
    sender: Organization,
    original: Document,
    status_code: str,
    *,
    description: str | None = None,
    staff: StaffInfo | None = None,
) -> StatusMessage:
    """A processing status about `original`, from one of its recipients."""
    code = original.code
    promulgation = original.promulgation
    return StatusMessage(
        sender=sender,
        response_for=ResponseFor(
            organ_id=original.sender.organ_id,
            code=None if code is None else f"{code.code_number}/{code.code_notation}",
            document_id=original.document_id,
            promulgation_date=None if promulgation is None else promulgation.promulgation_date,
        ),
        staff_info=staff,
        status_code=status_code,
        description=description,
        timestamp=datetime.now().replace(microsecond=0),
    )
