"""An agency whose system stopped collecting shows in the operator's backlog (issue 14, item 1):
`GET /v1/ops/queues` counts what waits uncollected in its inbox, how old the oldest is (from the
gateway's clock), and when the agency last came for it; on the embedded default and on
RabbitMQ + PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.clock import iso
from gateway.config import BusSettings, DatabaseSettings
from gateway.delivery.backlog import Backlog
from gateway.delivery.backlog_metrics import refresh
from gateway.directory import Directory
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import (
    BA_DINH,
    CITY,
    FINANCE,
    HOME_AFFAIRS,
    OPERATOR_TOKEN,
    bearer,
    make_settings,
)
from tests.servers import RabbitVhost
from tests.servers import postgres_admin as postgres_admin  # a session fixture
from tests.servers import postgres_database as postgres_database  # a per-test fixture
from tests.servers import rabbitmq_fresh_vhost as rabbitmq_fresh_vhost  # a per-test fixture
from tests.vdxp.conftest import Moment
from tests.waiting import eventually

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC
HOUR = 3600.0


@pytest.fixture(params=["embedded", "rabbitmq+postgresql"])
async def stack(
    request: pytest.FixtureRequest,
    net_factory: Callable[..., Awaitable[Net]],
    tmp_path: Path,
) -> tuple[Net, Moment]:
    sections: dict[str, Any] = {}
    if request.param != "embedded":
        vhost: RabbitVhost = request.getfixturevalue("rabbitmq_fresh_vhost")
        database: str = request.getfixturevalue("postgres_database")
        sections = {
            "bus": BusSettings(url=vhost.url, retry_initial_s=0.05, retry_max_s=0.2),
            "database": DatabaseSettings(url=database),
        }
    moment = Moment(START)
    net = await net_factory(make_settings(tmp_path / "data", **sections), clock=moment)
    return net, moment


async def queues(net: Net) -> dict[str, dict[str, Any]]:
    response = await net.ops.get("/v1/ops/queues", headers=bearer(OPERATOR_TOKEN))
    assert response.status == 200
    return {row["agency"]: row for row in await response.json()}


async def test_an_agency_that_never_collects_shows_what_waits_and_since_when(
    stack: tuple[Net, Moment],
) -> None:
    net, moment = stack
    for hour in range(3):  # three documents an hour apart; City never lists its inbox
        moment.now = START + hour * HOUR
        raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id=f"B-{hour}")
        assert (await net[FINANCE.id].submit(raw))[0] == 202
    moment.now = START + 26 * HOUR

    rows = await eventually(lambda: queues(net), lambda rows: rows[CITY.id]["uncollected"] == 3)

    city = rows[CITY.id]
    assert city == {
        "agency": CITY.id,
        "ready": 0,
        "in_flight": 0,
        "waiting_retry": 0,
        "dead": 0,
        "oldest_age_s": None,
        "adapter": "mailbox",
        "uncollected": 3,
        "uncollected_oldest_age_s": 26 * HOUR,
        "last_listed_at": None,
        "last_fetched_at": None,
        "state": "up",
        "failures": 0,
        "last_error": None,
        "next_attempt_at": None,
    }
    assert (rows[FINANCE.id]["uncollected"], rows[FINANCE.id]["uncollected_oldest_age_s"]) == (
        0,
        None,
    )


async def test_listing_and_fetching_are_recorded_and_collecting_empties_the_count(
    stack: tuple[Net, Moment],
) -> None:
    net, moment = stack
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id, BA_DINH.id))
    assert (await net[FINANCE.id].submit(raw))[0] == 202
    moment.now = START + HOUR
    [item] = await eventually(lambda: net[HOME_AFFAIRS.id].inbox_all(), lambda i: len(i) == 1)
    moment.now = START + 2 * HOUR
    assert (await net[HOME_AFFAIRS.id].fetch(item["delivery_id"]))[0] == 200
    moment.now = START + 3 * HOUR

    rows = await queues(net)
    assert {k: rows[HOME_AFFAIRS.id][k] for k in ("uncollected", "last_listed_at")} == {
        "uncollected": 1,  # fetched, not acknowledged: it still waits
        "last_listed_at": iso(START + HOUR),
    }
    assert rows[HOME_AFFAIRS.id]["last_fetched_at"] == iso(START + 2 * HOUR)
    assert rows[HOME_AFFAIRS.id]["uncollected_oldest_age_s"] == 3 * HOUR
    assert (rows[BA_DINH.id]["uncollected"], rows[BA_DINH.id]["last_listed_at"]) == (1, None)

    assert await net[HOME_AFFAIRS.id].ack(item["delivery_id"]) == 204
    rows = await queues(net)
    assert (
        rows[HOME_AFFAIRS.id]["uncollected"],
        rows[HOME_AFFAIRS.id]["uncollected_oldest_age_s"],
    ) == (0, None)


async def test_the_gauges_show_the_uncollected_backlog(stack: tuple[Net, Moment]) -> None:
    net, moment = stack
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    assert (await net[FINANCE.id].submit(raw))[0] == 202
    await eventually(lambda: queues(net), lambda rows: rows[CITY.id]["uncollected"] == 1)
    moment.now = START + 30 * HOUR
    gateway = net.gateway
    backlog = Backlog(
        bus=gateway.bus, db=gateway.db, directory=Directory(gateway.settings), clock=moment
    )

    await refresh(backlog, gateway.db, gateway.bus, moment())

    def gauge(name: str, agency: str | None = CITY.id) -> float | None:
        return REGISTRY.get_sample_value(name, {"agency": agency} if agency else {})

    assert gauge("edocgw_mailbox_uncollected") == 1
    assert gauge("edocgw_mailbox_uncollected_oldest_age_seconds") == 30 * HOUR
    assert gauge("edocgw_mailbox_last_poll_seconds") == 0
    assert gauge("edocgw_queue_waiting_retry") == 0
    assert gauge("edocgw_adapter_outage_seconds") == 0
    assert gauge("edocgw_ready", None) == 1
