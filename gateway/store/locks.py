"""Writers that must take turns across nodes: a statement that holds a PostgreSQL advisory lock
until the transaction ends, and does nothing on SQLite (one writer at a time already).

Kept apart from store/postgres.py so that a SQLite gateway does not load asyncpg to build it."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import Executable

from gateway.store.db import Query


class Serialise(Executable, ClauseElement):
    inherit_cache = True

    def __init__(self, key: int) -> None:
        self.key = key


@compiles(Serialise)
def _serialise_elsewhere(element: Serialise, compiler: SQLCompiler, **kw: Any) -> str:
    return "SELECT 1"  # SQLite: one writer at a time already


@compiles(Serialise, "postgresql")
def _serialise_postgresql(element: Serialise, compiler: SQLCompiler, **kw: Any) -> str:
    return f"SELECT pg_advisory_xact_lock({int(element.key)})"


def serialised(name: str) -> Query:
    """A statement that, run inside a write, makes every other writer of `name` (on any node)
    wait until this transaction ends: a PostgreSQL transaction-level advisory lock."""
    digest = hashlib.sha256(f"edocgw:{name}".encode()).digest()
    return Query(Serialise(int.from_bytes(digest[:8], "big", signed=True)))
