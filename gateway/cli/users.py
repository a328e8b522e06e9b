"""`edocgw users hash-password`: the argon2id hash of a console password, for `[[users]]`
`password_argon2`. The password is read on stdin (never an argument: the shell's history and
the process list would show it)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway.console.passwords import hash_password


def cmd_hash_password(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        print(hash_password(password))
    except ValueError as exc:
        raise SystemExit(f"edocgw: {exc}") from None
    return 0


def add_subcommands(sub: Any) -> None:
    users = sub.add_parser("users", help="console users: hash a password")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    hashing = actions.add_parser(
        "hash-password", help="read a password on stdin, print its argon2id hash"
    )
    hashing.set_defaults(func=cmd_hash_password)
