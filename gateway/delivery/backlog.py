"""An agency's whole backlog, as an operator needs it: the bus's side (ready, in flight,
waiting for a retry, dead) and the adapter's side (what waits uncollected in the inbox and
since when, when the agency last came for it; the push adapter's state and last error).

`GET /v1/ops/queues`, `edocgw queues` and the gauges all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.bus.base import Bus, QueueStats
from gateway.clock import Clock
from gateway.delivery.backoff import BackoffState, BackoffStore
from gateway.delivery.host import instances
from gateway.directory import Directory
from gateway.log import get_logger
from gateway.store import backlog as store
from gateway.store.db import Database, Tx

log = get_logger(__name__)

POLL_WRITE_INTERVAL_S = 60.0  # an agency polling every second costs one write a minute


@dataclass(frozen=True)
class AgencyBacklog:
    agency: str
    adapter: str
    bus: QueueStats
    uncollected: int
    uncollected_oldest_age_s: float | None
    last_listed_at: float | None
    last_fetched_at: float | None
    backoff: BackoffState

    @property
    def state(self) -> str:
        return "up" if self.backoff.up else "backing_off"

    @property
    def next_attempt_at(self) -> float | None:
        return None if self.backoff.up else self.backoff.retry_at


class Backlog:
    def __init__(self, *, bus: Bus, db: Database, directory: Directory, clock: Clock) -> None:
        self._bus = bus
        self._db = db
        self._clock = clock
        self._instances = instances(directory)
        self._backoff = BackoffStore(db)

    async def agencies(self) -> list[AgencyBacklog]:
        ids = list(self._instances)
        stats = await self._bus.queue_stats(ids)

        async def unit(tx: Tx) -> tuple[dict[str, store.Uncollected], dict[str, store.Polls]]:
            return await store.uncollected(tx, ids), await store.polls(tx)

        # one count per agency: with a thousand agencies 15-20 ms, kept off the event loop
        waiting, polls = await self._db.scan(unit)
        backoff = await self._backoff.load()  # every node's view, not only this one's
        now = self._clock()
        return [
            self._row(s, waiting[s.queue], polls.get(s.queue, store.Polls()), backoff, now)
            for s in stats
        ]

    def _row(
        self,
        stats: QueueStats,
        waiting: store.Uncollected,
        polls: store.Polls,
        backoff: dict[str, BackoffState],
        now: float,
    ) -> AgencyBacklog:
        instance = self._instances[stats.queue]
        oldest = waiting.oldest_received_at
        return AgencyBacklog(
            agency=stats.queue,
            adapter=instance.adapter,
            bus=stats,
            uncollected=waiting.count,
            uncollected_oldest_age_s=None if oldest is None else max(0.0, now - oldest),
            last_listed_at=polls.listed_at,
            last_fetched_at=polls.fetched_at,
            backoff=backoff.get(stats.queue) or BackoffState(stats.queue, instance.name),
        )


class PollRecorder:
    """Records when an agency lists or fetches its inbox, at most once a minute per agency and
    kind on this node. Recording never fails the agency's call: it is a figure, not a duty."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._written: dict[tuple[str, str], float] = {}

    async def listed(self, agency: str) -> None:
        await self._record(agency, "listed_at")

    async def fetched(self, agency: str) -> None:
        await self._record(agency, "fetched_at")

    async def _record(self, agency: str, column: str) -> None:
        now = self._clock()
        last = self._written.get((agency, column))
        if last is not None and 0 <= now - last < POLL_WRITE_INTERVAL_S:
            return
        self._written[(agency, column)] = now
        try:
            await self._db.write(lambda tx: store.touch(tx, agency, column, now))
        except Exception as exc:
            log.warning("mailbox_poll_not_recorded", agency=agency, error=str(exc))
