"""Paper dispatches: what an agency declares it sent on paper, so the ratio has a denominator.

Declared one document and recipient at a time, as JSON or as a CSV export of a paper register
(`document_id,recipient,dispatched_on`). Idempotent per (sender, document_id, recipient); an
exchange that also went electronically stays electronic.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.clock import Clock
from gateway.errors import BadInput
from gateway.stats import facts
from gateway.stats.counting import ELECTRONIC, PAPER, SECRET
from gateway.stats.report import FIRST_DAY
from gateway.store.db import Database, Tx

MAX_ROWS = 10_000
MAX_BODY_BYTES = 4 * 1024 * 1024  # 10,000 rows of a 300-character document_id fit
MAX_JSON_DEPTH = 8  # a declaration nests 3 deep: [ { "recipients": [ ... ] } ]
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")
_INNERMOST = re.compile(rb"\[\]|\{\}")
CSV_COLUMNS = ("document_id", "recipient", "dispatched_on")
FIELDS = {"document_id", "recipients", "dispatched_on"}
_ORGAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,34}$")


@dataclass(frozen=True)
class PaperDispatch:
    document_id: str
    recipient: str
    dispatched_on: date
    where: str = field(default="body", compare=False)  # for a refusal: "item 2", "line 7"


@dataclass(frozen=True)
class Declared:
    declared: int
    already: dict[str, int]  # by the channel the exchange already counts on


def _dispatch(document_id: Any, recipient: Any, dispatched_on: Any, where: str) -> PaperDispatch:
    if not isinstance(document_id, str) or not 0 < len(document_id.strip()) <= 300:
        raise BadInput(f"{where}: document_id must be a non-empty string of at most 300 characters")
    if not isinstance(recipient, str) or not _ORGAN_ID.match(recipient):
        raise BadInput(f"{where}: recipient {str(recipient)[:40]!r} is not an organ id")
    try:
        day = date.fromisoformat(str(dispatched_on))
    except ValueError:
        raise BadInput(
            f"{where}: dispatched_on {str(dispatched_on)[:40]!r} is not a YYYY-MM-DD date"
        ) from None
    if day < FIRST_DAY:
        raise BadInput(f"{where}: dispatched_on {day} is before {FIRST_DAY}")
    return PaperDispatch(document_id.strip(), recipient, day, where)


def json_body(raw: bytes) -> Any:
    """The JSON of a declaration, refused before parsing when nested deeper than any
    declaration (the standard parser recurses once per level)."""
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", raw))
    for _ in range(MAX_JSON_DEPTH):
        brackets, removed = _INNERMOST.subn(b"", brackets)
        if not brackets or not removed:
            break
    if brackets:
        raise BadInput(
            f"the body is not a declaration: brackets unbalanced or nested over {MAX_JSON_DEPTH} "
            "levels"
        )
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        raise BadInput("the body is not valid JSON in UTF-8") from None


def csv_text(raw: bytes, charset: str | None) -> str:
    """A CSV register in UTF-8 (with or without the byte order mark spreadsheets write)."""
    if charset is not None and charset.strip().lower() not in ("utf-8", "utf8"):
        raise BadInput(f"charset={charset[:40]!r}: send the CSV register in UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"the CSV register is not UTF-8 (byte {exc.start}): save it as UTF-8"
        ) from None


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
    try:
        return _bounded(_rows(reader))
    except csv.Error as exc:  # a field over csv.field_size_limit(), a NUL byte...
        raise BadInput(f"line {reader.line_num}: not a CSV row ({exc})") from None


def _rows(reader: Any) -> list[PaperDispatch]:
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != CSV_COLUMNS:
        raise BadInput(f"line 1: the CSV header must be {','.join(CSV_COLUMNS)}")
    dispatches = []
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(CSV_COLUMNS):
            raise BadInput(f"line {line}: expected {len(CSV_COLUMNS)} fields, found {len(fields)}")
        document_id, recipient, dispatched_on = (f.strip() for f in fields)
        dispatches.append(_dispatch(document_id, recipient, dispatched_on, f"line {line}"))
        if len(dispatches) > MAX_ROWS:
            break
    return dispatches


def _bounded(dispatches: list[PaperDispatch]) -> list[PaperDispatch]:
    if not dispatches:
        raise BadInput("no dispatch to declare")
    if len(dispatches) > MAX_ROWS:
        raise BadInput(f"more than {MAX_ROWS} rows; send at most {MAX_ROWS} per request")
    return dispatches


class PaperRegister:
    def __init__(self, db: Database, clock: Clock, agencies: Collection[str], tz: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._agencies = frozenset(agencies)
        self._tz = tz

    def _check(self, sender: str, dispatches: Sequence[PaperDispatch]) -> None:
        """Refuse what could never be an exchange: an agency not in the directory, the sender
        itself, a day after today (in stats.timezone)."""
        today = datetime.fromtimestamp(self._clock(), self._tz).date()
        for d in dispatches:
            if d.recipient not in self._agencies:
                raise BadInput(f"{d.where}: recipient {d.recipient} is not in the directory")
            if d.recipient == sender:
                raise BadInput(f"{d.where}: recipient {d.recipient} is the sender itself")
            if d.dispatched_on > today:
                raise BadInput(f"{d.where}: dispatched_on {d.dispatched_on} is after today {today}")

    async def declare(self, sender: str, dispatches: Sequence[PaperDispatch]) -> Declared:
        self._check(sender, dispatches)
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
