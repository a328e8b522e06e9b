"""The exchanges behind a figure (DESIGN §4.4, `/v1/stats/exchanges/details`): metadata only.

Answered from `exchanges` by ix_exchanges_details (sender, channel, day, document_id,
recipient), a page at a time after a cursor. Of a secret document nothing is shown beyond its
date, sender, recipient and that it was refused: its page is counted by position, so that not
even the cursor carries its document id.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

import sqlalchemy as sa

from gateway.errors import BadInput
from gateway.stats.counting import ELECTRONIC, PAPER, SECRET
from gateway.stats.facts import NEVER_DELIVERED, one_of
from gateway.store.db import Query, Row, Tx
from gateway.store.schema import deliveries, exchanges, messages

Kind = Literal["electronic", "paper", "secret", "undelivered"]
MAX_PAGE = 1000

_CODE = (
    sa.select(messages.c.code)
    .where(
        messages.c.sender == exchanges.c.sender,
        messages.c.document_id == exchanges.c.document_id,
        messages.c.kind == "edoc",
        one_of(messages.c.business_type, (0, 3)),
    )
    # `+ 0`: not the bare column, so that SQLite looks the document up by
    # ix_messages_sender_document rather than walking all the sender's messages in
    # ix_messages_sender_received's order (a page took 0.4 s at 3,600 messages a sender).
    .order_by(messages.c.received_at + 0)
    .limit(1)
    .scalar_subquery()
)
_STATE = (
    sa.select(deliveries.c.state)
    .where(
        deliveries.c.sender == exchanges.c.sender,
        deliveries.c.document_id == exchanges.c.document_id,
        deliveries.c.recipient == exchanges.c.recipient,
        deliveries.c.kind == "edoc",
    )
    .order_by(deliveries.c.seq.desc())
    .limit(1)
    .scalar_subquery()
)


def page_query(kind: Kind, keyed: bool) -> Query:
    channel = {"electronic": ELECTRONIC, "undelivered": ELECTRONIC}.get(kind, kind)
    key = (exchanges.c.day, exchanges.c.document_id, exchanges.c.recipient)
    conditions = [
        exchanges.c.sender == sa.bindparam("sender"),
        exchanges.c.channel == channel,
        exchanges.c.day >= sa.bindparam("start"),
        exchanges.c.day <= sa.bindparam("end"),
    ]
    if kind == "undelivered":
        conditions.append(NEVER_DELIVERED)
    if keyed:
        after: tuple[Any, ...] = tuple(
            sa.bindparam(name) for name in ("a_day", "a_document", "a_recipient")
        )
        conditions.append(sa.tuple_(*key) > sa.tuple_(*after))
    columns: list[Any] = [*key, exchanges.c.paper_copy]
    if kind in ("electronic", "undelivered"):
        columns += [_CODE.label("code"), _STATE.label("state")]
    statement = sa.select(*columns).where(*conditions).order_by(*key).limit(sa.bindparam("limit"))
    if kind == SECRET:
        statement = statement.offset(sa.bindparam("offset"))
    return Query(statement)


_QUERIES = {(k, keyed): page_query(k, keyed) for k in get_args(Kind) for keyed in (False, True)}


@dataclass(frozen=True)
class DetailsQuery:
    sender: str
    start: date
    end: date
    kind: Kind
    limit: int
    after: str | None


def _encode(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _decode(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise BadInput("after: give the `next` of the previous page") from None


def _cursor_params(query: DetailsQuery) -> tuple[bool, dict[str, Any]]:
    if query.after is None:
        return False, {"offset": 0}
    value = _decode(query.after)
    if query.kind == SECRET:
        if not isinstance(value, int) or value < 0:
            raise BadInput("after: give the `next` of the previous page")
        return False, {"offset": value}
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        raise BadInput("after: give the `next` of the previous page")
    return True, {"a_day": value[0], "a_document": value[1], "a_recipient": value[2]}


def _item(row: Row, query: DetailsQuery) -> dict[str, Any]:
    if query.kind == SECRET:
        return {
            "date": row["day"],
            "from": query.sender,
            "recipient": row["recipient"],
            "refused": True,
        }
    item: dict[str, Any] = {
        "date": row["day"],
        "document_id": row["document_id"],
        "from": query.sender,
        "recipient": row["recipient"],
    }
    if query.kind == PAPER:
        return item | {"state": "paper", "declaration": {"dispatched_on": row["day"]}}
    return item | {
        "code": row["code"],
        "state": row["state"],
        "paper_copy": bool(row["paper_copy"]),
    }


async def page(tx: Tx, query: DetailsQuery) -> dict[str, Any]:
    """`{"items": [...], "next": cursor | null}`."""
    keyed, params = _cursor_params(query)
    params |= {
        "sender": query.sender,
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "limit": query.limit,
    }
    rows = await tx.fetch(_QUERIES[(query.kind, keyed)], params)
    following: str | None = None
    if len(rows) == query.limit:
        last = rows[-1]
        following = _encode(
            params["offset"] + len(rows)
            if query.kind == SECRET
            else [last["day"], last["document_id"], last["recipient"]]
        )
    return {"items": [_item(row, query) for row in rows], "next": following}
