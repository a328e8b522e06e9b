"""Messages, their bodies and their deliveries: the statements, and the rows they return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.store.db import PerDialect, Query, Row, Tx, insert
from gateway.store.schema import bodies, deliveries, messages

DeliveryState = Literal["queued", "inbox", "delivered", "acked", "failed", "purged"]
MessageKind = Literal["edoc", "status"]
QUEUED: Final[DeliveryState] = "queued"
INBOX: Final[DeliveryState] = "inbox"
DELIVERED: Final[DeliveryState] = "delivered"
ACKED: Final[DeliveryState] = "acked"
FAILED: Final[DeliveryState] = "failed"
PURGED: Final[DeliveryState] = "purged"  # a dead letter an operator purged: never delivered


@dataclass(frozen=True)
class MessageRecord:
    id: str
    kind: MessageKind
    sender: str
    document_id: str
    business_type: int | None
    dedupe_key: str
    sha256: str
    size: int
    priority: int
    paper_copy: bool
    received_at: float
    reply_to: str | None
    status_code: str | None
    signature: str  # JSON
    code: str | None = None  # the document's CodeNumber/CodeNotation (searches, drill-down)


@dataclass(frozen=True)
class DeliveryRecord:
    delivery_id: str
    message_id: str
    recipient: str
    sender: str
    kind: MessageKind
    document_id: str
    priority: int
    size: int
    received_at: float
    state: DeliveryState
    seq: int | None = None  # assigned by the database; orders the inbox


_MESSAGE_COLUMNS = tuple(f.name for f in MessageRecord.__dataclass_fields__.values())
_DELIVERY_COLUMNS = tuple(
    f.name for f in DeliveryRecord.__dataclass_fields__.values() if f.name != "seq"
)

_INSERT_BODY = insert(bodies, "message_id", "body")
_INSERT_DELIVERY = insert(deliveries, *_DELIVERY_COLUMNS, "updated_at")


def _message_unless_key_taken(dialect_insert: Any) -> Any:
    values: dict[str, Any] = {name: sa.bindparam(name) for name in (*_MESSAGE_COLUMNS, "published")}
    statement = dialect_insert(messages).values(values)
    return statement.on_conflict_do_nothing(index_elements=["dedupe_key"])


_INSERT_MESSAGE = PerDialect(
    {
        "sqlite": _message_unless_key_taken(sqlite.insert),
        "postgresql": _message_unless_key_taken(postgresql.insert),
    }
)


def _record_in_one_statement() -> Query:
    """PostgreSQL: the message, its body and its deliveries in one round trip (the body and
    the deliveries only if the message was inserted). The deliveries share the message's
    fields but their ids and recipients, which come as two arrays, in order."""
    message = postgresql.insert(messages).values(
        {name: sa.bindparam(name) for name in (*_MESSAGE_COLUMNS, "published")}
    )
    inserted = (
        message.on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(messages.c.id)
        .cte("inserted")
    )
    body = bodies.insert().from_select(
        ["message_id", "body"],
        sa.select(inserted.c.id, sa.bindparam("body", type_=bodies.c.body.type)),
    )
    to = (
        sa.func.unnest(
            sa.bindparam("delivery_ids", type_=postgresql.ARRAY(sa.String)),
            sa.bindparam("recipients", type_=postgresql.ARRAY(sa.String)),
        )
        .table_valued("delivery_id", "recipient", with_ordinality="n")
        .render_derived()
    )
    shared = {
        name: sa.bindparam(name, type_=deliveries.c[name].type)
        for name in ("sender", "kind", "document_id", "priority", "size", "received_at")
    }
    rows = (
        sa.select(
            to.c.delivery_id,
            inserted.c.id,
            to.c.recipient,
            *shared.values(),
            sa.bindparam("state", type_=deliveries.c.state.type),
            shared["received_at"],
        )
        .select_from(inserted)
        .join(to, sa.true())
        .order_by(to.c.n)
    )
    columns = ["delivery_id", "message_id", "recipient", *shared, "state", "updated_at"]
    return Query(deliveries.insert().from_select(columns, rows).add_cte(body.cte("body")))


_RECORD = _record_in_one_statement()
_BY_DEDUPE_KEY = Query(
    sa.select(messages).where(messages.c.dedupe_key == sa.bindparam("dedupe_key"))
)
_BY_ID = Query(sa.select(messages).where(messages.c.id == sa.bindparam("id")))
_DELIVERIES_OF = Query(
    sa.select(deliveries)
    .where(deliveries.c.message_id == sa.bindparam("message_id"))
    .order_by(deliveries.c.seq)
)
_DELIVERY = Query(
    sa.select(deliveries).where(deliveries.c.delivery_id == sa.bindparam("delivery_id"))
)
_MARK_PUBLISHED = Query(
    sa.update(messages).where(messages.c.id == sa.bindparam("id")).values(published=True)
)
_DELETE_UNPUBLISHED = Query(
    sa.delete(messages).where(
        messages.c.id == sa.bindparam("id"), messages.c.published == sa.false()
    )
)
_UNPUBLISHED = Query(
    sa.select(messages.c.id)
    .where(messages.c.published == sa.false(), messages.c.received_at < sa.bindparam("before"))
    .order_by(messages.c.received_at)
    .limit(sa.bindparam("limit"))
)
_MOVE_DELIVERY = Query(
    sa.update(deliveries)
    .where(
        deliveries.c.delivery_id == sa.bindparam("delivery_id"),
        deliveries.c.state == sa.bindparam("from_state"),
    )
    .values(state=sa.bindparam("to_state"), updated_at=sa.bindparam("at"))
)
_MOVE_DELIVERY_OF = Query(
    sa.update(deliveries)
    .where(
        deliveries.c.delivery_id == sa.bindparam("delivery_id"),
        deliveries.c.recipient == sa.bindparam("recipient"),
        deliveries.c.state == sa.bindparam("from_state"),
    )
    .values(state=sa.bindparam("to_state"), updated_at=sa.bindparam("at"))
    .returning(deliveries.c.message_id)
)
# An outer join: retention removes bodies and keeps their deliveries (gateway.store.retention).
_DELIVERY_WITH_BODY = Query(
    sa.select(deliveries, bodies.c.body)
    .outerjoin(bodies, bodies.c.message_id == deliveries.c.message_id)
    .where(deliveries.c.delivery_id == sa.bindparam("delivery_id"))
)
_BODY = Query(sa.select(bodies.c.body).where(bodies.c.message_id == sa.bindparam("message_id")))
_ORIGINAL_FOR_STATUS = Query(
    sa.select(messages.c.id)
    .join(deliveries, deliveries.c.message_id == messages.c.id)
    .where(
        messages.c.kind == "edoc",
        messages.c.sender == sa.bindparam("sender"),
        messages.c.document_id == sa.bindparam("document_id"),
        deliveries.c.recipient == sa.bindparam("recipient"),
    )
    .order_by(messages.c.received_at.desc())
    .limit(1)
)


def _inbox_query(kind_filter: bool) -> Query:
    after = sa.or_(
        deliveries.c.priority < sa.bindparam("after_priority"),
        sa.and_(
            deliveries.c.priority == sa.bindparam("after_priority"),
            deliveries.c.seq > sa.bindparam("after_seq"),
        ),
    )
    conditions = [
        deliveries.c.recipient == sa.bindparam("recipient"),
        deliveries.c.state == INBOX,
        after,
    ]
    if kind_filter:
        conditions.append(deliveries.c.kind == sa.bindparam("kind"))
    return Query(
        sa.select(deliveries)
        .where(*conditions)
        .order_by(deliveries.c.priority.desc(), deliveries.c.seq)
        .limit(sa.bindparam("limit"))
    )


_INBOX_ANY = _inbox_query(kind_filter=False)
_INBOX_OF_KIND = _inbox_query(kind_filter=True)


def delivery_from_row(row: Row) -> DeliveryRecord:
    return DeliveryRecord(**{name: row[name] for name in _DELIVERY_COLUMNS}, seq=int(row["seq"]))


def message_from_row(row: Row) -> MessageRecord:
    values = {name: row[name] for name in _MESSAGE_COLUMNS}
    values["paper_copy"] = bool(values["paper_copy"])
    return MessageRecord(**values)


async def insert_message(
    tx: Tx, record: MessageRecord, body: bytes, to: Sequence[DeliveryRecord]
) -> bool:
    """Record a message, its body and its deliveries (all sharing the message's fields and
    state); False, recording nothing, if its dedupe key is taken."""
    if not to:
        raise ValueError(f"message {record.id} has no recipient")
    message = {**asdict(record), "published": False}
    if tx.dialect.name == "postgresql":
        params = message | {
            "body": body,
            "delivery_ids": [d.delivery_id for d in to],
            "recipients": [d.recipient for d in to],
            "state": to[0].state,
        }
        return await tx.execute(_RECORD, params) == len(to)
    if not await tx.execute(_INSERT_MESSAGE, message):
        return False
    await tx.execute(_INSERT_BODY, {"message_id": record.id, "body": body})
    await tx.executemany(
        _INSERT_DELIVERY,
        [
            {name: getattr(d, name) for name in _DELIVERY_COLUMNS} | {"updated_at": d.received_at}
            for d in to
        ],
    )
    return True


@dataclass(frozen=True)
class PastMessage:
    """A message recorded as history (bench.seed): published, its deliveries in their final
    state since `updated_at`, its body None where retention removed it."""

    record: MessageRecord
    body: bytes | None
    deliveries: Sequence[DeliveryRecord]
    updated_at: float


async def insert_history(tx: Tx, past: Sequence[PastMessage]) -> None:
    """Record many past messages in a few statements (a store seeded with a year of history)."""
    await tx.executemany(_INSERT_MESSAGE, [{**asdict(p.record), "published": True} for p in past])
    bodies_kept = [{"message_id": p.record.id, "body": p.body} for p in past if p.body is not None]
    await tx.executemany(_INSERT_BODY, bodies_kept)
    rows = [
        {name: getattr(d, name) for name in _DELIVERY_COLUMNS} | {"updated_at": p.updated_at}
        for p in past
        for d in p.deliveries
    ]
    await tx.executemany(_INSERT_DELIVERY, rows)


async def by_dedupe_key(tx: Tx, dedupe_key: str) -> tuple[MessageRecord, bool] | None:
    """The message holding this key, and whether the bus has confirmed it."""
    row = await tx.fetchone(_BY_DEDUPE_KEY, {"dedupe_key": dedupe_key})
    return None if row is None else (message_from_row(row), bool(row["published"]))


async def by_id(tx: Tx, message_id: str) -> MessageRecord | None:
    row = await tx.fetchone(_BY_ID, {"id": message_id})
    return None if row is None else message_from_row(row)


async def deliveries_of(tx: Tx, message_id: str) -> list[DeliveryRecord]:
    rows = await tx.fetch(_DELIVERIES_OF, {"message_id": message_id})
    return [delivery_from_row(r) for r in rows]


async def delivery(tx: Tx, delivery_id: str) -> DeliveryRecord | None:
    row = await tx.fetchone(_DELIVERY, {"delivery_id": delivery_id})
    return None if row is None else delivery_from_row(row)


async def mark_published(tx: Tx, message_id: str) -> bool:
    return await tx.execute(_MARK_PUBLISHED, {"id": message_id}) == 1


async def delete_unpublished(tx: Tx, message_id: str) -> bool:
    return await tx.execute(_DELETE_UNPUBLISHED, {"id": message_id}) == 1


async def unpublished_before(tx: Tx, before: float, limit: int = 500) -> list[str]:
    rows = await tx.fetch(_UNPUBLISHED, {"before": before, "limit": limit})
    return [str(r["id"]) for r in rows]


async def move_delivery(
    tx: Tx, delivery_id: str, from_state: str, to_state: str, at: float
) -> bool:
    """Change a delivery's state only if it is in `from_state`: idempotent under redelivery."""
    params = {"delivery_id": delivery_id, "from_state": from_state, "to_state": to_state, "at": at}
    return await tx.execute(_MOVE_DELIVERY, params) == 1


