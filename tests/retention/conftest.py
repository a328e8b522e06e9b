"""Fixtures of the retention, backup and full-disk suite: a clock the test moves, and a gateway
on SQLite or on PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.config import DatabaseSettings, Settings
from tests.conftest import Net
from tests.harness import make_settings
from tests.servers import postgres_admin as postgres_admin  # a session fixture
from tests.servers import postgres_database as postgres_database  # a per-test fixture

DAY = 86400.0


class MovingClock:
    """The gateway's time, set by the test: a fixed start that tests move forward."""

    def __init__(self, start: str = "2025-03-03T02:00:00") -> None:
        self.now = datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp()

    def advance(self, days: float) -> None:
        self.now += days * DAY

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> DatabaseSettings:
    if request.param == "postgresql":
        return DatabaseSettings(url=request.getfixturevalue("postgres_database"))
    return DatabaseSettings()


@pytest.fixture
def settings(tmp_path: Path, database: DatabaseSettings) -> Settings:
    return make_settings(tmp_path / "data", database=database)


@pytest.fixture
async def clocked_net(
    net_factory: Callable[..., Awaitable[Net]], settings: Settings, clock: MovingClock
) -> Net:
    return await net_factory(settings, clock=clock)


def problem_code(body: Any) -> str:
    return str(body["code"]) if isinstance(body, dict) else ""
