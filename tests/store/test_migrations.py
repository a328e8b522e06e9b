"""Schema migrations (Alembic) on both databases: at start, by `edocgw migrate`, twice, and by
several nodes starting at once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from gateway.cli.main import main
from gateway.config import DatabaseSettings
from gateway.store import SQLITE_FILE, migrate_database, open_database
from gateway.store.migrate import MIGRATIONS
from gateway.store.schema import metadata
from tests.harness import config_toml


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def postgres_state(url: str) -> tuple[str, set[str]]:
    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval("SELECT version_num FROM alembic_version")
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return version, {r["tablename"] for r in rows}


def sqlite_state(path: Path) -> tuple[str, set[str]]:
    with sqlite3.connect(path) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return version, tables


WANTED_TABLES = {t.name for t in metadata.sorted_tables} | {"alembic_version"}


async def test_postgresql_migrates_to_head_twice_over(postgres_database: str, tmp_path) -> None:
    settings = DatabaseSettings(url=postgres_database)
    await migrate_database(settings, tmp_path)
    await migrate_database(settings, tmp_path)  # nothing left to do: no error
    version, tables = await postgres_state(postgres_database)
    assert version == head_revision()
    assert tables >= WANTED_TABLES


async def test_nodes_starting_together_migrate_once(postgres_database: str, tmp_path) -> None:
    settings = DatabaseSettings(url=postgres_database)
    opened = await asyncio.gather(*(open_database(settings, tmp_path) for _ in range(3)))
    try:
        for db in opened:
            await db.ping()
    finally:
        for db in opened:
            await db.close()
    version, tables = await postgres_state(postgres_database)
    assert version == head_revision()
    assert tables >= WANTED_TABLES


async def test_sqlite_migrates_at_open(tmp_path: Path) -> None:
    db = await open_database(DatabaseSettings(url="sqlite"), tmp_path)
    await db.close()
    version, tables = sqlite_state(tmp_path / SQLITE_FILE)
    assert version == head_revision()
    assert tables >= WANTED_TABLES


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_edocgw_migrate_command(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    url = request.getfixturevalue("postgres_database") if kind == "postgresql" else "sqlite"
    config = tmp_path / "gateway.toml"
    config.write_text(
        config_toml(
            tmp_path / "data", listen="127.0.0.1:1", ops_listen="127.0.0.1:2", database_url=url
        )
    )
    with pytest.raises(SystemExit) as exit_:
        main(["migrate", "--config", str(config)])
    assert exit_.value.code == 0
    assert "up to date" in capsys.readouterr().out
    if kind == "postgresql":
        version, _ = asyncio.run(postgres_state(url))
    else:
        version, _ = sqlite_state(tmp_path / "data" / SQLITE_FILE)
    assert version == head_revision()


async def test_postgresql_stores_bodies_uncompressed(postgres_database: str, tmp_path) -> None:
    # Bodies are base64 of compressed files: compressing them again costs CPU and saves nothing.
    await migrate_database(DatabaseSettings(url=postgres_database), tmp_path)
    conn = await asyncpg.connect(postgres_database)
    try:
        storage = await conn.fetchval(
            "SELECT attstorage FROM pg_attribute"
            " WHERE attrelid = 'bodies'::regclass AND attname = 'body'"
        )
    finally:
        await conn.close()
    assert storage == b"e"  # EXTERNAL: out of line, never compressed
