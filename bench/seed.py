"""A city-year of history in a gateway's store, through the gateway's own store layer (issue 16).

Hanoi: about 1,000 agencies (departments, districts, communes, their units), each sending 20
documents per working day to about 3 recipients, each recipient answering with 2 statuses: a
year is about 5 million documents, 15 million deliveries, 30 million statuses. `--scale 0.01`
keeps the 1,000 agencies and scales the traffic: 1 % of the documents.

Every message is recorded as the gateway records it (gateway.store.messages.insert_history:
message, deliveries, body), with the audit entries its life made (accepted, status, delivered,
acked: gateway.audit.chain.append, which also moves the statistics' counters). Bodies are kept
only for messages finished in the last `--bodies-days` days, as retention leaves them, with one
`bodies_removed` entry per window of 100 removed; one agency (`INBOX_AGENCY`) has stopped
collecting and has `--inbox` items waiting in its inbox. Sizes follow the X-Road mix up to
2 MB (the 10 MB documents of the mix are left out to keep the disk of this machine).

    .venv/bin/python -m bench.seed --scale 0.01 --workdir /tmp/city
    .venv/bin/python -m bench.scale --workdir /tmp/city

The working folder gets `gateway.toml`, `tokens.env` (ten agencies that bench.load may drive),
`inbox.token` (the agency with the backlog) and `data/`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from bench.child import free_port
from gateway.api.auth import token_sha256
from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.config import DatabaseSettings
from gateway.intake.exchange import acceptance_events
from gateway.store import open_database
from gateway.store.db import Database, Tx
from gateway.store.messages import (
    ACKED,
    INBOX,
    DeliveryRecord,
    MessageKind,
    MessageRecord,
    PastMessage,
    insert_history,
)

AGENCIES = 1000
DOCS_PER_AGENCY_DAY = 20
RECIPIENTS = 3
STATUSES_PER_DELIVERY = 2
GROUPS = (("so-nganh", 30), ("quan-huyen", 30), ("xa-phuong", 579), ("don-vi", 361))
INBOX_AGENCY = "H26.0999"  # a unit whose system stopped collecting
TOKENED = 10  # agencies bench.load drives (tokens.env)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MIX = ((2_048, 0.30), (10_240, 0.60), (102_400, 0.09), (2_097_152, 0.01))
STATUS_SIZE = 1_500
BATCH = 2_000  # messages per transaction
WINDOW = 100  # bodies per `bodies_removed` entry, as retention writes them
UNSIGNED = json.dumps({"status": "unsigned"}, sort_keys=True)


def agency_ids() -> list[tuple[str, str]]:
    """(id, group) of the city's agencies."""
    ids: list[tuple[str, str]] = []
    for group, count in GROUPS:
        ids += [(f"H26.{len(ids) + i:04d}", group) for i in range(count)]
    return ids


def working_days(end: datetime, days: int = 365) -> list[datetime]:
    start = end - timedelta(days=days)
    every = (start + timedelta(days=n) for n in range(days))
    return [d.replace(hour=8, minute=0, second=0, microsecond=0) for d in every if d.weekday() < 5]


@dataclass(frozen=True)
class Reply:
    """What a status answers: the document's message and DocumentId, and the status code."""

    message_id: str
    document_id: str
    code: str


