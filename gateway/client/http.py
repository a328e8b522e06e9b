"""The agency API over HTTP: an async client, and a blocking one on top of it."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from gateway.client.models import (
    Fetched,
    InboxItem,
    InboxPage,
    Receipt,
    Refused,
    StatusReceipt,
    Unreachable,
)

XML = "application/xml"
PROBLEM_CHARS = 300
Answer = tuple[int, bytes, CIMultiDictProxy[str]]


class GatewayClient:
    """One department's calls to the gateway: `async with GatewayClient(url, token) as gw`.

    A refusal raises `Refused` carrying the problem+json; a network failure `Unreachable`."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout_s: float = 60.0,
        tls: ssl.SSLContext | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._url = url.rstrip("/")
        self._authorization = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._tls: ssl.SSLContext | bool = tls if tls is not None else True
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, raw: bytes, *, secrecy: str | None = None) -> Receipt:
        """Submit a document to every To of its edXML."""
        headers = {"Content-Type": XML} | ({"Edoc-Secrecy": secrecy} if secrecy else {})
        status, body, _ = await self._call("POST", "/v1/documents", data=raw, headers=headers)
        return Receipt.of(json.loads(body), replayed=status == 200)

    async def send_status(self, raw: bytes) -> StatusReceipt:
        """Send a processing status about a document received."""
        status, body, _ = await self._call(
            "POST", "/v1/statuses", data=raw, headers={"Content-Type": XML}
        )
        answer = json.loads(body)
        return StatusReceipt(id=answer["id"], to=answer["to"], replayed=status == 200)

    async def inbox(
        self, *, kind: str | None = None, limit: int = 100, after: str | None = None
    ) -> InboxPage:
        """One page of what waits, urgent first, then oldest."""
        params = {"limit": str(limit)} | ({"kind": kind} if kind else {})
        params |= {"after": after} if after else {}
        _, body, _ = await self._call("GET", "/v1/inbox", params=params)
        page = json.loads(body)
        return InboxPage(tuple(InboxItem.of(item) for item in page["items"]), page["next"])

    async def inbox_all(self, *, kind: str | None = None) -> list[InboxItem]:
        items: list[InboxItem] = []
        after: str | None = None
        while True:
            page = await self.inbox(kind=kind, limit=1000, after=after)
            items += page.items
            if page.next is None:
                return items
            after = page.next

    async def fetch(self, delivery_id: str) -> Fetched:
        _, body, headers = await self._call("GET", f"/v1/inbox/{delivery_id}")
        return Fetched(
            delivery_id=headers.get("Edoc-Delivery-Id", delivery_id),
            kind=headers.get("Edoc-Kind", ""),
            sender=headers.get("Edoc-From", ""),
            message_id=headers.get("Edoc-Message-Id", ""),
            body=body,
        )

    async def ack(self, delivery_id: str) -> None:
        """The department has stored the item: it leaves the inbox (acknowledging twice is
        not an error)."""
        await self._call("POST", f"/v1/inbox/{delivery_id}/ack")

    async def trace(self, message_id: str) -> dict[str, Any]:
        _, body, _ = await self._call("GET", f"/v1/documents/{message_id}/trace")
        found: dict[str, Any] = json.loads(body)
        return found

    async def agencies(self) -> list[dict[str, Any]]:
        _, body, _ = await self._call("GET", "/v1/agencies")
        found: list[dict[str, Any]] = json.loads(body)
        return found

    async def _call(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        try:
            async with self._http().request(
                method,
                self._url + path,
                data=data,
                params=params,
                headers={**self._authorization, **(headers or {})},
                ssl=self._tls,
            ) as response:
                answer = response.status, await response.read(), response.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unreachable(f"{method} {self._url}{path}: {type(exc).__name__}: {exc}") from None
        if answer[0] >= 400:
            raise Refused(_problem(answer[0], answer[1]))
        return answer

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


def _problem(status: int, body: bytes) -> dict[str, Any]:
    try:
        problem = json.loads(body)
    except ValueError:
        problem = None
    if isinstance(problem, dict) and "code" in problem:
        return problem
    text = body[:PROBLEM_CHARS].decode("utf-8", "replace")
    return {"status": status, "code": "http_error", "title": "HTTP error", "detail": text}


class SyncGatewayClient:
    """The same calls, blocking, for scripts: `with SyncGatewayClient(url, token) as gw`.
    It runs its own event loop, so it cannot be used from inside a running one."""

    def __init__(self, url: str, token: str, **options: Any) -> None:
        self._runner = asyncio.Runner()
        self._client = GatewayClient(url, token, **options)

    def __enter__(self) -> SyncGatewayClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._runner.run(self._client.close())
        self._runner.close()

    def send(self, raw: bytes, *, secrecy: str | None = None) -> Receipt:
        return self._runner.run(self._client.send(raw, secrecy=secrecy))

    def send_status(self, raw: bytes) -> StatusReceipt:
        return self._runner.run(self._client.send_status(raw))

    def inbox(
        self, *, kind: str | None = None, limit: int = 100, after: str | None = None
    ) -> InboxPage:
        return self._runner.run(self._client.inbox(kind=kind, limit=limit, after=after))

    def inbox_all(self, *, kind: str | None = None) -> list[InboxItem]:
        return self._runner.run(self._client.inbox_all(kind=kind))

    def fetch(self, delivery_id: str) -> Fetched:
        return self._runner.run(self._client.fetch(delivery_id))

    def ack(self, delivery_id: str) -> None:
        self._runner.run(self._client.ack(delivery_id))

    def trace(self, message_id: str) -> dict[str, Any]:
        return self._runner.run(self._client.trace(message_id))

    def agencies(self) -> list[dict[str, Any]]:
        return self._runner.run(self._client.agencies())
