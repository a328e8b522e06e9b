"""Time as the gateway sees it: injectable, so tests can move it (statistics periods, retries)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> float:
        """Unix time in seconds."""


def system_clock() -> float:
    return time.time()


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def iso(ts: float) -> str:
    """RFC 3339 in UTC with milliseconds, the form every API answer uses."""
    return utc(ts).isoformat(timespec="milliseconds").replace("+00:00", "Z")
