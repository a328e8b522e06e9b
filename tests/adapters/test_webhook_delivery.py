"""The webhook adapter in a running gateway: outages, dead letters, replay, Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp import web
from prometheus_client import REGISTRY

from gateway.config import AdapterSettings, BusSettings, DeliverySettings
from tests.adapters.fakes import Request, ScriptedReceiver
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import CITY, FINANCE, OPERATOR_TOKEN, bearer, make_settings
from tests.waiting import eventually

SECRET = "webhook-secret-0123456789abcdef-0123"
INSTANCE = "so-tc-webhook"


@pytest.fixture
async def hook() -> AsyncIterator[ScriptedReceiver]:
    receiver = ScriptedReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def webhook_net(
    net_factory: Any, tmp_path: Path, hook: ScriptedReceiver, **sections: Any
) -> Net:
    delivery = DeliverySettings(
        adapter="webhook", name=INSTANCE, options={"url": hook.url, "hmac_secret": SECRET}
    )
    settings = make_settings(tmp_path / "data", deliveries={CITY.id: delivery}, **sections)
    net: Net = await net_factory(settings)
    return net


def counted(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "edocgw_adapter_deliveries_total", {"adapter_instance": INSTANCE, "outcome": outcome}
    )
    return value or 0.0


async def adapters(net: Net) -> dict[str, dict[str, Any]]:
    response = await net.ops.get("/v1/ops/adapters", headers=bearer(OPERATOR_TOKEN))
    assert response.status == 200
    return {row["agency"]: row for row in await response.json()}


async def dead_letters(net: Net) -> list[dict[str, Any]]:
    response = await net.ops.get("/v1/ops/dead-letters", headers=bearer(OPERATOR_TOKEN))
    rows: list[dict[str, Any]] = await response.json()
    return rows


async def test_an_outage_of_500s_then_silence_delivers_every_document_exactly_once_after(
    net_factory: Any, tmp_path: Path, hook: ScriptedReceiver
) -> None:
    delivered_ids: list[str] = []

    def script(request: Request, n: int) -> web.Response | None:
        if n < 3:
            return web.Response(status=500)
        delivered_ids.append(request.headers["Edoc-Delivery-Id"])
        return None

    hook.answer = script
    net = await webhook_net(
        net_factory,
        tmp_path,
        hook,
        adapters=AdapterSettings(backoff_initial_s=0.05, backoff_max_s=0.4),
        bus=BusSettings(max_attempts=12, retry_initial_s=0.05, retry_max_s=0.2),
    )
    retries_before = counted("retry") + counted("deferred")
    expected: dict[str, bytes] = {}

    async def send(number: int) -> None:
        raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id=f"OUT-{number}")
        status, receipt = await net[FINANCE.id].submit(raw)
        assert status == 202
        expected[receipt["recipients"][0]["delivery_id"]] = raw

    await send(0)
    await eventually(lambda: asyncio.sleep(0, len(hook.requests)), lambda n: n >= 3)
    await hook.stop()  # and now nothing listens at all
    for number in range(1, 30):
        await send(number)
    row = (await eventually(lambda: adapters(net), lambda rows: rows[CITY.id]["failures"] >= 4))[
        CITY.id
    ]
    assert (row["instance"], row["adapter"], row["state"]) == (INSTANCE, "webhook", "backing_off")
    assert row["last_error"].startswith("cannot reach the receiver")
    await asyncio.sleep(2.0)  # the outage goes on
    await hook.start()  # the same port

    await eventually(lambda: asyncio.sleep(0, len(delivered_ids)), lambda n: n >= 30)
    assert sorted(delivered_ids) == sorted(expected)  # each one, once
    bodies = {r.headers["Edoc-Delivery-Id"]: r.body for r in hook.requests[3:]}
    assert bodies == expected
    assert await dead_letters(net) == []
    row = (await eventually(lambda: adapters(net), lambda rows: rows[CITY.id]["state"] == "up"))[
        CITY.id
    ]
    assert (row["failures"], row["retry_at"]) == (0, None)
    # Paused, the agency's queue was not worked through at every retry: far fewer failed
    # attempts than documents waiting, let alone documents times retries.
    assert counted("retry") + counted("deferred") - retries_before < 30


async def test_after_the_last_attempt_the_delivery_is_dead_lettered_traced_and_replayable(
    net_factory: Any, tmp_path: Path, hook: ScriptedReceiver
) -> None:
    up = False

    def script(request: Request, n: int) -> web.Response | None:
        return None if up else web.Response(status=503, text="bảo trì")

    hook.answer = script
    net = await webhook_net(
        net_factory,
        tmp_path,
        hook,
        bus=BusSettings(max_attempts=3, retry_initial_s=0.05, retry_max_s=0.05),
    )
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id="DEAD-1")
    with structlog.testing.capture_logs() as logs:
        status, receipt = await net[FINANCE.id].submit(raw)
        assert status == 202
        [letter] = await eventually(lambda: dead_letters(net), lambda rows: len(rows) == 1)
    assert (letter["agency"], letter["attempts"]) == (CITY.id, 3)
    assert letter["delivery_id"] == receipt["recipients"][0]["delivery_id"]
    assert letter["reason"] == "the receiver answered HTTP 503"
    assert len(hook.requests) == 3
    _, trace = await net[FINANCE.id].trace(receipt["id"])
    [row] = trace["recipients"]
    assert [(e["event"], e.get("reason")) for e in row["events"]] == [
        ("accepted", None),
        ("delivery_failed", "the receiver answered HTTP 503"),
    ]
    assert row["state"] == "failed"
    assert SECRET not in repr(logs)
    assert "DEAD-1" not in repr(logs)  # no body (the DocumentId is in the body)
    assert {e["event"] for e in logs} >= {"adapter_backing_off", "delivery_retry"}

    up = True
    replay = await net.ops.post(
        f"/v1/ops/dead-letters/{letter['id']}/replay", headers=bearer(OPERATOR_TOKEN)
    )
    assert replay.status == 202
    _, trace = await eventually(
        lambda: net[FINANCE.id].trace(receipt["id"]),
        lambda found: found[1]["recipients"][0]["state"] == "delivered",
    )
    assert [e["event"] for e in trace["recipients"][0]["events"]] == [
        "accepted",
        "delivery_failed",
        "replayed",
        "delivered",
    ]
    assert trace["recipients"][0]["events"][-1]["via"] == "push"
    assert [r.body for r in hook.requests] == [raw] * 4
    assert await dead_letters(net) == []


async def test_a_refusal_for_good_is_dead_lettered_at_once_and_is_a_failed_attempt(
    net_factory: Any, tmp_path: Path, hook: ScriptedReceiver
) -> None:
    hook.answer = lambda request, n: web.Response(status=422) if n == 0 else None
    net = await webhook_net(net_factory, tmp_path, hook)
    first = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    _, receipt = await net[FINANCE.id].submit(first)
    [letter] = await eventually(lambda: dead_letters(net), lambda rows: len(rows) == 1)
    assert (letter["attempts"], letter["reason"]) == (1, "the receiver refused it: HTTP 422")
    _, trace = await net[FINANCE.id].trace(receipt["id"])
    assert trace["recipients"][0]["events"][-1]["event"] == "delivery_failed"
    city = (await adapters(net))[CITY.id]
    assert (city["failures"], city["last_error"]) == (1, "the receiver refused it: HTTP 422")
    second = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    assert (await net[FINANCE.id].submit(second))[0] == 202
    await eventually(lambda: asyncio.sleep(0, len(hook.requests)), lambda n: n == 2)
    assert hook.requests[1].body == second
    city = await eventually(lambda: adapters(net), lambda rows: rows[CITY.id]["state"] == "up")
    assert city[CITY.id]["failures"] == 0


async def test_a_receiver_answering_404_to_everything_shows_failing_not_up(
    net_factory: Any, tmp_path: Path, hook: ScriptedReceiver
) -> None:
    hook.answer = lambda request, n: web.Response(status=404)
    backoff = AdapterSettings(backoff_initial_s=0.05, backoff_max_s=0.05)
    net = await webhook_net(net_factory, tmp_path, hook, adapters=backoff)
    failed_before = counted("failed")
    for n in range(3):
        raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id=f"NF-{n}")
        assert (await net[FINANCE.id].submit(raw))[0] == 202
    await eventually(lambda: dead_letters(net), lambda rows: len(rows) == 3)

    city = (await adapters(net))[CITY.id]
    assert (city["state"], city["failures"]) == ("backing_off", 3)
    assert city["last_error"] == "the receiver refused it: HTTP 404"
    response = await net.ops.get("/v1/ops/queues", headers=bearer(OPERATOR_TOKEN))
    [row] = [r for r in await response.json() if r["agency"] == CITY.id]
    assert (row["adapter"], row["state"], row["failures"], row["dead"]) == (
        "webhook",
        "backing_off",
        3,
        3,
    )
    assert row["last_error"] == "the receiver refused it: HTTP 404"
    assert row["next_attempt_at"] is not None
    assert counted("failed") - failed_before == 3


async def test_retry_after_is_honoured(
    net_factory: Any, tmp_path: Path, hook: ScriptedReceiver
) -> None:
    hook.answer = lambda request, n: (
        web.Response(status=429, headers={"Retry-After": "1"}) if n == 0 else None
    )
    backoff = AdapterSettings(backoff_initial_s=0.05, backoff_max_s=5)  # Retry-After: up to 5 s
    net = await webhook_net(net_factory, tmp_path, hook, adapters=backoff)
    status, _ = await net[FINANCE.id].submit(
        document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    )
    assert status == 202
    row = (await eventually(lambda: adapters(net), lambda rows: rows[CITY.id]["failures"] == 1))[
        CITY.id
    ]
    assert row["retry_at"] is not None
    await eventually(lambda: asyncio.sleep(0, len(hook.requests)), lambda n: n == 2)
    first, second = hook.requests
    assert second.at - first.at >= 0.95  # not the 0.05 s the backoff alone would wait
