"""How SQLite runs the drill-down's page: each row's code is looked up by the document, not by
walking all the sender's messages (a page cost 0.4 s at 3,600 messages a sender before)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite

from gateway.config import DatabaseSettings
from gateway.stats.details import page_query
from gateway.store import open_database

PARAMS = {
    "sender": "S",
    "start": "2026-01-01",
    "end": "2026-12-31",
    "limit": 100,
    "offset": 0,
    "a_day": "2026-06-01",
    "a_document": "D",
    "a_recipient": "R",
}


@pytest.mark.parametrize("keyed", [False, True])
async def test_the_code_of_each_row_is_found_by_its_document(tmp_path: Path, keyed: bool) -> None:
    db = await open_database(DatabaseSettings(url="sqlite"), tmp_path)  # migrated
    await db.close()
    sql, args = page_query("electronic", keyed).bind(sqlite.dialect(), PARAMS)
    conn = sqlite3.connect(tmp_path / "gateway.sqlite3")
    try:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
    finally:
        conn.close()
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert searches == [
        "SEARCH exchanges USING INDEX ix_exchanges_details "
        "(sender=? AND channel=? AND day>? AND day<?)",
        "SEARCH messages USING INDEX ix_messages_sender_document (sender=? AND document_id=?)",
        "SEARCH deliveries USING INDEX ix_deliveries_exchange "
        "(sender=? AND document_id=? AND recipient=?)",
    ]
