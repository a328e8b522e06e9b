"""Drop-folder delivery, for department systems that can only read and write a shared folder.

Documents and statuses for the agency are written into `inbox` as `<delivery_id>.edxml` and
`<delivery_id>.status.edxml`, whole or not at all (adapters/folder/files.py): a redelivery after
a crash overwrites the same name rather than adding a copy. What the department puts in
`outbox` is submitted in the agency's name (adapters/folder/outbox.py). When a document the
agency sent cannot be delivered for good, `outbox/undelivered/<delivery_id>.json` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from adapters.folder.files import (
    UnsafeFolder,
    opened_dir,
    remove_leftovers,
    write_atomically,
    write_json,
)
from adapters.folder.options import FolderOptions
from adapters.folder.outbox import LEFTOVER_AGE_S, UNDELIVERED, Outbox
from gateway.adapter_api import AdapterHost, LifecycleEvent, OutboundItem, TemporaryFailure

__all__ = ["FolderAdapter"]

log = structlog.get_logger(__name__)


def inbox_name(item: OutboundItem) -> str:
    return (
        f"{item.delivery_id}.status.edxml" if item.kind == "status" else f"{item.delivery_id}.edxml"
    )


class FolderAdapter:
    def __init__(
        self, *, instance: str, agency: str, options: Mapping[str, Any], host: AdapterHost
    ) -> None:
        self.instance = instance
        self.agency = agency
        self.options = FolderOptions.parse(options, host.base_dir)
        self._host = host
        self.outbox = Outbox(
            self.options.outbox, agency=agency, host=host, settle_s=self.options.settle_s
        )
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for folder in await asyncio.to_thread(self._prepare):
            await self.outbox.folder_refused(folder)  # the adapter serves what it can
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll_forever(), name=f"outbox {self.instance}")

    def _prepare(self) -> list[str]:
        """Make the folders and remove leftovers; the folders refused (symlinks)."""
        refused = []
        self.options.inbox.mkdir(parents=True, exist_ok=True)
        try:
            with opened_dir(self.options.inbox) as inbox:
                remove_leftovers(inbox, LEFTOVER_AGE_S, time.time())
        except UnsafeFolder:
            refused.append(str(self.options.inbox))
        self.options.outbox.mkdir(parents=True, exist_ok=True)
        try:
            refused += self.outbox.prepare()
        except UnsafeFolder:
            refused.append(str(self.options.outbox))
        return refused

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.options.poll_s)
            try:
                await self.outbox.poll()
            except Exception as exc:  # a full disk, a lost mount: the next scan tries again
                log.error("folder_outbox_failed", instance=self.instance, error=str(exc))

    async def deliver(self, item: OutboundItem) -> None:
        body = await self._host.read_body(item)
        name = inbox_name(item)
        try:
            # Never re-created here: a missing inbox may be a lost mount, and what would be
            # written under it would not reach the department.
            await asyncio.to_thread(self._write_inbox, name, body)
        except OSError as exc:
            raise TemporaryFailure(
                f"cannot write {name} into {self.options.inbox}: {exc.strerror or exc}"
            ) from None
        await self._host.confirm_delivered(item, f"written to the inbox as {name}")

    def _write_inbox(self, name: str, body: bytes) -> None:
        with opened_dir(self.options.inbox) as inbox:
            write_atomically(inbox, name, body)

    def _write_undelivered(self, name: str, report: dict[str, Any]) -> None:
        with opened_dir(self.options.outbox) as outbox, opened_dir(UNDELIVERED, outbox) as folder:
            write_json(folder, name, report)

    async def on_event(self, event: LifecycleEvent) -> None:
        item = event.item
        if event.name != "delivery_failed" or item.sender != self.agency:
            return
        report = {
            "delivery_id": item.delivery_id,
            "message_id": item.message_id,
            "document_id": item.document_id,
            "kind": item.kind,
            "recipient": item.recipient,
            "reason": event.reason,
            "at": datetime.fromtimestamp(event.at, UTC).isoformat().replace("+00:00", "Z"),
        }
        try:
            await asyncio.to_thread(self._write_undelivered, f"{item.delivery_id}.json", report)
        except UnsafeFolder as exc:
            await self.outbox.folder_refused(str(exc.filename))
            return
        self.outbox.folders_mended(UNDELIVERED)
