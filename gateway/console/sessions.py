"""Console sessions, kept in the store: they survive a restart and every node knows them.

The cookie holds a random session id; the store holds its SHA-256 only. A session ends when its
user signs out or after IDLE_S without a request. The CSRF token of a session is derived from
its id (an HMAC), so it needs no storage and no one without the cookie can compute it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from gateway.clock import Clock
from gateway.store.db import Database, Query, Tx, insert
from gateway.store.schema import console_sessions as table

IDLE_S = 30 * 60.0
TOUCH_EVERY_S = 30.0  # a page view writes `seen_at` at most this often
PURGE_EVERY_S = 600.0

_INSERT = insert(table, "id_sha256", "user_name", "address", "created_at", "seen_at")
_FIND = Query(sa.select(table).where(table.c.id_sha256 == sa.bindparam("id_sha256")))
_TOUCH = Query(
    table.update()
    .where(table.c.id_sha256 == sa.bindparam("id_sha256"))
    .values(seen_at=sa.bindparam("now"))
)
_END = Query(table.delete().where(table.c.id_sha256 == sa.bindparam("id_sha256")))
_PURGE = Query(table.delete().where(table.c.seen_at < sa.bindparam("before")))


@dataclass(frozen=True)
class Session:
    user_name: str
    csrf: str


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_of(session_id: str) -> str:
    return hmac.new(session_id.encode(), b"edocgw-console-csrf", hashlib.sha256).hexdigest()


def same_token(expected: str, offered: str | None) -> bool:
    return offered is not None and hmac.compare_digest(expected.encode(), offered.encode())


class Sessions:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._purged_at: float | None = None

    async def begin(self, user_name: str, address: str | None) -> str:
        """A new session for `user_name`; returns its id, for the cookie only."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        purge = self._purged_at is None or now - self._purged_at >= PURGE_EVERY_S
        if purge:
            self._purged_at = now
        row = {
            "id_sha256": _digest(session_id),
            "user_name": user_name,
            "address": (address or "")[:64] or None,
            "created_at": now,
            "seen_at": now,
        }

        async def unit(tx: Tx) -> None:
            if purge:  # sessions left to expire: nothing reads them again
                await tx.execute(_PURGE, {"before": now - IDLE_S})
            await tx.execute(_INSERT, row)

        await self._db.write(unit)
        return session_id

    async def find(self, session_id: str) -> Session | None:
        """The live session with this id, its idle time restarted; None if unknown or expired
        (an expired one is ended)."""
        key = {"id_sha256": _digest(session_id)}
        row = await self._db.read(lambda tx: tx.fetchone(_FIND, key))
        if row is None:
            return None
        now = self._clock()
        if now - row["seen_at"] > IDLE_S:
            await self._db.write(lambda tx: tx.execute(_END, key))
            return None
        if now - row["seen_at"] >= TOUCH_EVERY_S:
            await self._db.write(lambda tx: tx.execute(_TOUCH, {**key, "now": now}))
        return Session(row["user_name"], csrf_of(session_id))

    async def end(self, session_id: str) -> None:
        key = {"id_sha256": _digest(session_id)}
        await self._db.write(lambda tx: tx.execute(_END, key))
