"""A department's webhook receiver, for the conformance stories: it checks every request's
signature the way docs/adapters.md tells receivers to (written apart from the adapter on
purpose: the recipe, not the adapter's code, is what receivers implement), keeps what it
took, and can be made to fail: answer 500, or not listen at all.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from gateway.conformance.driver import Kind, Received

MAX_SKEW_S = 300
SIGNED = (
    "Edoc-Timestamp",
    "Edoc-Delivery-Id",
    "Edoc-Message-Id",
    "Edoc-Kind",
    "Edoc-From",
    "Edoc-Document-Id",
)

Failing = Literal["no", "error", "unreachable"]


def verify(secret: bytes, headers: dict[str, str], body: bytes, now: float) -> str | None:
    """None if the request is genuine and fresh, else what is wrong with it."""
    if any(name not in headers for name in (*SIGNED, "Edoc-Signature")):
        return "a signed header is missing"
    try:
        stamp = int(headers["Edoc-Timestamp"])
    except ValueError:
        return "Edoc-Timestamp is not a number"
    if abs(now - stamp) > MAX_SKEW_S:
        return "Edoc-Timestamp is too old or in the future: a replay?"
    signed = "".join(headers[name] + "\n" for name in SIGNED).encode("utf-8") + body
    expected = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers["Edoc-Signature"]):
        return "Edoc-Signature does not match"
    return None


@dataclass
class Receiver:
    """One agency's system behind its webhook URL (http://host:port/)."""

    agency: str
    secret: bytes
    host: str = "127.0.0.1"
    port: int = 0
    failing: Failing = "no"
    taken: list[Received] = field(default_factory=list)
    refused: int = 0  # requests answered 500 while failing
    forged: list[str] = field(default_factory=list)  # requests whose signature did not verify
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def start(self) -> None:
        app = web.Application(client_max_size=1024**3)
        app.router.add_post("/", self._take)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def fail(self, how: Failing) -> None:
        self.failing = how
        if how == "unreachable":
            await self.stop()
        elif self._runner is None:
            await self.start()

    async def _take(self, request: web.Request) -> web.Response:
        body = await request.read()
        problem = verify(self.secret, dict(request.headers), body, time.time())
        if problem is not None:
            self.forged.append(problem)
            return web.Response(status=401, text=problem)
        if self.failing != "no":
            self.refused += 1
            return web.Response(status=500, text="down for maintenance")
        kind: Kind = "status" if request.headers["Edoc-Kind"] == "status" else "edoc"
        self.taken.append(Received(kind, body, request.headers["Edoc-Delivery-Id"]))
        return web.Response(status=204)
