"""Per-agency backoff: jittered, persisted across a restart, shared between nodes through the
store, and reset by an operator; the operator's API and metrics show it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from gateway.adapter_api import AdapterHost, OutboundItem, TemporaryFailure
from gateway.bus.local.bus import LocalBus
from gateway.config import AdapterSettings, DatabaseSettings
from gateway.delivery.backoff import BackoffPolicy, BackoffState, BackoffStore
from gateway.delivery.pacing import Instance, Pacing
from gateway.store import open_database
from gateway.store.db import Database
from tests.adapters.fakes import item
from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, OPERATOR_TOKEN, bearer, make_settings
from tests.waiting import eventually


def test_the_wait_doubles_up_to_the_ceiling_with_jitter() -> None:
    policy = BackoffPolicy(initial_s=10, max_s=3600, jitter=0.2)
    rng = random.Random(7)
    for failures, base in [(1, 10), (2, 20), (3, 40), (9, 2560), (10, 3600), (500, 3600)]:
        delays = [policy.delay(failures, rng) for _ in range(200)]
        assert base * 0.8 <= min(delays) < max(delays) <= base * 1.2
    assert BackoffPolicy(jitter=0).delay(1) == 10.0
    assert (policy.honour(7), policy.honour(-3), policy.honour(10**9)) == (7, 0, 3600)
    assert BackoffPolicy.of(
        AdapterSettings(backoff_initial_s=2, backoff_max_s=60)
    ) == BackoffPolicy(initial_s=2, max_s=60)


def test_a_state_remembers_when_the_outage_began_and_forgets_it_when_up() -> None:
    state = BackoffState("A", "webhook:A")
    first = state.failed("HTTP 500", 10, now=100.0)
    second = first.failed("timed out", 20, now=111.0)
    assert (second.failures, second.retry_at, second.since, second.last_error) == (
        2,
        131.0,
        100.0,
        "timed out",
    )
    assert second.waiting(130.0) and not second.waiting(131.0)
    cleared = second.cleared(now=140.0)
    assert (cleared.up, cleared.retry_at, cleared.since, cleared.last_error) == (
        True,
        None,
        None,
        "timed out",
    )
    assert len(state.failed("x" * 5000, 1, 0).last_error or "") == 500


class Switchable:
    """A department system that is down until the test says otherwise; counts the calls."""

    up = False
    calls = 0

    def __init__(
        self, *, instance: str, agency: str, options: Mapping[str, Any], host: AdapterHost
    ) -> None:
        self._host = host

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def deliver(self, item: OutboundItem) -> None:
        Switchable.calls += 1
        if not Switchable.up:
            raise TemporaryFailure("the department's system answered 503")
        await self._host.hold_for_pickup(item)


async def adapters(net: Net) -> dict[str, dict[str, Any]]:
    response = await net.ops.get("/v1/ops/adapters", headers=bearer(OPERATOR_TOKEN))
    assert response.status == 200
    return {row["agency"]: row for row in await response.json()}


def switchable_settings(data: Path, initial_s: float) -> Any:
    from gateway.config import DeliverySettings

    return make_settings(
        data,
        deliveries={CITY.id: DeliverySettings(adapter="switchable", name="so-tc-switch")},
        adapters=AdapterSettings(backoff_initial_s=initial_s, backoff_max_s=initial_s),
    )


async def test_the_backoff_survives_a_restart_and_an_operator_reset_ends_it(
    net_factory: Any, tmp_path: Path
) -> None:
    Switchable.up, Switchable.calls = False, 0
    factories = {"switchable": Switchable}
    net = await net_factory(
        switchable_settings(tmp_path / "data", 600), adapter_factories=factories
    )
    first = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    assert (await net[FINANCE.id].submit(first))[0] == 202
    rows = await eventually(lambda: adapters(net), lambda rows: rows[CITY.id]["failures"] == 1)
    row = rows[CITY.id]
    assert {k: row[k] for k in ("instance", "adapter", "state", "last_error")} == {
        "instance": "so-tc-switch",
        "adapter": "switchable",
        "state": "backing_off",
        "last_error": "the department's system answered 503",
    }
    assert rows[FINANCE.id] == {
        "instance": f"mailbox:{FINANCE.id}",
        "agency": FINANCE.id,
        "adapter": "mailbox",
        "state": "up",
        "failures": 0,
        "retry_at": None,
        "since": None,
        "last_error": None,
    }
    await net.gateway.close()

    Switchable.up = True  # the system came back, but the gateway does not know it
    net = await net_factory(
        switchable_settings(tmp_path / "data", 600), adapter_factories=factories
    )
    second = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    assert (await net[FINANCE.id].submit(second))[0] == 202
    after_restart = (await adapters(net))[CITY.id]
    assert after_restart == row  # the same retry time: persisted, not restarted
    metrics = await (await net.ops.get("/metrics")).text()
    assert 'edocgw_adapter_up{adapter_instance="so-tc-switch"} 0.0' in metrics
    assert 'edocgw_adapter_consecutive_failures{adapter_instance="so-tc-switch"} 1.0' in metrics
    assert Switchable.calls == 1  # nothing tried since: the pause holds for ten minutes

    for headers in ({}, bearer(AUDITOR_TOKEN), bearer(CITY.token)):
        denied = await net.ops.post(f"/v1/ops/adapters/{CITY.id}/reset", headers=headers)
        assert denied.status in (401, 403)
    missing = await net.ops.post(
        "/v1/ops/adapters/000.00.00.Z99/reset", headers=bearer(OPERATOR_TOKEN)
    )
    assert (missing.status, (await missing.json())["code"]) == (404, "not_found")
    reset = await net.ops.post(f"/v1/ops/adapters/{CITY.id}/reset", headers=bearer(OPERATOR_TOKEN))
    assert reset.status == 200
    assert (await reset.json())["state"] == "up"
    # The queue flows again at once; the item put back at the failure keeps its own retry
    # time (ten minutes): an operator replays nothing, the second document goes through now.
    [held] = await wait_inbox(net, CITY.id, 1)
    assert held["size"] == len(second)
    row = (await adapters(net))[CITY.id]
    assert (row["state"], row["failures"], row["last_error"]) == (
        "up",
        0,
        "the department's system answered 503",
    )
    events = await (await net.ops.get("/v1/audit/events", headers=bearer(AUDITOR_TOKEN))).json()
    [entry] = [e for e in events["events"] if e["event"] == "adapter_reset"]
    assert (entry["actor"], entry["recipient"]) == ("ops", CITY.id)


async def test_when_the_retry_time_comes_one_probe_goes_first(
    net_factory: Any, tmp_path: Path
) -> None:
    Switchable.up, Switchable.calls = False, 0
    net = await net_factory(
        switchable_settings(tmp_path / "data", 0.3), adapter_factories={"switchable": Switchable}
    )
    for _ in range(20):
        raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
        assert (await net[FINANCE.id].submit(raw))[0] == 202
    await eventually(lambda: adapters(net), lambda rows: rows[CITY.id]["failures"] >= 3)
    # Each retry time lets one item through, not the queue: the calls grow by one per pause.
    assert Switchable.calls <= (await adapters(net))[CITY.id]["failures"] + 20
    calls = Switchable.calls
    failures = (await adapters(net))[CITY.id]["failures"]
    await eventually(lambda: adapters(net), lambda rows: rows[CITY.id]["failures"] >= failures + 2)
    grown = (await adapters(net))[CITY.id]["failures"] - failures
    assert Switchable.calls - calls == grown
    Switchable.up = True
    await wait_inbox(net, CITY.id, 20)
    assert (await adapters(net))[CITY.id]["state"] == "up"


# --- two nodes, one store ---------------------------------------------------------------------
class Failing:
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def deliver(self, item: OutboundItem) -> None:
        raise TemporaryFailure("connection refused")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[Database, LocalBus]]:
    db = await open_database(DatabaseSettings(), tmp_path)
    bus = LocalBus(tmp_path / "bus.sqlite3")
    await bus.start()
    await bus.declare(["A"])
    yield db, bus
    await bus.close()
    await db.close()


async def test_nodes_adopt_each_others_backoff_and_reset_through_the_store(
    store: tuple[Database, LocalBus],
) -> None:
    db, bus = store

    async def handler(message: Any) -> None: ...

    def node() -> Pacing:
        return Pacing(
            bus=bus,
            db=db,
            clock=__import__("time").time,
            policy=BackoffPolicy(initial_s=600, max_s=600),
            instances={"A": Instance("A", "webhook:A", "webhook")},
            prefetch=4,
            sync_interval_s=0.02,
        )

    one, two = node(), node()
    await one.start(handler)
    await two.start(handler)
    try:
        with pytest.raises(TemporaryFailure) as failure:
            await one.deliver(Failing(), item(recipient="A"))
        assert 480 <= (failure.value.retry_after_s or 0) <= 720
        stored = (await BackoffStore(db).load())["A"]
        assert (stored.failures, stored.last_error) == (1, "connection refused")

        async def deferred_on_two() -> str:
            try:
                await two.deliver(Failing(), item(recipient="A"))
            except TemporaryFailure as exc:
                return exc.reason
            return "tried"

        reason = await eventually(deferred_on_two, lambda r: r.startswith("not tried"))
        assert reason == "not tried: A is backing off after: connection refused"

        await two.reset("A")
        await eventually(lambda: one.stored(), lambda rows: rows["A"].up)

        class Works:
            async def deliver(self, item: OutboundItem) -> None: ...

        async def delivered_on_one() -> bool:
            try:
                await one.deliver(Works(), item(recipient="A"))  # type: ignore[arg-type]
            except TemporaryFailure:
                return False
            return True

        assert await eventually(delivered_on_one, bool)
    finally:
        await one.close()
        await two.close()
