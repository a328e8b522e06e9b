"""LocalBus: the embedded durable bus on SQLite, the default for a single node.

Design, in short (the numbers are what this kind of machine does):

- Durability: WAL with `synchronous=FULL`; `publish` returns after the commit that holds its
  rows. One fsync'd commit costs about as much whether it holds one row or fifty, so every
  write (publish, ack, retry, dead-letter, ...) is queued and whatever was queued during one
  turn of the event loop commits in one transaction at its end (see `_writer.py`): concurrency
  turns into batch size. The writes run on the loop: the gateway's messages are claims of a
  few hundred bytes, not documents.
- Dispatch: a single process owns the file (an exclusive flock beside it), so which messages
  are ready, delayed or in a handler is kept in memory (`_index.py`), rebuilt from the table at
  start. Handing a message out is a heap pop; bodies of recently published messages are kept in
  memory within a budget, others are read on a separate read connection.
- In-flight state is memory only: after a crash every unacknowledged message is ready again.
  Failed attempts are stored, so `attempt` numbers of retried messages survive a restart.
- An ack is written before the message leaves the handler bookkeeping: a message is never
  counted as done before its deletion is on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

import structlog

from gateway.bus.base import (
    BusUnavailable,
    DeadLetter,
    DeadLetterNotFound,
    Handler,
    Outcome,
    OutgoingMessage,
    QueueStats,
    ReceivedMessage,
    RetryPolicy,
    Subscription,
    Unroutable,
    outcome_of,
    settlement,
)
from gateway.bus.local import storage as sql
from gateway.bus.local.index import PRIORITIES, Entry, Index
from gateway.bus.local.storage import BusLocked, Payload, Revived
from gateway.bus.local.writer import Apply, GroupCommitWriter

__all__ = ["BusLocked", "CommitStats", "LocalBus", "LocalBusTuning"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

_MAX_REASON = 1000  # characters of a failure reason kept with a dead letter


@dataclass(frozen=True)
class LocalBusTuning:
    # How long close() and Subscription.cancel() wait for running handlers before cancelling
    # them; a cancelled handler's message is not acknowledged, so it is delivered again.
    close_grace_s: float = 30.0
    # Bodies of published messages kept in memory so that dispatch need not read them back.
    body_cache_bytes: int = 64 * 1024 * 1024
    # Upper bound on jobs per transaction, to bound the latency of one commit.
    max_batch: int = 2000
    # Back-off of a dispatcher after a failed read, and of a message whose ack/retry write failed.
    error_backoff_s: float = 1.0


@dataclass(frozen=True)
class CommitStats:
    transactions: int  # committed write transactions
    jobs: int  # writes they held (a publish call, an ack, a retry, ...)


_DEFAULT_RETRY = RetryPolicy()
_DEFAULT_TUNING = LocalBusTuning()

_State = Literal["new", "starting", "started", "closing", "closed"]


class LocalBus:
    def __init__(
        self,
        path: Path,
        *,
        retry: RetryPolicy = _DEFAULT_RETRY,
        clock: Callable[[], float] = time.time,
        tuning: LocalBusTuning = _DEFAULT_TUNING,
    ) -> None:
        self._path = Path(path)
        self._retry = retry
        self._clock = clock
        self._tuning = tuning
        self._state: _State = "new"
        self._lock = sql.OwnerLock(self._path)
        self._writer: GroupCommitWriter | None = None
        self._reader: _Reader | None = None
        self._index = Index()
        self._queues: set[str] = set()
        self._dead_counts: Counter[str] = Counter()
        self._next_seq = 1
        self._subscriptions: set[_LocalSubscription] = set()
        self._subscribers: dict[str, set[_LocalSubscription]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0
        self._cached_bytes = 0
        self._closed = asyncio.Event()

    def __repr__(self) -> str:
        return f"LocalBus({str(self._path)!r}, {self._state})"

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self._state == "started":
            return
        if self._state != "new":
            raise BusUnavailable(f"{self!r} cannot be started again; create a new LocalBus")
        self._state = "starting"
        try:
            opened = await self._open()
        except BaseException:
            self._state = "new"
            raise
        if self._state != "starting":  # close() was called while we were opening
            opened.writer.close()
            opened.reader.close()
            self._lock.release()
            raise BusUnavailable(f"{self!r} was closed while starting")
        loop = asyncio.get_running_loop()
        self._writer = GroupCommitWriter(opened.writer, loop, max_batch=self._tuning.max_batch)
        self._reader = _Reader(opened.reader)
        self._queues = set(opened.queues)
        self._dead_counts = opened.dead_counts
        self._next_seq = opened.next_seq
        now = self._clock()
        for m in opened.messages:
            self._index.add(
                Entry(m.seq, m.queue, m.priority, m.attempts, m.enqueued_at, m.ready_at), now
            )
        self._arm_timer()
        self._state = "started"
        log.info(
            "bus.started",
            path=str(self._path),
            messages=len(opened.messages),
            queues=len(self._queues),
        )

    async def _open(self) -> sql.Opened:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except OSError as exc:
            raise BusUnavailable(f"cannot lock the bus file {self._path}: {exc}") from exc
        try:
            return await asyncio.to_thread(sql.open_database, self._path)
        except BaseException as exc:
            self._lock.release()
            if isinstance(exc, sqlite3.Error | OSError):
                raise BusUnavailable(f"cannot open the bus file {self._path}: {exc}") from exc
            raise

    async def close(self) -> None:
        """Stop subscriptions (running handlers finish, their acks are committed), then close."""
        if self._state in ("new", "starting"):
            self._state = "closed"
            self._closed.set()
            return
        if self._state != "started":
            await self._closed.wait()
            return
        self._state = "closing"
        try:
            await asyncio.gather(*(sub.cancel() for sub in list(self._subscriptions)))
            if self._timer is not None:
                self._timer.cancel()
            if self._writer is not None:
                await self._writer.stop()
            if self._reader is not None:
                await self._reader.close()
        finally:
            self._lock.release()
            self._state = "closed"
            self._closed.set()
            log.info("bus.closed", path=str(self._path))

    @property
    def commit_stats(self) -> CommitStats:
        """How well group commit is batching: jobs per transaction since start."""
        if self._writer is None:
            return CommitStats(0, 0)
        return CommitStats(self._writer.transactions, self._writer.jobs)

    async def ping(self) -> None:
        writer = self._require_open()
        await writer.submit(partial(sql.heartbeat, now=self._clock()))

    # --- queues and publishing ----------------------------------------------------------------
    async def declare(self, queues: Sequence[str]) -> None:
        writer = self._require_open()
        for name in queues:
            if not isinstance(name, str) or not name:
                raise ValueError(f"a queue name must be a non-empty string, not {name!r}")
        new = [name for name in dict.fromkeys(queues) if name not in self._queues]
        if new:
            await writer.submit(
                partial(sql.declare, names=new, now=self._clock()),
                on_commit=lambda _: self._queues.update(new),
            )

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        writer = self._require_open()
        for message in messages:
            self._check_publishable(message)
        if not messages:
            return
        now = self._clock()
        entries: list[Entry] = []
        rows: list[sql.PublishRow] = []
        for m in messages:
            seq = self._take_seq()
            payload = self._cache(m.message_id, m.headers, m.body)
            entries.append(Entry(seq, m.queue, m.priority, 0, now, now, payload))
            headers = sql.encode_headers(m.headers)
            rows.append((seq, m.queue, m.message_id, m.priority, headers, m.body, 0, now, now))
        await writer.submit(
            partial(sql.insert_messages, rows=rows),
            on_commit=lambda _: self._file(entries),
            on_fail=lambda _: self._uncache_all(entries),
        )

    def _check_publishable(self, message: OutgoingMessage) -> None:
        if message.queue not in self._queues:
            raise Unroutable(f"no queue {message.queue!r} is declared on this bus")
        if not 0 <= message.priority < PRIORITIES:
            raise ValueError(f"priority must be 0 to {PRIORITIES - 1}, not {message.priority}")

    # --- consuming ----------------------------------------------------------------------------
    async def subscribe(
        self, queues: Sequence[str], handler: Handler, *, prefetch: int = 32
    ) -> Subscription:
        self._require_open()
        if prefetch < 1:
            raise ValueError(f"prefetch must be at least 1, not {prefetch}")
        names = tuple(dict.fromkeys(queues))
        missing = [name for name in names if name not in self._queues]
        if missing or not names:
            raise Unroutable(f"cannot subscribe to undeclared queues {missing or list(queues)}")
        subscription = _LocalSubscription(self, names, handler, prefetch, self._tuning)
        self._subscriptions.add(subscription)
        for name in names:
            self._subscribers.setdefault(name, set()).add(subscription)
        subscription.start()
        return subscription

    def _unsubscribe(self, subscription: _LocalSubscription) -> None:
        self._subscriptions.discard(subscription)
        for name in subscription.queues:
            self._subscribers.get(name, set()).discard(subscription)

    def _take(self, queues: Sequence[str], limit: int) -> list[Entry]:
        if self._state != "started":
            return []
        return self._index.take(queues, limit)

    async def _materialise(self, entries: list[Entry]) -> list[tuple[Entry, ReceivedMessage]]:
        """Turn taken entries into messages, reading the bodies that are not cached."""
        missing = [entry.seq for entry in entries if entry.payload is None]
        loaded: dict[int, Payload] = {}
        if missing:
            loaded = await self._require_reader().run(partial(sql.load_payloads, seqs=missing))
        messages: list[tuple[Entry, ReceivedMessage]] = []
        for entry in entries:
            payload = entry.payload or loaded.get(entry.seq)
            if payload is None:  # cannot happen while one process owns the file
                log.error("bus.message_vanished", queue=entry.queue, seq=entry.seq)
                self._index.settle(entry)
                continue
            messages.append((entry, _received(entry, payload)))
        return messages

    async def _settle(self, entry: Entry, outcome: Outcome) -> None:
        apply, on_commit = self._settlement(entry, outcome)
        try:
            future = self._writer_or_fail().submit(
                apply, on_commit=on_commit, on_fail=partial(self._settle_failed, entry)
            )
        except BusUnavailable as exc:
            self._settle_failed(entry, exc)
            return
        # Cancelling this wait cancels only the future: the writer still runs the commit hook,
        # which settles the entry as committed.
        with contextlib.suppress(BusUnavailable):  # _settle_failed has put the message back
            await future

    def _settlement(
        self, entry: Entry, outcome: Outcome
    ) -> tuple[Apply[None], Callable[[None], None]]:
        # entry.attempts counts the failed deliveries before this one
        decided = settlement(outcome, entry.attempts + 1, self._retry)
        attempt = decided.attempt
        if decided.action == "ack":
            return partial(sql.delete_message, seq=entry.seq), lambda _: self._done(entry)
        now = self._clock()
        if decided.action == "retry":
            ready_at = now + decided.delay_s
            return (
                partial(sql.postpone, seq=entry.seq, attempts=attempt, ready_at=ready_at),
                lambda _: self._postponed(entry, attempt, ready_at, decided.reason),
            )
        reason = decided.reason[:_MAX_REASON]
        return (
            partial(sql.bury, seq=entry.seq, attempts=attempt, reason=reason, now=now),
            lambda _: self._buried(entry, attempt, reason),
        )

    # --- commit hooks (event loop) ----------------------------------------------------------
    def _file(self, entries: Iterable[Entry]) -> None:
        now = self._clock()
        woken = {entry.queue for entry in entries if self._index.add(entry, now)}
        self._notify(woken)
        self._arm_timer()

    def _done(self, entry: Entry) -> None:
        self._index.settle(entry)
        self._uncache(entry)

    def _postponed(self, entry: Entry, attempt: int, ready_at: float, reason: str) -> None:
        self._index.settle(entry)
        self._uncache(entry)
        entry.attempts = attempt
        entry.ready_at = ready_at
        self._file([entry])
        # debug: the handler's owner (delivery) reports its own failures; this is the bus's view.
        log.debug(
            "bus.retry_scheduled",
            queue=entry.queue,
            seq=entry.seq,
            attempt=attempt,
            delay_s=round(max(0.0, ready_at - self._clock()), 3),
            reason=reason[:200],
        )

    def _buried(self, entry: Entry, attempts: int, reason: str) -> None:
        self._done(entry)
        self._dead_counts[entry.queue] += 1
        log.warning(
            "bus.dead_lettered",
            queue=entry.queue,
            seq=entry.seq,
            attempts=attempts,
            reason=reason[:200],
        )

    def _settle_failed(self, entry: Entry, exc: BaseException) -> None:
        # The row is unchanged on disk; deliver it again a little later.
        log.error("bus.settle_failed", queue=entry.queue, seq=entry.seq, error=str(exc))
        self._index.settle(entry)
        entry.ready_at = self._clock() + self._tuning.error_backoff_s
        self._file([entry])

    def _release(self, entry: Entry) -> None:
        """A handler was cancelled before it finished: the message is ready again."""
        if self._index.release(entry, self._clock()):
            self._notify([entry.queue])
        self._arm_timer()

    def _notify(self, queues: Iterable[str]) -> None:
        for name in queues:
            for subscription in self._subscribers.get(name, ()):
                subscription.wake()

    # --- delayed messages ---------------------------------------------------------------------
    def _arm_timer(self) -> None:
        due = self._index.next_due()
        if due is None or self._state in ("closing", "closed"):
            return
        if self._timer is not None:
            if self._timer_due <= due:
                return
            self._timer.cancel()
        self._timer_due = due
        delay = max(0.0, due - self._clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._notify(self._index.due(self._clock()))
        self._arm_timer()

    # --- body cache ---------------------------------------------------------------------------
    def _cache(self, message_id: str, headers: Mapping[str, str], body: bytes) -> Payload | None:
        if self._cached_bytes + len(body) > self._tuning.body_cache_bytes:
            return None
        self._cached_bytes += len(body)
        return Payload(message_id, dict(headers), body)

    def _uncache(self, entry: Entry) -> None:
        if entry.payload is not None:
            self._cached_bytes -= len(entry.payload.body)
            entry.payload = None

    def _uncache_all(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            self._uncache(entry)

    # --- operations ---------------------------------------------------------------------------
    async def queue_stats(self, queues: Sequence[str]) -> list[QueueStats]:
        self._require_open()
        now = self._clock()
        stats: list[QueueStats] = []
        for name in queues:
            oldest = self._index.oldest_enqueued(name)
            age = None if oldest is None else max(0.0, now - oldest)
            stats.append(
                QueueStats(
                    queue=name,
                    ready=self._index.ready(name),
                    in_flight=self._index.in_flight(name),
                    dead=self._dead_counts.get(name, 0),
                    oldest_age_s=age,
                    waiting_retry=self._index.delayed(name),
                )
            )
        return stats

    async def dead_letters(self, queue: str | None = None, limit: int = 100) -> list[DeadLetter]:
        self._require_open()
        if limit < 0:
            raise ValueError(f"limit must not be negative, not {limit}")
        return await self._require_reader().run(partial(sql.dead_letters, queue=queue, limit=limit))

    async def replay(self, dead_letter_id: str) -> None:
        writer = self._require_open()
        try:
            dead_id = int(dead_letter_id)
        except (TypeError, ValueError):
            raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}") from None
        seq = self._take_seq()
        now = self._clock()
        await writer.submit(
            partial(sql.revive, dead_id=dead_id, seq=seq, now=now),
            on_commit=partial(self._revived, seq, now),
        )

    def _revived(self, seq: int, now: float, revived: Revived) -> None:
        p = revived.payload
        payload = self._cache(p.message_id, p.headers, p.body)
        self._dead_counts[revived.queue] -= 1
        self._queues.add(revived.queue)
        self._file([Entry(seq, revived.queue, revived.priority, 0, now, now, payload)])
        log.info("bus.replayed", queue=revived.queue, seq=seq)

    async def purge_dead(self, queue: str) -> int:
        writer = self._require_open()

        def purged(count: int) -> None:
            self._dead_counts[queue] = max(0, self._dead_counts[queue] - count)
            log.info("bus.dead_purged", queue=queue, count=count)

        return await writer.submit(partial(sql.purge_dead, queue=queue), on_commit=purged)

    # --- helpers ------------------------------------------------------------------------------
    def _require_open(self) -> GroupCommitWriter:
        if self._state != "started":
            raise BusUnavailable(f"{self!r} is not open")
        return self._writer_or_fail()

    def _writer_or_fail(self) -> GroupCommitWriter:
        if self._writer is None:
            raise BusUnavailable(f"{self!r} is not open")
        reason = self._writer.available
        if reason is not None:
            raise BusUnavailable(reason)
        return self._writer

    def _require_reader(self) -> _Reader:
        if self._reader is None or self._state == "closed":
            raise BusUnavailable(f"{self!r} is not open")
        return self._reader

    def _take_seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq


def _received(entry: Entry, payload: Payload) -> ReceivedMessage:
    return ReceivedMessage(
        queue=entry.queue,
        message_id=payload.message_id,
        body=payload.body,
        priority=entry.priority,
        headers=payload.headers,
        attempt=entry.attempts + 1,
    )


class _Reader:
    """The read connection, used from one thread: body loads and operator queries."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localbus-reader")

    async def run(self, query: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, query, self._db)
        except sqlite3.Error as exc:
            raise BusUnavailable(f"the bus could not read its database: {exc}") from exc

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._db.close)
        self._pool.shutdown(wait=False)


