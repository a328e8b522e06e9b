"""A real small filesystem filling up under `edocgw serve` (a tmpfs of the test's own as the data
folder): below `min_free_bytes` new documents get 507 while everything accepted can still be
fetched and acknowledged; with the check off, a write that fails with ENOSPC answers 507 or 503,
never 500, and leaves the store whole. Nothing answered 202 is lost."""

from __future__ import annotations

import collections
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.process import GatewayProcess
from tests.e2e.test_kill import inbox_document_ids
from tests.factories import document_bytes, filler_attachment
from tests.harness import AUDITOR_TOKEN, FINANCE, HOME_AFFAIRS, bearer
from tests.waiting import eventually

MIB = 1024 * 1024
SIZE = "24m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs mounted on tmp_path/data (root only: skipped where mounting is not
    allowed, except under CI, where it must run)."""
    mount = tmp_path / "data"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs: {done.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def with_min_free(process: GatewayProcess, min_free_bytes: int) -> None:
    text = process.config.read_text().split("[limits]")[0]
    process.config.write_text(text + f"[limits]\nmin_free_bytes = {min_free_bytes}\n")


def fill(path: Path, room: int | None = None) -> None:
    """Write zeros into `path` until `room` bytes are written, or the disk is full."""
    chunk = b"\0" * 65536
    written = 0
    with path.open("wb") as out:
        while room is None or written < room:
            try:
                out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            except OSError:  # ENOSPC: full
                return
            written += len(chunk)


class Sender:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url
        self.accepted: list[str] = []
        self.answers: collections.Counter[int] = collections.Counter()
        self.number = 0

    async def send(self, size: int) -> int:
        self.number += 1
        document_id = f"D-{self.number}"
        raw = document_bytes(
            sender=FINANCE.id,
            recipients=(HOME_AFFAIRS.id,),
            document_id=document_id,
            attachments=[filler_attachment(size)],
        )
        headers = {**bearer(FINANCE.token), "Content-Type": "application/xml"}
        async with self.session.post(self.url + "/v1/documents", data=raw, headers=headers) as r:
            status = r.status
            if status >= 400:
                assert r.content_type == "application/problem+json", await r.text()
        self.answers[status] += 1
        if status == 202:
            self.accepted.append(document_id)
        return status


async def readyz(session: aiohttp.ClientSession, process: GatewayProcess) -> tuple[int, dict]:
    async with session.get(process.ops_url + "/readyz") as response:
        return response.status, await response.json()


def integrity(data_dir: Path) -> list[str]:
    answers = []
    for name in ("gateway.sqlite3", "bus.sqlite3"):
        conn = sqlite3.connect(data_dir / name)
        try:
            answers.append(f"{name}: {conn.execute('PRAGMA integrity_check').fetchone()[0]}")
        finally:
            conn.close()
    return answers


async def test_a_filling_disk_refuses_new_documents_and_loses_nothing(
    tmp_path: Path, small_disk: Path
) -> None:
    process = GatewayProcess(tmp_path)
    with_min_free(process, 4 * MIB)
    filler = small_disk / "filler"
    fill(filler, 6 * MIB)
    await process.start()
    try:
        async with aiohttp.ClientSession() as session:
            sender = Sender(session, process.url)
            home = HOME_AFFAIRS.id
            while await sender.send(300_000) == 202:
                assert len(sender.accepted) < 200, "the disk never filled"
            assert set(sender.answers) == {202, 507}, sender.answers
            assert len(sender.accepted) >= 5
            status, body = await readyz(session, process)
            assert (status, body["failing"]) == (503, ["disk"]), body

            # what was accepted is all there, once, and can be fetched and acknowledged
            ids = await eventually(
                lambda: inbox_document_ids(session, process.url, home),
                lambda found: len(found) >= len(sender.accepted),
                timeout=60,
            )
            assert sorted(ids) == sorted(sender.accepted)
            token = bearer(f"test-token-{home}")
            async with session.get(process.url + "/v1/inbox", headers=token) as response:
                item = (await response.json())["items"][0]
            first, acked = item["delivery_id"], item["document_id"]
            async with session.get(f"{process.url}/v1/inbox/{first}", headers=token) as r:
                assert r.status == 200
            async with session.post(f"{process.url}/v1/inbox/{first}/ack", headers=token) as r:
                assert r.status == 204

            # room made: accepted again (the free space is asked at most once a second)
            filler.unlink()
            await eventually(lambda: sender.send(1000), lambda s: s == 202, timeout=10)
            assert (await readyz(session, process))[0] == 200

        # the check off, the disk full to the last byte: a failed write is a 507 or 503
        assert process.stop() == 0
        with_min_free(process, 0)
        await process.start()
        fill(filler)
        async with aiohttp.ClientSession() as session:
            sender.session = session
            full = collections.Counter([await sender.send(s) for s in (1000, 300_000, 2_000_000)])
            print(f"answers with the disk full: {dict(full)}")
            assert set(full) <= {503, 507} and full[507] >= 1, full
            filler.unlink()
            await eventually(lambda: sender.send(1000), lambda s: s == 202, timeout=10)
            assert process.stop() == 0
            assert integrity(small_disk) == ["gateway.sqlite3: ok", "bus.sqlite3: ok"]

            await process.start()  # nothing answered 202 is lost, nothing comes twice
            accepted = set(sender.accepted)
            ids = await eventually(
                lambda: inbox_document_ids(session, process.url, HOME_AFFAIRS.id),
                lambda found: accepted - {acked} <= set(found),
                timeout=60,
            )
            assert len(ids) == len(set(ids)), "a document delivered twice"
            assert acked not in ids
            async with session.get(
                process.ops_url + "/v1/audit/verify", headers=bearer(AUDITOR_TOKEN)
            ) as response:
                assert (await response.json())["ok"] is True
        assert "unexpected_error" not in process.log.read_text()
    finally:
        process.stop()
