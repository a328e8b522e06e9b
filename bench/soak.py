"""A long run at a steady rate with retention removing bodies (issue 16): does anything grow
without bound?

    .venv/bin/python -m bench.soak                       # 30 minutes, 50 docs/s, a mark every 5
    .venv/bin/python -m bench.soak --duration 360 --mark 60

Starts `edocgw serve` on the embedded default (SQLite store, local bus) with
`[retention] bodies_days = 1`, and drives it with `bench.load` (the X-Road size mix, an open
loop at `--rate` documents per second, every recipient listing, fetching and acknowledging)
for `--duration` seconds. Retention runs as in production, in the background of the gateway;
since a body may only go a day after its message finished, every `--retention-every` seconds
`edocgw retention` also runs a pass against the serving store from a process that
`faketime` puts one day ahead: it removes every body finished until then, so the store keeps
about `--retention-every` seconds of bodies (without faketime on the machine, nothing is
removed, and the verdict says so).

At every mark it prints that interval's documents and submit p50/p99 (bench.load's marks), and
the gateway's RSS, open files, threads, data folder size and the bodies removed so far; at the
end, whether RSS, open files and the store are flat after the first mark (the warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.child import GatewayChild, bench_agencies, read_proc_status, wait_ready
from bench.scale import folder_bytes

AGENCIES = 6
FLAT_RSS = 0.10  # RSS may move by this share of its value at the end of the warm-up
FLAT_FDS = 5
REMOVED = re.compile(r"removed (\d+) bodies")


@dataclass(frozen=True)
class Held:
    """What the store holds: metadata stays for metadata_days, bodies only until retention."""

    messages: int
    bodies: int
    body_bytes: int
    used_bytes: int  # the database's pages in use: its file less the free pages kept for reuse

    @property
    def metadata_per_message(self) -> float:
        return (self.used_bytes - self.body_bytes) / max(self.messages, 1)


_HELD = (
    "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM bodies), "
    "(SELECT coalesce(sum(length(body)), 0) FROM bodies), "
    "(SELECT (page_count - freelist_count) * page_size "
    "FROM pragma_page_count, pragma_freelist_count, pragma_page_size)"
)


def held(data_dir: Path) -> Held:
    """Read by this process, never the gateway's (tests/datafiles.py says why)."""
    conn = sqlite3.connect(f"file:{data_dir / 'gateway.sqlite3'}?mode=ro", uri=True)
    try:
        messages, bodies, body_bytes, used = conn.execute(_HELD).fetchone()
    finally:
        conn.close()
    return Held(int(messages), int(bodies), int(body_bytes), int(used))


@dataclass(frozen=True)
class Mark:
    number: int
    elapsed_s: float
    interval_s: float
    accepted: int
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    rss: int
    fds: int  # files and pipes: what a leak would grow
    sockets: int  # the clients' connections, as many as they keep open
    threads: int
    store_bytes: int
    held: Held
    removed: int

    def line(self) -> str:
        return (
            f"{self.elapsed_s / 60:5.1f} min: {self.accepted:6,} accepted "
            f"({self.accepted / self.interval_s:.1f}/s), submit p50 {self.p50_ms} ms "
            f"p99 {self.p99_ms} ms, errors {self.errors}; "
            f"RSS {self.rss / 1e6:.0f} MB, {self.fds} open files and {self.sockets} sockets, "
            f"{self.threads} threads, data folder {self.store_bytes / 1e6:,.0f} MB "
            f"({self.held.messages:,} messages, {self.held.bodies:,} bodies held, "
            f"{self.held.body_bytes / 1e6:,.0f} MB; "
            f"{self.held.metadata_per_message:,.0f} bytes of metadata a message), "
            f"{self.removed:,} bodies removed"
        )


def open_files(pid: int) -> tuple[int, int]:
    """The process's open descriptors: (files and pipes, sockets)."""
    files = sockets = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed meanwhile
            continue
        if target.startswith("socket:"):
            sockets += 1
        else:
            files += 1
    return files, sockets


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


