"""The axis' JSON answers: `status` (`OK` or `FAIL`), `ErrorCode` (`"0"` is success) and
`ErrorDesc`, beside the operation's own fields (`DocId`, `data`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

OK: Final = "OK"
FAIL: Final = "FAIL"
SUCCESS_CODE: Final = "0"
SUCCESS_DESC: Final = "Success"
# updateStatus: what became of a transfer, never a business status (01-16, sent as edXML)
TRANSPORT_ACKS: Final = ("done", "processing", "fail")


def ok_answer(**fields: Any) -> dict[str, Any]:
    return {"status": OK, "ErrorCode": SUCCESS_CODE, "ErrorDesc": SUCCESS_DESC, **fields}


def fail_answer(error_code: str, error_desc: str, **fields: Any) -> dict[str, Any]:
    """A refusal; `fields` are those the SDK reads unconditionally for the operation (sendEdoc's
    `DocId`, empty): without them its parsing fails and the application sees only nulls."""
    return {"status": FAIL, "ErrorCode": error_code, "ErrorDesc": error_desc, **fields}


def dump_answer(body: Any) -> str:
    """An answer as JSON text in ASCII: the SDK reads some answers (sendEdoc's) as US-ASCII, so
    every character beyond ASCII travels escaped (`\\uXXXX`), which any JSON reader restores."""
    return json.dumps(body, ensure_ascii=True, separators=(",", ":"))


@dataclass(frozen=True)
class AxisAnswer:
    status: str
    error_code: str
    error_desc: str
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        # the SDK tests ErrorCode "0" for lists and status != FAIL for getEdoc: ask both
        return self.error_code == SUCCESS_CODE and self.status != FAIL

    def describe(self) -> str:
        return f"{self.status} {self.error_code}: {self.error_desc}"


def read_answer(raw: bytes) -> AxisAnswer:
    """An answer body; ValueError if it is not one (an HTML error page of a proxy...)."""
    body = json.loads(raw)
    if not isinstance(body, dict) or "ErrorCode" not in body:
        raise ValueError("not an axis answer: a JSON object with ErrorCode was expected")
    return AxisAnswer(
        status=str(body.get("status", "")),
        error_code=str(body["ErrorCode"]),
        error_desc=str(body.get("ErrorDesc", "")),
        body=body,
    )
