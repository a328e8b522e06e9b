"""Free space on the data folder (`[limits] min_free_bytes`): below it, new documents are
refused with 507 rather than accepted and then not stored; delivering and acknowledging go on.

statvfs costs a system call: its answer is kept for `ttl_s`, so a burst of submissions asks the
kernel about once a second. The probe and the clock are injectable for tests.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import Gauge

from gateway.errors import InsufficientStorage
from gateway.metrics import PREFIX

FREE_BYTES = Gauge(PREFIX + "data_dir_free_bytes", "Free bytes on the data folder's filesystem")

Probe = Callable[[Path], int]
SQLITE_FULL = 13  # sqlite3's result code for "database or disk is full"
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# SQLSTATE 53100 (disk_full); 53xxx is PostgreSQL's "insufficient resources" class
_PG_DISK_FULL = "53100"


def disk_full(exc: BaseException | None) -> bool:
    """Whether `exc` (or what caused it) says the disk or quota is full: sqlite3's SQLITE_FULL,
    an OSError ENOSPC/EDQUOT, PostgreSQL's disk_full."""
    seen = 0
    while exc is not None and seen < 8:
        # (an error made by hand, not by SQLite, has no code)
        code = getattr(exc, "sqlite_errorcode", None) if isinstance(exc, sqlite3.Error) else None
        if code is not None and code & 0xFF == SQLITE_FULL:
            return True
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if getattr(exc, "sqlstate", None) == _PG_DISK_FULL:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def statvfs_free(path: Path) -> int:
    """Bytes an unprivileged writer may still use on `path`'s filesystem; a data folder not made
    yet (RabbitMQ + PostgreSQL keep nothing there) is on the filesystem of its nearest parent."""
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    stats = os.statvfs(existing)
    return stats.f_bavail * stats.f_frsize


class FreeSpace:
    def __init__(
        self,
        path: Path,
        min_free_bytes: int,
        *,
        probe: Probe = statvfs_free,
        monotonic: Callable[[], float] = time.monotonic,
        ttl_s: float = 1.0,
    ) -> None:
        self._path = path
        self._min = min_free_bytes
        self._probe = probe
        self._monotonic = monotonic
        self._ttl_s = ttl_s
        self._free = 0
        self._checked_at: float | None = None

    def free_bytes(self) -> int:
        now = self._monotonic()
        if self._checked_at is None or now - self._checked_at >= self._ttl_s:
            self._free = self._probe(self._path)
            self._checked_at = now
            FREE_BYTES.set(self._free)
        return self._free

    def shortage(self) -> str | None:
        """Why new documents are refused now, or None while there is room."""
        if self._min == 0:
            return None
        free = self.free_bytes()
        if free >= self._min:
            return None
        return f"{free} bytes free on the data folder, below limits.min_free_bytes = {self._min}"

    def spent(self, body_bytes: int) -> None:
        """A body of `body_bytes` was just stored: count it against the free space until the
        next look (a burst within one `ttl_s` must not run past `min_free_bytes`). It is on
        disk twice until a checkpoint reuses the write-ahead log."""
        if self._checked_at is not None:
            self._free = max(0, self._free - 2 * body_bytes)

    def require_room(self) -> None:
        reason = self.shortage()
        if reason is not None:
            raise InsufficientStorage(
                f"{reason}: nothing was accepted; send again once the operator has made room"
            )
