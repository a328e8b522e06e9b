"""Urgent documents overtake normal ones on the way to the recipient, not only in the listing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.config import BusSettings
from tests.api.test_exchange import wait_inbox
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, bearer, make_settings


async def test_an_urgent_document_is_delivered_ahead_of_a_backlog(
    net_factory: Any, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", bus=BusSettings(prefetch=1))
    net = await net_factory(settings)
    await net.gateway.dispatcher.close()  # the recipient's side stalls: a backlog builds up
    for number in range(20):
        raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id=f"N-{number}")
        assert (await net[FINANCE.id].submit(raw))[0] == 202
    urgent = document_bytes(
        sender=FINANCE.id, recipients=(CITY.id,), document_id="HOA-TOC", priority=3
    )
    status, receipt = await net[FINANCE.id].submit(urgent)
    assert status == 202

    await net.gateway.dispatcher.start()
    await wait_inbox(net, CITY.id, 21)
    response = await net.ops.get(
        "/v1/audit/events", params={"limit": "1000"}, headers=bearer(AUDITOR_TOKEN)
    )
    delivered = [
        e["message_id"] for e in (await response.json())["events"] if e["event"] == "delivered"
    ]
    assert delivered[0] == receipt["id"]

    _, trace = await net[FINANCE.id].trace(receipt["id"])
    assert (trace["priority"], trace["urgent"]) == (3, True)
