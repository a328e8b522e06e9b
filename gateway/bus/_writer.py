"""Group commit: one thread owns the write connection and commits many jobs at once.

A commit with fsync costs about as much for fifty rows as for one, and a hand-off between the
event loop and a thread costs a few hundred microseconds. So coroutines only enqueue jobs; the
writer thread takes everything pending, runs it in one transaction, commits once, and resolves
the whole batch with a single call back into the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

import structlog

from gateway.bus.base import BusError, BusUnavailable

log = structlog.get_logger(__name__)

T = TypeVar("T")

Apply = Callable[[sqlite3.Connection], T]


@dataclass(eq=False, slots=True)
class _Job(Generic[T]):
    apply: Apply[T]
    future: asyncio.Future[T]
    on_commit: Callable[[T], None] | None
    on_fail: Callable[[BaseException], None] | None


_STOP: Final = object()

# (True, result) or (False, exception), one per job of a batch.
_Outcome = tuple[bool, Any]


class GroupCommitWriter:
    def __init__(
        self, db: sqlite3.Connection, loop: asyncio.AbstractEventLoop, *, max_batch: int
    ) -> None:
        self._db = db
        self._loop = loop
        self._max_batch = max_batch
        self._inbox: queue.SimpleQueue[list[_Job[Any]] | object] = queue.SimpleQueue()
        # Jobs submitted during one turn of the event loop, handed over together at its end:
        # one wake-up of the writer thread per turn instead of one per job.
        self._outbox: list[_Job[Any]] = []
        self._stopping = False
        self._broken: str | None = None
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._thread = threading.Thread(target=self._run, name="localbus-writer", daemon=True)
        self.transactions = 0  # committed batches, for tests and the benchmark
        self.jobs = 0

    def start(self) -> None:
        self._thread.start()

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

        `on_commit` runs on the loop before the future resolves, even if the caller stopped
        waiting, so the in-memory state always follows what was committed.
        """
        reason = self.available
        if reason is not None:
            raise BusUnavailable(reason)
        future: asyncio.Future[T] = self._loop.create_future()
        if not self._outbox:
            self._loop.call_soon(self._hand_over)
        self._outbox.append(_Job(apply, future, on_commit, on_fail))
        return future

    def _hand_over(self) -> None:
        jobs, self._outbox = self._outbox, []
        if not jobs:
            return
        if self._stopped.done():  # the thread has ended (it failed): nobody would take them
            self._fail(jobs)
        else:
            self._inbox.put(jobs)

    async def stop(self) -> None:
        """Commit everything queued so far, then end the thread and close the connection."""
        if self._thread.ident is None:  # never started
            self._stopping = True
            self._db.close()
            return
        if not self._stopping:
            self._stopping = True
            self._hand_over()
            self._inbox.put(_STOP)
        await asyncio.shield(self._stopped)

    # --- writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        batch: list[_Job[Any]] = []
        try:
            stop = False
            while not stop:
                batch, stop = self._next_batch()
                if batch:
                    self._post(self._resolve, batch, self._execute(batch))
                batch = []
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            self._broken = f"the bus writer failed: {exc!r}"
            log.error("bus.writer_failed", error=repr(exc))
            self._post(self._fail, batch)
        finally:
            self._db.close()
            self._post(self._mark_stopped)

    def _next_batch(self) -> tuple[list[_Job[Any]], bool]:
        batch: list[_Job[Any]] = []
        item = self._inbox.get()
        while True:
            if item is _STOP:
                return batch, True
            assert isinstance(item, list)
            batch.extend(item)
            if len(batch) >= self._max_batch:
                return batch, False
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return batch, False

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

    def _post(self, callback: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(callback, *args)

    # --- event loop ---------------------------------------------------------------------------
    @staticmethod
    def _resolve(batch: list[_Job[Any]], outcomes: list[_Outcome]) -> None:
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            hook = job.on_commit if ok else job.on_fail
            if hook is not None:
                try:
                    hook(value)
                except Exception as exc:
                    log.error("bus.commit_hook_failed", error=repr(exc))
            if job.future.done():  # the caller was cancelled; the hook kept the state right
                continue
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def _mark_stopped(self) -> None:
        # Runs on the loop after the thread ended, so nothing can race this drain.
        leftovers: list[_Job[Any]] = []
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, list):
                leftovers.extend(item)
        self._fail(leftovers)
        if not self._stopped.done():
            self._stopped.set_result(None)

    def _fail(self, jobs: list[_Job[Any]]) -> None:
        reason = self._broken or "the bus writer has stopped"
        self._resolve(jobs, [(False, BusUnavailable(reason)) for _ in jobs])


def _unavailable(exc: BaseException) -> BaseException:
    if isinstance(exc, BusError):
        return exc
    error = BusUnavailable(f"the bus could not write to its database: {exc}")
    error.__cause__ = exc
    return error
