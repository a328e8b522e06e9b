"""Checking the whole audit log with every core (SQLite), in memory that does not grow with it.

The log up to its current head is cut into spans of consecutive entries; worker processes walk
them at once (gateway.audit.spans), each reading its span from the store's file in pages. An
entry's link needs only its own columns and its predecessor's hash, which it stores; so joining
the spans is checking that each span's first entry holds the last hash of the span before.
PostgreSQL, and a store with one core to give, walk the log in this process (chain.verify).
Figures: docs/performance.md, "Audit verification".
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from gateway.audit import chain
from gateway.audit.links import GENESIS
from gateway.audit.spans import Span, check_span
from gateway.store.db import Database
from gateway.store.sqlite import SqliteDatabase

SPANS_PER_WORKER = 4  # a slow worker (a busy core) holds up the end of a run by less
MIN_SPAN = 50_000  # below this, a process costs more than it saves


def spans(head: int, workers: int, min_span: int = MIN_SPAN) -> list[tuple[int, int]]:
    """Entries 1..head cut into consecutive (first, last) spans."""
    count = max(1, min(workers * SPANS_PER_WORKER, head // min_span))
    size = -(-head // count)
    return [(first, min(first + size - 1, head)) for first in range(1, head + 1, size)]


def joined(found: Sequence[Span]) -> chain.Verification:
    """The log's verification from its spans' walks, in order: the first problem wins."""
    prev, count = GENESIS, 0
    for span in found:
        walked = span.walk
        # The span's first entry: a wrong seq is reported by its worker; its link to the span
        # before only here (its worker took the prev_hash it holds as given).
        if span.first_seq_found == span.first and span.first_prev != prev:
            problem = (
                "its prev_hash is not the hash of the entry before it: the chain is broken here"
            )
            return chain.Verification(False, count, prev, span.first, problem)
        if walked.problem is not None:
            # Wrong at its first entry, the span verified nothing: the head is the last before.
            head = prev if walked.bad_seq == span.first else walked.last_hash
            return chain.Verification(
                False, count + walked.count, head, walked.bad_seq, walked.problem
            )
        prev, count = walked.last_hash, count + walked.count
    return chain.Verification(True, count, prev)


async def verify_chain(
    db: Database, workers: int | None = None, min_span: int = MIN_SPAN
) -> chain.Verification:
    """Every entry up to the head as it is now: altered, removed or reordered entries named."""
    workers = workers or os.cpu_count() or 1
    head, _ = await db.read(chain.head)
    if not isinstance(db, SqliteDatabase) or workers < 2 or head < 2 * min_span:
        return await db.scan(chain.verify)
    loop = asyncio.get_running_loop()
    # spawn: a fork of this threaded process could copy a lock held by another thread.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        found = await asyncio.gather(
            *(
                loop.run_in_executor(pool, check_span, str(db.path), first, last)
                for first, last in spans(head, workers, min_span)
            )
        )
    finally:
        # Never wait here, on the loop: a cancelled request leaves its workers to finish the
        # span they hold, and they exit.
        pool.shutdown(wait=False, cancel_futures=True)
    return joined(found)
