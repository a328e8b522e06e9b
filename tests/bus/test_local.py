"""LocalBus beyond the contract: crashes of a real process, the owner lock, durability order,
group commit, failure handling. These tests may look into the SQLite file."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from gateway.bus import LOCAL_BUS_FILE, open_bus
from gateway.bus.amqp.bus import RabbitBus
from gateway.bus.base import (
    BusUnavailable,
    DeadLetterNotFound,
    OutgoingMessage,
    ReceivedMessage,
    Reject,
    RetryPolicy,
    Unroutable,
)
from gateway.bus.local import storage as sql
from gateway.bus.local.bus import BusLocked, LocalBus, LocalBusTuning

CHILD = Path(__file__).with_name("crash_child.py")
WAIT_S = 10.0
T = TypeVar("T")
FAST = RetryPolicy(max_attempts=5, initial_delay_s=0.02, max_delay_s=0.1, jitter=0.0)


def msg(queue: str, message_id: str, priority: int = 0, body: bytes = b"claim") -> OutgoingMessage:
    return OutgoingMessage(queue, message_id, body, priority, {"id": message_id})


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bus.db"


@pytest.fixture
async def open_local(db_path: Path) -> AsyncIterator[Callable[..., Awaitable[LocalBus]]]:
    """Opens started LocalBuses on `db_path` (or another path); closes them all at the end."""
    opened: list[LocalBus] = []

    async def make(path: Path | None = None, **kwargs: object) -> LocalBus:
        kwargs.setdefault("retry", FAST)
        kwargs.setdefault("tuning", LocalBusTuning(close_grace_s=1.0, error_backoff_s=0.05))
        bus = LocalBus(path or db_path, **kwargs)  # type: ignore[arg-type]
        opened.append(bus)
        await bus.start()
        return bus

    yield make
    for bus in reversed(opened):
        await bus.close()


def rows(path: Path, sql_text: str) -> list[tuple[object, ...]]:
    """Read the bus file through an independent connection (what is committed)."""
    with sqlite3.connect(path) as db:
        return db.execute(sql_text).fetchall()


# --- real crashes -------------------------------------------------------------------------------
class Child:
    """A crash_child.py process; its stderr goes to a file for post-mortems."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def spawn(cls, tmp_path: Path, *args: str) -> Child:
        with (tmp_path / "child.stderr").open("ab") as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(CHILD), *args, stdout=asyncio.subprocess.PIPE, stderr=stderr
            )
        return cls(proc)

    async def expect(self, prefix: str) -> str:
        """The next protocol line starting with `prefix` (without it)."""
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), WAIT_S)
            if not line:
                pytest.fail(f"the child exited before printing {prefix!r}")
            text = line.decode().strip()
            if text.startswith(prefix + " ") or text == prefix:
                return text[len(prefix) :].strip()

    async def kill(self) -> list[str]:
        """SIGKILL; return the protocol lines it printed before dying."""
        assert self.proc.stdout is not None
        self.proc.send_signal(signal.SIGKILL)
        rest = await asyncio.wait_for(self.proc.stdout.read(), WAIT_S)
        await asyncio.wait_for(self.proc.wait(), WAIT_S)
        assert self.proc.returncode == -signal.SIGKILL
        return rest.decode().splitlines()


async def test_every_publish_that_returned_survives_sigkill(
    tmp_path, db_path, open_local, recorder
):
    child = await Child.spawn(tmp_path, "publish", str(db_path), "q", "32")
    await child.expect("READY")
    confirmed = {await child.expect("PUBLISHED") for _ in range(400)}
    confirmed |= {ln.split()[1] for ln in await child.kill() if ln.startswith("PUBLISHED ")}

    assert rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    bus = await open_local()
    (stats,) = await bus.queue_stats(["q"])
    assert stats.ready >= len(confirmed)  # plus any committed but not yet printed
    rec = recorder()
    await bus.subscribe(["q"], rec, prefetch=64)
    await rec.wait_for(stats.ready)
    received = set(rec.ids)
    assert confirmed <= received
    assert len(received) == len(rec.ids) == stats.ready


