"""Retention (`[retention]`, docs/operations.md): removing the bodies of finished messages.

A pass walks the stored bodies in small windows; each window is one short write that removes
what may go (gateway.store.retention) and appends one `bodies_removed` audit event naming the
messages, then the pass pauses so that the gateway's own writes go first. Metadata, traces,
dedupe keys, statistics and the audit log are never removed here.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.clock import Clock
from gateway.config import RetentionSettings
from gateway.log import get_logger
from gateway.store import retention as store
from gateway.store.db import Database, Tx
from gateway.store.retention import BodySummary
from gateway.store.sqlite import SqliteDatabase

log = get_logger(__name__)

DAY_S = 86400.0
ACTOR = "retention"


@dataclass(frozen=True)
class RetentionPace:
    """How retention shares the store with the traffic: windows of `batch` bodies, `pause_s`
    apart; a pass every `interval_s` in the background."""

    batch: int = 100
    pause_s: float = 0.05
    interval_s: float = 300.0


@dataclass(frozen=True)
class PassResult:
    removed: int
    cutoff: float


class Retention:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: RetentionSettings,
        pace: RetentionPace | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._pace = pace or RetentionPace()

    def cutoff(self) -> float:
        """Bodies whose deliveries all finished before this instant may go."""
        return self._clock() - self._settings.bodies_days * DAY_S

    async def preview(self) -> BodySummary:
        """What a pass would remove now (`edocgw retention --dry-run`)."""
        cutoff = self.cutoff()
        return await self._db.scan(lambda tx: store.summary(tx, cutoff))

    async def run_once(self) -> PassResult:
        """One pass over every stored body; the number of bodies removed."""
        cutoff = self.cutoff()
        removed, after = 0, ""
        while window := await self._db.read(functools.partial(_window, after, self._pace.batch)):
            removed += await self._remove(after, window[-1], cutoff)
            after = window[-1]
            await asyncio.sleep(self._pace.pause_s)
        if removed and isinstance(self._db, SqliteDatabase):
            await self._db.checkpoint()
        if removed:
            log.info("retention_pass", removed=removed, bodies_days=self._settings.bodies_days)
        return PassResult(removed, cutoff)

    async def _remove(self, after: str, upto: str, cutoff: float) -> int:
        now = self._clock()

        async def unit(tx: Tx) -> int:
            ids = await store.remove_bodies(tx, after, upto, cutoff)
            if ids:
                entry = Event(
                    "bodies_removed",
                    at=now,
                    actor=ACTOR,
                    data={"messages": ids, "bodies_days": self._settings.bodies_days},
                )
                await audit.append(tx, [entry])
            return len(ids)

        # large: freeing megabytes of pages (zeroed, secure_delete) is kept off the event loop
        return await self._db.write(unit, large=True)

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._pace.interval_s)
            try:
                await self.run_once()
            except Exception as exc:  # the next pass tries again
                log.warning("retention_failed", error=str(exc))


async def _window(after: str, limit: int, tx: Tx) -> list[str]:
    return await store.window(tx, after, limit)
