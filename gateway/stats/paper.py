"""Paper dispatches: what an agency declares it sent on paper, so the ratio has a denominator.

Declared one document and recipient at a time, as JSON or as a CSV export of a paper register
(`document_id,recipient,dispatched_on`). Idempotent per (sender, document_id, recipient); an
exchange that also went electronically stays electronic.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.clock import Clock
from gateway.errors import BadInput
from gateway.stats import facts
from gateway.stats.counting import ELECTRONIC, PAPER, SECRET
from gateway.store.db import Database, Tx

MAX_ROWS = 10_000
CSV_COLUMNS = ("document_id", "recipient", "dispatched_on")
FIELDS = {"document_id", "recipients", "dispatched_on"}
_ORGAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,34}$")


@dataclass(frozen=True)
class PaperDispatch:
    document_id: str
    recipient: str
    dispatched_on: date


@dataclass(frozen=True)
class Declared:
    declared: int
    already: dict[str, int]  # by the channel the exchange already counts on


def _dispatch(document_id: Any, recipient: Any, dispatched_on: Any, where: str) -> PaperDispatch:
    if not isinstance(document_id, str) or not 0 < len(document_id.strip()) <= 300:
        raise BadInput(f"{where}: document_id must be a non-empty string of at most 300 characters")
    if not isinstance(recipient, str) or not _ORGAN_ID.match(recipient):
        raise BadInput(f"{where}: recipient {recipient!r} is not an organ id")
    try:
        day = date.fromisoformat(str(dispatched_on))
    except ValueError:
        raise BadInput(
            f"{where}: dispatched_on {dispatched_on!r} is not a YYYY-MM-DD date"
        ) from None
    return PaperDispatch(document_id.strip(), recipient, day)


def from_json(body: Any) -> list[PaperDispatch]:
    """`{"document_id", "recipients": [...], "dispatched_on"}`, or a list of such objects."""
    items = body if isinstance(body, list) else [body]
    dispatches: list[PaperDispatch] = []
    for index, item in enumerate(items):
        where = f"item {index}" if isinstance(body, list) else "body"
        if not isinstance(item, dict) or set(item) != {
            "document_id",
            "recipients",
            "dispatched_on",
        }:
            raise BadInput(f"{where}: give exactly document_id, recipients and dispatched_on")
        recipients = item["recipients"]
        if not isinstance(recipients, list) or not recipients:
            raise BadInput(f"{where}: recipients must be a non-empty list of organ ids")
        dispatches += [
            _dispatch(item["document_id"], r, item["dispatched_on"], where) for r in recipients
        ]
    return _bounded(dispatches)


def from_csv(text: str) -> list[PaperDispatch]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != CSV_COLUMNS:
        raise BadInput(f"line 1: the CSV header must be {','.join(CSV_COLUMNS)}")
    dispatches = []
    for line, fields in enumerate(reader, start=2):
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(CSV_COLUMNS):
            raise BadInput(f"line {line}: expected {len(CSV_COLUMNS)} fields, found {len(fields)}")
        document_id, recipient, dispatched_on = (f.strip() for f in fields)
        dispatches.append(_dispatch(document_id, recipient, dispatched_on, f"line {line}"))
    return _bounded(dispatches)


def _bounded(dispatches: list[PaperDispatch]) -> list[PaperDispatch]:
    if not dispatches:
        raise BadInput("no dispatch to declare")
    if len(dispatches) > MAX_ROWS:
        raise BadInput(f"{len(dispatches)} rows; send at most {MAX_ROWS} per request")
    return dispatches


class PaperRegister:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def declare(self, sender: str, dispatches: Sequence[PaperDispatch]) -> Declared:
        now = self._clock()

        async def unit(tx: Tx) -> Declared:
            keys = [(d.document_id, d.recipient) for d in dispatches]
            known = await facts.channels_of(tx, sender, keys)
            entries: list[Event] = []
            already: dict[str, int] = {PAPER: 0, ELECTRONIC: 0, SECRET: 0}
            for d in dispatches:
                key = (d.document_id, d.recipient)
                if key in known:
                    already[known[key]] += 1
                    continue
                known[key] = PAPER
                day = d.dispatched_on.isoformat()
                entries.append(
                    Event(
                        "paper_declared",
                        at=now,
                        actor=sender,
                        recipient=d.recipient,
                        data={"document_id": d.document_id, "dispatched_on": day, "day": day},
                    )
                )
            await audit.append(tx, entries)
            return Declared(len(entries), already)

        return await self._db.write(unit)