@pytest.mark.parametrize(("retry_first", "attempt"), [(False, 1), (True, 2)])
async def test_message_held_by_a_killed_process_is_delivered_again(
    tmp_path, db_path, open_local, recorder, retry_first, attempt
):
    bus = await open_local()
    await bus.declare(["q"])
    await bus.publish([msg("q", "m1", priority=2)])
    await bus.close()

    child = await Child.spawn(tmp_path, "hold", str(db_path), "q", *["--retry-first"] * retry_first)
    try:
        assert await child.expect("HOLDING") == f"m1 {attempt}"
        # While the child owns the file, nobody else may open it.
        with pytest.raises(BusLocked, match=f"pid {child.proc.pid}"):
            await LocalBus(db_path).start()
    finally:
        await child.kill()

    bus = await open_local()
    rec = recorder()
    await bus.subscribe(["q"], rec)
    (again,) = await rec.wait_for(1)
    assert (again.message_id, again.attempt, again.priority) == ("m1", attempt, 2)
    assert dict(again.headers) == {"id": "m1"}


# --- the owner lock -----------------------------------------------------------------------------
async def test_a_second_bus_on_the_same_file_fails_clearly(db_path, open_local):
    first = await open_local()
    second = LocalBus(db_path)
    with pytest.raises(BusLocked) as refused:
        await second.start()
    assert isinstance(refused.value, BusUnavailable)
    assert str(db_path) in str(refused.value)
    assert f"pid {os.getpid()}" in str(refused.value)
    await first.close()
    await second.start()  # the lock went with the first bus
    await second.close()


async def test_a_bus_cannot_be_started_again_after_close(open_local):
    bus = await open_local()
    await bus.close()
    with pytest.raises(BusUnavailable):
        await bus.start()


