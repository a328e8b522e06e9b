"""The statistics page's period picker: a month, a quarter, a year or a custom range, read
from the page's query and turned into the dates and the period of a statistics query."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast

from gateway.errors import BadInput
from gateway.stats.counting import GroupBy, Period

Kind = Literal["month", "quarter", "year", "custom"]
KINDS: tuple[Kind, ...] = ("month", "quarter", "year", "custom")
BYS: tuple[GroupBy, ...] = ("agency", "group")
SUMMED = ("electronic", "paper", "secret_excluded", "with_paper_copy", "undelivered")
MAX_CUSTOM_DAYS = 366 * 10


@dataclass(frozen=True)
class Selection:
    kind: Kind
    start: date
    end: date
    period: Period  # the statistics' period: a custom range is summed over its years
    by: GroupBy
    value: str  # what the picker shows: 2026-01, 2026-Q1, 2026, or empty for custom

    @classmethod
    def read(cls, params: Mapping[str, str], today: date) -> Selection:
        kind = cast(Kind, _one_of(params, "kind", KINDS, "month"))
        by = cast(GroupBy, _one_of(params, "by", BYS, "agency"))
        if kind == "custom":
            start, end = _day(params, "from", today.replace(day=1)), _day(params, "to", today)
            if end < start:
                raise BadInput(f"to={end} is before from={start}")
            if (end - start).days > MAX_CUSTOM_DAYS:
                raise BadInput(f"from {start} to {end}: choose at most ten years")
            return cls(kind, start, end, "year", by, "")
        value = params.get(kind) or _current(kind, today)
        start, end = _bounds(kind, value)
        return cls(kind, start, end, kind, by, value)


def _one_of(params: Mapping[str, str], name: str, allowed: Sequence[str], default: str) -> str:
    value = params.get(name) or default
    if value not in allowed:
        raise BadInput(f"{name}={value[:20]!r}: use one of {', '.join(allowed)}")
    return value


def _day(params: Mapping[str, str], name: str, default: date) -> date:
    raw = params.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{name}={raw[:20]!r}: give a date as YYYY-MM-DD") from None


def _current(kind: Kind, today: date) -> str:
    if kind == "month":
        return f"{today:%Y-%m}"
    if kind == "quarter":
        return f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    return str(today.year)


_FORMS = {
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}
_EXAMPLES = {"month": "2026-01", "quarter": "2026-Q1", "year": "2026"}


def _bounds(kind: Kind, value: str) -> tuple[date, date]:
    found = _FORMS[kind].match(value)
    if found is None or int(found.group(1)) < 1:
        raise BadInput(f"{kind}={value[:20]!r}: write it as {_EXAMPLES[kind]}")
    year = int(found.group(1))
    if kind == "year":
        return date(year, 1, 1), date(year, 12, 31)
    first = int(found.group(2)) if kind == "month" else (int(found.group(2)) - 1) * 3 + 1
    last = first if kind == "month" else first + 2
    following = date(year + last // 12, last % 12 + 1, 1)
    return date(year, first, 1), date.fromordinal(following.toordinal() - 1)


def summed(
    rows: Sequence[Mapping[str, Any]], key: str | None, target: float
) -> list[dict[str, Any]]:
    """The rows of several periods summed per `key` (agency, group, or None for one total),
    with the ratio recomputed as the statistics compute it."""
    merged: dict[Any, dict[str, Any]] = {}
    for row in rows:
        subject = None if key is None else row[key]
        if subject not in merged:
            merged[subject] = dict(row)
            continue
        into = merged[subject]
        for name in SUMMED:
            if name in row:
                into[name] += row[name]
    for row in merged.values():
        counted = row["electronic"] + row["paper"]
        ratio = None if counted == 0 else round(row["electronic"] / counted, 6)
        row["ratio"] = ratio
        row["meets_target"] = None if ratio is None else ratio >= target
    return list(merged.values())


def worst_first(rows: list[dict[str, Any]], names: Mapping[str, str], key: str) -> None:
    """Lowest ratio first; rows without a ratio (nothing counted) last; then by name."""
    rows.sort(key=lambda r: (r["ratio"] is None, r["ratio"] or 0.0, names.get(r[key], r[key])))
