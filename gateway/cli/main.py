"""`edocgw`: the gateway's command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from gateway import log
from gateway.cli._common import settings_or_exit
from gateway.config import ConfigError
from gateway.runtime.memory import collect_less_often, return_large_buffers

Command = Callable[[argparse.Namespace], int]


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.app import serve

    settings = settings_or_exit(args.config)
    log.configure(args.log_level)
    return_large_buffers()
    collect_less_often()
    try:
        asyncio.run(serve(settings, config_path=args.config))
    except ConfigError as exc:  # trust material read at start-up (gateway.trust)
        raise SystemExit(f"edocgw: configuration error: {args.config}: {exc}") from None
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    from gateway.delivery.dispatcher import check_adapters
    from gateway.trust.material import open_trust_store

    settings = settings_or_exit(args.config)
    try:
        check_adapters(settings, args.config.resolve().parent)
        open_trust_store(settings)
    except ConfigError as exc:
        raise SystemExit(f"edocgw: configuration error: {args.config}: {exc}") from None
    print(
        f"{args.config}: ok ({len(settings.agencies)} agencies, {len(settings.users)} users, "
        f"bus {settings.bus.url.split('@')[-1]}, database {settings.database.url.split('@')[-1]})"
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from gateway.store import migrate_database

    settings = settings_or_exit(args.config)
    asyncio.run(migrate_database(settings.database, settings.server.data_dir))
    print("database schema is up to date")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.cli.demo import new_tour_document, prepare, run_demo

    if args.new_document:
        print(new_tour_document(args.dir.resolve()))
        return 0
    return_large_buffers()
    collect_less_often()
    log.configure(args.log_level)
    folder = args.dir.resolve()
    settings, tokens = prepare(folder, args.listen, args.ops_listen)
    asyncio.run(run_demo(folder, settings, tokens))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edocgw",
        description="edoc-gateway: the city's exchange platform for official e-documents (edXML)",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", type=Path, required=True, help="the TOML configuration file")
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check-config", help="validate a configuration file and exit")
    check.add_argument("config", type=Path)
    check.set_defaults(func=cmd_check_config)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--config", type=Path, required=True)
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser(
        "demo", help="write a demo configuration, start the gateway and send demo traffic"
    )
    demo.add_argument("--dir", type=Path, default=Path("var/demo"), help="where the demo lives")
    demo.add_argument("--listen", default="127.0.0.1:8080")
    demo.add_argument("--ops-listen", default="127.0.0.1:9090")
    demo.add_argument(
        "--new-document",
        action="store_true",
        help="only write a fresh signed tour document (a new DocumentId) and exit",
    )
    demo.set_defaults(func=cmd_demo, log_level="warning")

    from gateway.cli.stats import add_subcommands as add_auditor_commands

    add_auditor_commands(sub)

    from gateway.cli.ops import add_subcommands as add_operator_commands

    add_operator_commands(sub)

    from gateway.cli.adapters import add_subcommands as add_adapter_commands

    add_adapter_commands(sub)

    from gateway.cli.conformance import add_subcommands as add_conformance_commands

    add_conformance_commands(sub)

    from gateway.cli.trust import add_subcommands as add_trust_commands

    add_trust_commands(sub)

    from gateway.cli.maintenance import add_subcommands as add_maintenance_commands

    add_maintenance_commands(sub)

    from gateway.cli.client import add_subcommands as add_department_commands

    add_department_commands(sub)

    from gateway.cli.users import add_subcommands as add_user_commands

    add_user_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    command: Command = args.func
    try:
        sys.exit(command(args))
    except KeyboardInterrupt:
        sys.exit(130)
