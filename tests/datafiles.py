"""Looking into a serving gateway's data folder for leftovers, without breaking its locks.

A process that opens and closes a file drops every POSIX advisory lock it holds on that file,
SQLite's included (sqlite.org/howtocorrupt.html §2.2). A test that read `gateway.sqlite3` or its
`-shm` with `Path.read_bytes()` while an in-process gateway had them open left that gateway
unlocked: the next `edocgw` process believed itself alone, rebuilt the shared WAL index, and
the gateway's connections went on reading an old snapshot (and could have corrupted the file).
So the files are read by a child process, whose locks and closes are its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import pathlib, sys
needle = bytes.fromhex(sys.argv[2])
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
    if p.is_file() and needle in p.read_bytes():
        print(p.relative_to(sys.argv[1]))
"""


def files_holding(folder: Path, needle: bytes) -> list[str]:
    """The files under `folder` (relative paths, sorted) whose bytes contain `needle`."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(folder), needle.hex()],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.splitlines()
