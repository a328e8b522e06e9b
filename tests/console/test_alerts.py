"""The overview's alerts: the thresholds of docker/prometheus/alerts.yml, each on its side of
the line (one second either way)."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.bus.base import QueueStats
from gateway.console.alerts import BACKING_OFF_S, TRUST_AHEAD_S, UNCOLLECTED_S, Alert, firing
from gateway.delivery.backlog import AgencyBacklog
from gateway.delivery.backoff import BackoffState
from gateway.trust.expiry import Expiry

NOW = 1_800_000_000.0


def row(
    agency: str, *, dead: int = 0, down_for: float | None = None, oldest: float | None = None
) -> AgencyBacklog:
    backoff = BackoffState(agency, "webhook")
    if down_for is not None:
        backoff = BackoffState(
            agency, "webhook", failures=3, retry_at=NOW + 60, since=NOW - down_for
        )
    return AgencyBacklog(
        agency=agency,
        adapter="webhook",
        bus=QueueStats(agency, ready=0, in_flight=0, dead=dead, oldest_age_s=None),
        uncollected=0 if oldest is None else 1,
        uncollected_oldest_age_s=oldest,
        last_listed_at=None,
        last_fetched_at=None,
        backoff=backoff,
    )


def expiry(kind: str, seconds_left: float | None) -> Expiry:
    until = None if seconds_left is None else datetime.fromtimestamp(NOW + seconds_left, UTC)
    return Expiry(kind, f"CN={kind}", None, "00", until)


def test_nothing_fires_just_under_every_threshold() -> None:
    rows = [row("A", down_for=BACKING_OFF_S), row("B", oldest=UNCOLLECTED_S)]
    trust = [expiry("anchor", TRUST_AHEAD_S), expiry("crl", None)]
    assert firing([], rows, trust, NOW) == []


def test_each_condition_fires_just_over_its_threshold() -> None:
    rows = [
        row("A", dead=2),
        row("B", down_for=BACKING_OFF_S + 1),
        row("C", oldest=UNCOLLECTED_S + 1),
    ]
    trust = [expiry("intermediate", TRUST_AHEAD_S - 1), expiry("crl", -5)]
    assert firing(["bus"], rows, trust, NOW) == [
        Alert("alert.not_ready", subject="bus"),
        Alert("alert.dead", agency="A", count=2),
        Alert("alert.backing_off", agency="B", at=NOW - BACKING_OFF_S - 1),
        Alert("alert.uncollected", agency="C", at=NOW - UNCOLLECTED_S - 1),
        Alert(
            "alert.trust",
            at=NOW + TRUST_AHEAD_S - 1,
            kind="intermediate",
            subject="CN=intermediate",
        ),
        Alert("alert.trust", at=NOW - 5, kind="crl", subject="CN=crl"),
    ]
