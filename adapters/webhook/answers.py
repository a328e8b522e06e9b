"""What the department's answer means: delivered, try again later, or never."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from gateway.adapter_api import PermanentFailure, TemporaryFailure

RETRIED = frozenset({408, 429})  # and every 5xx


def verdict(status: int, retry_after: str | None) -> TemporaryFailure | PermanentFailure | None:
    """None when the department took the item (2xx)."""
    if 200 <= status < 300:
        return None
    if status in RETRIED or 500 <= status < 600:
        return TemporaryFailure(f"the receiver answered HTTP {status}", seconds(retry_after))
    if 300 <= status < 400:
        return PermanentFailure(
            f"the receiver answered HTTP {status}: redirects are not followed, "
            "configure the final URL"
        )
    return PermanentFailure(f"the receiver refused it: HTTP {status}")


def seconds(retry_after: str | None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date (RFC 9110)."""
    if not retry_after:
        return None
    text = retry_after.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
