"""What the console reads from the audit log: counts over time for the overview's charts, and
the entries an auditor filters. Both read a time range by the `ix_events_at` index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway.store.db import PerDialect, Query, Row, Tx
from gateway.store.schema import events

CHARTED = ("accepted", "refused", "delivered")
_START = sa.bindparam("start", type_=sa.Double)
_WIDTH = sa.bindparam("width", type_=sa.Double)
_END = sa.bindparam("end", type_=sa.Double)


def _buckets(bucket: sa.ColumnElement[Any]) -> sa.Select[Any]:
    labelled = bucket.label("bucket")
    return (
        sa.select(events.c.event, labelled, sa.func.count().label("n"))
        .where(events.c.at >= _START, events.c.at < _END)
        .where(sa.or_(*(events.c.event == name for name in CHARTED)))
        .group_by(events.c.event, labelled)
    )


# SQLite's CAST truncates (the offsets are positive: a floor); PostgreSQL's rounds.
_COUNTS = PerDialect(
    {
        "sqlite": _buckets(sa.cast((events.c.at - _START) / _WIDTH, sa.Integer)),
        "postgresql": _buckets(sa.cast(sa.func.floor((events.c.at - _START) / _WIDTH), sa.Integer)),
    }
)


async def counts_over(tx: Tx, start: float, width: float, buckets: int) -> dict[str, list[int]]:
    """For each charted event, how many entries fell in each of `buckets` equal slices of
    `width` seconds from `start`."""
    found = {name: [0] * buckets for name in CHARTED}
    params = {"start": start, "width": width, "end": start + width * buckets}
    for row in await tx.fetch(_COUNTS, params):
        index = int(row["bucket"])
        if 0 <= index < buckets:
            found[row["event"]][index] += int(row["n"])
    return found


@dataclass(frozen=True)
class EventFilter:
    event: str | None = None
    actor: str | None = None
    recipient: str | None = None
    message_id: str | None = None
    since: float | None = None
    until: float | None = None
    before: int | None = None  # seq: the next page, older entries


_COLUMNS = {
    "event": events.c.event,
    "actor": events.c.actor,
    "recipient": events.c.recipient,
    "message_id": events.c.message_id,
}
_FILTERED: dict[tuple[str, ...], Query] = {}


def _filtered(present: tuple[str, ...]) -> Query:
    """One compiled statement per combination of filters (a few dozen at most)."""
    found = _FILTERED.get(present)
    if found is None:
        statement = sa.select(events).order_by(events.c.seq.desc()).limit(sa.bindparam("limit"))
        for name in present:
            if name in _COLUMNS:
                statement = statement.where(_COLUMNS[name] == sa.bindparam(name, type_=sa.String))
        if "since" in present:
            statement = statement.where(events.c.at >= sa.bindparam("since", type_=sa.Double))
        if "until" in present:
            statement = statement.where(events.c.at < sa.bindparam("until", type_=sa.Double))
        if "before" in present:
            statement = statement.where(events.c.seq < sa.bindparam("before", type_=sa.BigInteger))
        found = _FILTERED[present] = Query(statement)
    return found


async def entries(tx: Tx, where: EventFilter, limit: int) -> Sequence[Row]:
    """The newest entries matching `where`, newest first."""
    values: Mapping[str, Any] = {
        name: value for name, value in vars(where).items() if value is not None
    }
    query = _filtered(tuple(sorted(values)))
    return await tx.fetch(query, {**values, "limit": limit})
