"""Schema migrations (Alembic), applied by `edocgw migrate` and at every start."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK = 0x6564_6F63_6777_6D67  # "edocgwmg": the migration lock on PostgreSQL


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade_connection(connection: sa.Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


def upgrade_sqlite(path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode = WAL")
            upgrade_connection(connection)
    finally:
        engine.dispose()


def sqlalchemy_url(url: str) -> str:
    """A postgresql:// URL as SQLAlchemy's asyncpg dialect names it."""
    _, _, rest = url.partition("://")
    return f"postgresql+asyncpg://{rest}"


async def upgrade_postgres(url: str) -> None:
    """Migrate under a transaction-level advisory lock: nodes starting together take turns, and
    PostgreSQL's transactional DDL leaves no half-applied revision behind."""
    engine = create_async_engine(sqlalchemy_url(url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
            await connection.run_sync(upgrade_connection)
    finally:
        await engine.dispose()
