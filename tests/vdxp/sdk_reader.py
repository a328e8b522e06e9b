"""How a department's software on SDKVXP 2.0.1 sees the façade's answers, written from the facts
in docs/vdxp.md and issue 18 (no SDK code):

- the SDK decodes sendEdoc's answer as US-ASCII: every byte beyond ASCII becomes U+FFFD, as
  Java's `new String(bytes, "US-ASCII")` does; the other answers are read the same way here,
  the strictest reading, so that a façade passing these tests passes whatever the SDK uses;
- it reads `DocId` from every sendEdoc answer before the status: absent or null, it fails
  (NullPointerException) and the application gets a result whose fields are all null;
- the fields each class reads (status, ErrorCode, ErrorDesc; DocId; data; the list items' and
  agencies' fields) come out null when the JSON lacks them or holds null.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ITEM_FIELDS = (
    "docId",
    "serviceType",
    "messageType",
    "from",
    "to",
    "created_time",
    "updated_time",
    "status",
    "status_desc",
)
AGENCY_FIELDS = ("id", "code", "name", "mail", "pid")


@dataclass(frozen=True)
class SdkResult:
    """What the application holds after the call."""

    status: str | None
    error_code: str | None
    error_desc: str | None
    doc_id: str | None = None
    data: Any = None
    items: tuple[dict[str, str | None], ...] = field(default=())


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _decode(raw: bytes) -> dict[str, Any]:
    body = json.loads(raw.decode("ascii", errors="replace"))
    assert isinstance(body, dict), raw[:200]
    return body


def _common(body: dict[str, Any]) -> dict[str, str | None]:
    return {
        "status": _text(body.get("status")),
        "error_code": _text(body.get("ErrorCode")),
        "error_desc": _text(body.get("ErrorDesc")),
    }


def read_send_edoc(raw: bytes) -> SdkResult:
    body = _decode(raw)
    if body.get("DocId") is None:  # read first: the NullPointerException leaves all null
        return SdkResult(None, None, None)
    return SdkResult(**_common(body), doc_id=_text(body["DocId"]))


def read_get_edoc(raw: bytes) -> SdkResult:
    body = _decode(raw)
    return SdkResult(**_common(body), data=body.get("data"))


def read_plain(raw: bytes) -> SdkResult:
    """updateStatus, and the administration calls: the three common fields."""
    return SdkResult(**_common(_decode(raw)))


def _items(body: dict[str, Any], names: tuple[str, ...]) -> tuple[dict[str, str | None], ...]:
    data = body.get("data") or []
    return tuple({name: _text(item.get(name)) for name in names} for item in data)


def read_list(raw: bytes) -> SdkResult:
    """getReceivedEdocList and getSentEdocList."""
    body = _decode(raw)
    return SdkResult(**_common(body), items=_items(body, ITEM_FIELDS))


def read_agencies(raw: bytes) -> SdkResult:
    """getAgenciesList and getSynchronizeUnit."""
    body = _decode(raw)
    return SdkResult(**_common(body), items=_items(body, AGENCY_FIELDS))


def sees_status_and_reason(result: SdkResult) -> bool:
    """The application can tell the outcome and, on a failure, why."""
    known = None not in (result.status, result.error_code, result.error_desc)
    return known and (result.status == "OK" or bool(result.error_desc))
