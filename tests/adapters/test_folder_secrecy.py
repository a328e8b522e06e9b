"""The secrecy guard behind the folder adapter (issue 12): a department drops edXML in its
outbox; a secret one is refused into failed/ and counted once per recipient, an ordinary one
reaches the recipient byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.config import DeliverySettings
from tests.api.test_exchange import wait_inbox
from tests.api.test_secret_documents import (
    MARKER,
    RECIPIENTS,
    SECRET,
    audit_events,
    files_containing,
)
from tests.edxml.producers import sdk_style
from tests.factories import document_bytes
from tests.harness import FINANCE, make_settings
from tests.waiting import eventually


async def folder_net(net_factory: Any, tmp_path: Path) -> Any:
    folder = DeliverySettings(
        adapter="folder",
        options={"inbox": "tc/in", "outbox": "tc/out", "poll_s": 0.02, "settle_s": 0},
    )
    settings = make_settings(tmp_path / "data", deliveries={FINANCE.id: folder})
    return await net_factory(settings, config_path=tmp_path / "gateway.toml")


def drop(outbox: Path, name: str, raw: bytes) -> None:
    (outbox / f"{name}.tmp").write_bytes(raw)
    (outbox / f"{name}.tmp").rename(outbox / f"{name}.edxml")


async def test_a_secret_file_goes_to_failed_counted_once_per_recipient(
    net_factory: Any, tmp_path: Path
) -> None:
    net = await folder_net(net_factory, tmp_path)
    outbox = tmp_path / "tc" / "out"
    drop(outbox, "mat", SECRET["secret and schema-broken"]())
    problem_file = outbox / "failed" / "mat.error.json"

    async def refused() -> bool:
        return problem_file.exists()

    await eventually(refused, bool)
    problem = json.loads(problem_file.read_text())
    assert (problem["status"], problem["code"]) == (422, "secret_document")
    assert MARKER not in problem_file.read_text()
    events = await audit_events(net)
    excluded = sorted(e["recipient"] for e in events if e["event"] == "secret_excluded")
    assert excluded == sorted(RECIPIENTS)
    assert MARKER not in json.dumps(events, ensure_ascii=False)
    assert files_containing(tmp_path / "data", MARKER.encode()) == []


async def test_an_ordinary_file_from_a_real_producer_is_delivered_unchanged(
    net_factory: Any, tmp_path: Path
) -> None:
    net = await folder_net(net_factory, tmp_path)
    outbox = tmp_path / "tc" / "out"
    raw = sdk_style(
        document_bytes(
            sender=FINANCE.id,
            recipients=RECIPIENTS,
            subject="Hướng dẫn xác định độ mật: tối mật, tuyệt mật",
        )
    )
    drop(outbox, "huong-dan", raw)
    for recipient in RECIPIENTS:
        [item] = await wait_inbox(net, recipient, 1)
        assert await net[recipient].fetch(item["delivery_id"]) == (200, raw)
