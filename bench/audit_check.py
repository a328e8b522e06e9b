"""Where the time of `/v1/audit/verify` goes (issue 16): run on a `bench.seed` folder.

    .venv/bin/python -m bench.audit_check --workdir /tmp/city

Opens the seeded store (SQLite or PostgreSQL, as seeded) in this process and times, each on its
own: the chain walked in this one process (`chain.verify`); the chain spread over worker
processes (`verify_chain`, SQLite only); the statistics recounted from the log and compared
agency by agency; and the whole check (`integrity.check`, the chain and the recount at once, as
the API runs it). Each line gives events per second of the log and this process's peak RSS so
far. The first pass reads the log from disk if the page cache does not hold it: `--warm` walks
it once before timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.audit import chain
from gateway.audit.verification import verify_chain
from gateway.config import DatabaseSettings
from gateway.stats import integrity
from gateway.store import open_database
from gateway.store.db import Database
from gateway.store.sqlite import SqliteDatabase


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def timed(label: str, events: int, work: Callable[[], Awaitable[Any]]) -> None:
    started = time.perf_counter()
    await work()
    took = time.perf_counter() - started
    print(
        f"{label}: {took:.1f} s, {events / took:,.0f} events/s; peak RSS so far "
        f"{peak_mb():,.0f} MB",
        flush=True,
    )


async def run(workdir: Path, warm: bool) -> None:
    config = tomllib.loads((workdir / "gateway.toml").read_text())
    url = config.get("database", {}).get("url", "sqlite")
    db: Database = await open_database(
        DatabaseSettings(url=url), Path(config["server"]["data_dir"])
    )
    try:
        events, _ = await db.read(chain.head)
        print(f"{events:,} audit entries, {os.cpu_count()} cores; RSS {peak_mb():,.0f} MB")
        if warm:
            await timed("warm-up (one walk)", events, lambda: db.scan(chain.verify))
        await timed("chain, one process", events, lambda: db.scan(chain.verify))
        if isinstance(db, SqliteDatabase):
            await timed("chain, worker processes", events, lambda: verify_chain(db))
        await timed("recount and compare", events, lambda: db.scan(integrity.mismatches))
        await timed("whole check (as the API)", events, lambda: integrity.check(db))
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.audit_check", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="bench.seed's folder")
    parser.add_argument("--warm", action="store_true", help="walk the log once before timing")
    args = parser.parse_args()
    asyncio.run(run(args.workdir, args.warm))


if __name__ == "__main__":
    main()
