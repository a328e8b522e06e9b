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


def cmd_queues(args: argparse.Namespace) -> int:
    rows = ops_call(args, "GET", "/v1/ops/queues")
    columns = ["agency", "ready", "in_flight", "dead", "oldest_age_s"]
    table = [[row[c] if row[c] is not None else "" for c in columns] for row in rows]
    print(tabulate(table, headers=columns))
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
    queues = sub.add_parser("queues", help="queue depths per agency (exit 1 if any dead letters)")
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
