"""Prometheus metrics of the adapter instances, declared once.

The label is `adapter_instance`, not `instance`: Prometheus sets `instance` itself (the scraped
target) and would rename ours.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from gateway.metrics import PREFIX

LABEL = "adapter_instance"

DELIVERIES = Counter(
    PREFIX + "adapter_deliveries_total",
    "Items handed to an adapter instance, by outcome: delivered, retry (temporary failure), "
    "failed (refused for good), deferred (not tried: the agency is backing off)",
    [LABEL, "outcome"],
)
DELIVERY_SECONDS = Histogram(
    PREFIX + "adapter_delivery_seconds",
    "Time an adapter instance took to deliver or hold an item, failures included",
    [LABEL],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SUBMISSIONS = Counter(
    PREFIX + "adapter_submissions_total",
    "Messages an adapter instance submitted for its department: accepted, replayed, refused",
    [LABEL, "outcome"],
)
UP = Gauge(PREFIX + "adapter_up", "1 while the instance's department system is up", [LABEL])
FAILURES = Gauge(
    PREFIX + "adapter_consecutive_failures",
    "Consecutive failed deliveries of the instance (0 when up)",
    [LABEL],
)
RETRY_AT = Gauge(
    PREFIX + "adapter_retry_at_seconds",
    "Unix time of the instance's next try while it backs off (0 when up)",
    [LABEL],
)
