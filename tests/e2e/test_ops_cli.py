"""The operator's commands against a running gateway."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from gateway.cli.ops import QUEUE_COLUMNS, age
from tests.e2e.process import GatewayProcess
from tests.factories import document_bytes
from tests.harness import CITY, FINANCE, OPERATOR_TOKEN, bearer
from tests.waiting import eventually


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[GatewayProcess]:
    process = GatewayProcess(tmp_path)
    await process.start()
    yield process
    process.stop()


def edocgw(*args: str, token: str | None = OPERATOR_TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EDOCGW_TOKEN"}
    if token:
        env["EDOCGW_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, env=env
    )


async def test_queues_table_lists_every_agency_and_what_waits_uncollected(
    running: GatewayProcess,
) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    headers = {**bearer(FINANCE.token), "Content-Type": "application/xml"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(running.url + "/v1/documents", data=raw, headers=headers) as response,
    ):
        assert response.status == 202

    async def city_uncollected() -> int:
        ops = bearer(OPERATOR_TOKEN)
        async with (
            aiohttp.ClientSession() as http,
            http.get(running.ops_url + "/v1/ops/queues", headers=ops) as response,
        ):
            return sum(r["uncollected"] for r in await response.json() if r["agency"] == CITY.id)

    await eventually(city_uncollected, lambda n: n == 1)  # held in the inbox, not on the bus

    result = edocgw("queues", "--url", running.ops_url)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == list(QUEUE_COLUMNS)
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert sorted(rows) == sorted(
        ["000.00.00.H26", "000.00.13.H26", "000.00.16.H26", "H26.01", "000.00.00.G22"]
    )
    # agency, adapter, ready, in_flight, waiting_retry, dead, uncollected, its age, state...
    assert rows[CITY.id][:7] == [CITY.id, "mailbox", "0", "0", "0", "0", "1"]
    assert rows[CITY.id][7].endswith("s") and rows[CITY.id][8] == "up"
    assert rows[FINANCE.id][1:] == ["mailbox", "0", "0", "0", "0", "0", "up", "0"]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, ""),
        (59.9, "59s"),
        (61, "1m"),
        (3 * 3600 + 5 * 60, "3h05m"),
        (2 * 86400 + 4 * 3600, "2d04h"),
    ],
)
def test_ages_read_at_a_glance(seconds: float | None, shown: str) -> None:
    assert age(seconds) == shown


async def test_dlq_commands_answer_and_refuse_clearly(running: GatewayProcess) -> None:
    assert edocgw("dlq", "list", "--url", running.ops_url).returncode == 0
    missing = edocgw("dlq", "replay", "42", "--url", running.ops_url)
    assert missing.returncode != 0
    assert "404 not_found" in missing.stderr
    no_token = edocgw("queues", "--url", running.ops_url, token=None)
    assert no_token.returncode != 0
    assert "operator token" in no_token.stderr
