"""Operators see queue depths and dead letters, and replay what failed once it can succeed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.adapter_api import AdapterHost, OutboundItem, TemporaryFailure
from gateway.config import BusSettings, DeliverySettings
from tests.api.test_exchange import wait_inbox
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, OPERATOR_TOKEN, bearer, make_settings
from tests.waiting import eventually


class Switchable:
    """An adapter whose department system is down until the test says otherwise."""

    up = False

    def __init__(
        self, *, instance: str, agency: str, options: Mapping[str, Any], host: AdapterHost
    ) -> None:
        self._host = host

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def deliver(self, item: OutboundItem) -> None:
        if not Switchable.up:
            raise TemporaryFailure("the department's system answered 503")
        await self._host.hold_for_pickup(item)


async def test_failed_deliveries_dead_letter_and_replay(net_factory: Any, tmp_path: Path) -> None:
    Switchable.up = False
    settings = make_settings(
        tmp_path / "data",
        bus=BusSettings(max_attempts=2, retry_initial_s=0.05, retry_max_s=0.05),
        deliveries={CITY.id: DeliverySettings(adapter="switchable")},
    )
    net = await net_factory(settings, adapter_factories={"switchable": Switchable})
    ops = bearer(OPERATOR_TOKEN)
    status, receipt = await net[FINANCE.id].submit(
        document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    )
    assert status == 202

    async def dead() -> list[dict[str, Any]]:
        response = await net.ops.get("/v1/ops/dead-letters", headers=ops)
        rows: list[dict[str, Any]] = await response.json()
        return rows

    [letter] = await eventually(dead, lambda rows: len(rows) == 1)
    assert letter["agency"] == CITY.id
    assert letter["delivery_id"] == receipt["recipients"][0]["delivery_id"]
    assert letter["attempts"] == 2
    assert "503" in letter["reason"]
    queues = {
        q["agency"]: q for q in await (await net.ops.get("/v1/ops/queues", headers=ops)).json()
    }
    assert (queues[CITY.id]["dead"], queues[CITY.id]["ready"]) == (1, 0)
    assert queues[FINANCE.id] == {
        "agency": FINANCE.id,
        "ready": 0,
        "in_flight": 0,
        "waiting_retry": 0,
        "dead": 0,
        "oldest_age_s": None,
        "adapter": "mailbox",
        "uncollected": 0,
        "uncollected_oldest_age_s": None,
        "last_listed_at": None,
        "last_fetched_at": None,
        "state": "up",
        "failures": 0,
        "last_error": None,
        "next_attempt_at": None,
    }
    assert (queues[CITY.id]["adapter"], queues[CITY.id]["last_error"]) == (
        "switchable",
        "the department's system answered 503",
    )
    _, trace = await net[FINANCE.id].trace(receipt["id"])
    assert [e["event"] for e in trace["recipients"][0]["events"]] == ["accepted", "delivery_failed"]

    Switchable.up = True
    replay = await net.ops.post(f"/v1/ops/dead-letters/{letter['id']}/replay", headers=ops)
    assert replay.status == 202
    await wait_inbox(net, CITY.id, 1)
    assert await dead() == []
    _, trace = await net[FINANCE.id].trace(receipt["id"])
    assert [e["event"] for e in trace["recipients"][0]["events"]] == [
        "accepted",
        "delivery_failed",
        "replayed",
        "delivered",
    ]
    events = await (await net.ops.get("/v1/audit/events", headers=bearer(AUDITOR_TOKEN))).json()
    assert [e["actor"] for e in events["events"] if e["event"] == "replayed"] == ["ops"]


async def test_replaying_an_unknown_dead_letter_is_not_found(net: Any) -> None:
    response = await net.ops.post(
        "/v1/ops/dead-letters/999999/replay", headers=bearer(OPERATOR_TOKEN)
    )
    assert (response.status, (await response.json())["code"]) == (404, "not_found")


async def test_queue_calls_are_for_operators(net: Any) -> None:
    for headers in ({}, bearer(AUDITOR_TOKEN), bearer(CITY.token)):
        response = await net.ops.get("/v1/ops/queues", headers=headers)
        assert response.status in (401, 403)
    purge = await net.ops.delete(
        "/v1/ops/dead-letters", params={"agency": CITY.id}, headers=bearer(OPERATOR_TOKEN)
    )
    assert (purge.status, await purge.json()) == (200, {"agency": CITY.id, "purged": 0})
