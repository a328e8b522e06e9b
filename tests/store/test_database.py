"""The Database contract (gateway/store/db.py) on both drivers: transactions, group commit,
rollback of one unit alone, and how driver errors surface."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gateway.config import DatabaseSettings
from gateway.store import messages as store
from gateway.store import open_database
from gateway.store.db import Database, IntegrityError, StoreError, Tx
from tests.store.conftest import Store
from tests.store.test_messages import BODY, delivery, insert, record, record_message


class Refused(Exception):
    pass


async def test_concurrent_writes_commit_together_and_a_failing_unit_alone_rolls_back(
    db: Database,
) -> None:
    async def write_one(number: int) -> str:
        message = record(100 + number)

        async def unit(tx: Tx) -> str:
            await store.insert_message(tx, message, BODY, [delivery(message, "H26.01")])
            if number % 3 == 0:  # after its inserts: they must vanish with it
                raise Refused(f"unit {number}")
            return message.id

        return await db.write(unit)

    results = await asyncio.gather(*(write_one(n) for n in range(60)), return_exceptions=True)

    refused = [r for r in results if isinstance(r, Refused)]
    kept = [r for r in results if isinstance(r, str)]
    assert [str(r) for r in refused] == [f"unit {n}" for n in range(0, 60, 3)]
    assert kept == [f"m{100 + n:04}" for n in range(60) if n % 3]
    for n in range(60):
        found = await db.read(lambda tx, n=n: store.by_id(tx, f"m{100 + n:04}"))
        deliveries = await db.read(lambda tx, n=n: store.deliveries_of(tx, f"m{100 + n:04}"))
        assert (found is None, len(deliveries)) == ((True, 0) if n % 3 == 0 else (False, 1))


async def test_a_uniqueness_violation_is_an_integrity_error(db: Database) -> None:
    message = record(200)
    await insert(db, message, "H26.01")
    same_id = type(message)(**{**message.__dict__, "dedupe_key": "edoc|another|1|key"})
    with pytest.raises(IntegrityError):
        await insert(db, same_id, "H26.01")
    assert await db.read(lambda tx: store.by_dedupe_key(tx, same_id.dedupe_key)) is None


async def test_a_taken_dedupe_key_records_nothing_and_says_so(db: Database) -> None:
    message = record(205)
    await insert(db, message, "H26.01")
    twin = type(message)(**{**record(206).__dict__, "dedupe_key": message.dedupe_key})

    assert await record_message(db, twin, "H26.02", "H26.03") is False
    assert await db.read(lambda tx: store.by_id(tx, twin.id)) is None
    assert await db.read(lambda tx: store.body(tx, twin.id)) is None
    assert await db.read(lambda tx: store.deliveries_of(tx, twin.id)) == []
    assert await db.read(lambda tx: store.by_dedupe_key(tx, message.dedupe_key)) == (
        message,
        False,
    )


async def test_a_foreign_key_violation_is_an_integrity_error(db: Database) -> None:
    orphan = delivery(record(202), "H26.01")

    async def unit(tx: Tx) -> None:
        from gateway.store.messages import _INSERT_DELIVERY

        await tx.execute(_INSERT_DELIVERY, {**orphan.__dict__, "updated_at": 1.0})

    with pytest.raises(IntegrityError):
        await db.write(unit)


async def test_an_integrity_error_does_not_spoil_its_neighbours(db: Database) -> None:
    taken = record(210)
    await insert(db, taken, "H26.01")
    clash = type(taken)(**{**taken.__dict__, "dedupe_key": "edoc|another|1|key"})
    fine = [record(212 + i) for i in range(5)]
    results = await asyncio.gather(
        insert(db, clash, "H26.01"),
        *(insert(db, m, "H26.01") for m in fine),
        return_exceptions=True,
    )
    assert isinstance(results[0], IntegrityError)
    assert all(isinstance(r, list) for r in results[1:])
    for m in fine:
        assert await db.read(lambda tx, m=m: store.by_id(tx, m.id)) == m


async def test_reads_and_scans_see_committed_writes(stores: Store) -> None:
    writer, reader = await stores.open(), await stores.open()
    message = record(220)
    await insert(writer, message, "H26.01")
    assert await reader.read(lambda tx: store.by_id(tx, message.id)) == message
    scanned = await reader.scan(lambda tx: store.deliveries_of(tx, message.id))
    assert [d.recipient for d in scanned] == ["H26.01"]
    await reader.ping()


async def test_two_nodes_insert_the_same_key_one_wins(stores: Store) -> None:
    node_a, node_b = await stores.open(), await stores.open()
    first = record(230)
    second = type(first)(**{**record(231).__dict__, "dedupe_key": first.dedupe_key})
    results = await asyncio.gather(
        record_message(node_a, first, "H26.01"), record_message(node_b, second, "H26.01")
    )
    assert sorted(results) == [False, True]
    winner = await node_a.read(lambda tx: store.by_dedupe_key(tx, first.dedupe_key))
    assert winner is not None and winner[0] == (first if results[0] else second)
    loser = second if results[0] else first
    assert await node_b.read(lambda tx: store.deliveries_of(tx, loser.id)) == []


async def test_an_unreachable_postgresql_is_a_store_error(tmp_path) -> None:
    settings = DatabaseSettings(url="postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:1/none"):
        await open_database(settings, tmp_path)


async def test_large_writes_commit_with_the_small_ones_and_fail_alone(stores: Store) -> None:
    db = await stores.open()

    async def write_one(number: int) -> str:
        message = record(300 + number)
        large = number % 4 == 0

        async def unit(tx: Tx) -> str:
            await store.insert_message(tx, message, BODY, [delivery(message, "H26.01")])
            if number == 8:
                raise Refused("a large one")
            return message.id

        return await db.write(unit, large=large)

    results = await asyncio.gather(*(write_one(n) for n in range(12)), return_exceptions=True)

    assert [str(r) for r in results if isinstance(r, Refused)] == ["a large one"]
    kept = [r for r in results if isinstance(r, str)]
    assert kept == [f"m{300 + n:04}" for n in range(12) if n != 8]
    for n in range(12):
        found = await db.read(lambda tx, n=n: store.by_id(tx, f"m{300 + n:04}"))
        assert (found is None) == (n == 8)
    if stores.kind == "sqlite":  # large values are copied off the event loop, the rest on it
        alone = await db.write(lambda tx: asyncio.sleep(0, threading.current_thread().name))
        assert alone == threading.current_thread().name
        big = await db.write(
            lambda tx: asyncio.sleep(0, threading.current_thread().name), large=True
        )
        assert big == "sqlite-writer"
