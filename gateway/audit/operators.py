"""What an operator does to a message, kept on its trace: a purged dead letter leaves `purged`
(state and event, with the operator's name) where the sender looks, instead of `failed`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


async def record_trust_reload(
    db: Database, actor: str, now: float, summary: Mapping[str, Any] | None, error: str | None
) -> None:
    """`trust_reloaded` with who asked (an operator's name, or `SIGHUP`), and how many anchors,
    intermediates, CRLs... were read; or the error that kept the previous material."""
    if summary is None:
        data: dict[str, Any] = {"ok": False, "error": (error or "")[:300]}
    else:
        data = {"ok": True}
        for key, value in summary.items():  # counts keep the entry small
            if isinstance(value, list):
                data[key] = len(value)
            elif isinstance(value, int | str):
                data[key] = value
    await audit.record(db, [Event("trust_reloaded", at=now, actor=actor, data=data)])
