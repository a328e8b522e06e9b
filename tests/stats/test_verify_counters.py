"""`/v1/audit/verify` recounts the statistics from the log: a counter edited in the database is
named (agency, period, field), and the answer is no longer ok."""

from __future__ import annotations

import subprocess
import sys

from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, bearer
from tests.stats.conftest import Quarter


def differs(
    agency: str, period: str, field: str, *, stored: int, recounted: int
) -> dict[str, object]:
    """One counter of the answer's `mismatches`."""
    return {
        "agency": agency,
        "period": period,
        "field": field,
        "stored": stored,
        "recounted": recounted,
    }


async def verify(quarter: Quarter) -> dict[str, object]:
    response = await quarter.net.ops.get("/v1/audit/verify", headers=bearer(AUDITOR_TOKEN))
    assert response.status == 200
    body: dict[str, object] = await response.json()
    return body


async def test_verify_agrees_then_names_the_edited_counter(quarter: Quarter) -> None:
    before = await verify(quarter)
    assert (before["ok"], before["mismatches"]) == (True, [])

    await quarter.edit("UPDATE exchanges SET channel = 'paper' WHERE document_id = 'D-1'")
    after = await verify(quarter)
    assert after["ok"] is False
    assert after["head"] == before["head"]  # the chain itself is intact
    assert after["mismatches"] == [
        differs(FINANCE.id, "2026-10-05", "electronic", stored=0, recounted=1),
        differs(FINANCE.id, "2026-10-05", "paper", stored=1, recounted=0),
    ]


async def test_verify_names_a_removed_and_an_invented_counter(quarter: Quarter) -> None:
    await quarter.edit("DELETE FROM exchanges WHERE document_id = 'D-P'")
    await quarter.edit(
        "INSERT INTO exchanges (sender, document_id, recipient, channel, day, paper_copy) "
        f"VALUES ('{FINANCE.id}', 'X-9', 'H26.01', 'electronic', '2026-11-19', true)"
    )
    body = await verify(quarter)
    assert body["ok"] is False
    assert body["mismatches"] == [
        differs(FINANCE.id, "2026-11-02", "paper", stored=0, recounted=1),
        differs(FINANCE.id, "2026-11-19", "electronic", stored=1, recounted=0),
        differs(FINANCE.id, "2026-11-19", "with_paper_copy", stored=1, recounted=0),
    ]


async def test_verify_names_counters_of_an_agency_the_log_never_saw(quarter: Quarter) -> None:
    """The recount goes agency by agency through the log: an agency that appears only in the
    stored counters is compared too, and the answer stays in agency order."""
    await quarter.edit(
        "INSERT INTO exchanges (sender, document_id, recipient, channel, day, paper_copy) "
        f"VALUES ('{CITY.id}', 'X-1', '{FINANCE.id}', 'paper', '2026-11-19', false)"
    )
    await quarter.edit("UPDATE exchanges SET channel = 'secret' WHERE document_id = 'D-1'")
    body = await verify(quarter)
    assert body["mismatches"] == [
        differs(CITY.id, "2026-11-19", "paper", stored=1, recounted=0),
        differs(FINANCE.id, "2026-10-05", "electronic", stored=0, recounted=1),
        differs(FINANCE.id, "2026-10-05", "secret_excluded", stored=1, recounted=0),
    ]


async def test_edocgw_audit_verify_names_the_edited_counter(quarter: Quarter) -> None:
    command = [sys.executable, "-m", "gateway", "audit", "verify", "--config", str(quarter.config)]
    intact = subprocess.run(command, capture_output=True, text=True)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    await quarter.edit("UPDATE exchanges SET paper_copy = true WHERE document_id = 'D-2'")
    edited = subprocess.run(command, capture_output=True, text=True)
    assert edited.returncode == 1
    assert (
        f"counter differs: {FINANCE.id} 2026-11-10 with_paper_copy: "
        "stored 1, recounted from the log 0"
    ) in edited.stdout