class _LocalSubscription:
    def __init__(
        self,
        bus: LocalBus,
        queues: tuple[str, ...],
        handler: Handler,
        prefetch: int,
        tuning: LocalBusTuning,
    ) -> None:
        self.queues = queues
        self._bus = bus
        self._handler = handler
        self._prefetch = prefetch
        self._tuning = tuning
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopped: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(), name=f"bus-dispatch{self.queues}")

    def wake(self) -> None:
        self._wake.set()

    async def cancel(self) -> None:
        if self._stopped is None:
            self._stopped = asyncio.create_task(self._stop())
        await asyncio.shield(self._stopped)

    async def _stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._dispatcher is not None:
            await asyncio.gather(self._dispatcher, return_exceptions=True)  # crashes are logged
        self._bus._unsubscribe(self)
        running = set(self._tasks)
        if not running:
            return
        _, pending = await asyncio.wait(running, timeout=self._tuning.close_grace_s)
        if pending:
            log.warning("bus.handlers_abandoned", queues=list(self.queues), count=len(pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _dispatch(self) -> None:
        try:
            await self._dispatch_loop()
        except Exception:
            log.exception("bus.dispatcher_crashed", queues=list(self.queues))
            raise

    async def _dispatch_loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self._prefetch - len(self._tasks)
            entries = self._bus._take(self.queues, free) if free > 0 else []
            if entries:
                await self._deliver(entries)
            else:
                await self._wake.wait()

    async def _deliver(self, entries: list[Entry]) -> None:
        try:
            messages = await self._bus._materialise(entries)
        except Exception as exc:  # keep dispatching: a dead dispatcher would strand its queues
            log.error("bus.dispatch_failed", queues=list(self.queues), error=repr(exc))
            for entry in entries:
                self._bus._release(entry)
            await asyncio.sleep(self._tuning.error_backoff_s)
            return
        for entry, message in messages:
            if self._stopping:
                self._bus._release(entry)
                continue
            task = asyncio.create_task(self._handle(entry, message))
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("bus.settle_crashed", error=repr(task.exception()))

    async def _handle(self, entry: Entry, message: ReceivedMessage) -> None:
        try:
            outcome = await outcome_of(self._handler, message)
        except asyncio.CancelledError:
            self._bus._release(entry)
            raise
        await self._bus._settle(entry, outcome)
