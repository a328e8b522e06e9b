"""Fixtures of the store suite: every test runs on SQLite and on PostgreSQL.

`stores` opens databases on one store per test: a file in the test's temporary directory, or the
session's PostgreSQL database emptied for the test. A test may open it several times to play
several gateway nodes writing at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from gateway.config import DatabaseSettings
from gateway.store import open_database
from gateway.store.db import Database
from gateway.store.migrate import upgrade_postgres
from gateway.store.schema import metadata
from tests.servers import create_database, drop_database, new_database_name, run_aside
from tests.servers import postgres_admin as postgres_admin  # a session fixture
from tests.servers import postgres_database as postgres_database  # a per-test fixture

KINDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_session_url(postgres_admin: str) -> Iterator[str]:
    """One migrated database for the session; each test empties it first."""
    name = new_database_name()
    url = create_database(name)
    try:
        run_aside(upgrade_postgres(url))
        yield url
    finally:
        drop_database(name)


async def empty_tables(url: str) -> None:
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


class Store:
    def __init__(self, kind: str, settings: DatabaseSettings, data_dir: Path) -> None:
        self.kind = kind
        self.settings = settings
        self.data_dir = data_dir
        self._opened: list[Database] = []

    async def open(self) -> Database:
        db = await open_database(self.settings, self.data_dir)
        self._opened.append(db)
        return db

    async def close_all(self) -> None:
        for db in reversed(self._opened):
            await db.close()


@pytest.fixture(params=KINDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_session_url")
        await empty_tables(url)
        settings = DatabaseSettings(url=url)
    else:
        settings = DatabaseSettings(url="sqlite")
    opened = Store(request.param, settings, tmp_path / "data")
    try:
        yield opened
    finally:
        await opened.close_all()


@pytest.fixture
async def db(stores: Store) -> Database:
    return await stores.open()
