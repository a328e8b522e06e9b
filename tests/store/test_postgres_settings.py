"""What the PostgreSQL store tells an operator about the server it was given."""

from __future__ import annotations

import asyncpg
import structlog

from gateway.store.postgres import PostgresDatabase
from tests.servers import postgres_admin as postgres_admin  # a session fixture
from tests.servers import postgres_database as postgres_database  # a per-test fixture


async def test_a_server_without_autovacuum_is_named_at_opening(postgres_database: str) -> None:
    conn = await asyncpg.connect(postgres_database)
    try:
        autovacuum = await conn.fetchval("SHOW autovacuum")
    finally:
        await conn.close()
    with structlog.testing.capture_logs() as logs:
        db = await PostgresDatabase.open(postgres_database)
        await db.close()
    warnings = [e for e in logs if e["event"] == "store.autovacuum_off"]
    # The servers this suite runs on differ (CI's has it off): the warning follows the server.
    assert len(warnings) == (autovacuum != "on")
    for warning in warnings:
        assert warning["log_level"] == "warning"
        assert "ANALYZE" in warning["fix"]
