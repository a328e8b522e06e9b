"""Statistics answer a bounded number of rows: out-of-range dates and huge tables are 400."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_refusals import assert_problem
from tests.conftest import Net
from tests.harness import AGENCIES, AUDITOR_TOKEN, FINANCE, bearer, config_toml


async def mine(net: Net, query: str) -> tuple[int, Any]:
    response = await net.client.get(f"/v1/stats/mine?{query}", headers=net[FINANCE.id].headers)
    return response.status, await response.json(content_type=None)


async def audited(net: Net, path: str) -> tuple[int, Any]:
    response = await net.ops.get(path, headers=bearer(AUDITOR_TOKEN))
    body = await response.json(content_type=None) if response.status != 200 else None
    return response.status, body


async def test_the_issues_agency_request_is_refused_naming_the_range(net: Net) -> None:
    status, body = await mine(net, "from=0026-01-01&to=2025-12-31&period=day")
    assert_problem(status, body, 400, "bad_request")
    assert body["detail"] == "from=0026-01-01: give a date from 2000-01-01 to 9998-12-31"


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        (
            "/v1/stats/exchanges?from=0001-01-01&to=9998-12-31&period=day",
            "from=0001-01-01: give a date from 2000-01-01 to 9998-12-31",
        ),
        (
            "/v1/stats/exchanges?from=2026-01-01&to=9999-12-31",
            "to=9999-12-31: give a date from 2000-01-01 to 9998-12-31",
        ),
        ("/v1/stats/exchanges?to=10000-01-01", "to='10000-01-01': give a date as YYYY-MM-DD"),
        (
            "/v1/reports/monthly?month=9999-12",
            "month=9999-12: give a month from 2000-01 to 9998-12",
        ),
        ("/v1/reports/monthly?month=10000-01", "month='10000-01': give a month as YYYY-MM"),
        (
            "/v1/stats/exchanges?from=2000-01-01&to=9998-12-31&period=day",
            f"from=2000-01-01 to=9998-12-31 by day and by agency makes {2_921_575 * len(AGENCIES)} "
            "rows; at most 100000 rows (periods x subjects) per answer: narrow the dates or use a "
            "longer period",
        ),
    ],
)
async def test_the_auditors_unbounded_requests_are_refused(
    net: Net, path: str, detail: str
) -> None:
    status, body = await audited(net, path)
    assert_problem(status, body, 400, "bad_request")
    assert body["detail"] == detail


async def test_a_whole_range_by_year_and_a_year_by_day_still_answer(net: Net) -> None:
    status, _ = await audited(net, "/v1/stats/exchanges?from=2000-01-01&to=9998-12-31&period=year")
    assert status == 200
    response = await net.ops.get(
        "/v1/stats/exchanges?from=2026-01-01&to=2026-12-31&period=day&by=agency",
        headers=bearer(AUDITOR_TOKEN),
    )
    rows = await response.json()
    assert len(rows) == 365 * len(AGENCIES)
    assert {row["agency"] for row in rows} == {a.id for a in AGENCIES}
    status, body = await mine(net, "from=2026-01-01&to=2026-03-31&period=month")
    assert status == 200
    assert [row["period"] for row in body] == ["2026-01", "2026-02", "2026-03"]
    response = await net.ops.get("/v1/reports/monthly?month=2026-02", headers=bearer(AUDITOR_TOKEN))
    assert response.status == 200


def test_edocgw_stats_refuses_the_same_ranges(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        config_toml(tmp_path / "data", listen="127.0.0.1:1", ops_listen="127.0.0.1:2")
    )
    command = [sys.executable, "-m", "gateway", "stats", "--config", str(config)]
    refused = subprocess.run(
        [*command, "--from", "0001-01-01", "--to", "9998-12-31", "--period", "day"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert refused.stderr.strip() == (
        "edocgw stats: from=0001-01-01: give a date from 2000-01-01 to 9998-12-31"
    )
