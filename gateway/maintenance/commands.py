"""`edocgw retention`, `edocgw backup`, `edocgw restore`: what the operator runs."""

from __future__ import annotations

import argparse
import asyncio
import functools

from gateway.app import retry_policy
from gateway.bus import open_bus
from gateway.claim import Claim
from gateway.clock import iso, system_clock
from gateway.config import ConfigError, Settings, load_settings
from gateway.maintenance.backup import BackupError, backup, restore
from gateway.retention import Retention
from gateway.store import messages as store
from gateway.store import open_database
from gateway.store.db import Tx
from gateway.store.messages import DeliveryRecord

REPUBLISH_BATCH = 500


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(args.config)
    except ConfigError as exc:
        raise SystemExit(f"edocgw: configuration error: {exc}") from None


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
    print(asyncio.run(_retention(_settings(args), args.dry_run)))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings(args)
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
    settings = _settings(args)
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
