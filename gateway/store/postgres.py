"""The PostgreSQL store (asyncpg): pooled reads, group-committed writes, errors as StoreError.

Units run on the event loop. Concurrent writes queue up while transactions are in flight (up to
`parallel_writes` of them) and go together in the next one: one commit (one WAL flush) for many
units. What must be serial across transactions and nodes, the audit chain, waits until the end
of a transaction (`Tx.before_commit`): one wait for the chain's lock per batch, held for the
last statements only (see `store.locks.serialised`; docs/performance.md has the figures
against one transaction at a time). Here a round trip to the server
costs ~250 µs, more than the statement, so there is no SAVEPOINT per unit as on SQLite: when a
unit raises, the transaction is rolled back and run again without it, and the unit runs alone
to get its own outcome. A unit that loses a deadlock or a serialization conflict (with another
node, or another transaction of this one) runs again in a later transaction (its own batch may
hold what the other side waits for). So a unit may run more than once: it must act on the
database only.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import Dialect, make_url

from gateway.log import get_logger
from gateway.runtime.diskspace import disk_full
from gateway.store.db import IntegrityError, Params, Query, Row, StoreError, StoreFull, Tx, Unit
from gateway.store.locks import Serialise

T = TypeVar("T")

log = get_logger(__name__)


@dataclass(frozen=True)
class PostgresTuning:
    min_connections: int = 2
    max_connections: int = 10
    # Units per transaction. Each runs in a subtransaction, and PostgreSQL keeps up to 64 per
    # backend in shared memory: beyond that, every other session's visibility checks slow down.
    max_batch: int = 48
    # Write transactions in flight at once. Each is a chain of round trips, and on a busy event
    # loop every round trip also waits for the loop to come round; several chains overlap those
    # waits. Work that must be serial (the audit chain) is left to the end of each transaction,
    # so the lock it takes is held for its last statements only (see Tx.before_commit).
    parallel_writes: int = 4
    conflict_retries: int = 5  # deadlock or serialization failure: run the unit again
    connect_timeout_s: float = 10.0
    command_timeout_s: float = 60.0
    statement_cache_size: int = 1024


_DEFAULT_TUNING = PostgresTuning()


class _Conflict(StoreError):
    """The unit lost a deadlock or a serialization conflict: running it again may succeed."""


def _store_error(exc: BaseException) -> StoreError:
    return (StoreFull if disk_full(exc) else StoreError)(str(exc) or type(exc).__name__)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(str(exc)) from exc
    except asyncpg.TransactionRollbackError as exc:  # SQLSTATE class 40
        raise _Conflict(str(exc)) from exc
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
        raise _store_error(exc) from exc


_STATUS_COUNT = re.compile(r"(\d+)$")


def _rowcount(status: str) -> int:
    """Rows a command changed, from its status tag ("UPDATE 3", "INSERT 0 1", "DELETE 0")."""
    found = _STATUS_COUNT.search(status or "")
    return int(found.group(1)) if found else 0


class PostgresTx:
    __slots__ = ("_conn", "_finishers", "_locks", "dialect", "memo")

    def __init__(self, conn: asyncpg.Connection, dialect: Dialect, *, batch: bool = False) -> None:
        self._conn = conn
        self.dialect = dialect
        self._locks: set[int] = set()  # advisory locks this transaction holds already
        self.memo: dict[str, Any] = {}  # a failed unit rolls the whole transaction back
        # A write batch's work to do before its commit; None in a read, which has no commit.
        self._finishers: dict[str, Unit[None]] | None = {} if batch else None

    def before_commit(self, key: str, finish: Unit[None]) -> bool:
        if self._finishers is None:
            return False
        self._finishers.setdefault(key, finish)
        return True

    async def finish(self) -> None:
        while self._finishers:
            key = next(iter(self._finishers))
            await self._finishers.pop(key)(self)

    async def execute(self, query: Query, params: Params | None = None) -> int:
        sql, args = query.bind(self.dialect, params)
        with _translated():
            status: str = await self._conn.execute(sql, *args)
        return _rowcount(status)

    async def executemany(self, query: Query, rows: Sequence[Params]) -> None:
        if not rows:
            return
        sql = query.bind(self.dialect, rows[0])[0]
        with _translated():
            await self._conn.executemany(sql, [query.bind(self.dialect, row)[1] for row in rows])

    async def stream(
        self, query: Query, params: Params | None = None, size: int = 5000
    ) -> AsyncIterator[list[Row]]:
        # A server-side cursor: it needs the transaction a scan runs in.
        sql, args = query.bind(self.dialect, params)
        with _translated():
            cursor = await self._conn.cursor(sql, *args)
        while True:
            with _translated():
                rows = await cursor.fetch(size)
            if not rows:
                return
            yield cast(list[Row], rows)

    async def fetch(self, query: Query, params: Params | None = None) -> list[Row]:
        sql, args = query.bind(self.dialect, params)
        with _translated():
            rows = await self._conn.fetch(sql, *args)
        return cast(list[Row], rows)

    async def fetchone(self, query: Query, params: Params | None = None) -> Row | None:
        lock = query.statement.key if isinstance(query.statement, Serialise) else None
        if lock is not None and lock in self._locks:
            return _LOCKED  # held until the transaction ends: no need to ask again
        sql, args = query.bind(self.dialect, params)
        with _translated():
            row = await self._conn.fetchrow(sql, *args)
        if lock is not None:
            self._locks.add(lock)
        return cast(Row | None, row)


@dataclass(slots=True)
class _Job:
    unit: Unit[Any]
    future: asyncio.Future[Any]
    conflicts: int = 0
    alone: bool = False  # it failed beside others: run it in a transaction of its own


class _BatchConflict(Exception):
    """The work deferred to the end of a batch lost a deadlock: the whole batch runs again."""


class _UnitFailed(Exception):
    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


class PostgresDatabase:
    def __init__(self, pool: asyncpg.Pool, tuning: PostgresTuning) -> None:
        self.dialect: Dialect = make_url("postgresql+asyncpg://").get_dialect()()
        self._pool = pool
        self._tuning = tuning
        self._pending: list[_Job] = []
        self._flushers: set[asyncio.Task[None]] = set()
        self._closed = False

    @classmethod
    async def open(cls, url: str, tuning: PostgresTuning = _DEFAULT_TUNING) -> PostgresDatabase:
        try:
            pool = await asyncpg.create_pool(
                dsn=url,
                min_size=tuning.min_connections,
                max_size=tuning.max_connections,
                timeout=tuning.connect_timeout_s,
                command_timeout=tuning.command_timeout_s,
                statement_cache_size=tuning.statement_cache_size,
                reset=_keep_session,
            )
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            raise StoreError(f"cannot open PostgreSQL at {where(url)}: {exc}") from exc
        log.info("store.opened", postgresql=where(url))
        if await pool.fetchval("SHOW autovacuum") != "on":
            # Without it the planner never learns the tables' sizes (a search by document id
            # took 2 s instead of 1 ms on a bulk-loaded store) and removed bodies keep their
            # space: docs/postgresql.md, Operating.
            log.warning(
                "store.autovacuum_off",
                postgresql=where(url),
                fix="turn autovacuum on, or run ANALYZE after bulk loads and VACUUM after "
                "retention passes",
            )
        return cls(pool, tuning)

    # --- writes -------------------------------------------------------------------------------
    async def write(self, unit: Unit[T], *, large: bool = False) -> T:
        # asyncpg sends a large value from the loop in chunks as the socket takes them.
        if self._closed:
            raise RuntimeError("database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(unit, future))
        if len(self._flushers) < self._tuning.parallel_writes:
            flusher = asyncio.create_task(self._flush())
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch = self._next_batch()
            try:
                values = await self._run_batch(batch)
            except _UnitFailed as failed:
                self._after_failure(batch, failed.index, failed.error)
                continue
            except _BatchConflict as exc:
                self._after_batch_conflict(batch, exc)
                continue
            except Exception as exc:  # the commit itself failed: nothing of the batch is kept
                failure = exc if isinstance(exc, StoreError) else _store_error(exc)
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(failure)
                continue
            for job, value in zip(batch, values, strict=True):
                if not job.future.done():
                    job.future.set_result(value)

    def _next_batch(self) -> list[_Job]:
        if self._pending[0].alone:
            return [self._pending.pop(0)]
        size = 0
        while size < min(len(self._pending), self._tuning.max_batch):
            if self._pending[size].alone:
                break
            size += 1
        batch, self._pending = self._pending[:size], self._pending[size:]
        return batch

    def _after_failure(self, batch: list[_Job], index: int, error: Exception) -> None:
        """The transaction was rolled back: the failed unit runs again alone, to learn its own
        outcome; the others run again (those after it never ran)."""
        job = batch[index]
        rest = batch[:index] + batch[index + 1 :]
        if isinstance(error, _Conflict) and job.conflicts < self._tuning.conflict_retries:
            job.conflicts += 1
            log.info("store.conflict_retry", error=str(error).splitlines()[0])
            self._pending[:0] = batch
        elif job.alone or len(batch) == 1:
            if not job.future.done():
                job.future.set_exception(error)
            self._pending[:0] = rest
        else:
            job.alone = True
            self._pending[:0] = [job, *rest]

    def _after_batch_conflict(self, batch: list[_Job], error: _BatchConflict) -> None:
        runs = max(job.conflicts for job in batch) + 1
        if runs > self._tuning.conflict_retries:
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(StoreError(str(error)))
            return
        log.info("store.conflict_retry", error=str(error).splitlines()[0])
        for job in batch:
            job.conflicts = runs
        self._pending[:0] = batch

    async def _run_batch(self, batch: Sequence[_Job]) -> list[Any]:
        # No savepoint per unit (each would cost two round trips): units fail rarely, and when
        # one does the whole transaction runs again without it (see _after_failure).
        values: list[Any] = []
        with _translated():
            async with self._pool.acquire() as conn, conn.transaction():
                tx = PostgresTx(conn, self.dialect, batch=True)
                for index, job in enumerate(batch):
                    try:
                        values.append(await job.unit(tx))
                    except Exception as exc:
                        raise _UnitFailed(index, exc) from exc
                try:
                    await tx.finish()
                except _Conflict as exc:
                    raise _BatchConflict(str(exc)) from exc
        return values

    # --- reads --------------------------------------------------------------------------------
    async def read(self, unit: Unit[T]) -> T:
        with _translated():
            async with self._pool.acquire() as conn:
                return await unit(PostgresTx(conn, self.dialect))

    async def scan(self, unit: Unit[T]) -> T:
        # One snapshot for the whole report, and no write can slip in by mistake.
        with _translated():
            async with (
                self._pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                return await unit(PostgresTx(conn, self.dialect))

    async def ping(self) -> None:
        await self.read(_select_one)

    async def close(self) -> None:
        self._closed = True
        while self._flushers:
            await asyncio.gather(*self._flushers, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._pool.close(), self._tuning.connect_timeout_s)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection goes back to the pool with: asyncpg still rolls back a transaction
    left open, but skips its default reset (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`), a round trip on every release: one statement in five the gateway sent. The
    gateway leaves no session state behind: no SET, LISTEN or cursor, and only
    transaction-level advisory locks (see `gateway.store.locks.serialised`)."""


_SELECT_ONE = Query(sa.select(sa.literal(1)))


async def _select_one(tx: Tx) -> None:
    await tx.fetchone(_SELECT_ONE)


def where(url: str) -> str:
    """host:port/database of a PostgreSQL URL, for messages (never the password)."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


# --- serialising writers across nodes ---------------------------------------------------------
_LOCKED: Row = {"locked": True}
