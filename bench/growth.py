"""How each cost of a city-year grows with its size (issue 16): reads `bench.scale --json`
files, one per size, smallest first, and prints every figure at each size with its growth
beside the growth of the store (audit entries).

    .venv/bin/python -m bench.growth /tmp/city1/scale.json /tmp/city10/scale.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tabulate import tabulate

SIZE = "events"  # what "the size" of a store is: its audit entries
COSTS = (
    ("stats_year_by_agency_ms", "statistics, a year by agency (ms, median)", "< 2,000"),
    ("stats_year_by_group_ms", "statistics, a year by group (ms, median)", ""),
    ("monthly_report_ms", "monthly report (ms, median)", "< 1,000"),
    ("inbox_p99_ms", "inbox listing, 10,000 uncollected (ms, p99)", "< 20"),
    ("search_p99_ms", "search by document id (ms, p99)", "< 50"),
    ("drill_first_ms", "drill-down, first page (ms)", ""),
    ("drill_last_ms", "drill-down, last of up to 10 pages (ms)", ""),
    ("verify_events_per_s", "audit verification (events/s)", ">= 200,000"),
    ("verify_rss_peak_mb", "gateway peak RSS after verification (MB)", "constant"),
    ("bytes_per_delivery", "bytes on disk per delivery", ""),
    ("submit_p99_ms", "submit p99 at 50 docs/s (ms)", "<= 1.5 x empty"),
    ("submit_p99_empty_ms", "the same, empty store (ms)", ""),
)


def growth(first: Any, last: Any) -> str:
    if not isinstance(first, int | float) or not isinstance(last, int | float) or not first:
        return ""
    return f"x{last / first:.2f}"


def table(records: list[dict[str, Any]]) -> str:
    labels = [str(r["label"]) for r in records]
    figures = [r["figures"] for r in records]
    sizes = [f.get(SIZE) for f in figures]
    rows = [
        ["audit entries", *(f"{s:,}" if s else "?" for s in sizes), growth(sizes[0], sizes[-1]), ""]
    ]
    for key, name, target in COSTS:
        values = [f.get(key) for f in figures]
        if all(v is None for v in values):
            continue
        shown = ["" if v is None else f"{v:,}" for v in values]
        rows.append([name, *shown, growth(values[0], values[-1]), target])
    first, last = labels[0], labels[-1]
    headers = ["", *labels, f"{last} / {first}", "target"]
    align = ("left", *["right"] * (len(headers) - 1))
    return tabulate(rows, headers=headers, colalign=align, disable_numparse=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.growth", description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+", help="bench.scale --json files")
    args = parser.parse_args()
    records = [json.loads(path.read_text()) for path in args.files]
    print(table(records))


if __name__ == "__main__":
    main()
