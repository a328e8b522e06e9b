"""`edocgw adapters` and `edocgw adapters reset AGENCY`: the adapter instances' health, over
the ops listener's API, with an operator token (gateway.cli.ops)."""

from __future__ import annotations

import argparse
from typing import Any

from tabulate import tabulate

from gateway.cli._common import ops_call, ops_connection_options

COLUMNS = ["instance", "agency", "adapter", "state", "failures", "retry_at", "last_error"]
MAX_ERROR_SHOWN = 60


def _cells(row: dict[str, Any]) -> list[Any]:
    error = row["last_error"] or ""
    if len(error) > MAX_ERROR_SHOWN:
        error = error[: MAX_ERROR_SHOWN - 1] + "…"
    return [*(row[c] if row[c] is not None else "" for c in COLUMNS[:-1]), error]


def cmd_adapters(args: argparse.Namespace) -> int:
    rows = ops_call(args, "GET", "/v1/ops/adapters")
    print(tabulate([_cells(row) for row in rows], headers=COLUMNS))
    return 1 if any(row["state"] != "up" for row in rows) else 0


def cmd_adapters_reset(args: argparse.Namespace) -> int:
    for agency in args.agencies:
        row = ops_call(args, "POST", f"/v1/ops/adapters/{agency}/reset")
        print(f"reset {row['instance']}: {row['state']}")
    return 0


def add_subcommands(sub: Any) -> None:
    adapters = sub.add_parser(
        "adapters",
        help="adapter instances: up or backing off (exit 1 if any backs off); reset one",
    )
    ops_connection_options(adapters)
    adapters.set_defaults(func=cmd_adapters)
    actions = adapters.add_subparsers(dest="adapters_command", metavar="ACTION")
    reset = actions.add_parser(
        "reset", help="forget an agency's failures and try its system again now"
    )
    reset.add_argument("agencies", nargs="+", metavar="AGENCY")
    ops_connection_options(reset)
    reset.set_defaults(func=cmd_adapters_reset)
