"""The alerts that fire now, for the overview: the conditions of docker/prometheus/alerts.yml
computed from the objects the gauges are computed from (the backlog, the trust material,
readiness), so the page and Prometheus agree without asking Prometheus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.delivery.backlog import AgencyBacklog
from gateway.trust.expiry import Expiry

BACKING_OFF_S = 15 * 60  # EdocgwAdapterBackingOff
UNCOLLECTED_S = 86400  # EdocgwMailboxUncollected
TRUST_AHEAD_S = 14 * 86400  # EdocgwTrustExpiring


@dataclass(frozen=True)
class Alert:
    key: str  # what the console says (gateway.console.words), filled with the fields below
    agency: str | None = None
    count: int | None = None
    at: float | None = None  # since when, or until when
    kind: str | None = None
    subject: str | None = None


def _backlog_alerts(row: AgencyBacklog, now: float) -> list[Alert]:
    found = []
    if row.bus.dead > 0:  # EdocgwDeadLetters
        found.append(Alert("alert.dead", agency=row.agency, count=row.bus.dead))
    since = row.backoff.since
    if not row.backoff.up and since is not None and now - since > BACKING_OFF_S:
        found.append(Alert("alert.backing_off", agency=row.agency, at=since))
    age = row.uncollected_oldest_age_s
    if age is not None and age > UNCOLLECTED_S:
        found.append(Alert("alert.uncollected", agency=row.agency, at=now - age))
    return found


def firing(
    failing: Sequence[str],
    backlog: Sequence[AgencyBacklog],
    expiries: Sequence[Expiry],
    now: float,
) -> list[Alert]:
    """Not ready first (EdocgwNotReady), then each agency's, then the trust material's."""
    found = [Alert("alert.not_ready", subject=", ".join(failing))] if failing else []
    for row in backlog:
        found += _backlog_alerts(row, now)
    for item in expiries:
        if item.not_after is None:
            continue
        until = item.not_after.timestamp()
        if until - now < TRUST_AHEAD_S:
            found.append(Alert("alert.trust", at=until, kind=item.kind, subject=item.subject))
    return found
