"""The conformance driver of the gateway's national-axis façade (gateway.conformance.driver).

Both parties are department systems that use the axis' SDK against the gateway: they send
with sendEdoc and collect with getReceivedEdocList, getEdoc and updateStatus done, every call
signed the SDK's way with the agency's vdxp_secret, through gateway.vdxp's client.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from zoneinfo import ZoneInfo

from gateway.conformance.driver import Outcome, Received
from gateway.vdxp.calls import MESSAGE_TYPES
from gateway.vdxp.client import AxisClient, AxisRefused

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class FacadeDriver:
    """`systems` maps each party's organ id to its (systemid, secret) at the gateway; `url` is
    the gateway's agency listener. Only items whose bytes hold `marker` (the stories' run id)
    are collected and acknowledged; anything else in the inbox is left alone."""

    name = "vdxp"

    def __init__(
        self,
        url: str,
        systems: Mapping[str, tuple[str, str]],
        *,
        marker: str | None = None,
        tz: tzinfo = VIETNAM,
        timeout_s: float = 60.0,
    ) -> None:
        self._clients = {
            agency: AxisClient(
                url.rstrip("/") + "/vdxp",
                systemid=systemid,
                secret=secret,
                tz=tz,
                timeout_s=timeout_s,
            )
            for agency, (systemid, secret) in systems.items()
        }
        self._marker = marker.encode() if marker else None
        self._collected: dict[str, list[Received]] = {}
        self._down: set[str] = set()

    async def open(self) -> None:
        for client in self._clients.values():
            await client.open()

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()

    def _client(self, agency: str) -> AxisClient:
        found = self._clients.get(agency)
        if found is None:
            raise KeyError(f"no systemid and secret for {agency}")
        return found

    async def send(self, raw: bytes, sender: str) -> Outcome:
        try:
            doc_id = await self._client(sender).send_edoc(raw, kind=None)
        except AxisRefused as refused:
            if refused.answer is None:
                return Outcome(accepted=False, code="not_sent", detail=refused.reason)
            code, _, detail = refused.answer.error_desc.partition(": ")
            return Outcome(accepted=False, code=code, detail=detail)
        return Outcome(accepted=True, id=doc_id)

    async def received(self, recipient: str) -> list[Received]:
        collected = self._collected.setdefault(recipient, [])
        if recipient not in self._down:
            collected += await self._pull(self._client(recipient))
        return list(collected)

    async def _pull(self, client: AxisClient) -> list[Received]:
        taken: list[Received] = []
        for kind in MESSAGE_TYPES:
            for item in await client.received(kind):
                body = await client.get_edoc(item.doc_id)
                if self._marker is not None and self._marker not in body:
                    continue
                await client.update_status(item.doc_id, "done")
                taken.append(Received("status" if kind == "status" else "edoc", body, item.doc_id))
        return taken

    async def recipient_down(self, recipient: str) -> None:
        self._down.add(recipient)  # a department that is down does not call getReceivedEdocList

    async def recipient_up(self, recipient: str) -> None:
        self._down.discard(recipient)
