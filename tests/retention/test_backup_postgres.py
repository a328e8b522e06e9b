"""The documented PostgreSQL procedure (docs/operations.md): `pg_dump` while the gateway serves,
`pg_restore` into a new database, `edocgw requeue` for the claims the broker's definitions do
not carry. The restored gateway verifies the same audit head and delivers every delivery that
was waiting, once."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from gateway.config import DatabaseSettings
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, BA_DINH, FINANCE, HOME_AFFAIRS, bearer, make_settings
from tests.retention.test_retention_cli import edocgw, write_config
from tests.retention.test_retention_http import delivered, verify
from tests.servers import create_database, drop_database, new_database_name
from tests.waiting import eventually


@pytest.fixture(autouse=True)
def pg_tools() -> None:
    """PostgreSQL's client tools come with the server: under CI (`CI` set) their absence fails
    the test, as a server that does not answer does (tests/servers.py); elsewhere it skips."""
    if shutil.which("pg_dump") and shutil.which("pg_restore"):
        return
    message = "pg_dump/pg_restore are not installed"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI: the PostgreSQL tests never skip)")
    pytest.skip(message)


@pytest.fixture
def spare_database(postgres_admin: str) -> Iterator[str]:
    """A second empty database, for the restore; dropped after the gateways are closed."""
    name = new_database_name()
    yield create_database(name)
    drop_database(name)


async def hash_at(net: Net, seq: int) -> str:
    response = await net.ops.get(
        "/v1/audit/events",
        params={"after": str(seq - 1), "limit": "1"},
        headers=bearer(AUDITOR_TOKEN),
    )
    assert response.status == 200
    [entry] = (await response.json())["events"]
    assert entry["seq"] == seq
    return str(entry["hash"])


def pg(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


async def test_pg_dump_and_pg_restore_then_requeue_deliver_every_waiting_delivery_once(
    tmp_path: Path,
    postgres_database: str,
    spare_database: str,
    net_factory: Callable[..., Awaitable[Net]],
) -> None:
    live = make_settings(tmp_path / "a", database=DatabaseSettings(url=postgres_database))
    net = await net_factory(live)
    sent = [document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)) for _ in range(2)]
    in_inbox = [(await delivered(net, raw))[1] for raw in sent]
    assert await net[HOME_AFFAIRS.id].ack(in_inbox[0]) == 204
    # a delivery still queued on the bus: the dispatcher is stopped before it is taken
    await net.gateway.dispatcher.close()
    status, receipt = await net[FINANCE.id].submit(
        document_bytes(sender=FINANCE.id, recipients=(BA_DINH.id,))
    )
    assert status == 202, receipt
    queued = receipt["recipients"][0]["delivery_id"]
    backed_up = await verify(net)

    dump = tmp_path / "edocgw.dump"
    pg("pg_dump", "--format=custom", f"--file={dump}", postgres_database)  # while serving
    pg("pg_restore", "--no-owner", f"--dbname={spare_database}", str(dump))
    # a new node: its bus (here the embedded one) holds none of the claims
    (tmp_path / "b").mkdir()
    config = write_config(tmp_path / "b", tmp_path / "b" / "data", spare_database)
    code, out = await edocgw("requeue", "--config", str(config))
    assert code == 0, out
    assert out.splitlines()[-1] == "1 waiting deliveries queued again", out

    again = await net_factory(
        make_settings(tmp_path / "b" / "data", database=DatabaseSettings(url=spare_database))
    )
    # the restored log verifies and holds the backed-up head at its place; the restored node may
    # already have appended (the requeued delivery's `delivered`)
    restored = await verify(again)
    assert restored["ok"] is True
    assert await hash_at(again, backed_up["events"]) == backed_up["head"]
    ba_dinh = await eventually(again[BA_DINH.id].inbox_all, lambda items: len(items) >= 1)
    assert [i["delivery_id"] for i in ba_dinh] == [queued]
    home = await again[HOME_AFFAIRS.id].inbox_all()
    assert [i["delivery_id"] for i in home] == [in_inbox[1]]
    assert (await again[BA_DINH.id].fetch(queued))[0] == 200
