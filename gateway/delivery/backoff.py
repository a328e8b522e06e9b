"""Per-agency backoff of the delivery adapters: the schedule, the state, and where it is kept.

When an agency's system fails a delivery, the gateway stops handing that agency's items to its
adapter until a retry time that doubles with each consecutive failure (jittered, so that the
nodes and agencies that failed together do not retry together), as Synapse's federation sender
does per destination. The state is a row per agency, so that it survives a restart and every
node of a cluster sees it; an operator's reset clears it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import sqlalchemy as sa

from gateway.config import AdapterSettings
from gateway.store.db import Database, IntegrityError, Query, Row, Tx, insert
from gateway.store.schema import adapter_backoff

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class BackoffPolicy:
    """The wait after the n-th consecutive failure: initial * multiplier^(n-1), at most max,
    then +/- jitter of it. A department's Retry-After is honoured up to max."""

    initial_s: float = 10.0
    max_s: float = 3600.0
    multiplier: float = 2.0
    jitter: float = 0.2

    @classmethod
    def of(cls, settings: AdapterSettings) -> BackoffPolicy:
        return cls(initial_s=settings.backoff_initial_s, max_s=settings.backoff_max_s)

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        exponent = min(max(failures - 1, 0), 64)  # 2**64 seconds is already "max"
        base = min(self.max_s, self.initial_s * self.multiplier**exponent)
        spread = base * self.jitter
        return max(0.0, base + (rng or random).uniform(-spread, spread))

    def honour(self, retry_after_s: float) -> float:
        return min(max(retry_after_s, 0.0), self.max_s)


@dataclass(frozen=True)
class BackoffState:
    agency: str
    instance: str
    failures: int = 0  # consecutive failed attempts; 0 when the agency's system is up
    retry_at: float | None = None  # unix seconds: no delivery is tried before
    last_error: str | None = None
    since: float | None = None  # when the outage began (its first failure)
    updated_at: float = 0.0

    @property
    def up(self) -> bool:
        return self.failures == 0

    def waiting(self, now: float) -> bool:
        """Backing off, and its retry time has not come yet."""
        return self.failures > 0 and self.retry_at is not None and self.retry_at > now

    def failed(self, reason: str, delay: float, now: float) -> BackoffState:
        return replace(
            self,
            failures=self.failures + 1,
            retry_at=now + delay,
            last_error=reason[:MAX_ERROR_CHARS],
            since=self.since if self.since is not None else now,
            updated_at=now,
        )

    def cleared(self, now: float) -> BackoffState:
        """Up again. The last error stays on show: an operator may still want to read it."""
        return replace(self, failures=0, retry_at=None, since=None, updated_at=now)


_COLUMNS = ("agency", "instance", "failures", "retry_at", "last_error", "since", "updated_at")
_ALL = Query(sa.select(adapter_backoff).order_by(adapter_backoff.c.agency))
_INSERT = insert(adapter_backoff, *_COLUMNS)
_UPDATE = Query(
    sa.update(adapter_backoff)
    .where(adapter_backoff.c.agency == sa.bindparam("b_agency"))
    .values({name: sa.bindparam(name) for name in _COLUMNS if name != "agency"})
)


def _state(row: Row) -> BackoffState:
    return BackoffState(**{name: row[name] for name in _COLUMNS})


class BackoffStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> dict[str, BackoffState]:
        async def unit(tx: Tx) -> dict[str, BackoffState]:
            return {row["agency"]: _state(row) for row in await tx.fetch(_ALL)}

        return await self._db.read(unit)

    async def save(self, state: BackoffState) -> None:
        params = {name: getattr(state, name) for name in _COLUMNS}

        async def unit(tx: Tx) -> None:
            if not await tx.execute(_UPDATE, {"b_agency": state.agency, **params}):
                await tx.execute(_INSERT, params)

        try:
            await self._db.write(unit)
        except IntegrityError:  # another node inserted the row first: update it
            await self._db.write(unit)
