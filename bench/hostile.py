"""Hostile clients against a gateway under a steady, well-behaved load (issue 13).

    .venv/bin/python -m bench.hostile [--rate 5] [--window 8] [--only stats,gzip,...]

It starts its own gateway (bench.child) on loopback ports, runs `--agencies-load` agencies
(3) each submitting 10 kB documents at `--rate` per second to the next one (open loop), and
measures their submit latency: first for a window without attack, then for one window per
attack, each attack alone, with a pause between them for the gateway to recover. For each
attack it prints the p99 submit latency of the well-behaved agencies during the attack, the
p99 without attack, their ratio (target: 2x at most), the slowest /healthz probe and what
the attack's own requests were answered. Every attack is bounded in size and stops at the
end of its window; everything stays on 127.0.0.1; the gateway is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.attacks import ATTACKS, Target, attack_process
from bench.child import GatewayChild, bench_agencies, wait_ready
from bench.docs import KIB, Template, build_template

CLIENT_TIMEOUT_S = 60.0
PROBE_INTERVAL_S = 0.25
MAX_OUTSTANDING = 500


@dataclass
class Sample:
    started: float
    latency: float
    status: str


# --- the well-behaved load --------------------------------------------------------------------
class Load:
    def __init__(self, session: aiohttp.ClientSession, url: str, templates: list[Template]):
        self._session = session
        self._url = url + "/v1/documents"
        self._templates = templates
        self.samples: list[Sample] = []
        self._seq = 0
        self._pending: set[asyncio.Task[None]] = set()

    async def run(self, rate: float, stop: asyncio.Event) -> None:
        """Each template's agency submits `rate` documents per second until `stop` is set."""
        loop = asyncio.get_running_loop()
        step = 1.0 / rate
        due = [loop.time() + random.random() * step for _ in self._templates]
        while not stop.is_set():
            index = min(range(len(due)), key=due.__getitem__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, due[index] - loop.time()))
                break
            if len(self._pending) < MAX_OUTSTANDING:
                task = asyncio.create_task(self._submit(self._templates[index], due[index]))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
            else:
                self.samples.append(Sample(due[index], 0.0, "skipped"))
            due[index] += step
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def _submit(self, template: Template, scheduled: float) -> None:
        self._seq += 1
        body = template.body(self._seq)
        loop = asyncio.get_running_loop()
        try:
            async with self._session.post(self._url, data=body, headers=template.headers) as r:
                await r.read()
                status = str(r.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = type(exc).__name__
        self.samples.append(Sample(scheduled, loop.time() - scheduled, status))


def p99(samples: list[Sample]) -> float | None:
    latencies = sorted(s.latency for s in samples if s.status != "skipped")
    if not latencies:
        return None
    return latencies[max(0, int(len(latencies) * 0.99) - 1)]


# --- the run ----------------------------------------------------------------------------------
async def probe_health(ops_url: str, until: float) -> float:
    """The slowest /healthz answer (s) until `until`."""
    loop = asyncio.get_running_loop()
    slowest = 0.0
    async with aiohttp.ClientSession() as session:
        while loop.time() < until:
            started = loop.time()
            try:
                async with session.get(ops_url + "/healthz") as response:
                    await response.read()
            except aiohttp.ClientError:
                pass
            slowest = max(slowest, loop.time() - started)
            await asyncio.sleep(PROBE_INTERVAL_S)
    return slowest


async def recover(ops_url: str, pause: float) -> None:
    """Until /healthz answers again, then `pause` seconds for queues to drain."""
    async with aiohttp.ClientSession() as session:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(120):
                while True:
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(ops_url + "/healthz") as response:
                            if response.status == 200:
                                break
                    await asyncio.sleep(0.5)
    await asyncio.sleep(pause)


@dataclass
class Phase:
    name: str
    start: float
    end: float
    healthz_max: float
    attack: Counter[str]


async def phases(args: argparse.Namespace, target: Target) -> list[Phase]:
    loop = asyncio.get_running_loop()
    done = []
    spawn = multiprocessing.get_context("spawn")
    for name in ["none", *args.only]:
        seen: Counter[str] = Counter()
        process = None
        if name != "none":
            ours, theirs = spawn.Pipe()
            process = spawn.Process(target=attack_process, args=(name, target, args.window, theirs))
            process.start()
            await loop.run_in_executor(None, ours.recv)  # its body is built
        start = loop.time()
        end = start + args.window
        slowest = await probe_health(target.ops_url, end)
        if process is not None:
            seen.update(await loop.run_in_executor(None, ours.recv))
            await loop.run_in_executor(None, process.join, 30)
            if process.is_alive():
                process.kill()
        done.append(Phase(name, start, end, slowest, seen))
        print(f"  {name}: done", flush=True)
        await recover(target.ops_url, args.pause)
    return done


def report(done: list[Phase], samples: list[Sample]) -> list[dict[str, object]]:
    rows = []
    baseline = p99([s for s in samples if done[0].start <= s.started < done[0].end])
    for phase in done:
        inside = [s for s in samples if phase.start <= s.started < phase.end]
        value = p99(inside)
        ratio = None if value is None or not baseline else value / baseline
        errors = Counter(s.status for s in inside if s.status != "202")
        rows.append(
            {
                "attack": phase.name,
                "submits": len(inside),
                "p99_ms": None if value is None else round(value * 1000, 1),
                "baseline_p99_ms": None if baseline is None else round(baseline * 1000, 1),
                "ratio": None if ratio is None else round(ratio, 2),
                "healthz_max_ms": round(phase.healthz_max * 1000, 1),
                "load_errors": dict(errors),
                "attack_answers": dict(phase.attack),
            }
        )
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    print(
        f"\n{'attack':<14}{'submits':>8}{'p99 ms':>10}{'no attack':>11}{'ratio':>7}"
        f"{'healthz max':>13}  load errors / attack answered"
    )
    for row in rows:
        ratio = row["ratio"]
        flag = "  > 2x" if isinstance(ratio, float) and ratio > 2 else ""
        print(
            f"{row['attack']:<14}{row['submits']:>8}{row['p99_ms']!s:>10}"
            f"{row['baseline_p99_ms']!s:>11}{ratio!s:>7}{row['healthz_max_ms']!s:>13}  "
            f"{row['load_errors'] or '-'} / {row['attack_answers'] or '-'}{flag}"
        )


async def run(args: argparse.Namespace, workdir: Path) -> list[dict[str, object]]:
    agencies = bench_agencies(args.agencies_load + 2)
    polite, (attacker, victim) = agencies[: args.agencies_load], agencies[args.agencies_load :]
    blob = memoryview(random.randbytes(16 * KIB))
    templates = [
        build_template(sender, [polite[(i + 1) % len(polite)]], "HOSTILE", 10 * KIB, blob)
        for i, sender in enumerate(polite)
    ]
    child = GatewayChild(workdir, agencies, bus_url="local", database_url="sqlite")
    child.start()
    try:
        timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            await wait_ready(session, child.ops_url, 60, child)
            target = Target("127.0.0.1", child.port, child.ops_url, attacker, victim)
            load = Load(session, child.url, templates)
            stop = asyncio.Event()
            runner = asyncio.create_task(load.run(args.rate, stop))
            await asyncio.sleep(2)  # the load settles before the first window
            try:
                done = await phases(args, target)
            finally:
                stop.set()  # the load stops with the last window
                await runner
            return report(done, load.samples)
    finally:
        code = child.stop()
        if code != 0:
            print(f"the gateway exited {code}:\n{child.log_tail()}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__)
    parser.add_argument("--rate", type=float, default=5.0, help="documents/s per agency")
    parser.add_argument("--agencies-load", type=int, default=3, help="well-behaved agencies")
    parser.add_argument("--window", type=float, default=8.0, help="seconds per attack")
    parser.add_argument("--pause", type=float, default=3.0, help="recovery between attacks")
    parser.add_argument(
        "--only", default=",".join(ATTACKS), help=f"comma-separated: {', '.join(ATTACKS)}"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.only = [name for name in args.only.split(",") if name]
    unknown = [name for name in args.only if name not in ATTACKS]
    if unknown:
        parser.error(f"unknown attacks: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="edocgw-hostile-") as workdir:
        rows = asyncio.run(run(args, Path(workdir)))
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
