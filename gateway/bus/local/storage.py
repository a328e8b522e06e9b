"""SQLite storage of the embedded bus: schema, the owner lock, and the statements.

The functions taking a connection run in the writer's transaction (on the event loop, see
`_writer.py`) or on the reader thread; they never touch the bus's in-memory state. A write
function that can fail for a logical reason raises before it writes anything, so the writer may
keep the rest of its batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.bus.base import BusUnavailable, DeadLetter, DeadLetterNotFound

SCHEMA_VERSION = 1

# seq is assigned by the owning process in publish order (FIFO within a priority); attempts
# counts failed deliveries; in-flight state is never stored (see local.py). The dead table uses
# AUTOINCREMENT so that a dead-letter id is never reused: a stale id cannot replay another letter.
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS queues (
        name TEXT PRIMARY KEY,
        declared_at REAL NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY,
        queue TEXT NOT NULL,
        message_id TEXT NOT NULL,
        priority INTEGER NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        attempts INTEGER NOT NULL,
        ready_at REAL NOT NULL,
        enqueued_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS dead (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        message_id TEXT NOT NULL,
        priority INTEGER NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        attempts INTEGER NOT NULL,
        reason TEXT NOT NULL,
        dead_at REAL NOT NULL,
        enqueued_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS dead_by_queue ON dead (queue, id)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
)


class BusLocked(BusUnavailable):
    """Another LocalBus (in this process or another one) owns the bus file."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message row without its body: what the in-memory index is rebuilt from."""

    seq: int
    queue: str
    priority: int
    attempts: int
    ready_at: float
    enqueued_at: float


@dataclass(frozen=True, slots=True)
class Payload:
    message_id: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Revived:
    """A replayed dead letter, as inserted back into `messages`."""

    queue: str
    priority: int
    payload: Payload


# --- the owner lock ---------------------------------------------------------------------------
class OwnerLock:
    """An exclusive flock on `<db>.lock`: one LocalBus owns a bus file at a time."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            raise BusLocked(
                f"bus file {self.db_path} is already open by another LocalBus ({owner});"
                f" only one process may own it (lock file {self.path})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            # Closing the descriptor drops the flock; the file stays (deleting it would race).
            os.close(self._fd)
            self._fd = None


def _read_owner(fd: int) -> str:
    with contextlib.suppress(OSError):
        pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if pid:
            return f"pid {pid}"
    return "owner unknown"


# --- opening ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Opened:
    writer: sqlite3.Connection
    reader: sqlite3.Connection
    queues: frozenset[str]
    messages: list[StoredMessage]
    dead_counts: Counter[str]
    next_seq: int


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    # isolation_level=None: the writer issues BEGIN IMMEDIATE / COMMIT itself.
    # check_same_thread=False: each connection is used by one thread at a time, but not the
    # thread that opened it.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=OFF")
    db.execute("PRAGMA temp_store=MEMORY")
    if read_only:
        db.execute("PRAGMA query_only=1")
    return db


def open_database(path: Path) -> Opened:
    """Create or upgrade the schema and load everything the in-memory index needs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = connect(path)
    reader: sqlite3.Connection | None = None
    try:
        _ensure_schema(writer, path)
        reader = connect(path, read_only=True)
        queues = frozenset(name for (name,) in writer.execute("SELECT name FROM queues"))
        messages = list(_stored_messages(writer))
        dead_counts: Counter[str] = Counter(
            dict(writer.execute("SELECT queue, count(*) FROM dead GROUP BY queue").fetchall())
        )
    except BaseException:
        writer.close()
        if reader is not None:
            reader.close()
        raise
    next_seq = max((m.seq for m in messages), default=0) + 1
    return Opened(writer, reader, queues, messages, dead_counts, next_seq)


def _ensure_schema(db: sqlite3.Connection, path: Path) -> None:
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise BusUnavailable(
            f"bus file {path} has schema version {version}; this gateway knows {SCHEMA_VERSION}"
        )
    db.execute("BEGIN IMMEDIATE")
    for statement in _SCHEMA:
        db.execute(statement)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    db.execute("COMMIT")


def _stored_messages(db: sqlite3.Connection) -> Iterator[StoredMessage]:
    rows = db.execute("SELECT seq, queue, priority, attempts, ready_at, enqueued_at FROM messages")
    for row in rows:
        yield StoredMessage(*row)


