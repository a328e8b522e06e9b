"""What an operator does to a message, kept on its trace: a purged dead letter leaves `purged`
(state and event, with the operator's name) where the sender looks, instead of `failed`."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.bus.base import DeadLetter
from gateway.store import messages as store
from gateway.store.db import Database, Tx


async def mark_purged(
    db: Database, letters: Sequence[DeadLetter], operator: str, now: float
) -> None:
    """Move each purged dead letter's delivery from `failed` to `purged` and say so."""

    async def unit(tx: Tx) -> None:
        entries = []
        for letter in letters:
            delivery = await store.delivery(tx, letter.message_id)
            if delivery is None:
                continue
            await store.move_delivery(tx, delivery.delivery_id, store.FAILED, store.PURGED, now)
            entries.append(
                Event(
                    "purged",
                    at=now,
                    actor=operator,
                    message_id=delivery.message_id,
                    recipient=delivery.recipient,
                    data={"delivery_id": delivery.delivery_id, "dead_letter_id": letter.id},
                )
            )
        await audit.append(tx, entries)

    await db.write(unit)
