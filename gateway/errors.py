"""The refusals the gateway answers with (DESIGN §4.5, a contract).

One root, `GatewayError`; every subclass fixes its `code` and HTTP `status`. "Bad input"
(the message cannot be read: 400) is kept apart from "the message was read and refused"
(422), as in signxml's exception tree. `detail` must say what the caller has to fix.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Final

PROBLEM_TYPE_PREFIX = "urn:edocgw:error:"
# A detail quotes at most this many characters of any field, and is at most MAX_DETAIL_CHARS
# long: a 2 MB field must not come back as a 2 MB problem, log line or audit record.
MAX_QUOTED_CHARS: Final = 120
MAX_DETAIL_CHARS: Final = 1000
# an opening quote (not an apostrophe: after a space, a colon, a bracket or at the start) and
# more than MAX_QUOTED_CHARS characters before the next quote, or the end (libxml2 cuts its
# messages without closing the quote)
_QUOTED: Final = re.compile(f"(?<![^\\s:(=\\[])(['\"“])([^'\"”]{{{MAX_QUOTED_CHARS}}})[^'\"”]+")


def clip(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """`text` cut to `limit` characters, with "…" when something was left out."""
    return text if len(text) <= limit else text[:limit] + "…"


def bounded_detail(detail: str) -> str:
    """`detail` with every quoted run cut to MAX_QUOTED_CHARS and the whole to
    MAX_DETAIL_CHARS (libxml2 and ValueError messages quote the value they refuse)."""
    if len(detail) <= MAX_QUOTED_CHARS:
        return detail
    return clip(_QUOTED.sub(r"\1\2…", detail), MAX_DETAIL_CHARS)


class GatewayError(Exception):
    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extensions: Any) -> None:
        detail = bounded_detail(detail)
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_PREFIX + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        body.update(self.extensions)
        return body


# --- 400: the request cannot be read -------------------------------------------------------
class BadInput(GatewayError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class MalformedXml(BadInput):
    code = "malformed_xml"
    title = "The body is not well-formed XML"


class SchemaInvalid(BadInput):
    code = "schema_invalid"
    title = "The message does not follow the edXML structure"


class UnsupportedMessage(BadInput):
    code = "unsupported_message"
    title = "The message is not a kind this call accepts"


# --- 401 / 403 / 404 / 409 / 413 --------------------------------------------------------------
class Unauthorized(GatewayError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(GatewayError):
    status = 403
    code = "forbidden"
    title = "Not allowed for this caller"


class SenderMismatch(Forbidden):
    code = "sender_mismatch"
    title = "The message's sender is not the caller"


class NotFound(GatewayError):
    status = 404
    code = "not_found"
    title = "Not found"


class UnknownRecipient(NotFound):
    code = "unknown_recipient"
    title = "A recipient is not in the directory"


class DuplicateConflict(GatewayError):
    status = 409
    code = "duplicate_conflict"
    title = "Another message with this DocumentId was already accepted"


class PayloadTooLarge(GatewayError):
    status = 413
    code = "payload_too_large"
    title = "The body is larger than the gateway accepts"


class BodyPurged(GatewayError):
    status = 410
    code = "body_purged"
    title = "The body was removed by retention; its metadata and trace remain"


# --- 422: read, understood, refused ---------------------------------------------------------
class Refused(GatewayError):
    status = 422
    code = "refused"
    title = "The message was refused"


class SignatureMissing(Refused):
    code = "signature_missing"
    title = "The message is not signed"


class SignatureInvalid(Refused):
    code = "signature_invalid"
    title = "The signature does not verify"


class UntrustedCertificate(Refused):
    code = "untrusted_certificate"
    title = "The signing certificate does not chain to a trusted anchor"


class CertificateExpired(Refused):
    code = "certificate_expired"
    title = "The signing certificate is not valid at this time"


class CertificateRevoked(Refused):
    code = "certificate_revoked"
    title = "The signing certificate is revoked"


class SignerMismatch(Refused):
    code = "signer_mismatch"
    title = "The signing certificate does not belong to the sender"


class SecretDocument(Refused):
    code = "secret_document"
    title = "Secret documents are never exchanged over the network"


class AttachmentUnreadable(Refused):
    """Checking the document took over its budget (`limits.attachment_budget_s`): its worker was
    killed, the document refused (docs/trust.md)."""

    code = "attachment_unreadable"
    title = "The attachments cannot be checked"


# --- 503 --------------------------------------------------------------------------------------
class Unavailable(GatewayError):
    status = 503
    code = "unavailable"
    title = "The gateway cannot accept this now; nothing was accepted"


# --- 507 --------------------------------------------------------------------------------------
class InsufficientStorage(GatewayError):
    status = 507
    code = "insufficient_storage"
    title = "The gateway is short of disk space; nothing was accepted"
