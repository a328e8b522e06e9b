"""What a city-year of history costs (issue 16): run after `bench.seed` on its working folder.

Starts `edocgw serve` on the seeded configuration (SQLite or PostgreSQL, as seeded) and
measures, through the HTTP API as auditors, departments and operators call it:

- a year's statistics by agency and by group (`GET /v1/stats/exchanges`), the monthly report
  (`GET /v1/reports/monthly`);
- the inbox of the agency with `--inbox` items uncollected: p50/p99 of repeated listings;
- search by document id (`GET /v1/ops/messages?document_id=`);
- the drill-down behind an agency's year (`GET /v1/stats/exchanges/details`): the first page
  and the tenth;
- `GET /v1/audit/verify`: events per second, and the gateway's RSS before, after and at peak;
- bytes on disk per delivery;
- submit latency at 50 documents/s with the history present (bench.load against this gateway)
  and, with `--baseline`, the same on an empty store of the same kind (bench.load's own
  gateway; a new PostgreSQL database for a PostgreSQL history), the two
  alternating `--repeat` times; the figures are the medians of the runs' p99.

`--json FILE` also writes the figures with the store's size; `bench.growth` reads several such
files (one per size) and prints how each cost grows with the size.

    .venv/bin/python -m bench.scale --workdir /tmp/city --baseline --json /tmp/city/scale.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import tomllib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.child import read_proc_status, wait_ready
from bench.seed import INBOX_AGENCY, agency_ids

RUNS = 3  # each heavy call is timed this many times; the figures are min and median
LISTINGS = 200
SEARCHES = 30
DRILL_PAGES = 10


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def timed(call: Callable[[], Awaitable[Any]], runs: int = RUNS) -> tuple[list[float], Any]:
    """Seconds of each of `runs` calls, and the last answer."""
    seconds, answer = [], None
    for _ in range(runs):
        started = time.perf_counter()
        answer = await call()
        seconds.append(time.perf_counter() - started)
    return seconds, answer


def p99(ms: list[float]) -> float:
    ordered = sorted(ms)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def summary(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    if len(ms) >= 20:
        return f"p50 {statistics.median(ms):.1f} ms, p99 {p99(ms):.1f} ms ({len(ms)} calls)"
    return f"min {ms[0]:.0f} ms, median {statistics.median(ms):.0f} ms ({len(ms)} runs)"


def median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 1)


@dataclass
class Report:
    """What is printed, and the same figures as numbers for `--json`."""

    figures: dict[str, float | int | None] = field(default_factory=dict)

    def line(self, label: str, text: str, **figures: float | int | None) -> None:
        print(f"{label}: {text}", flush=True)
        self.figures.update(figures)


class Scale:
    def __init__(self, workdir: Path, config: dict[str, Any], report: Report) -> None:
        self.session: aiohttp.ClientSession | None = None
        self.report = report
        self.url = "http://" + config["server"]["listen"]
        self.ops = "http://" + config["server"]["ops_listen"]
        self.auditor = bearer((workdir / "auditor.token").read_text().strip())
        self.inbox = bearer((workdir / "inbox.token").read_text().strip())
        today = date.today()
        self.year = {"from": str(today - timedelta(days=365)), "to": str(today)}

    async def get(self, url: str, headers: dict[str, str], **params: str) -> tuple[int, bytes]:
        assert self.session is not None
        async with self.session.get(url, headers=headers, params=params) as response:
            return response.status, await response.read()

    async def stats(self, by: str) -> None:
        seconds, (status, body) = await timed(
            lambda: self.get(
                self.ops + "/v1/stats/exchanges", self.auditor, by=by, period="year", **self.year
            )
        )
        answer = json.loads(body) if status == 200 else None
        rows = len(answer) if isinstance(answer, list) else len(answer["rows"]) if answer else 0
        self.report.line(
            f"statistics for a year by {by}",
            f"{summary(seconds)}; HTTP {status}, {rows} rows",
            **{f"stats_year_by_{by}_ms": median_ms(seconds)},
        )

    async def monthly(self) -> None:
        month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        seconds, (status, body) = await timed(
            lambda: self.get(self.ops + "/v1/reports/monthly", self.auditor, month=month)
        )
        self.report.line(
            "monthly report",
            f"{summary(seconds)}; HTTP {status}, {len(body)} bytes ({month})",
            monthly_report_ms=median_ms(seconds),
        )

    async def listing(self) -> None:
        seconds, (status, body) = await timed(
            lambda: self.get(self.url + "/v1/inbox", self.inbox, limit="100"), LISTINGS
        )
        items = len(json.loads(body)["items"]) if status == 200 else status
        self.report.line(
            f"inbox of {INBOX_AGENCY} (uncollected backlog)",
            f"{summary(seconds)}; HTTP {status}, {items} items a page",
            inbox_p99_ms=round(p99([s * 1000 for s in seconds]), 1),
        )

    async def search(self, document_id: str) -> None:
        seconds, (status, body) = await timed(
            lambda: self.get(self.ops + "/v1/ops/messages", self.auditor, document_id=document_id),
            SEARCHES,
        )
        found = len(json.loads(body)["items"]) if status == 200 else 0
        self.report.line(
            "search by document id",
            f"{summary(seconds)}; HTTP {status}, {found} found",
            search_p99_ms=round(p99([s * 1000 for s in seconds]), 1),
        )

    async def drill_down(self) -> None:
        """An agency's electronic exchanges of the year, page after page."""
        agency = agency_ids()[1][0]
        after: str | None = None
        seconds: list[float] = []
        for _ in range(DRILL_PAGES):
            params = {"agency": agency, "kind": "electronic", **self.year}
            if after is not None:
                params["after"] = after
            took, (status, body) = await timed(
                lambda p=params: self.get(  # type: ignore[misc]
                    self.ops + "/v1/stats/exchanges/details", self.auditor, **p
                ),
                1,
            )
            seconds += took
            after = json.loads(body)["next"] if status == 200 else None
            if after is None:
                break
        ms = [s * 1000 for s in seconds]
        self.report.line(
            f"drill-down of {agency}'s year",
            f"first page {ms[0]:.1f} ms, page {len(ms)} {ms[-1]:.1f} ms",
            drill_first_ms=round(ms[0], 1),
            drill_last_ms=round(ms[-1], 1),
        )

    async def verify(self, pid: int) -> None:
        before = read_proc_status(pid, "VmRSS")
        seconds, (status, body) = await timed(
            lambda: self.get(self.ops + "/v1/audit/verify", self.auditor), 1
        )
        after, peak = read_proc_status(pid, "VmRSS"), read_proc_status(pid, "VmHWM")
        if status != 200:
            self.report.line("audit verification", f"HTTP {status}: {body[:300]!r}")
            return
        answer = json.loads(body)
        rate = answer["events"] / seconds[0]
        self.report.line(
            "audit verification",
            f"{answer['events']:,} events in {seconds[0]:.1f} s = {rate:,.0f} events/s, "
            f"ok={answer['ok']}; RSS {mb(before)} -> {mb(after)} MB (peak {mb(peak)} MB)",
            verify_events_per_s=round(rate),
            verify_rss_after_mb=None if after is None else round(after / 1e6),
            verify_rss_peak_mb=None if peak is None else round(peak / 1e6),
        )


