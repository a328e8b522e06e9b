"""Prometheus gauges of every agency's backlog, refreshed periodically (a scrape cannot wait on
the broker or the store): the bus's queue gauges (gateway.bus.metrics), the mailbox's and the
outage of the agency's system, and whether this node is ready."""

from __future__ import annotations

import asyncio

from prometheus_client import Gauge

from gateway.bus import metrics as bus_metrics
from gateway.bus.base import Bus
from gateway.clock import Clock
from gateway.delivery.backlog import AgencyBacklog, Backlog
from gateway.log import get_logger
from gateway.metrics import PREFIX
from gateway.runtime.lifecycle import Stopping
from gateway.store.db import Database

log = get_logger(__name__)
READY_TIMEOUT_S = 2.0

WAITING_RETRY = Gauge(
    PREFIX + "queue_waiting_retry",
    "Messages of the agency that failed and wait for their retry time (RabbitMQ: this node's)",
    ["agency"],
)
UNCOLLECTED = Gauge(
    PREFIX + "mailbox_uncollected", "Items waiting in the agency's inbox to be fetched", ["agency"]
)
UNCOLLECTED_AGE = Gauge(
    PREFIX + "mailbox_uncollected_oldest_age_seconds",
    "Age of the oldest item waiting in the agency's inbox (0 when none)",
    ["agency"],
)
LAST_POLL = Gauge(
    PREFIX + "mailbox_last_poll_seconds",
    "Unix time the agency last listed or fetched its inbox (0 when never)",
    ["agency"],
)
OUTAGE = Gauge(
    PREFIX + "adapter_outage_seconds",
    "How long the gateway has been backing off from the agency's system (0 when up)",
    ["agency"],
)
FAILURES = Gauge(
    PREFIX + "adapter_failures",
    "Consecutive failed deliveries to the agency's system, every node's (0 when up)",
    ["agency"],
)
NODE_READY = Gauge(PREFIX + "ready", "1 while the store and the bus answer this node, as /readyz")


def publish(row: AgencyBacklog, now: float) -> None:
    agency = row.agency
    bus_metrics.READY.labels(agency).set(row.bus.ready)
    bus_metrics.IN_FLIGHT.labels(agency).set(row.bus.in_flight)
    bus_metrics.DEAD.labels(agency).set(row.bus.dead)
    bus_metrics.OLDEST.labels(agency).set(row.bus.oldest_age_s or 0.0)
    WAITING_RETRY.labels(agency).set(row.bus.waiting_retry)
    UNCOLLECTED.labels(agency).set(row.uncollected)
    UNCOLLECTED_AGE.labels(agency).set(row.uncollected_oldest_age_s or 0.0)
    polls = [t for t in (row.last_listed_at, row.last_fetched_at) if t is not None]
    LAST_POLL.labels(agency).set(max(polls, default=0.0))
    since = row.backoff.since
    OUTAGE.labels(agency).set(0.0 if row.backoff.up or since is None else max(0.0, now - since))
    FAILURES.labels(agency).set(row.backoff.failures)


async def readiness(db: Database, bus: Bus) -> bool:
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await db.ping()
            await bus.ping()
    except Exception:  # /readyz names what fails; the gauge only says that something does
        return False
    return True


async def refresh(
    backlog: Backlog, db: Database, bus: Bus, now: float, stopping: Stopping | None = None
) -> None:
    ready = await readiness(db, bus) and (stopping is None or stopping.signal is None)
    NODE_READY.set(1 if ready else 0)
    if not ready:
        return  # keep the last figures
    for row in await backlog.agencies():
        publish(row, now)


async def watch_backlog(
    backlog: Backlog,
    db: Database,
    bus: Bus,
    clock: Clock,
    interval_s: float,
    stopping: Stopping | None = None,
) -> None:
    """Refresh the gauges every `interval_s` seconds, until cancelled."""
    while True:
        try:
            await refresh(backlog, db, bus, clock(), stopping)
        except Exception as exc:  # the bus or the store is down: keep the last figures
            log.warning("backlog_gauges_stale", error=str(exc) or type(exc).__name__)
        await asyncio.sleep(interval_s)
