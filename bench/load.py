"""Load the gateway end to end through its HTTP API and measure it.

    .venv/bin/python -m bench.load --size 10k --concurrency 32 --duration 20
    .venv/bin/python -m bench.load --size 10k --rate 300 --duration 20
    .venv/bin/python -m bench.load --mix xroad --concurrency 16 --duration 30 --json out.json

It starts its own gateway (`python -m gateway serve`) in a child process on free ports with a
fresh data directory, several agencies and `signature = "optional"` (`--signed`: a development
PKI, "required", documents signed before the clock starts), or drives one already
running (`--gateway-url`, `--ops-url`, `--tokens`). Sending agencies submit documents to one or
two recipients each (closed loop: `--concurrency` submitters as fast as they can; open loop:
`--rate` arrivals per second), while every recipient lists its inbox, fetches each item and
acknowledges it. Documents are built before the clock starts (see bench/docs.py).

Submit latency is POST until 202; submit-to-ack is, per delivery, from the 202 until the
recipient's ack answered 204. Bytes in flight are the documents submitted (from the start of
their POST) and not yet acknowledged by all their recipients.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench import profile
from bench.child import (
    GatewayChild,
    agencies_from_tokens,
    bench_agencies,
    cpu_seconds,
    machine_busy_seconds,
    read_proc_status,
    thread_cpu,
    thread_shares,
    wait_ready,
)
from bench.docs import (
    MIXES,
    NAMED_SIZES,
    Agency,
    Prepared,
    SizeClass,
    build_classes,
    human,
    parse_size,
    presign,
)
from bench.docs import sequence_of as doc_sequence
from bench.report import FULL, MB, latency_ms, render
from gateway.trust.pki import DevPki, init_pki
from gateway.trust.signers import Signers

LARGE_BODY = 1024 * 1024  # fetch bigger bodies in chunks rather than into one bytes object


class Doc:
    """One submitted document, until every recipient acknowledged it."""

    __slots__ = ("acks", "remaining", "size", "t_accepted")

    def __init__(self, size: int, recipients: int) -> None:
        self.size = size
        self.remaining = recipients
        self.t_accepted: float | None = None
        self.acks: list[float] = []


@dataclass
class Options:
    concurrency: int
    rate: float
    arrivals: str
    duration: float | None
    count: int | None
    max_outstanding: int
    list_limit: int
    fetch_concurrency: int
    poll_interval: float
    drain_timeout: float
    marks: float | None = None  # seconds between interval figures (bench.soak)
    marks_file: Path | None = None


class Load:
    """The generator's state: what was sent, what came back, and the figures."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        agencies: list[Agency],
        classes: list[SizeClass],
        run_tag: str,
        options: Options,
        rng: random.Random,
        prepared: list[Prepared] | None = None,
    ) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.agencies = agencies
        self.classes = classes
        self.cum_weights = []
        total = 0.0
        for size_class in classes:
            total += size_class.weight
            self.cum_weights.append(total)
        self.run_tag = run_tag
        self.o = options
        self.rng = rng
        self.prepared = prepared  # signed documents, made in advance: the run ends with them
        self.docs: dict[int, Doc] = {}
        self.next_seq = 1
        self.issued = 0
        self.errors: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()  # by kind: submit, list, fetch, ack
        self.listed_items = 0
        self.submit_latencies: list[float] = []
        self.schedule_lags: list[float] = []
        self.loop_lags: list[float] = []
        self.submitted = self.accepted = self.completed = self.acked_deliveries = 0
        self.submitted_bytes = self.completed_bytes = self.delivered_bytes = 0
        self.in_flight = self.max_in_flight = 0
        self.pending = 0  # documents whose POST started and that are neither failed nor done
        self.outstanding = 0  # POSTs under way (open loop)
        self.arrivals_skipped = self.ignored_items = 0
        self._retry: dict[str, list[str]] = {}  # by agency: deliveries to list again
        self.submitting = True
        self.drained = asyncio.Event()
        self.t0 = self.t_submit_end = self.t_last_ack = 0.0
        self.marks_written = self.marked_latencies = self.marked_accepted = 0

    # -- sending -------------------------------------------------------------------------

    def _ticket(self) -> bool:
        """May one more document be sent? Counts it if so."""
        if self.o.count is not None and self.issued >= self.o.count:
            return False
        if self.prepared is not None and self.issued >= len(self.prepared):
            return False
        if self.o.duration is not None and time.perf_counter() - self.t0 >= self.o.duration:
            return False
        self.issued += 1
        return True

    async def submit_one(self) -> None:
        seq = self.next_seq
        self.next_seq += 1
        if self.prepared is not None:
            template, body = self.prepared[seq - 1].template, self.prepared[seq - 1].body
        else:
            size_class = self.rng.choices(self.classes, cum_weights=self.cum_weights)[0]
            template = self.rng.choice(size_class.templates)
            body = template.body(seq)
        doc = Doc(len(body), len(template.recipients))
        self.docs[seq] = doc
        self.submitted += 1
        self.submitted_bytes += doc.size
        self.pending += 1
        self.in_flight += doc.size
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        started = time.perf_counter()
        self.requests["submit"] += 1
        try:
            async with self.session.post(
                self.url + "/v1/documents", data=body, headers=template.headers
            ) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            status, reason = 0, type(exc).__name__
        else:
            reason = str(status)
        done = time.perf_counter()
        if status == 202:
            self.accepted += 1
            self.submit_latencies.append(done - started)
            doc.t_accepted = done
            return
        self.errors[f"submit {reason}"] += 1
        if not doc.acks:  # refused: nothing will be acknowledged, it is no longer in flight
            self.docs.pop(seq, None)
            self._finish(doc, count=False)

    def _finish(self, doc: Doc, *, count: bool) -> None:
        self.pending -= 1
        self.in_flight -= doc.size
        if count:
            self.completed += 1
            self.completed_bytes += doc.size
        if self.pending == 0 and not self.submitting:
            self.drained.set()

    async def closed_loop(self) -> None:
        async def submitter() -> None:
            while self._ticket():
                await self.submit_one()

        await asyncio.gather(*(submitter() for _ in range(self.o.concurrency)))

    async def open_loop(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        evenly = self.o.arrivals == "uniform"
        due = self.t0

        async def arrival(at: float) -> None:
            self.schedule_lags.append(time.perf_counter() - at)
            try:
                await self.submit_one()
            finally:
                self.outstanding -= 1

        finished = False
        while not finished:
            now = time.perf_counter()
            while due <= now:
                if not self._ticket():
                    finished = True
                    break
                if self.outstanding >= self.o.max_outstanding:
                    self.arrivals_skipped += 1
                else:
                    self.outstanding += 1
                    task = asyncio.create_task(arrival(due))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                due += 1 / self.o.rate if evenly else self.rng.expovariate(self.o.rate)
            if not finished:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if tasks:
            await asyncio.gather(*tasks)

    # -- receiving -----------------------------------------------------------------------

    async def lister(self, agency: Agency, queue: asyncio.Queue[tuple[str, Doc]]) -> None:
        """Lists the inbox and queues what is new; sleeps a little when nothing is."""
        handled: set[str] = set()  # queued, being fetched, or done
        url = f"{self.url}/v1/inbox?kind=edoc&limit={self.o.list_limit}"
        headers = agency.auth()
        while True:
            self.requests["list"] += 1
            try:
                async with self.session.get(url, headers=headers) as response:
                    if response.status != 200:
                        self.errors[f"list {response.status}"] += 1
                        await response.read()
                        await asyncio.sleep(self.o.poll_interval)
                        continue
                    page = await response.json()
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.errors[f"list {type(exc).__name__}"] += 1
                await asyncio.sleep(self.o.poll_interval)
                continue
            new = 0
            self.listed_items += len(page["items"])
            for item in page["items"]:
                delivery_id = item["delivery_id"]
                if delivery_id in handled:
                    continue
                handled.add(delivery_id)
                seq = doc_sequence(item["document_id"], self.run_tag)
                doc = None if seq is None else self.docs.get(seq)
                if doc is None:  # not this run's: leave it alone
                    self.ignored_items += 1
                    continue
                new += 1
                await queue.put((delivery_id, doc))
            for delivery_id in self._retry.pop(agency.id, ()):
                handled.discard(delivery_id)
            if not new:
                await asyncio.sleep(self.o.poll_interval)

    async def worker(self, agency: Agency, queue: asyncio.Queue[tuple[str, Doc]]) -> None:
        headers = agency.auth()
        while True:
            delivery_id, doc = await queue.get()
            if not await self._take(delivery_id, doc, headers):
                self._retry.setdefault(agency.id, []).append(delivery_id)

    async def _take(self, delivery_id: str, doc: Doc, headers: dict[str, str]) -> bool:
        """Fetch and acknowledge one delivery; False if it should be tried again."""
        url = f"{self.url}/v1/inbox/{delivery_id}"
        try:
            self.requests["fetch"] += 1
            async with self.session.get(url, headers=headers) as response:
                if response.status != 200:
                    await response.read()
                    self.errors[f"fetch {response.status}"] += 1
                    return response.status == 404
                if doc.size > LARGE_BODY:
                    got = 0
                    async for chunk in response.content.iter_chunked(256 * 1024):
                        got += len(chunk)
                else:
                    got = len(await response.read())
            if got != doc.size:
                self.errors["fetch size_mismatch"] += 1
            self.requests["ack"] += 1
            async with self.session.post(url + "/ack", headers=headers) as response:
                await response.read()
                if response.status != 204:
                    self.errors[f"ack {response.status}"] += 1
                    return response.status == 404
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.errors[f"fetch/ack {type(exc).__name__}"] += 1
            await asyncio.sleep(self.o.poll_interval)
            return False
        now = time.perf_counter()
        doc.acks.append(now)
        self.acked_deliveries += 1
        self.delivered_bytes += doc.size
        doc.remaining -= 1
        if doc.remaining == 0:
            self.t_last_ack = now
            self._finish(doc, count=True)
        return True

    def start_pollers(self) -> list[asyncio.Task[None]]:
        recipients = {r for c in self.classes for t in c.templates for r in t.recipients}
        tasks = []
        for agency in self.agencies:
            if agency.id not in recipients:
                continue
            queue: asyncio.Queue[tuple[str, Doc]] = asyncio.Queue(self.o.fetch_concurrency)
            tasks.append(asyncio.create_task(self.lister(agency, queue)))
            for _ in range(self.o.fetch_concurrency):
                tasks.append(asyncio.create_task(self.worker(agency, queue)))
        return tasks

    # -- the run -------------------------------------------------------------------------

    async def watch_loop(self, period: float = 0.005) -> None:
        """How late the generator's own event loop wakes up: if it is late, so are its clocks."""
        while True:
            started = time.perf_counter()
            await asyncio.sleep(period)
            self.loop_lags.append(time.perf_counter() - started - period)

    async def mark_intervals(self, every: float, out: Path) -> None:
        """At every `every` seconds of the run, one JSON line in `out`: that interval's submit
        latencies and documents accepted, and the errors so far (bench.soak reads them as they
        come). The run's end writes the last interval (`mark`)."""
        for number in itertools.count(1):
            await asyncio.sleep(max(0.0, self.t0 + number * every - time.perf_counter()))
            await self.mark(out)

    async def mark(self, out: Path) -> None:
        window = self.submit_latencies[self.marked_latencies :]
        if not window:
            return
        self.marked_latencies += len(window)
        self.marks_written += 1
        line = {
            "mark": self.marks_written,
            "elapsed_s": round(time.perf_counter() - self.t0, 1),
            "accepted": self.accepted - self.marked_accepted,
            "submit_latency_ms": latency_ms(window, FULL),
            "errors": dict(self.errors),
        }
        self.marked_accepted = self.accepted
        await asyncio.to_thread(append_line, out, json.dumps(line))

    async def run(self) -> None:
        pollers = self.start_pollers()
        pollers.append(asyncio.create_task(self.watch_loop()))
        if self.o.marks and self.o.marks_file:
            pollers.append(
                asyncio.create_task(self.mark_intervals(self.o.marks, self.o.marks_file))
            )
        self.t0 = time.perf_counter()
        try:
            if self.o.rate > 0:
                await self.open_loop()
            else:
                await self.closed_loop()
            self.t_submit_end = time.perf_counter()
            self.submitting = False
            if self.o.marks and self.o.marks_file:
                await self.mark(self.o.marks_file)
            if self.pending == 0:
                self.drained.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drained.wait(), self.o.drain_timeout)
        finally:
            for task in pollers:
                task.cancel()
            await asyncio.gather(*pollers, return_exceptions=True)

    def figures(self) -> dict[str, Any]:
        end = max(self.t_last_ack, self.t_submit_end)
        elapsed = max(1e-9, end - self.t0)
        submit_elapsed = max(1e-9, self.t_submit_end - self.t0)
        to_ack = []
        for doc in self.docs.values():
            if doc.t_accepted is not None:
                to_ack += [max(0.0, t - doc.t_accepted) for t in doc.acks]
        record: dict[str, Any] = {
            "submitted": self.submitted,
            "accepted": self.accepted,
            "acked_documents": self.completed,
            "acked_deliveries": self.acked_deliveries,
            "unacked_documents": self.pending,
            "mean_document_bytes": self.submitted_bytes / max(1, self.submitted),
            "elapsed_s": elapsed,
            "submit_elapsed_s": submit_elapsed,
            "docs_per_s_acked": self.completed / elapsed,
            "docs_per_s_submitted": self.accepted / submit_elapsed,
            "mb_per_s_acked": self.completed_bytes / elapsed / MB,
            "mb_per_s_delivered": self.delivered_bytes / elapsed / MB,
            "submit_latency_ms": latency_ms(self.submit_latencies, FULL),
            "submit_to_ack_ms": latency_ms(to_ack, FULL),
            "errors": dict(self.errors),
            "generator_loop_lag_ms": latency_ms(self.loop_lags, FULL),
            "requests": dict(self.requests),
            "requests_per_s": sum(self.requests.values()) / elapsed,
            "listed_items": self.listed_items,
            "ignored_inbox_items": self.ignored_items,
            "max_bytes_in_flight": self.max_in_flight,
        }
        if self.o.rate > 0:
            record["schedule_lag_ms"] = latency_ms(self.schedule_lags, FULL)
            record["arrivals_skipped"] = self.arrivals_skipped
        return record


