"""The store's side of an agency's backlog: what waits uncollected in its inbox, since when,
and when the agency last came for it.

Each count is one range of the inbox index (recipient, state, ...), so its cost grows with the
agency's uncollected items, never with all the deliveries kept; it runs every 15 s for the
gauges. The oldest item is the lowest `seq` (deliveries are numbered as they are accepted).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gateway.store.db import Query, Tx, insert
from gateway.store.messages import INBOX
from gateway.store.schema import deliveries, mailbox_polls

_WAITING = sa.and_(deliveries.c.recipient == sa.bindparam("recipient"), deliveries.c.state == INBOX)
_OLDEST_SEQ = sa.select(sa.func.min(deliveries.c.seq)).where(_WAITING).scalar_subquery()
_UNCOLLECTED = Query(
    sa.select(
        sa.select(sa.func.count())
        .select_from(deliveries)
        .where(_WAITING)
        .scalar_subquery()
        .label("waiting"),
        sa.select(deliveries.c.received_at)
        .where(deliveries.c.seq == _OLDEST_SEQ)
        .scalar_subquery()
        .label("oldest"),
    )
)
_POLLS = Query(sa.select(mailbox_polls))
_INSERT_POLL = insert(mailbox_polls, "agency", "listed_at", "fetched_at")
_TOUCH = {
    column: Query(
        sa.update(mailbox_polls)
        .where(mailbox_polls.c.agency == sa.bindparam("b_agency"))
        .values({column: sa.bindparam("at")})
    )
    for column in ("listed_at", "fetched_at")
}


@dataclass(frozen=True)
class Uncollected:
    count: int
    oldest_received_at: float | None  # unix seconds; None when nothing waits


@dataclass(frozen=True)
class Polls:
    listed_at: float | None = None
    fetched_at: float | None = None


async def uncollected(tx: Tx, recipients: list[str]) -> dict[str, Uncollected]:
    found: dict[str, Uncollected] = {}
    for recipient in recipients:
        row = await tx.fetchone(_UNCOLLECTED, {"recipient": recipient})
        if row is None:  # an aggregate always answers one row; kept for the type checker
            row = {"waiting": 0, "oldest": None}
        found[recipient] = Uncollected(int(row["waiting"] or 0), row["oldest"])
    return found


async def polls(tx: Tx) -> dict[str, Polls]:
    return {
        row["agency"]: Polls(row["listed_at"], row["fetched_at"]) for row in await tx.fetch(_POLLS)
    }


async def touch(tx: Tx, agency: str, column: str, at: float) -> None:
    """Record that the agency listed (`listed_at`) or fetched (`fetched_at`) at `at`."""
    if not await tx.execute(_TOUCH[column], {"b_agency": agency, "at": at}):
        row = {"agency": agency, "listed_at": None, "fetched_at": None, column: at}
        await tx.execute(_INSERT_POLL, row)
