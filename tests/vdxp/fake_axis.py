"""A national axis for the tests: the SDK's operations over aiohttp, holding what the ministries
send the city and recording what the city sends and acknowledges.

It checks the signing of every call on its own (not with gateway.vdxp, so that a mistake
shared by the signer and the gateway's verifier cannot pass): the three signing headers,
the HMAC-SHA256 of the JSON under the secret, each parameter sent both bare and as
`XroadVnpt-<name>` with its signed value, the systemid and a timestamp within five minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOW_S = 300


@dataclass
class Held:
    doc_id: str
    kind: str
    sender: str
    raw: bytes


@dataclass
class Upload:
    params: dict[str, str]
    body: bytes


@dataclass
class FakeAxis:
    systemid: str
    secret: str
    clock: Callable[[], float] = time.time
    url: str = ""  # where the test server listens
    held: dict[str, Held] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)
    acks: list[tuple[str, str, str]] = field(default_factory=list)  # docId, status, description
    refusals: list[tuple[str, str]] = field(default_factory=list)  # operation, why
    calls: list[tuple[str, float]] = field(default_factory=list)  # operation, monotonic time
    down: bool = False  # answer 503 with an HTML page, as a proxy in front of a dead axis
    fail_acks: int = 0  # answer the next n updateStatus calls with HTTP 500
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def hold(self, raw: bytes, *, sender: str, kind: str = "edoc") -> str:
        doc_id = f"axis-{next(self._ids)}"
        self.held[doc_id] = Held(doc_id, kind, sender, raw)
        return doc_id

    def count(self, operation: str) -> int:
        return sum(1 for called, _ in self.calls if called == operation)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{operation}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        operation = request.match_info["operation"]
        self.calls.append((operation, time.monotonic()))
        if self.down:
            return web.Response(status=503, text="<html>Service Unavailable</html>")
        params = self.check_signing(request)
        if isinstance(params, str):
            self.refusals.append((operation, params))
            return _answer("FAIL", "401", params, http_status=401)
        handler = {
            "sendEdoc": self._send,
            "getReceivedEdocList": self._list,
            "getEdoc": self._get,
            "updateStatus": self._update,
        }.get(operation)
        if handler is None:
            return _answer("FAIL", "404", f"no operation {operation}", http_status=404)
        return await handler(request, params)

    def check_signing(self, request: web.Request) -> dict[str, str] | str:
        """The signed parameters, or why the call is refused."""
        names_header = request.headers.get("XroadVnpt-sign-header-key")
        signed_header = request.headers.get("XroadVnpt-sign-header")
        digest = request.headers.get("XroadVnpt-hash-header")
        if not (names_header and signed_header and digest):
            return "missing signing header"
        expected = hmac.new(self.secret.encode(), signed_header.encode(), hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), digest):
            return "wrong HMAC"
        signed = json.loads(signed_header)
        names = names_header.split(";")
        if set(signed) != {f"XroadVnpt-{n}" for n in names}:
            return "sign-header-key and sign-header disagree"
        for name in names:
            value = signed[f"XroadVnpt-{name}"]
            if (
                request.headers.get(name) != value
                or request.headers.get(f"XroadVnpt-{name}") != value
            ):
                return f"header {name} missing or not as signed"
        if signed.get("XroadVnpt-systemid") != self.systemid:
            return "unknown systemid"
        stamp = datetime.strptime(signed.get("XroadVnpt-timestamp", ""), "%d%m%YT%H%M%S+%f")
        if abs(self.clock() - stamp.replace(tzinfo=VIETNAM).timestamp()) > WINDOW_S:
            return "stale timestamp"
        return {name: signed[f"XroadVnpt-{name}"] for name in names}

    async def _send(self, request: web.Request, params: dict[str, str]) -> web.Response:
        body = await request.read()
        digest = hashlib.sha256(body).digest()
        if params.get("hash-file") != "".join(f"{b:x}" for b in digest):
            return _answer("FAIL", "400", "hash-file does not match")
        self.uploads.append(Upload(params, body))
        return _answer("OK", "0", "Success", DocId=f"sent-{len(self.uploads)}")

    async def _list(self, request: web.Request, params: dict[str, str]) -> web.Response:
        kind = params.get("messagetype", "edoc")
        data = [
            {
                "docId": h.doc_id,
                "serviceType": "eDoc",
                "messageType": h.kind,
                "from": h.sender,
                "to": self.systemid,
                "status": "initial",
            }
            for h in self.held.values()
            if h.kind == kind
        ]
        return _answer("OK", "0", "Success", data=data)

    async def _get(self, request: web.Request, params: dict[str, str]) -> web.Response:
        held = self.held.get(params.get("docId", ""))
        if held is None:
            return _answer("FAIL", "404", "no such document")
        return _answer("OK", "0", "Success", data=base64.b64encode(held.raw).decode())

    async def _update(self, request: web.Request, params: dict[str, str]) -> web.Response:
        if self.fail_acks:
            self.fail_acks -= 1
            return _answer("FAIL", "500", "try again", http_status=500)
        doc_id, status = params.get("docId", ""), params.get("status", "")
        if doc_id not in self.held or status not in ("done", "processing", "fail"):
            return _answer("FAIL", "400", "bad docId or status")
        self.acks.append((doc_id, status, params.get("description", "")))
        if status != "processing":
            del self.held[doc_id]
        return _answer("OK", "0", "Success")


def _answer(
    status: str, code: str, desc: str, *, http_status: int = 200, **extra: Any
) -> web.Response:
    body = {"status": status, "ErrorCode": code, "ErrorDesc": desc, **extra}
    return web.json_response(body, status=http_status)
