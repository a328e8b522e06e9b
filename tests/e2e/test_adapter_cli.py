"""`edocgw adapters` against a running gateway: which agency it backs off from, and the reset."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.e2e.process import GatewayProcess
from tests.e2e.test_ops_cli import edocgw
from tests.factories import document_bytes
from tests.harness import CITY, FINANCE, bearer, free_port
from tests.waiting import eventually

SECRET = "cli-test-secret-0123456789abcdef-0123"


async def test_adapters_table_shows_the_backoff_and_reset_ends_it(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/edoc"
    gateway = GatewayProcess(
        tmp_path,
        deliveries={
            CITY.id: {
                "adapter": "webhook",
                "name": "hn-hook",
                "url": nowhere,
                "hmac_secret": SECRET,
            }
        },
    )
    await gateway.start()
    try:
        async with aiohttp.ClientSession() as http:
            raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
            headers = {**bearer(FINANCE.token), "Content-Type": "application/xml"}
            async with http.post(gateway.url + "/v1/documents", data=raw, headers=headers) as r:
                assert r.status == 202

        async def table() -> tuple[int, str]:
            result = await asyncio.to_thread(edocgw, "adapters", "--url", gateway.ops_url)
            return result.returncode, result.stdout

        _, out = await eventually(table, lambda found: found[0] == 1)
        lines = out.splitlines()
        assert lines[0].split() == [
            "instance",
            "agency",
            "adapter",
            "state",
            "failures",
            "retry_at",
            "last_error",
        ]
        [row] = [line for line in lines if line.startswith("hn-hook")]
        assert row.split()[1:4] == [CITY.id, "webhook", "backing_off"]
        assert "cannot reach the receiver" in row
        assert SECRET not in out
        reset = await asyncio.to_thread(
            edocgw, "adapters", "reset", CITY.id, "--url", gateway.ops_url
        )
        assert (reset.returncode, reset.stdout) == (0, "reset hn-hook: up\n")
        unknown = await asyncio.to_thread(
            edocgw, "adapters", "reset", "000.00.00.Z99", "--url", gateway.ops_url
        )
        assert unknown.returncode != 0
        assert "404 not_found" in unknown.stderr
    finally:
        gateway.stop()
    assert SECRET not in gateway.log.read_text()
