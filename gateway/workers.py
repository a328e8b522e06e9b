"""Where CPU-heavy checks run: never on the event loop.

Signature verification and PDF reading take milliseconds to seconds; the event loop must keep
answering small requests meanwhile. They go to worker processes, which use the machine's other
cores and keep a hostile file's damage out of the gateway; or, configured without, to threads.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, TypeVar

from prometheus_client import Counter

from gateway.errors import Unavailable
from gateway.log import get_logger
from gateway.metrics import PREFIX

T = TypeVar("T")
log = get_logger(__name__)
WORKERS_LOST = Counter(
    PREFIX + "worker_pools_lost_total",
    "Worker process pools replaced after a worker died (killed, out of memory, a crash)",
    ["lane"],
)
# Beyond this, a message is verified by the "large" worker, so that a 10 MB message never
# queues ahead of small ones (the same threshold as the parse step's).
LARGE_MESSAGE_BYTES = 256 * 1024


def _run_for_effect(job: Callable[[], object]) -> None:
    job()  # what it returns need not be picklable: it stays in the worker


class Workers:
    """Where checks run: never on the event loop.

    With `processes` > 0 (the default), checks run in worker processes, which use the
    machine's other cores instead of taking the GIL from the event loop, in two lanes of
    `processes` each: small messages in one, large ones and PDFs in the other, so that a 10 MB
    verification never queues ahead of small ones. Measured with `bench.load --signed`
    (docs/trust.md), signed 10 kB documents: 106 docs/s end to end verified on threads (the
    gateway GIL-bound), 143 docs/s in a process. With `processes = 0` everything runs on
    threads of the gateway process (a hop costs tens of µs there; the tree stays here).
    """

    def __init__(self, processes: int = 1, threads: int = 2) -> None:
        self.processes = processes
        self._small = ThreadPoolExecutor(threads, thread_name_prefix="verify")
        self._large_thread = ThreadPoolExecutor(1, thread_name_prefix="verify-large")
        self._lanes: dict[bool, ProcessPoolExecutor] = {}  # by "is large"; started on first use

    def is_large(self, size: int) -> bool:
        return size > LARGE_MESSAGE_BYTES

    async def in_thread(self, size: int, fn: Callable[..., T], *args: Any) -> T:
        pool = self._large_thread if self.is_large(size) else self._small
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args))

    async def in_process(self, size: int, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the lane of a job of `size` bytes (needs `processes` > 0).

        A worker that dies breaks its pool and fails every job in it: those raise Unavailable
        (503, send again) and the lane gets a new pool. No job is run again here, since the one
        that killed the worker would likely kill the next."""
        large = self.is_large(size)
        pool = self._lane(large)
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool, functools.partial(fn, *args)
            )
        except BrokenProcessPool:
            self._replace(large, pool)
            raise Unavailable(
                "a worker process checking messages stopped (killed or out of memory) while it"
                " had this one; nothing was accepted: send it again"
            ) from None

    async def warm(self, *jobs: Callable[[], object]) -> None:
        """Start the worker processes and run `jobs` there (imports, a trust store to build)
        before the gateway says it is ready, rather than on the first documents, which would
        wait a second for them. Each job runs once per process while a lane has one process
        (the default)."""
        if not self.processes:
            return
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(
                loop.run_in_executor(self._lane(large), _run_for_effect, job)
                for large in (False, True)
                for _ in range(self.processes)
                for job in jobs
            )
        )

    def _lane(self, large: bool) -> ProcessPoolExecutor:
        if self.processes < 1:
            raise RuntimeError("no worker processes configured ([server] worker_processes)")
        pool = self._lanes.get(large)
        if pool is None:
            # spawn: forking a process that runs threads and an event loop is unsafe
            pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"))
            self._lanes[large] = pool
        return pool

    def _replace(self, large: bool, broken: ProcessPoolExecutor) -> None:
        if self._lanes.get(large) is not broken:  # another job of that pool got here first
            return
        lane = "large" if large else "small"
        log.error("worker_pool_lost", lane=lane)
        WORKERS_LOST.labels(lane).inc()
        del self._lanes[large]  # the next job starts a new pool
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._small.shutdown(wait=False, cancel_futures=True)
        self._large_thread.shutdown(wait=False, cancel_futures=True)
        for pool in self._lanes.values():
            pool.shutdown(wait=False, cancel_futures=True)
