"""Two `edocgw serve` processes sharing RabbitMQ and PostgreSQL behave as one gateway."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.process import GatewayProcess
from tests.e2e.test_kill import each_recipient_holds_once, inbox_document_ids
from tests.factories import document_bytes
from tests.harness import BA_DINH, CITY, FINANCE, HOME_AFFAIRS, bearer
from tests.servers import RabbitVhost
from tests.servers import postgres_admin as postgres_admin  # a session fixture
from tests.servers import postgres_database as postgres_database  # a per-test fixture
from tests.servers import rabbitmq_fresh_vhost as rabbitmq_fresh_vhost  # a per-test fixture
from tests.waiting import eventually

RECIPIENTS = (CITY.id, HOME_AFFAIRS.id, BA_DINH.id)
SUBMIT = {**bearer(FINANCE.token), "Content-Type": "application/xml"}

Nodes = Callable[[int], Awaitable[list[GatewayProcess]]]


@pytest.fixture
async def nodes(
    tmp_path: Path, rabbitmq_fresh_vhost: RabbitVhost, postgres_database: str
) -> AsyncIterator[Nodes]:
    started: list[GatewayProcess] = []

    async def start(count: int) -> list[GatewayProcess]:
        made = []
        for n in range(count):
            workdir = tmp_path / f"node{len(started) + n}"
            workdir.mkdir()
            made.append(
                GatewayProcess(
                    workdir, bus_url=rabbitmq_fresh_vhost.url, database_url=postgres_database
                )
            )
        started.extend(made)
        await asyncio.gather(*(node.start() for node in made))  # they migrate at the same time
        return made

    yield start
    for node in started:
        node.stop()


async def submit(
    session: aiohttp.ClientSession, node: GatewayProcess, raw: bytes
) -> tuple[int, dict]:
    async with session.post(node.url + "/v1/documents", data=raw, headers=SUBMIT) as response:
        return response.status, await response.json(content_type=None)


async def test_submitted_through_one_node_fetched_through_the_other(nodes: Nodes) -> None:
    a, b = await nodes(2)
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id, HOME_AFFAIRS.id))
    async with aiohttp.ClientSession() as session:
        status, receipt = await submit(session, a, raw)
        assert status == 202, receipt
        city = bearer(CITY.token)

        async def listed() -> list[dict]:
            async with session.get(b.url + "/v1/inbox", headers=city) as response:
                return (await response.json())["items"]

        (item,) = await eventually(listed, lambda items: len(items) == 1, timeout=20)
        assert item["document_id"] == receipt["document_id"]
        url = f"{b.url}/v1/inbox/{item['delivery_id']}"
        async with session.get(url, headers=city) as response:
            assert response.status == 200
            assert await response.read() == raw
        async with session.post(url + "/ack", headers=city) as response:
            assert response.status == 204
        async with session.get(f"{a.url}/v1/documents/{receipt['id']}/trace", headers=city) as r:
            trace = await r.json()
        (row,) = trace["recipients"]
        assert [e["event"] for e in row["events"]][-1] == "acked"
        assert await listed() == []


async def test_the_same_document_sent_to_both_nodes_is_delivered_once(nodes: Nodes) -> None:
    a, b = await nodes(2)
    documents = [
        document_bytes(sender=FINANCE.id, recipients=RECIPIENTS, document_id=f"TWICE-{n}")
        for n in range(20)
    ]
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(
            *(submit(session, node, raw) for raw in documents for node in (a, b))
        )
        for first, second in zip(answers[::2], answers[1::2], strict=True):
            assert sorted([first[0], second[0]]) == [200, 202], (first, second)
            assert first[1]["id"] == second[1]["id"]
        want = sorted(f"TWICE-{n}" for n in range(20))
        for organ_id in RECIPIENTS:
            ids = await eventually(
                lambda organ_id=organ_id: inbox_document_ids(session, b.url, organ_id),
                lambda found: len(found) >= len(want),
                timeout=30,
            )
            assert sorted(ids) == want


async def submit_until_stopped(
    session: aiohttp.ClientSession,
    targets: list[GatewayProcess],
    worker: int,
    stop: asyncio.Event,
    accepted: list[str],
) -> None:
    for number in itertools.count():
        if stop.is_set():
            return
        node = targets[(worker + number) % len(targets)]
        document_id = f"N-{worker}-{number}"
        raw = document_bytes(sender=FINANCE.id, recipients=RECIPIENTS, document_id=document_id)
        try:
            status, _ = await submit(session, node, raw)
            if status == 202:
                accepted.append(document_id)
        except (TimeoutError, aiohttp.ClientError):
            await asyncio.sleep(0.05)


async def test_a_node_killed_mid_load_loses_and_duplicates_nothing(nodes: Nodes) -> None:
    a, b = await nodes(2)
    accepted: list[str] = []
    stop = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        workers = [
            asyncio.create_task(submit_until_stopped(session, [a, b], n, stop, accepted))
            for n in range(8)
        ]
        await eventually(lambda: asyncio.sleep(0, len(accepted)), lambda n: n >= 150, timeout=60)
        a.kill()
        before_kill = len(accepted)
        # The survivor goes on taking documents (those sent to the dead node fail).
        await eventually(
            lambda: asyncio.sleep(0, len(accepted)), lambda n: n >= before_kill + 50, timeout=60
        )
        stop.set()
        await asyncio.gather(*workers)
        print(f"accepted: {before_kill} before the kill, {len(accepted)} in all")
        await each_recipient_holds_once(session, b.url, accepted)


async def test_a_rolling_restart_under_load_loses_and_duplicates_nothing(nodes: Nodes) -> None:
    """Each node in turn is stopped as an orchestrator stops it (SIGTERM), must exit 0 within
    30 s, and is started again while the other takes the traffic."""
    a, b = await nodes(2)
    accepted: list[str] = []
    stop = asyncio.Event()

    def count() -> Awaitable[int]:
        return asyncio.sleep(0, len(accepted))

    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        workers = [
            asyncio.create_task(submit_until_stopped(session, [a, b], n, stop, accepted))
            for n in range(8)
        ]
        await eventually(count, lambda n: n >= 100, timeout=60)
        for node in (a, b):
            node.terminate()
            assert await node.exit_code(timeout=30) == 0
            during = len(accepted)
            await eventually(count, lambda n, during=during: n >= during + 30, timeout=60)
            await node.start(timeout=60)
            restarted = len(accepted)
            await eventually(count, lambda n, restarted=restarted: n >= restarted + 30, timeout=60)
        stop.set()
        await asyncio.gather(*workers)
        await each_recipient_holds_once(session, a.url, accepted)
