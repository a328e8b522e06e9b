"""Refusals in the audit log: who was refused what, and why, without anything of the body.

A document refused as secret also counts as `secret_excluded`, once per recipient (DESIGN §6).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.clock import Clock, iso
from gateway.edxml import Document
from gateway.errors import GatewayError, SecretDocument
from gateway.log import get_logger
from gateway.stats.counting import local_day
from gateway.store.db import Database, Query, Row, StoreError, Tx
from gateway.store.schema import events

if TYPE_CHECKING:
    from gateway.intake.submission import Submission

log = get_logger(__name__)
SAFE_EXTENSIONS = ("level", "field", "rule", "path", "line", "unknown")


def refusal_events(sub: Submission, error: GatewayError, now: float, tz: ZoneInfo) -> list[Event]:
    """Pure: the audit entries for one refusal."""
    document_id = _document_id(sub)
    data: dict[str, Any] = {"code": error.code, "status": error.status}
    if document_id is not None:
        data["document_id"] = document_id
    data |= {k: v for k, v in error.extensions.items() if k in SAFE_EXTENSIONS}
    if not isinstance(error, SecretDocument):  # a secret refusal's detail names only the rule
        data["detail"] = error.detail[:300]
    entries = [Event("refused", at=now, actor=sub.caller.id, data=data)]
    if isinstance(error, SecretDocument):
        day = local_day(now, tz)
        for organ_id in _secret_recipients(sub):
            entries.append(
                Event(
                    "secret_excluded",
                    at=now,
                    actor=sub.caller.id,
                    recipient=organ_id,
                    data={
                        "document_id": document_id,
                        "level": error.extensions.get("level"),
                        "rule": error.extensions.get("rule"),
                        "field": error.extensions.get("field"),
                        "day": day,
                    },
                )
            )
    return entries


def _secret_recipients(sub: Submission) -> list[str]:
    """Each recipient once, the sender never (it does not exchange with itself): from the
    model, or from what the guard read of the tree when the schema was never checked."""
    if isinstance(sub.message, Document):
        named = [org.organ_id for org in sub.message.recipients]
    elif sub.secrecy_view is not None:
        named = list(sub.secrecy_view.recipients)
    else:
        named = []
    return [organ_id for organ_id in dict.fromkeys(named) if organ_id != sub.caller.id]


def _document_id(sub: Submission) -> str | None:
    if isinstance(sub.message, Document):
        return sub.message.document_id
    if sub.message is not None:
        return sub.message.response_for.document_id
    if sub.secrecy_view is not None:
        return sub.secrecy_view.document_id
    return None


class RefusalLog:
    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = tz

    async def record(self, sub: Submission, error: GatewayError) -> None:
        entries = refusal_events(sub, error, self._clock(), self._tz)

        async def unit(tx: Tx) -> None:
            await audit.append(tx, entries)

        try:
            await self._db.write(unit)
        except StoreError as exc:  # the refusal itself stands; only its record is missing
            log.error("refusal_not_recorded", code=error.code, error=str(exc))


# --- reading them back: the operator's list (GET /v1/ops/refusals) ----------------------------
SCAN_CHUNK = 500
SCAN_CHUNKS = 20  # a page reads at most this many chunks of refusals, then offers `next`


@dataclass(frozen=True)
class RefusalQuery:
    agency: str | None
    code: str | None
    since: float | None  # unix seconds
    limit: int
    before: int | None  # the `next` of the previous page: a sequence number


def _recent_query(by_agency: bool) -> Query:
    conditions = [
        events.c.event == "refused",
        events.c.seq < sa.bindparam("before"),
        events.c.at >= sa.bindparam("since"),
    ]
    if by_agency:
        conditions.append(events.c.actor == sa.bindparam("agency"))
    return Query(
        sa.select(events.c.seq, events.c.at, events.c.actor, events.c.data)
        .where(*conditions)
        .order_by(events.c.seq.desc())
        .limit(sa.bindparam("limit"))
    )


_RECENT = {by_agency: _recent_query(by_agency) for by_agency in (False, True)}


def _refusal_view(row: Row) -> dict[str, Any]:
    data = json.loads(row["data"])
    return {"seq": row["seq"], "at": iso(row["at"]), "agency": row["actor"], **data}


async def recent(tx: Tx, query: RefusalQuery) -> dict[str, Any]:
    """Newest first, by ix_events_event; `code` is matched on each entry read."""
    params = {
        "agency": query.agency,
        "since": query.since if query.since is not None else 0.0,
        "before": query.before if query.before is not None else 2**62,
        "limit": SCAN_CHUNK,
    }
    items: list[dict[str, Any]] = []
    for _ in range(SCAN_CHUNKS):
        rows = await tx.fetch(_RECENT[query.agency is not None], params)
        for row in rows:
            view = _refusal_view(row)
            if query.code is None or view.get("code") == query.code:
                items.append(view)
            params["before"] = int(row["seq"])
            if len(items) == query.limit:
                return {"items": items, "next": str(row["seq"])}
        if len(rows) < SCAN_CHUNK:
            return {"items": items, "next": None}
    return {"items": items, "next": str(params["before"])}
