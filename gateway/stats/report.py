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

from gateway.audit import chain as audit
from gateway.clock import Clock, iso, system_clock
from gateway.errors import BadInput
from gateway.stats import facts
from gateway.stats.counting import (
    DayCount,
    GroupBy,
    Period,
    count_periods,
    period_bounds,
    tabulate,
)
from gateway.store.db import Database, Tx

FORMATS = ("json", "csv", "xlsx")
# The days statistics can be asked about, and how many rows (periods x subjects) one answer
# may hold: each row is built, kept and serialised whole.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(9998, 12, 31)
MAX_ROWS = 100_000
COUNT_FIELDS = (
    "period",
    "from",
    "to",
    "electronic",
    "paper",
    "secret_excluded",
    "with_paper_copy",
    "undelivered",
    "ratio",
    "target",
    "meets_target",
)


def fields_for(by: GroupBy) -> tuple[str, ...]:
    if by == "agency":
        return ("agency", "name", "group", *COUNT_FIELDS)
    return COUNT_FIELDS if by == "none" else (by, *COUNT_FIELDS)


@dataclass(frozen=True)
class Stamp:
    """What every statistics answer carries: the audit log's head when the figures were read
    (in the same snapshot), and when they were generated."""

    head_seq: int
    head: str
    generated_at: str  # ISO 8601, UTC

    def headers(self) -> dict[str, str]:
        return {
            "Edoc-Audit-Head": self.head,
            "Edoc-Audit-Seq": str(self.head_seq),
            "Edoc-Generated-At": self.generated_at,
        }

    def line(self) -> str:
        return f"audit_head={self.head} audit_seq={self.head_seq} generated_at={self.generated_at}"


@dataclass(frozen=True)
class Report:
    rows: list[dict[str, Any]]
    city: list[dict[str, Any]]  # the city-wide rows (by=none) of the same range and period
    stamp: Stamp


@dataclass(frozen=True)
class StatsQuery:
    start: date
    end: date
    period: Period
    by: GroupBy
    format: str

    @classmethod
    def from_params(cls, params: Mapping[str, str], today: date) -> StatsQuery:
        """Read `from`, `to`, `period`, `by`, `format`; defaults: the whole current period (this
        month, by month), by agency, JSON. Refuse anything else with the parameter's name."""
        period = _choice(params, "period", get_args(Period), "month")
        first, last = period_bounds(today, cast(Period, period))
        start = _date(params, "from", first)
        end = _date(params, "to", last)
        if end < start:
            raise BadInput(f"to={end} is before from={start}")
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
        self,
        db: Database,
        groups: Mapping[str, str],
        target: float,
        tz: ZoneInfo,
        *,
        names: Mapping[str, str] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._db = db
        self._groups = dict(groups)
        self._names = dict(names or {})
        self._clock = clock
        self.tz = tz
        self.target = target

    def today(self) -> date:
        return datetime.fromtimestamp(self._clock(), self.tz).date()

    async def rows(self, query: StatsQuery, sender: str | None = None) -> list[dict[str, Any]]:
        """The rows of DESIGN §4.4; with `sender`, only that agency's row(s)."""
        return (await self.report(query, sender)).rows

    async def report(self, query: StatsQuery, sender: str | None = None) -> Report:
        """The rows, the city-wide rows and the stamp, read in one snapshot."""
        groups = self._groups if sender is None else {sender: self._groups.get(sender, "?")}
        _bound(query, groups)
        start, end = query.start.isoformat(), query.end.isoformat()

        async def unit(tx: Tx) -> tuple[list[DayCount], tuple[int, str]]:
            counts = await facts.day_counts(tx, start, end, sender, query.period)
            counts += await facts.undelivered_counts(tx, start, end, sender, query.period)
            return counts, await audit.head(tx)

        counts, (seq, head) = await self._db.scan(unit)
        stamp = Stamp(seq, head, iso(self._clock()))
        # up to MAX_ROWS rows, built off the event loop
        return await asyncio.to_thread(self._report, counts, query, groups, stamp)

    def _report(
        self, counts: list[DayCount], query: StatsQuery, groups: Mapping[str, str], stamp: Stamp
    ) -> Report:
        return Report(
            self._table(counts, query, query.by, groups),
            self._table(counts, query, "none", groups),
            stamp,
        )

    def _table(
        self, counts: list[DayCount], query: StatsQuery, by: GroupBy, groups: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        table = tabulate(
            counts, start=query.start, end=query.end, period=query.period, by=by, groups=groups
        )
        agencies = {a: (self._names.get(a, ""), g) for a, g in self._groups.items()}
        return [row.as_dict(by, self.target, agencies) for row in table]


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


def to_csv(rows: Sequence[Mapping[str, Any]], by: GroupBy, stamp: Stamp | None = None) -> str:
    """A header line, one line per row; with `stamp`, a last line `# audit_head=...`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = fields_for(by)
    writer.writerow(names)
    for row in rows:
        writer.writerow([_cell(row[name]) for name in names])
    if stamp is not None:
        out.write(f"# {stamp.line()}\n")
    return out.getvalue()


def to_xlsx(report: Report, by: GroupBy, title: str) -> bytes:
    """Sheet `exchanges`: the rows as asked; sheet `city` the city-wide rows (by=none). The
    stamp is on the second line of each sheet and in the workbook's comments property."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    workbook.set_properties({"title": title, "comments": report.stamp.line()})
    _sheet(workbook, "exchanges", report.rows, by, title, report.stamp)
    if by != "none":
        _sheet(workbook, "city", report.city, "none", title, report.stamp)
    workbook.close()
    return out.getvalue()


def _sheet(
    workbook: Any,
    label: str,
    rows: Sequence[Mapping[str, Any]],
    by: GroupBy,
    title: str,
    stamp: Stamp,
) -> None:
    sheet = workbook.add_worksheet(label)
    bold = workbook.add_format({"bold": True})
    percent = workbook.add_format({"num_format": "0.0%"})
    names = fields_for(by)
    sheet.write(0, 0, title, bold)
    sheet.write(1, 0, stamp.line())
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
