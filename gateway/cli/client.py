"""`edocgw send`, `inbox`, `fetch`, `ack` and `status`: a department's calls, from a shell.

They use gateway.client against a running gateway's agency listener (`--url`, default
$EDOCGW_URL), with the agency's bearer token from `--token` or EDOCGW_TOKEN. A refusal prints
the problem's status, code and detail on stderr and exits 1; an unreachable gateway exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from tabulate import tabulate

from gateway.client import GatewayClient, Refused, Unreachable, build_status, sign

DEFAULT_URL = "http://127.0.0.1:8080"
T = TypeVar("T")


def _connect(args: argparse.Namespace) -> GatewayClient:
    token = args.token or os.environ.get("EDOCGW_TOKEN")
    if not token:
        raise SystemExit("edocgw: give the agency's token with --token or EDOCGW_TOKEN")
    return GatewayClient(args.url, token)


def _run(args: argparse.Namespace, call: Callable[[GatewayClient], Awaitable[T]]) -> T:
    async def session() -> T:
        async with _connect(args) as gateway:
            return await call(gateway)

    try:
        return asyncio.run(session())
    except Refused as refused:
        print(f"edocgw: {refused.status} {refused.code}: {refused.detail}", file=sys.stderr)
        raise SystemExit(1) from None
    except Unreachable as exc:
        print(f"edocgw: cannot reach the gateway: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SystemExit(f"edocgw: {path}: {exc.strerror}") from None


def _signed(args: argparse.Namespace, raw: bytes) -> bytes:
    if args.sign_key is None:
        return raw
    from gateway.trust.sign import SigningError

    try:
        return sign(raw, args.sign_key, args.sign_cert, args.sign_chain)
    except SigningError as exc:
        raise SystemExit(f"edocgw: cannot sign: {exc}") from None


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def cmd_send(args: argparse.Namespace) -> int:
    raw = _signed(args, _read(args.file))
    receipt = _run(args, lambda gateway: gateway.send(raw, secrecy=args.secrecy))
    _print_json(dataclasses.asdict(receipt))
    return 0


def cmd_inbox(args: argparse.Namespace) -> int:
    if args.all:
        items = _run(args, lambda gateway: gateway.inbox_all(kind=args.kind))
        cursor = None
    else:
        page = _run(args, lambda gateway: gateway.inbox(kind=args.kind, limit=args.limit))
        items, cursor = list(page.items), page.next
    if args.json:
        _print_json({"items": [dataclasses.asdict(i) for i in items], "next": cursor})
        return 0
    columns = ["delivery_id", "kind", "sender", "document_id", "priority", "received_at", "size"]
    print(tabulate([[getattr(i, c) for c in columns] for i in items], headers=columns))
    if cursor is not None:
        print(f"(more: edocgw inbox --all, or the next page after {cursor})", file=sys.stderr)
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    fetched = _run(args, lambda gateway: gateway.fetch(args.delivery_id))
    if args.output is None:
        sys.stdout.buffer.write(fetched.body)
        sys.stdout.buffer.flush()
    else:
        args.output.write_bytes(fetched.body)
        print(f"{args.output}: {fetched.kind} from {fetched.sender}, {len(fetched.body)} bytes")
    return 0


def cmd_ack(args: argparse.Namespace) -> int:
    async def ack_all(gateway: GatewayClient) -> None:
        for delivery_id in args.delivery_ids:
            await gateway.ack(delivery_id)

    _run(args, ack_all)
    for delivery_id in args.delivery_ids:
        print(f"acknowledged {delivery_id}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    if (args.file is None) == (args.about is None):
        raise SystemExit("edocgw status: give an edXML status FILE, or --about DELIVERY_ID")
    if args.about is not None and not (args.code and args.sender):
        raise SystemExit("edocgw status --about: give --code and --from")

    async def send(gateway: GatewayClient) -> Any:
        if args.file is not None:
            raw = _read(args.file)
        else:
            fetched = await gateway.fetch(args.about)
            try:
                raw = build_status(
                    args.sender, fetched.body, args.code, description=args.description
                )
            except ValueError as exc:
                raise SystemExit(f"edocgw status: {exc}") from None
        return await gateway.send_status(_signed(args, raw))

    _print_json(dataclasses.asdict(_run(args, send)))
    return 0


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("EDOCGW_URL", DEFAULT_URL),
        help="the gateway's agency listener (default: $EDOCGW_URL or %(default)s)",
    )
    parser.add_argument("--token", help="the agency's bearer token (default: $EDOCGW_TOKEN)")


def _signing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sign-key", type=Path, help="sign with this PEM private key")
    parser.add_argument("--sign-cert", type=Path, help="...and this PEM certificate")
    parser.add_argument(
        "--sign-chain", type=Path, action="append", default=[], help="a CA certificate for KeyInfo"
    )


def _check_signing(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if (args.sign_key is None) != (args.sign_cert is None):
        parser.error("--sign-key and --sign-cert go together")


def add_subcommands(sub: Any) -> None:
    send = sub.add_parser("send", help="send an edXML document to every recipient it names")
    send.add_argument("file", type=Path, help="the edXML document")
    send.add_argument(
        "--secrecy", choices=["none", "mat", "toi-mat", "tuyet-mat"], help="declare its secrecy"
    )
    _signing_options(send)

    inbox = sub.add_parser("inbox", help="list what waits for the agency, urgent first")
    inbox.add_argument("--kind", choices=["edoc", "status"])
    inbox.add_argument("--limit", type=int, default=100)
    inbox.add_argument("--all", action="store_true", help="every page")
    inbox.add_argument("--json", action="store_true", help="JSON instead of a table")

    fetch = sub.add_parser("fetch", help="fetch one item of the inbox, exactly as sent")
    fetch.add_argument("delivery_id")
    fetch.add_argument("-o", "--output", type=Path, help="write it here (default: stdout)")

    ack = sub.add_parser("ack", help="acknowledge items stored: they leave the inbox")
    ack.add_argument("delivery_ids", nargs="+", metavar="DELIVERY_ID")

    status = sub.add_parser(
        "status", help="send a processing status: an edXML file, or built --about a delivery"
    )
    status.add_argument("file", type=Path, nargs="?", help="an edXML status message")
    status.add_argument("--about", metavar="DELIVERY_ID", help="the document it answers")
    status.add_argument("--code", help="01 arrived, 02 refused, 03 accepted ... 16")
    status.add_argument("--from", dest="sender", metavar="ORGAN_ID", help="your organ id")
    status.add_argument("--description")
    _signing_options(status)

    commands: list[tuple[argparse.ArgumentParser, Callable[[argparse.Namespace], int]]] = [
        (send, cmd_send),
        (inbox, cmd_inbox),
        (fetch, cmd_fetch),
        (ack, cmd_ack),
        (status, cmd_status),
    ]
    for parser, func in commands:
        _connection_options(parser)
        parser.set_defaults(func=_checked(parser, func))


def _checked(
    parser: argparse.ArgumentParser, func: Callable[[argparse.Namespace], int]
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        if hasattr(args, "sign_key"):
            _check_signing(parser, args)
        return func(args)

    return run
