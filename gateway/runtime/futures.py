"""Handing results back to whoever waits for them on the event loop."""

from __future__ import annotations

import asyncio
from typing import Any


def settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Resolve `future` with `value`, or fail it with `value` (an exception) when not `ok`;
    nothing if it is done already (its caller was cancelled)."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
