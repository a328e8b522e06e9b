"""Prometheus metrics, declared once, all named edocgw_*."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PREFIX = "edocgw_"

ACCEPTED = Counter(PREFIX + "messages_accepted_total", "Messages accepted (202)", ["kind"])
REFUSED = Counter(
    PREFIX + "refusals_total",
    "Agency listener: requests refused, by error code and authenticated agency "
    "(`anonymous` before authentication)",
    ["code", "agency"],
)
OPS_REFUSED = Counter(
    PREFIX + "ops_refusals_total",
    "Ops listener: requests refused (operators' and auditors' calls), by error code",
    ["code"],
)
ANONYMOUS = "anonymous"
REQUEST_SECONDS = Histogram(
    PREFIX + "http_request_seconds",
    "HTTP request latency",
    ["listener", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
PDF_UNREAD = Counter(
    PREFIX + "secrecy_pdf_unread_total",
    "PDF attachments whose first page the secrecy guard could not read (not a finding)",
)


def count_unread_pdf(field: str, problem: str) -> None:
    """The secrecy guard's hook: called on a worker thread; counts, never logs the document."""
    PDF_UNREAD.inc()
