"""Which agencies' queues this node consumes, and when it tries a failing agency's system again.

Agencies whose systems are up share one bus subscription. After a temporary failure an agency
leaves it (paused): nothing more of its queue is handed out, so the items waiting there keep
their attempts however long the outage lasts. At its retry time the agency is probed through a
subscription of its own with prefetch 1: the first delivery that succeeds brings it back into
the shared subscription, a failure pauses it again for longer (delivery.backoff). An operator's
reset brings it back at once. Items already handed out when the agency failed are put back on
the bus until its retry time (one attempt each). A refusal for good dead-letters its item and
pauses the agency too: a receiver answering 404 to everything shows as backing off, not up.

Subscriptions are changed by one task, never from inside a handler (cancelling a subscription
waits for its handlers). With several nodes, each paces on its own failures and adopts every
`sync_interval_s` what another node wrote (a newer row), an operator's reset included.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from gateway.adapter_api import Adapter, OutboundItem, PermanentFailure, TemporaryFailure
from gateway.bus.base import Bus, Handler, Subscription
from gateway.clock import Clock
from gateway.delivery import metrics
from gateway.delivery.backoff import BackoffPolicy, BackoffState, BackoffStore
from gateway.log import get_logger
from gateway.store.db import Database

log = get_logger(__name__)

Mode = Literal["up", "paused", "probing"]
RESUBSCRIBE_BACKOFF_S = 1.0  # after the bus refused a subscription


@dataclass(frozen=True)
class Instance:
    """An agency's adapter instance, as configured."""

    agency: str
    name: str
    adapter: str


@dataclass
class _Agency:
    instance: Instance
    state: BackoffState
    mode: Mode = "up"


def _mode(state: BackoffState, now: float) -> Mode:
    if state.up:
        return "up"
    return "paused" if state.waiting(now) else "probing"


