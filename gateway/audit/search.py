"""The operator's search ("where is my document?"): messages by document id, code number,
sender, recipient, time and delivery state, and one message with every recipient's trace.
Metadata only, never a body. Every filter is served by an index (0008_ops_search)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway.clock import iso
from gateway.errors import BadInput
from gateway.store import messages as store
from gateway.store.db import Query, Row, Tx
from gateway.store.schema import deliveries, events, messages

FILTERS = ("document_id", "code", "sender", "recipient", "since", "until", "state")
# What an event's data may show an operator: codes, reasons, counts; never a body.
SHOWN = ("status_code", "reason", "via", "attempt", "code", "dead_letter_id", "count", "signature")


@dataclass(frozen=True)
class Search:
    filters: Mapping[str, Any]  # of FILTERS; since/until as unix seconds
    limit: int
    after: str | None


def _conditions(names: frozenset[str], keyed: bool) -> list[Any]:
    found: list[Any] = []
    for name in ("document_id", "code", "sender"):
        if name in names:
            found.append(messages.c[name] == sa.bindparam(name))
    if "since" in names:
        found.append(messages.c.received_at >= sa.bindparam("since"))
    if "until" in names:
        found.append(messages.c.received_at < sa.bindparam("until"))
    for name, column in (("recipient", deliveries.c.recipient), ("state", deliveries.c.state)):
        if name in names:
            found.append(
                sa.select(deliveries.c.seq)
                .where(deliveries.c.message_id == messages.c.id, column == sa.bindparam(name))
                .exists()
            )
    if keyed:
        key = sa.tuple_(messages.c.received_at, messages.c.id)
        found.append(key < sa.tuple_(sa.bindparam("a_at"), sa.bindparam("a_id")))
    return found


def _query(names: frozenset[str], keyed: bool) -> Query:
    """A page of messages (newest first) and their deliveries, in one round trip."""
    page = (
        sa.select(messages)
        .where(*_conditions(names, keyed))
        .order_by(messages.c.received_at.desc(), messages.c.id.desc())
        .limit(sa.bindparam("limit"))
        .cte("page")
    )
    return Query(
        sa.select(
            page,
            deliveries.c.recipient,
            deliveries.c.delivery_id,
            deliveries.c.state.label("delivery_state"),
        )
        .select_from(page.outerjoin(deliveries, deliveries.c.message_id == page.c.id))
        .order_by(page.c.received_at.desc(), page.c.id.desc(), deliveries.c.seq)
    )


_QUERIES: dict[tuple[frozenset[str], bool], Query] = {}


def _cursor(after: str | None) -> dict[str, Any]:
    if after is None:
        return {}
    try:
        at, message_id = json.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
        return {"a_at": float(at), "a_id": str(message_id)}
    except (binascii.Error, ValueError, TypeError):
        raise BadInput("after: give the `next` of the previous page") from None


def message_view(row: Row) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row["id"],
        "kind": row["kind"],
        "document_id": row["document_id"],
        "code": row["code"],
        "from": row["sender"],
        "received_at": iso(row["received_at"]),
        "priority": row["priority"],
        "size": row["size"],
    }
    if row["kind"] == "status":
        view |= {"status_code": row["status_code"], "reply_to": row["reply_to"]}
    return view


async def search(tx: Tx, query: Search) -> dict[str, Any]:
    names = frozenset(query.filters)
    keyed = query.after is not None
    statement = _QUERIES.get((names, keyed))
    if statement is None:
        statement = _QUERIES[(names, keyed)] = _query(names, keyed)
    params = {**query.filters, **_cursor(query.after), "limit": query.limit}
    found: dict[str, dict[str, Any]] = {}
    last: Row | None = None
    for row in await tx.fetch(statement, params):
        item = found.get(row["id"])
        if item is None:
            item = found[row["id"]] = message_view(row) | {"recipients": []}
            last = row
        if row["delivery_id"] is not None:
            item["recipients"].append(
                {
                    "organ_id": row["recipient"],
                    "delivery_id": row["delivery_id"],
                    "state": row["delivery_state"],
                }
            )
    following = None
    if len(found) == query.limit and last is not None:
        raw = json.dumps([last["received_at"], last["id"]]).encode()
        following = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return {"items": list(found.values()), "next": following}


_EVENTS_OF = Query(
    sa.select(events.c.at, events.c.event, events.c.actor, events.c.recipient, events.c.data)
    .where(events.c.message_id == sa.bindparam("message_id"))
    .order_by(events.c.seq)
)


def _event_view(row: Row) -> dict[str, Any]:
    data = json.loads(row["data"])
    view: dict[str, Any] = {"at": iso(row["at"]), "event": row["event"]}
    if row["event"] in ("replayed", "purged"):
        view["by"] = row["actor"]  # the operator's name
    return view | {key: data[key] for key in SHOWN if key in data}


async def one(tx: Tx, message_id: str) -> dict[str, Any] | None:
    """A message's metadata and every recipient's trace: states, attempts, errors."""
    record = await store.by_id(tx, message_id)
    if record is None:
        return None
    rows = await tx.fetch(_EVENTS_OF, {"message_id": message_id})
    recipients = []
    for d in await store.deliveries_of(tx, message_id):
        trace = [_event_view(e) for e in rows if e["recipient"] == d.recipient]
        attempts = max((int(e.get("attempt", 0)) for e in trace), default=0)
        recipients.append(
            {
                "organ_id": d.recipient,
                "delivery_id": d.delivery_id,
                "state": d.state,
                "attempts": attempts,
                "events": trace,
            }
        )
    return message_view(dataclasses.asdict(record)) | {
        "signature": json.loads(record.signature),
        "recipients": recipients,
    }


async def about_deliveries(tx: Tx, delivery_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Sender, document id and code number of each delivery (for the dead-letter list)."""
    found: dict[str, dict[str, Any]] = {}
    for delivery_id in dict.fromkeys(delivery_ids):
        delivery = await store.delivery(tx, delivery_id)
        if delivery is None:
            continue
        record = await store.by_id(tx, delivery.message_id)
        found[delivery_id] = {
            "message_id": delivery.message_id,
            "from": delivery.sender,
            "document_id": delivery.document_id,
            "code": None if record is None else record.code,
        }
    return found
