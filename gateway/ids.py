"""Identifiers the gateway mints. Time-ordered, so that ids sort roughly by acceptance."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    """A 32-hex-digit id: 48 bits of milliseconds then 80 random bits (UUIDv7-like layout)."""
    millis = int(time.time() * 1000) & ((1 << 48) - 1)
    return f"{millis:012x}{os.urandom(10).hex()}"
