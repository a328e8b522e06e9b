"""What an auditor reads on 20 November 2026 without giving a range: the whole quarter or year,
each row saying which days it covers, who the agency is, and what was never delivered; the same
figures in JSON, CSV and XLSX, stamped with the audit log's head."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

from tests.harness import AUDITOR_TOKEN, FINANCE, bearer
from tests.stats.conftest import Quarter

AUDITOR = bearer(AUDITOR_TOKEN)


async def get(quarter: Quarter, path: str, **params: str) -> Any:
    response = await quarter.net.ops.get(path, params=params, headers=AUDITOR)
    assert response.status == 200, await response.text()
    return response


async def finance_row(quarter: Quarter, **params: str) -> dict[str, Any]:
    rows = await (await get(quarter, "/v1/stats/exchanges", **params)).json()
    [row] = [r for r in rows if r["agency"] == FINANCE.id]
    return dict(row)


async def test_without_a_range_the_whole_current_quarter_is_counted(quarter: Quarter) -> None:
    row = await finance_row(quarter, period="quarter")
    assert row == {
        "agency": FINANCE.id,
        "name": FINANCE.name,
        "group": FINANCE.group,
        "period": "2026-Q4",
        "from": "2026-10-01",
        "to": "2026-12-31",
        "electronic": 2,  # D-1 in October, D-2 in November
        "paper": 1,
        "secret_excluded": 1,
        "with_paper_copy": 0,
        "undelivered": 1,  # D-2, dead-lettered
        "ratio": 0.666667,
        "target": 0.9,
        "meets_target": False,
    }


async def test_without_a_range_the_whole_current_year_and_month(quarter: Quarter) -> None:
    year = await finance_row(quarter, period="year")
    assert (year["period"], year["from"], year["to"], year["electronic"]) == (
        "2026",
        "2026-01-01",
        "2026-12-31",
        2,
    )
    month = await finance_row(quarter)
    assert (month["period"], month["from"], month["to"], month["electronic"]) == (
        "2026-11",
        "2026-11-01",
        "2026-11-30",
        1,
    )


async def test_json_csv_and_xlsx_agree_and_carry_the_audit_head(quarter: Quarter) -> None:
    params = {"period": "month", "from": "2026-10-01", "to": "2026-11-30"}
    as_json = await get(quarter, "/v1/stats/exchanges", **params)
    rows = await as_json.json()
    head = as_json.headers["Edoc-Audit-Head"]
    verified = await (await get(quarter, "/v1/audit/verify")).json()
    assert head == verified["head"] and len(head) == 64
    assert as_json.headers["Edoc-Generated-At"] == "2026-11-20T03:00:00.000Z"
    assert (await as_json.text()).endswith("]\n")

    as_csv = await get(quarter, "/v1/stats/exchanges", format="csv", **params)
    assert as_csv.headers["Edoc-Audit-Head"] == head
    *lines, stamp = (await as_csv.text()).rstrip("\n").split("\n")
    assert stamp == f"# audit_head={head} audit_seq={as_json.headers['Edoc-Audit-Seq']} " + (
        "generated_at=2026-11-20T03:00:00.000Z"
    )
    from_csv = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert from_csv == [{k: text(v) for k, v in row.items()} for row in rows]

    as_xlsx = await get(quarter, "/v1/stats/exchanges", format="xlsx", **params)
    assert as_xlsx.headers["Edoc-Audit-Head"] == head
    book = openpyxl.load_workbook(io.BytesIO(await as_xlsx.read()))
    assert book.properties.description == stamp[2:]
    assert sheet_rows(book["exchanges"]) == rows
    city = await (await get(quarter, "/v1/stats/exchanges", by="none", **params)).json()
    assert sheet_rows(book["city"]) == city
    assert [r["electronic"] for r in city] == [1, 1] and [r["undelivered"] for r in city] == [0, 1]


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sheet_rows(sheet: Any) -> list[dict[str, Any]]:
    values = list(sheet.iter_rows(values_only=True))
    names = values[2]
    return [dict(zip(names, line, strict=True)) for line in values[3:]]


async def test_the_monthly_report_has_a_city_wide_line(quarter: Quarter) -> None:
    page = await get(quarter, "/v1/reports/monthly", month="2026-11")
    assert page.headers["Edoc-Audit-Head"]
    html = await page.text()
    assert "Toàn thành phố" in html and "by=none" in html
