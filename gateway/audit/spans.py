"""One span of the audit log checked in a worker process, from the SQLite store's file opened
read-only: what gateway.audit.verification runs on each core. Light on purpose (sqlite3 and the
pure walk only): a spawned worker imports this module and nothing of the gateway's serving
side."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gateway.audit.links import EntryRow, Walk, walk

PAGE = 20_000
_ROWS = (
    "SELECT seq, at, event, actor, message_id, recipient, data, prev_hash, hash FROM events "
    "WHERE seq >= ? ORDER BY seq LIMIT ?"
)


@dataclass(frozen=True)
class Span:
    """Entries `first` to `last` as one worker found them. The worker cannot know the hash its
    first entry must follow: it walks from the prev_hash that entry holds (`first_prev`), and
    whoever joins the spans checks that link."""

    first: int
    last: int
    first_seq_found: int | None  # the seq of the first entry read (None: none at all)
    first_prev: str | None
    walk: Walk


def check_span(database: str, first: int, last: int, page: int = PAGE) -> Span:
    """Walk entries `first`..`last` of the store at path `database` (a snapshot of its own:
    entries up to a head read before are never changed by the gateway, only appended after)."""
    conn = sqlite3.connect(Path(database).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        expected, count = first, 0
        first_seq: int | None = None
        first_prev: str | None = None
        prev = ""
        while expected <= last:
            rows: list[EntryRow] = conn.execute(_ROWS, (expected, page)).fetchall()
            if not rows:
                problem = f"expected entry {expected} next, found none: entries removed"
                return Span(
                    first, last, first_seq, first_prev, Walk(count, prev, expected, problem)
                )
            if first_seq is None:
                first_seq, first_prev = rows[0][0], rows[0][7]
                prev = first_prev
            inside = [row for row in rows if row[0] <= last] or rows[:1]
            walked = walk(inside, expected, prev)
            count += walked.count
            if walked.problem is not None:
                found = Walk(count, walked.last_hash, walked.bad_seq, walked.problem)
                return Span(first, last, first_seq, first_prev, found)
            prev, expected = walked.last_hash, expected + walked.count
        return Span(first, last, first_seq, first_prev, Walk(count, prev))
    finally:
        conn.close()
