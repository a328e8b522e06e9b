"""The audit chain on both databases, and with several writers ("nodes") at once."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.audit.verification import verify_chain
from gateway.stats import facts
from gateway.store.db import Database, Query, Tx
from tests.store.conftest import Store


class Refused(Exception):
    pass


def event(n: int, node: str = "a") -> Event:
    return Event(
        "delivered",
        at=1_764_265_600.25 + n,
        actor="000.00.13.H26",
        message_id=f"m{node}{n}",
        recipient="000.00.13.H26",
        data={"delivery_id": f"d{node}{n}", "attempt": 1, "node": node},
    )


async def append(db: Database, *entries: Event) -> None:
    await db.write(lambda tx: audit.append(tx, entries))


async def chain(db: Database) -> list[dict[str, object]]:
    rows = await db.scan(lambda tx: audit.page(tx, 0, 10_000))
    return [audit.entry_view(r) for r in rows]


async def test_entries_chain_and_verify(db: Database) -> None:
    await append(db, event(1), event(2))
    await append(db, event(3))
    entries = await chain(db)
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev_hash"] == audit.GENESIS
    assert [e["prev_hash"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]
    assert entries[2]["data"] == {"delivery_id": "da3", "attempt": 1, "node": "a"}
    assert entries[0]["at"] == 1_764_265_601.25
    result = await db.scan(audit.verify)
    assert (result.ok, result.events, result.head) == (True, 3, entries[-1]["hash"])


async def test_a_rolled_back_unit_leaves_no_link(db: Database) -> None:
    await append(db, event(1))

    async def failing(tx: Tx) -> None:
        await audit.append(tx, [event(2)])
        raise Refused

    results = await asyncio.gather(db.write(failing), append(db, event(3)), return_exceptions=True)
    assert isinstance(results[0], Refused) and results[1] is None
    entries = await chain(db)
    assert [e["message_id"] for e in entries] == ["ma1", "ma3"]
    assert (await db.scan(audit.verify)).ok


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (
            "UPDATE events SET actor = '000.00.99.H26' WHERE seq = 3",
            "its content does not match its hash: the entry was altered",
        ),
        (
            "DELETE FROM events WHERE seq = 3",
            "expected entry 3 next, found 4: entries removed or moved",
        ),
    ],
)
async def test_the_check_auditors_call_names_the_first_damaged_entry(
    db: Database, damage: str, problem: str
) -> None:
    """verify_chain spreads the walk over processes on SQLite and walks in one on PostgreSQL:
    either way it names the first entry that is not what was written."""
    await append(db, *(event(n) for n in range(1, 6)))
    await db.write(lambda tx: tx.execute(Query(sa.text(damage))))
    result = await verify_chain(db)
    assert (result.ok, result.first_bad_seq, result.events, result.problem) == (
        False,
        3,
        2,
        problem,
    )


async def test_several_nodes_appending_at_once_keep_one_chain(stores: Store) -> None:
    nodes = [await stores.open() for _ in range(3)]
    per_node = 40

    async def node_appends(index: int, db: Database) -> None:
        await asyncio.gather(*(append(db, event(n, node=str(index))) for n in range(per_node)))

    await asyncio.gather(*(node_appends(i, db) for i, db in enumerate(nodes)))
    entries = await chain(nodes[0])
    assert [e["seq"] for e in entries] == list(range(1, 3 * per_node + 1))
    assert sorted(str(e["message_id"]) for e in entries) == sorted(
        f"m{i}{n}" for i in range(3) for n in range(per_node)
    )
    result = await nodes[1].scan(audit.verify)
    assert (result.ok, result.events) == (True, 3 * per_node)


async def test_accepted_entries_update_the_counters_in_the_same_transaction(db: Database) -> None:
    accepted = Event(
        "accepted",
        at=1_764_265_600.0,
        actor="000.00.00.H26",
        message_id="m1",
        recipient="000.00.13.H26",
        data={
            "kind": "edoc",
            "document_id": "D-1",
            "business_type": 0,
            "paper_copy": True,
            "day": "2026-11-28",
        },
    )
    await append(db, accepted, accepted)  # the same exchange twice counts once
    counts = await db.scan(lambda tx: facts.day_counts(tx, "2026-11-01", "2026-11-30"))
    assert [(c.sender, c.day, c.channel, c.paper_copy, c.count) for c in counts] == [
        ("000.00.00.H26", "2026-11-28", "electronic", True, 1)
    ]
