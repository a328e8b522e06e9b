"""`edocgw queues` and `edocgw dlq`: the operator's commands, over the ops listener's API.

They talk HTTP to a running gateway (which owns the bus), with an operator token taken from
`--token` or the EDOCGW_TOKEN environment variable, never from a file argument on the command
line history.
"""

from __future__ import annotations

import argparse
from typing import Any

from tabulate import tabulate

from gateway.cli._common import ops_call, ops_connection_options

QUEUE_COLUMNS = (
    "agency",
    "adapter",
    "ready",
    "in_flight",
    "waiting_retry",
    "dead",
    "uncollected",
    "oldest_uncollected",
    "last_polled",
    "state",
    "failures",
    "next_attempt_at",
    "last_error",
)


def age(seconds: float | None) -> str:
    """An age an operator reads at a glance: 45s, 12m, 3h05m, 2d04h."""
    if seconds is None:
        return ""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def queue_line(row: dict[str, Any]) -> list[Any]:
    polled = [t for t in (row.get("last_listed_at"), row.get("last_fetched_at")) if t]
    shown = {
        **row,
        "oldest_uncollected": age(row.get("uncollected_oldest_age_s")),
        "last_polled": max(polled, default=""),
    }
    return [shown.get(c) if shown.get(c) is not None else "" for c in QUEUE_COLUMNS]


def cmd_queues(args: argparse.Namespace) -> int:
    rows = ops_call(args, "GET", "/v1/ops/queues")
    print(tabulate([queue_line(row) for row in rows], headers=QUEUE_COLUMNS))
    return 1 if any(row["dead"] for row in rows) else 0


def cmd_dlq_list(args: argparse.Namespace) -> int:
    params = {"limit": str(args.limit), **({"agency": args.agency} if args.agency else {})}
    rows = ops_call(args, "GET", "/v1/ops/dead-letters", **params)
    columns = ["id", "agency", "delivery_id", "attempts", "dead_at", "reason"]
    print(tabulate([[row[c] for c in columns] for row in rows], headers=columns))
    return 0


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    for dead_letter_id in args.ids:
        ops_call(args, "POST", f"/v1/ops/dead-letters/{dead_letter_id}/replay")
        print(f"replayed {dead_letter_id}")
    return 0


def cmd_dlq_purge(args: argparse.Namespace) -> int:
    body = ops_call(args, "DELETE", "/v1/ops/dead-letters", agency=args.agency)
    print(f"purged {body['purged']} dead letter(s) of {body['agency']}")
    return 0


def add_subcommands(sub: Any) -> None:
    queues = sub.add_parser(
        "queues", help="each agency's backlog: bus, inbox, adapter (exit 1 if any dead letters)"
    )
    ops_connection_options(queues)
    queues.set_defaults(func=cmd_queues)

    dlq = sub.add_parser("dlq", help="dead letters: list, replay, purge")
    actions = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list dead letters")
    listing.add_argument("--agency")
    listing.add_argument("--limit", type=int, default=100)
    replay = actions.add_parser("replay", help="put dead letters back on their queue")
    replay.add_argument("ids", nargs="+")
    purge = actions.add_parser("purge", help="drop an agency's dead letters")
    purge.add_argument("agency")
    for parser, func in ((listing, cmd_dlq_list), (replay, cmd_dlq_replay), (purge, cmd_dlq_purge)):
        ops_connection_options(parser)
        parser.set_defaults(func=func)
