"""Files that appear whole: written under a temporary name in the same directory, flushed to
disk, renamed over the final name, and the directory flushed, so that a reader never sees half
a file and a crash leaves either the old state or the new one (plus, at worst, a temporary
file that the next start removes)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TEMPORARY_SUFFIX = ".tmp"
MODE = 0o640  # the department's system reads through its group


def temporary_name(name: str) -> str:
    return f".{name}.{os.getpid()}{TEMPORARY_SUFFIX}"


def write_atomically(directory: Path, name: str, data: bytes) -> Path:
    final = directory / name
    temporary = directory / temporary_name(name)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    os.close(fd)
    os.replace(temporary, final)
    sync_directory(directory)
    return final


def write_json(directory: Path, name: str, value: Mapping[str, Any]) -> Path:
    text = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    return write_atomically(directory, name, text.encode())


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def move(source: Path, directory: Path, name: str) -> Path | None:
    """Rename `source` into `directory` as `name`; None if it is gone (taken by another node)."""
    target = directory / name
    try:
        os.replace(source, target)
    except FileNotFoundError:
        return None
    sync_directory(directory)
    sync_directory(source.parent)
    return target


def free_name(directory: Path, name: str, suffix: str) -> str:
    """`name`, or `<stem>~<n><suffix>` when a different file already has that name."""
    if not (directory / name).exists():
        return name
    stem = name[: -len(suffix)]
    n = 2
    while (directory / f"{stem}~{n}{suffix}").exists():
        n += 1
    return f"{stem}~{n}{suffix}"


def remove_leftovers(directory: Path, older_than_s: float, now: float) -> int:
    """Temporary files of writes that a crash interrupted (old enough not to be another
    node's write under way)."""
    removed = 0
    for entry in os.scandir(directory):
        if not (entry.name.startswith(".") and entry.name.endswith(TEMPORARY_SUFFIX)):
            continue
        with contextlib.suppress(FileNotFoundError):
            if now - entry.stat().st_mtime >= older_than_s:
                os.unlink(entry.path)
                removed += 1
    return removed
