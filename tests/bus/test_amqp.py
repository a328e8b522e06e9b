"""RabbitBus beyond the contract: what travels on the wire, poison messages, reconnection,
urgent messages overtaking a backlog. These tests may look into RabbitMQ directly."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest

from gateway.bus.amqp.bus import RabbitBus, RabbitTuning
from gateway.bus.amqp.codec import ATTEMPT, PUBLISHED_MS
from gateway.bus.amqp.topology import DELAY_LADDER_MS, Topology, delay_step
from gateway.bus.base import (
    URGENT,
    BusUnavailable,
    OutgoingMessage,
    ReceivedMessage,
    RetryLater,
    RetryPolicy,
)
from tests.bus.conftest import FAST_RETRY, Recorder
from tests.servers import RabbitVhost, delete_queues, rabbitmqctl
from tests.servers import rabbitmq_vhost as rabbitmq_vhost  # a session fixture
from tests.waiting import eventually

Open = Callable[..., Awaitable[RabbitBus]]


@pytest.fixture
async def open_bus(rabbitmq_vhost: RabbitVhost) -> AsyncIterator[Open]:
    opened: list[RabbitBus] = []

    async def open_(retry: RetryPolicy = FAST_RETRY, **tuning: object) -> RabbitBus:
        settings = {"close_grace_s": 0.2, "settle_backoff_s": 0.05, **tuning}
        bus = RabbitBus(rabbitmq_vhost.url, retry=retry, tuning=RabbitTuning(**settings))  # type: ignore[arg-type]
        opened.append(bus)
        await bus.start()
        return bus

    yield open_
    for bus in reversed(opened):
        await bus.close()


@pytest.fixture
async def queue(request: pytest.FixtureRequest, rabbitmq_vhost: RabbitVhost) -> AsyncIterator[str]:
    name = f"amqp.{request.node.name[:40]}.{uuid.uuid4().hex[:6]}"
    yield name
    topology = Topology()
    await delete_queues(
        rabbitmq_vhost.url,
        [
            topology.work_queue(name, False),
            topology.work_queue(name, True),
            topology.dead_queue(name),
        ],
    )


@pytest.mark.parametrize(
    ("delay_s", "step_ms"),
    [(0, 50), (0.01, 50), (0.05, 50), (0.051, 100), (0.3, 500), (2.0, 2000), (2.4, 4000)],
)
def test_retry_delays_round_up_to_the_ladder(delay_s: float, step_ms: int) -> None:
    assert delay_step(delay_s) == step_ms


def test_the_longest_step_caps_long_delays() -> None:
    assert delay_step(86_400) == DELAY_LADDER_MS[-1] == 3_600_000


async def test_bookkeeping_headers_travel_as_integers(
    open_bus: Open, queue: str, rabbitmq_vhost: RabbitVhost
) -> None:
    bus = await open_bus()
    await bus.declare([queue])

    async def later(_: ReceivedMessage) -> None:
        raise RetryLater("busy", delay_s=30)  # long enough to find the copy in its delay queue

    sub = await bus.subscribe([queue], Recorder(later))
    await bus.publish([OutgoingMessage(queue, "m1", b"claim", URGENT, {"kind": "edoc"})])
    connection = await aio_pika.connect(rabbitmq_vhost.url)
    async with connection:
        channel = await connection.channel()
        delayed = await channel.get_queue(bus.topology.delay_queue(30_000))

        async def take() -> aio_pika.abc.AbstractIncomingMessage | None:
            return await delayed.get(no_ack=False, fail=False)

        copy = await eventually(take, lambda m: m is not None)
        assert copy is not None
        headers = copy.headers
        await copy.nack(requeue=True)
    await sub.cancel()
    assert headers[ATTEMPT] == 2 and type(headers[ATTEMPT]) is int
    assert type(headers[PUBLISHED_MS]) is int and headers[PUBLISHED_MS] > 1_700_000_000_000
    assert headers["kind"] == "edoc"
    assert (copy.message_id, copy.priority, copy.body) == ("m1", URGENT, b"claim")


async def test_a_poison_message_is_dead_lettered_by_rabbitmq(open_bus: Open, queue: str) -> None:
    """A message whose consumer never settles it (it dies, or is stopped, each time) ends in the
    dead-letter queue after `delivery_limit` returns instead of going round for ever."""
    bus = await open_bus(delivery_limit=2)
    await bus.declare([queue])
    await bus.publish([OutgoingMessage(queue, "poison", b"claim")])
    for _ in range(3):  # delivered, then handed back unsettled: three times
        stuck = Recorder(lambda _: asyncio.Event().wait())
        await bus.subscribe([queue], stuck)
        await stuck.wait_for(1)
        await bus.close()
        bus = await open_bus(delivery_limit=2)

    async def dead() -> int:
        (stats,) = await bus.queue_stats([queue])
        return stats.dead

    await eventually(dead, lambda n: n == 1)
    (letter,) = await bus.dead_letters(queue)
    assert letter.message_id == "poison"
    assert "delivery_limit" in letter.reason
    assert letter.attempts == 1  # no handler ever failed it: it never came back

    await bus.replay(letter.id)
    again = Recorder()
    await bus.subscribe([queue], again)
    (message,) = await again.wait_for(1)
    assert (message.message_id, message.attempt) == ("poison", 1)


async def test_a_dropped_connection_is_refused_fast_then_recovered(
    open_bus: Open, queue: str, rabbitmq_vhost: RabbitVhost
) -> None:
    # the reconnection waits long enough that a loaded machine still publishes while it is down
    bus = await open_bus(reconnect_interval_s=8.0)
    await bus.declare([queue])
    received = Recorder()
    await bus.subscribe([queue], received)
    await bus.publish([OutgoingMessage(queue, "before", b"x")])
    await received.wait_for(1)

    await asyncio.to_thread(
        rabbitmqctl, "close_all_connections", "-p", rabbitmq_vhost.name, "test: connection drop"
    )

    async def ping_fails() -> bool:
        try:
            await bus.ping()
        except BusUnavailable:
            return True
        return False

    await eventually(ping_fails, bool, timeout=5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(BusUnavailable):
        await bus.publish([OutgoingMessage(queue, "during", b"x")])
    assert loop.time() - started < 0.5  # refused at once, not after a publish timeout

    await eventually(ping_fails, lambda failing: not failing, timeout=30)
    await bus.publish([OutgoingMessage(queue, "after", b"x")])
    messages = await received.wait_for(2)
    assert [m.message_id for m in messages] == ["before", "after"]


async def test_urgent_messages_overtake_a_backlog(open_bus: Open, queue: str) -> None:
    """Under load: normal messages keep 8 handlers busy; each urgent message published then
    starts before all but a handful of the normal ones already waiting."""
    bus = await open_bus()
    await bus.declare([queue])
    backlog = 2000
    await asyncio.gather(
        *(bus.publish([OutgoingMessage(queue, f"n{i}", b"x")]) for i in range(backlog))
    )
    normal_started = 0
    overtaken: list[int] = []
    marks: dict[str, int] = {}
    warm = asyncio.Event()

    async def handler(message: ReceivedMessage) -> None:
        nonlocal normal_started
        if message.priority == 0:
            normal_started += 1
            if normal_started == 100:
                warm.set()
        else:
            overtaken.append(normal_started - marks[message.message_id])
        await asyncio.sleep(0.002)

    urgent = Recorder(handler)
    await bus.subscribe([queue], urgent, prefetch=8)
    await warm.wait()
    for i in range(10):
        marks[f"u{i}"] = normal_started
        await bus.publish([OutgoingMessage(queue, f"u{i}", b"x", priority=URGENT)])
        await asyncio.sleep(0.03)
    await eventually(lambda: asyncio.sleep(0, len(overtaken)), lambda n: n == 10, timeout=30)
    print(f"normal messages started before each urgent one: {overtaken}")
    assert normal_started < backlog / 2  # still a backlog when the last urgent one ran
    assert max(overtaken) <= 64  # only what was already in hand, never the backlog


async def test_starting_without_a_broker_fails_at_once_and_leaves_nothing_running() -> None:
    bus = RabbitBus("amqp://guest:guest@127.0.0.1:1/", tuning=RabbitTuning(connect_timeout_s=2))
    with pytest.raises(BusUnavailable, match=r"127\.0\.0\.1:1/"):
        await bus.start()
    with pytest.raises(BusUnavailable):
        await bus.ping()
    await bus.close()
    running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert [t for t in running if "connection" in repr(t).lower()] == []
