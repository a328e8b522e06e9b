"""Builders of edXML messages for tests across the project.

`document()` and `status()` give models shaped like the official SDK's samples, with fresh
DocumentIds; `document_bytes()` and `status_bytes()` give their edXML (unsigned).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from gateway.edxml import (
    Attachment,
    Document,
    Organization,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusMessage,
    to_xml,
)
from gateway.edxml.compose import compose_document

SENDER = "000.00.00.H26"
RECIPIENT = "000.00.13.H26"

_serial = itertools.count(1)
_RUN = uuid.uuid4().hex[:6].upper()


def organization(organ_id: str) -> Organization:
    """A directory-like entry for `organ_id`."""
    return Organization(
        organ_id=organ_id,
        organ_name=f"Cơ quan {organ_id}",
        organization_in_charge="UBND Thành phố Hà Nội",
        email=f"vanthu.{organ_id.lower()}@example.gov.vn",
    )


def fresh_number() -> str:
    """A document number unique in this test run (`<n>/<run>`)."""
    return f"{next(_serial)}/{_RUN}"


def attachment(name: str = "van-ban.pdf", data: bytes = b"%PDF-1.4 test\n") -> Attachment:
    """An attachment holding `data`."""
    return Attachment.of(f"cid:{uuid.uuid4()}", name, data, content_type="application/pdf")


def filler_attachment(size: int) -> Attachment:
    """An attachment of `size` random bytes (base64 makes the message ~4/3 of that bigger)."""
    return Attachment.of(
        f"cid:{uuid.uuid4()}", "phu-luc.bin", os.urandom(size), content_type="application/zip"
    )


def document(
    sender: str = SENDER,
    recipients: Sequence[str] = (RECIPIENT,),
    document_id: str | None = None,
    subject: str = "V/v thử nghiệm trao đổi văn bản điện tử",
    priority: int = 0,
    business_type: int = 0,
    paper: bool = False,
    attachments: Sequence[Attachment] | None = None,
    attachment_size: int = 0,
    **overrides: Any,
) -> Document:
    """A document from `sender` to `recipients`; `overrides` replace any Document field."""
    number, notation = fresh_number().split("/")
    files = [attachment()] if attachments is None else list(attachments)
    if attachment_size > 0:
        files.append(filler_attachment(attachment_size))
    doc = compose_document(
        organization(sender),
        [organization(r) for r in recipients],
        number=number[-11:],
        notation=notation,
        subject=subject,
        signer=SignerInfo("KT. CHỦ TỊCH", "Phó Chủ tịch", "Nguyễn Văn A"),
        priority=priority,
        business_type=business_type,
        paper_copy=paper,
        attachments=files,
        document_id=document_id,
    )
    return dataclasses.replace(doc, **overrides) if overrides else doc


def status(
    sender: str | None = None,
    original: Document | None = None,
    *,
    response_for_sender: str | None = None,
    document_id: str | None = None,
    status_code: str = "01",
    description: str | None = "Đã đến",
    **overrides: Any,
) -> StatusMessage:
    """A status about `original` (or about `document_id` from `response_for_sender`)."""
    response_for = ResponseFor()
    if original is not None:
        sender = sender or original.recipients[0].organ_id
        code = original.code
        response_for = ResponseFor(
            organ_id=original.sender.organ_id,
            code=None if code is None else f"{code.code_number}/{code.code_notation}",
            document_id=original.document_id,
            promulgation_date=None
            if original.promulgation is None
            else original.promulgation.promulgation_date,
        )
    organ_id = response_for_sender or response_for.organ_id or SENDER
    if document_id is None:
        document_id = (
            response_for.document_id or f"{organ_id},{date.today():%Y/%m/%d},{fresh_number()}"
        )
    message = StatusMessage(
        sender=organization(sender or RECIPIENT),
        response_for=dataclasses.replace(response_for, organ_id=organ_id, document_id=document_id),
        staff_info=StaffInfo("Văn thư", "Trần Thị B", None, None),
        status_code=status_code,
        description=description,
        timestamp=datetime.now().replace(microsecond=0),
    )
    return dataclasses.replace(message, **overrides) if overrides else message


def document_bytes(**kw: Any) -> bytes:
    """The edXML of `document(**kw)`."""
    return to_xml(document(**kw))


def status_bytes(**kw: Any) -> bytes:
    """The edXML of `status(**kw)`."""
    return to_xml(status(**kw))
