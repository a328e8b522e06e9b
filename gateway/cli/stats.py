"""`edocgw stats` and `edocgw audit verify`: the auditor's commands, on the configured store."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tabulate import tabulate

from gateway.cli._common import settings_or_exit
from gateway.config import Settings
from gateway.directory import Directory
from gateway.errors import BadInput
from gateway.stats import facts, integrity
from gateway.stats.report import Statistics, StatsQuery, fields_for, to_csv
from gateway.store import open_database
from gateway.store.db import Database

T = TypeVar("T")


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = await open_database(settings.database, settings.server.data_dir)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def _statistics(settings: Settings, db: Database) -> Statistics:
    groups = {agency.id: agency.group for agency in Directory(settings)}
    names = {agency.id: agency.name for agency in Directory(settings)}
    return Statistics(
        db, groups, settings.stats.target, ZoneInfo(settings.stats.timezone), names=names
    )


def _print_rows(rows: list[dict[str, Any]], query: StatsQuery) -> None:
    if query.format == "csv":
        print(to_csv(rows, query.by), end="")
        return
    names = fields_for(query.by)
    table = [["" if row[n] is None else row[n] for n in names] for row in rows]
    print(tabulate(table, headers=names, floatfmt=".4f"))


def cmd_stats(args: argparse.Namespace) -> int:
    settings = settings_or_exit(args.config)
    params = {
        k: v
        for k, v in (
            ("from", args.start),
            ("to", args.end),
            ("period", args.period),
            ("by", args.by),
        )
        if v is not None
    }
    params["format"] = "csv" if args.csv else "json"

    async def work(db: Database) -> int:
        statistics = _statistics(settings, db)
        if args.recompute:
            return await _recompute(db, apply=args.apply)
        try:
            query = StatsQuery.from_params(params, statistics.today())
            rows = await statistics.rows(query)
        except BadInput as exc:  # the dates or the size of the table, as the API says
            raise SystemExit(f"edocgw stats: {exc.detail}") from None
        _print_rows(rows, query)
        return 0

    return _with_database(settings, work)


async def _recompute(db: Database, *, apply: bool) -> int:
    stored = await db.scan(facts.stored)
    recounted = await db.scan(facts.recount)
    comparison = facts.compare(stored, recounted)
    if comparison.agrees:
        print(f"the counters agree with the audit log: {len(recounted)} exchanges")
        return 0
    for label, found in (("missing", comparison.missing), ("extra", comparison.extra)):
        for fact in found:
            print(f"{label}: {fact}")
    for was, recount in comparison.differing:
        print(f"differs: stored {was} / recounted {recount}")
    if apply:
        await db.write(lambda tx: facts.rebuild(tx, recounted))
        print(f"counters rebuilt from the audit log: {len(recounted)} exchanges")
        return 0
    print("the counters disagree with the audit log; --apply rebuilds them from it")
    return 1


def cmd_audit_verify(args: argparse.Namespace) -> int:
    settings = settings_or_exit(args.config)
    found = _with_database(settings, integrity.check)
    result = found.chain
    if not result.ok:
        print(f"audit log broken at entry {result.first_bad_seq}: {result.problem}")
        print(f"{result.events} entries before it verify; the last good head is {result.head}")
        return 1
    print(f"audit log intact: {result.events} entries, head {result.head}")
    for m in found.mismatches:
        print(
            f"counter differs: {m['agency']} {m['period']} {m['field']}: "
            f"stored {m['stored']}, recounted from the log {m['recounted']}"
        )
    if found.mismatches:
        print("the statistics disagree with the log; `edocgw stats --recompute --apply` rebuilds")
        return 1
    return 0


def add_subcommands(sub: Any) -> None:
    stats = sub.add_parser("stats", help="exchange statistics toward the 90%% electronic target")
    stats.add_argument("--config", type=Path, required=True)
    stats.add_argument(
        "--from", dest="start", help="first day, YYYY-MM-DD (default: the current period's first)"
    )
    stats.add_argument(
        "--to", dest="end", help="last day, YYYY-MM-DD (default: the current period's last)"
    )
    stats.add_argument("--period", choices=["day", "month", "quarter", "year"])
    stats.add_argument("--by", choices=["agency", "group", "none"])
    stats.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    stats.add_argument(
        "--recompute",
        action="store_true",
        help="recount every exchange from the audit log and compare with the counters",
    )
    stats.add_argument("--apply", action="store_true", help="with --recompute: rebuild counters")
    stats.set_defaults(func=cmd_stats)

    audit_cmd = sub.add_parser("audit", help="the hash-chained audit log")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="check every entry; name the first bad one")
    verify.add_argument("--config", type=Path, required=True)
    verify.set_defaults(func=cmd_audit_verify)
