"""The statistics page's period picker and the summing of a custom range's yearly rows."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.console.periods import Selection, summed, worst_first
from gateway.errors import BadInput

TODAY = date(2026, 5, 20)


@pytest.mark.parametrize(
    ("params", "start", "end", "period"),
    [
        ({}, date(2026, 5, 1), date(2026, 5, 31), "month"),
        ({"kind": "month", "month": "2024-02"}, date(2024, 2, 1), date(2024, 2, 29), "month"),
        ({"kind": "quarter"}, date(2026, 4, 1), date(2026, 6, 30), "quarter"),
        (
            {"kind": "quarter", "quarter": "2025-Q4"},
            date(2025, 10, 1),
            date(2025, 12, 31),
            "quarter",
        ),
        ({"kind": "year", "year": "2025"}, date(2025, 1, 1), date(2025, 12, 31), "year"),
        (
            {"kind": "custom", "from": "2025-12-15", "to": "2026-01-10"},
            date(2025, 12, 15),
            date(2026, 1, 10),
            "year",
        ),
    ],
)
def test_each_kind_of_period_covers_its_days(
    params: dict[str, str], start: date, end: date, period: str
) -> None:
    chosen = Selection.read(params, TODAY)
    assert (chosen.start, chosen.end, chosen.period) == (start, end, period)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"kind": "week"}, "kind="),
        ({"kind": "month", "month": "2026-13"}, "month="),
        ({"kind": "quarter", "quarter": "2026-Q5"}, "quarter="),
        ({"kind": "custom", "from": "2026-02-01", "to": "2026-01-01"}, "before"),
        ({"kind": "custom", "from": "2000-01-01", "to": "2026-01-01"}, "ten years"),
        ({"by": "planet"}, "by="),
    ],
)
def test_a_bad_choice_is_refused_naming_it(params: dict[str, str], named: str) -> None:
    with pytest.raises(BadInput, match=named):
        Selection.read(params, TODAY)


def row(agency: str, period: str, electronic: int, paper: int) -> dict[str, object]:
    return {
        "agency": agency,
        "period": period,
        "electronic": electronic,
        "paper": paper,
        "secret_excluded": 1,
        "with_paper_copy": 0,
        "ratio": None,
        "meets_target": None,
    }


def test_a_custom_range_sums_its_years_and_recomputes_the_ratio() -> None:
    rows = [row("A", "2025", 8, 2), row("A", "2026", 1, 1), row("B", "2026", 0, 0)]
    merged = {r["agency"]: r for r in summed(rows, "agency", 0.9)}
    assert (merged["A"]["electronic"], merged["A"]["paper"]) == (9, 3)
    assert merged["A"]["secret_excluded"] == 2
    assert (merged["A"]["ratio"], merged["A"]["meets_target"]) == (0.75, False)
    assert (merged["B"]["ratio"], merged["B"]["meets_target"]) == (None, None)


def test_worst_first_puts_agencies_without_exchanges_last() -> None:
    rows = summed(
        [row("A", "2026", 9, 1), row("B", "2026", 0, 0), row("C", "2026", 1, 1)], "agency", 0.9
    )
    worst_first(rows, {"A": "An", "B": "Bình", "C": "Cường"}, "agency")
    assert [r["agency"] for r in rows] == ["C", "A", "B"]
