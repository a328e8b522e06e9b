"""A department system that calls the gateway as the axis' SDK does (SDKVXP 2.0.1,
com.vpcp.services.VnptService / KnobstickServiceImp / MultipartUtility), written here from the
SDK's behaviour and independently of gateway.vdxp:

- the parameters are the JSON the caller gives, plus `systemid`, `timestamp`
  (`ddMMyyyy'T'HHmmss+SSSS`, local time) and `Content-Type`; each is sent only as
  `XroadVnpt-<name>` (Content-Type also bare), in HashMap order, not the caller's;
- `XroadVnpt-sign-header` is Gson's compact JSON of them, non-ASCII left as is;
- sendEdoc announces multipart, but the bare Content-Type header overrides it with
  application/octet-stream and the file is written bare, followed by CRLF; `hash-file` is the
  SHA-256 with the leading zero of each byte below 0x10 dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from multidict import CIMultiDict

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
Tamper = Callable[[CIMultiDict[str]], None]


def sdk_timestamp(now: float) -> str:
    local = datetime.fromtimestamp(now, VIETNAM)
    return local.strftime("%d%m%YT%H%M%S") + f"+{local.microsecond // 1000:04d}"


def sdk_hash_file(data: bytes) -> str:
    return "".join(format(b & 0xFF, "x") for b in hashlib.sha256(data).digest())


class SdkClient:
    def __init__(
        self,
        client: TestClient[Any, Any],
        systemid: str,
        secret: str,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self.systemid = systemid
        self.secret = secret
        self.clock = clock or self._next_millisecond
        self._last = 0.0

    def _next_millisecond(self) -> float:
        """The wall clock, but never the same millisecond twice: the SDK stamps a call with the
        millisecond its service object was built, and a department building one per call (as
        docs/vdxp.md asks) does not build two in one millisecond for the same operation."""
        self._last = max(time.time(), self._last + 0.001)
        return self._last

    def headers(self, params: Mapping[str, str], content_type: str) -> CIMultiDict[str]:
        values = {
            "timestamp": sdk_timestamp(self.clock()),
            "systemid": self.systemid,
            "Content-Type": content_type,
            **params,
        }
        # a HashMap's order: neither the caller's nor alphabetical
        names = sorted(values, key=lambda name: hashlib.md5(name.encode()).digest())
        signed = {f"XroadVnpt-{name}": values[name] for name in names}
        text = json.dumps(signed, separators=(",", ":"), ensure_ascii=False)
        digest = hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        headers: CIMultiDict[str] = CIMultiDict()
        headers["Content-Type"] = content_type
        for name in names:
            headers[f"XroadVnpt-{name}"] = values[name]
        headers["XroadVnpt-sign-header-key"] = ";".join(names)
        headers["XroadVnpt-sign-header"] = text
        headers["XroadVnpt-hash-header"] = digest
        headers["User-Agent"] = "JAVASDKAgent/1.0.0 XRoad/VPCP"
        headers["XroadVnpt-version"] = "3.0.201608"
        return headers

    async def call(
        self,
        operation: str,
        params: Mapping[str, str],
        *,
        body: bytes = b"{}",
        content_type: str = "application/json",
        tamper: Tamper | None = None,
    ) -> tuple[int, dict[str, Any]]:
        status, raw = await self.call_raw(
            operation, params, body=body, content_type=content_type, tamper=tamper
        )
        return status, json.loads(raw)

    async def call_raw(
        self,
        operation: str,
        params: Mapping[str, str],
        *,
        body: bytes = b"{}",
        content_type: str = "application/json",
        tamper: Tamper | None = None,
    ) -> tuple[int, bytes]:
        """The answer's bytes, for reading them as the SDK does (tests/vdxp/sdk_reader.py)."""
        headers = self.headers(params, content_type)
        if tamper is not None:
            tamper(headers)
        return await self.post(operation, headers, body)

    async def post(
        self, operation: str, headers: CIMultiDict[str], body: bytes
    ) -> tuple[int, bytes]:
        """One request with headers made before (a replay sends captured ones again)."""
        response = await self.client.post(f"/vdxp/{operation}", data=body, headers=headers)
        return response.status, await response.read()

    def upload(self, raw: bytes, messagetype: str = "edoc", **params: str) -> dict[str, str]:
        """sendEdoc's parameters for the file `raw`, as the SDK signs them."""
        return {
            "from": self.systemid,
            "servicetype": "eDoc",
            "messagetype": messagetype,
            "hash-file": sdk_hash_file(raw),
            **params,
        }

    async def send_edoc(
        self, raw: bytes, *, messagetype: str = "edoc", **params: str
    ) -> dict[str, Any]:
        _, answer = await self.call(
            "sendEdoc",
            self.upload(raw, messagetype, **params),
            body=raw + b"\r\n",
            content_type="application/octet-stream",
        )
        return answer

    async def received(self, messagetype: str = "edoc") -> dict[str, Any]:
        params = {"servicetype": "eDoc", "messagetype": messagetype}
        _, answer = await self.call("getReceivedEdocList", params, body=b"")
        return answer

    async def get_edoc(self, doc_id: str) -> dict[str, Any]:
        _, answer = await self.call("getEdoc", {"filePath": "xml", "docId": doc_id})
        return answer

    async def update_status(self, doc_id: str, status: str, **params: str) -> dict[str, Any]:
        # the lower-case `docid` as edoc-integrator's ServiceVPCP writes it
        _, answer = await self.call("updateStatus", {"status": status, "docid": doc_id, **params})
        return answer

    async def agencies(self) -> dict[str, Any]:
        _, answer = await self.call("getAgenciesList", {})
        return answer
