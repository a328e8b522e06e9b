"""The floor under bench.load on PostgreSQL: what one asyncpg round trip costs the gateway here.

`--concurrency` tasks run `--count` one-row statements (`SELECT $1::int + 1`) in two ways, as the
gateway does (gateway/store/postgres.py):
- `pooled`: each takes a connection from a pool of `--pool` and releases it (a read);
- `in transaction`: the tasks share `--pool` connections, each running statement after
  statement inside a transaction as a write batch does, a transaction per `--batch` statements.
Prints statements/s and this process's CPU per statement: PostgreSQL's own CPU is not counted.
A document costs the gateway about 10 statements on PostgreSQL (docs/postgresql.md), so this
figure times 10 is what PostgreSQL adds to each document on the gateway's one busy core.

    .venv/bin/python -m bench.pg_floor [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--count 20000] [--concurrency 32] [--pool 10] [--batch 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from itertools import count

import asyncpg

from bench.child import own_cpu

STATEMENT = "SELECT $1::int + 1"


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset statement when a connection goes back to the pool, as in the gateway."""


async def timed(
    label: str, statements: int, tasks: int, step: Callable[[int], Awaitable[int]]
) -> None:
    """Run `step` until it has run `statements` statements in all, `tasks` at a time."""
    done = [0]
    numbers = count()

    async def task() -> None:
        while done[0] < statements:
            ran = await step(next(numbers))  # not `done[0] += await ...`: it reads done[0] first
            done[0] += ran

    started, cpu = time.perf_counter(), own_cpu()
    await asyncio.gather(*(task() for _ in range(tasks)))
    seconds, cpu = time.perf_counter() - started, own_cpu() - cpu
    print(
        f"{label:<15} {done[0] / seconds:8,.0f} statements/s"
        f"   client CPU {cpu * 1e6 / done[0]:4.0f} µs/statement",
        flush=True,
    )


async def run(args: argparse.Namespace) -> None:
    pool = await asyncpg.create_pool(
        args.url, min_size=args.pool, max_size=args.pool, reset=_keep_session
    )
    try:

        async def pooled(number: int) -> int:
            async with pool.acquire() as conn:
                await conn.fetchrow(STATEMENT, number)
            return 1

        async def batch(number: int) -> int:
            async with pool.acquire() as conn, conn.transaction():
                for offset in range(args.batch):
                    await conn.fetchrow(STATEMENT, number + offset)
            return int(args.batch) + 2  # and BEGIN, COMMIT

        await timed("pooled", args.count, args.concurrency, pooled)
        await timed("in transaction", args.count, args.concurrency, batch)
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.pg_floor", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8)
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
