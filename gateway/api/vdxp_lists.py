"""The façade's lists in the axis' shape: received items, sent items with each recipient's
state, and the directory (docs/vdxp.md). Every field the SDK reads is present and a string,
never null: the SDK copies them into its list classes without checking."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from gateway.clock import iso
from gateway.directory import Agency
from gateway.errors import BadInput
from gateway.store.db import Query, Row, Tx
from gateway.store.messages import ACKED, DELIVERED, FAILED, DeliveryRecord
from gateway.store.schema import deliveries, messages
from gateway.vdxp import SERVICE_TYPE, SignedRequest

MAX_LISTED = 10_000
DEFAULT_PAGE = 1000

# getSentEdocList: a recipient's delivery state as the transport acknowledgements the SDK's
# users know from updateStatus, with a description for the department's staff
SENT_STATES = {
    "queued": ("pending", "Đang chuyển đến nơi nhận"),
    "inbox": ("pending", "Đã đến hộp thư của nơi nhận, chờ nơi nhận lấy về"),
    DELIVERED: ("done", "Đã chuyển đến hệ thống của nơi nhận"),
    ACKED: ("done", "Nơi nhận đã nhận văn bản"),
    FAILED: ("fail", "Không chuyển được; quản trị viên của thành phố đang xử lý"),
}


def page_of(signed: SignedRequest) -> tuple[int, int]:
    """(pageSize, pageIndex) of a list call; the SDK's clients mostly send neither."""
    numbers = []
    for name, default in (("pageSize", DEFAULT_PAGE), ("pageIndex", 1)):
        raw = signed.get(name) or str(default)
        if not raw.isdigit() or int(raw) < 1:
            raise BadInput(f"{name}={raw!r}: a whole number from 1")
        numbers.append(int(raw))
    size, index = numbers
    if size * index > MAX_LISTED:
        raise BadInput(f"pageSize x pageIndex: at most {MAX_LISTED} items are listed")
    return size, index


def received_item(d: DeliveryRecord) -> dict[str, Any]:
    return {
        "docId": d.delivery_id,
        "serviceType": SERVICE_TYPE,
        "messageType": d.kind,
        "from": d.sender,
        "to": d.recipient,
        "created_time": iso(d.received_at),
        "updated_time": iso(d.received_at),
        "status": "pending",
        "status_desc": "waiting for the recipient's acknowledgement",
    }


def _sent(kind_filter: bool) -> Query:
    """A sender's messages, newest first, one row per recipient: through the messages'
    (sender, ...) index, then each message's deliveries by theirs."""
    conditions = [messages.c.sender == sa.bindparam("sender")]
    if kind_filter:
        conditions.append(messages.c.kind == sa.bindparam("kind"))
    return Query(
        sa.select(
            deliveries.c.message_id,
            deliveries.c.recipient,
            deliveries.c.state,
            deliveries.c.updated_at,
            messages.c.kind,
            messages.c.sender,
            messages.c.received_at,
        )
        .select_from(messages.join(deliveries, deliveries.c.message_id == messages.c.id))
        .where(*conditions)
        .order_by(messages.c.received_at.desc(), deliveries.c.seq)
        .limit(sa.bindparam("limit"))
    )


_SENT = _sent(kind_filter=False)
_SENT_OF_KIND = _sent(kind_filter=True)


async def sent_rows(tx: Tx, sender: str, kind: str | None, limit: int) -> list[Row]:
    if kind is None:
        return await tx.fetch(_SENT, {"sender": sender, "limit": limit})
    return await tx.fetch(_SENT_OF_KIND, {"sender": sender, "kind": kind, "limit": limit})


def sent_item(row: Row) -> dict[str, Any]:
    """`docId` is the DocId sendEdoc answered (the gateway's message id): one item per
    recipient, so a message to three agencies is three items with the same docId."""
    status, desc = SENT_STATES.get(row["state"], ("pending", "Đang xử lý"))
    return {
        "docId": row["message_id"],
        "serviceType": SERVICE_TYPE,
        "messageType": row["kind"],
        "from": row["sender"],
        "to": row["recipient"],
        "created_time": iso(row["received_at"]),
        "updated_time": iso(row["updated_at"]),
        "status": status,
        "status_desc": desc,
    }


def directory_rows(agencies: Iterable[Agency]) -> list[dict[str, str]]:
    """The axis' agency items: `id` and `code` are both the edXML organ id (the gateway has no
    other numbering), `pid` (the parent) and `mail` are empty strings, never null."""
    return [{"id": a.id, "code": a.id, "name": a.name, "pid": "", "mail": ""} for a in agencies]
