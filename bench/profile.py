"""Where the gateway spends its time: py-spy on the child, summarised by function.

py-spy's raw format has one line per distinct stack, `frame;frame;...;frame count`, each frame
`function (file:line)`. `summary` adds the samples up per function, by itself (the innermost
frame: where the CPU was) and inclusive (anywhere on the stack).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<name>.*) \((?P<file>.*?)(?::\d+)?\)$")
SITE_PACKAGES = re.compile(r".*/(site-packages|lib/python3\.\d+)/")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(pid: int, out: Path, delay: float, seconds: float, *, gil: bool) -> None:
    """`py-spy record` of `pid` for `seconds`, after `delay`; a warning if it cannot run."""
    program = py_spy()
    if program is None:
        print("profile: py-spy not found (.venv/bin/pip install py-spy)", file=sys.stderr)
        return
    await asyncio.sleep(delay)
    command = [program, "record", "--nonblocking", "--format", "raw", "-o", str(out)]
    command += ["-d", str(max(1, round(seconds))), "-p", str(pid)] + (["--gil"] if gil else [])
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        print(f"profile: py-spy failed: {err.decode(errors='replace')[-500:]}", file=sys.stderr)


def _frame(text: str) -> str:
    match = FRAME.match(text.strip())
    if not match:
        return text.strip()
    where = SITE_PACKAGES.sub("", match["file"])
    return f"{match['name']} ({where})"


def _thread_of(frames: list[str]) -> str:
    """`main` for the interpreter's main thread, else the function the thread runs.

    py-spy's non-blocking samples sometimes miss the outer frames: those count as `partial`.
    """
    if frames[0].startswith("_run_module_as_main"):
        return "main"
    if not frames[0].startswith("Thread._bootstrap"):
        return "partial stack"
    for frame in frames:
        if "(threading.py)" not in frame:
            return frame
    return frames[-1]


PROJECT = ("(gateway/", "(adapters/")
# What a sample was doing: the outermost frame that names a request handler, a store unit of
# work, the dispatcher or the bus; else "<thread>: other" (HTTP parsing, socket writes, ...).
ACTIVITY = re.compile(
    r"^(AgencyApi\.\w+|OpsApi\.\w+|Dispatcher\.\w+|GatewayHost\.\w+|[\w.]+\.<locals>\.unit"
    r"|GroupCommitWriter\.\w+|LocalBus\.\w+|SqliteDatabase\._run_batch) "
)


def _activity(frames: list[str], thread: str) -> str:
    found = None
    for frame in frames:
        match = ACTIVITY.match(frame)
        if match:
            if found is None or (found == "SqliteDatabase._run_batch" and "unit" in match[1]):
                found = match[1]
            if found != "SqliteDatabase._run_batch":
                break
    where = "main" if thread == "main" else thread.split(" (")[0]
    return f"{where}: {found or 'other'}"


def summary(path: Path, top: int = 20) -> dict[str, Any]:
    """Samples per thread, the hottest functions by self time (overall and on the main thread)
    and the project's own functions by inclusive time on the main thread (the event loop)."""
    threads: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    own: Counter[str] = Counter()
    own_main: Counter[str] = Counter()
    project_main: Counter[str] = Counter()
    total = 0
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";")]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        thread = _thread_of(frames)
        threads[thread] += count
        activities[_activity(frames, thread)] += count
        own[frames[-1]] += count
        if thread == "main":
            own_main[frames[-1]] += count
            for frame in set(frames):
                if frame.endswith(")") and any(p in frame for p in PROJECT):
                    project_main[frame] += count

    def rows(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "samples": n, "share": n / max(1, total)}
            for name, n in counter.most_common(top)
        ]

    return {
        "file": str(path),
        "samples": total,
        "threads": rows(threads),
        "activities": rows(activities),
        "self": rows(own),
        "self_main_thread": rows(own_main),
        "project_inclusive_main_thread": rows(project_main),
    }


TITLES = {
    "threads": "samples by thread",
    "activities": "samples by activity (thread: handler, unit of work...)",
    "self": "hottest by self time, all threads",
    "self_main_thread": "hottest by self time, main thread (the event loop)",
    "project_inclusive_main_thread": "gateway functions by inclusive time, main thread",
}


def render(result: dict[str, Any], top: int = 12) -> str:
    lines = [
        f"profile     {result['samples']} samples ({result.get('file', '')}); "
        "shares are of all samples"
    ]
    for key, title in TITLES.items():
        lines.append(f"  {title}:")
        for row in result.get(key, [])[:top]:
            lines.append(f"    {row['share']:6.1%}  {row['function']}")
    return "\n".join(lines)
