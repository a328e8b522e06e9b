"""`edocgw retention`, `edocgw backup`, `edocgw restore`, `edocgw requeue`: what the operator
runs."""

from __future__ import annotations

import argparse
import asyncio
import functools
from pathlib import Path
from typing import Any

from gateway.app import retry_policy
from gateway.bus import open_bus
from gateway.cli._common import settings_or_exit
from gateway.clock import iso, system_clock
from gateway.config import Settings
from gateway.intake.claim import Claim
from gateway.maintenance.backup import BackupError, backup, restore
from gateway.maintenance.retention import Retention
from gateway.store import messages as store
from gateway.store import open_database
from gateway.store.db import Tx
from gateway.store.messages import DeliveryRecord

REPUBLISH_BATCH = 500


def _embedded_only(settings: Settings, command: str) -> None:
    if settings.database.url != "sqlite" or settings.bus.url != "local":
        raise SystemExit(
            f"edocgw {command}: this gateway uses PostgreSQL or RabbitMQ; back those up with "
            "their own tools (pg_dump, broker definitions): see docs/operations.md"
        )


async def _retention(settings: Settings, dry_run: bool) -> str:
    db = await open_database(settings.database, settings.server.data_dir)
    try:
        retention = Retention(db, system_clock, settings.retention)
        days = settings.retention.bodies_days
        if dry_run:
            s = await retention.preview()
            return (
                f"would remove {s.removable} of {s.bodies} stored bodies "
                f"({s.removable_bytes} of {s.bytes} bytes): messages finished more than "
                f"{days} days ago, before {iso(retention.cutoff())}"
            )
        result = await retention.run_once()
        left = await retention.preview()
        return (
            f"removed {result.removed} bodies of messages finished before {iso(result.cutoff)}; "
            f"{left.bodies} bodies ({left.bytes} bytes) remain"
        )
    finally:
        await db.close()


def cmd_retention(args: argparse.Namespace) -> int:
    print(asyncio.run(_retention(settings_or_exit(args.config), args.dry_run)))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    settings = settings_or_exit(args.config)
    _embedded_only(settings, "backup")
    try:
        manifest = backup(settings.server.data_dir, args.dest, iso(system_clock()))
    except BackupError as exc:
        raise SystemExit(f"edocgw backup: {exc}") from None
    print(
        f"backed up {manifest.counts['messages']} messages, "
        f"{manifest.counts['deliveries']} deliveries and {manifest.audit_events} audit events "
        f"to {args.dest} (audit head {manifest.audit_head})"
    )
    return 0


async def _republish_waiting(settings: Settings) -> int:
    """Publish a claim for every delivery the restored store shows waiting (see backup)."""
    db = await open_database(settings.database, settings.server.data_dir)
    bus = open_bus(settings.bus, settings.server.data_dir, retry_policy(settings))
    count, after = 0, 0
    try:
        await bus.start()
        await bus.declare([agency.id for agency in settings.agencies])
        while batch := await db.read(functools.partial(_waiting, after)):
            await bus.publish([Claim.of(d).to_message() for d in batch])
            count += len(batch)
            after = batch[-1].seq or after
    finally:
        await bus.close()
        await db.close()
    return count


async def _waiting(after: int, tx: Tx) -> list[DeliveryRecord]:
    return await store.waiting_after(tx, after, REPUBLISH_BATCH)


def cmd_restore(args: argparse.Namespace) -> int:
    settings = settings_or_exit(args.config)
    _embedded_only(settings, "restore")
    try:
        manifest = restore(args.src, settings.server.data_dir)
    except BackupError as exc:
        raise SystemExit(f"edocgw restore: {exc}") from None
    waiting = asyncio.run(_republish_waiting(settings))
    print(
        f"restored the backup of {manifest.created_at} into {settings.server.data_dir} "
        f"(audit head {manifest.audit_head}); {waiting} waiting deliveries queued again"
    )
    return 0


def cmd_requeue(args: argparse.Namespace) -> int:
    """After PostgreSQL and RabbitMQ were restored with their own tools: the broker's messages
    are not in its definitions, so every delivery the store shows waiting gets its claim again
    (one that still had one is delivered once all the same: the dispatcher moves a delivery
    out of `queued` only once)."""
    settings = settings_or_exit(args.config)
    waiting = asyncio.run(_republish_waiting(settings))
    print(f"{waiting} waiting deliveries queued again")
    return 0


def add_subcommands(sub: Any) -> None:
    retention = sub.add_parser(
        "retention", help="apply [retention] now: remove the bodies of finished messages"
    )
    retention.add_argument("--config", type=Path, required=True)
    retention.add_argument(
        "--dry-run", action="store_true", help="say what would be removed, remove nothing"
    )
    retention.set_defaults(func=cmd_retention)

    backup = sub.add_parser(
        "backup", help="copy the embedded store and bus, consistently, while the gateway serves"
    )
    backup.add_argument("--config", type=Path, required=True)
    backup.add_argument("dest", type=Path, help="a new or empty folder for the copy")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser("restore", help="restore a backup into an empty data folder")
    restore.add_argument("--config", type=Path, required=True)
    restore.add_argument("src", type=Path, help="a folder written by `edocgw backup`")
    restore.set_defaults(func=cmd_restore)

    requeue = sub.add_parser(
        "requeue",
        help="queue a claim again for every waiting delivery (after pg_restore and the broker's "
        "definitions)",
    )
    requeue.add_argument("--config", type=Path, required=True)
    requeue.set_defaults(func=cmd_requeue)
