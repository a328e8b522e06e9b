"""The agency HTTP API and the mailbox: send with POST /v1/documents or /v1/statuses, collect
by listing the inbox, fetching each item and acknowledging it (DESIGN §4.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from gateway.conformance.driver import Kind, Outcome, Received
from gateway.edxml import StatusMessage, parse_message

PAGE = 100


def is_status(raw: bytes) -> bool:
    """Statuses go to their own call; anything unreadable goes to /v1/documents, which says
    what is wrong with it."""
    try:
        return isinstance(parse_message(raw), StatusMessage)
    except Exception:
        return False


async def outcome_of(response: aiohttp.ClientResponse) -> Outcome:
    try:
        body: Any = await response.json(content_type=None)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status in (200, 202):
        return Outcome(accepted=True, id=body.get("id"))
    return Outcome(
        accepted=False,
        code=body.get("code") or f"http_{response.status}",
        detail=body.get("detail"),
    )


class AgencyApiClient:
    """The agency API as the conformance drivers use it, one bearer token per agency."""

    def __init__(self, session: aiohttp.ClientSession, url: str, tokens: Mapping[str, str]):
        self._session = session
        self._url = url.rstrip("/")
        self._tokens = dict(tokens)

    def _headers(self, agency: str) -> dict[str, str]:
        token = self._tokens.get(agency)
        if token is None:
            raise KeyError(f"no token for {agency}")
        return {"Authorization": f"Bearer {token}"}

    async def send(self, raw: bytes, sender: str) -> Outcome:
        path = "/v1/statuses" if is_status(raw) else "/v1/documents"
        headers = {**self._headers(sender), "Content-Type": "application/xml"}
        async with self._session.post(self._url + path, data=raw, headers=headers) as response:
            return await outcome_of(response)

    async def pull(self, agency: str, marker: str | None = None) -> list[Received]:
        """What waits in the agency's inbox (only items whose DocumentId holds `marker`, if
        given): listed, fetched and acknowledged."""
        headers = self._headers(agency)
        taken: list[Received] = []
        after: str | None = None
        while True:
            params = {"limit": str(PAGE), **({"after": after} if after else {})}
            async with self._session.get(
                self._url + "/v1/inbox", params=params, headers=headers
            ) as response:
                response.raise_for_status()
                page = await response.json()
            for item in page["items"]:
                if marker is None or marker in item["document_id"]:
                    taken.append(await self._take(headers, item))
            after = page["next"]
            if after is None:
                return taken

    async def _take(self, headers: dict[str, str], item: dict[str, Any]) -> Received:
        url = f"{self._url}/v1/inbox/{item['delivery_id']}"
        async with self._session.get(url, headers=headers) as response:
            response.raise_for_status()
            body = await response.read()
        async with self._session.post(url + "/ack", headers=headers) as response:
            response.raise_for_status()
        kind: Kind = "status" if item["kind"] == "status" else "edoc"
        return Received(kind, body, item["delivery_id"])


class HttpDriver:
    """Both parties send through the agency API and collect from their mailbox."""

    name = "http"

    def __init__(self, api: AgencyApiClient, marker: str | None = None) -> None:
        self._api = api
        self._marker = marker  # leave alone what the stories did not send
        self._collected: dict[str, list[Received]] = {}
        self._down: set[str] = set()

    async def send(self, raw: bytes, sender: str) -> Outcome:
        return await self._api.send(raw, sender)

    async def received(self, recipient: str) -> list[Received]:
        collected = self._collected.setdefault(recipient, [])
        if recipient not in self._down:
            collected += await self._api.pull(recipient, self._marker)
        return list(collected)

    async def recipient_down(self, recipient: str) -> None:
        self._down.add(recipient)  # a mailbox department that is down does not collect

    async def recipient_up(self, recipient: str) -> None:
        self._down.discard(recipient)
