"""A serving gateway on the embedded store sees at once what another process committed to it
(`edocgw retention` run by an operator), without a write of its own in between: its loop's
connection and its reader thread both read the removal.

It once did not: the test itself, looking for leftovers in the data folder with
`Path.read_bytes()`, dropped the gateway's SQLite locks (tests/datafiles.py says why); the
next `edocgw` process then rebuilt the WAL index the gateway's connections still read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.store import messages as store
from tests.conftest import Net
from tests.datafiles import files_holding
from tests.factories import document_bytes
from tests.harness import FINANCE, HOME_AFFAIRS, make_settings
from tests.retention.conftest import MovingClock
from tests.retention.test_retention_cli import edocgw, write_config
from tests.retention.test_retention_http import delivered


async def test_a_removal_by_another_process_is_seen_without_a_write_of_the_gateway(
    tmp_path: Path, net_factory: Callable[..., Awaitable[Net]]
) -> None:
    data_dir = tmp_path / "data"
    config = write_config(tmp_path, data_dir)
    net = await net_factory(make_settings(data_dir), clock=MovingClock("2025-01-06T02:00:00"))
    receipt, acked = await delivered(
        net, document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    )
    assert await net[HOME_AFFAIRS.id].ack(acked) == 204
    message_id, db = receipt["id"], net.gateway.db
    assert await db.read(lambda tx: store.body(tx, message_id)) is not None
    assert await db.scan(lambda tx: store.body(tx, message_id)) is not None
    # an operator's look into the folder, then a command run by another process
    assert files_holding(data_dir, b"no such bytes") == []
    code, out = await edocgw("retention", "--config", str(config), "--dry-run")
    assert code == 0, out
    assert await db.read(lambda tx: store.body(tx, message_id)) is not None

    code, out = await edocgw("retention", "--config", str(config))
    assert code == 0, out
    assert out.splitlines()[-1].startswith("removed 1 bodies"), out
    # no write by the gateway since: the removal is seen on the loop and on the reader thread
    assert await db.read(lambda tx: store.body(tx, message_id)) is None
    assert await db.scan(lambda tx: store.body(tx, message_id)) is None
    assert (await net[HOME_AFFAIRS.id].fetch(acked))[0] == 410
