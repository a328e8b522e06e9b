"""The statistics recounted from the log in exchange order (constant memory) equal the recount
that holds every exchange at once, on both databases."""

from __future__ import annotations

import random

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.stats import facts
from gateway.stats.counting import Tally
from gateway.stats.facts import CounterKey
from gateway.stats.recount import recounted_by_sender
from gateway.store.db import Database, Tx

AGENCIES = ("000.00.13.H26", "000.00.12.H26", "000.00.16.H26", "000.01.20.H26")
DAYS = ("2026-01-30", "2026-01-31", "2026-02-01", "2026-12-31")


def counting(rng: random.Random, n: int) -> Event:
    sender, recipient = rng.sample(AGENCIES, 2)
    document_id = f"{rng.randrange(12)}/QĐ-UBND"  # few: the same exchange comes back
    day = rng.choice(DAYS)
    kind = rng.choice(("accepted", "accepted", "paper_declared", "secret_excluded"))
    data: dict[str, object] = {"document_id": document_id, "day": day}
    if kind == "accepted":
        data |= {
            "kind": rng.choice(("edoc", "edoc", "status")),
            "business_type": rng.choice((0, 1, 2, 3)),
            "paper_copy": rng.random() < 0.3,
        }
    return Event(
        kind,
        at=1_767_000_000.0 + n,
        actor=sender,
        message_id=f"m{n}",
        recipient=recipient,
        data=data,
    )


async def recounted_totals(tx: Tx) -> dict[CounterKey, Tally]:
    """What the audit check compares, agency by agency, gathered into one table."""
    return {
        (sender, day): tally
        async for sender, days in recounted_by_sender(tx)
        for day, tally in days.items()
    }


async def in_memory_totals(tx: Tx) -> dict[CounterKey, Tally]:
    """The recount as it was: every exchange settled in one dict."""
    totals: dict[CounterKey, Tally] = {}
    for fact in (await facts.recount(tx)).values():
        totals.setdefault((fact.sender, fact.day), Tally()).add(fact.channel, fact.paper_copy)
    return totals


async def test_random_logs_recount_the_same(db: Database) -> None:
    rng = random.Random(16)
    entries = [counting(rng, n) for n in range(600)]
    for first in range(0, len(entries), 50):
        batch = entries[first : first + 50]
        await db.write(lambda tx, batch=batch: audit.append(tx, batch))
    streamed = await db.scan(recounted_totals)
    assert streamed == await db.scan(in_memory_totals)
    assert sum(t.electronic + t.paper + t.secret_excluded for t in streamed.values()) > 20


async def test_paper_then_electronic_counts_once_on_the_electronic_day(db: Database) -> None:
    a, b = AGENCIES[:2]
    doc = {"document_id": "7/QĐ"}
    entries = [
        Event("paper_declared", at=1.0, actor=a, recipient=b, data=doc | {"day": "2026-01-30"}),
        Event(
            "accepted",
            at=2.0,
            actor=a,
            message_id="m1",
            recipient=b,
            data=doc
            | {"day": "2026-02-01", "kind": "edoc", "business_type": 0, "paper_copy": True},
        ),
        Event(
            "accepted",
            at=3.0,
            actor=a,
            message_id="m2",
            recipient=b,
            data=doc
            | {"day": "2026-02-02", "kind": "edoc", "business_type": 3, "paper_copy": False},
        ),
    ]
    await db.write(lambda tx: audit.append(tx, entries))
    totals = await db.scan(recounted_totals)
    assert totals == {(a, "2026-02-01"): Tally(electronic=1, with_paper_copy=1)}
