"""A client of the axis' operations, each call signed the SDK's way.

The `vdxp` bridge calls the national axis with it; the conformance driver of the façade
(gateway.conformance.facade_driver) calls the gateway with it, as a department's SDK would.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import aiohttp

from .answers import AxisAnswer, read_answer
from .calls import GET_EDOC, RECEIVED_LIST, SEND_EDOC, SERVICE_TYPE, UPDATE_STATUS, UPLOAD_TYPE
from .signing import sdk_hash_file, sdk_timestamp, sign_headers

DESCRIPTION_CHARS = 200


class AxisError(Exception):
    """A call to the axis did not succeed; `reason` says why (no secret, no body)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AxisUnavailable(AxisError):
    """The axis could not be reached or did not answer as the axis does: try again later."""


class AxisRefused(AxisError):
    """The axis answered FAIL (`answer`), or the call could not be made as asked."""

    def __init__(self, reason: str, answer: AxisAnswer | None = None) -> None:
        super().__init__(reason)
        self.answer = answer


@dataclass(frozen=True)
class Listed:
    """One entry of getReceivedEdocList."""

    doc_id: str
    kind: str  # edoc | status
    sender: str | None  # what the axis says the item came from


def header_safe(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """`text` as a header value can carry it: printable ASCII, cut to `limit`."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:limit]


class AxisClient:
    """Calls to `url`/<operation> as the system `systemid`, signed with `secret` and stamped
    in the local time of `tz`. `open()` before the first call, `close()` after the last."""

    def __init__(
        self,
        url: str,
        *,
        systemid: str,
        secret: str,
        tz: tzinfo,
        timeout_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url.rstrip("/")
        self.systemid = systemid
        self._secret = secret
        self._tz = tz
        self._timeout_s = timeout_s
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self._timeout_s)
            self._session = aiohttp.ClientSession(timeout=timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_edoc(self, raw: bytes, *, kind: str | None) -> str:
        """Upload one edXML message (`kind` edoc or status, None: let the receiver read it);
        the receiver's DocId of it."""
        params = {
            # the axis wants the sending system here; the edXML From names the agency
            "from": self.systemid,
            "servicetype": SERVICE_TYPE,
            "hash-file": sdk_hash_file(raw),
        }
        if kind is not None:
            params["messagetype"] = kind
        answer = await self._call(SEND_EDOC, params, raw, UPLOAD_TYPE)
        return str(answer.body.get("DocId", ""))

    async def received(self, kind: str) -> list[Listed]:
        params = {"servicetype": SERVICE_TYPE, "messagetype": kind}
        answer = await self._call(RECEIVED_LIST, params)
        entries = answer.body.get("data") or []
        if not isinstance(entries, list):
            raise AxisUnavailable(f"{RECEIVED_LIST}: data is not a list")
        return [found for entry in entries if (found := _received(entry, kind)) is not None]

    async def get_edoc(self, doc_id: str) -> bytes:
        answer = await self._call(GET_EDOC, {"docId": doc_id})
        try:
            return base64.b64decode(str(answer.body.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            raise AxisRefused(f"{GET_EDOC} {doc_id}: data is not base64") from None

    async def update_status(self, doc_id: str, ack: str, description: str = "") -> None:
        params = {"docId": doc_id, "status": ack}
        if description:
            params["description"] = header_safe(description)
        await self._call(UPDATE_STATUS, params)

    async def _call(
        self,
        operation: str,
        params: Mapping[str, str],
        body: bytes = b"",
        content_type: str = "application/json",
    ) -> AxisAnswer:
        if self._session is None:
            raise AxisUnavailable(f"{operation}: the adapter is not started")
        try:
            headers = sign_headers(
                params,
                systemid=self.systemid,
                secret=self._secret,
                timestamp=sdk_timestamp(self._clock(), self._tz),
            )
        except ValueError as exc:
            raise AxisRefused(f"{operation}: {exc}") from None
        headers["Content-Type"] = content_type
        url = f"{self._url}/{operation}"
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                status, raw = response.status, await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise AxisUnavailable(f"{operation}: {type(exc).__name__}: {exc}") from None
        try:
            answer = read_answer(raw)
        except ValueError:
            raise AxisUnavailable(f"{operation}: HTTP {status}, not an axis answer") from None
        if not answer.ok:
            reason = f"{operation}: HTTP {status}, {answer.describe()}"
            if status >= 500:
                raise AxisUnavailable(reason)
            raise AxisRefused(reason, answer)
        return answer


def _received(entry: Any, kind: str) -> Listed | None:
    if not isinstance(entry, dict):
        return None
    doc_id = entry.get("docId") or entry.get("docid") or entry.get("id")
    if not doc_id:
        return None
    sender = entry.get("from")
    return Listed(
        doc_id=str(doc_id),
        kind=str(entry.get("messageType") or kind),
        sender=str(sender) if sender else None,
    )
