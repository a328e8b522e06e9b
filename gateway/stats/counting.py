"""The counting rules of DESIGN §6, as pure functions over audit entries.

One exchange is one document to one recipient agency, identified by (sender, DocumentId,
recipient). Each exchange counts once, on one channel:
- `electronic`: a new (0) or replacement (3) document accepted by the gateway; it wins over a
  paper declaration of the same exchange, whichever came first;
- `paper`: declared through /v1/paper-dispatches and never sent electronically;
- `secret`: refused as secret; in neither numerator nor denominator.
Revocations (1), updates (2) and statuses never count; resending never counts twice.
The period of an exchange is the local day (stats.timezone) of its acceptance or refusal, or
the declared `dispatched_on` for paper.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gateway.audit.events import Counted

Channel = Literal["electronic", "paper", "secret"]
ELECTRONIC: Channel = "electronic"
PAPER: Channel = "paper"
SECRET: Channel = "secret"  # noqa: S105 (a channel name, not a password)
# Not a channel: electronic exchanges never delivered (dead-lettered or purged), counted apart.
UNDELIVERED = "undelivered"
COUNTED_BUSINESS_TYPES = (0, 3)
Period = Literal["day", "month", "quarter", "year"]
GroupBy = Literal["agency", "group", "none"]


@dataclass(frozen=True)
class Fact:
    """How one exchange counts."""

    sender: str
    document_id: str
    recipient: str
    channel: Channel
    day: str  # YYYY-MM-DD, local
    paper_copy: bool

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.sender, self.document_id, self.recipient)


def local_day(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).date().isoformat()


def fact_of(
    event: str, actor: str | None, recipient: str | None, data: Mapping[str, Any]
) -> Fact | None:
    """The fact an audit entry establishes, if it is one that counts."""
    if actor is None or recipient is None:
        return None
    read = Counted.read(data)
    if event == "accepted":
        if read.kind != "edoc" or read.business_type not in COUNTED_BUSINESS_TYPES:
            return None
        return Fact(actor, read.document_id, recipient, ELECTRONIC, read.day, read.paper_copy)
    if event == "paper_declared":
        return Fact(actor, read.document_id, recipient, PAPER, read.day, False)
    if event == "secret_excluded":
        return Fact(actor, read.document_id, recipient, SECRET, read.day, False)
    return None


def merge(existing: Fact | None, new: Fact) -> Fact | None:
    """The fact to keep for the exchange, or None when `existing` stands."""
    if existing is None:
        return new
    if new.channel == ELECTRONIC and existing.channel != ELECTRONIC:
        return new
    return None


def settle(facts: Iterable[Fact]) -> dict[tuple[str, str, str], Fact]:
    """Apply `merge` over facts in log order: the counters a full recount gives."""
    kept: dict[tuple[str, str, str], Fact] = {}
    for fact in facts:
        chosen = merge(kept.get(fact.key), fact)
        if chosen is not None:
            kept[fact.key] = chosen
    return kept


def period_of(day: str, period: Period) -> str:
    if period == "day":
        return day
    if period == "month":
        return day[:7]
    if period == "year":
        return day[:4]
    return f"{day[:4]}-Q{(int(day[5:7]) - 1) // 3 + 1}"


def _months(start: date, end: date, step: int) -> list[tuple[int, int]]:
    """(year, first month) of every `step`-month period from `start`'s to `end`'s."""
    first = start.year * 12 + (start.month - 1) // step * step
    last = end.year * 12 + end.month - 1
    return [(m // 12, m % 12 + 1) for m in range(first, last + 1, step)]


def period_bounds(day: date, period: Period) -> tuple[date, date]:
    """The first and last day of the period that contains `day`."""
    if period == "day":
        return day, day
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    months = 1 if period == "month" else 3
    first_month = (day.month - 1) // months * months + 1
    first = date(day.year, first_month, 1)
    after = first_month + months
    following = date(day.year + (after - 1) // 12, (after - 1) % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def periods_between(start: date, end: date, period: Period) -> list[str]:
    """Every period label touched by the days from `start` to `end`, in order (one step per
    period, not per day)."""
    if period == "day":
        first = start.toordinal()
        return [date.fromordinal(n).isoformat() for n in range(first, end.toordinal() + 1)]
    if period == "month":
        return [f"{y:04d}-{m:02d}" for y, m in _months(start, end, 1)]
    if period == "quarter":
        return [f"{y:04d}-Q{(m - 1) // 3 + 1}" for y, m in _months(start, end, 3)]
    return [f"{y:04d}" for y in range(start.year, end.year + 1)]


def count_periods(start: date, end: date, period: Period) -> int:
    """len(periods_between(...)), without building them."""
    if period == "day":
        return end.toordinal() - start.toordinal() + 1
    if period == "year":
        return end.year - start.year + 1
    step = 1 if period == "month" else 3
    first = (start.year * 12 + start.month - 1) // step
    return (end.year * 12 + end.month - 1) // step - first + 1


@dataclass
class Tally:
    electronic: int = 0
    paper: int = 0
    secret_excluded: int = 0
    with_paper_copy: int = 0
    undelivered: int = 0

    def add(self, channel: str, paper_copy: bool, count: int = 1) -> None:
        if channel == ELECTRONIC:
            self.electronic += count
            self.with_paper_copy += count if paper_copy else 0
        elif channel == PAPER:
            self.paper += count
        elif channel == SECRET:
            self.secret_excluded += count
        elif channel == UNDELIVERED:
            self.undelivered += count

    def ratio(self) -> float | None:
        total = self.electronic + self.paper
        return None if total == 0 else self.electronic / total


@dataclass(frozen=True)
class Row:
    subject: str  # the agency, the group, or "city"
    period: str
    tally: Tally
    first: date  # the days the row covers: its period within the range asked for
    last: date

    def as_dict(
        self, by: GroupBy, target: float, agencies: Mapping[str, tuple[str, str]]
    ) -> dict[str, Any]:
        """`agencies` maps an agency id to its (name, group), for rows by agency."""
        ratio = self.tally.ratio()
        row: dict[str, Any] = {} if by == "none" else {by: self.subject}
        if by == "agency":
            name, group = agencies.get(self.subject, ("", "?"))
            row |= {"name": name, "group": group}
        row |= {
            "period": self.period,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "electronic": self.tally.electronic,
            "paper": self.tally.paper,
            "secret_excluded": self.tally.secret_excluded,
            "with_paper_copy": self.tally.with_paper_copy,
            "undelivered": self.tally.undelivered,
            "ratio": None if ratio is None else round(ratio, 6),
            "target": target,
            "meets_target": None if ratio is None else ratio >= target,
        }
        return row


@dataclass(frozen=True)
class DayCount:
    """An aggregate the store answers: how many exchanges of one kind one sender had one day,
    or one period (then `day` is the period's first day)."""

    sender: str
    day: str
    channel: str
    paper_copy: bool
    count: int


def tabulate(
    counts: Iterable[DayCount],
    *,
    start: date,
    end: date,
    period: Period,
    by: GroupBy,
    groups: Mapping[str, str],
) -> list[Row]:
    """Rows for every subject and period in range (zeros included), sorted by subject, period.

    `groups` maps every agency to its group: the subjects are its keys or values (or "city")."""
    subjects = {"agency": sorted(groups), "group": sorted(set(groups.values())), "none": ["city"]}[
        by
    ]
    labels = periods_between(start, end, period)
    tallies = {(s, p): Tally() for s in subjects for p in labels}
    subject_of: dict[GroupBy, Callable[[str], str]] = {
        "agency": str,
        "group": lambda sender: groups.get(sender, "?"),
        "none": lambda sender: "city",
    }
    label_of: dict[str, str] = {}  # a few distinct days (or periods' first days) among the counts
    for count in counts:
        label = label_of.get(count.day)
        if label is None:
            label = label_of[count.day] = period_of(count.day, period)
        key = (subject_of[by](count.sender), label)
        cell = tallies.get(key)
        if cell is None:  # a sender no longer configured: it still counts, in its own row
            cell = tallies[key] = Tally()
        cell.add(count.channel, count.paper_copy, count.count)
    spans: dict[str, tuple[date, date]] = {}
    day = start
    while day <= end:  # the range is bounded by the caller (a few years of days at most)
        label = period_of(day.isoformat(), period)
        first, _ = spans.get(label, (day, day))
        spans[label] = (first, day)
        day = date.fromordinal(day.toordinal() + 1)
    return [Row(s, p, tallies[(s, p)], *spans[p]) for s, p in sorted(tallies)]
