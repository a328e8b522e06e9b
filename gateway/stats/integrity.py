"""What an auditor checks from outside: the chain of the audit log, and the statistics'
counters recounted from it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from gateway.audit import chain as audit
from gateway.audit.verification import verify_chain
from gateway.stats import facts
from gateway.stats.recount import recounted_by_sender
from gateway.store.db import Database, Tx


@dataclass(frozen=True)
class Integrity:
    chain: audit.Verification
    mismatches: list[dict[str, Any]]  # (agency, period, field, stored, recounted)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.mismatches

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "ok": self.ok,
            "events": self.chain.events,
            "head": self.chain.head,
            "mismatches": self.mismatches,
        }
        if not self.chain.ok:
            body["first_bad"] = {"seq": self.chain.first_bad_seq, "problem": self.chain.problem}
        return body


async def check(db: Database) -> Integrity:
    """The chain walked on every core the store allows while this process recounts the
    statistics (in a snapshot of its own, with the stored counters it compares)."""
    chain, differences = await asyncio.gather(verify_chain(db), db.scan(mismatches))
    if not chain.ok:  # the log itself is wrong: a recount from it proves nothing
        return Integrity(chain, [])
    return Integrity(chain, differences)


async def mismatches(tx: Tx) -> list[dict[str, Any]]:
    """Agency by agency, in the log's agency order: one agency's days held at a time."""
    found: list[dict[str, Any]] = []
    unseen = await facts.counted_senders(tx)
    async for sender, recounted in recounted_by_sender(tx):
        unseen.discard(sender)
        found += facts.mismatches(sender, await facts.stored_days(tx, sender), recounted)
    for sender in unseen:  # counted in the store, never in the log
        found += facts.mismatches(sender, await facts.stored_days(tx, sender), {})
    return sorted(found, key=lambda m: (m["agency"], m["period"]))
