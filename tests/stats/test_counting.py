"""The counting rules as pure functions: which entries count, on which channel, in which period."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from gateway.stats.counting import (
    DayCount,
    Fact,
    Period,
    Tally,
    count_periods,
    fact_of,
    local_day,
    merge,
    period_bounds,
    period_of,
    periods_between,
    settle,
    tabulate,
)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def accepted(business_type: int, kind: str = "edoc", paper_copy: bool = False) -> Fact | None:
    data = {
        "kind": kind,
        "business_type": business_type,
        "document_id": "D",
        "day": "2026-01-02",
        "paper_copy": paper_copy,
    }
    return fact_of("accepted", "S", "R", data)


@pytest.mark.parametrize(
    ("business_type", "kind", "counts"),
    [
        (0, "edoc", True),
        (3, "edoc", True),
        (1, "edoc", False),
        (2, "edoc", False),
        (None, "status", False),
    ],
)
def test_only_new_and_replacement_documents_count(
    business_type: int, kind: str, counts: bool
) -> None:
    assert (accepted(business_type, kind) is not None) is counts


def test_paper_and_secret_entries_become_facts() -> None:
    data = {"document_id": "D", "day": "2026-01-05"}
    assert fact_of("paper_declared", "S", "R", data) == Fact(
        "S", "D", "R", "paper", "2026-01-05", False
    )
    assert fact_of("secret_excluded", "S", "R", data) == Fact(
        "S", "D", "R", "secret", "2026-01-05", False
    )
    assert fact_of("acked", "S", "R", data) is None
    assert fact_of("refused", "S", None, data) is None


def test_electronic_wins_over_paper_whichever_came_first() -> None:
    paper = Fact("S", "D", "R", "paper", "2026-01-01", False)
    electronic = Fact("S", "D", "R", "electronic", "2026-02-01", True)
    assert merge(paper, electronic) == electronic
    assert merge(electronic, paper) is None
    assert merge(None, paper) == paper
    assert merge(electronic, electronic) is None
    assert settle([paper, electronic, paper]) == {("S", "D", "R"): electronic}


def test_the_local_day_crosses_midnight_before_utc_does() -> None:
    assert local_day(1769880600.0, HANOI) == "2026-02-01"  # 2026-01-31T17:30Z


@pytest.mark.parametrize(
    ("period", "label"),
    [("day", "2026-08-31"), ("month", "2026-08"), ("quarter", "2026-Q3"), ("year", "2026")],
)
def test_period_labels(period: str, label: str) -> None:
    assert period_of("2026-08-31", period) == label  # type: ignore[arg-type]


def test_periods_between_lists_each_label_once_in_order() -> None:
    assert periods_between(date(2025, 12, 30), date(2026, 4, 1), "quarter") == [
        "2025-Q4",
        "2026-Q1",
        "2026-Q2",
    ]
    assert periods_between(date(2026, 1, 30), date(2026, 2, 1), "day") == [
        "2026-01-30",
        "2026-01-31",
        "2026-02-01",
    ]


def test_ratio_is_null_without_exchanges_and_ignores_secret_ones() -> None:
    tally = Tally()
    assert tally.ratio() is None
    tally.add("secret", False, 5)
    assert tally.ratio() is None
    tally.add("electronic", True, 9)
    tally.add("paper", False, 1)
    assert (tally.ratio(), tally.with_paper_copy, tally.secret_excluded) == (0.9, 9, 5)


def test_tabulate_fills_every_subject_and_period_and_groups() -> None:
    counts = [
        DayCount("A", "2026-01-03", "electronic", False, 9),
        DayCount("B", "2026-02-01", "paper", False, 1),
    ]
    groups = {"A": "g1", "B": "g1", "C": "g2"}
    rows = tabulate(
        counts,
        start=date(2026, 1, 1),
        end=date(2026, 2, 28),
        period="month",
        by="group",
        groups=groups,
    )
    assert [(r.subject, r.period, r.tally.electronic, r.tally.paper) for r in rows] == [
        ("g1", "2026-01", 9, 0),
        ("g1", "2026-02", 0, 1),
        ("g2", "2026-01", 0, 0),
        ("g2", "2026-02", 0, 0),
    ]
    row = rows[0].as_dict("group", 0.9, {})
    assert row == {
        "group": "g1",
        "period": "2026-01",
        "from": "2026-01-01",
        "to": "2026-01-31",
        "electronic": 9,
        "paper": 0,
        "secret_excluded": 0,
        "with_paper_copy": 0,
        "undelivered": 0,
        "ratio": 1.0,
        "target": 0.9,
        "meets_target": True,
    }


@pytest.mark.parametrize("period", ["day", "month", "quarter", "year"])
def test_count_periods_agrees_with_the_labels_stepped_day_by_day(period: Period) -> None:
    def day_by_day(start: date, end: date) -> list[str]:
        labels: list[str] = []
        for n in range(start.toordinal(), end.toordinal() + 1):
            label = period_of(date.fromordinal(n).isoformat(), period)
            if not labels or labels[-1] != label:
                labels.append(label)
        return labels

    for start, end in [
        (date(2025, 12, 30), date(2026, 4, 1)),
        (date(2024, 2, 29), date(2024, 2, 29)),
        (date(2023, 3, 31), date(2026, 1, 1)),
        (date(2000, 1, 1), date(2003, 12, 31)),
    ]:
        labels = periods_between(start, end, period)
        assert labels == day_by_day(start, end)
        assert count_periods(start, end, period) == len(labels)


@pytest.mark.parametrize(
    ("day", "period", "first", "last"),
    [
        (date(2026, 11, 20), "day", date(2026, 11, 20), date(2026, 11, 20)),
        (date(2026, 11, 20), "month", date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 11, 20), "quarter", date(2026, 10, 1), date(2026, 12, 31)),
        (date(2026, 2, 3), "quarter", date(2026, 1, 1), date(2026, 3, 31)),
        (date(2028, 2, 3), "month", date(2028, 2, 1), date(2028, 2, 29)),
        (date(2026, 11, 20), "year", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_period_bounds_cover_the_whole_period(
    day: date, period: Period, first: date, last: date
) -> None:
    assert period_bounds(day, period) == (first, last)


def test_a_row_covers_its_period_within_the_range() -> None:
    rows = tabulate(
        [], start=date(2026, 1, 15), end=date(2026, 3, 2), period="month", by="none", groups={}
    )
    assert [(r.period, r.first.isoformat(), r.last.isoformat()) for r in rows] == [
        ("2026-01", "2026-01-15", "2026-01-31"),
        ("2026-02", "2026-02-01", "2026-02-28"),
        ("2026-03", "2026-03-01", "2026-03-02"),
    ]