# --- writes (inside the writer's batch transaction) --------------------------------------------
PublishRow = tuple[int, str, str, int, str, bytes, int, float, float]


def encode_headers(headers: Mapping[str, str]) -> str:
    return json.dumps(dict(headers), separators=(",", ":"), ensure_ascii=False) if headers else "{}"


def decode_headers(text: str) -> dict[str, str]:
    return {} if text == "{}" else dict(json.loads(text))


def declare(db: sqlite3.Connection, names: Sequence[str], now: float) -> None:
    db.executemany(
        "INSERT OR IGNORE INTO queues (name, declared_at) VALUES (?, ?)",
        [(name, now) for name in names],
    )


def insert_messages(db: sqlite3.Connection, rows: Sequence[PublishRow]) -> None:
    db.executemany(
        "INSERT INTO messages (seq, queue, message_id, priority, headers, body, attempts,"
        " ready_at, enqueued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def delete_message(db: sqlite3.Connection, seq: int) -> None:
    db.execute("DELETE FROM messages WHERE seq = ?", (seq,))


def postpone(db: sqlite3.Connection, seq: int, attempts: int, ready_at: float) -> None:
    db.execute(
        "UPDATE messages SET attempts = ?, ready_at = ? WHERE seq = ?", (attempts, ready_at, seq)
    )


def bury(db: sqlite3.Connection, seq: int, attempts: int, reason: str, now: float) -> None:
    db.execute(
        "INSERT INTO dead (queue, message_id, priority, headers, body, attempts, reason, dead_at,"
        " enqueued_at) SELECT queue, message_id, priority, headers, body, ?, ?, ?, enqueued_at"
        " FROM messages WHERE seq = ?",
        (attempts, reason, now, seq),
    )
    db.execute("DELETE FROM messages WHERE seq = ?", (seq,))


def revive(db: sqlite3.Connection, dead_id: int, seq: int, now: float) -> Revived:
    row = db.execute(
        "SELECT queue, message_id, priority, headers, body FROM dead WHERE id = ?", (dead_id,)
    ).fetchone()
    if row is None:
        raise DeadLetterNotFound(f"no dead letter {dead_id}")
    queue, message_id, priority, headers, body = row
    insert_messages(db, [(seq, queue, message_id, priority, headers, body, 0, now, now)])
    db.execute("DELETE FROM dead WHERE id = ?", (dead_id,))
    return Revived(queue, priority, Payload(message_id, decode_headers(headers), bytes(body)))


def purge_dead(db: sqlite3.Connection, queue: str) -> int:
    return db.execute("DELETE FROM dead WHERE queue = ?", (queue,)).rowcount


def heartbeat(db: sqlite3.Connection, now: float) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('heartbeat', ?)", (now,))


# --- reads (reader thread) --------------------------------------------------------------------
def load_payloads(db: sqlite3.Connection, seqs: Sequence[int]) -> dict[int, Payload]:
    found: dict[int, Payload] = {}
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT seq, message_id, headers, body FROM messages WHERE seq IN ({marks})",  # noqa: S608
            chunk,
        )
        for seq, message_id, headers, body in rows:
            found[seq] = Payload(message_id, decode_headers(headers), bytes(body))
    return found


_DEAD_COLUMNS = "id, queue, message_id, priority, attempts, reason, dead_at, length(body)"
_DEAD_ALL = f"SELECT {_DEAD_COLUMNS} FROM dead ORDER BY id LIMIT ?"  # noqa: S608
_DEAD_OF_QUEUE = f"SELECT {_DEAD_COLUMNS} FROM dead WHERE queue = ? ORDER BY id LIMIT ?"  # noqa: S608


def dead_letters(db: sqlite3.Connection, queue: str | None, limit: int) -> list[DeadLetter]:
    if queue is None:
        rows = db.execute(_DEAD_ALL, (limit,))
    else:
        rows = db.execute(_DEAD_OF_QUEUE, (queue, limit))
    return [
        DeadLetter(str(id_), q, mid, prio, attempts, reason, dead_at, size)
        for id_, q, mid, prio, attempts, reason, dead_at, size in rows
    ]
