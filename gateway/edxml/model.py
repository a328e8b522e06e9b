"""The edXML messages (QCVN 102:2016) as immutable values: a document or a status.

Names follow the standard, in snake_case; the XML's `Bussiness` (sic) is `Business` here.
Repeated elements are tuples, absent or empty elements are None. The `Signature` of a message
is never part of the model: the trust layer reads it from the XML.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

EDXML_NS: Final = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

MAX_SUBJECT_CHARS: Final = 500
MAX_CODE_NUMBER_CHARS: Final = 11
MAX_CODE_NOTATION_CHARS: Final = 30


class Priority:
    """OtherInfo/Priority (độ khẩn)."""

    NORMAL: Final = 0  # thường
    URGENT: Final = 1  # khẩn
    VERY_URGENT: Final = 2  # thượng khẩn
    FLASH: Final = 3  # hỏa tốc
    FLASH_SCHEDULED: Final = 4  # hỏa tốc hẹn giờ (legacy, treated as FLASH)


class BusinessDocType:
    """Bussiness/BussinessDocType."""

    NEW: Final = 0
    REVOKE: Final = 1
    UPDATE: Final = 2
    REPLACE: Final = 3


class StatusCode:
    """The processing statuses a recipient sends back (StatusCode)."""

    ARRIVED: Final = "01"
    REFUSED: Final = "02"
    ACCEPTED: Final = "03"
    ASSIGNED: Final = "04"
    PROCESSING: Final = "05"
    COMPLETED: Final = "06"
    REVOCATION_REQUESTED: Final = "13"
    REVOCATION_AGREED: Final = "15"
    REVOCATION_REFUSED: Final = "16"

    MEANINGS: Final[dict[str, tuple[str, str]]] = {
        "01": ("Đã đến", "arrived"),
        "02": ("Từ chối tiếp nhận", "refused"),
        "03": ("Đã tiếp nhận", "accepted"),
        "04": ("Phân công", "assigned"),
        "05": ("Đang xử lý", "processing"),
        "06": ("Hoàn thành", "completed"),
        "13": ("Yêu cầu lấy lại / cập nhật", "revocation or update requested by the sender"),
        "15": ("Đồng ý lấy lại / cập nhật", "revocation or update agreed"),
        "16": ("Từ chối lấy lại / cập nhật", "revocation or update refused"),
    }
    ALL: Final = frozenset(MEANINGS)


@dataclass(frozen=True, slots=True)
class Organization:
    organ_id: str
    organ_name: str | None = None
    organization_in_charge: str | None = None
    organ_add: str | None = None
    email: str | None = None
    telephone: str | None = None
    fax: str | None = None
    website: str | None = None


@dataclass(frozen=True, slots=True)
class Code:
    code_number: str | None = None
    code_notation: str | None = None


@dataclass(frozen=True, slots=True)
class PromulgationInfo:
    place: str | None = None
    promulgation_date: date | None = None


@dataclass(frozen=True, slots=True)
class DocumentType:
    type: str | None = None
    type_detail: str | None = None
    type_name: str | None = None


@dataclass(frozen=True, slots=True)
class SignerInfo:
    competence: str | None = None
    position: str | None = None
    full_name: str | None = None


@dataclass(frozen=True, slots=True)
class OtherInfo:
    priority: int = Priority.NORMAL
    sphere_of_promulgation: str | None = None
    typer_notation: str | None = None
    promulgation_amount: int | None = None
    page_amount: int | None = None
    direction: bool | None = None
    appendixes: tuple[str, ...] = ()
    # text of a SecrecyLevel child in the edXML namespace or any other: the secrecy guard's input
    secrecy_level: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseFor:
    organ_id: str | None = None
    code: str | None = None
    document_id: str | None = None
    promulgation_date: date | None = None


@dataclass(frozen=True, slots=True)
class StaffInfo:
    department: str | None = None
    staff: str | None = None
    email: str | None = None
    mobile: str | None = None


@dataclass(frozen=True, slots=True)
class TraceHeader:
    organ_id: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class Receiver:
    organ_id: str
    receiver_type: int  # 0 removed from the recipients, 1 added


@dataclass(frozen=True, slots=True)
class ReplacementInfo:
    document_id: str
    organ_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Business:
    business_doc_type: int = BusinessDocType.NEW
    document_id: str | None = None
    reason: str | None = None
    paper: bool = False
    document_info: str | None = None
    document_receiver: str | None = None
    receivers: tuple[Receiver, ...] = ()
    replacements: tuple[ReplacementInfo, ...] = ()
    staff_info: StaffInfo | None = None


@dataclass(frozen=True, slots=True)
class ManifestReference:
    content_id: str
    content_type: str | None = None
    description: str | None = None
    attachment_name: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    content_id: str
    attachment_name: str
    description: str | None
    content_type: str | None
    content_b64: str  # base64, without whitespace

    def content(self) -> bytes:
        """The decoded attachment; ValueError if it is not base64."""
        try:
            return base64.b64decode(self.content_b64, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"attachment {self.content_id!r} is not base64: {exc}") from exc

    @classmethod
    def of(
        cls,
        content_id: str,
        attachment_name: str,
        data: bytes,
        *,
        description: str | None = None,
        content_type: str | None = "application/octet-stream",
    ) -> Attachment:
        """An attachment holding `data`."""
        encoded = base64.b64encode(data).decode("ascii")
        return cls(content_id, attachment_name, description, content_type, encoded)


@dataclass(frozen=True, slots=True)
class Document:
    sender: Organization
    recipients: tuple[Organization, ...]
    document_id: str
    code: Code | None
    promulgation: PromulgationInfo | None
    document_type: DocumentType | None
    subject: str
    content: str | None
    signer: SignerInfo | None
    due_date: date | None
    other_info: OtherInfo | None
    response_for: ResponseFor | None
    steering_type: str | None
    to_places: tuple[str, ...]
    traces: tuple[TraceHeader, ...]
    business: Business | None
    manifest: tuple[ManifestReference, ...]
    attachments: tuple[Attachment, ...]

    @property
    def priority(self) -> int:
        """0-3: the urgency, with the legacy 4 (hỏa tốc hẹn giờ) counted as 3."""
        if self.other_info is None:
            return Priority.NORMAL
        return min(self.other_info.priority, Priority.FLASH)

    @property
    def business_type(self) -> int:
        """BussinessDocType; 0 (new) when the message has no Bussiness."""
        return BusinessDocType.NEW if self.business is None else self.business.business_doc_type

    @property
    def paper_copy(self) -> bool:
        """A paper copy is also sent (Bussiness/Paper = 1)."""
        return self.business is not None and self.business.paper

    @property
    def secrecy_level(self) -> str | None:
        """The declared OtherInfo/SecrecyLevel, if any."""
        return None if self.other_info is None else self.other_info.secrecy_level


@dataclass(frozen=True, slots=True)
class StatusMessage:
    sender: Organization
    response_for: ResponseFor
    staff_info: StaffInfo | None
    status_code: str
    description: str | None
    timestamp: datetime | None


Message = Document | StatusMessage
