"""The `services` fixture: the intake, exchange and dispatcher on a fake bus, over SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.config import DatabaseSettings
from gateway.store import open_database
from gateway.store.db import Database
from tests.harness import make_settings
from tests.services.fakes import CrashingDatabase, FakeBus
from tests.services.parts import Services, build


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path / "data")
    store: Database = await open_database(DatabaseSettings(url="sqlite"), tmp_path / "data")
    try:
        yield build(settings, CrashingDatabase(store), FakeBus())
    finally:
        await store.close()
