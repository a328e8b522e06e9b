"""A data folder short of space: new documents refused with 507, the rest goes on."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.config import LimitSettings
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
