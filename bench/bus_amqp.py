"""Throughput of the RabbitMQ bus (RabbitBus) on this machine, and urgent-before-normal under load.

    .venv/bin/python -m bench.bus_amqp [--url amqp://guest:guest@127.0.0.1:5672/]
        [--messages 20000] [--concurrency 1 64] [--size 300] [--backlog 5000]

It works in a throw-away topology prefix (`bench<random>`) and deletes its queues at the end.
For each concurrency it prints:
- publish: msgs/s with N concurrent publishers, one message per publish call (as intake does),
  each returning once RabbitMQ confirmed it; p50/p99 publish latency;
- end-to-end: the same publishers while one subscription (prefetch 64) consumes and acks;
  msgs/s counts a message once its handler returned and it is no longer held;
- for both, the CPU this process spent per message: the gateway's share of each message it
  publishes, consumes and acknowledges (RabbitMQ's own is not counted).
Then `urgent`: a backlog of normal messages is being consumed (prefetch 16, 2 ms per message)
when urgent ones are published one by one; for each it counts the normal messages that started
after it was published and before it did, and its publish-to-handler latency.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
import uuid
from dataclasses import dataclass

import aio_pika
import structlog

from bench.child import own_cpu
from gateway.bus import OutgoingMessage, ReceivedMessage
from gateway.bus.amqp.bus import RabbitBus, RabbitTuning
from gateway.bus.amqp.topology import DELAY_LADDER_MS

QUEUE = "000.00.00.H26"
BUS_URL = ["amqp://guest:guest@127.0.0.1:5672/"]


@dataclass(frozen=True)
class Result:
    label: str
    concurrency: int
    messages: int
    seconds: float
    latencies: list[float]
    cpu_s: float  # of this process (the gateway's side), RabbitMQ's own left out

    def line(self) -> str:
        rate = self.messages / self.seconds
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000
        return (
            f"{self.label:<11} c={self.concurrency:<4} {rate:>9,.0f} msgs/s"
            f"   publish p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
            f"   client CPU {self.cpu_s * 1e6 / self.messages:4.0f} µs/msg"
        )


async def publish_all(
    bus: RabbitBus, count: int, concurrency: int, body: bytes, priority: int = 0
) -> list[float]:
    latencies: list[float] = []
    next_id = iter(range(count))

    async def publisher() -> None:
        for i in next_id:
            started = time.perf_counter()
            await bus.publish([OutgoingMessage(QUEUE, f"m{i}", body, priority)])
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(publisher() for _ in range(concurrency)))
    return latencies


async def until_empty(bus: RabbitBus, handled: list[int], count: int) -> None:
    while True:
        (stats,) = await bus.queue_stats([QUEUE])
        if handled[0] >= count and stats.ready == 0 and stats.in_flight == 0:
            return
        await asyncio.sleep(0.02)


async def run_publish(bus: RabbitBus, count: int, concurrency: int, body: bytes) -> Result:
    started, cpu = time.perf_counter(), own_cpu()
    latencies = await publish_all(bus, count, concurrency, body)
    seconds, cpu = time.perf_counter() - started, own_cpu() - cpu
    await purge(bus)
    return Result("publish", concurrency, count, seconds, latencies, cpu)


async def run_end_to_end(bus: RabbitBus, count: int, concurrency: int, body: bytes) -> Result:
    handled = [0]

    async def handler(_: ReceivedMessage) -> None:
        handled[0] += 1

    started, cpu = time.perf_counter(), own_cpu()
    subscription = await bus.subscribe([QUEUE], handler, prefetch=64)
    latencies = await publish_all(bus, count, concurrency, body)
    await until_empty(bus, handled, count)
    seconds, cpu = time.perf_counter() - started, own_cpu() - cpu
    await subscription.cancel()
    return Result("end-to-end", concurrency, count, seconds, latencies, cpu)


async def run_urgent(bus: RabbitBus, backlog: int, urgent: int, body: bytes) -> None:
    await publish_all(bus, backlog, 64, body)
    normal_started = 0
    warmed_up, all_urgent = asyncio.Event(), asyncio.Event()
    published_at: dict[str, tuple[float, int]] = {}
    latencies: list[float] = []
    overtaken: list[int] = []

    async def handler(message: ReceivedMessage) -> None:
        nonlocal normal_started
        if message.priority == 0:
            normal_started += 1
            if normal_started >= 200:
                warmed_up.set()
        else:
            when, normal_then = published_at[message.message_id]
            latencies.append(time.perf_counter() - when)
            overtaken.append(normal_started - normal_then)
            if len(latencies) == urgent:
                all_urgent.set()
        await asyncio.sleep(0.002)

    subscription = await bus.subscribe([QUEUE], handler, prefetch=16)
    await warmed_up.wait()
    for i in range(urgent):
        message_id = f"u{i}"
        published_at[message_id] = (time.perf_counter(), normal_started)
        await bus.publish([OutgoingMessage(QUEUE, message_id, body, priority=1)])
        await asyncio.sleep(0.05)
    await all_urgent.wait()
    left = backlog - normal_started
    await subscription.cancel()
    await purge(bus)
    lat = sorted(latencies)
    print(
        f"urgent      {urgent} urgent published one by one behind a backlog of {backlog}"
        f" normal (still {left} waiting at the end): normal messages started after an urgent"
        f" one and before it: max {max(overtaken)}, median {statistics.median(overtaken):.0f};"
        f" publish-to-handler p50 {statistics.median(lat) * 1000:.1f} ms,"
        f" max {lat[-1] * 1000:.1f} ms",
        flush=True,
    )


async def purge(bus: RabbitBus) -> None:
    """Empty the work queues between runs."""
    connection = await aio_pika.connect(BUS_URL[0])
    async with connection:
        channel = await connection.channel()
        for urgent in (False, True):
            queue = await channel.get_queue(bus.topology.work_queue(QUEUE, urgent))
            await queue.purge()


async def delete_topology(url: str, bus: RabbitBus) -> None:
    topo = bus.topology
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        names = [topo.work_queue(QUEUE, False), topo.work_queue(QUEUE, True)]
        names += [topo.dead_queue(QUEUE)] + [topo.delay_queue(ms) for ms in DELAY_LADDER_MS]
        for name in names:
            await channel.queue_delete(name, if_unused=False, if_empty=False)
        for exchange in (topo.work_exchange, topo.dead_exchange, topo.delay_exchange):
            await channel.exchange_delete(exchange)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--size", type=int, default=300, help="body bytes")
    parser.add_argument("--backlog", type=int, default=5_000, help="normal messages (urgent run)")
    parser.add_argument("--urgent", type=int, default=20)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    body = b"c" * args.size
    BUS_URL[0] = args.url
    bus = RabbitBus(args.url, tuning=RabbitTuning(prefix=f"bench{uuid.uuid4().hex[:8]}"))
    await bus.start()
    try:
        await bus.declare([QUEUE])
        for concurrency in args.concurrency:
            count = args.messages if concurrency > 1 else min(args.messages, 3_000)
            print((await run_publish(bus, count, concurrency, body)).line(), flush=True)
            print((await run_end_to_end(bus, count, concurrency, body)).line(), flush=True)
        await run_urgent(bus, args.backlog, args.urgent, body)
    finally:
        await bus.close()
        await delete_topology(args.url, bus)


if __name__ == "__main__":
    asyncio.run(main())
