"""The materialised exchange counters: kept with the audit log, rebuilt from it on demand."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.stats.counting import (
    ELECTRONIC,
    UNDELIVERED,
    DayCount,
    Fact,
    Period,
    Tally,
    fact_of,
    settle,
)
from gateway.store.db import PerDialect, Query, Row, Tx, insert
from gateway.store.schema import deliveries, events, exchanges, messages

if TYPE_CHECKING:
    from gateway.audit.events import Event

_COLUMNS = ("sender", "document_id", "recipient", "channel", "day", "paper_copy")
_INSERT = insert(exchanges, *_COLUMNS)
_GET = Query(
    sa.select(exchanges).where(
        exchanges.c.sender == sa.bindparam("sender"),
        exchanges.c.document_id == sa.bindparam("document_id"),
        exchanges.c.recipient == sa.bindparam("recipient"),
    )
)
_ALL = Query(sa.select(exchanges))
_DELETE_ALL = Query(sa.delete(exchanges))


def _text(value: str) -> sa.ColumnElement[str]:
    """A constant written into the SQL, not bound: the period's expression must read the same
    in SELECT and GROUP BY (PostgreSQL compares them as written)."""
    return sa.literal_column(f"'{value}'", sa.String)


def _substr(column: sa.ColumnElement[str], first: int, length: int) -> sa.ColumnElement[str]:
    return sa.func.substr(
        column, sa.literal_column(str(first)), sa.literal_column(str(length)), type_=sa.String
    )


def period_start(day: sa.ColumnElement[str], period: Period) -> sa.ColumnElement[str]:
    """The first day (YYYY-MM-DD) of the period holding `day`, in SQL that SQLite and
    PostgreSQL both run: the store sums a period's exchanges, not Python one row per day."""
    if period == "day":
        return day
    if period == "month":
        return _substr(day, 1, 7) + _text("-01")
    if period == "year":
        return _substr(day, 1, 4) + _text("-01-01")
    month = _substr(day, 6, 2)
    first = sa.case(
        (month <= _text("03"), _text("01-01")),
        (month <= _text("06"), _text("04-01")),
        (month <= _text("09"), _text("07-01")),
        else_=_text("10-01"),
    )
    return _substr(day, 1, 5) + first


def _day_counts_query(one_sender: bool, period: Period) -> Query:
    """By ix_exchanges_day, which covers it: the index alone is read, in the range of days."""
    conditions = [exchanges.c.day >= sa.bindparam("start"), exchanges.c.day <= sa.bindparam("end")]
    if one_sender:
        conditions.append(exchanges.c.sender == sa.bindparam("sender"))
    first = period_start(exchanges.c.day, period).label("day")
    columns = (exchanges.c.sender, first, exchanges.c.channel, exchanges.c.paper_copy)
    return Query(
        sa.select(*columns, sa.func.count().label("n"))
        .where(*conditions)
        .group_by(exchanges.c.sender, first.element, exchanges.c.channel, exchanges.c.paper_copy)
    )


_DAY_COUNTS = {p: _day_counts_query(False, p) for p in get_args(Period)}
_DAY_COUNTS_OF_SENDER = {p: _day_counts_query(True, p) for p in get_args(Period)}
_SENDERS = Query(sa.select(exchanges.c.sender).distinct())
# By ix_exchanges_details, which leads with the sender and covers the sums.
_DAY_COUNTS_OF_ONE = Query(
    sa.select(
        exchanges.c.day, exchanges.c.channel, exchanges.c.paper_copy, sa.func.count().label("n")
    )
    .where(exchanges.c.sender == sa.bindparam("sender"))
    .group_by(exchanges.c.day, exchanges.c.channel, exchanges.c.paper_copy)
)


def one_of(column: sa.ColumnElement[Any], values: tuple[object, ...]) -> sa.ColumnElement[bool]:
    """`column IN (...)` as plain comparisons: Query compiles once, without expanding IN."""
    return sa.or_(*(column == value for value in values))


# Written as literals, so that the planner sees the partial index's own predicate.
UNDELIVERED_STATES = deliveries.c.state.in_(
    [sa.literal_column("'failed'"), sa.literal_column("'purged'")]
)


def _deliveries_of_exchange(states: tuple[str, ...]) -> sa.Exists:
    """Whether a delivery of a counted document (new or replacement) of the exchange is in one
    of `states`; by ix_deliveries_exchange."""
    return (
        sa.select(deliveries.c.seq)
        .join(messages, messages.c.id == deliveries.c.message_id)
        .where(
            deliveries.c.sender == exchanges.c.sender,
            deliveries.c.document_id == exchanges.c.document_id,
            deliveries.c.recipient == exchanges.c.recipient,
            deliveries.c.kind == "edoc",
            one_of(deliveries.c.state, states),
            one_of(messages.c.business_type, (0, 3)),
        )
        .exists()
    )


