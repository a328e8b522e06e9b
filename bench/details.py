"""The auditors' drill-down (`/v1/stats/exchanges/details`) at a million exchanges.

    .venv/bin/python -m bench.details [--exchanges 1000000] [--agencies 60] [--database-url URL]

Seeds the counters through the store layer (gateway.stats.facts) into a fresh store (a
temporary SQLite file, or the PostgreSQL database given, which must be empty), spread over
2026 and `--agencies` senders (85 % electronic, 12 % paper, 3 % secret), then times the query
of one page (100 items) of one agency's year, as the API runs it (`db.scan`), for each kind:
the first page and a page deep in the list (by cursor). `undelivered` is the worst case here:
no delivery is dead-lettered, so the query reads every electronic exchange of the agency and
year to find none. Messages and deliveries are not seeded: the code number and state are
looked up by index and come back empty.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import get_args

from gateway.config import DatabaseSettings
from gateway.stats import details, facts
from gateway.stats.counting import ELECTRONIC, PAPER, SECRET, Channel, Fact
from gateway.store import open_database
from gateway.store.db import Database, Tx

CHUNK = 20_000
REPEATS = 20


def seeded_facts(count: int, agencies: int) -> list[Fact]:
    rng = random.Random(14)
    senders = [f"000.00.{i:02d}.H26" for i in range(agencies)]
    first = date(2026, 1, 1)
    found = []
    for n in range(count):
        roll = rng.random()
        channel: Channel = ELECTRONIC if roll < 0.85 else PAPER if roll < 0.97 else SECRET
        day = (first + timedelta(days=rng.randrange(365))).isoformat()
        sender = senders[n % agencies]
        recipient = senders[rng.randrange(agencies)]
        found.append(Fact(sender, f"{sender},{day},{n}/QĐ", recipient, channel, day, False))
    return found


async def seed(db: Database, found: list[Fact]) -> None:
    for start in range(0, len(found), CHUNK):
        part = found[start : start + CHUNK]

        async def unit(tx: Tx, part: list[Fact] = part) -> None:
            await facts.insert_facts(tx, part)

        await db.write(unit)


async def timed(
    db: Database, query: details.DetailsQuery, repeats: int = REPEATS
) -> tuple[float, dict[str, object]]:
    times, page = [], {}
    for _ in range(repeats):
        started = time.perf_counter()
        page = await db.scan(lambda tx: details.page(tx, query))
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, page


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = await open_database(DatabaseSettings(url=args.database_url), Path(folder))
        try:
            found = seeded_facts(args.exchanges, args.agencies)
            started = time.perf_counter()
            await seed(db, found)
            print(f"seeded {len(found):,} exchanges in {time.perf_counter() - started:.1f} s")
            sender = found[0].sender
            print(f"one agency: {sum(1 for f in found if f.sender == sender):,} exchanges in 2026")
            for kind in get_args(details.Kind):
                query = details.DetailsQuery(
                    sender,
                    date(2026, 1, 1),
                    date(2026, 12, 31),
                    kind,
                    100,
                    None,
                )
                first_ms, page = await timed(db, query)
                deep_ms = first_ms
                cursor = page.get("next")
                for _ in range(50 if cursor else 0):  # walk 50 pages in, then time that page
                    if not isinstance(cursor, str):
                        break
                    query = details.DetailsQuery(
                        sender, query.start, query.end, query.kind, 100, cursor
                    )
                    _, page = await timed(db, query, repeats=1)
                    cursor = page.get("next")
                if query.after is not None:
                    deep_ms, _ = await timed(db, query)
                items = page.get("items")
                print(
                    f"{kind:<12} first page {first_ms:6.2f} ms   page 50 {deep_ms:6.2f} ms"
                    f"   ({len(items) if isinstance(items, list) else 0} items)"
                )
        finally:
            await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exchanges", type=int, default=1_000_000)
    parser.add_argument("--agencies", type=int, default=60)
    parser.add_argument("--database-url", default="sqlite")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
