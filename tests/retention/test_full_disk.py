"""A data folder short of space: new documents refused with 507, the rest goes on."""

from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.config import LimitSettings
from gateway.runtime.diskspace import FreeSpace, disk_full
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import FINANCE, HOME_AFFAIRS, make_settings
from tests.retention.test_retention_http import delivered

MIB = 1024 * 1024


class Disk:
    """The free space the gateway is told about, set by the test."""

    def __init__(self, free: int) -> None:
        self.free = free

    def __call__(self, path: Path) -> int:
        return self.free


async def test_below_min_free_bytes_new_documents_get_507_and_the_rest_goes_on(
    tmp_path: Path, net_factory: Callable[..., Awaitable[Net]]
) -> None:
    disk = Disk(500 * MIB)
    settings = make_settings(tmp_path / "data", limits=LimitSettings(min_free_bytes=100 * MIB))
    net = await net_factory(settings, free_space=disk, free_space_ttl_s=0)
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    _, delivery_id = await delivered(net, raw)
    assert (await net.ops.get("/readyz")).status == 200

    disk.free = 99 * MIB
    response = await net.client.post(
        "/v1/documents",
        data=document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)),
        headers={**net[FINANCE.id].headers, "Content-Type": "application/xml"},
    )
    assert response.status == 507
    assert response.content_type == "application/problem+json"
    problem = json.loads(await response.read())
    assert problem["code"] == "insufficient_storage"
    assert "limits.min_free_bytes = 104857600" in problem["detail"]

    ready = await net.ops.get("/readyz")
    assert ready.status == 503
    body = await ready.json()
    assert body["failing"] == ["disk"]
    assert body["reasons"]["disk"].startswith(f"{99 * MIB} bytes free on the data folder")
    metrics = await (await net.ops.get("/metrics")).text()
    gauge = [
        line for line in metrics.splitlines() if line.startswith("edocgw_data_dir_free_bytes ")
    ]
    assert [float(line.split()[1]) for line in gauge] == [99 * MIB]

    # what the gateway holds is still delivered and acknowledged
    assert await net[HOME_AFFAIRS.id].fetch(delivery_id) == (200, raw)
    assert await net[HOME_AFFAIRS.id].ack(delivery_id) == 204

    disk.free = 101 * MIB
    assert (await net[FINANCE.id].submit(raw))[0] == 200  # room again: the resend is answered
    assert (await net.ops.get("/readyz")).status == 200


def test_what_says_the_disk_is_full() -> None:
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13  # SQLITE_FULL, as sqlite3 sets it
    assert disk_full(full)
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    wrapped = RuntimeError("the bus could not write")
    wrapped.__cause__ = full
    assert disk_full(wrapped)
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = 5  # SQLITE_BUSY
    assert not disk_full(locked)
    assert not disk_full(OSError(errno.EIO, "I/O error"))


def test_a_burst_counts_what_it_stored_before_the_next_look() -> None:
    disk = Disk(10 * MIB)
    space = FreeSpace(Path("/data"), 6 * MIB, probe=disk, monotonic=lambda: 0.0, ttl_s=1.0)
    assert space.shortage() is None
    space.spent(1 * MIB)  # on disk twice (log and database) until a checkpoint
    assert space.shortage() is None
    space.spent(1 * MIB)
    assert space.free_bytes() == 6 * MIB and space.shortage() is None
    space.spent(1)
    assert space.shortage() == (
        f"{6 * MIB - 2} bytes free on the data folder, below limits.min_free_bytes = {6 * MIB}"
    )