class Pacing:
    def __init__(
        self,
        *,
        bus: Bus,
        db: Database,
        clock: Clock,
        policy: BackoffPolicy,
        instances: Mapping[str, Instance],
        prefetch: int,
        sync_interval_s: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self._bus = bus
        self._store = BackoffStore(db)
        self._clock = clock
        self._policy = policy
        self._prefetch = prefetch
        self._sync_interval_s = sync_interval_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._agencies = {
            agency: _Agency(instance, BackoffState(agency, instance.name))
            for agency, instance in instances.items()
        }
        self._handler: Handler | None = None
        self._shared: Subscription | None = None
        self._shared_queues: tuple[str, ...] = ()
        self._probes: dict[str, Subscription] = {}
        self._retiring: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self, handler: Handler) -> None:
        """Adopt the stored backoff, subscribe, and keep the subscriptions in line from then on."""
        self._handler = handler
        await self._sync()
        for agency in self._agencies.values():
            self._publish(agency)
        await self._apply()
        self._task = asyncio.create_task(self._run(), name="pacing")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._retire(self._shared)
        self._shared, self._shared_queues = None, ()
        for probe in self._probes.values():
            self._retire(probe)
        self._probes.clear()
        await asyncio.gather(*self._retiring, return_exceptions=True)

    # --- delivering ---------------------------------------------------------------------------
    async def deliver(self, adapter: Adapter, item: OutboundItem) -> None:
        """`adapter.deliver(item)`, unless the recipient is backing off; a TemporaryFailure
        raised from here carries the delay until the recipient's retry time."""
        agency = self._agencies.get(item.recipient)
        if agency is None:
            await adapter.deliver(item)
            return
        label = agency.instance.name
        now = self._clock()
        if agency.state.waiting(now):
            metrics.DELIVERIES.labels(label, "deferred").inc()
            assert agency.state.retry_at is not None
            raise TemporaryFailure(
                f"not tried: {item.recipient} is backing off after: {agency.state.last_error}",
                agency.state.retry_at - now,
            )
        started = time.perf_counter()
        try:
            await adapter.deliver(item)
        except TemporaryFailure as exc:
            self._count(label, "retry", started)
            delay = await self._failed(agency, exc)
            raise TemporaryFailure(exc.reason, delay) from exc
        except PermanentFailure as exc:
            self._count(label, "failed", started)
            await self._failed(agency, TemporaryFailure(exc.reason))
            raise
        self._count(label, "delivered", started)
        if not agency.state.up:
            await self._recovered(agency)

    def _count(self, label: str, outcome: str, started: float) -> None:
        metrics.DELIVERIES.labels(label, outcome).inc()
        metrics.DELIVERY_SECONDS.labels(label).observe(time.perf_counter() - started)

    async def _failed(self, agency: _Agency, exc: TemporaryFailure) -> float:
        now = self._clock()
        if agency.state.waiting(now):  # a delivery that failed first began this pause
            assert agency.state.retry_at is not None
            return agency.state.retry_at - now
        if exc.retry_after_s is not None:
            delay = self._policy.honour(exc.retry_after_s)
        else:
            delay = self._policy.delay(agency.state.failures + 1, self._rng)
        agency.state = agency.state.failed(exc.reason, delay, now)
        agency.mode = "paused"
        log.warning(
            "adapter_backing_off",
            instance=agency.instance.name,
            agency=agency.state.agency,
            failures=agency.state.failures,
            retry_in_s=round(delay, 3),
            reason=exc.reason,
        )
        await self._changed(agency)
        return delay

    async def _recovered(self, agency: _Agency) -> None:
        now = self._clock()
        outage = now - (agency.state.since or now)
        agency.state = agency.state.cleared(now)
        agency.mode = "up"
        log.info(
            "adapter_recovered",
            instance=agency.instance.name,
            agency=agency.state.agency,
            outage_s=round(outage, 3),
        )
        await self._changed(agency)

    # --- operators ----------------------------------------------------------------------------
    async def reset(self, agency_id: str) -> BackoffState:
        """Forget the agency's failures and try its system again now (KeyError if unknown)."""
        agency = self._agencies[agency_id]
        agency.state = agency.state.cleared(self._clock())
        agency.mode = "up"
        log.info("adapter_reset", instance=agency.instance.name, agency=agency_id)
        await self._changed(agency)
        return agency.state

    def instances(self) -> list[Instance]:
        return [agency.instance for agency in self._agencies.values()]

    async def stored(self) -> dict[str, BackoffState]:
        """The backoff as the store holds it: what every node adopts."""
        return await self._store.load()

    # --- keeping the subscriptions in line ----------------------------------------------------
    async def _changed(self, agency: _Agency) -> None:
        self._publish(agency)
        self._wake.set()
        try:
            await self._store.save(agency.state)
        except Exception as exc:  # pacing goes on from memory; the next change saves again
            log.error("adapter_backoff_not_saved", agency=agency.state.agency, error=str(exc))

    def _publish(self, agency: _Agency) -> None:
        label = agency.instance.name
        metrics.UP.labels(label).set(1 if agency.state.up else 0)
        metrics.FAILURES.labels(label).set(agency.state.failures)
        metrics.RETRY_AT.labels(label).set(agency.state.retry_at or 0)

    async def _run(self) -> None:
        next_sync = time.monotonic() + self._sync_interval_s
        while True:
            timeout = min(self._next_due_in(), next_sync - time.monotonic())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(timeout, 0.0)):
                    await self._wake.wait()
            self._wake.clear()
            try:
                if time.monotonic() >= next_sync:
                    next_sync = time.monotonic() + self._sync_interval_s
                    await self._sync()
                self._promote_due()
                await self._apply()
            except Exception as exc:  # the bus or the store is down: try again shortly
                log.error("pacing_failed", error=str(exc) or type(exc).__name__)
                await asyncio.sleep(RESUBSCRIBE_BACKOFF_S)
                self._wake.set()

    def _next_due_in(self) -> float:
        now = self._clock()
        due = [
            a.state.retry_at - now
            for a in self._agencies.values()
            if a.mode == "paused" and a.state.retry_at is not None
        ]
        return min(due, default=math.inf)

    def _promote_due(self) -> None:
        now = self._clock()
        for agency in self._agencies.values():
            if agency.mode == "paused" and not agency.state.waiting(now):
                agency.mode = "probing"
                log.info(
                    "adapter_probing",
                    instance=agency.instance.name,
                    agency=agency.state.agency,
                    failures=agency.state.failures,
                )

    async def _sync(self) -> None:
        """Adopt what the store holds where it is newer than what this node knows."""
        now = self._clock()
        for agency_id, stored in (await self._store.load()).items():
            agency = self._agencies.get(agency_id)
            if agency is None or stored.updated_at <= agency.state.updated_at:
                continue
            agency.state = replace(stored, instance=agency.instance.name)
            agency.mode = _mode(agency.state, now)
            self._publish(agency)

    async def _apply(self) -> None:
        assert self._handler is not None
        wanted = tuple(a for a, agency in self._agencies.items() if agency.mode == "up")
        if wanted != self._shared_queues:
            old = self._shared
            self._shared = (
                await self._bus.subscribe(wanted, self._handler, prefetch=self._prefetch)
                if wanted
                else None
            )
            self._shared_queues = wanted
            self._retire(old)
        for agency_id, agency in self._agencies.items():
            if agency.mode == "probing" and agency_id not in self._probes:
                self._probes[agency_id] = await self._bus.subscribe(
                    [agency_id], self._handler, prefetch=1
                )
        for agency_id in [a for a in self._probes if self._agencies[a].mode != "probing"]:
            self._retire(self._probes.pop(agency_id))

    def _retire(self, subscription: Subscription | None) -> None:
        """Cancel in the background: running handlers finish first, and may be ours."""
        if subscription is None:
            return
        task = asyncio.create_task(subscription.cancel())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)
