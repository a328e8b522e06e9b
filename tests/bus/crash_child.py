"""Helper process of test_local.py: uses a LocalBus until the test kills it with SIGKILL.

    crash_child.py publish DB QUEUE CONCURRENCY
        publishes forever from CONCURRENCY coroutines; prints "PUBLISHED <id>" after each
        publish returned (so the message must be durable).
    crash_child.py hold DB QUEUE [--retry-first]
        consumes QUEUE; the handler prints "HOLDING <id> <attempt>" and never returns. With
        --retry-first, attempt 1 raises RetryLater first.

Protocol lines start with an upper-case word; anything else on stdout (logs) is ignored.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path

from gateway.bus import LocalBus, OutgoingMessage, ReceivedMessage, RetryLater, RetryPolicy

BODY = b"c" * 300


async def publish_forever(db: Path, queue: str, concurrency: int) -> None:
    bus = LocalBus(db)
    await bus.start()
    await bus.declare([queue])
    print("READY", flush=True)
    counter = itertools.count()

    async def publisher() -> None:
        while True:
            message_id = f"m{next(counter)}"
            await bus.publish([OutgoingMessage(queue, message_id, BODY)])
            print(f"PUBLISHED {message_id}", flush=True)

    await asyncio.gather(*(publisher() for _ in range(concurrency)))


async def hold(db: Path, queue: str, retry_first: bool) -> None:
    bus = LocalBus(db, retry=RetryPolicy(initial_delay_s=0.05, jitter=0.0))
    await bus.start()

    async def handler(message: ReceivedMessage) -> None:
        if retry_first and message.attempt == 1:
            raise RetryLater("not yet", delay_s=0.05)
        print(f"HOLDING {message.message_id} {message.attempt}", flush=True)
        await asyncio.Event().wait()

    await bus.subscribe([queue], handler)
    print("READY", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str]) -> None:
    mode, db, queue, *rest = argv
    if mode == "publish":
        asyncio.run(publish_forever(Path(db), queue, int(rest[0])))
    elif mode == "hold":
        asyncio.run(hold(Path(db), queue, "--retry-first" in rest))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