def at_once(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that finishes without waiting (the bus's in-memory figures),
    from code that cannot await: a write running inside the bus's transaction."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return cast(T, finished.value)
    coroutine.close()
    raise AssertionError(f"{coroutine} waited")


# --- durability ---------------------------------------------------------------------------------
async def test_an_ack_is_on_disk_before_the_message_is_forgotten(
    db_path, open_local, recorder, until, monkeypatch
):
    seen = []
    real_delete = sql.delete_message

    def observed_delete(db: sqlite3.Connection, seq: int) -> None:
        # The handler has returned and its ack is being written, not yet committed:
        (stats,) = at_once(bus.queue_stats(["q"]))
        seen.append(
            ((stats.ready, stats.in_flight), rows(db_path, "SELECT message_id FROM messages"))
        )
        real_delete(db, seq)

    monkeypatch.setattr(sql, "delete_message", observed_delete)
    bus = await open_local()
    await bus.declare(["q"])
    await bus.publish([msg("q", "m1")])
    await bus.subscribe(["q"], recorder())

    async def forgotten() -> bool:
        (stats,) = await bus.queue_stats(["q"])
        return bool(seen) and (stats.ready, stats.in_flight) == (0, 0)

    await until(forgotten, what="ack committed")
    assert seen == [((0, 1), [("m1",)])]
    assert rows(db_path, "SELECT count(*) FROM messages") == [(0,)]


async def test_file_is_in_wal_mode_with_full_sync(db_path, open_local):
    await open_local()
    assert rows(db_path, "PRAGMA journal_mode") == [("wal",)]
    db = sql.connect(db_path)
    try:
        assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    finally:
        db.close()


async def test_index_is_rebuilt_in_order_after_restart(open_local, recorder):
    bus = await open_local()
    await bus.declare(["q"])
    for message_id, priority in [("a", 0), ("b", 2), ("c", 0), ("d", 3), ("e", 2)]:
        await bus.publish([msg("q", message_id, priority)])
    await bus.close()
    bus = await open_local()
    rec = recorder()
    await bus.subscribe(["q"], rec, prefetch=1)
    await rec.wait_for(5)
    assert rec.ids == ["d", "b", "e", "a", "c"]


async def test_bodies_not_cached_are_read_from_disk(open_local, recorder, until):
    bus = await open_local(tuning=LocalBusTuning(body_cache_bytes=0))
    await bus.declare(["q"])
    count = 700  # more than one chunk of the body query
    await bus.publish([msg("q", f"m{i}", body=f"body-{i}".encode()) for i in range(count)])
    rec = recorder()
    await bus.subscribe(["q"], rec, prefetch=count)
    await rec.wait_for(count)
    assert {m.message_id: m.body for m in rec.messages} == {
        f"m{i}": f"body-{i}".encode() for i in range(count)
    }
    assert all(dict(m.headers) == {"id": m.message_id} for m in rec.messages)


# --- group commit and failures ------------------------------------------------------------------
async def test_concurrent_publishes_share_transactions(open_local):
    bus = await open_local()
    await bus.declare(["q"])
    before = bus.commit_stats
    await asyncio.gather(*(bus.publish([msg("q", f"m{i}")]) for i in range(500)))
    after = bus.commit_stats
    assert after.jobs - before.jobs == 500
    assert after.transactions - before.transactions <= 50


async def test_a_failed_write_fails_only_its_own_publish(open_local, monkeypatch):
    real_insert = sql.insert_messages

    def failing_insert(db: sqlite3.Connection, rows: list[sql.PublishRow]) -> None:
        if any(row[2] == "poison" for row in rows):
            raise sqlite3.OperationalError("disk I/O error")
        real_insert(db, rows)

    monkeypatch.setattr(sql, "insert_messages", failing_insert)
    bus = await open_local()
    await bus.declare(["q"])
    results = await asyncio.gather(
        bus.publish([msg("q", "good-1")]),
        bus.publish([msg("q", "poison")]),
        bus.publish([msg("q", "good-2")]),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], BusUnavailable)
    (stats,) = await bus.queue_stats(["q"])
    assert stats.ready == 2


async def test_a_failed_ack_write_delivers_the_message_again(
    open_local, recorder, until, monkeypatch
):
    real_delete = sql.delete_message
    failures = [sqlite3.OperationalError("database is locked")]

    def flaky_delete(db: sqlite3.Connection, seq: int) -> None:
        if failures:
            raise failures.pop()
        real_delete(db, seq)

    monkeypatch.setattr(sql, "delete_message", flaky_delete)
    bus = await open_local()
    await bus.declare(["q"])
    rec = recorder()
    await bus.subscribe(["q"], rec)
    await bus.publish([msg("q", "m1")])
    first, second = await rec.wait_for(2)
    assert (first.message_id, second.message_id) == ("m1", "m1")
    assert second.attempt == 1  # a write failure is not the handler's failed attempt

    async def settled() -> bool:
        (s,) = await bus.queue_stats(["q"])
        return (s.ready, s.in_flight) == (0, 0)

    await until(settled, what="ack")


async def test_a_batch_with_an_unroutable_message_writes_nothing(db_path, open_local):
    bus = await open_local()
    await bus.declare(["q"])
    with pytest.raises(Unroutable, match="nowhere"):
        await bus.publish([msg("q", "m1"), msg("nowhere", "m2")])
    assert rows(db_path, "SELECT count(*) FROM messages") == [(0,)]


async def test_argument_checks(open_local):
    bus = await open_local()
    await bus.declare(["q"])
    with pytest.raises(ValueError, match="priority"):
        await bus.publish([msg("q", "m1", priority=4)])
    with pytest.raises(ValueError, match="prefetch"):
        await bus.subscribe(["q"], lambda m: asyncio.sleep(0), prefetch=0)
    with pytest.raises(Unroutable):
        await bus.subscribe(["undeclared"], lambda m: asyncio.sleep(0))
    with pytest.raises(ValueError, match="queue name"):
        await bus.declare([""])
    for unknown in ("abc", "12345", ""):
        with pytest.raises(DeadLetterNotFound):
            await bus.replay(unknown)


async def test_timestamps_come_from_the_injected_clock(open_local, recorder, until):
    now = [1_700_000_000.0]
    bus = await open_local(clock=lambda: now[0])
    await bus.declare(["q"])
    await bus.publish([msg("q", "m1")])
    now[0] += 5.0
    (stats,) = await bus.queue_stats(["q"])
    assert stats.oldest_age_s == 5.0

    async def refuse(_: ReceivedMessage) -> None:
        raise Reject("no")

    await bus.subscribe(["q"], recorder(refuse))

    async def dead() -> bool:
        return (await bus.queue_stats(["q"]))[0].dead == 1

    await until(dead, what="dead letter")
    (letter,) = await bus.dead_letters("q")
    assert letter.dead_at == now[0]


async def test_ping_writes_through_the_writer(open_local):
    bus = await open_local()
    await bus.ping()
    assert bus.commit_stats.transactions >= 1


async def test_open_bus_picks_the_local_bus(tmp_path):
    class Settings:
        url = "local"

    bus = open_bus(Settings(), tmp_path, FAST)
    assert isinstance(bus, LocalBus)
    await bus.start()
    try:
        assert (tmp_path / LOCAL_BUS_FILE).exists()
    finally:
        await bus.close()

    class Amqp:
        url = "amqp://guest:guest@127.0.0.1:5672/"

    assert isinstance(open_bus(Amqp(), tmp_path, FAST), RabbitBus)  # not started: no broker yet

    class Unknown:
        url = "kafka://127.0.0.1:9092"

    with pytest.raises(BusUnavailable, match="kafka"):
        open_bus(Unknown(), tmp_path, FAST)


async def test_close_while_starting_leaves_nothing_open(db_path):
    bus = LocalBus(db_path)
    starting = asyncio.create_task(bus.start())
    await asyncio.sleep(0)  # start() is opening the file in a thread
    await bus.close()
    with pytest.raises(BusUnavailable):
        await starting
    again = LocalBus(db_path)  # the lock was released
    await again.start()
    await again.close()


async def test_a_failed_body_read_does_not_stop_the_dispatcher(open_local, recorder, monkeypatch):
    real_load = sql.load_payloads
    failures = [sqlite3.OperationalError("disk I/O error")]

    def flaky_load(db: sqlite3.Connection, seqs: list[int]) -> dict[int, sql.Payload]:
        if failures:
            raise failures.pop()
        return real_load(db, seqs)

    monkeypatch.setattr(sql, "load_payloads", flaky_load)
    bus = await open_local(tuning=LocalBusTuning(body_cache_bytes=0, error_backoff_s=0.05))
    await bus.declare(["q"])
    await bus.publish([msg("q", "m1")])
    rec = recorder()
    await bus.subscribe(["q"], rec)
    (got,) = await rec.wait_for(1)
    assert (got.message_id, got.attempt) == ("m1", 1)


async def test_a_cancelled_publish_is_still_committed_and_delivered(open_local, recorder):
    bus = await open_local()
    await bus.declare(["q"])
    publishing = asyncio.create_task(bus.publish([msg("q", "m1")]))
    await asyncio.sleep(0)  # queued for this turn's transaction
    publishing.cancel()  # the caller gives up; the write goes on
    with pytest.raises(asyncio.CancelledError):
        await publishing
    rec = recorder()
    await bus.subscribe(["q"], rec)
    (got,) = await rec.wait_for(1)
    assert got.message_id == "m1"


async def test_a_broken_writer_fails_fast_instead_of_hanging(open_local, monkeypatch):
    from gateway.bus.local.writer import GroupCommitWriter

    class WriterBug(BaseException):
        pass

    def broken_execute(self: GroupCommitWriter, batch: list[object]) -> list[object]:
        raise WriterBug("bug")

    bus = await open_local()
    await bus.declare(["q"])
    monkeypatch.setattr(GroupCommitWriter, "_execute", broken_execute)
    with pytest.raises(BusUnavailable, match="writer failed"):
        await asyncio.wait_for(bus.publish([msg("q", "m1")]), WAIT_S)
    with pytest.raises(BusUnavailable):
        await bus.ping()
    await asyncio.wait_for(bus.close(), WAIT_S)
