"""A two-month story across a Vietnam month boundary, and the table an auditor must get for it.

The expected tables are written by hand from the counting rules (DESIGN §6); the API (JSON and
CSV), `/v1/stats/mine` and `edocgw stats` must all give them.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document_bytes, status_bytes
from tests.harness import (
    AGENCIES,
    AUDITOR_TOKEN,
    BA_DINH,
    CITY,
    FINANCE,
    GOV_OFFICE,
    HOME_AFFAIRS,
    bearer,
    config_toml,
    make_settings,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def at(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


T1 = "2026-01-15T03:00:00"  # 10:00 on 15 January in Hà Nội
T2 = "2026-01-31T16:30:00"  # 23:30 on 31 January in Hà Nội
T3 = "2026-01-31T17:30:00"  # 00:30 on 1 February in Hà Nội, still January in UTC
T4 = "2026-02-10T05:00:00"

OTHERS_OF_CITY = (FINANCE.id, HOME_AFFAIRS.id, BA_DINH.id, GOV_OFFICE.id)

# By agency and month, 2026-01-01 to 2026-02-28. Target 0.9.
#   G22 (central): nothing.  H26 (city): Jan 10 electronic (C-1 x2, C-2 x4, C-3 x4), 1 paper
#   (C-P1), 3 secret (S-1 to three agencies, sent twice); Feb 1 secret (S-2 at T3).
#   STC (finance): Jan F-1 x2 + F-2 (paper copy) = 3 electronic, paper F-P1 (the paper F-1 to
#   the city overlaps its electronic send); Feb F-3 x2 (T3), F-4 (replacement), F-5 (declared on
#   paper first, then sent) = 4 electronic; paper F-P2 x2; revoke, update, F-3's replacement
#   under the same DocumentId, resends and statuses count nothing.
#   SNV (home affairs): Feb H-P1 on paper.  Ba Đình: only a status.
BY_AGENCY = [
    ("000.00.00.G22", "2026-01", 0, 0, 0, 0, None, None),
    ("000.00.00.G22", "2026-02", 0, 0, 0, 0, None, None),
    ("000.00.00.H26", "2026-01", 10, 1, 3, 0, 0.909091, True),
    ("000.00.00.H26", "2026-02", 0, 0, 1, 0, None, None),
    ("000.00.13.H26", "2026-01", 3, 1, 0, 1, 0.75, False),
    ("000.00.13.H26", "2026-02", 4, 2, 0, 0, 0.666667, False),
    ("000.00.16.H26", "2026-01", 0, 0, 0, 0, None, None),
    ("000.00.16.H26", "2026-02", 0, 1, 0, 0, 0.0, False),
    ("H26.01", "2026-01", 0, 0, 0, 0, None, None),
    ("H26.01", "2026-02", 0, 0, 0, 0, None, None),
]
BY_GROUP = [
    ("central", "2026-01", 0, 0, 0, 0, None, None),
    ("central", "2026-02", 0, 0, 0, 0, None, None),
    ("city", "2026-01", 10, 1, 3, 0, 0.909091, True),
    ("city", "2026-02", 0, 0, 1, 0, None, None),
    ("department", "2026-01", 3, 1, 0, 1, 0.75, False),
    ("department", "2026-02", 4, 3, 0, 0, 0.571429, False),
    ("district", "2026-01", 0, 0, 0, 0, None, None),
    ("district", "2026-02", 0, 0, 0, 0, None, None),
]
CITY_WIDE_QUARTER = [("2026-Q1", 17, 5, 4, 1, 0.772727, False)]
HEADER = (
    "agency,name,group,period,from,to,electronic,paper,secret_excluded,with_paper_copy,"
    "undelivered,ratio,target,meets_target"
)
JAN, FEB = "2026-01-01,2026-01-31", "2026-02-01,2026-02-28"
BY_AGENCY_CSV = f"""{HEADER}
000.00.00.G22,Văn phòng Chính phủ,central,2026-01,{JAN},0,0,0,0,0,,0.9,
000.00.00.G22,Văn phòng Chính phủ,central,2026-02,{FEB},0,0,0,0,0,,0.9,
000.00.00.H26,UBND Thành phố Hà Nội,city,2026-01,{JAN},10,1,3,0,0,0.909091,0.9,true
000.00.00.H26,UBND Thành phố Hà Nội,city,2026-02,{FEB},0,0,1,0,0,,0.9,
000.00.13.H26,Sở Tài chính,department,2026-01,{JAN},3,1,0,1,0,0.75,0.9,false
000.00.13.H26,Sở Tài chính,department,2026-02,{FEB},4,2,0,0,0,0.666667,0.9,false
000.00.16.H26,Sở Nội vụ,department,2026-01,{JAN},0,0,0,0,0,,0.9,
000.00.16.H26,Sở Nội vụ,department,2026-02,{FEB},0,1,0,0,0,0.0,0.9,false
H26.01,UBND Quận Ba Đình,district,2026-01,{JAN},0,0,0,0,0,,0.9,
H26.01,UBND Quận Ba Đình,district,2026-02,{FEB},0,0,0,0,0,,0.9,
"""
# The days each period's row covers within 2026-01-01..2026-02-28.
SPANS = {
    "2026-01": ("2026-01-01", "2026-01-31"),
    "2026-02": ("2026-02-01", "2026-02-28"),
    "2026-Q1": ("2026-01-01", "2026-02-28"),
}
ORGS = {org.id: org for org in AGENCIES}


def rows(table: list[tuple[Any, ...]], by: str) -> list[dict[str, Any]]:
    names = ["electronic", "paper", "secret_excluded", "with_paper_copy"]
    result = []
    for line in table:
        subject, values = (None, line) if by == "none" else (line[0], line[1:])
        row: dict[str, Any] = {} if subject is None else {by: subject}
        if by == "agency":
            row |= {"name": ORGS[str(subject)].name, "group": ORGS[str(subject)].group}
        period = values[0]
        row |= {"period": period, "from": SPANS[period][0], "to": SPANS[period][1]}
        row |= dict(zip(names, values[1:5], strict=True))
        row |= {"undelivered": 0, "ratio": values[5], "target": 0.9, "meets_target": values[6]}
        result.append(row)
    return result


async def send(net: Net, clock: FakeClock, when: str, sender: str, **kw: Any) -> int:
    clock.at(when)
    headers = {"Edoc-Secrecy": kw.pop("secrecy")} if "secrecy" in kw else {}
    status, _ = await net[sender].submit(document_bytes(sender=sender, **kw), **headers)
    return status


async def paper(net: Net, clock: FakeClock, sender: str, body: Any) -> int:
    clock.at(T4)
    response = await net.client.post("/v1/paper-dispatches", json=body, headers=net[sender].headers)
    return response.status


async def play_story(net: Net, clock: FakeClock) -> None:
    f1 = document_bytes(sender=FINANCE.id, recipients=(CITY.id, HOME_AFFAIRS.id), document_id="F-1")
    clock.at(T1)
    assert (await net[FINANCE.id].submit(f1))[0] == 202
    assert (await net[FINANCE.id].submit(f1))[0] == 200  # a resend counts once
    assert (
        await send(net, clock, T2, FINANCE.id, recipients=(CITY.id,), document_id="F-2", paper=True)
        == 202
    )
    assert (
        await send(net, clock, T3, FINANCE.id, recipients=(CITY.id, BA_DINH.id), document_id="F-3")
        == 202
    )
    for business_type in (1, 2):  # revoke and update F-1: routed, not counted
        assert (
            await send(
                net,
                clock,
                T3,
                FINANCE.id,
                recipients=(CITY.id, HOME_AFFAIRS.id),
                document_id="F-1",
                business_type=business_type,
            )
            == 202
        )
    assert (
        await send(
            net, clock, T4, FINANCE.id, recipients=(CITY.id,), document_id="F-4", business_type=3
        )
        == 202
    )
    assert (
        await send(
            net, clock, T4, FINANCE.id, recipients=(CITY.id,), document_id="F-3", business_type=3
        )
        == 202
    )  # replaces F-3 under its own DocumentId
    assert (
        await paper(
            net,
            clock,
            FINANCE.id,
            {"document_id": "F-5", "recipients": [CITY.id], "dispatched_on": "2026-02-05"},
        )
        == 201
    )
    assert await send(net, clock, T4, FINANCE.id, recipients=(CITY.id,), document_id="F-5") == 202
    assert (
        await paper(
            net,
            clock,
            FINANCE.id,
            [
                {"document_id": "F-1", "recipients": [CITY.id], "dispatched_on": "2026-01-20"},
                {
                    "document_id": "F-P1",
                    "recipients": [GOV_OFFICE.id],
                    "dispatched_on": "2026-01-20",
                },
                {
                    "document_id": "F-P2",
                    "recipients": [GOV_OFFICE.id, HOME_AFFAIRS.id],
                    "dispatched_on": "2026-02-03",
                },
            ],
        )
        == 201
    )
    assert (
        await paper(
            net,
            clock,
            FINANCE.id,
            {"document_id": "F-P1", "recipients": [GOV_OFFICE.id], "dispatched_on": "2026-01-20"},
        )
        == 201
    )  # idempotent

    assert (
        await send(net, clock, T1, CITY.id, recipients=(BA_DINH.id, FINANCE.id), document_id="C-1")
        == 202
    )
    for number, when in (("C-2", T1), ("C-3", T2)):
        assert (
            await send(net, clock, when, CITY.id, recipients=OTHERS_OF_CITY, document_id=number)
            == 202
        )
    assert (
        await paper(
            net,
            clock,
            CITY.id,
            {"document_id": "C-P1", "recipients": [GOV_OFFICE.id], "dispatched_on": "2026-01-10"},
        )
        == 201
    )
    for _ in range(2):  # refused twice, excluded once per recipient
        assert (
            await send(
                net,
                clock,
                T2,
                CITY.id,
                recipients=(FINANCE.id, HOME_AFFAIRS.id, BA_DINH.id),
                document_id="S-1",
                secrecy="mat",
            )
            == 422
        )
    assert (
        await send(
            net,
            clock,
            T3,
            CITY.id,
            recipients=(GOV_OFFICE.id,),
            document_id="S-2",
            subject="TỐI MẬT - Phương án bảo vệ",
        )
        == 422
    )

    assert (
        await paper(
            net,
            clock,
            HOME_AFFAIRS.id,
            {"document_id": "H-P1", "recipients": [CITY.id], "dispatched_on": "2026-02-09"},
        )
        == 201
    )
    await wait_inbox(net, BA_DINH.id, 1)
    clock.at(T4)
    status = status_bytes(sender=BA_DINH.id, response_for_sender=FINANCE.id, document_id="F-3")
    assert (await net[BA_DINH.id].send_status(status))[0] == 202


@pytest.fixture
async def story(net_factory: Any, tmp_path: Path) -> Net:
    clock = FakeClock()
    net: Net = await net_factory(make_settings(tmp_path / "data"), clock=clock)
    await play_story(net, clock)
    return net


async def stats(net: Net, **params: str) -> Any:
    query = {"from": "2026-01-01", "to": "2026-02-28", "period": "month", **params}
    response = await net.ops.get("/v1/stats/exchanges", params=query, headers=bearer(AUDITOR_TOKEN))
    assert response.status == 200, await response.text()
    if params.get("format") == "csv":
        assert response.content_type == "text/csv"
        text = await response.text()
        body, _, stamp = text.rstrip("\n").rpartition("\n")
        assert stamp.startswith(f"# audit_head={response.headers['Edoc-Audit-Head']} ")
        return body + "\n"
    return await response.json()


async def test_the_auditor_gets_the_hand_written_tables(story: Net) -> None:
    assert await stats(story, by="agency") == rows(BY_AGENCY, "agency")
    assert await stats(story, by="group") == rows(BY_GROUP, "group")
    assert await stats(story, by="none", period="quarter") == rows(CITY_WIDE_QUARTER, "none")
    assert await stats(story, by="agency", format="csv") == BY_AGENCY_CSV


async def test_an_agency_reads_only_its_own_rows(story: Net) -> None:
    response = await story.client.get(
        "/v1/stats/mine",
        params={"from": "2026-01-01", "to": "2026-02-28"},
        headers=story[FINANCE.id].headers,
    )
    assert response.status == 200
    expected = [row for row in rows(BY_AGENCY, "agency") if row["agency"] == FINANCE.id]
    assert await response.json() == expected


async def test_edocgw_stats_prints_the_same_table(story: Net, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        config_toml(tmp_path / "data", listen="127.0.0.1:1", ops_listen="127.0.0.1:2")
    )
    command = [
        sys.executable,
        "-m",
        "gateway",
        "stats",
        "--config",
        str(config),
        "--from",
        "2026-01-01",
        "--to",
        "2026-02-28",
        "--period",
        "month",
    ]
    csv_out = subprocess.run([*command, "--csv"], capture_output=True, text=True, check=True)
    assert csv_out.stdout == BY_AGENCY_CSV
    table = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finance_february = [
        line
        for line in table.splitlines()
        if line.startswith("000.00.13.H26") and "2026-02 " in line
    ]
    assert len(finance_february) == 1 and "Sở Tài chính" in finance_february[0]
    assert "0.6667" in finance_february[0]
    recompute = subprocess.run([*command, "--recompute"], capture_output=True, text=True)
    assert recompute.returncode == 0, recompute.stdout
    assert "agree with the audit log: 26 exchanges" in recompute.stdout
