"""gateway.store.messages on both databases: rows go in and come back exactly."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import pytest

from gateway.audit import chain as audit
from gateway.delivery.mailbox import Mailbox
from gateway.errors import NotFound
from gateway.store import messages as store
from gateway.store.db import Database
from gateway.store.messages import ACKED, INBOX, QUEUED, DeliveryRecord, MessageRecord

RECEIVED_AT = 1_764_265_600.123456  # sub-millisecond: a double keeps it, a float32 would not
BODY = b"<edXML>\x00\x01\xff binary-safe \xe1\xba\xa1</edXML>"


def record(number: int, *, paper_copy: bool = False, priority: int = 0) -> MessageRecord:
    return MessageRecord(
        id=f"m{number:04}",
        kind="edoc",
        sender="000.00.00.H26",
        document_id=f"000.00.00.H26,2026/11/27,{number}/UBND-VP",
        business_type=0,
        dedupe_key=f"edoc|000.00.00.H26|0|{number}",
        sha256="ab" * 32,
        size=len(BODY),
        priority=priority,
        paper_copy=paper_copy,
        received_at=RECEIVED_AT + number,
        reply_to=None,
        status_code=None,
        signature='{"status":"unsigned"}',
    )


def delivery(message: MessageRecord, recipient: str, index: int = 0) -> DeliveryRecord:
    return DeliveryRecord(
        delivery_id=f"d{message.id}.{index}",
        message_id=message.id,
        recipient=recipient,
        sender=message.sender,
        kind=message.kind,
        document_id=message.document_id,
        priority=message.priority,
        size=message.size,
        received_at=message.received_at,
        state=QUEUED,
    )


async def record_message(db: Database, message: MessageRecord, *recipients: str) -> bool:
    """insert_message in a transaction of its own: False if the dedupe key was taken."""
    to = [delivery(message, r, i) for i, r in enumerate(recipients)]
    return await db.write(lambda tx: store.insert_message(tx, message, BODY, to))


async def insert(db: Database, message: MessageRecord, *recipients: str) -> list[DeliveryRecord]:
    assert await record_message(db, message, *recipients), f"{message.dedupe_key} is taken"
    return [delivery(message, r, i) for i, r in enumerate(recipients)]


async def test_a_message_round_trips_with_its_types(db: Database) -> None:
    first, second = record(1, paper_copy=True, priority=2), record(2)
    await insert(db, first, "000.00.13.H26")
    await insert(db, second, "000.00.13.H26")

    found = await db.read(lambda tx: store.by_dedupe_key(tx, first.dedupe_key))
    assert found == (first, False)
    assert isinstance(found[0].paper_copy, bool) and isinstance(found[1], bool)
    assert await db.read(lambda tx: store.by_id(tx, second.id)) == second
    assert await db.read(lambda tx: store.body(tx, first.id)) == BODY
    assert await db.read(lambda tx: store.by_id(tx, "nope")) is None
    assert await db.read(lambda tx: store.by_dedupe_key(tx, "nope")) is None


async def test_deliveries_keep_their_order_and_fields(db: Database) -> None:
    message = record(3, priority=1)
    to = await insert(db, message, "000.00.13.H26", "000.00.16.H26", "H26.01")
    got = await db.read(lambda tx: store.deliveries_of(tx, message.id))
    assert [d.recipient for d in got] == ["000.00.13.H26", "000.00.16.H26", "H26.01"]
    assert [(d.delivery_id, d.state, d.priority, d.received_at) for d in got] == [
        (d.delivery_id, QUEUED, 1, RECEIVED_AT + 3) for d in to
    ]
    assert all(isinstance(d.seq, int) for d in got)
    one = await db.read(lambda tx: store.delivery(tx, to[1].delivery_id))
    assert one is not None and one.recipient == "000.00.16.H26"


async def test_publishing_and_withdrawing(db: Database) -> None:
    kept, withdrawn, old = record(4), record(5), record(6)
    for m in (kept, withdrawn, old):
        await insert(db, m, "000.00.13.H26")

    pending = await db.read(lambda tx: store.unpublished_before(tx, RECEIVED_AT + 100))
    assert pending == [kept.id, withdrawn.id, old.id]  # oldest first
    assert await db.read(lambda tx: store.unpublished_before(tx, RECEIVED_AT + 5)) == [kept.id]

    assert await db.write(lambda tx: store.mark_published(tx, kept.id)) is True
    assert await db.write(lambda tx: store.delete_unpublished(tx, kept.id)) is False  # published
    assert await db.write(lambda tx: store.delete_unpublished(tx, withdrawn.id)) is True
    assert await db.read(lambda tx: store.by_id(tx, withdrawn.id)) is None
    assert await db.read(lambda tx: store.deliveries_of(tx, withdrawn.id)) == []  # cascade
    assert await db.read(lambda tx: store.body(tx, withdrawn.id)) is None
    assert await db.read(lambda tx: store.by_dedupe_key(tx, kept.dedupe_key)) == (kept, True)
    pending = await db.read(lambda tx: store.unpublished_before(tx, RECEIVED_AT + 100))
    assert pending == [old.id]


async def test_move_delivery_only_from_the_expected_state(db: Database) -> None:
    (d,) = await insert(db, record(7), "000.00.13.H26")
    move = store.move_delivery
    assert await db.write(lambda tx: move(tx, d.delivery_id, QUEUED, INBOX, 1.5)) is True
    assert await db.write(lambda tx: move(tx, d.delivery_id, QUEUED, INBOX, 2.5)) is False
    assert await db.write(lambda tx: move(tx, d.delivery_id, INBOX, ACKED, 3.5)) is True
    got = await db.read(lambda tx: store.delivery(tx, d.delivery_id))
    assert got is not None and got.state == ACKED


async def test_inbox_urgent_first_then_oldest_with_a_cursor(db: Database) -> None:
    me = "000.00.13.H26"
    ids = []
    for number, priority in ((10, 0), (11, 2), (12, 0), (13, 1), (14, 2)):
        (d,) = await insert(db, record(number, priority=priority), me)
        await db.write(lambda tx, d=d: store.move_delivery(tx, d.delivery_id, QUEUED, INBOX, 1.0))
        ids.append(d.delivery_id)
    want = [ids[1], ids[4], ids[3], ids[0], ids[2]]

    page1 = await db.read(lambda tx: store.inbox(tx, me, None, 2, None))
    assert [d.delivery_id for d in page1] == want[:2]
    cursor = (page1[-1].priority, page1[-1].seq or 0)
    page2 = await db.read(lambda tx: store.inbox(tx, me, "edoc", 10, cursor))
    assert [d.delivery_id for d in page2] == want[2:]
    assert await db.read(lambda tx: store.inbox(tx, me, "status", 10, None)) == []
    assert await db.read(lambda tx: store.inbox(tx, "000.00.16.H26", None, 10, None)) == []


async def test_original_for_status(db: Database) -> None:
    older, newer = record(20), record(21)
    newer = MessageRecord(**{**newer.__dict__, "document_id": older.document_id})
    await insert(db, older, "000.00.13.H26")
    await insert(db, newer, "000.00.13.H26")
    found = await db.read(
        lambda tx: store.original_for_status(tx, older.sender, older.document_id, "000.00.13.H26")
    )
    assert found == newer.id  # the latest one sent under that DocumentId
    other = await db.read(
        lambda tx: store.original_for_status(tx, older.sender, older.document_id, "H26.01")
    )
    assert other is None


@pytest.mark.parametrize("count", [1, 40])
async def test_many_recipients_in_one_unit(db: Database, count: int) -> None:
    message = record(30 + count)
    recipients = [f"H26.{i:02}" for i in range(count)]
    await insert(db, message, *recipients)
    got = await db.read(lambda tx: store.deliveries_of(tx, message.id))
    assert [d.recipient for d in got] == recipients


async def test_move_delivery_of_only_the_recipients_own(db: Database) -> None:
    (d,) = await insert(db, record(40), "000.00.13.H26")
    await db.write(lambda tx: store.move_delivery(tx, d.delivery_id, QUEUED, INBOX, 1.5))

    def move(recipient: str) -> Any:
        return lambda tx: store.move_delivery_of(tx, recipient, d.delivery_id, INBOX, ACKED, 2.5)

    assert await db.write(move("000.00.16.H26")) is None
    assert await db.write(move("000.00.13.H26")) == d.message_id
    assert await db.write(move("000.00.13.H26")) is None  # no longer in the inbox
    got = await db.read(lambda tx: store.delivery(tx, d.delivery_id))
    assert got is not None and got.state == ACKED


async def test_a_delivery_comes_with_its_body(db: Database) -> None:
    (d,) = await insert(db, record(41, priority=2), "000.00.13.H26")
    found = await db.read(lambda tx: store.delivery_with_body(tx, d.delivery_id))
    assert found is not None
    item, body = found
    assert body == BODY
    assert item == replace(d, seq=item.seq) and item.seq is not None
    assert await db.read(lambda tx: store.delivery_with_body(tx, "nope")) is None


async def test_a_large_body_comes_back_byte_for_byte(db: Database) -> None:
    # Beyond PostgreSQL's out-of-line threshold and the embedded store's large-write size.
    body = os.urandom(3 * 1024 * 1024)
    message = replace(record(43), size=len(body))
    to = [delivery(message, "000.00.13.H26")]
    assert await db.write(lambda tx: store.insert_message(tx, message, body, to), large=True)
    found = await db.read(lambda tx: store.delivery_with_body(tx, to[0].delivery_id))
    assert found is not None and found[1] == body
    assert await db.read(lambda tx: store.body(tx, message.id)) == body


async def test_the_mailbox_fetches_and_acknowledges_once(db: Database) -> None:
    me, other = "000.00.13.H26", "000.00.16.H26"
    (d,) = await insert(db, record(42), me)
    mailbox = Mailbox(db, lambda: RECEIVED_AT + 100)
    with pytest.raises(NotFound):  # not in the inbox yet
        await mailbox.fetch(me, d.delivery_id)
    await db.write(lambda tx: store.move_delivery(tx, d.delivery_id, QUEUED, INBOX, 1.5))

    item, body = await mailbox.fetch(me, d.delivery_id)
    assert (item.delivery_id, body) == (d.delivery_id, BODY)
    for refused in (mailbox.fetch(other, d.delivery_id), mailbox.ack(other, d.delivery_id)):
        with pytest.raises(NotFound):
            await refused
    await mailbox.ack(me, d.delivery_id)
    await mailbox.ack(me, d.delivery_id)  # twice is not an error
    with pytest.raises(NotFound):
        await mailbox.fetch(me, d.delivery_id)
    with pytest.raises(NotFound):
        await mailbox.ack(me, "nope")
    trail = await db.read(lambda tx: audit.of_message(tx, d.message_id))
    assert [(row["event"], row["recipient"]) for row in trail] == [("acked", me)]
