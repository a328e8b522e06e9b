"""Prometheus metrics of the bus, whichever implementation: rates of what is published and
handed out, confirm latency, and each agency's queue depth and age (refreshed by
gateway.delivery.backlog_metrics, since a scrape cannot wait on the broker)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from gateway.metrics import PREFIX

PUBLISHED = Counter(PREFIX + "bus_published_total", "Claims the bus confirmed durable")
PUBLISH_FAILURES = Counter(PREFIX + "bus_publish_failures_total", "Publishes the bus refused")
CONFIRM_SECONDS = Histogram(
    PREFIX + "bus_confirm_seconds",
    "From publishing a message's claims until the bus confirmed every one durable",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)
HANDLED = Counter(
    PREFIX + "bus_handled_total",
    "Messages the bus handed out, by outcome: delivered, retried, dead_lettered, duplicate",
    ["outcome"],
)
READY = Gauge(PREFIX + "queue_ready", "Messages waiting in the agency's queue", ["agency"])
IN_FLIGHT = Gauge(PREFIX + "queue_in_flight", "Messages being delivered to the agency", ["agency"])
DEAD = Gauge(PREFIX + "queue_dead", "Dead letters of the agency", ["agency"])
OLDEST = Gauge(
    PREFIX + "queue_oldest_age_seconds",
    "Age of the agency's oldest waiting message (0 when none, or unknown to this node)",
    ["agency"],
)
