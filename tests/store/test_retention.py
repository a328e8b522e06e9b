"""gateway.store.retention on both databases: which bodies may go, window by window."""

from __future__ import annotations

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.store import messages as store
from gateway.store import retention
from gateway.store.db import Database
from gateway.store.messages import ACKED, DELIVERED, FAILED, QUEUED
from tests.store.test_messages import RECEIVED_AT, record, record_message

DAY = 86400.0
CUTOFF = RECEIVED_AT + 100 * DAY


async def prepare(db: Database, number: int, state: str, at: float) -> str:
    message = record(number)
    assert await record_message(db, message, "000.00.13.H26")
    await db.write(lambda tx: store.mark_published(tx, message.id))
    delivery_id = f"d{message.id}.0"
    if state != QUEUED:
        await db.write(lambda tx: store.move_delivery(tx, delivery_id, QUEUED, state, at))
    return message.id


async def remove_all(db: Database, cutoff: float) -> list[str]:
    ids = await db.read(lambda tx: retention.window(tx, "", 1000))
    return await db.write(lambda tx: retention.remove_bodies(tx, "", ids[-1], cutoff))


async def purge_event(db: Database, at: float) -> None:
    entry = Event("dead_letters_purged", at=at, actor="ops", recipient="000.00.13.H26")
    await db.write(lambda tx: audit.append(tx, [entry]))


async def test_finished_before_the_cutoff_goes_the_rest_stays(db: Database) -> None:
    acked = await prepare(db, 1, ACKED, CUTOFF - 1)
    pushed = await prepare(db, 2, DELIVERED, CUTOFF - 1)
    await prepare(db, 3, ACKED, CUTOFF + 1)  # finished too recently
    await prepare(db, 4, QUEUED, RECEIVED_AT)  # never delivered
    await prepare(db, 5, FAILED, RECEIVED_AT)  # dead-lettered, its dead letter still kept
    summary = await db.scan(lambda tx: retention.summary(tx, CUTOFF))
    assert (summary.bodies, summary.removable) == (5, 2)
    assert await remove_all(db, CUTOFF) == [acked, pushed]
    assert await db.read(lambda tx: store.body(tx, acked)) is None
    assert await db.read(lambda tx: store.by_id(tx, acked)) is not None  # metadata stays
    assert await remove_all(db, CUTOFF) == []


async def test_a_dead_letter_body_goes_bodies_days_after_its_purge(db: Database) -> None:
    failed = await prepare(db, 1, FAILED, RECEIVED_AT + DAY)
    await purge_event(db, RECEIVED_AT)  # a purge before the failure does not count
    assert await remove_all(db, CUTOFF) == []
    await purge_event(db, CUTOFF + 1)  # purged, but after the cutoff
    assert await remove_all(db, CUTOFF) == []
    assert await remove_all(db, CUTOFF + 2) == [failed]


async def test_removal_keeps_to_its_window(db: Database) -> None:
    ids = [await prepare(db, n, ACKED, RECEIVED_AT) for n in range(1, 6)]
    window = await db.read(lambda tx: retention.window(tx, ids[0], 2))
    assert window == ids[1:3]
    removed = await db.write(lambda tx: retention.remove_bodies(tx, ids[0], ids[2], CUTOFF))
    assert removed == ids[1:3]
    left = await db.read(lambda tx: retention.window(tx, "", 10))
    assert left == [ids[0], *ids[3:]]
