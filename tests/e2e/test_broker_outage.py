"""RabbitMQ stops and starts again under load (`rabbitmqctl stop_app` / `start_app`).

The chosen behaviour (docs/rabbitmq.md): while the broker is away, new submissions are refused
with `503 unavailable` (nothing is recorded) and `/readyz` answers 503; when it is back the
gateway reconnects by itself, and every document that got a 202, before or after, arrives once.
The broker is always started again, whatever happens to the test.
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.process import GatewayProcess
from tests.e2e.test_kill import each_recipient_holds_once
from tests.factories import document_bytes
from tests.harness import BA_DINH, CITY, FINANCE, bearer
from tests.servers import RabbitVhost, rabbitmqctl
from tests.servers import postgres_admin as postgres_admin  # a session fixture
from tests.servers import postgres_database as postgres_database  # a per-test fixture
from tests.servers import rabbitmq_fresh_vhost as rabbitmq_fresh_vhost  # a per-test fixture
from tests.waiting import eventually

RECIPIENTS = (CITY.id, BA_DINH.id)
LOCK = Path(tempfile.gettempdir()) / "edocgw-test-broker-outage.lock"
SUBMIT = {**bearer(FINANCE.token), "Content-Type": "application/xml"}


@pytest.fixture
def broker_control(rabbitmq_fresh_vhost: RabbitVhost) -> Iterator[None]:
    """Set up after the virtual host, so that the broker is started again before the virtual
    host is deleted."""
    if shutil.which("rabbitmqctl") is None:
        if os.environ.get("CI"):
            pytest.fail("rabbitmqctl is needed to stop and start the broker (CI never skips)")
        pytest.skip("rabbitmqctl is needed to stop and start the broker")
    # Test sessions running at once on this machine take turns at stopping its broker.
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            rabbitmqctl("start_app", timeout=120)  # idempotent: leave the broker running
            rabbitmqctl("await_startup", timeout=120)


@pytest.fixture
async def gateway(
    tmp_path: Path, rabbitmq_fresh_vhost: RabbitVhost, postgres_database: str
) -> AsyncIterator[GatewayProcess]:
    process = GatewayProcess(
        tmp_path, bus_url=rabbitmq_fresh_vhost.url, database_url=postgres_database
    )
    await process.start()
    yield process
    assert process.stop() == 0, process.log.read_text()[-3000:]


class Load:
    """Submitters that record every answer, in order, by phase."""

    def __init__(self, gateway: GatewayProcess) -> None:
        self.gateway = gateway
        self.phase = "before"
        self.answers: collections.Counter[tuple[str, int | str]] = collections.Counter()
        self.accepted: list[str] = []
        self.refusal_codes: set[str] = set()
        self._serial = itertools.count()

    async def run(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        while not stop.is_set():
            document_id = f"O-{next(self._serial)}"
            raw = document_bytes(sender=FINANCE.id, recipients=RECIPIENTS, document_id=document_id)
            phase = self.phase
            try:
                async with session.post(
                    self.gateway.url + "/v1/documents", data=raw, headers=SUBMIT
                ) as response:
                    body = await response.json(content_type=None)
                    status = response.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.answers[(phase, type(exc).__name__)] += 1
                continue
            self.answers[(phase, status)] += 1
            if status == 202:
                self.accepted.append(document_id)
            elif status == 503:
                self.refusal_codes.add(body["code"])
                await asyncio.sleep(0.02)


async def ready_status(session: aiohttp.ClientSession, gateway: GatewayProcess) -> int:
    async with session.get(gateway.ops_url + "/readyz") as response:
        return response.status


@pytest.mark.timeout(300)  # the broker takes seconds to stop and start, more on a busy machine
async def test_submissions_are_refused_while_the_broker_is_away_and_nothing_is_lost(
    broker_control: None, gateway: GatewayProcess
) -> None:
    load = Load(gateway)
    stop = asyncio.Event()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        workers = [asyncio.create_task(load.run(session, stop)) for _ in range(4)]
        await eventually(lambda: asyncio.sleep(0, len(load.accepted)), lambda n: n >= 50)

        load.phase = "stopping"
        await asyncio.to_thread(rabbitmqctl, "stop_app", timeout=120)
        load.phase = "away"
        await eventually(lambda: ready_status(session, gateway), lambda s: s == 503, timeout=10)
        await eventually(
            lambda: asyncio.sleep(0, load.answers[("away", 503)]), lambda n: n >= 20, timeout=10
        )
        # nothing sent while the broker is away is accepted (a request sent while it was
        # stopping may still be answered 202 now: its claims were confirmed before the stop)
        assert load.answers[("away", 202)] == 0

        load.phase = "starting"
        await asyncio.to_thread(rabbitmqctl, "start_app", timeout=120)
        load.phase = "back"
        await eventually(lambda: ready_status(session, gateway), lambda s: s == 200, timeout=60)
        await eventually(
            lambda: asyncio.sleep(0, load.answers[("back", 202)]), lambda n: n >= 50, timeout=60
        )
        stop.set()
        await asyncio.gather(*workers)

        print(f"answers by phase: {dict(load.answers)}")
        assert load.refusal_codes == {"unavailable"}
        assert {status for phase, status in load.answers if phase == "away"} == {503}
        await each_recipient_holds_once(session, gateway.url, load.accepted, RECIPIENTS)
