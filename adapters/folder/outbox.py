"""The department's outbox: each complete `.edxml` file is submitted in the name of the folder's
agency, then moved to `sent/` beside `<name>.receipt.json`, or to `failed/` beside
`<name>.error.json` (the problem+json refusal).

A file is complete once it has not changed over two scans and for `settle_s`; departments that
can should write `<name>.tmp` and rename it, which is never taken half-written. A crash between
the submission and the move leaves the file where it was: it is submitted again at the next
scan, the gateway answers that it had these bytes already (nothing is sent twice), and the file
is moved then. If the gateway cannot take messages now (503), the file waits for a later scan.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from adapters.folder.files import free_name, move, remove_leftovers, write_json
from gateway.adapter_api import AdapterHost, SubmissionRefused, Submitted

log = structlog.get_logger(__name__)

SUFFIX = ".edxml"
SENT, FAILED, UNDELIVERED = "sent", "failed", "undelivered"
LEFTOVER_AGE_S = 60.0


def receipt(submitted: Submitted) -> dict[str, Any]:
    return {
        "id": submitted.message_id,
        "kind": submitted.kind,
        "document_id": submitted.document_id,
        "recipients": list(submitted.recipients),
    }


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

    def prepare(self) -> None:
        for folder in (SENT, FAILED, UNDELIVERED):
            (self.directory / folder).mkdir(parents=True, exist_ok=True)
            remove_leftovers(self.directory / folder, LEFTOVER_AGE_S, self._clock())

    def ready(self) -> list[Path]:
        """The complete files, oldest first."""
        now = self._clock()
        seen: dict[str, tuple[int, int]] = {}
        ready: list[tuple[int, str]] = []
        for entry in os.scandir(self.directory):
            name = entry.name
            if name.startswith(".") or not name.endswith(SUFFIX):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            key = (stat.st_size, stat.st_mtime_ns)
            seen[name] = key
            if self._seen.get(name) == key and now - stat.st_mtime >= self._settle_s:
                ready.append((stat.st_mtime_ns, name))
        self._seen = seen
        return [self.directory / name for _, name in sorted(ready)]

    async def poll(self) -> int:
        """Submit what is ready; the number of files moved to sent/ or failed/."""
        settled = 0
        for path in await asyncio.to_thread(self.ready):
            outcome = await self._submit(path)
            if outcome is None:  # the gateway cannot take messages now: all wait
                break
            settled += outcome
        return settled

    async def _submit(self, path: Path) -> int | None:
        try:
            raw = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:  # another node took it
            return 0
        try:
            submitted = await self._host.submit(raw, sender=self._agency)
        except SubmissionRefused as refusal:
            if refusal.status >= 500:
                log.warning("folder_submit_deferred", file=path.name, code=refusal.code)
                return None
            log.info("folder_refused", agency=self._agency, file=path.name, code=refusal.code)
            await asyncio.to_thread(self._settle, path, FAILED, ".error.json", refusal.problem)
            return 1
        log.info(
            "folder_submitted",
            agency=self._agency,
            file=path.name,
            message_id=submitted.message_id,
            replayed=submitted.replayed,
        )
        await asyncio.to_thread(self._settle, path, SENT, ".receipt.json", receipt(submitted))
        return 1

    def _settle(self, path: Path, folder: str, note: str, content: dict[str, Any]) -> None:
        directory = self.directory / folder
        name = free_name(directory, path.name, SUFFIX)
        write_json(directory, name[: -len(SUFFIX)] + note, content)
        move(path, directory, name)
        self._seen.pop(path.name, None)