# -- command line ------------------------------------------------------------------------


def append_line(path: Path, text: str) -> None:
    with path.open("a") as out:
        out.write(text + "\n")


def size_spec(args: argparse.Namespace) -> tuple[list[tuple[int, float]], str]:
    if args.mix:
        sizes = list(MIXES[args.mix])
        return sizes, f"mix {args.mix} (" + ", ".join(f"{human(s)} {w:.1%}" for s, w in sizes) + ")"
    size = NAMED_SIZES.get(args.size.lower()) or parse_size(args.size)
    return [(size, 1.0)], f"size {human(size)}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.splitlines()[0]
    )
    load = parser.add_argument_group("load")
    load.add_argument("--concurrency", type=int, default=32, help="closed loop: submitters")
    load.add_argument("--rate", type=float, default=0.0, help="open loop: documents per second")
    load.add_argument("--arrivals", choices=["poisson", "uniform"], default="poisson")
    load.add_argument("--duration", type=float, help="seconds of submitting (default 10)")
    load.add_argument("--count", type=int, help="documents to submit")
    load.add_argument("--size", default="10k", help="2k, 10k, 100k, 2m, 10m or bytes")
    load.add_argument("--mix", choices=sorted(MIXES), help="a size mix instead of --size")
    load.add_argument("--max-recipients", type=int, default=2, help="1..N recipients each")
    load.add_argument("--max-outstanding", type=int, default=1000, help="open loop: POST cap")
    load.add_argument("--seed", type=int, default=None)
    recv = parser.add_argument_group("recipients")
    recv.add_argument("--list-limit", type=int, default=200)
    recv.add_argument("--fetch-concurrency", type=int, default=16, help="per recipient agency")
    recv.add_argument("--poll-interval", type=float, default=0.05, help="sleep when idle (s)")
    recv.add_argument("--drain-timeout", type=float, default=120.0)
    gw = parser.add_argument_group("gateway")
    gw.add_argument("--agencies", type=int, default=6)
    gw.add_argument(
        "--signed",
        action="store_true",
        help='a development PKI, every document signed, signature = "required"',
    )
    gw.add_argument(
        "--signed-count",
        type=int,
        default=5000,
        help="--signed: documents signed in advance (the run stops when they are all sent)",
    )
    gw.add_argument("--bus-url", default="local")
    gw.add_argument("--database-url", default="sqlite")
    gw.add_argument("--workdir", type=Path, help="where the temporary directory goes")
    gw.add_argument("--keep", action="store_true", help="keep the temporary directory")
    gw.add_argument("--gateway-url", help="drive this running gateway instead of a child")
    gw.add_argument("--ops-url", help="its ops listener (for /readyz)")
    gw.add_argument("--tokens", type=Path, help="tokens.env of the running gateway")
    gw.add_argument("--config", type=Path, help="its configuration (default: beside --tokens)")
    gw.add_argument("--gateway-pid", type=int, help="its process id, for RSS and CPU figures")
    out = parser.add_argument_group("output")
    out.add_argument("--json", type=Path, help="also write the figures to this file")
    out.add_argument("--marks", type=float, help="seconds between interval figures")
    out.add_argument("--marks-file", type=Path, help="where they go, one JSON line each")
    out.add_argument("--profile", type=Path, help="py-spy record the gateway into this raw file")
    out.add_argument("--profile-delay", type=float, default=2.0)
    out.add_argument("--profile-seconds", type=float, default=10.0)
    out.add_argument(
        "--profile-gil", action="store_true", help="sample only the thread holding the GIL"
    )
    return parser


