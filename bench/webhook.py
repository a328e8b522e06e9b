"""Push delivery measured: documents/s through the webhook adapter to a local receiver, beside
the mailbox figure of the same run; or a receiver's outage, and what arrives after it.

    .venv/bin/python -m bench.webhook --count 2000 --concurrency 16 --size 10k
    .venv/bin/python -m bench.webhook --outage 120 --fail-first 5 --count 200

It starts its own gateway (`python -m gateway serve`) in a child process with three agencies:
a sender, a mailbox recipient and a webhook recipient whose URL is a receiver run here, which
checks every signature (gateway.conformance.receiver.verify). Documents are built before the
clock starts.

Throughput (the default): two phases on the same gateway, `--count` documents each with
`--concurrency` submitters: to the mailbox recipient (whose department lists, fetches and
acknowledges with `--fetchers` workers), then to the webhook recipient. A phase's figure is
its documents over the time from its first POST to its last delivery (ack, or receipt).

Outage (`--outage S`): the receiver answers 500 to its first `--fail-first` requests, then
nothing listens for S seconds, then it answers 204 again; documents are submitted before and
all through the outage. It reports whether every document arrived exactly once, the dead
letters, how many attempts the gateway made meanwhile and how long the backlog took to arrive
after the receiver came back. The gateway keeps its default backoff (10 s doubling to an
hour) unless `--backoff-initial`/`--backoff-max` say otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.child import GatewayChild, bench_agencies, free_port, wait_ready
from bench.docs import Agency, parse_size
from gateway.api.auth import token_sha256
from gateway.conformance.receiver import verify
from gateway.edxml import Organization, to_xml
from gateway.edxml.compose import compose_document, pdf_attachment

OPERATOR_TOKEN = secrets.token_urlsafe(24)
SECRET = secrets.token_hex(32)


def config_text(
    agencies: list[Agency], child: GatewayChild, hook_url: str, args: argparse.Namespace
) -> str:
    hook = agencies[2]
    lines = [
        "[server]",
        f'listen = "127.0.0.1:{child.port}"',
        f'ops_listen = "127.0.0.1:{child.ops_port}"',
        f'data_dir = "{child.workdir / "data"}"',
        "[bus]",
        f'url = "{args.bus_url}"',
        "[database]",
        f'url = "{args.database_url}"',
        "[trust]",
        'signature = "optional"',
    ]
    if args.backoff_initial is not None or args.backoff_max is not None:
        lines.append("[adapters]")
        if args.backoff_initial is not None:
            lines.append(f"backoff_initial_s = {args.backoff_initial}")
        if args.backoff_max is not None:
            lines.append(f"backoff_max_s = {args.backoff_max}")
    for agency in agencies:
        lines += [
            "[[agencies]]",
            f'id = "{agency.id}"',
            f'name = "{agency.name}"',
            'group = "bench"',
            f'token_sha256 = "{token_sha256(agency.token)}"',
        ]
        if agency is hook:
            lines.append(
                f'delivery = {{ adapter = "webhook", name = "bench-hook", url = "{hook_url}", '
                f'hmac_secret = "{SECRET}" }}'
            )
    lines += [
        "[[users]]",
        'name = "bench"',
        'role = "operator"',
        f'token_sha256 = "{token_sha256(OPERATOR_TOKEN)}"',
    ]
    return "\n".join(lines) + "\n"


def documents(sender: Agency, recipient: Agency, count: int, size: int, tag: str) -> list[bytes]:
    padding = os.urandom(max(0, size - 3000) * 3 // 4)  # base64 makes it 4/3 bigger
    attachment = pdf_attachment("phu-luc.pdf", b"%PDF-1.4\n" + padding)
    built = []
    for n in range(count):
        doc = compose_document(
            Organization(sender.id, sender.name),
            [Organization(recipient.id, recipient.name)],
            number=str(n + 1),
            notation=f"BENCH-{tag}",
            subject="Đo thông lượng",
            attachments=[attachment],
        )
        built.append(to_xml(doc))
    return built


@dataclass
class Receiver:
    """The webhook department: checks each signature, keeps the arrival time per delivery."""

    fail_first: int = 0
    port: int = field(default_factory=free_port)
    arrivals: dict[str, float] = field(default_factory=dict)  # by Edoc-Delivery-Id
    duplicates: int = 0
    refused: int = 0
    forged: int = 0
    requests: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/edoc"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/edoc", self._take)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _take(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests += 1
        if verify(SECRET.encode(), dict(request.headers), body, time.time()) is not None:
            self.forged += 1
            return web.Response(status=401)
        if self.requests <= self.fail_first:
            self.refused += 1
            return web.Response(status=500)
        delivery_id = request.headers["Edoc-Delivery-Id"]
        if delivery_id in self.arrivals:
            self.duplicates += 1
        else:
            self.arrivals[delivery_id] = time.perf_counter()
        return web.Response(status=204)


@dataclass
class Sent:
    accepted: dict[str, float] = field(default_factory=dict)  # delivery id: when its POST began
    refused: int = 0


async def submit_all(
    session: aiohttp.ClientSession,
    url: str,
    sender: Agency,
    bodies: list[bytes],
    concurrency: int,
    pace_s: float = 0.0,
) -> Sent:
    sent = Sent()
    queue = list(reversed(bodies))
    headers = {**sender.auth(), "Content-Type": "application/xml"}

    async def submitter() -> None:
        while queue:
            body = queue.pop()
            began = time.perf_counter()
            async with session.post(url + "/v1/documents", data=body, headers=headers) as answer:
                receipt = await answer.json(content_type=None)
                if answer.status != 202:
                    sent.refused += 1
                    continue
            sent.accepted[receipt["recipients"][0]["delivery_id"]] = began
            if pace_s:
                await asyncio.sleep(pace_s)

    await asyncio.gather(*(submitter() for _ in range(concurrency)))
    return sent


async def drain_mailbox(
    session: aiohttp.ClientSession, url: str, agency: Agency, count: int, fetchers: int
) -> dict[str, float]:
    """The mailbox department: list, fetch and acknowledge until `count` items are taken."""
    taken: dict[str, float] = {}
    headers = agency.auth()
    queue: asyncio.Queue[str] = asyncio.Queue()
    listed: set[str] = set()

    async def lister() -> None:
        while len(taken) < count:
            async with session.get(
                url + "/v1/inbox", params={"limit": "200"}, headers=headers
            ) as answer:
                items = (await answer.json())["items"]
            fresh = [i["delivery_id"] for i in items if i["delivery_id"] not in listed]
            listed.update(fresh)
            for delivery_id in fresh:
                queue.put_nowait(delivery_id)
            if not fresh:
                await asyncio.sleep(0.005)

    async def fetcher() -> None:
        while len(taken) < count:
            delivery_id = await queue.get()
            item = f"{url}/v1/inbox/{delivery_id}"
            async with session.get(item, headers=headers) as answer:
                await answer.read()
            async with session.post(item + "/ack", headers=headers) as answer:
                await answer.read()
            taken[delivery_id] = time.perf_counter()

    workers = [asyncio.create_task(fetcher()) for _ in range(fetchers)]
    await lister()
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return taken


async def until(condition: Callable[[], bool], timeout_s: float, child: GatewayChild) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        child.check_alive()
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def phase_figures(sent: Sent, delivered: dict[str, float], started: float) -> dict[str, Any]:
    latencies = sorted(delivered[d] - sent.accepted[d] for d in delivered if d in sent.accepted)
    elapsed = max(delivered.values()) - started
    return {
        "documents": len(delivered),
        "refused": sent.refused,
        "elapsed_s": round(elapsed, 3),
        "docs_per_s": round(len(delivered) / elapsed, 1),
        "post_to_delivery_ms_p50": round(1000 * statistics.median(latencies), 1),
        "post_to_delivery_ms_p99": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1),
    }


@dataclass(frozen=True)
class Setup:
    args: argparse.Namespace
    session: aiohttp.ClientSession
    child: GatewayChild
    hook: Receiver
    agencies: list[Agency]  # the sender, the mailbox recipient, the webhook recipient


async def throughput(setup: Setup) -> dict[str, Any]:
    args, session, child, hook = setup.args, setup.session, setup.child, setup.hook
    sender, mailbox, webhook = setup.agencies
    size = parse_size(args.size)
    figures: dict[str, Any] = {}
    recipients = {"mailbox": mailbox, "webhook": webhook}
    for name in args.phases.split(","):
        recipient = recipients[name]
        bodies = documents(sender, recipient, args.count, size, f"{name[0].upper()}{args.tag}")
        started = time.perf_counter()
        if name == "mailbox":
            sent, taken = await asyncio.gather(
                submit_all(session, child.url, sender, bodies, args.concurrency),
                drain_mailbox(session, child.url, mailbox, args.count, args.fetchers),
            )
        else:
            sent = await submit_all(session, child.url, sender, bodies, args.concurrency)
            if not await until(lambda: len(hook.arrivals) >= args.count, 300, child):
                raise RuntimeError(f"only {len(hook.arrivals)} of {args.count} arrived")
            taken = dict(hook.arrivals)
        figures[name] = phase_figures(sent, taken, started)
        print(f"{name:8} {figures[name]}", flush=True)
    figures["webhook_to_mailbox"] = round(
        figures["webhook"]["docs_per_s"] / figures["mailbox"]["docs_per_s"], 2
    )
    figures["duplicates"] = hook.duplicates
    figures["forged"] = hook.forged
    return figures


async def ops(session: aiohttp.ClientSession, child: GatewayChild, path: str) -> Any:
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    async with session.get(child.ops_url + path, headers=headers) as answer:
        return await (answer.json() if path.startswith("/v1") else answer.text())


def metric(text: str, outcome: str) -> float:
    wanted = f'edocgw_adapter_deliveries_total{{adapter_instance="bench-hook",outcome="{outcome}"}}'
    for line in text.splitlines():
        if line.startswith(wanted):
            return float(line.split()[-1])
    return 0.0


async def outage(setup: Setup) -> dict[str, Any]:
    args, session, child, hook = setup.args, setup.session, setup.child, setup.hook
    sender, _, webhook = setup.agencies
    bodies = documents(sender, webhook, args.count, parse_size(args.size), f"O{args.tag}")
    first, rest = bodies[:10], bodies[10:]
    t0 = time.perf_counter()
    sent = await submit_all(session, child.url, sender, first, 1)
    if not await until(lambda: hook.refused >= hook.fail_first, 120, child):
        raise RuntimeError("the gateway did not try the receiver")
    await hook.stop()
    down_at = time.perf_counter()
    print(f"receiver unreachable for {args.outage:g} s", flush=True)
    more = await submit_all(session, child.url, sender, rest, 1, args.outage / max(1, len(rest)))
    sent.accepted.update(more.accepted)
    sent.refused += more.refused
    await asyncio.sleep(max(0.0, args.outage - (time.perf_counter() - down_at)))
    during = await ops(session, child, "/v1/ops/adapters")
    metrics = await ops(session, child, "/metrics")
    await hook.start()
    up_at = time.perf_counter()
    print("receiver back", [r for r in during if r["instance"] == "bench-hook"], flush=True)
    arrived = await until(lambda: len(hook.arrivals) >= len(sent.accepted), 3 * 3600, child)
    last = max(hook.arrivals.values(), default=up_at)
    await asyncio.sleep(2)  # anything more would be a duplicate
    dead = await ops(session, child, "/v1/ops/dead-letters")
    return {
        "documents_accepted": len(sent.accepted),
        "documents_arrived": len(hook.arrivals),
        "all_arrived": arrived and set(hook.arrivals) == set(sent.accepted),
        "duplicates": hook.duplicates,
        "dead_letters": len(dead),
        "answered_500": hook.refused,
        "outage_s": round(up_at - down_at, 1),
        "adapter_during_outage": [r for r in during if r["instance"] == "bench-hook"],
        "attempts_failed_during_outage": metric(metrics, "retry"),
        "deferred_during_outage": metric(metrics, "deferred"),
        "backlog_arrived_s_after_up": round(last - up_at, 1),
        "whole_run_s": round(time.perf_counter() - t0, 1),
        "forged": hook.forged,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="edocgw-webhook-bench-"))
    agencies = bench_agencies(3)
    hook = Receiver(fail_first=args.fail_first if args.outage else 0)
    child = GatewayChild(workdir, agencies, bus_url=args.bus_url, database_url=args.database_url)
    child.config.write_text(config_text(agencies, child, hook.url, args))
    await hook.start()
    child.start()
    try:
        timeout = aiohttp.ClientTimeout(total=120)
        connector = aiohttp.TCPConnector(limit=256)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            await wait_ready(session, child.ops_url, 60, child)
            measure: Callable[[Setup], Awaitable[dict[str, Any]]] = (
                outage if args.outage else throughput
            )
            figures = await measure(Setup(args, session, child, hook, agencies))
    finally:
        await hook.stop()
        code = child.stop()
        if code != 0:
            print(f"the gateway exited {code}:\n{child.log_tail()}")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="documents per phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--fetchers", type=int, default=8, help="mailbox fetch/ack workers")
    parser.add_argument("--size", default="10k")
    parser.add_argument(
        "--phases", default="mailbox,webhook", help="in this order (webhook,mailbox to swap)"
    )
    parser.add_argument("--outage", type=float, default=0.0, help="seconds the receiver is away")
    parser.add_argument("--fail-first", type=int, default=5, help="outage: 500s before it")
    parser.add_argument("--backoff-initial", type=float)
    parser.add_argument("--backoff-max", type=float)
    parser.add_argument("--bus-url", default="local")
    parser.add_argument("--database-url", default="sqlite")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the gateway's directory")
    args = parser.parse_args()
    args.tag = secrets.token_hex(2).upper()
    figures = asyncio.run(run(args))
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
