"""`edocgw retention` as an operator runs it, and what a removed body leaves on disk: nothing."""

from __future__ import annotations

import asyncio
import base64
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.config import DatabaseSettings
from tests.conftest import Net
from tests.datafiles import files_holding
from tests.factories import attachment, document_bytes
from tests.harness import FINANCE, HOME_AFFAIRS, config_toml, free_port, make_settings
from tests.retention.conftest import MovingClock
from tests.retention.test_retention_http import delivered


async def edocgw(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


def write_config(tmp_path: Path, data_dir: Path, database_url: str = "sqlite") -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        config_toml(
            data_dir,
            listen=f"127.0.0.1:{free_port()}",
            ops_listen=f"127.0.0.1:{free_port()}",
            database_url=database_url,
        )
    )
    return path


async def test_dry_run_says_what_would_go_then_retention_removes_it_beyond_recovery(
    tmp_path: Path, net_factory: Callable[..., Awaitable[Net]]
) -> None:
    data_dir = tmp_path / "data"
    config = write_config(tmp_path, data_dir)
    # the documents went a year ago by the gateway's clock; the command runs today
    net = await net_factory(make_settings(data_dir), clock=MovingClock("2025-01-06T02:00:00"))
    secret_words = b"retention-marker-" + b"x" * 64
    needle = base64.b64encode(secret_words)
    raw = document_bytes(
        sender=FINANCE.id,
        recipients=(HOME_AFFAIRS.id,),
        attachments=[attachment(data=secret_words)],
    )
    assert needle in raw
    _, acked = await delivered(net, raw)
    assert await net[HOME_AFFAIRS.id].ack(acked) == 204
    other = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    _, waiting = await delivered(net, other)
    waiting_size = len(other)
    assert files_holding(data_dir, needle)  # the test can fail: the body is on disk

    code, out = await edocgw("retention", "--config", str(config), "--dry-run")
    assert code == 0, out
    assert f"would remove 1 of 2 stored bodies ({len(raw)} of {len(raw) + len(other)} bytes)" in out
    assert (await net[HOME_AFFAIRS.id].fetch(acked))[0] == 404  # nothing removed yet

    code, out = await edocgw("retention", "--config", str(config))
    assert code == 0, out
    said = out.splitlines()[-1]  # after the log lines
    assert said.startswith("removed 1 bodies of messages finished before"), out
    assert said.endswith(f"; 1 bodies ({waiting_size} bytes) remain"), out
    assert (await net[HOME_AFFAIRS.id].fetch(acked))[0] == 410
    assert (await net[HOME_AFFAIRS.id].fetch(waiting))[0] == 200
    assert files_holding(data_dir, needle) == []


async def test_retention_refuses_too_short_a_metadata_life(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path / "data")
    config.write_text(config.read_text() + "[retention]\nmetadata_days = 365\n")
    code, out = await edocgw("retention", "--config", str(config), "--dry-run")
    assert code != 0
    assert "retention.metadata_days: Value error, must be at least 732" in out


async def test_retention_on_postgresql(
    tmp_path: Path, net_factory: Callable[..., Awaitable[Net]], postgres_database: str
) -> None:
    config = write_config(tmp_path, tmp_path / "data", postgres_database)
    settings = make_settings(tmp_path / "data", database=DatabaseSettings(url=postgres_database))
    net = await net_factory(settings, clock=MovingClock("2025-01-06T02:00:00"))
    _, acked = await delivered(
        net, document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    )
    assert await net[HOME_AFFAIRS.id].ack(acked) == 204
    code, out = await edocgw("retention", "--config", str(config))
    assert code == 0, out
    assert out.splitlines()[-1].startswith("removed 1 bodies"), out
    assert (await net[HOME_AFFAIRS.id].fetch(acked))[0] == 410
