"""Where CPU-heavy checks run: never on the event loop.

Signature verification and PDF reading take milliseconds to seconds; the event loop must keep
answering small requests meanwhile. Small jobs go to a pool of threads (a hop costs tens of µs
and the tree they work on stays here); large ones, and every PDF, go to worker processes, which
also use the machine's other cores and keep a hostile file's damage out of the gateway.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from typing import Any, TypeVar

T = TypeVar("T")
# Beyond this, a message is verified by the "large" worker, so that a 10 MB message never
# queues ahead of small ones (the same threshold as the parse step's).
LARGE_MESSAGE_BYTES = 256 * 1024


class Workers:
    """Where checks run: never on the event loop.

    Small messages go to a pool of threads (a hop costs tens of µs; the tree they verify
    stays here). Large ones, and PDFs, go to `processes` worker processes, so that a 10 MB
    verification never queues ahead of small ones nor holds the GIL the event loop needs:
    measured with `bench/verify.py latency` (docs/trust.md), the p99 of 10 kB submissions sent
    while 10 MB ones are fell from about 700 ms (large ones on a thread) to about 250 ms.
    With `processes = 0` everything runs on threads of the gateway process.
    """

    def __init__(self, processes: int = 1, threads: int = 2) -> None:
        self.processes = processes
        self._small = ThreadPoolExecutor(threads, thread_name_prefix="verify")
        self._large_thread = ThreadPoolExecutor(1, thread_name_prefix="verify-large")
        self._pool: ProcessPoolExecutor | None = None  # started on first use

    def is_large(self, size: int) -> bool:
        return size > LARGE_MESSAGE_BYTES

    def uses_process(self, size: int) -> bool:
        return self.processes > 0 and self.is_large(size)

    async def in_thread(self, size: int, fn: Callable[..., T], *args: Any) -> T:
        pool = self._large_thread if self.is_large(size) else self._small
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args))

    async def in_process(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._process_pool(), functools.partial(fn, *args)
        )

    def warm(self) -> None:
        """Start the worker processes now rather than on the first job (they take a second)."""
        if self.processes:
            self._process_pool().submit(int)

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: forking a process that runs threads and an event loop is unsafe
            self._pool = ProcessPoolExecutor(
                max(1, self.processes), mp_context=get_context("spawn")
            )
        return self._pool

    def close(self) -> None:
        self._small.shutdown(wait=False, cancel_futures=True)
        self._large_thread.shutdown(wait=False, cancel_futures=True)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
