"""Replays of the façade's signed calls (docs/vdxp.md, "Replays").

The SDK signs headers only, so two things bind a call to one use: sendEdoc must sign the
`hash-file` of its body (the façade checks it against the body), and every signature seen is
kept until its timestamp leaves the window, in the store, so that a replay is recognised on
whichever node it reaches. Past the window the timestamp itself refuses the call.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.clock import Clock
from gateway.store.db import Database, PerDialect, Query, Tx
from gateway.store.schema import vdxp_seen
from gateway.vdxp import SignedRequest

# how often (in the gateway's time) a node deletes the signatures whose window has passed
PURGE_EVERY_S = 60.0


def _insert_unless_seen(dialect_insert: Any) -> Any:
    statement = dialect_insert(vdxp_seen).values(
        signature=sa.bindparam("signature"),
        systemid=sa.bindparam("systemid"),
        expires_at=sa.bindparam("expires_at"),
    )
    return statement.on_conflict_do_nothing(index_elements=["signature"])


_REMEMBER = PerDialect(
    {
        "sqlite": _insert_unless_seen(sqlite.insert),
        "postgresql": _insert_unless_seen(postgresql.insert),
    }
)
_PURGE = Query(vdxp_seen.delete().where(vdxp_seen.c.expires_at < sa.bindparam("now")))


class ReplayGuard:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._purged_at: float | None = None

    async def first_sighting(self, signed: SignedRequest) -> bool:
        """Remember the call's signature; False if it was seen before (a replay)."""
        now = self._clock()
        purge = self._purged_at is None or now - self._purged_at >= PURGE_EVERY_S
        if purge:
            self._purged_at = now
        row = {
            "signature": signed.signature,
            "systemid": signed.systemid,
            "expires_at": signed.valid_until,
        }

        async def unit(tx: Tx) -> bool:
            if purge:
                await tx.execute(_PURGE, {"now": now})
            return await tx.execute(_REMEMBER, row) == 1

        return await self._db.write(unit)