class History:
    """The messages of the year, day by day, with the entries each one's life made."""

    def __init__(self, scale: float, now: float, bodies_days: int, rng: random.Random) -> None:
        self.per_day = max(1, round(AGENCIES * DOCS_PER_AGENCY_DAY * scale))
        self.now = now
        self.keep_after = now - bodies_days * 86400
        self.rng = rng
        self.ids = [a for a, _ in agency_ids() if a != INBOX_AGENCY]
        self.number = 0
        self.removed: list[str] = []
        self.counts = {"messages": 0, "deliveries": 0, "events": 0, "bodies": 0, "body_bytes": 0}

    def _id(self) -> str:
        self.number += 1
        return f"{self.number:032x}"

    def _size(self) -> int:
        pick, total = self.rng.random(), 0.0
        for size, share in MIX:
            total += share
            if pick < total:
                return size
        return MIX[-1][0]

    def _body(self, message_id: str, size: int, finished: float) -> bytes | None:
        if finished < self.keep_after:
            self.removed.append(message_id)
            return None
        self.counts["bodies"] += 1
        self.counts["body_bytes"] += size
        head = f"<edXML><!-- {message_id} --></edXML>".encode()
        return head + b" " * (size - len(head))

    def _record(self, sender: str, at: float, size: int, reply: Reply | None) -> MessageRecord:
        message_id = self._id()
        kind: MessageKind = "status" if reply else "edoc"
        document_id = reply.document_id if reply else f"{sender},{message_id[-8:]}/UBND-VP"
        return MessageRecord(
            id=message_id,
            kind=kind,
            sender=sender,
            document_id=document_id,
            business_type=None if reply else 0,
            dedupe_key=f"{kind}|{sender}|{document_id}|{message_id}",
            sha256=hashlib.sha256(message_id.encode()).hexdigest(),
            size=size,
            priority=0,
            paper_copy=False,
            received_at=at,
            reply_to=reply.message_id if reply else None,
            status_code=reply.code if reply else None,
            signature=UNSIGNED,
        )

    def _deliveries(self, record: MessageRecord, to: list[str], state: str) -> list[DeliveryRecord]:
        return [
            DeliveryRecord(
                delivery_id=self._id(),
                message_id=record.id,
                recipient=recipient,
                sender=record.sender,
                kind=record.kind,
                document_id=record.document_id,
                priority=record.priority,
                size=record.size,
                received_at=record.received_at,
                state=ACKED if state == ACKED else INBOX,
            )
            for recipient in to
        ]

    def _life(
        self, record: MessageRecord, deliveries: list[DeliveryRecord], acked_at: float | None
    ) -> list[Event]:
        events = acceptance_events(record, deliveries, TZ)
        for d in deliveries:
            base = {"delivery_id": d.delivery_id}
            events.append(
                Event(
                    "delivered",
                    at=record.received_at + 2,
                    actor=d.recipient,
                    message_id=record.id,
                    recipient=d.recipient,
                    data={**base, "attempt": 1},
                )
            )
            if acked_at is not None:
                events.append(
                    Event(
                        "acked",
                        at=acked_at,
                        actor=d.recipient,
                        message_id=record.id,
                        recipient=d.recipient,
                        data=base,
                    )
                )
        return events

    def message(
        self, sender: str, to: list[str], at: float, reply: Reply | None = None, acked: bool = True
    ) -> tuple[PastMessage, list[Event]]:
        size = STATUS_SIZE if reply else self._size()
        record = self._record(sender, at, size, reply)
        acked_at = at + self.rng.uniform(60, 4 * 3600) if acked else None
        deliveries = self._deliveries(record, to, ACKED if acked else INBOX)
        finished = acked_at if acked_at is not None else self.now
        body = self._body(record.id, size, finished)
        events = self._life(record, deliveries, acked_at)
        self.counts["messages"] += 1
        self.counts["deliveries"] += len(deliveries)
        self.counts["events"] += len(events)
        return PastMessage(record, body, deliveries, finished), events

    def day(self, start: datetime) -> Iterator[tuple[PastMessage, list[Event]]]:
        opening = start.timestamp()
        for _ in range(self.per_day):
            at = opening + self.rng.uniform(0, 9 * 3600)
            sender = self.rng.choice(self.ids)
            to = self.rng.sample(
                [a for a in self.rng.sample(self.ids, 4) if a != sender], RECIPIENTS
            )
            document, events = self.message(sender, to, at)
            yield document, events
            for recipient in to:
                for n, code in enumerate(("03", "05")[:STATUSES_PER_DELIVERY]):
                    reply = Reply(document.record.id, document.record.document_id, code)
                    yield self.message(recipient, [sender], at + 600 * (n + 1), reply)

    def removals(self, at: float) -> list[Event]:
        """What retention's passes wrote for the bodies it removed: one entry per window."""
        ids, self.removed = self.removed, []
        return [
            Event(
                "bodies_removed",
                at=at,
                actor="retention",
                data={"messages": sorted(ids[i : i + WINDOW]), "bodies_days": 30},
            )
            for i in range(0, len(ids), WINDOW)
        ]

    def backlog(self, count: int, start: float) -> Iterator[tuple[PastMessage, list[Event]]]:
        """`count` documents waiting uncollected in INBOX_AGENCY's inbox, one a minute."""
        for n in range(count):
            sender = self.rng.choice(self.ids)
            yield self.message(sender, [INBOX_AGENCY], start + 60 * n, acked=False)


