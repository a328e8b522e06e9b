"""Which bodies retention may remove, and their removal: the statements.

A body may go once every delivery of its message is finished before the cutoff: acknowledged
or delivered by the adapter, or dead-lettered and its dead letters purged by an operator
(`dead_letters_purged` in the audit log). The message row, its deliveries, its dedupe key and
its audit events stay, so a removed body is told apart from an unknown one: its deliveries
are still there (a fetch then answers 410), and a resend of the same bytes finds the key.

Removal walks the bodies in windows of their primary key, so that no statement touches more
than one window of rows however large the store.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gateway.store.db import Query, Tx
from gateway.store.messages import ACKED, DELIVERED, FAILED
from gateway.store.schema import bodies, deliveries, events, messages

DEAD_LETTERS_PURGED = "dead_letters_purged"

_purged_after_failure = (
    sa.select(sa.literal(1))
    .where(
        events.c.message_id.is_(None),  # operators' events: the index's small NULL prefix
        events.c.event == DEAD_LETTERS_PURGED,
        events.c.recipient == deliveries.c.recipient,
        events.c.at >= deliveries.c.updated_at,
        events.c.at < sa.bindparam("cutoff"),
    )
    .correlate_except(events)
    .exists()
)
_finished = sa.or_(
    sa.and_(
        sa.or_(deliveries.c.state == ACKED, deliveries.c.state == DELIVERED),
        deliveries.c.updated_at < sa.bindparam("cutoff"),
    ),
    sa.and_(deliveries.c.state == FAILED, _purged_after_failure),
)
_unfinished = (
    sa.select(sa.literal(1))
    .where(deliveries.c.message_id == bodies.c.message_id, sa.not_(_finished))
    .correlate_except(deliveries)
    .exists()
)
_removable = sa.and_(
    messages.c.id == bodies.c.message_id,
    messages.c.published == sa.true(),
    messages.c.received_at < sa.bindparam("cutoff"),
    sa.not_(_unfinished),
)

_WINDOW = Query(
    sa.select(bodies.c.message_id)
    .where(bodies.c.message_id > sa.bindparam("after"))
    .order_by(bodies.c.message_id)
    .limit(sa.bindparam("limit"))
)
_IN_WINDOW = sa.and_(
    bodies.c.message_id > sa.bindparam("after"), bodies.c.message_id <= sa.bindparam("upto")
)
_REMOVE = Query(
    sa.delete(bodies)
    .where(_IN_WINDOW, sa.select(messages.c.id).where(_removable).exists())
    .returning(bodies.c.message_id)
)
_SUMMARY = Query(
    sa.select(
        sa.func.count().label("bodies"),
        sa.func.coalesce(sa.func.sum(messages.c.size), 0).label("bytes"),
        sa.func.coalesce(sa.func.sum(sa.case((_removable, 1), else_=0)), 0).label("removable"),
        sa.func.coalesce(sa.func.sum(sa.case((_removable, messages.c.size), else_=0)), 0).label(
            "removable_bytes"
        ),
    ).select_from(bodies.join(messages, messages.c.id == bodies.c.message_id))
)


@dataclass(frozen=True)
class BodySummary:
    """What the store holds of bodies, and what of it retention would remove now."""

    bodies: int
    bytes: int
    removable: int
    removable_bytes: int


async def window(tx: Tx, after: str, limit: int) -> list[str]:
    """The next `limit` message ids holding a body, in key order, after `after`."""
    rows = await tx.fetch(_WINDOW, {"after": after, "limit": limit})
    return [str(r["message_id"]) for r in rows]


async def remove_bodies(tx: Tx, after: str, upto: str, cutoff: float) -> list[str]:
    """Remove the removable bodies whose message id lies in (after, upto]; their ids."""
    rows = await tx.fetch(_REMOVE, {"after": after, "upto": upto, "cutoff": cutoff})
    return sorted(str(r["message_id"]) for r in rows)


async def summary(tx: Tx, cutoff: float) -> BodySummary:
    row = await tx.fetchone(_SUMMARY, {"cutoff": cutoff})
    assert row is not None
    return BodySummary(
        int(row["bodies"]), int(row["bytes"]), int(row["removable"]), int(row["removable_bytes"])
    )
