"""The embedded store: SQLite in WAL mode, durable commits, group commit.

Writes queue up while a commit is in flight and go together in the next transaction (one fsync
for all of them); each unit runs under its own SAVEPOINT, so a unit that raises is rolled back
without its neighbours. A transaction runs on the event loop itself: its statements take a few
µs each and the fsync a fraction of a millisecond, less than handing the batch to a thread and
back costs the loop (docs/performance.md). A batch
holding a large value (a body of megabytes, `write(..., large=True)`) runs on a writer thread
instead, where SQLite writes it with the GIL released while the loop serves the small ones. One
flusher runs the batches one after the other, so the loop's connection and the thread's never
write at once. Short reads run on the loop too (in WAL mode a reader never waits for the
writer); scans run on reader threads.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect

from gateway.runtime.diskspace import disk_full
from gateway.runtime.futures import settle
from gateway.store.db import IntegrityError, Params, Query, Row, StoreError, StoreFull, Tx, Unit

T = TypeVar("T")
MAX_BATCH = 256


class SqliteTx:
    """Runs statements synchronously: a unit never waits on anything else, so a batch of them
    runs through without letting the loop (or the writer thread's loop) do other work."""

    __slots__ = ("_conn", "dialect", "memo")

    def __init__(self, conn: sqlite3.Connection, dialect: Dialect) -> None:
        self._conn = conn
        self.dialect = dialect
        self.memo: dict[str, Any] = {}

    async def execute(self, query: Query, params: Params | None = None) -> int:
        sql, args = query.bind(self.dialect, params)
        with _translated():
            return self._conn.execute(sql, args).rowcount

    async def executemany(self, query: Query, rows: Sequence[Params]) -> None:
        if not rows:
            return
        sql = query.bind(self.dialect, rows[0])[0]
        with _translated():
            self._conn.executemany(sql, [query.bind(self.dialect, row)[1] for row in rows])

    async def fetch(self, query: Query, params: Params | None = None) -> list[Row]:
        sql, args = query.bind(self.dialect, params)
        with _translated():
            rows: list[Row] = self._conn.execute(sql, args).fetchall()
        return rows

    async def fetchone(self, query: Query, params: Params | None = None) -> Row | None:
        sql, args = query.bind(self.dialect, params)
        with _translated():
            row: Row | None = self._conn.execute(sql, args).fetchone()
        return row

    async def stream(
        self, query: Query, params: Params | None = None, size: int = 5000
    ) -> AsyncIterator[list[Row]]:
        sql, args = query.bind(self.dialect, params)
        with _translated():
            cursor = self._conn.execute(sql, args)
        try:
            while True:
                with _translated():
                    rows: list[Row] = cursor.fetchmany(size)
                if not rows:
                    return
                yield rows
        finally:
            cursor.close()

    def before_commit(self, key: str, finish: Unit[None]) -> bool:
        # One writer at a time holds the database already; and a unit rolled back to its
        # savepoint would leave its share of deferred work behind.
        return False


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(str(exc)) from exc
    except sqlite3.Error as exc:
        raise store_error(exc) from exc


def store_error(exc: BaseException) -> StoreError:
    """`exc` as the store's error: StoreFull when the disk is full (then 507, not 503)."""
    if isinstance(exc, StoreError):
        return exc
    return (StoreFull if disk_full(exc) else StoreError)(str(exc))


class _Worker:
    """A thread that owns one sqlite3 connection and runs coroutines on its own loop."""

    def __init__(self, name: str, path: Path, *, read_only: bool) -> None:
        self._path = path
        self._read_only = read_only
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self.conn = _connect(self._path, read_only=self._read_only)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self.conn.close()
            self._loop.close()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        # a body retention removes is overwritten with zeros, not left in a free page
        conn.execute("PRAGMA secure_delete = ON")
    return conn


class SqliteDatabase:
    def __init__(self, path: Path, *, readers: int = 1) -> None:
        self.path = path
        self.dialect: Dialect = sqlite_dialect.dialect()
        self._writer = _Worker("sqlite-writer", path, read_only=False)
        self._readers = [
            _Worker(f"sqlite-reader-{i}", path, read_only=True) for i in range(readers)
        ]
        self._next_reader = itertools.cycle(self._readers)
        self._loop_conn = _connect(path, read_only=True)
        self._loop_tx = SqliteTx(self._loop_conn, self.dialect)
        self._loop_writer = _connect(path, read_only=False)
        self._pending: list[tuple[Unit[Any], bool, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False

    async def write(self, unit: Unit[T], *, large: bool = False) -> T:
        if self._closed:
            raise RuntimeError("database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((unit, large, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def read(self, unit: Unit[T]) -> T:
        # Short indexed reads run right here: in WAL mode a reader never waits for the writer,
        # and a statement costs a few µs where a hop to a thread costs hundreds.
        return await unit(self._loop_tx)

    async def scan(self, unit: Unit[T]) -> T:
        worker = next(self._next_reader)
        assert worker.conn is not None
        return await worker.run(unit(SqliteTx(worker.conn, self.dialect)))

    async def ping(self) -> None:
        await self.read(_select_one)

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database and truncate it, so that no page of it
        keeps what was deleted; False if a reader held it back (the next checkpoint will do)."""
        return await self._writer.run(self._truncate_log())

    async def _truncate_log(self) -> bool:
        assert self._writer.conn is not None
        busy, _, _ = self._writer.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy

    async def close(self) -> None:
        self._closed = True
        if self._flusher is not None:
            await self._flusher
        for worker in (self._writer, *self._readers):
            worker.stop()
        self._loop_conn.close()
        self._loop_writer.close()

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            units = [unit for unit, _, _ in batch]
            try:
                if any(large for _, large, _ in batch):
                    outcomes = await self._writer.run(self._on_writer_thread(units))
                else:
                    outcomes = await self._run_batch(self._loop_writer, units)
            except Exception as exc:  # the commit itself failed: nothing of the batch is kept
                failure = store_error(exc)
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                continue
            for (_, _, future), (ok, value) in zip(batch, outcomes, strict=True):
                settle(future, ok, value)

    async def _on_writer_thread(self, units: list[Unit[Any]]) -> list[tuple[bool, Any]]:
        assert self._writer.conn is not None
        return await self._run_batch(self._writer.conn, units)

    async def _run_batch(
        self, conn: sqlite3.Connection, units: list[Unit[Any]]
    ) -> list[tuple[bool, Any]]:
        tx = SqliteTx(conn, self.dialect)
        outcomes: list[tuple[bool, Any]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for unit in units:
                conn.execute("SAVEPOINT unit")
                try:
                    value = await unit(tx)
                except Exception as exc:
                    conn.execute("ROLLBACK TO unit")
                    tx.memo.clear()
                    outcomes.append((False, exc))
                else:
                    outcomes.append((True, value))
                conn.execute("RELEASE unit")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return outcomes


_SELECT_ONE = Query(sa.select(sa.literal(1)))


async def _select_one(tx: Tx) -> None:
    await tx.fetchone(_SELECT_ONE)