# Dead-lettered or purged, and never handed over by another delivery of the same exchange.
NEVER_DELIVERED = sa.and_(
    exchanges.c.channel == ELECTRONIC,
    _deliveries_of_exchange(("failed", "purged")),
    ~_deliveries_of_exchange(("inbox", "delivered", "acked")),
)


def _undelivered_query(one_sender: bool, period: Period) -> Query:
    """Driven by the few dead-lettered or purged deliveries (the partial index
    ix_deliveries_undelivered), each joined to its exchange by the primary key: the cost follows
    the deliveries that failed, not the exchanges of the range."""
    failed = (
        sa.select(deliveries.c.sender, deliveries.c.document_id, deliveries.c.recipient)
        .join(messages, messages.c.id == deliveries.c.message_id)
        .where(
            UNDELIVERED_STATES,
            deliveries.c.kind == "edoc",
            one_of(messages.c.business_type, (0, 3)),
        )
        .distinct()
        .subquery("failed")
    )
    # `day || ''`: not the bare column, so that no planner prefers scanning the range by
    # ix_exchanges_day (SQLite, without statistics, would) to the few failed deliveries.
    day = exchanges.c.day.op("||")(sa.literal_column("''"))
    conditions = [
        day >= sa.bindparam("start"),
        day <= sa.bindparam("end"),
        exchanges.c.channel == ELECTRONIC,
        ~_deliveries_of_exchange(("inbox", "delivered", "acked")),
    ]
    if one_sender:
        conditions.append(exchanges.c.sender == sa.bindparam("sender"))
    first = period_start(exchanges.c.day, period).label("day")
    joined = failed.join(
        exchanges,
        sa.and_(
            exchanges.c.sender == failed.c.sender,
            exchanges.c.document_id == failed.c.document_id,
            exchanges.c.recipient == failed.c.recipient,
        ),
    )
    return Query(
        sa.select(exchanges.c.sender, first, sa.func.count().label("n"))
        .select_from(joined)
        .where(*conditions)
        .group_by(exchanges.c.sender, first.element)
    )


_UNDELIVERED = {p: _undelivered_query(False, p) for p in get_args(Period)}
_UNDELIVERED_OF_SENDER = {p: _undelivered_query(True, p) for p in get_args(Period)}
_EVENTS_AFTER = Query(
    sa.select(events.c.seq, events.c.event, events.c.actor, events.c.recipient, events.c.data)
    .where(events.c.seq > sa.bindparam("after"))
    .order_by(events.c.seq)
    .limit(sa.bindparam("limit"))
)


def _fact_from_row(row: Row) -> Fact:
    return Fact(
        sender=row["sender"],
        document_id=row["document_id"],
        recipient=row["recipient"],
        channel=row["channel"],
        day=row["day"],
        paper_copy=bool(row["paper_copy"]),
    )


def _params(fact: Fact) -> dict[str, object]:
    return {name: getattr(fact, name) for name in _COLUMNS}


def _merge_upsert(dialect_insert: Any) -> Any:
    """`merge` as one statement: insert the fact, or let an electronic one replace another."""
    statement = dialect_insert(exchanges).values({c: sa.bindparam(c) for c in _COLUMNS})
    return statement.on_conflict_do_update(
        index_elements=["sender", "document_id", "recipient"],
        set_={c: statement.excluded[c] for c in ("channel", "day", "paper_copy")},
        where=sa.and_(statement.excluded.channel == ELECTRONIC, exchanges.c.channel != ELECTRONIC),
    )


_MERGE = PerDialect(
    {"sqlite": _merge_upsert(sqlite.insert), "postgresql": _merge_upsert(postgresql.insert)}
)


async def project(tx: Tx, entries: Sequence[Event]) -> None:
    """Update the counters for the entries being appended, in the same transaction."""
    found = (fact_of(entry.event, entry.actor, entry.recipient, entry.data) for entry in entries)
    # One statement for all of them (on PostgreSQL a round trip each), in key order, so that
    # transactions running at once lock the rows they share in the same order. The sort is
    # stable: facts about one exchange keep the log's order, which `merge` depends on.
    ordered = sorted((f for f in found if f is not None), key=lambda fact: fact.key)
    await tx.executemany(_MERGE, [_params(fact) for fact in ordered])


