"""A quarter of traffic an auditor checks (Q4 2026, the clock on 20 November), on the embedded
store and on PostgreSQL: electronic, paper, secret, a dead letter, with code numbers."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from gateway.adapter_api import AdapterHost, OutboundItem, TemporaryFailure
from gateway.config import BusSettings, DatabaseSettings, DeliverySettings
from gateway.edxml.model import Code
from gateway.store import SQLITE_FILE
from tests.conftest import Net
from tests.factories import document, to_xml
from tests.harness import CITY, FINANCE, HOME_AFFAIRS, config_toml, make_settings
from tests.servers import postgres_admin as postgres_admin  # a session fixture
from tests.servers import postgres_database as postgres_database  # a per-test fixture
from tests.stats.test_scenario import FakeClock
from tests.waiting import eventually

NOVEMBER_20 = "2026-11-20T03:00:00"


class Down:
    """An adapter whose department system never answers: its deliveries dead-letter."""

    def __init__(self, *, instance: str, agency: str, options: Any, host: AdapterHost) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def deliver(self, item: OutboundItem) -> None:
        raise TemporaryFailure("the department's system answered 503")


@dataclasses.dataclass
class Quarter:
    net: Net
    clock: FakeClock
    edit: Callable[[str], Any]  # runs SQL on the store, behind the gateway's back
    ids: dict[str, str]  # document id -> message id
    config: Path  # the same gateway as a configuration file, for the CLI


async def submit(
    net: Net, clock: FakeClock, when: str, document_id: str, to: str, **kw: Any
) -> str:
    clock.at(when)
    raw = to_xml(
        document(
            sender=FINANCE.id,
            recipients=(to,),
            document_id=document_id,
            code=Code("12", "QĐ-STC"),
            **kw,
        )
    )
    status, receipt = await net[FINANCE.id].submit(raw)
    assert status == 202, receipt
    return str(receipt["id"])


@pytest.fixture(params=["sqlite", "postgresql"])
async def quarter(request: Any, net_factory: Any, tmp_path: Path) -> Quarter:
    url = "sqlite" if request.param == "sqlite" else request.getfixturevalue("postgres_database")
    settings = make_settings(
        tmp_path / "data",
        database=DatabaseSettings(url=url),
        bus=BusSettings(max_attempts=2, retry_initial_s=0.05, retry_max_s=0.05),
        deliveries={HOME_AFFAIRS.id: DeliverySettings(adapter="down")},
    )
    clock = FakeClock()
    net = await net_factory(settings, clock=clock, adapter_factories={"down": Down})
    ids = {
        "D-1": await submit(net, clock, "2026-10-05T03:00:00", "D-1", CITY.id),
        "D-2": await submit(net, clock, "2026-11-10T03:00:00", "D-2", HOME_AFFAIRS.id),
    }
    clock.at(NOVEMBER_20)
    response = await net.client.post(
        "/v1/paper-dispatches",
        json={"document_id": "D-P", "recipients": [CITY.id], "dispatched_on": "2026-11-02"},
        headers=net[FINANCE.id].headers,
    )
    assert response.status == 201
    secret = to_xml(document(sender=FINANCE.id, recipients=(CITY.id,), document_id="D-S"))
    status, _ = await net[FINANCE.id].submit(secret, **{"Edoc-Secrecy": "mat"})
    assert status == 422
    await eventually(
        lambda: net.gateway.bus.dead_letters(HOME_AFFAIRS.id, 10), lambda found: len(found) == 1
    )

    async def edit(statement: str) -> None:
        if url == "sqlite":
            with sqlite3.connect(tmp_path / "data" / SQLITE_FILE) as conn:
                conn.execute(statement)
            return
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    config = tmp_path / "gateway.toml"
    config.write_text(
        config_toml(
            tmp_path / "data", listen="127.0.0.1:1", ops_listen="127.0.0.1:2", database_url=url
        )
    )
    return Quarter(net, clock, edit, ids, config)
