"""`edocgw conformance`: the conformance stories against a running gateway, for a department
integrator checking its channel (docs/adapters.md, "Conformance").

The integrator plays both departments of the stories with two test agencies of the gateway:
its own and a partner. The channel says how they reach the gateway: `http` (their bearer
tokens: send through the agency API, collect from the mailbox), `webhook` (send with the
tokens; the gateway pushes to receivers this command runs, where the agencies' webhook
deliveries must point), `folder` (the agencies' drop folders, which this command reads and
writes) or `vdxp` (the national axis' SDK calls on the gateway's façade, signed with each
agency's `vdxp_secret`; collected from the mailbox). Use test agencies: the stories
acknowledge or take what they sent, nothing else, but `recipient_down_then_back` makes the
partner's system unavailable for a while.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
from tabulate import tabulate

from gateway.conformance.driver import Driver
from gateway.conformance.facade_driver import FacadeDriver
from gateway.conformance.folder_driver import FolderDriver, Folders
from gateway.conformance.http_driver import AgencyApiClient, HttpDriver
from gateway.conformance.receiver import Receiver
from gateway.conformance.stories import (
    MARKER,
    STORIES,
    Context,
    Parties,
    Signer,
    StoryResult,
    run_stories,
    unsigned,
)
from gateway.conformance.webhook_driver import WebhookDriver

ROLES = ("sender", "partner")


class ConformanceError(SystemExit):
    pass


def _option(args: argparse.Namespace, role: str, name: str, env: str | None = None) -> Any:
    value = getattr(args, f"{role}_{name}")
    if value is None and env is not None:
        value = os.environ.get(env.format(role=role.upper()))
    return value


def _required(args: argparse.Namespace, role: str, name: str, env: str | None = None) -> Any:
    value = _option(args, role, name, env)
    if value in (None, ""):
        hint = f" (or ${env.format(role=role.upper())})" if env else ""
        raise ConformanceError(
            f"edocgw conformance: the {args.channel} channel needs "
            f"--{role}-{name.replace('_', '-')}{hint}"
        )
    return value


def _signer(args: argparse.Namespace) -> Signer:
    from gateway.trust.sign import SigningError, load_signer, sign_message

    keys: dict[str, Any] = {}
    for role in ROLES:
        key, cert = _option(args, role, "key"), _option(args, role, "cert")
        if (key is None) != (cert is None):
            raise ConformanceError(f"edocgw conformance: give --{role}-key and --{role}-cert")
        if key is not None:
            try:
                keys[getattr(args, role)] = load_signer(key, cert)
            except SigningError as exc:
                raise ConformanceError(f"edocgw conformance: {exc}") from None
    if not keys:
        return unsigned

    def sign(raw: bytes, sender: str) -> bytes:
        found = keys.get(sender)
        return raw if found is None else sign_message(raw, *found)

    return sign


def _api(args: argparse.Namespace, session: aiohttp.ClientSession) -> AgencyApiClient:
    tokens = {
        getattr(args, role): _required(args, role, "token", "EDOCGW_{role}_TOKEN") for role in ROLES
    }
    return AgencyApiClient(session, args.url, tokens)


def _host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _driver(args: argparse.Namespace, stack: AsyncExitStack) -> Driver:
    if args.channel == "folder":
        folders = {
            getattr(args, role): Folders(
                Path(_required(args, role, "inbox")), Path(_required(args, role, "outbox"))
            )
            for role in ROLES
        }
        return FolderDriver(folders, timeout_s=args.timeout)
    if args.channel == "vdxp":
        return await _facade_driver(args, stack)
    session = await stack.enter_async_context(aiohttp.ClientSession())
    api = _api(args, session)
    if args.channel == "http":
        return HttpDriver(api, marker=MARKER)
    receivers: dict[str, Receiver] = {}
    for role in ROLES:
        secret = _required(args, role, "secret", "EDOCGW_{role}_HMAC_SECRET")
        host, port = _host_port(_required(args, role, "listen"))
        receiver = Receiver(getattr(args, role), str(secret).encode(), host, port)
        await receiver.start()
        stack.push_async_callback(receiver.stop)
        receivers[receiver.agency] = receiver
    return WebhookDriver(api, receivers, down=args.down)


async def _facade_driver(args: argparse.Namespace, stack: AsyncExitStack) -> Driver:
    systems = {
        getattr(args, role): (
            _option(args, role, "systemid") or getattr(args, role),
            str(_required(args, role, "vdxp_secret", "EDOCGW_{role}_VDXP_SECRET")),
        )
        for role in ROLES
    }
    driver = FacadeDriver(args.url, systems, marker=MARKER, timeout_s=args.timeout)
    await driver.open()
    stack.push_async_callback(driver.close)
    return driver


async def _run(args: argparse.Namespace) -> list[StoryResult]:
    async with AsyncExitStack() as stack:
        driver = await _driver(args, stack)
        ctx = Context(
            driver,
            Parties(args.sender, args.partner),
            sign=_signer(args),
            timeout_s=args.timeout,
            down_s=args.down_s,
        )
        return await run_stories(ctx, args.story or None)


def cmd_conformance(args: argparse.Namespace) -> int:
    if args.list:
        for name in STORIES:
            print(name)
        return 0
    results = asyncio.run(_run(args))
    rows = [
        [r.story, "pass" if r.passed else "FAIL", f"{r.seconds:.1f}", r.detail] for r in results
    ]
    print(tabulate(rows, headers=["story", "result", "s", "detail"]))
    passed = sum(r.passed for r in results)
    print(f"\n{passed} of {len(results)} stories passed on the {args.channel} channel")
    return 0 if passed == len(results) else 1


def add_subcommands(sub: Any) -> None:
    parser = sub.add_parser(
        "conformance",
        help="run the conformance stories through a channel against a running gateway",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--channel", choices=["http", "webhook", "folder", "vdxp"], default="http")
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the agency API")
    parser.add_argument("--sender", help="your (test) agency's id")
    parser.add_argument("--partner", help="the other (test) agency's id")
    parser.add_argument("--story", action="append", choices=list(STORIES), help="only these")
    parser.add_argument("--list", action="store_true", help="list the stories and exit")
    parser.add_argument("--timeout", type=float, default=60.0, help="for an item to arrive (s)")
    parser.add_argument(
        "--down-s", type=float, default=10.0, help="how long the partner stays down (s)"
    )
    parser.add_argument(
        "--down",
        choices=["error", "unreachable"],
        default="error",
        help="webhook: a partner down answers 500, or does not listen",
    )
    for role in ROLES:
        group = parser.add_argument_group(f"the {role}")
        group.add_argument(f"--{role}-token", help=f"default: $EDOCGW_{role.upper()}_TOKEN")
        group.add_argument(f"--{role}-key", type=Path, help="sign its messages with this key")
        group.add_argument(f"--{role}-cert", type=Path, help="... and this certificate")
        group.add_argument(
            f"--{role}-listen", help="webhook: where its receiver listens (HOST:PORT)"
        )
        group.add_argument(
            f"--{role}-secret", help=f"webhook: default $EDOCGW_{role.upper()}_HMAC_SECRET"
        )
        group.add_argument(f"--{role}-inbox", help="folder: its delivery.inbox")
        group.add_argument(f"--{role}-outbox", help="folder: its delivery.outbox")
        group.add_argument(
            f"--{role}-vdxp-secret", help=f"vdxp: default $EDOCGW_{role.upper()}_VDXP_SECRET"
        )
        group.add_argument(f"--{role}-systemid", help="vdxp: its vdxp_systemid (default: its id)")
    parser.set_defaults(func=_checked)


def _checked(args: argparse.Namespace) -> int:
    if not args.list and not (args.sender and args.partner):
        raise ConformanceError("edocgw conformance: give --sender and --partner (agency ids)")
    return cmd_conformance(args)