def mb(value: int | None) -> str:
    return "?" if value is None else f"{value / 1e6:.0f}"


@dataclass(frozen=True)
class StoreSize:
    messages: int
    deliveries: int
    events: int
    exchanges: int
    bytes: int
    document_id: str  # one to search for


def sized(counts: tuple[Any, ...], size: int, document_id: str) -> StoreSize:
    messages, deliveries, events, exchanges = (int(n or 0) for n in counts)
    return StoreSize(messages, deliveries, events, exchanges, size, document_id)


_COUNTS = (
    "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM deliveries), "
    "(SELECT max(seq) FROM events), (SELECT count(*) FROM exchanges)"
)
_A_DOCUMENT = "SELECT document_id FROM messages WHERE kind = 'edoc' LIMIT 1 OFFSET 1000"


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def sqlite_size(data_dir: Path) -> StoreSize:
    """Read by this process, not the gateway's, before it starts: its locks are untouched
    (tests/datafiles.py)."""
    size = folder_bytes(data_dir)
    conn = sqlite3.connect(f"file:{data_dir / 'gateway.sqlite3'}?mode=ro", uri=True)
    try:
        counts = conn.execute(_COUNTS).fetchone()
        (document_id,) = conn.execute(_A_DOCUMENT).fetchone()
    finally:
        conn.close()
    return sized(tuple(counts), size, document_id)


