"""Memory held by the process, as documents of several MB pass through it, and the garbage
collector's pauses.

glibc serves an allocation from the heap unless it is larger than its mmap threshold, and it
raises that threshold (up to 32 MB) each time a large block is freed: after a few 10 MB
documents their buffers are heap blocks that stay in the process' RSS once freed. With the
threshold fixed at 1 MiB, such buffers are mapped and unmapped whole (the peak RSS before
and after: docs/performance.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20
TRIM_THRESHOLD_BYTES = 4 << 20
# Allocations (net of frees) between two young collections: CPython's default is 700, which
# under load means a collection every few requests and, each 100, one of the whole heap.
GC_YOUNG_THRESHOLD = 50_000


def return_large_buffers() -> bool:
    """Fix glibc's mmap and trim thresholds; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )


def collect_less_often() -> None:
    """Keep the garbage collector's pauses out of the request path: what start-up allocated
    (modules, classes, the configuration) moves to a generation that is never scanned again,
    and collections come less often: a full collection of the start-up heap no longer lands
    in a request (docs/performance.md). Reference counting still frees
    almost everything at once; only cyclic garbage waits longer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 50, 100)
