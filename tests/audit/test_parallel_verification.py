"""The log checked in spans on several processes finds exactly what one walk finds: the same
first bad entry, the same reason, the same count and head, wherever the damage falls (inside a
span, on its first or last entry, at either end of the log)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.audit.verification import spans, verify_chain
from gateway.config import DatabaseSettings
from gateway.store import SQLITE_FILE, open_database

ENTRIES = 600
WORKERS = 2
MIN_SPAN = 50  # 600 entries: 8 spans of 75, so 75/76 and 150/151 are span boundaries


def entry(n: int) -> Event:
    return Event(
        "delivered",
        at=1_764_265_600.25 + n,
        actor="000.00.13.H26",
        message_id=f"m{n}",
        recipient="000.00.12.H26",
        data={"delivery_id": f"d{n}", "note": "Sở Tài chính “12/QĐ”"},
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding a log of ENTRIES entries, written in batches of 40."""
    data_dir = tmp_path_factory.mktemp("log") / "data"

    async def build() -> None:
        db = await open_database(DatabaseSettings(url="sqlite"), data_dir)
        for first in range(1, ENTRIES + 1, 40):
            batch = [entry(n) for n in range(first, first + 40)]
            await db.write(lambda tx, batch=batch: audit.append(tx, batch))
        await db.close()

    asyncio.run(build())
    return data_dir


async def both(data_dir: Path) -> tuple[audit.Verification, audit.Verification]:
    db = await open_database(DatabaseSettings(url="sqlite"), data_dir)
    try:
        spread = await verify_chain(db, workers=WORKERS, min_span=MIN_SPAN)
        walked = await db.scan(audit.verify)
    finally:
        await db.close()
    return spread, walked


def damaged(pristine: Path, tmp_path: Path, *statements: str) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(pristine, data_dir)
    with sqlite3.connect(data_dir / SQLITE_FILE) as conn:
        for statement in statements:
            conn.execute(statement)
    return data_dir


def test_the_log_is_cut_into_consecutive_spans() -> None:
    assert spans(ENTRIES, WORKERS, MIN_SPAN) == [(f, f + 74) for f in range(1, 601, 75)]
    assert spans(1_000_003, 2, 50_000) == [
        (1, 125_001),
        *[(f, min(f + 125_000, 1_000_003)) for f in range(125_002, 1_000_004, 125_001)],
    ]
    assert spans(10, 2, 50_000) == [(1, 10)]


async def test_an_intact_log_verifies_the_same_way(pristine: Path, tmp_path: Path) -> None:
    spread, walked = await both(damaged(pristine, tmp_path))
    assert spread == walked
    assert (spread.ok, spread.events) == (True, ENTRIES)


@pytest.mark.parametrize("seq", [1, 2, 75, 76, 150, 151, 333, 599, 600])
async def test_an_altered_entry_is_named_the_same_way(
    pristine: Path, tmp_path: Path, seq: int
) -> None:
    statement = f"UPDATE events SET data = replace(data, 'd{seq}\"', 'x{seq}\"') WHERE seq = {seq}"
    spread, walked = await both(damaged(pristine, tmp_path, statement))
    assert spread == walked
    assert (spread.ok, spread.first_bad_seq, spread.events) == (False, seq, seq - 1)
    assert spread.problem == "its content does not match its hash: the entry was altered"


@pytest.mark.parametrize("seq", [1, 75, 76, 151, 400])
async def test_a_removed_entry_is_named_the_same_way(
    pristine: Path, tmp_path: Path, seq: int
) -> None:
    spread, walked = await both(
        damaged(pristine, tmp_path, f"DELETE FROM events WHERE seq = {seq}")
    )
    assert spread == walked
    assert (spread.first_bad_seq, spread.problem) == (
        seq,
        f"expected entry {seq} next, found {seq + 1}: entries removed or moved",
    )


@pytest.mark.parametrize("seq", [76, 151, 300])
async def test_a_link_broken_at_a_span_boundary_is_named_the_same_way(
    pristine: Path, tmp_path: Path, seq: int
) -> None:
    """The entry keeps a hash of its own content but claims another predecessor: only joining
    the spans can see it where it is a span's first entry."""
    statement = f"UPDATE events SET prev_hash = '{'f' * 64}' WHERE seq = {seq}"
    spread, walked = await both(damaged(pristine, tmp_path, statement))
    assert spread == walked
    assert (spread.first_bad_seq, spread.events) == (seq, seq - 1)
    assert spread.problem == (
        "its prev_hash is not the hash of the entry before it: the chain is broken here"
    )


async def test_two_entries_swapped_are_named_the_same_way(pristine: Path, tmp_path: Path) -> None:
    swap = (
        "UPDATE events SET seq = 100000 WHERE seq = 75",
        "UPDATE events SET seq = 75 WHERE seq = 76",
        "UPDATE events SET seq = 76 WHERE seq = 100000",
    )
    spread, walked = await both(damaged(pristine, tmp_path, *swap))
    assert spread == walked
    assert spread.first_bad_seq == 75
