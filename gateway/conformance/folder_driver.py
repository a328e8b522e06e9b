"""Drop-folder departments: they write each message into their outbox (as `<name>.tmp`, then
renamed) and read the verdict beside it in `sent/` or `failed/`; they take deliveries from
their inbox (reading, then removing each file). Down is an inbox that is not there (a lost
mount): it is renamed away, and back."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.conformance.driver import Kind, Outcome, Received


@dataclass(frozen=True)
class Folders:
    inbox: Path
    outbox: Path


class FolderDriver:
    name = "folder"

    def __init__(
        self, folders: Mapping[str, Folders], timeout_s: float = 60.0, poll_s: float = 0.05
    ) -> None:
        self.folders = dict(folders)
        self._timeout_s = timeout_s
        self._poll_s = poll_s
        self._collected: dict[str, list[Received]] = {}

    async def send(self, raw: bytes, sender: str) -> Outcome:
        outbox = self.folders[sender].outbox
        stem = f"ct-{secrets.token_hex(6)}"
        await asyncio.to_thread(_drop, outbox, stem, raw)
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            verdict = await asyncio.to_thread(_verdict, outbox, stem)
            if verdict is not None:
                return verdict
            await asyncio.sleep(self._poll_s)
        return Outcome(False, code="timeout", detail=f"{stem}.edxml is still in {outbox}")

    async def received(self, recipient: str) -> list[Received]:
        collected = self._collected.setdefault(recipient, [])
        inbox = self.folders[recipient].inbox
        collected += await asyncio.to_thread(_take_all, inbox)
        return list(collected)

    async def recipient_down(self, recipient: str) -> None:
        inbox = self.folders[recipient].inbox
        await asyncio.to_thread(os.replace, inbox, _away(inbox))

    async def recipient_up(self, recipient: str) -> None:
        inbox = self.folders[recipient].inbox
        await asyncio.to_thread(os.replace, _away(inbox), inbox)


def _away(inbox: Path) -> Path:
    return inbox.with_name(inbox.name + ".unmounted")


def _drop(outbox: Path, stem: str, raw: bytes) -> None:
    temporary = outbox / f"{stem}.tmp"
    temporary.write_bytes(raw)
    os.replace(temporary, outbox / f"{stem}.edxml")


def _verdict(outbox: Path, stem: str) -> Outcome | None:
    receipt = outbox / "sent" / f"{stem}.receipt.json"
    error = outbox / "failed" / f"{stem}.error.json"
    if (outbox / "sent" / f"{stem}.edxml").exists() and receipt.exists():
        return Outcome(True, id=json.loads(receipt.read_text())["id"])
    if (outbox / "failed" / f"{stem}.edxml").exists() and error.exists():
        problem = json.loads(error.read_text())
        return Outcome(False, code=problem.get("code"), detail=problem.get("detail"))
    return None


def _take_all(inbox: Path) -> list[Received]:
    if not inbox.is_dir():  # down
        return []
    taken: list[tuple[float, Received]] = []
    for entry in os.scandir(inbox):
        name = entry.name
        if name.startswith(".") or not name.endswith(".edxml"):
            continue
        body = Path(entry.path).read_bytes()
        arrived = entry.stat().st_mtime
        os.unlink(entry.path)
        kind: Kind = "status" if name.endswith(".status.edxml") else "edoc"
        taken.append((arrived, Received(kind, body, name.split(".", 1)[0])))
    return [received for _, received in sorted(taken, key=lambda t: t[0])]
