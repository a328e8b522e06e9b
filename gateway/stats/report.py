"""Exchange statistics as auditors ask for them (DESIGN §4.4): rows, CSV, XLSX."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast, get_args
from zoneinfo import ZoneInfo

import xlsxwriter  # type: ignore[import-untyped]

from gateway.errors import BadInput
from gateway.stats import facts
from gateway.stats.counting import DayCount, GroupBy, Period, count_periods, tabulate
from gateway.store.db import Database, Tx

FORMATS = ("json", "csv", "xlsx")
# The days statistics can be asked about, and how many rows (periods x subjects) one answer
# may hold: each row is built, kept and serialised whole.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(9998, 12, 31)
MAX_ROWS = 100_000
COUNT_FIELDS = (
    "period",
    "electronic",
    "paper",
    "secret_excluded",
    "with_paper_copy",
    "ratio",
    "target",
    "meets_target",
)


def fields_for(by: GroupBy) -> tuple[str, ...]:
    return COUNT_FIELDS if by == "none" else (by, *COUNT_FIELDS)


@dataclass(frozen=True)
class StatsQuery:
    start: date
    end: date
    period: Period
    by: GroupBy
    format: str

    @classmethod
    def from_params(cls, params: Mapping[str, str], today: date) -> StatsQuery:
        """Read `from`, `to`, `period`, `by`, `format`; defaults: this month so far, by month,
        by agency, JSON. Refuse anything else with the parameter's name."""
        start = _date(params, "from", today.replace(day=1))
        end = _date(params, "to", today)
        if end < start:
            raise BadInput(f"to={end} is before from={start}")
        period = _choice(params, "period", get_args(Period), "month")
        by = _choice(params, "by", get_args(GroupBy), "agency")
        return cls(
            start=start,
            end=end,
            period=cast(Period, period),
            by=cast(GroupBy, by),
            format=_choice(params, "format", FORMATS, "json"),
        )


def _date(params: Mapping[str, str], name: str, default: date) -> date:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{name}={raw[:40]!r}: give a date as YYYY-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadInput(f"{name}={raw}: give a date from {FIRST_DAY} to {LAST_DAY}")
    return day


def _choice(params: Mapping[str, str], name: str, allowed: Sequence[str], default: str) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise BadInput(f"{name}={value[:40]!r}: use one of {', '.join(allowed)}")
    return value


class Statistics:
    def __init__(
        self, db: Database, groups: Mapping[str, str], target: float, tz: ZoneInfo
    ) -> None:
        self._db = db
        self._groups = dict(groups)
        self.tz = tz
        self.target = target

    def today(self) -> date:
        return datetime.now(self.tz).date()

    async def rows(self, query: StatsQuery, sender: str | None = None) -> list[dict[str, Any]]:
        """The rows of DESIGN §4.4; with `sender`, only that agency's row(s)."""
        groups = self._groups if sender is None else {sender: self._groups.get(sender, "?")}
        _bound(query, groups)
        start, end = query.start.isoformat(), query.end.isoformat()

        async def unit(tx: Tx) -> list[DayCount]:
            return await facts.day_counts(tx, start, end, sender)

        counts = await self._db.scan(unit)
        # up to MAX_ROWS rows, built off the event loop
        return await asyncio.to_thread(self._table, counts, query, groups)

    def _table(
        self, counts: list[DayCount], query: StatsQuery, groups: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        table = tabulate(
            counts,
            start=query.start,
            end=query.end,
            period=query.period,
            by=query.by,
            groups=groups,
        )
        return [row.as_dict(query.by, self.target) for row in table]


def _bound(query: StatsQuery, groups: Mapping[str, str]) -> None:
    subjects = {"agency": len(groups), "group": len(set(groups.values())), "none": 1}[query.by]
    rows = count_periods(query.start, query.end, query.period) * max(subjects, 1)
    if rows > MAX_ROWS:
        raise BadInput(
            f"from={query.start} to={query.end} by {query.period} and by {query.by} makes {rows} "
            f"rows; at most {MAX_ROWS} rows (periods x subjects) per answer: narrow the dates "
            "or use a longer period"
        )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(rows: Sequence[Mapping[str, Any]], by: GroupBy) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = fields_for(by)
    writer.writerow(names)
    for row in rows:
        writer.writerow([_cell(row[name]) for name in names])
    return out.getvalue()


def to_xlsx(rows: Sequence[Mapping[str, Any]], by: GroupBy, title: str) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet("exchanges")
    bold = workbook.add_format({"bold": True})
    percent = workbook.add_format({"num_format": "0.0%"})
    names = fields_for(by)
    sheet.write(0, 0, title, bold)
    for column, name in enumerate(names):
        sheet.write(2, column, name, bold)
    for line, row in enumerate(rows, start=3):
        for column, name in enumerate(names):
            value = row[name]
            if name in ("ratio", "target") and value is not None:
                sheet.write_number(line, column, value, percent)
            elif value is not None:
                sheet.write(line, column, value)
    sheet.set_column(0, len(names) - 1, 16)
    sheet.freeze_panes(3, 0)
    workbook.close()
    return out.getvalue()
