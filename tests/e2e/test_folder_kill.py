"""The folder adapter when the gateway is killed (SIGKILL) while files arrive: every file ends
in sent/ or failed/, and every accepted document reaches each recipient exactly once."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import aiohttp

from adapters.folder.files import TEMPORARY_SUFFIX
from tests.e2e.process import GatewayProcess
from tests.factories import document_bytes
from tests.harness import BA_DINH, CITY, FINANCE, bearer
from tests.waiting import eventually

DOCUMENTS = 80
BROKEN = {7, 33, 61}  # files that are not XML at all: they end in failed/
SLOW = {12, 40, 70}  # written in place, in pieces, by a department that does not rename
KILLS_AFTER = (15, 35, 55)  # files dropped before each SIGKILL


def folder(root: Path) -> dict[str, Any]:
    return {
        "adapter": "folder",
        "inbox": str(root / "inbox"),
        "outbox": str(root / "outbox"),
        "poll_s": 0.02,
        "settle_s": 0.3,
    }


async def drop(outbox: Path, number: int, raw: bytes) -> None:
    name = f"cv-{number:03d}.edxml"
    if number in SLOW:
        with (outbox / name).open("wb") as out:
            for start in range(0, len(raw), len(raw) // 4 + 1):
                out.write(raw[start : start + len(raw) // 4 + 1])
                out.flush()
                await asyncio.sleep(0.1)
        return
    (outbox / f"cv-{number:03d}.tmp").write_bytes(raw)
    (outbox / f"cv-{number:03d}.tmp").rename(outbox / name)


def is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(TEMPORARY_SUFFIX)


def settled(outbox: Path) -> bool:
    return not [p for p in outbox.glob("*.edxml")]


async def city_inbox(gateway: GatewayProcess) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after: str | None = None
    async with aiohttp.ClientSession() as http:
        while True:
            params = {"limit": "100", **({"after": after} if after else {})}
            async with http.get(
                gateway.url + "/v1/inbox", params=params, headers=bearer(CITY.token)
            ) as response:
                page = await response.json()
            items += page["items"]
            after = page["next"]
            if after is None:
                return items


def document(number: int) -> tuple[str, bytes]:
    document_id = f"K-{number}"
    return document_id, document_bytes(
        sender=FINANCE.id, recipients=(CITY.id, BA_DINH.id), document_id=document_id
    )


async def test_kill_while_files_arrive_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    finance, ba_dinh = tmp_path / "so-tai-chinh", tmp_path / "ba-dinh"
    gateway = GatewayProcess(
        tmp_path, deliveries={FINANCE.id: folder(finance), BA_DINH.id: folder(ba_dinh)}
    )
    await gateway.start()
    outbox = finance / "outbox"
    rng = random.Random(20261127)
    sent: dict[str, tuple[str, bytes]] = {}  # file stem: (DocumentId, bytes)

    async def send(number: int) -> None:
        if number in BROKEN:
            await drop(outbox, number, b"this is not an edXML document at all")
            return
        sent[f"cv-{number:03d}"] = document(number)
        await drop(outbox, number, sent[f"cv-{number:03d}"][1])

    try:
        for number in range(DOCUMENTS):
            await send(number)
            if number in KILLS_AFTER:
                await asyncio.sleep(rng.uniform(0.0, 0.3))
                gateway.kill()
                await send(900 + number)  # arrives while the gateway is down
                await gateway.start()
            else:
                await asyncio.sleep(rng.uniform(0.0, 0.03))
        await eventually(lambda: asyncio.sleep(0, settled(outbox)), bool, timeout=60)

        failed = sorted(p.name for p in (outbox / "failed").iterdir())
        assert failed == sorted(
            name for n in BROKEN for name in (f"cv-{n:03d}.edxml", f"cv-{n:03d}.error.json")
        )
        for n in BROKEN:
            problem = json.loads((outbox / "failed" / f"cv-{n:03d}.error.json").read_text())
            assert problem["code"] == "malformed_xml"
        # A kill between writing a receipt's temporary file and renaming it leaves that file
        # behind (hidden, removed by a start once it is old); the receipt was written again.
        in_sent = sorted(p.name for p in (outbox / "sent").iterdir() if not is_temporary(p))
        assert in_sent == sorted(
            name for stem in sent for name in (f"{stem}.edxml", f"{stem}.receipt.json")
        )
        receipts = {
            stem: json.loads((outbox / "sent" / f"{stem}.receipt.json").read_text())
            for stem in sent
        }
        assert len({r["id"] for r in receipts.values()}) == len(sent)  # each file once
        for stem, (document_id, raw) in sent.items():
            assert receipts[stem]["document_id"] == document_id
            assert (outbox / "sent" / f"{stem}.edxml").read_bytes() == raw

        inbox = await eventually(
            lambda: city_inbox(gateway), lambda items: len(items) >= len(sent), timeout=30
        )
        assert sorted(i["document_id"] for i in inbox) == sorted(d for d, _ in sent.values())
        ba_dinh_inbox = ba_dinh / "inbox"
        await eventually(
            lambda: asyncio.sleep(0, len(list(ba_dinh_inbox.glob("*.edxml")))),
            lambda n: n >= len(sent),
            timeout=30,
        )
        delivered = sorted(p.read_bytes() for p in ba_dinh_inbox.glob("*.edxml"))
        assert delivered == sorted(raw for _, raw in sent.values())  # each once, whole
    finally:
        gateway.stop()
