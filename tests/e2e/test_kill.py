"""SIGKILL while documents pour in: what got 202 arrives everywhere, exactly once."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.process import GatewayProcess
from tests.factories import document_bytes
from tests.harness import BA_DINH, CITY, FINANCE, HOME_AFFAIRS, bearer
from tests.waiting import eventually

RECIPIENTS = (CITY.id, HOME_AFFAIRS.id, BA_DINH.id)


@pytest.fixture
async def gateway_process(tmp_path: Path) -> AsyncIterator[GatewayProcess]:
    process = GatewayProcess(tmp_path)
    yield process
    process.stop()


async def submit_until_stopped(
    session: aiohttp.ClientSession, url: str, worker: int, stop: asyncio.Event, accepted: list[str]
) -> None:
    number = 0
    while not stop.is_set():
        document_id = f"K-{worker}-{number}"
        number += 1
        raw = document_bytes(sender=FINANCE.id, recipients=RECIPIENTS, document_id=document_id)
        headers = {**bearer(FINANCE.token), "Content-Type": "application/xml"}
        try:
            async with session.post(url + "/v1/documents", data=raw, headers=headers) as response:
                if response.status == 202:
                    accepted.append(document_id)
        except (TimeoutError, aiohttp.ClientError):
            await asyncio.sleep(0.05)


async def inbox_document_ids(session: aiohttp.ClientSession, url: str, organ_id: str) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        params = {"limit": "1000", **({"after": after} if after else {})}
        headers = bearer(f"test-token-{organ_id}")
        async with session.get(url + "/v1/inbox", params=params, headers=headers) as response:
            page = await response.json()
        ids += [item["document_id"] for item in page["items"]]
        after = page["next"]
        if after is None:
            return ids


async def each_recipient_holds_once(
    session: aiohttp.ClientSession,
    url: str,
    accepted: list[str],
    recipients: tuple[str, ...] = RECIPIENTS,
) -> None:
    """Every document answered 202 reaches each recipient's inbox, and none twice."""
    acknowledged = set(accepted)
    assert len(acknowledged) == len(accepted)
    for organ_id in recipients:
        ids = await eventually(
            lambda organ_id=organ_id: inbox_document_ids(session, url, organ_id),
            lambda found: acknowledged <= set(found),
            timeout=60,
        )
        duplicated = [i for i, n in collections.Counter(ids).items() if n > 1]
        assert duplicated == [], f"{organ_id} holds duplicates: {duplicated[:5]}"


async def test_sigkill_mid_load_loses_and_duplicates_nothing(
    gateway_process: GatewayProcess,
) -> None:
    await gateway_process.start()
    accepted: list[str] = []
    stop = asyncio.Event()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        workers = [
            asyncio.create_task(
                submit_until_stopped(session, gateway_process.url, n, stop, accepted)
            )
            for n in range(8)
        ]
        await eventually(lambda: asyncio.sleep(0, len(accepted)), lambda n: n >= 150, timeout=60)
        gateway_process.kill()
        await asyncio.sleep(0.3)  # requests in flight at the kill fail now
        stop.set()
        await asyncio.gather(*workers)
        assert len(set(accepted)) >= 150
        print(f"accepted before the kill: {len(accepted)}")

        await gateway_process.start()
        await each_recipient_holds_once(session, gateway_process.url, accepted)
