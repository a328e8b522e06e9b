"""What a city-year of history costs (issue 16): run after `bench.seed` on its working folder.

Starts `edocgw serve` on the seeded configuration and measures, through the HTTP API as
auditors, departments and operators call it:

- a year's statistics by agency and by group (`GET /v1/stats/exchanges`), the monthly report
  (`GET /v1/reports/monthly`);
- the inbox of the agency with `--inbox` items uncollected: first page, p50/p99 of repeated
  listings;
- search by document id (`GET /v1/ops/messages?document_id=`) where the tree serves it;
- `GET /v1/audit/verify`: events per second, and the gateway's RSS before and after;
- bytes on disk per delivery;
- submit latency at 50 documents/s with the history present (bench.load against this gateway)
  and, with `--baseline`, the same on an empty store (bench.load's own gateway).

    .venv/bin/python -m bench.scale --workdir /tmp/city --baseline
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import tomllib
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.child import read_proc_status, wait_ready
from bench.seed import INBOX_AGENCY

RUNS = 3  # each heavy call is timed this many times; the figures are min and median
LISTINGS = 200


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


def summary(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    if len(ms) >= 20:
        p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
        return f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms ({len(ms)} calls)"
    return f"min {ms[0]:.0f} ms, median {statistics.median(ms):.0f} ms ({len(ms)} runs)"


class Scale:
    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self.session: aiohttp.ClientSession | None = None
        self.workdir = workdir
        self.url = "http://" + config["server"]["listen"]
        self.ops = "http://" + config["server"]["ops_listen"]
        self.auditor = bearer((workdir / "auditor.token").read_text().strip())
        self.inbox = bearer((workdir / "inbox.token").read_text().strip())

    async def get(self, url: str, headers: dict[str, str], **params: str) -> tuple[int, bytes]:
        assert self.session is not None
        async with self.session.get(url, headers=headers, params=params) as response:
            return response.status, await response.read()

    async def stats(self, by: str) -> str:
        today = date.today()
        params = {"from": str(today - timedelta(days=365)), "to": str(today), "period": "year"}
        seconds, (status, body) = await timed(
            lambda: self.get(self.ops + "/v1/stats/exchanges", self.auditor, by=by, **params)
        )
        answer = json.loads(body) if status == 200 else None
        rows = len(answer) if isinstance(answer, list) else len(answer["rows"]) if answer else 0
        return f"{summary(seconds)}; HTTP {status}, {rows} rows"

    async def monthly(self) -> str:
        month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        seconds, (status, body) = await timed(
            lambda: self.get(self.ops + "/v1/reports/monthly", self.auditor, month=month)
        )
        return f"{summary(seconds)}; HTTP {status}, {len(body)} bytes ({month})"

    async def listing(self) -> str:
        seconds, (status, body) = await timed(
            lambda: self.get(self.url + "/v1/inbox", self.inbox, limit="100"), LISTINGS
        )
        items = len(json.loads(body)["items"]) if status == 200 else status
        return f"{summary(seconds)}; HTTP {status}, {items} items a page"

    async def search(self, document_id: str) -> str:
        seconds, (status, _) = await timed(
            lambda: self.get(self.ops + "/v1/ops/messages", self.auditor, document_id=document_id)
        )
        if status == 404:
            return "not served by this tree (GET /v1/ops/messages answers 404)"
        return f"{summary(seconds)}; HTTP {status}"

    async def verify(self, pid: int) -> str:
        before = read_proc_status(pid, "VmRSS")
        seconds, (_, body) = await timed(
            lambda: self.get(self.ops + "/v1/audit/verify", self.auditor), 1
        )
        after, peak = read_proc_status(pid, "VmRSS"), read_proc_status(pid, "VmHWM")
        answer = json.loads(body)
        rate = answer["events"] / seconds[0]
        return (
            f"{answer['events']} events in {seconds[0]:.1f} s = {rate:,.0f} events/s, "
            f"ok={answer['ok']}; RSS {mb(before)} -> {mb(after)} MB (peak {mb(peak)} MB)"
        )


def mb(value: int | None) -> str:
    return "?" if value is None else f"{value / 1e6:.0f}"


def disk_figures(data_dir: Path) -> tuple[str, str]:
    """Bytes on disk per delivery, and a DocumentId to search for (read by this process, not
    the gateway's, so the gateway's SQLite locks are untouched: tests/datafiles.py)."""
    size = sum(p.stat().st_size for p in data_dir.iterdir() if p.is_file())
    conn = sqlite3.connect(f"file:{data_dir / 'gateway.sqlite3'}?mode=ro", uri=True)
    try:
        (deliveries,) = conn.execute("SELECT count(*) FROM deliveries").fetchone()
        (document_id,) = conn.execute(
            "SELECT document_id FROM messages WHERE kind = 'edoc' LIMIT 1 OFFSET 1000"
        ).fetchone()
    finally:
        conn.close()
    per = size / max(deliveries, 1)
    return (
        f"{size / 1e6:,.0f} MB for {deliveries:,} deliveries = {per:,.0f} bytes each",
        document_id,
    )


def load(extra: list[str], label: str, seconds: int) -> str:
    out = Path(f"/tmp/bench-scale-{os.getpid()}-{label}.json")
    command = [sys.executable, "-m", "bench.load", "--rate", "50", "--duration", str(seconds)]
    command += ["--size", "10k", "--json", str(out), *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    if not out.exists():
        return f"bench.load failed ({done.returncode}): {done.stderr[-500:]}"
    record = json.loads(out.read_text())
    out.unlink()
    sub = record["submit_latency_ms"]
    return f"p50 {sub['p50']} ms, p99 {sub['p99']} ms ({sub['count']} documents)"


async def measure(scale: Scale, pid: int, document_id: str) -> None:
    async with aiohttp.ClientSession() as session:
        scale.session = session
        started = time.perf_counter()
        await wait_ready(session, scale.ops, 300)
        print(f"start-up (migrations, republish sweep): {time.perf_counter() - started:.1f} s")
        print(f"statistics for a year by agency: {await scale.stats('agency')}")
        print(f"statistics for a year by group: {await scale.stats('group')}")
        print(f"monthly report: {await scale.monthly()}")
        print(f"inbox of {INBOX_AGENCY} (uncollected backlog): {await scale.listing()}")
        print(f"search by document id: {await scale.search(document_id)}")
        print(f"audit verification: {await scale.verify(pid)}")


def run(workdir: Path, duration: int, baseline: bool) -> None:
    config_path = workdir / "gateway.toml"
    config = tomllib.loads(config_path.read_text())
    disk, document_id = disk_figures(Path(config["server"]["data_dir"]))
    print(f"bytes on disk per delivery: {disk}")
    scale = Scale(workdir, config)
    command = [sys.executable, "-m", "gateway", "--log-level", "warning", "serve"]
    with (workdir / "scale-gateway.log").open("ab") as log:
        proc = subprocess.Popen([*command, "--config", str(config_path)], stdout=log, stderr=log)
    try:
        asyncio.run(measure(scale, proc.pid, document_id))
        extra = ["--gateway-url", scale.url, "--ops-url", scale.ops, "--gateway-pid", str(proc.pid)]
        extra += ["--tokens", str(workdir / "tokens.env"), "--config", str(config_path)]
        print(f"submit at 50 docs/s with the history: {load(extra, 'history', duration)}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    if baseline:
        print(f"submit at 50 docs/s, empty store: {load([], 'empty', duration)}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="bench.seed's folder")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each load run")
    parser.add_argument("--baseline", action="store_true", help="also on an empty store")
    args = parser.parse_args()
    run(args.workdir, args.duration, args.baseline)


if __name__ == "__main__":
    main()
