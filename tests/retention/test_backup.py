"""`edocgw backup` while the gateway serves, `edocgw restore` into an empty data folder."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import BA_DINH, FINANCE, HOME_AFFAIRS, make_settings
from tests.retention.test_retention_cli import edocgw, write_config
from tests.retention.test_retention_http import delivered, verify
from tests.waiting import eventually


async def test_a_backup_taken_while_serving_restores_every_waiting_delivery_once(
    tmp_path: Path, net_factory: Callable[..., Awaitable[Net]]
) -> None:
    live = tmp_path / "live"
    (tmp_path / "a").mkdir()
    config = write_config(tmp_path / "a", live)
    net = await net_factory(make_settings(live))
    sent = [document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)) for _ in range(3)]
    waiting = [(await delivered(net, raw))[1] for raw in sent]
    assert await net[HOME_AFFAIRS.id].ack(waiting[0]) == 204
    to_two = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id, BA_DINH.id))
    assert (await net[FINANCE.id].submit(to_two))[0] == 202
    before = await eventually(
        net[HOME_AFFAIRS.id].inbox_all, lambda items: len(items) == 3
    )  # two of `sent` and `to_two`

    backup_dir = tmp_path / "backup"
    code, out = await edocgw("backup", "--config", str(config), str(backup_dir))
    assert code == 0, out
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["counts"]["messages"] == 4
    assert manifest["counts"]["deliveries"] == 5
    assert {f["name"] for f in manifest["files"]} == {"gateway.sqlite3", "bus.sqlite3"}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert manifest["audit_head"] == (await verify(net))["head"]
    later = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    assert (await net[FINANCE.id].submit(later))[0] == 202  # after the backup: not in it

    code, out = await edocgw("backup", "--config", str(config), str(backup_dir))
    assert code != 0 and "is not empty" in out

    restored = tmp_path / "restored"
    (tmp_path / "b").mkdir()
    config_b = write_config(tmp_path / "b", restored)
    (restored / "stray").mkdir(parents=True)
    code, out = await edocgw("restore", "--config", str(config_b), str(backup_dir))
    assert code != 0 and "restore only into an empty data folder" in out
    (restored / "stray").rmdir()
    code, out = await edocgw("restore", "--config", str(config_b), str(backup_dir))
    assert code == 0, out

    again = await net_factory(make_settings(restored))
    after = await eventually(again[HOME_AFFAIRS.id].inbox_all, lambda items: len(items) >= 3)
    assert sorted(i["delivery_id"] for i in after) == sorted(i["delivery_id"] for i in before)
    ba_dinh = await eventually(again[BA_DINH.id].inbox_all, lambda items: len(items) >= 1)
    assert len(ba_dinh) == 1
    assert await again[HOME_AFFAIRS.id].fetch(waiting[1]) == (200, sent[1])
    verified = await verify(again)
    assert verified["ok"] is True, verified
    assert verified["head"] == manifest["audit_head"]


async def test_restore_refuses_a_damaged_backup(
    tmp_path: Path, net_factory: Callable[..., Awaitable[Net]]
) -> None:
    live = tmp_path / "live"
    (tmp_path / "a").mkdir()
    config = write_config(tmp_path / "a", live)
    await net_factory(make_settings(live))
    backup_dir = tmp_path / "backup"
    assert (await edocgw("backup", "--config", str(config), str(backup_dir)))[0] == 0
    with (backup_dir / "gateway.sqlite3").open("r+b") as damaged:
        damaged.seek(200)
        damaged.write(b"\xff")
    (tmp_path / "b").mkdir()
    config_b = write_config(tmp_path / "b", tmp_path / "restored")
    code, out = await edocgw("restore", "--config", str(config_b), str(backup_dir))
    assert code != 0 and "does not match the manifest's checksum" in out
    assert not (tmp_path / "restored" / "gateway.sqlite3").exists()
