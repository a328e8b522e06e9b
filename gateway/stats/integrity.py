"""What an auditor checks from outside: the chain of the audit log, and the statistics'
counters recounted from it in the same pass and the same snapshot (run it with `db.scan`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.audit import chain as audit
from gateway.stats import facts
from gateway.store.db import Tx


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


async def check(tx: Tx) -> Integrity:
    recount = facts.Recount()
    chain = await audit.verify(tx, observe=recount.add)
    if not chain.ok:  # the log itself is wrong: a recount from it proves nothing
        return Integrity(chain, [])
    return Integrity(chain, facts.mismatches(await facts.stored_totals(tx), recount.totals()))
