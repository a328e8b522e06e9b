"""One async interface over SQLite and PostgreSQL.

Statements are written once with SQLAlchemy Core and compiled once per dialect; execution goes
straight to the driver (sqlite3, asyncpg). On this kind of machine SQLAlchemy's execution layer
costs five times what the statement does, and an aiosqlite hop per statement costs more still,
so a unit of work is an async function over a `Tx` that the driver runs whole. Both run units
on the event loop and group-commit concurrent writes: SQLite one transaction at a time (a batch
holding a large value on a writer thread), PostgreSQL several at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement

T = TypeVar("T")
Row = Mapping[str, Any]
Params = Mapping[str, Any]


class StoreError(Exception):
    """The database failed (unreachable, full, locked too long): nothing of the unit was kept."""


class StoreFull(StoreError):
    """The database's disk (or quota) is full: nothing of the unit was kept."""


class IntegrityError(StoreError):
    """A uniqueness or foreign-key rule refused the write."""


class Query:
    """A Core statement compiled lazily, once per dialect, to (sql, parameter order)."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            order = tuple(getattr(compiled, "positiontup", None) or ())
            found = (str(compiled), order, dict(compiled.params))
            self._compiled[dialect.name] = found
        return found

    def bind(self, dialect: Dialect, params: Params | None) -> tuple[str, tuple[Any, ...]]:
        sql, order, defaults = self.compiled(dialect)
        if params is None:
            return sql, tuple(defaults[name] for name in order)
        try:
            return sql, tuple(params[name] if name in params else defaults[name] for name in order)
        except KeyError as exc:
            raise KeyError(f"parameter {exc} missing for: {sql}") from None


class PerDialect(Query):
    """A statement written apart for each dialect (upserts: SQLAlchemy's are per dialect)."""

    __slots__ = ("_statements",)

    def __init__(self, statements: Mapping[str, ClauseElement]) -> None:
        super().__init__(next(iter(statements.values())))
        self._statements = dict(statements)

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        if dialect.name not in self._compiled:
            self.statement = self._statements[dialect.name]
        return super().compiled(dialect)


def insert(table: sa.Table, *columns: str) -> Query:
    """INSERT of exactly these columns, each bound by its own name."""
    return Query(table.insert().values({name: sa.bindparam(name) for name in columns}))


class Tx(Protocol):
    """A transaction (or a read session): the only way units of work touch the database."""

    # What a unit may keep for the units after it in the same transaction (the audit chain's
    # head, say); emptied when a unit is rolled back, gone with the transaction.
    memo: dict[str, Any]
    # Which SQL this transaction speaks, for the few statements written once per dialect
    # because one of them can do in one round trip what the other needs several for.
    dialect: Dialect

    async def execute(self, query: Query, params: Params | None = None) -> int:
        """Run a statement; return the number of rows it changed."""

    async def executemany(self, query: Query, rows: Sequence[Params]) -> None: ...

    async def fetch(self, query: Query, params: Params | None = None) -> list[Row]: ...

    async def fetchone(self, query: Query, params: Params | None = None) -> Row | None: ...

    def stream(
        self, query: Query, params: Params | None = None, size: int = 5000
    ) -> AsyncIterator[list[Row]]:
        """The rows of one query, `size` at a time, read as they are consumed: for a pass over
        more rows than memory should hold at once (inside a `scan`)."""

    def before_commit(self, key: str, finish: Unit[None]) -> bool:
        """Have `finish` run once, after the transaction's last unit and just before its commit;
        False where this transaction cannot (then do the work now). For work that must hold a
        lock until the commit, so that it holds it for the last statements only."""


Unit = Callable[[Tx], Coroutine[Any, Any, T]]


class Database(Protocol):
    dialect: Dialect

    async def write(self, unit: Unit[T], *, large: bool = False) -> T:
        """Run `unit` in a transaction, committed durably before this returns.

        Concurrent writes may share one transaction; a unit that raises is rolled back alone
        and its exception is raised here. `large`: the unit writes a large value (a body of
        megabytes), which the embedded store then writes off the event loop.
        """

    async def read(self, unit: Unit[T]) -> T:
        """Run a short read (indexed lookups) on a session that sees every committed write."""

    async def scan(self, unit: Unit[T]) -> T:
        """Run a long read (reports, recounts) without holding up the event loop."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
