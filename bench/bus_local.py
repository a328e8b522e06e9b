"""Throughput of the embedded bus (LocalBus) on this machine.

    .venv/bin/python -m bench.bus_local [--messages 20000] [--concurrency 1 64] [--size 300]

For each concurrency it prints:
- publish: msgs/s with N concurrent publishers, one message per publish call (as intake does:
  one claim per recipient of a request), with p50/p99 publish latency and jobs per commit;
- end-to-end: the same publishers while one subscription (prefetch 64) consumes and acks;
  msgs/s counts a message once its ack is committed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from gateway.bus import LocalBus, OutgoingMessage, ReceivedMessage

QUEUE = "000.00.00.H26"


@dataclass(frozen=True)
class Result:
    label: str
    concurrency: int
    messages: int
    seconds: float
    latencies: list[float]
    transactions: int
    jobs: int

    def line(self) -> str:
        rate = self.messages / self.seconds
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000
        per_commit = self.jobs / max(1, self.transactions)
        return (
            f"{self.label:<11} c={self.concurrency:<4} {rate:>9,.0f} msgs/s"
            f"   publish p50 {p50:6.2f} ms  p99 {p99:6.2f} ms   {per_commit:5.1f} writes/commit"
        )


async def publish_all(bus: LocalBus, count: int, concurrency: int, body: bytes) -> list[float]:
    latencies: list[float] = []
    next_id = iter(range(count))

    async def publisher() -> None:
        for i in next_id:
            started = time.perf_counter()
            await bus.publish([OutgoingMessage(QUEUE, f"m{i}", body)])
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(publisher() for _ in range(concurrency)))
    return latencies


async def run_publish(path: Path, count: int, concurrency: int, body: bytes) -> Result:
    bus = LocalBus(path)
    await bus.start()
    await bus.declare([QUEUE])
    before = bus.commit_stats
    started = time.perf_counter()
    latencies = await publish_all(bus, count, concurrency, body)
    seconds = time.perf_counter() - started
    after = bus.commit_stats
    await bus.close()
    return Result(
        "publish",
        concurrency,
        count,
        seconds,
        latencies,
        after.transactions - before.transactions,
        after.jobs - before.jobs,
    )


async def run_end_to_end(path: Path, count: int, concurrency: int, body: bytes) -> Result:
    bus = LocalBus(path)
    await bus.start()
    await bus.declare([QUEUE])
    handled = 0

    async def handler(_: ReceivedMessage) -> None:
        nonlocal handled
        handled += 1

    before = bus.commit_stats
    started = time.perf_counter()
    subscription = await bus.subscribe([QUEUE], handler, prefetch=64)
    latencies = await publish_all(bus, count, concurrency, body)
    while True:  # done when every message was handled and its ack committed
        (stats,) = await bus.queue_stats([QUEUE])
        if handled >= count and stats.ready == 0 and stats.in_flight == 0:
            break
        await asyncio.sleep(0.001)
    seconds = time.perf_counter() - started
    after = bus.commit_stats
    await subscription.cancel()
    await bus.close()
    return Result(
        "end-to-end",
        concurrency,
        count,
        seconds,
        latencies,
        after.transactions - before.transactions,
        after.jobs - before.jobs,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--size", type=int, default=300, help="body bytes")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    body = b"c" * args.size
    with tempfile.TemporaryDirectory(prefix="bench-bus-") as tmp:
        for n, concurrency in enumerate(args.concurrency):
            count = args.messages if concurrency > 1 else min(args.messages, 5_000)
            path = Path(tmp) / f"publish-{n}.db"
            print((await run_publish(path, count, concurrency, body)).line(), flush=True)
            path = Path(tmp) / f"e2e-{n}.db"
            print((await run_end_to_end(path, count, concurrency, body)).line(), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