async def postgres_size(url: str, local: int) -> StoreSize:
    """The database's size on the server's disk plus `local`, the data folder's (the bus)."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        counts = await conn.fetchrow(_COUNTS)
        database = await conn.fetchval("SELECT pg_database_size(current_database())")
        document_id = await conn.fetchval(_A_DOCUMENT)
    finally:
        await conn.close()
    assert counts is not None
    return sized(tuple(counts), int(database) + local, document_id)


def store_size(config: dict[str, Any]) -> StoreSize:
    data_dir = Path(config["server"]["data_dir"])
    url = config.get("database", {}).get("url", "sqlite")
    if url.startswith("postgresql"):
        return asyncio.run(postgres_size(url, folder_bytes(data_dir)))
    return sqlite_size(data_dir)


def load(extra: list[str], label: str, seconds: int) -> tuple[str, float | None]:
    out = Path(f"/tmp/bench-scale-{os.getpid()}-{label}.json")
    command = [sys.executable, "-m", "bench.load", "--rate", "50", "--duration", str(seconds)]
    command += ["--size", "10k", "--json", str(out), *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    if not out.exists():
        return f"bench.load failed ({done.returncode}): {done.stderr[-500:]}", None
    record = json.loads(out.read_text())
    out.unlink()
    sub = record["submit_latency_ms"]
    return f"p50 {sub['p50']} ms, p99 {sub['p99']} ms ({sub['count']} documents)", sub["p99"]


async def measure(scale: Scale, pid: int, document_id: str) -> None:
    async with aiohttp.ClientSession() as session:
        scale.session = session
        started = time.perf_counter()
        await wait_ready(session, scale.ops, 1800)
        took = time.perf_counter() - started
        scale.report.line("start-up (migrations, republish sweep)", f"{took:.1f} s")
        await scale.stats("agency")
        await scale.stats("group")
        await scale.monthly()
        await scale.listing()
        await scale.search(document_id)
        await scale.drill_down()
        await scale.verify(pid)


def run(workdir: Path, duration: int, baseline: bool, repeat: int) -> Report:
    config_path = workdir / "gateway.toml"
    config = tomllib.loads(config_path.read_text())
    report = Report()
    size = store_size(config)
    report.figures.update(
        messages=size.messages,
        deliveries=size.deliveries,
        events=size.events,
        exchanges=size.exchanges,
    )
    per = size.bytes / max(size.deliveries, 1)
    report.line(
        "store",
        f"{size.messages:,} messages, {size.deliveries:,} deliveries, {size.exchanges:,} "
        f"exchanges, {size.events:,} audit entries",
    )
    report.line(
        "bytes on disk per delivery",
        f"{size.bytes / 1e6:,.0f} MB / {size.deliveries:,} = {per:,.0f} bytes",
        bytes_per_delivery=round(per),
    )
    scale = Scale(workdir, config, report)
    command = [sys.executable, "-m", "gateway", "--log-level", "warning", "serve"]
    with (workdir / "scale-gateway.log").open("ab") as log:
        proc = subprocess.Popen([*command, "--config", str(config_path)], stdout=log, stderr=log)
    try:
        asyncio.run(measure(scale, proc.pid, size.document_id))
        extra = ["--gateway-url", scale.url, "--ops-url", scale.ops, "--gateway-pid", str(proc.pid)]
        extra += ["--tokens", str(workdir / "tokens.env"), "--config", str(config_path)]
        url = config.get("database", {}).get("url", "sqlite")
        with empty_store_like(url) as empty:
            submits(report, extra, ["--database-url", empty], duration, baseline, repeat)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return report


@contextlib.contextmanager
def empty_store_like(url: str) -> Iterator[str]:
    """An empty store of the seeded kind for the baseline: SQLite, or a new PostgreSQL
    database on the same server, dropped afterwards."""
    if not url.startswith("postgresql"):
        yield "sqlite"
        return
    name = f"bench_scale_empty_{os.getpid()}"
    server = url.rsplit("/", 1)[0]

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(server + "/postgres")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def submits(
    report: Report,
    extra: list[str],
    empty_store: list[str],
    duration: int,
    baseline: bool,
    repeat: int,
) -> None:
    """Submit p99 with the history and, with `baseline`, on an empty store of the same kind
    (bench.load's own gateway, given `empty_store`), alternately `repeat` times: a p99 of a
    thousand documents moves by half from one run to the next on a shared machine, so the ratio
    is taken between medians."""
    history: list[float] = []
    alone: list[float] = []
    for run in range(1, repeat + 1):
        text, figure = load(extra, "history", duration)
        report.line(f"submit at 50 docs/s with the history, run {run}", text)
        history += [figure] if figure is not None else []
        if baseline:
            text, figure = load(empty_store, "empty", duration)
            report.line(f"submit at 50 docs/s, empty store, run {run}", text)
            alone += [figure] if figure is not None else []
    with_history = statistics.median(history) if history else None
    report.line(
        "submit p99 with the history, median", f"{with_history} ms", submit_p99_ms=with_history
    )
    if alone:
        empty = statistics.median(alone)
        ratio = f", {with_history / empty:.2f} x" if with_history else ""
        report.line(
            "submit p99 on an empty store, median", f"{empty} ms{ratio}", submit_p99_empty_ms=empty
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="bench.seed's folder")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each load run")
    parser.add_argument("--baseline", action="store_true", help="also on an empty store")
    parser.add_argument("--repeat", type=int, default=3, help="submit runs of each kind")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--label", help="the size's name in bench.growth (default: the folder)")
    args = parser.parse_args()
    report = run(args.workdir, args.duration, args.baseline, args.repeat)
    if args.json:
        record = {"label": args.label or args.workdir.name, "figures": report.figures}
        args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
