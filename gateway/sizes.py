"""Where a message stops being small: one threshold for every place that treats large ones apart.

A message above it is parsed on a thread (intake.pipeline), verified by the "large" worker so
that a 10 MB message never queues ahead of small ones (runtime.workers), recorded by a write
that says so (`Database.write(..., large=True)`), and hashed and encoded off the event loop by
the national axis' façade (api.vdxp). Parsing or hashing a few kB takes microseconds in place.
"""

from __future__ import annotations

from typing import Final

LARGE_MESSAGE_BYTES: Final = 256 * 1024


def is_large(size: int) -> bool:
    return size > LARGE_MESSAGE_BYTES
