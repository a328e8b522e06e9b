"""The append-only, hash-chained event log: what happened to every message, and to whom.

Each entry's hash covers its sequence number, its content and the previous entry's hash, so an
altered, removed or reordered entry breaks the chain from that point on. Entries carry
metadata only (ids, codes, counts), never a document body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa

from gateway.audit.events import Event
from gateway.audit.links import GENESIS, EntryRow, link_digest, walk
from gateway.stats import facts
from gateway.store.db import Database, Query, Row, Tx, insert
from gateway.store.locks import serialised
from gateway.store.schema import events


def canonical_json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, seq: int, event: Event, data_json: str) -> str:
    """The chain link: a pure function of the entry and its predecessor's hash."""
    return link_digest(
        prev_hash,
        seq,
        event.at,
        event.event,
        event.actor,
        event.message_id,
        event.recipient,
        data_json,
    )


_CHAIN_LOCK = serialised("audit-chain")
_MEMO = "audit.head"
_PENDING = "audit.pending"
_HEAD = Query(sa.select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1))
_INSERT = insert(
    events, "seq", "at", "event", "actor", "message_id", "recipient", "data", "prev_hash", "hash"
)
_OF_MESSAGE = Query(
    sa.select(events.c.at, events.c.event, events.c.recipient, events.c.data)
    .where(events.c.message_id == sa.bindparam("message_id"))
    .order_by(events.c.seq)
)


async def append(tx: Tx, entries: Sequence[Event]) -> None:
    """Record `entries` and the counters they move inside the caller's transaction: at once,
    or with the other units' entries just before the transaction commits where the database
    runs several write transactions at once (one statement each for all the units then, and
    the chain's lock held for the last statements only)."""
    if not entries:
        return
    if tx.before_commit(_PENDING, _append_pending):
        tx.memo.setdefault(_PENDING, []).extend(entries)
        return
    await facts.project(tx, entries)
    await _chain(tx, entries)


async def record(db: Database, entries: Sequence[Event]) -> None:
    """Record `entries` in a write of their own: what an operator did that changes no other
    table of the gateway (a state that changes goes with its entries, in its owner's `append`)."""

    async def unit(tx: Tx) -> None:
        await append(tx, entries)

    await db.write(unit)


async def _append_pending(tx: Tx) -> None:
    entries = tx.memo.pop(_PENDING, [])
    await facts.project(tx, entries)  # before the chain's lock, which it does not need
    await _chain(tx, entries)


async def _chain(tx: Tx, entries: Sequence[Event]) -> None:
    """Chain `entries` after the current head."""
    chained = tx.memo.get(_MEMO)
    if chained is None:
        # Several nodes on PostgreSQL: one appender at a time, until its transaction ends, or
        # two would chain after the same head. A no-op on SQLite, whose one writer does that.
        await tx.fetchone(_CHAIN_LOCK)
        head = await tx.fetchone(_HEAD)
        chained = (int(head["seq"]), str(head["hash"])) if head else (0, GENESIS)
    seq, prev = chained
    rows = []
    for entry in entries:
        seq += 1
        data_json = canonical_json(entry.data)
        digest = entry_hash(prev, seq, entry, data_json)
        rows.append(
            {
                "seq": seq,
                "at": entry.at,
                "event": entry.event,
                "actor": entry.actor,
                "message_id": entry.message_id,
                "recipient": entry.recipient,
                "data": data_json,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    await tx.executemany(_INSERT, rows)
    tx.memo[_MEMO] = (seq, prev)  # the head for the next append of this transaction


async def head(tx: Tx) -> tuple[int, str]:
    """The last entry's sequence number and hash ((0, GENESIS) for an empty log)."""
    row = await tx.fetchone(_HEAD)
    return (int(row["seq"]), str(row["hash"])) if row else (0, GENESIS)


async def of_message(tx: Tx, message_id: str) -> list[Row]:
    return await tx.fetch(_OF_MESSAGE, {"message_id": message_id})


_PAGE = Query(
    sa.select(events)
    .where(events.c.seq > sa.bindparam("after"))
    .order_by(events.c.seq)
    .limit(sa.bindparam("limit"))
)


def entry_view(row: Row) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "at": row["at"],
        "event": row["event"],
        "actor": row["actor"],
        "message_id": row["message_id"],
        "recipient": row["recipient"],
        "data": json.loads(row["data"]),
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }


async def page(tx: Tx, after: int, limit: int) -> list[Row]:
    return await tx.fetch(_PAGE, {"after": after, "limit": limit})


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None


async def verify(tx: Tx, chunk: int = 5000) -> Verification:
    """Walk the whole log in this process; name the first entry that was altered, removed or
    reordered (gateway.audit.verification spreads the walk over processes where it can)."""
    prev, seq = GENESIS, 0
    while True:
        rows = await tx.fetch(_PAGE, {"after": seq, "limit": chunk})
        walked = walk(cast(list[EntryRow], rows), seq + 1, prev)
        if walked.problem is not None:
            return Verification(
                False, seq + walked.count, walked.last_hash, walked.bad_seq, walked.problem
            )
        prev, seq = walked.last_hash, seq + walked.count
        if len(rows) < chunk:
            return Verification(True, seq, prev)