class Soak:
    def __init__(self, workdir: Path, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = workdir
        agencies = bench_agencies(AGENCIES)
        self.child = GatewayChild(workdir, agencies, bus_url="local", database_url="sqlite")
        # One generator speaks for every agency from one address: the per-client cap (128,
        # for a real client) would answer it 503 whenever a stall piles up its submits.
        config = self.child.config.read_text()
        config = config.replace("[server]\n", "[server]\nmax_connections_per_client = 4096\n", 1)
        self.child.config.write_text(config + "\n[retention]\nbodies_days = 1\n")
        self.tokens = workdir / "tokens.env"
        self.tokens.write_text("".join(f"export TOKEN_{a.id}={a.token}\n" for a in agencies))
        self.marks_file = workdir / "marks.jsonl"
        self.removed = 0
        self.marked_s = 0.0  # the elapsed seconds of the mark before
        self.passes: list[str] = []

    def load_command(self) -> list[str]:
        args = self.args
        command = [sys.executable, "-m", "bench.load", "--mix", "xroad"]
        command += ["--rate", str(args.rate), "--duration", str(args.duration)]
        command += ["--gateway-url", self.child.url, "--ops-url", self.child.ops_url]
        command += ["--gateway-pid", str(self.child.pid), "--tokens", str(self.tokens)]
        command += ["--config", str(self.child.config), "--marks", str(args.mark)]
        command += ["--marks-file", str(self.marks_file)]
        return [*command, "--json", str(self.workdir / "load.json")]

    async def retention(self) -> None:
        """A pass one day ahead every `--retention-every` seconds (see the module's doc)."""
        faketime = shutil.which("faketime")
        if faketime is None:
            self.passes.append("faketime is not installed: no body could be removed")
            return
        command = [faketime, "-f", "+1d", sys.executable, "-m", "gateway", "--log-level"]
        command += ["warning", "retention", "--config", str(self.child.config)]
        while True:
            await asyncio.sleep(self.args.retention_every)
            proc = await asyncio.create_subprocess_exec(
                *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
            )
            out, _ = await proc.communicate()
            found = REMOVED.search(out.decode(errors="replace"))
            if found is None:
                self.passes.append(f"a pass failed ({proc.returncode}): {out[-300:]!r}")
            else:
                self.removed += int(found[1])

    def mark(self, record: dict[str, object]) -> Mark:
        pid = self.child.pid
        assert pid is not None
        latency = record["submit_latency_ms"]
        assert isinstance(latency, dict)
        errors = record["errors"]
        assert isinstance(errors, dict)
        files, sockets = open_files(pid)
        elapsed = float(str(record["elapsed_s"]))
        interval, self.marked_s = elapsed - self.marked_s, elapsed
        return Mark(
            number=int(str(record["mark"])),
            elapsed_s=elapsed,
            interval_s=max(interval, 1e-9),
            accepted=int(str(record["accepted"])),
            p50_ms=latency.get("p50"),
            p99_ms=latency.get("p99"),
            errors=sum(errors.values()),
            rss=read_proc_status(pid, "VmRSS") or 0,
            fds=files,
            sockets=sockets,
            threads=threads(pid),
            store_bytes=folder_bytes(self.workdir / "data"),
            held=held(self.workdir / "data"),
            removed=self.removed,
        )

    async def follow(self, load: asyncio.subprocess.Process) -> list[Mark]:
        marks: list[Mark] = []
        read = 0
        while True:
            lines = self.marks_file.read_text().splitlines() if self.marks_file.exists() else []
            for text in lines[read:]:
                marks.append(self.mark(json.loads(text)))
                print(marks[-1].line(), flush=True)
            read = len(lines)
            if load.returncode is not None:
                return marks
            self.child.check_alive()
            await asyncio.sleep(1)

    async def run(self) -> list[Mark]:
        self.child.start()
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, self.child.ops_url, 60, self.child)
        retention = asyncio.create_task(self.retention())
        load = await asyncio.create_subprocess_exec(
            *self.load_command(), stdout=asyncio.subprocess.DEVNULL
        )
        try:
            waiting = asyncio.create_task(load.wait())
            marks = await self.follow(load)
            await waiting
        finally:
            retention.cancel()
            if load.returncode is None:
                load.terminate()
                await load.wait()
        return marks


def verdict(marks: list[Mark]) -> list[str]:
    """Whether the figures after the warm-up (the first mark) are flat."""
    if len(marks) < 3:
        return ["too few marks for a verdict: run longer than three marks"]
    settled, last = marks[1], marks[-1]
    rss_growth = last.rss - settled.rss
    fds_growth = last.fds - settled.fds
    rss_flat = rss_growth <= FLAT_RSS * settled.rss  # shrinking is flat enough
    fds_flat = fds_growth <= FLAT_FDS
    return [
        f"RSS {settled.rss / 1e6:.0f} -> {last.rss / 1e6:.0f} MB after the warm-up "
        f"({rss_growth / 1e6:+.0f} MB): {'flat' if rss_flat else 'GROWING'}",
        f"open files {settled.fds} -> {last.fds} ({fds_growth:+d}): "
        f"{'flat' if fds_flat else 'GROWING'}; sockets per mark (the clients' connections): "
        f"{', '.join(str(m.sockets) for m in marks)}",
        f"bodies held per mark: {', '.join(f'{m.held.body_bytes / 1e6:,.0f}' for m in marks)} "
        "MB (retention bounds them)",
        "metadata a message per mark (kept for metadata_days): "
        f"{', '.join(f'{m.held.metadata_per_message:,.0f}' for m in marks)} bytes",
        f"data folder {settled.store_bytes / 1e6:,.0f} -> {last.store_bytes / 1e6:,.0f} MB "
        "(the metadata, the bodies held, and free pages kept for the next bodies)",
        f"submit p99 per mark: {', '.join(str(m.p99_ms) for m in marks)} ms",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1800, help="seconds of load")
    parser.add_argument("--rate", type=float, default=50, help="documents per second")
    parser.add_argument("--mark", type=float, default=300, help="seconds between marks")
    parser.add_argument("--retention-every", type=float, default=60, help="seconds")
    parser.add_argument("--workdir", type=Path, help="where the temporary directory goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="edocgw-soak-", dir=args.workdir))
    soak = Soak(workdir, args)
    try:
        marks = asyncio.run(soak.run())
    finally:
        code = soak.child.stop()
        print(f"gateway exit code {code}; working folder {workdir}")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    for line in [*soak.passes[:5], *verdict(marks)]:
        print(line)


if __name__ == "__main__":
    main()
