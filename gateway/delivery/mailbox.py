"""The mailbox as departments use it: list what waits, fetch it, acknowledge it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.clock import Clock
from gateway.delivery.backlog import PollRecorder
from gateway.errors import BadInput, BodyPurged, NotFound
from gateway.store import messages as store
from gateway.store.db import Database, Tx
from gateway.store.messages import ACKED, INBOX, DeliveryRecord


@dataclass(frozen=True)
class Page:
    items: tuple[DeliveryRecord, ...]
    next_cursor: str | None


def encode_cursor(item: DeliveryRecord) -> str:
    raw = f"{item.priority}.{item.seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        priority, seq = raw.split(".")
        position = int(priority), int(seq)
        if not (0 <= position[0] < 2**15 and 0 <= position[1] < 2**62):  # what the store holds
            raise ValueError(raw)
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadInput(f"after={cursor[:80]!r} is not a cursor this gateway gave out") from None


class Mailbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._polls = PollRecorder(db, clock)

    async def list(self, recipient: str, kind: str | None, limit: int, after: str | None) -> Page:
        position = decode_cursor(after) if after else None

        async def unit(tx: Tx) -> list[DeliveryRecord]:
            return await store.inbox(tx, recipient, kind, limit + 1, position)

        rows = await self._db.read(unit)
        await self._polls.listed(recipient)
        items = tuple(rows[:limit])
        more = len(rows) > limit
        return Page(items, encode_cursor(items[-1]) if more and items else None)

    async def fetch(self, recipient: str, delivery_id: str) -> tuple[DeliveryRecord, bytes]:
        found = await self._db.read(lambda tx: store.delivery_with_body(tx, delivery_id))
        await self._polls.fetched(recipient)
        if found is None or found[0].recipient != recipient:
            raise NotFound(f"no delivery {delivery_id} waits in the inbox of {recipient}")
        item, body = found
        if body is None:
            raise BodyPurged(
                f"the body of delivery {delivery_id} was removed by retention after it was "
                f"delivered; its trace remains at /v1/documents/{item.message_id}/trace"
            )
        if item.state != INBOX:
            raise NotFound(f"no delivery {delivery_id} waits in the inbox of {recipient}")
        return item, body

    async def ack(self, recipient: str, delivery_id: str) -> None:
        now = self._clock()

        async def unit(tx: Tx) -> bool:
            message_id = await store.move_delivery_of(tx, recipient, delivery_id, INBOX, ACKED, now)
            if message_id is None:  # acknowledging twice is not an error
                item = await store.delivery(tx, delivery_id)
                return item is not None and item.recipient == recipient and item.state == ACKED
            entry = Event(
                "acked",
                at=now,
                actor=recipient,
                message_id=message_id,
                recipient=recipient,
                data={"delivery_id": delivery_id},
            )
            await audit.append(tx, [entry])
            return True

        if not await self._db.write(unit):
            raise NotFound(f"no delivery {delivery_id} waits in the inbox of {recipient}")
