"""Schema migrations (Alembic), applied by `edocgw migrate` and at every start."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


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