async def write(db: Database, items: list[tuple[PastMessage, list[Event]]]) -> None:
    async def unit(tx: Tx) -> None:
        await insert_history(tx, [past for past, _ in items])
        await audit.append(tx, [event for _, events in items for event in events])

    await db.write(unit, large=True)


async def seed(history: History, db: Database, days: list[datetime], inbox: int) -> None:
    pending: list[tuple[PastMessage, list[Event]]] = []
    started = time.perf_counter()
    for number, day in enumerate(days, 1):
        pending += history.day(day)
        if len(pending) >= BATCH or number == len(days):
            await write(db, pending)
            pending = []
        if number % 20 == 0:
            rate = history.counts["messages"] / (time.perf_counter() - started)
            print(f"  day {number}/{len(days)}: {history.counts} ({rate:.0f} messages/s)")
    backlog_start = history.now - inbox * 60 - 3600
    items = list(history.backlog(inbox, backlog_start))
    for i in range(0, len(items), BATCH):
        await write(db, items[i : i + BATCH])
    removals = history.removals(history.now - 3600)

    async def removed(tx: Tx) -> None:
        await audit.append(tx, removals)

    await db.write(removed)
    history.counts["events"] += len(removals)


def write_config(workdir: Path, database_url: str) -> None:
    """gateway.toml with the city's agencies; tokens for TOKENED of them and INBOX_AGENCY."""
    tokens = {}
    lines = [
        "[server]",
        f'listen = "127.0.0.1:{free_port()}"',
        f'ops_listen = "127.0.0.1:{free_port()}"',
        f'data_dir = "{workdir / "data"}"',
        "[database]",
        f'url = "{database_url}"',
        "[trust]",
        'signature = "optional"',
    ]
    for n, (agency, group) in enumerate(agency_ids()):
        lines += ["[[agencies]]", f'id = "{agency}"', f'name = "Cơ quan {agency}"']
        lines.append(f'group = "{group}"')
        if n < TOKENED or agency == INBOX_AGENCY:
            tokens[agency] = secrets.token_urlsafe(24)
            lines.append(f'token_sha256 = "{token_sha256(tokens[agency])}"')
    auditor = secrets.token_urlsafe(24)
    lines += ["[[users]]", 'name = "auditor"', 'role = "auditor"']
    lines.append(f'token_sha256 = "{token_sha256(auditor)}"')
    (workdir / "gateway.toml").write_text("\n".join(lines) + "\n")
    driven = [a for a in tokens if a != INBOX_AGENCY]
    (workdir / "tokens.env").write_text(
        "".join(f"export TOKEN_{a.replace('.', '_')}={tokens[a]}\n" for a in driven)
    )
    (workdir / "inbox.token").write_text(tokens[INBOX_AGENCY])
    (workdir / "auditor.token").write_text(auditor)


async def main_async(args: argparse.Namespace) -> None:
    workdir: Path = args.workdir
    now = datetime.now(UTC)
    history = History(args.scale, now.timestamp(), args.bodies_days, random.Random(args.seed))
    days = working_days(now.astimezone(TZ))
    print(
        f"seeding {len(days)} working days x {history.per_day} documents "
        f"(scale {args.scale:g} of {AGENCIES} agencies x {DOCS_PER_AGENCY_DAY}/day) into {workdir}"
    )
    started = time.perf_counter()
    db = await open_database(DatabaseSettings(url=args.database_url), workdir / "data")
    try:
        await seed(history, db, days, args.inbox)
    finally:
        await db.close()
    if args.database_url.startswith("postgresql"):
        # What a bulk load needs before it is queried (autovacuum would, later, where it is
        # on: this machine's server has it off); SQLite's planner has no statistics to refresh.
        conn = await asyncpg.connect(args.database_url)
        try:
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
    elapsed = time.perf_counter() - started
    print(f"seeded in {elapsed:.0f} s: {history.counts}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01, help="share of a city-year")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--bodies-days", type=int, default=30)
    parser.add_argument("--inbox", type=int, default=10_000, help="uncollected items")
    parser.add_argument("--database-url", default="sqlite")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    if (args.workdir / "data").exists():
        raise SystemExit(f"{args.workdir / 'data'} exists: seed into a new working folder")
    args.workdir.mkdir(parents=True, exist_ok=True)
    write_config(args.workdir, args.database_url)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
