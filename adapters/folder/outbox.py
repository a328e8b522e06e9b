"""The department's outbox: each complete `.edxml` file is submitted in the name of the folder's
agency, then moved to `sent/` beside `<name>.receipt.json`, or to `failed/` beside
`<name>.error.json` (the problem+json refusal).

A file is complete once it has not changed over two scans and for `settle_s`; departments that
can should write `<name>.tmp` and rename it, which is never taken half-written. A crash between
the submission and the move leaves the file where it was: it is submitted again at the next
scan, the gateway answers that it had these bytes already (nothing is sent twice), and the file
is moved then. If the gateway cannot take messages now (503), the file waits for a later scan.

A file the adapter will not submit (an odd name: too long, not UTF-8, control characters; or not
a regular file: a symlink, a folder, a device) is moved to `failed/` at once, beside a
`bad_request` problem, with one `adapter_refused` audit entry; the others go on. Hidden names
(`.x.edxml`) are left alone: writers hide files under way that way. While `sent/` or `failed/`
is a symlink (or not a directory) nothing is taken: the adapter logs and audits it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from adapters.folder.files import (
    NotRegular,
    UnsafeFolder,
    free_name,
    move,
    opened_dir,
    read_regular,
    remove_leftovers,
    write_json,
)
from adapters.folder.names import MAX_NAME_BYTES, bounded, odd_reason, printable
from gateway.adapter_api import AdapterHost, SubmissionRefused, Submitted

log = structlog.get_logger(__name__)

SUFFIX = ".edxml"
SENT, FAILED, UNDELIVERED = "sent", "failed", "undelivered"
LEFTOVER_AGE_S = 60.0
NOT_REGULAR = "not a regular file (a symlink, a folder or a device): it was not read"


def receipt(submitted: Submitted) -> dict[str, Any]:
    return {
        "id": submitted.message_id,
        "kind": submitted.kind,
        "document_id": submitted.document_id,
        "recipients": list(submitted.recipients),
    }


def set_aside_problem(name: str, reason: str) -> dict[str, Any]:
    return {
        "type": "urn:edocgw:error:bad_request",
        "title": "The file was not submitted",
        "status": 400,
        "detail": f"{reason}; give it a name of at most {MAX_NAME_BYTES} bytes of UTF-8 without "
        "control characters, as a regular file, and put it in the outbox again",
        "code": "bad_request",
        "file": printable(name),
    }


@dataclass
class Scan:
    ready: list[str] = field(default_factory=list)  # complete files, oldest first
    odd: list[tuple[str, str]] = field(default_factory=list)  # (name, reason): set aside


class Outbox:
    def __init__(
        self,
        directory: Path,
        *,
        agency: str,
        host: AdapterHost,
        settle_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self._agency = agency
        self._host = host
        self._settle_s = settle_s
        self._clock = clock
        self._seen: dict[str, tuple[int, int]] = {}
        self._unsafe: set[str] = set()  # refused folders, audited once until they are mended

    def prepare(self) -> list[str]:
        """Make the subfolders and remove leftovers in them; the ones refused (symlinks)."""
        refused = []
        with opened_dir(self.directory) as outbox:
            for folder in (SENT, FAILED, UNDELIVERED):
                try:
                    with _subfolder(outbox, folder) as sub:
                        remove_leftovers(sub, LEFTOVER_AGE_S, self._clock())
                except UnsafeFolder:
                    refused.append(folder)
        return refused

    async def folder_refused(self, folder: str) -> None:
        """Log and audit once that `folder` is a symlink or not a directory: it is not used."""
        path = str(self.directory / folder)
        if path in self._unsafe:
            return
        self._unsafe.add(path)
        log.error("folder_unsafe", agency=self._agency, folder=path)
        details = {"folder": path, "detail": "a symlink or not a directory: not used"}
        await self._host.audit_refusal("unsafe_folder", details)

    def folders_mended(self, *folders: str) -> None:
        self._unsafe.difference_update(str(self.directory / folder) for folder in folders)

    def scan(self) -> Scan:
        now = self._clock()
        scan, seen, ready = Scan(), {}, []
        with opened_dir(self.directory) as outbox:
            for folder in (SENT, FAILED):  # where every file taken ends: both must be sound
                with _subfolder(outbox, folder):
                    pass
            for name, found in _candidates(outbox):
                if isinstance(found, str):
                    scan.odd.append((name, found))
                    continue
                key = (found.st_size, found.st_mtime_ns)
                seen[name] = key
                if self._seen.get(name) == key and now - found.st_mtime >= self._settle_s:
                    ready.append((found.st_mtime_ns, name))
        self._seen = seen
        scan.ready = [name for _, name in sorted(ready)]
        return scan

    async def poll(self) -> int:
        """Submit what is ready; the number of files moved to sent/ or failed/."""
        try:
            scan = await asyncio.to_thread(self.scan)
        except UnsafeFolder as exc:
            await self.folder_refused(str(exc.filename))
            return 0
        self.folders_mended(SENT, FAILED)
        settled = 0
        for name, reason in scan.odd:
            settled += await self._one(self._set_aside(name, reason), name) or 0
        for name in scan.ready:
            outcome = await self._one(self._submit(name), name)
            if outcome is None:  # the gateway cannot take messages now: all wait
                break
            settled += outcome
        return settled

    async def _one(self, step: Awaitable[int | None], name: str) -> int | None:
        """One file's step; a folder gone unsafe stops the scan, any other failure of the
        file system costs this file only (it is tried again at the next scan)."""
        try:
            outcome: int | None = await step
        except UnsafeFolder as exc:
            await self.folder_refused(str(exc.filename))
            return None
        except OSError as exc:
            log.error(
                "folder_file_failed",
                agency=self._agency,
                file=printable(name)[:300],
                error=exc.strerror or type(exc).__name__,
            )
            return 0
        return outcome

    async def _set_aside(self, name: str, reason: str) -> int:
        target = bounded(name[: -len(SUFFIX)], SUFFIX)
        problem = set_aside_problem(name, reason)
        moved = await asyncio.to_thread(self._settle, name, FAILED, ".error.json", problem, target)
        if moved is None:
            return 0
        shown = printable(name)[:300]
        log.warning("folder_set_aside", agency=self._agency, file=shown, reason=reason)
        details = {"file": shown, "reason": reason, "moved_to": f"{FAILED}/{moved}"}
        await self._host.audit_refusal("file_set_aside", details)
        return 1

    def _read(self, name: str) -> bytes | None:
        with opened_dir(self.directory) as outbox:
            return read_regular(outbox, name)

    async def _submit(self, name: str) -> int | None:
        try:
            raw = await asyncio.to_thread(self._read, name)
        except NotRegular:  # replaced since the scan
            return await self._set_aside(name, NOT_REGULAR)
        if raw is None:  # another node took it
            return 0
        try:
            submitted = await self._host.submit(raw, sender=self._agency)
        except SubmissionRefused as refusal:
            if refusal.status >= 500:
                log.warning("folder_submit_deferred", file=name, code=refusal.code)
                return None
            log.info("folder_refused", agency=self._agency, file=name, code=refusal.code)
            await asyncio.to_thread(self._settle, name, FAILED, ".error.json", refusal.problem)
            return 1
        log.info(
            "folder_submitted",
            agency=self._agency,
            file=name,
            message_id=submitted.message_id,
            replayed=submitted.replayed,
        )
        await asyncio.to_thread(self._settle, name, SENT, ".receipt.json", receipt(submitted))
        return 1

    def _settle(
        self, name: str, folder: str, note: str, content: dict[str, Any], target: str = ""
    ) -> str | None:
        """Move `name` into `folder` beside its note; the name it got, None if it was gone."""
        with opened_dir(self.directory) as outbox, opened_dir(folder, outbox) as sub:
            new = free_name(sub, target or name, SUFFIX)
            write_json(sub, bounded(new[: -len(SUFFIX)], note), content)
            moved = move(outbox, name, sub, new)
        self._seen.pop(name, None)
        return new if moved else None


def _candidates(outbox: int) -> Iterator[tuple[str, os.stat_result | str]]:
    """The outbox's `.edxml` names, each with its lstat, or why it is set aside."""
    for entry in os.scandir(outbox):
        name = entry.name
        if name.startswith(".") or not name.endswith(SUFFIX):
            continue
        reason = odd_reason(name)
        if reason is None and not entry.is_file(follow_symlinks=False):
            reason = NOT_REGULAR
        if reason is not None:
            yield name, reason
            continue
        with contextlib.suppress(FileNotFoundError):
            yield name, entry.stat(follow_symlinks=False)


def _subfolder(outbox: int, folder: str) -> contextlib.AbstractContextManager[int]:
    """The open subfolder `folder`, made if missing (never through a symlink)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, dir_fd=outbox)
    return opened_dir(folder, outbox)