async def move_delivery_of(
    tx: Tx, recipient: str, delivery_id: str, from_state: str, to_state: str, at: float
) -> str | None:
    """`move_delivery` of one of `recipient`'s deliveries; its message id if it moved."""
    params = {
        "delivery_id": delivery_id,
        "recipient": recipient,
        "from_state": from_state,
        "to_state": to_state,
        "at": at,
    }
    row = await tx.fetchone(_MOVE_DELIVERY_OF, params)
    return None if row is None else str(row["message_id"])


async def delivery_with_body(
    tx: Tx, delivery_id: str
) -> tuple[DeliveryRecord, bytes | None] | None:
    """The delivery and its message's body, None for a body retention removed."""
    row = await tx.fetchone(_DELIVERY_WITH_BODY, {"delivery_id": delivery_id})
    if row is None:
        return None
    body = row["body"]
    return delivery_from_row(row), None if body is None else bytes(body)


async def body(tx: Tx, message_id: str) -> bytes | None:
    row = await tx.fetchone(_BODY, {"message_id": message_id})
    return None if row is None else bytes(row["body"])


async def inbox(
    tx: Tx, recipient: str, kind: str | None, limit: int, after: tuple[int, int] | None
) -> list[DeliveryRecord]:
    after_priority, after_seq = after if after is not None else (1_000, 0)
    params = {
        "recipient": recipient,
        "kind": kind,
        "limit": limit,
        "after_priority": after_priority,
        "after_seq": after_seq,
    }
    query = _INBOX_ANY if kind is None else _INBOX_OF_KIND
    rows = await tx.fetch(query, params)
    return [delivery_from_row(r) for r in rows]


async def original_for_status(tx: Tx, sender: str, document_id: str, recipient: str) -> str | None:
    """The latest document `sender` sent under `document_id` that was addressed to `recipient`."""
    params = {"sender": sender, "document_id": document_id, "recipient": recipient}
    row = await tx.fetchone(_ORIGINAL_FOR_STATUS, params)
    return None if row is None else str(row["id"])


_WAITING = Query(
    sa.select(deliveries)
    .join(messages, messages.c.id == deliveries.c.message_id)
    .where(
        deliveries.c.state == QUEUED,
        messages.c.published == sa.true(),
        deliveries.c.seq > sa.bindparam("after"),
    )
    .order_by(deliveries.c.seq)
    .limit(sa.bindparam("limit"))
)


async def waiting_after(tx: Tx, after_seq: int, limit: int) -> list[DeliveryRecord]:
    """Published deliveries not yet handed to their adapter, in order, after `after_seq`."""
    rows = await tx.fetch(_WAITING, {"after": after_seq, "limit": limit})
    return [delivery_from_row(r) for r in rows]
