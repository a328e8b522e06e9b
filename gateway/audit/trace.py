"""A message's life per recipient: its sender sees every row, a recipient only its own."""

from __future__ import annotations

import json
from typing import Any

from gateway.audit import chain as audit
from gateway.clock import iso
from gateway.errors import NotFound
from gateway.store import messages as store
from gateway.store.db import Database, Row, Tx
from gateway.store.messages import DeliveryRecord, MessageRecord


def _event_view(row: Row) -> dict[str, Any]:
    data = json.loads(row["data"])
    view: dict[str, Any] = {"at": iso(row["at"]), "event": row["event"]}
    for key in ("status_code", "reason", "via", "attempt"):
        if key in data:
            view[key] = data[key]
    return view


def render(
    record: MessageRecord, deliveries: list[DeliveryRecord], events: list[Row], viewer: str
) -> dict[str, Any]:
    visible = [d for d in deliveries if viewer in (record.sender, d.recipient)]
    rows = []
    for d in visible:
        own = [_event_view(e) for e in events if e["recipient"] == d.recipient]
        rows.append(
            {"organ_id": d.recipient, "delivery_id": d.delivery_id, "state": d.state, "events": own}
        )
    return {
        "id": record.id,
        "kind": record.kind,
        "document_id": record.document_id,
        "from": record.sender,
        "priority": record.priority,
        "urgent": record.priority > 0,
        "signature": json.loads(record.signature),
        "recipients": rows,
    }


async def trace(db: Database, message_id: str, viewer: str) -> dict[str, Any]:
    async def unit(tx: Tx) -> tuple[MessageRecord, list[DeliveryRecord], list[Row]] | None:
        record = await store.by_id(tx, message_id)
        if record is None:
            return None
        return (
            record,
            await store.deliveries_of(tx, message_id),
            await audit.of_message(tx, message_id),
        )

    found = await db.read(unit)
    if found is None:
        raise NotFound(f"no message {message_id} concerns {viewer}")
    record, deliveries, events = found
    if viewer != record.sender and all(d.recipient != viewer for d in deliveries):
        raise NotFound(f"no message {message_id} concerns {viewer}")
    return render(record, deliveries, events, viewer)
