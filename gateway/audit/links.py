"""The chain's link as a pure function of an entry's stored columns, and a walk over entries
that names the first one that does not continue the chain. No I/O: the gateway's own pass and
the verification workers (gateway.audit.spans) both walk rows with it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring  # json.dumps' own encoder, ensure_ascii=False

GENESIS = "0" * 64

# seq, at, event, actor, message_id, recipient, data, prev_hash, hash: as stored.
EntryRow = tuple[int, float, str, str | None, str | None, str | None, str, str, str]


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def link_digest(
    prev_hash: str,
    seq: int,
    at: float,
    event: str,
    actor: str | None,
    message_id: str | None,
    recipient: str | None,
    data_json: str,
) -> str:
    """SHA-256 of `json.dumps([prev_hash, seq, repr(at), event, actor, message_id, recipient,
    data_json], ensure_ascii=False)`, built without json.dumps' general machinery: the same
    bytes (tests/audit/test_links.py holds them equal), at a third of the cost, which is what
    checking millions of entries is made of."""
    text = ", ".join(
        (
            encode_basestring(prev_hash),
            str(int(seq)),
            encode_basestring(repr(at)),
            encode_basestring(event),
            _text(actor),
            _text(message_id),
            _text(recipient),
            encode_basestring(data_json),
        )
    )
    return hashlib.sha256(f"[{text}]".encode()).hexdigest()


@dataclass(frozen=True)
class Walk:
    """What a walk over consecutive entries found: how many continue the chain, the hash of the
    last of them, and the first that does not (with why), if any."""

    count: int
    last_hash: str
    bad_seq: int | None = None
    problem: str | None = None


def broken_at(row: EntryRow, expected_seq: int, prev: str) -> str | None:
    """Why this entry does not continue the chain after `prev`, or None if it does."""
    seq, at, event, actor, message_id, recipient, data, prev_hash, digest = row
    if seq != expected_seq:
        return f"expected entry {expected_seq} next, found {seq}: entries removed or moved"
    if prev_hash != prev:
        return "its prev_hash is not the hash of the entry before it: the chain is broken here"
    if link_digest(prev, seq, at, event, actor, message_id, recipient, data) != digest:
        return "its content does not match its hash: the entry was altered"
    return None


def walk(rows: Iterable[EntryRow], expected_seq: int, prev: str) -> Walk:
    """Check `rows` in order, the first expected to be entry `expected_seq` after `prev`."""
    count = 0
    for row in rows:
        problem = broken_at(row, expected_seq + count, prev)
        if problem is not None:
            return Walk(count, prev, bad_seq=expected_seq + count, problem=problem)
        prev = row[8]
        count += 1
    return Walk(count, prev)
