"""The statistics' counters recounted from the audit log, in memory that does not grow with it.

The counting entries are read in the order of their exchange (sender, document, recipient),
then of the log, as the database sorts them; each exchange is settled by the counting rules
(gateway.stats.counting: `fact_of`, `merge`) as its last entry passes, and only one agency's
totals per day are held at a time. The rules stay in Python: SQL only selects and orders the
entries.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from gateway.stats.counting import Fact, Tally, fact_of, merge
from gateway.stats.facts import one_of
from gateway.store.db import PerDialect, Tx
from gateway.store.schema import events

COUNTING_EVENTS = ("accepted", "paper_declared", "secret_excluded")


def _in_exchange_order(document_id: sa.ColumnElement[str]) -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(events.c.event, events.c.actor, events.c.recipient, events.c.data)
        .where(one_of(events.c.event, COUNTING_EVENTS))
        .order_by(events.c.actor, document_id, events.c.recipient, events.c.seq)
    )


_COUNTING_ENTRIES = PerDialect(
    {
        "sqlite": _in_exchange_order(sa.func.json_extract(events.c.data, "$.document_id")),
        "postgresql": _in_exchange_order(
            sa.cast(events.c.data, postgresql.JSONB)["document_id"].astext
        ),
    }
)


def _add(days: dict[str, Tally], fact: Fact | None) -> None:
    if fact is not None:
        days.setdefault(fact.day, Tally()).add(fact.channel, fact.paper_copy)


async def recounted_by_sender(tx: Tx) -> AsyncIterator[tuple[str, dict[str, Tally]]]:
    """Each agency's counters per day as the whole audit log gives them, one agency at a time
    (the log is read in agency order): only one agency's days are held."""
    sender: str | None = None
    days: dict[str, Tally] = {}
    key: tuple[str, str, str] | None = None
    kept: Fact | None = None
    async for rows in tx.stream(_COUNTING_ENTRIES):
        for row in rows:
            fact = fact_of(row["event"], row["actor"], row["recipient"], json.loads(row["data"]))
            if fact is None:
                continue
            if fact.key != key:
                _add(days, kept)  # the exchange before is settled
                if fact.sender != sender:
                    if sender is not None:
                        yield sender, days
                    sender, days = fact.sender, {}
                key, kept = fact.key, None
            kept = merge(kept, fact) or kept
    _add(days, kept)
    if sender is not None:
        yield sender, days
