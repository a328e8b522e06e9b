"""Group commit on the event loop: the jobs of one turn of the loop go in one transaction.

A commit with fsync costs about as much for fifty rows as for one (about 0.3 ms on this kind of
machine), so coroutines only enqueue jobs; at the end of the loop's turn everything enqueued
during it runs in one transaction, commits once, and the whole batch is resolved. The jobs are
small (claims, acks, retries), so running them on the loop costs it less than handing them to a
thread and back did: that hand-off also waited for the GIL while the loop was busy (the
figures: docs/performance.md).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog

from gateway.bus.base import BusError, BusFull, BusUnavailable
from gateway.runtime.diskspace import disk_full
from gateway.runtime.futures import settle

log = structlog.get_logger(__name__)

T = TypeVar("T")

Apply = Callable[[sqlite3.Connection], T]


@dataclass(eq=False, slots=True)
class _Job(Generic[T]):
    apply: Apply[T]
    future: asyncio.Future[T]
    on_commit: Callable[[T], None] | None
    on_fail: Callable[[BaseException], None] | None


# (True, result) or (False, exception), one per job of a batch.
_Outcome = tuple[bool, Any]


class GroupCommitWriter:
    def __init__(
        self, db: sqlite3.Connection, loop: asyncio.AbstractEventLoop, *, max_batch: int
    ) -> None:
        self._db = db
        self._loop = loop
        self._max_batch = max_batch
        self._pending: list[_Job[Any]] = []
        self._stopping = False
        self._closed = False
        self._broken: str | None = None
        self.transactions = 0  # committed batches, for tests and the benchmark
        self.jobs = 0

    @property
    def available(self) -> str | None:
        """None when jobs are accepted, else why not."""
        if self._broken is not None:
            return self._broken
        return "the bus is closing" if self._stopping else None

    def submit(
        self,
        apply: Apply[T],
        *,
        on_commit: Callable[[T], None] | None = None,
        on_fail: Callable[[BaseException], None] | None = None,
    ) -> asyncio.Future[T]:
        """Queue a job; the future resolves after its transaction committed (or failed).

        `on_commit` runs before the future resolves, even if the caller stopped waiting, so the
        in-memory state always follows what was committed.
        """
        reason = self.available
        if reason is not None:
            raise BusUnavailable(reason)
        future: asyncio.Future[T] = self._loop.create_future()
        if not self._pending:
            self._loop.call_soon(self._commit_pending)
        self._pending.append(_Job(apply, future, on_commit, on_fail))
        return future

    async def stop(self) -> None:
        """Commit everything queued so far, then close the connection."""
        self._stopping = True
        self._commit_pending()
        if not self._closed:
            self._closed = True
            self._db.close()

    def _commit_pending(self) -> None:
        jobs, self._pending = self._pending, []
        for start in range(0, len(jobs), self._max_batch):
            batch = jobs[start : start + self._max_batch]
            if self._broken is not None or self._closed:
                self._fail(batch)
                continue
            try:
                outcomes = self._execute(batch)
            except BaseException as exc:  # a bug here must not leave callers waiting forever
                self._broken = f"the bus writer failed: {exc!r}"
                log.error("bus.writer_failed", error=repr(exc))
                self._rollback()
                self._fail(batch)
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                continue
            self._resolve(batch, outcomes)

    def _execute(self, batch: list[_Job[Any]]) -> list[_Outcome]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            outcomes = [self._apply(job) for job in batch]
            self._db.execute("COMMIT")
        except Exception as exc:
            self._rollback()
            if len(batch) == 1:
                return [(False, _unavailable(exc))]
            log.warning("bus.batch_failed", jobs=len(batch), error=repr(exc))
            # Commit the jobs one by one so that one bad job cannot fail its neighbours.
            return [self._execute([job])[0] for job in batch]
        self.transactions += 1
        self.jobs += len(batch)
        return outcomes

    def _apply(self, job: _Job[Any]) -> _Outcome:
        try:
            return True, job.apply(self._db)
        except BusError as exc:  # a logical refusal, raised before the job wrote anything
            return False, exc

    def _rollback(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.error("bus.rollback_failed", error=repr(exc))

    @staticmethod
    def _resolve(batch: list[_Job[Any]], outcomes: list[_Outcome]) -> None:
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            hook = job.on_commit if ok else job.on_fail
            if hook is not None:
                try:
                    hook(value)
                except Exception as exc:
                    log.error("bus.commit_hook_failed", error=repr(exc))
            settle(job.future, ok, value)  # if the caller was cancelled, the hook kept the state

    def _fail(self, jobs: list[_Job[Any]]) -> None:
        reason = self._broken or "the bus writer has stopped"
        self._resolve(jobs, [(False, BusUnavailable(reason)) for _ in jobs])


def _unavailable(exc: BaseException) -> BaseException:
    if isinstance(exc, BusError):
        return exc
    kind = BusFull if disk_full(exc) else BusUnavailable
    error = kind(f"the bus could not write to its database: {exc}")
    error.__cause__ = exc
    return error