def describe(args: argparse.Namespace) -> str:
    if args.rate > 0:
        mode = f"open loop, {args.rate:g} docs/s {args.arrivals}"
    else:
        mode = f"closed loop, concurrency {args.concurrency}"
    limits = [f"{args.duration:g} s"] if args.duration else []
    limits += [f"{args.count} documents"] if args.count else []
    signed = "; signed" if args.signed else ""
    return f"{mode}, {' or '.join(limits)}{signed}"


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.duration is None and args.count is None:
        args.duration = 10.0
    if args.gateway_url and not (args.ops_url and args.tokens):
        parser.error("--gateway-url needs --ops-url and --tokens")
    if args.gateway_pid and not args.gateway_url:
        parser.error("--gateway-pid goes with --gateway-url")
    if args.signed and args.gateway_url:
        parser.error("--signed needs the bench's own gateway (it makes the PKI it trusts)")
    if args.concurrency < 1 or args.fetch_concurrency < 1 or args.agencies < 2:
        parser.error("--concurrency and --fetch-concurrency at least 1, --agencies at least 2")


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    run_tag = secrets.token_hex(4)
    child: GatewayChild | None = None
    pki: DevPki | None = None
    if args.gateway_url:
        config = args.config or args.tokens.parent / "gateway.toml"
        agencies = agencies_from_tokens(args.tokens, config)
        url, ops_url = args.gateway_url, args.ops_url
        if len(agencies) < 2:
            raise SystemExit(f"{args.tokens}: fewer than two agency tokens match {config}")
    else:
        agencies = bench_agencies(args.agencies)
        pki = init_pki(workdir / "pki", [(a.id, a.name) for a in agencies]) if args.signed else None
        child = GatewayChild(
            workdir,
            agencies,
            bus_url=args.bus_url,
            database_url=args.database_url,
            trust=None if pki is None else pki.trust_section(),
        )
        url, ops_url = child.url, child.ops_url
    sizes, sizes_label = size_spec(args)
    print(f"building documents ({sizes_label}) ...", file=sys.stderr, flush=True)
    classes = build_classes(agencies, sizes, run_tag, rng, args.max_recipients)
    prepared = None
    if pki is not None:
        count = min(args.count or args.signed_count, args.signed_count)
        print(f"signing {count} documents ...", file=sys.stderr, flush=True)
        prepared = presign(classes, rng, count, Signers(pki).sign)
    options = Options(
        concurrency=args.concurrency,
        rate=args.rate,
        arrivals=args.arrivals,
        duration=args.duration,
        count=args.count,
        max_outstanding=args.max_outstanding,
        list_limit=args.list_limit,
        fetch_concurrency=args.fetch_concurrency,
        poll_interval=args.poll_interval,
        drain_timeout=args.drain_timeout,
        marks=args.marks,
        marks_file=args.marks_file,
    )
    senders = args.max_outstanding if args.rate > 0 else args.concurrency
    connector = aiohttp.TCPConnector(
        limit=senders + len(agencies) * (args.fetch_concurrency + 1) + 8,
        limit_per_host=0,
        keepalive_timeout=60,
    )
    exit_code: int | str | None = "n/a"
    timeout = aiohttp.ClientTimeout(total=600)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            if child is not None:
                child.start()
                print(f"gateway pid {child.pid} on {child.url}", file=sys.stderr, flush=True)
            await wait_ready(session, ops_url, 60.0, child)
            load = Load(session, url, agencies, classes, run_tag, options, rng, prepared)
            pid = child.pid if child is not None else args.gateway_pid
            print(f"running: {describe(args)}", file=sys.stderr, flush=True)
            cpu_before = cpu_seconds(pid) if pid else None
            threads_before = thread_cpu(pid) if pid else {}
            process_before = time.process_time()
            machine_before = machine_busy_seconds()
            profiler = None
            if args.profile and pid:
                profiler = asyncio.create_task(
                    profile.record(
                        pid,
                        args.profile,
                        args.profile_delay,
                        args.profile_seconds,
                        gil=args.profile_gil,
                    )
                )
            await run_watched(load, child)
            record = load.figures()
            cpu_after = cpu_seconds(pid) if pid else None
            threads_after = thread_cpu(pid) if pid else {}
            generator_cpu = time.process_time() - process_before
            machine_after = machine_busy_seconds()
            peak_rss = read_proc_status(pid, "VmHWM") if pid else None
            if profiler is not None:
                await profiler
    finally:  # the session is closed first, so that no keep-alive connection holds it up
        if child is not None:
            exit_code = child.stop()
    elapsed = record["elapsed_s"]
    limit_bytes = 4 * load.max_in_flight + 150 * MB
    gateway_cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    others = None  # cores that other processes on this machine took during the run
    if machine_before is not None and machine_after is not None:
        busy = machine_after - machine_before
        others = max(0.0, busy - generator_cpu - (gateway_cpu or 0.0)) / elapsed
    record.update(
        mode=describe(args),
        sizes=sizes_label,
        arguments={k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        gateway={
            "url": url,
            "pid": pid,
            "bus": args.bus_url.split("@")[-1] if child else "external",
            "database": args.database_url.split("@")[-1] if child else "external",
            "exit_code": exit_code,
        },
        memory={
            "gateway_peak_rss_bytes": peak_rss,
            "max_bytes_in_flight": load.max_in_flight,
            "rss_limit_bytes": limit_bytes,
            "rss_ok": None if peak_rss is None else peak_rss < limit_bytes,
        },
        cpu={
            "gateway_s": gateway_cpu,
            "gateway_cores": None if gateway_cpu is None else gateway_cpu / elapsed,
            "generator_s": generator_cpu,
            "generator_cores": generator_cpu / elapsed,
            "gateway_threads_cores": thread_shares(threads_before, threads_after, pid, elapsed),
            "machine_cpus": os.cpu_count(),
            "other_processes_cores": others,
        },
    )
    if args.profile and pid:
        record["profile"] = profile.summary(args.profile)
    return record


async def run_watched(load: Load, child: GatewayChild | None) -> None:
    """The load run; if the child gateway dies meanwhile, RuntimeError with its log's tail."""
    task = asyncio.create_task(load.run())
    try:
        while not task.done():
            if child is not None:
                child.check_alive()
            await asyncio.wait({task}, timeout=0.5)
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    await task


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    workdir = Path(tempfile.mkdtemp(prefix="edocgw-bench-", dir=args.workdir))
    signal.signal(signal.SIGTERM, _interrupted)  # stop the child and clean up, as on Ctrl-C
    try:
        record = asyncio.run(run(args, workdir))
    except RuntimeError as exc:  # the gateway did not start or died: its log says why
        print(f"bench.load: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench.load: interrupted; the gateway was stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render(record))
    if "profile" in record:
        print(profile.render(record["profile"]))
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    clean_exit = record["gateway"]["exit_code"] in (0, "n/a")
    return 0 if clean_exit and record["unacked_documents"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
