"""SIGTERM while documents pour in: `edocgw serve` finishes what it accepted and exits 0 within
30 s; what it answered 202 is delivered once (after a restart on the same data), and what
arrives after the signal is refused (connection refused, or 503), never accepted and lost."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.process import GatewayProcess
from tests.e2e.test_kill import RECIPIENTS, each_recipient_holds_once
from tests.factories import document_bytes
from tests.harness import FINANCE, bearer
from tests.waiting import eventually

REFUSED = "refused"  # no connection, or the connection closed without an answer


@dataclass
class Load:
    """What the senders saw: each answer, and whether it was asked before or after SIGTERM."""

    signalled: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    accepted: list[str] = field(default_factory=list)
    before: collections.Counter[str] = field(default_factory=collections.Counter)
    after: collections.Counter[str] = field(default_factory=collections.Counter)


async def send(session: aiohttp.ClientSession, url: str, worker: int, load: Load) -> None:
    number = 0
    headers = {**bearer(FINANCE.token), "Content-Type": "application/xml"}
    while not load.stop.is_set():
        document_id = f"T-{worker}-{number}"
        number += 1
        raw = document_bytes(sender=FINANCE.id, recipients=RECIPIENTS, document_id=document_id)
        counter = load.after if load.signalled.is_set() else load.before
        try:
            async with session.post(url + "/v1/documents", data=raw, headers=headers) as response:
                outcome = str(response.status)
        except (TimeoutError, aiohttp.ClientError):
            outcome = REFUSED
        counter[outcome] += 1
        if outcome == "202":
            load.accepted.append(document_id)
        elif outcome == REFUSED:
            await asyncio.sleep(0.02)


@pytest.fixture
async def gateway_process(tmp_path: Path) -> AsyncIterator[GatewayProcess]:
    process = GatewayProcess(tmp_path)
    yield process
    process.stop()


async def test_sigterm_mid_load_finishes_what_it_accepted_and_refuses_the_rest(
    gateway_process: GatewayProcess,
) -> None:
    await gateway_process.start()
    load = Load()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        senders = [
            asyncio.create_task(send(session, gateway_process.url, n, load)) for n in range(8)
        ]
        await eventually(
            lambda: asyncio.sleep(0, len(load.accepted)), lambda n: n >= 100, timeout=60
        )
        load.signalled.set()
        gateway_process.terminate()
        assert await gateway_process.exit_code(timeout=30) == 0
        # the process is gone: what the senders try now is refused
        await eventually(lambda: asyncio.sleep(0, load.after[REFUSED]), lambda n: n >= 8)
        load.stop.set()
        await asyncio.gather(*senders)
        print(f"before SIGTERM: {dict(load.before)}; after: {dict(load.after)}")
        assert set(load.before) == {"202"}
        assert set(load.after) <= {"202", "503", REFUSED}
        assert '"event": "stopped"' in gateway_process.log.read_text()

        await gateway_process.start()
        await each_recipient_holds_once(session, gateway_process.url, load.accepted)


async def test_readyz_says_stopping_while_the_listener_finishes_a_request(
    gateway_process: GatewayProcess,
) -> None:
    """A load balancer asking /readyz during the drain is told to send traffic elsewhere."""
    await gateway_process.start()
    ops = gateway_process.ops_url
    # A submission whose body is still arriving: the drain waits for it.
    _, writer = await asyncio.open_connection("127.0.0.1", gateway_process.port)
    writer.write(
        b"POST /v1/documents HTTP/1.1\r\nHost: gateway\r\n"
        + f"Authorization: Bearer {FINANCE.token}\r\n".encode()
        + b"Content-Type: application/xml\r\nContent-Length: 100000\r\n\r\n<?xml"
    )
    await writer.drain()

    async def readyz(session: aiohttp.ClientSession) -> tuple[int, dict]:
        async with session.get(ops + "/readyz") as response:
            return response.status, await response.json()

    async with aiohttp.ClientSession() as session:
        assert await readyz(session) == (200, {"status": "ready"})
        gateway_process.terminate()
        _, body = await eventually(
            lambda: readyz(session), lambda answer: answer[0] == 503, timeout=10
        )
    assert body == {
        "status": "unavailable",
        "failing": ["stopping"],
        "reasons": {
            "stopping": "the gateway is stopping (SIGTERM): it finishes what is in flight and "
            "takes nothing new"
        },
    }
    writer.close()
    assert await gateway_process.exit_code(timeout=30) == 0
