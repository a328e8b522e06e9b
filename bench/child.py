"""The gateway under load: a child `edocgw serve` on free ports, or one already running."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import aiohttp

from bench.docs import Agency
from gateway.api.auth import token_sha256


def bench_agencies(count: int) -> list[Agency]:
    return [
        Agency(f"H99.{i:02d}", f"Cơ quan thử tải số {i}", secrets.token_urlsafe(24))
        for i in range(1, count + 1)
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def config_text(
    agencies: list[Agency],
    *,
    data_dir: Path,
    listen: str,
    ops_listen: str,
    bus_url: str,
    database_url: str,
    trust: list[str] | None = None,
) -> str:
    lines = [
        "[server]",
        f'listen = "{listen}"',
        f'ops_listen = "{ops_listen}"',
        f'data_dir = "{data_dir}"',
        "",
        "[bus]",
        f'url = "{bus_url}"',
        "",
        "[database]",
        f'url = "{database_url}"',
        "",
        *(trust or ["[trust]", 'signature = "optional"']),
    ]
    for agency in agencies:
        lines += [
            "",
            "[[agencies]]",
            f'id = "{agency.id}"',
            f'name = "{agency.name}"',
            'group = "bench"',
            f'token_sha256 = "{token_sha256(agency.token)}"',
        ]
    return "\n".join(lines) + "\n"


def read_proc_status(pid: int, key: str) -> int | None:
    """A `kB` figure of /proc/<pid>/status (VmHWM, VmRSS), in bytes."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int, stat: str = "stat") -> float | None:
    """User plus system CPU time a process (or `task/<tid>/stat`: a thread) used so far."""
    try:
        fields = Path(f"/proc/{pid}/{stat}").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """User plus system CPU time this process used so far, to the microsecond."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float | None:
    """CPU seconds all CPUs spent on anything but idle and iowait since boot (/proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    except (OSError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields)
    busy = user + nice + system + irq + softirq + steal
    return busy / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of each thread of a process, by thread id."""
    out = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            seconds = cpu_seconds(pid, f"task/{task.name}/stat")
            if seconds is not None:
                out[int(task.name)] = seconds
    return out


def thread_shares(
    before: dict[int, float], after: dict[int, float], pid: int | None, elapsed: float
) -> dict[str, float]:
    """Cores used per thread over the run: `main` (the event loop), then the busiest others."""
    used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    shares = {"main": round(used.pop(pid, 0.0) / elapsed, 3)} if pid in used else {}
    for rank, (_tid, seconds) in enumerate(sorted(used.items(), key=lambda kv: -kv[1])):
        if seconds / elapsed < 0.01:
            break
        shares[f"thread {rank + 1}"] = round(seconds / elapsed, 3)
    return shares


class GatewayChild:
    """`python -m gateway --log-level warning serve --config F` with its own data directory."""

    def __init__(
        self,
        workdir: Path,
        agencies: list[Agency],
        *,
        bus_url: str,
        database_url: str,
        trust: list[str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.ops_port = free_port()
        self.config = workdir / "gateway.toml"
        self.config.write_text(
            config_text(
                agencies,
                data_dir=workdir / "data",
                listen=f"127.0.0.1:{self.port}",
                ops_listen=f"127.0.0.1:{self.ops_port}",
                bus_url=bus_url,
                database_url=database_url,
                trust=trust,
            )
        )
        self.log = workdir / "gateway.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ops_url(self) -> str:
        return f"http://127.0.0.1:{self.ops_port}"

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self) -> None:
        command = [sys.executable, "-m", "gateway", "--log-level", "warning"]
        command += ["serve", "--config", str(self.config)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the gateway exited ({self.proc.returncode}):\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM, then the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode


async def wait_ready(
    session: aiohttp.ClientSession,
    ops_url: str,
    within_s: float,
    child: GatewayChild | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    last = "no answer"
    while True:
        if child is not None:
            child.check_alive()
        try:
            async with session.get(ops_url.rstrip("/") + "/readyz") as response:
                if response.status == 200:
                    return
                last = f"{response.status} {await response.text()}"
        except aiohttp.ClientError as exc:
            last = repr(exc)
        if loop.time() > deadline:
            tail = child.log_tail() if child is not None else ""
            raise RuntimeError(f"the gateway is not ready after {within_s:.0f} s: {last}\n{tail}")
        await asyncio.sleep(0.1)


def agencies_from_tokens(tokens_file: Path, config_file: Path) -> list[Agency]:
    """The agencies of a running gateway whose tokens `tokens_file` holds.

    `tokens_file` has lines `export TOKEN_<KEY>=<token>` (as `edocgw demo` writes); a token is
    matched to its agency by the `token_sha256` in the gateway's configuration.
    """
    tokens = []
    for line in tokens_file.read_text().splitlines():
        if line.startswith("export TOKEN_"):
            tokens.append(line.partition("=")[2].strip().strip("'\""))
    config = tomllib.loads(config_file.read_text())
    agencies_listed = config.get("agencies", [])
    by_hash = {a["token_sha256"]: a for a in agencies_listed if "token_sha256" in a}
    agencies = []
    for token in tokens:
        entry = by_hash.get(token_sha256(token))
        if entry is not None:
            agencies.append(Agency(entry["id"], entry.get("name", entry["id"]), token))
    return agencies
