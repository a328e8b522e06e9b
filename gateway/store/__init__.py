"""Persistence: the database interface, its drivers and the gateway's tables."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

from gateway.config import DatabaseSettings
from gateway.store.db import Database, StoreError
from gateway.store.migrate import upgrade_postgres, upgrade_sqlite
from gateway.store.sqlite import SqliteDatabase

SQLITE_FILE = "gateway.sqlite3"


def _prepare_sqlite(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SQLITE_FILE
    upgrade_sqlite(path)
    return path


async def migrate_database(settings: DatabaseSettings, data_dir: Path) -> None:
    """Bring the schema up to date without opening the database for use."""
    if settings.url == "sqlite":
        await asyncio.to_thread(_prepare_sqlite, data_dir)
        return
    await _upgrade_postgres(settings.url)


async def open_database(settings: DatabaseSettings, data_dir: Path) -> Database:
    """Open the configured database, migrating its schema to the current version first."""
    if settings.url == "sqlite":
        path = await asyncio.to_thread(_prepare_sqlite, data_dir)
        return SqliteDatabase(path)
    from gateway.store.postgres import PostgresDatabase

    await _upgrade_postgres(settings.url)
    return await PostgresDatabase.open(settings.url)


async def _upgrade_postgres(url: str) -> None:
    from gateway.store.postgres import where

    try:
        await upgrade_postgres(url)
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        raise StoreError(f"cannot migrate PostgreSQL at {where(url)}: {exc}") from exc
