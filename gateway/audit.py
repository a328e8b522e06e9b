"""The append-only, hash-chained event log: what happened to every message, and to whom.

Each entry's hash covers its sequence number, its content and the previous entry's hash, so an
altered, removed or reordered entry breaks the chain from that point on. Entries carry
metadata only (ids, codes, counts), never a document body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from gateway.store.db import Query, Row, Tx, insert
from gateway.store.schema import events

GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    event: str
    at: float
    actor: str | None = None
    message_id: str | None = None
    recipient: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


def canonical_json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, seq: int, event: Event, data_json: str) -> str:
    """The chain link: a pure function of the entry and its predecessor's hash."""
    fields = [
        prev_hash,
        seq,
        repr(event.at),
        event.event,
        event.actor,
        event.message_id,
        event.recipient,
        data_json,
    ]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


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
    """Chain `entries` after the current head, inside the caller's transaction."""
    if not entries:
        return
    head = await tx.fetchone(_HEAD)
    seq, prev = (int(head["seq"]), str(head["hash"])) if head else (0, GENESIS)
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


async def of_message(tx: Tx, message_id: str) -> list[Row]:
    return await tx.fetch(_OF_MESSAGE, {"message_id": message_id})
