"""Test doubles for adapter unit tests: a host that records, a receiver that follows a script."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.adapter_api import OutboundItem, SubmissionRefused, Submitted


def item(
    delivery_id: str = "d-1",
    *,
    kind: str = "edoc",
    sender: str = "000.00.13.H26",
    recipient: str = "000.00.00.H26",
    document_id: str = "000.00.13.H26,2026/11/27,12/QĐ-UBND",
    attempt: int = 1,
) -> OutboundItem:
    return OutboundItem(
        delivery_id=delivery_id,
        message_id=f"m-{delivery_id}",
        kind=kind,  # type: ignore[arg-type]
        sender=sender,
        recipient=recipient,
        document_id=document_id,
        priority=0,
        size=10,
        attempt=attempt,
    )


@dataclass
class FakeHost:
    base_dir: Path = Path("/nonexistent")
    bodies: dict[str, bytes] = field(default_factory=dict)
    delivered: list[tuple[str, str]] = field(default_factory=list)
    submitted: list[tuple[bytes, str]] = field(default_factory=list)
    refuse: dict[str, Any] | None = None  # the problem every submission is refused with
    audited: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    async def submit(
        self,
        raw: bytes,
        *,
        sender: str,
        secrecy: str | None = None,
        beyond: Collection[str] | None = None,
    ) -> Submitted:
        self.submitted.append((raw, sender))
        if self.refuse is not None:
            raise SubmissionRefused(self.refuse)
        replayed = sum(1 for r, _ in self.submitted if r == raw) > 1
        return Submitted(f"m{len(raw)}", "edoc", "DOC-1", ("000.00.00.H26",), replayed)

    async def read_body(self, item: OutboundItem) -> bytes:
        return self.bodies.get(item.delivery_id, b"<edXML>body</edXML>")

    async def hold_for_pickup(self, item: OutboundItem) -> None:
        raise AssertionError("push adapters do not hold")

    async def confirm_delivered(self, item: OutboundItem, detail: str) -> None:
        self.delivered.append((item.delivery_id, detail))

    async def audit_refusal(self, reason: str, details: Mapping[str, str]) -> None:
        self.audited.append((reason, dict(details)))


@dataclass
class Request:
    at: float
    headers: dict[str, str]
    body: bytes


Answer = Callable[[Request, int], web.StreamResponse | None]  # None: 204


@dataclass
class ScriptedReceiver:
    """A webhook receiver whose answer to the n-th request (from 0) the test decides."""

    answer: Answer = lambda request, n: None
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    delay_s: float = 0.0  # before answering
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?token=query-secret"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        seen = Request(time.time(), dict(request.headers), await request.read())
        self.requests.append(seen)
        await asyncio.sleep(self.delay_s)
        answered = self.answer(seen, len(self.requests) - 1)
        if answered is None:
            return web.Response(status=204)
        return answered
