"""Webhook departments: they send through the agency API and take deliveries at their URL,
here a Receiver per agency that checks each signature. Down is a 500 answer or, with
`down="unreachable"`, nothing listening at all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from gateway.conformance.driver import Outcome, Received
from gateway.conformance.http_driver import AgencyApiClient
from gateway.conformance.receiver import Receiver


class WebhookDriver:
    name = "webhook"

    def __init__(
        self,
        api: AgencyApiClient,
        receivers: Mapping[str, Receiver],
        down: Literal["error", "unreachable"] = "error",
    ) -> None:
        self._api = api
        self.receivers = dict(receivers)
        self._down = down

    async def send(self, raw: bytes, sender: str) -> Outcome:
        return await self._api.send(raw, sender)

    async def received(self, recipient: str) -> list[Received]:
        return list(self.receivers[recipient].taken)

    async def recipient_down(self, recipient: str) -> None:
        await self.receivers[recipient].fail(self._down)

    async def recipient_up(self, recipient: str) -> None:
        await self.receivers[recipient].fail("no")
