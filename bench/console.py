"""Each console page's time to answer, signed in, on a large store.

    .venv/bin/python -m bench.console [--exchanges 1000000] [--agencies 1000] [--seed-seconds 240]
        [--documents 2000] [--refusals 500] [--requests 30] [--database-url URL]

Seeds a fresh store (a temporary SQLite file, or the empty PostgreSQL database given) through
the store layer with `bench.details`' counters: up to `--exchanges` exchanges of 2026 between
`--agencies` agencies, in chunks until `--seed-seconds` have passed (it prints how many it
reached). Then starts the gateway in this process with those agencies and an operator's and an
auditor's password, sends `--documents` real documents and `--refusals` malformed ones through
the agency API (the messages, deliveries and audit entries the search, timeline, refusals,
audit and overview pages read), signs both users in and GETs every console page `--requests`
times, one at a time: the median and 95th percentile of the time to the last byte of the
answer over loopback (the server's time plus well under a millisecond of client); a page
slower than 2 s is asked 5 times only. The API's statistics calls follow, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.child import free_port
from bench.details import CHUNK, seed, seeded_facts
from bench.docs import Agency, build_template
from gateway.api.auth import token_sha256
from gateway.app import Gateway
from gateway.config import (
    AgencySettings,
    DatabaseSettings,
    ServerSettings,
    Settings,
    TrustSettings,
    UserSettings,
)
from gateway.console.passwords import hash_password
from gateway.store import open_database

PASSWORD = "mật-khẩu thử tải"
GROUPS = ("department", "district", "commune")
AUDITOR_TOKEN = "bench-auditor-token"
SLOW_MS = 10_000
SENDERS = 10  # agencies that send the real documents, to the next agency each
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_TIMELINE = re.compile(r'href="/messages/([0-9a-f]+)"')


def agencies(count: int) -> list[Agency]:
    """The ids bench.details gives its senders, so the counters join the directory."""
    return [
        Agency(f"000.00.{i:02d}.H26", f"Cơ quan thử tải số {i} của thành phố", f"token-{i}")
        for i in range(count)
    ]


def settings_for(data_dir: Path, found: Sequence[Agency], database_url: str) -> Settings:
    hashed = hash_password(PASSWORD)
    return Settings(
        server=ServerSettings(data_dir=data_dir, worker_processes=0),
        database=DatabaseSettings(url=database_url),
        trust=TrustSettings(signature="optional"),
        agencies=tuple(
            AgencySettings(
                id=a.id, name=a.name, group=GROUPS[n % 3], token_sha256=token_sha256(a.token)
            )
            for n, a in enumerate(found)
        ),
        users=(
            UserSettings(name="ops", role="operator", password_argon2=hashed),
            UserSettings(
                name="audit",
                role="auditor",
                password_argon2=hashed,
                token_sha256=token_sha256(AUDITOR_TOKEN),
            ),
        ),
    )


async def seed_exchanges(settings: Settings, count: int, budget_s: float) -> int:
    db = await open_database(settings.database, settings.server.data_dir)
    try:
        found = seeded_facts(count, len(settings.agencies))
        started, done = time.perf_counter(), 0
        while done < len(found) and time.perf_counter() - started < budget_s:
            await seed(db, found[done : done + CHUNK * 5])
            done = min(len(found), done + CHUNK * 5)
        print(f"seeded {done:,} exchanges in {time.perf_counter() - started:.0f} s")
        return done
    finally:
        await db.close()


async def traffic(base: str, found: Sequence[Agency], documents: int, refusals: int) -> None:
    blob = memoryview(b"\0" * 1024)
    templates = [
        build_template(found[i], [found[(i + 1) % len(found)]], "console", 4096, blob)
        for i in range(min(SENDERS, len(found) - 1))
    ]
    started = time.perf_counter()
    async with aiohttp.ClientSession(base) as client:

        async def send(n: int) -> None:
            template = templates[n % len(templates)]
            async with client.post(
                "/v1/documents", data=template.body(n), headers=template.headers
            ) as r:
                assert r.status == 202, await r.text()

        async def refuse(n: int) -> None:
            sender = templates[n % len(templates)]
            async with client.post("/v1/documents", data=b"<edXML>x", headers=sender.headers) as r:
                assert r.status == 400, await r.text()

        for start in range(0, documents, 8):
            await asyncio.gather(*(send(n) for n in range(start, min(documents, start + 8))))
        for start in range(0, refusals, 8):
            await asyncio.gather(*(refuse(n) for n in range(start, min(refusals, start + 8))))
    took = time.perf_counter() - started
    print(f"sent {documents:,} documents and {refusals:,} refused ones in {took:.0f} s")


async def signed_in(base: str, name: str) -> aiohttp.ClientSession:
    client = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.get("/login") as form:
        found = _CSRF.search(await form.text())
    assert found is not None
    data = {"name": name, "password": PASSWORD, "csrf": found.group(1), "next": "/"}
    async with client.post("/login", data=data, allow_redirects=False) as answer:
        assert answer.status == 303, await answer.text()
    return client


async def timed(
    client: aiohttp.ClientSession, path: str, repeats: int, headers: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """Median and p95 in ms, and how many requests: `repeats`, or 5 when a page is that slow
    that `repeats` would take over a minute."""
    times: list[float] = []
    while len(times) < repeats and not (len(times) >= 5 and sum(times) > SLOW_MS):
        started = time.perf_counter()
        async with client.get(path, allow_redirects=False, headers=headers) as answer:
            await answer.read()
            assert answer.status == 200, (path, answer.status)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(times)


async def some_message(client: aiohttp.ClientSession, sender: str) -> str:
    async with client.get(f"/messages?from={sender}") as answer:
        found = _TIMELINE.search(await answer.text())
    assert found is not None
    return found.group(1)


def pages(sender: str, message_id: str) -> list[tuple[str, str]]:
    year = "from=2026-01-01&to=2026-12-31"
    return [
        ("ops", "/"),
        ("ops", "/queues"),
        ("ops", "/dead-letters"),
        ("ops", "/trust"),
        ("ops", "/refusals"),
        ("ops", f"/refusals?agency={sender}"),
        ("ops", "/messages"),
        ("ops", f"/messages?from={sender}&since=01/01/2026"),
        ("ops", f"/messages/{message_id}"),
        ("audit", "/stats?kind=month&month=2026-06&by=agency"),
        ("audit", "/stats?kind=year&year=2026&by=agency"),
        ("audit", "/stats?kind=quarter&quarter=2026-Q2&by=group"),
        ("audit", f"/stats/details?agency={sender}&kind=electronic&{year}"),
        ("audit", f"/stats/details?agency={sender}&kind=paper&{year}"),
        ("audit", f"/stats/details?agency={sender}&kind=undelivered&{year}"),
        ("audit", "/audit"),
        ("audit", "/audit?event=refused"),
        # the API on the same services, for comparison (bearer token, JSON)
        ("api", "/v1/stats/exchanges?from=2026-06-01&to=2026-06-30&period=month&by=agency"),
        ("api", "/v1/stats/exchanges?from=2026-01-01&to=2026-12-31&period=year&by=agency"),
        ("api", f"/v1/stats/exchanges/details?agency={sender}&kind=electronic&{year}"),
    ]


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def measure(gateway: Gateway, found: Sequence[Agency], args: argparse.Namespace) -> None:
    agency_runner, agency_base = await serve(gateway.agency_app)
    ops_runner, ops_base = await serve(gateway.ops_app)
    clients = {}
    try:
        await traffic(agency_base, found, args.documents, args.refusals)
        clients = {name: await signed_in(ops_base, name) for name in ("ops", "audit")}
        sender = found[0].id
        message_id = await some_message(clients["ops"], sender)
        print(f"{'page':<72} {'median':>9} {'p95':>9} {'n':>3}")
        token = {"Authorization": f"Bearer {AUDITOR_TOKEN}"}
        for user, path in pages(sender, message_id):
            client = clients["audit" if user == "api" else user]
            headers = token if user == "api" else None
            median, p95, n = await timed(client, path, args.requests, headers)
            print(f"{path[:72]:<72} {median:7.1f}ms {p95:7.1f}ms {n:3}")
    finally:
        for client in clients.values():
            await client.close()
        await ops_runner.cleanup()
        await agency_runner.cleanup()


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        found = agencies(args.agencies)
        settings = settings_for(Path(folder), found, args.database_url)
        await seed_exchanges(settings, args.exchanges, args.seed_seconds)
        gateway = await Gateway.open(settings)
        try:
            await measure(gateway, found, args)
        finally:
            await gateway.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exchanges", type=int, default=1_000_000)
    parser.add_argument("--agencies", type=int, default=1000)
    parser.add_argument("--seed-seconds", type=float, default=240.0)
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--refusals", type=int, default=500)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url", default="sqlite")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