async def channels_of(
    tx: Tx, sender: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """For each (document_id, recipient) of `sender` already counted, its channel."""
    found: dict[tuple[str, str], str] = {}
    for document_id, recipient in dict.fromkeys(keys):
        params = {"sender": sender, "document_id": document_id, "recipient": recipient}
        row = await tx.fetchone(_GET, params)
        if row is not None:
            found[(document_id, recipient)] = str(row["channel"])
    return found


async def day_counts(
    tx: Tx, start: str, end: str, sender: str | None = None, period: Period = "day"
) -> list[DayCount]:
    """The exchanges of the days from `start` to `end`, summed per sender, period (its first
    day), channel and paper copy."""
    params = {"start": start, "end": end, "sender": sender}
    query = (_DAY_COUNTS if sender is None else _DAY_COUNTS_OF_SENDER)[period]
    rows = await tx.fetch(query, params)
    return [
        DayCount(r["sender"], r["day"], r["channel"], bool(r["paper_copy"]), int(r["n"]))
        for r in rows
    ]


async def undelivered_counts(
    tx: Tx, start: str, end: str, sender: str | None = None, period: Period = "day"
) -> list[DayCount]:
    """Electronic exchanges never delivered, per sender and period (its first day), as
    `undelivered` counts."""
    params = {"start": start, "end": end, "sender": sender}
    query = (_UNDELIVERED if sender is None else _UNDELIVERED_OF_SENDER)[period]
    return [
        DayCount(r["sender"], r["day"], UNDELIVERED, False, int(r["n"]))
        for r in await tx.fetch(query, params)
    ]


CounterKey = tuple[str, str]  # (sender, day)
COUNTER_FIELDS = ("electronic", "paper", "secret_excluded", "with_paper_copy")


async def counted_senders(tx: Tx) -> set[str]:
    """Every agency the stored counters count documents for."""
    return {str(r["sender"]) for r in await tx.fetch(_SENDERS)}


async def stored_days(tx: Tx, sender: str) -> dict[str, Tally]:
    """One agency's counters as the database holds them, per day."""
    days: dict[str, Tally] = {}
    for r in await tx.fetch(_DAY_COUNTS_OF_ONE, {"sender": sender}):
        days.setdefault(r["day"], Tally()).add(r["channel"], bool(r["paper_copy"]), int(r["n"]))
    return days


def mismatches(
    sender: str, stored_days: dict[str, Tally], recounted: dict[str, Tally]
) -> list[dict[str, Any]]:
    """Every counter (day, field) of one agency whose stored value differs from the recount."""
    found = []
    for day in sorted(stored_days.keys() | recounted.keys()):
        was = stored_days.get(day, Tally())
        should = recounted.get(day, Tally())
        for name in COUNTER_FIELDS:
            if getattr(was, name) != getattr(should, name):
                found.append(
                    {
                        "agency": sender,
                        "period": day,
                        "field": name,
                        "stored": getattr(was, name),
                        "recounted": getattr(should, name),
                    }
                )
    return found


async def stored(tx: Tx) -> dict[tuple[str, str, str], Fact]:
    return {fact.key: fact for fact in map(_fact_from_row, await tx.fetch(_ALL))}


async def recount(tx: Tx, chunk: int = 5000) -> dict[tuple[str, str, str], Fact]:
    """The counters as a full pass over the audit log gives them."""
    facts: list[Fact] = []
    after = 0
    while True:
        rows = await tx.fetch(_EVENTS_AFTER, {"after": after, "limit": chunk})
        for row in rows:
            fact = fact_of(row["event"], row["actor"], row["recipient"], json.loads(row["data"]))
            if fact is not None:
                facts.append(fact)
        if len(rows) < chunk:
            return settle(facts)
        after = int(rows[-1]["seq"])


@dataclass(frozen=True)
class Comparison:
    missing: tuple[Fact, ...]  # in the recount, not in the counters
    extra: tuple[Fact, ...]  # in the counters, not in the recount
    differing: tuple[tuple[Fact, Fact], ...]  # (stored, recounted)

    @property
    def agrees(self) -> bool:
        return not (self.missing or self.extra or self.differing)


def compare(
    stored_facts: dict[tuple[str, str, str], Fact], recounted: dict[tuple[str, str, str], Fact]
) -> Comparison:
    return Comparison(
        missing=tuple(f for k, f in recounted.items() if k not in stored_facts),
        extra=tuple(f for k, f in stored_facts.items() if k not in recounted),
        differing=tuple(
            (stored_facts[k], f)
            for k, f in recounted.items()
            if k in stored_facts and stored_facts[k] != f
        ),
    )


async def rebuild(tx: Tx, recounted: dict[tuple[str, str, str], Fact]) -> None:
    await tx.execute(_DELETE_ALL)
    await insert_facts(tx, recounted.values())


async def insert_facts(tx: Tx, found: Iterable[Fact]) -> None:
    """Counters as they are, without merging (a rebuild; seeding a benchmark)."""
    await tx.executemany(_INSERT, [_params(f) for f in found])
