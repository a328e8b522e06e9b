"""The hash-chained audit log: every event recorded, and any edit of a stored entry found."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from gateway.store import SQLITE_FILE
from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import (
    AUDITOR_TOKEN,
    CITY,
    FINANCE,
    OPERATOR_TOKEN,
    bearer,
    config_toml,
)


async def audit_get(net: Net, path: str, **params: str) -> Any:
    response = await net.ops.get(path, params=params, headers=bearer(AUDITOR_TOKEN))
    assert response.status == 200, await response.text()
    return await response.json()


async def some_traffic(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id="A-1")
    assert (await net[FINANCE.id].submit(raw))[0] == 202
    [item] = await wait_inbox(net, CITY.id, 1)
    assert await net[CITY.id].ack(item["delivery_id"]) == 204
    bad = document_bytes(sender=CITY.id, recipients=(FINANCE.id,))
    assert (await net[FINANCE.id].submit(bad))[0] == 403


async def test_every_step_is_an_entry_chained_to_the_one_before(net: Net) -> None:
    await some_traffic(net)
    page = await audit_get(net, "/v1/audit/events", limit="100")
    events = page["events"]

    assert [e["event"] for e in events] == ["accepted", "delivered", "acked", "refused"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert events[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    assert events[3]["actor"] == FINANCE.id
    assert events[3]["data"]["code"] == "sender_mismatch"
    assert page["next"] is None
    verified = await audit_get(net, "/v1/audit/verify")
    assert verified == {"ok": True, "events": 4, "head": events[-1]["hash"], "mismatches": []}


async def test_events_page_with_after(net: Net) -> None:
    await some_traffic(net)
    first = await audit_get(net, "/v1/audit/events", limit="2")
    rest = await audit_get(net, "/v1/audit/events", after=str(first["next"]), limit="100")
    assert [e["seq"] for e in first["events"]] == [1, 2]
    assert first["next"] == 2
    assert [e["seq"] for e in rest["events"]] == [3, 4]


async def test_audit_calls_are_for_auditors_only(net: Net) -> None:
    for headers in ({}, bearer(OPERATOR_TOKEN), bearer(f"test-token-{CITY.id}")):
        response = await net.ops.get("/v1/audit/verify", headers=headers)
        assert response.status in (401, 403)
        assert (await response.json())["code"] in ("unauthorized", "forbidden")


def tamper(data_dir: Path, statement: str) -> None:
    with sqlite3.connect(data_dir / SQLITE_FILE) as conn:
        conn.execute(statement)


async def test_an_edited_entry_is_found_and_named(net: Net, tmp_path: Path) -> None:
    await some_traffic(net)
    tamper(tmp_path / "data", "UPDATE events SET data = replace(data, 'A-1', 'A-2') WHERE seq = 1")

    result = await audit_get(net, "/v1/audit/verify")
    assert result["ok"] is False
    assert result["events"] == 0
    assert result["first_bad"]["seq"] == 1
    assert "altered" in result["first_bad"]["problem"]


async def test_a_removed_entry_is_found_and_named(net: Net, tmp_path: Path) -> None:
    await some_traffic(net)
    tamper(tmp_path / "data", "DELETE FROM events WHERE seq = 2")

    result = await audit_get(net, "/v1/audit/verify")
    assert (result["ok"], result["events"], result["first_bad"]["seq"]) == (False, 1, 2)
    assert "removed" in result["first_bad"]["problem"]


async def test_reordered_entries_are_found(net: Net, tmp_path: Path) -> None:
    await some_traffic(net)
    for statement in (
        "UPDATE events SET seq = 1002 WHERE seq = 2",
        "UPDATE events SET seq = 2 WHERE seq = 3",
        "UPDATE events SET seq = 3 WHERE seq = 1002",
    ):
        tamper(tmp_path / "data", statement)

    result = await audit_get(net, "/v1/audit/verify")
    assert (result["ok"], result["first_bad"]["seq"]) == (False, 2)


async def test_edocgw_audit_verify_names_the_bad_entry(net: Net, tmp_path: Path) -> None:
    await some_traffic(net)
    config = tmp_path / "gateway.toml"
    config.write_text(
        config_toml(tmp_path / "data", listen="127.0.0.1:1", ops_listen="127.0.0.1:2")
    )
    command = [sys.executable, "-m", "gateway", "audit", "verify", "--config", str(config)]

    intact = subprocess.run(command, capture_output=True, text=True)
    assert intact.returncode == 0
    assert "audit log intact: 4 entries" in intact.stdout
    tamper(tmp_path / "data", "UPDATE events SET actor = '000.00.16.H26' WHERE seq = 3")
    broken = subprocess.run(command, capture_output=True, text=True)
    assert broken.returncode == 1
    assert "broken at entry 3" in broken.stdout
