"""Fixtures of the bus contract suite: every contract test runs against each implementation.

Contract tests see a bus only through the `Bus` protocol and `bus_factory`. To add an
implementation, add its name to `IMPLEMENTATIONS` and an opener to `_openers` below.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from gateway.bus.amqp.bus import RabbitBus, RabbitTuning
from gateway.bus.amqp.topology import Topology
from gateway.bus.base import Bus, ReceivedMessage, RetryPolicy
from gateway.bus.local.bus import LocalBus, LocalBusTuning
from tests.servers import RabbitVhost, delete_queues
from tests.servers import rabbitmq_vhost as rabbitmq_vhost  # a session fixture

IMPLEMENTATIONS = ["local", "amqp"]

# Fast retries so that dead-lettering takes milliseconds; tests that care pass their own policy.
FAST_RETRY = RetryPolicy(max_attempts=5, initial_delay_s=0.02, max_delay_s=0.1, jitter=0.0)

# How long closing waits for running handlers before abandoning them (their messages stay).
CLOSE_GRACE_S = 1.0

WAIT_S = 10.0  # upper bound of every wait; a test that needs it has failed


class BusFactory:
    """Opens buses on one store per test, so that a test can close a bus and open it again.

    For "local" the store is a file in the test's temporary directory; for "amqp" it is the
    session's RabbitMQ virtual host, shared by the tests: `queue()` makes names unique.

    `ages_waiting_messages`: whether `QueueStats.oldest_age_s` covers messages no consumer
    holds yet (RabbitMQ tells a queue's depth, not the age of its head; see docs/rabbitmq.md).
    """

    def __init__(
        self,
        kind: str,
        opener: Callable[[RetryPolicy], Bus],
        *,
        ages_waiting_messages: bool,
        remove: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self.kind = kind
        self.ages_waiting_messages = ages_waiting_messages
        self._opener = opener
        self._remove = remove  # what the test's queues leave behind in a shared store
        self._prefix = uuid.uuid4().hex[:8]
        self._opened: list[Bus] = []
        self._queues: list[str] = []

    def queue(self, name: str) -> str:
        """A queue name that no other test uses."""
        self._queues.append(f"t{self._prefix}.{name}")
        return self._queues[-1]

    async def open(self, *, retry: RetryPolicy = FAST_RETRY) -> Bus:
        bus = self._opener(retry)
        self._opened.append(bus)
        await bus.start()
        return bus

    async def reopen(self, bus: Bus, *, retry: RetryPolicy = FAST_RETRY) -> Bus:
        await bus.close()
        return await self.open(retry=retry)

    async def close_all(self) -> None:
        for bus in reversed(self._opened):
            await bus.close()
        if self._remove is not None and self._queues:
            await self._remove(self._queues)


def _local_factory(tmp_path: Path) -> BusFactory:
    def local(retry: RetryPolicy) -> Bus:
        tuning = LocalBusTuning(close_grace_s=CLOSE_GRACE_S, error_backoff_s=0.05)
        return LocalBus(tmp_path / "bus.db", retry=retry, tuning=tuning)

    return BusFactory("local", local, ages_waiting_messages=True)


def _amqp_factory(vhost: RabbitVhost) -> BusFactory:
    def amqp(retry: RetryPolicy) -> Bus:
        tuning = RabbitTuning(close_grace_s=CLOSE_GRACE_S, settle_backoff_s=0.05)
        return RabbitBus(vhost.url, retry=retry, tuning=tuning)

    async def remove(queues: list[str]) -> None:
        topology = Topology(prefix=RabbitTuning().prefix)
        names = [topology.work_queue(q, urgent) for q in queues for urgent in (False, True)]
        await delete_queues(vhost.url, names + [topology.dead_queue(q) for q in queues])

    return BusFactory("amqp", amqp, ages_waiting_messages=False, remove=remove)


@pytest.fixture(params=IMPLEMENTATIONS)
async def bus_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BusFactory]:
    kind: str = request.param
    if kind == "amqp":
        factory = _amqp_factory(request.getfixturevalue("rabbitmq_vhost"))
    else:
        factory = _local_factory(tmp_path)
    try:
        yield factory
    finally:
        await factory.close_all()


class Recorder:
    """A handler that records each delivery, then does what `behaviour` says (default: ack)."""

    def __init__(self, behaviour: Callable[[ReceivedMessage], Awaitable[None]] | None = None):
        self.messages: list[ReceivedMessage] = []
        self.behaviour = behaviour
        self._arrived = asyncio.Event()

    async def __call__(self, message: ReceivedMessage) -> None:
        self.messages.append(message)
        self._arrived.set()
        if self.behaviour is not None:
            await self.behaviour(message)

    @property
    def ids(self) -> list[str]:
        return [m.message_id for m in self.messages]

    async def wait_for(self, count: int, timeout: float = WAIT_S) -> list[ReceivedMessage]:
        """Wait until at least `count` deliveries were recorded; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            self._arrived.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"got {len(self.messages)} deliveries within {timeout}s, want {count}")
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                continue
        return self.messages


@pytest.fixture
def recorder() -> type[Recorder]:
    return Recorder


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float = WAIT_S, what: str = "condition"
) -> None:
    """Poll an async condition until it holds; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not hold within {timeout}s")
        await asyncio.sleep(0.01)


@pytest.fixture
def until() -> Callable[..., Awaitable[None]]:
    return wait_until
