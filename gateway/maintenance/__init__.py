"""Operations commands (DESIGN §4.7): retention now, backup and restore."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def add_subcommands(sub: Any) -> None:
    from gateway.maintenance.commands import cmd_backup, cmd_restore, cmd_retention

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
