"""The operator's commands against a running gateway."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.process import GatewayProcess
from tests.harness import OPERATOR_TOKEN


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


async def test_queues_table_lists_every_agency(running: GatewayProcess) -> None:
    result = edocgw("queues", "--url", running.ops_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["agency", "ready", "in_flight", "dead", "oldest_age_s"]
    assert sorted(line.split()[0] for line in lines[2:]) == sorted(
        ["000.00.00.H26", "000.00.13.H26", "000.00.16.H26", "H26.01", "000.00.00.G22"]
    )


async def test_dlq_commands_answer_and_refuse_clearly(running: GatewayProcess) -> None:
    assert edocgw("dlq", "list", "--url", running.ops_url).returncode == 0
    missing = edocgw("dlq", "replay", "42", "--url", running.ops_url)
    assert missing.returncode != 0
    assert "404 not_found" in missing.stderr
    no_token = edocgw("queues", "--url", running.ops_url, token=None)
    assert no_token.returncode != 0
    assert "operator token" in no_token.stderr
