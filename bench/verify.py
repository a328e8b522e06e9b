"""Signature verification, measured (issue 3). Prints its figures.

    .venv/bin/python -m bench.verify bare        # one core: signxml alone, then the gateway's path
    .venv/bin/python -m bench.verify lag         # event-loop lag while 10 MB is verified aside
    .venv/bin/python -m bench.verify latency     # HTTP: p99 of 10 kB submits, with 10 MB alongside
    .venv/bin/python -m bench.verify throughput  # HTTP: signed 10 kB documents accepted per second

`bare` verifies one signed 10 kB document in a loop, the trust store built once: signxml with
the signer's certificate object; signxml given a CA file (what it does by default: re-read the
file and rebuild the chain per call); and the gateway's whole check (shape, chain, binding,
signxml, model). `latency` and `throughput` start `python -m gateway serve` in a child process
(embedded bus and SQLite, a development PKI, signature = "required") on free ports.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.x509.verification import PolicyBuilder, Store
from signxml.verifier import XMLVerifier

from gateway.api.auth import token_sha256
from gateway.edxml import Attachment, read_xml, to_xml
from gateway.edxml.compose import compose_document
from gateway.edxml.model import Organization
from gateway.trust.certs import load_certificates
from gateway.trust.pki import init_pki
from gateway.trust.policy import DEFAULT_POLICY
from gateway.trust.signers import Signers
from gateway.trust.store import TrustStore
from gateway.trust.xmldsig import XmlSignatureVerifier, hardened_parser

SENDER, RECIPIENT = "000.00.13.H26", "000.00.16.H26"
AGENCIES = [(SENDER, "So Tai chinh"), (RECIPIENT, "So Noi vu")]
KIB, MIB = 1024, 1024 * 1024


def document(size: int, number: int) -> bytes:
    """An unsigned document of about `size` bytes, padded with an attachment."""
    org = {a: Organization(a, name) for a, name in AGENCIES}

    def build(pad: int) -> bytes:
        attachment = Attachment.of("cid:pad", "pad.bin", os.urandom(pad))
        doc = compose_document(
            org[SENDER],
            [org[RECIPIENT]],
            number=str(number),
            notation="BENCH",
            subject="Bench",
            attachments=[attachment],
        )
        return to_xml(doc)

    base = len(build(0)) + 3200  # the signature and its two certificates
    return build(max(0, (size - base) * 3 // 4))


def store_of(root: Path, intermediate: Path) -> TrustStore:
    return TrustStore(
        anchors=load_certificates(root), intermediates=load_certificates(intermediate)
    )


def loop(work: Callable[[], Any], seconds: float) -> float:
    """Calls per second of `work`, run for about `seconds`."""
    work()
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(20):
            work()
        done += 20
    return done / elapsed


def bare(args: argparse.Namespace) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        pki = init_pki(Path(tmp) / "pki", AGENCIES)
        signers = Signers(pki)
        raw = signers.sign(SENDER, document(args.size, 1))
        store = store_of(pki.root, pki.intermediate)
        verifier = XmlSignatureVerifier(store, DEFAULT_POLICY)
        leaf = load_certificates(pki.agency(SENDER).cert)[0]
        config = DEFAULT_POLICY.signxml_config()
        print(
            f"document: {len(raw)} bytes, signed RSA-2048/SHA-256 (one core, {args.seconds}s each)"
        )

        def pinned() -> None:
            XMLVerifier().verify(
                raw, x509_cert=leaf, expect_config=config, parser=hardened_parser()
            )

        def ca_file() -> None:
            XMLVerifier().verify(raw, ca_pem_file=str(pki.root), expect_config=config)

        def gateway() -> None:
            at = datetime.now(UTC)
            root = read_xml(raw)
            verifier.verify(raw, root, SENDER, at)

        rows = [
            ("signxml, certificate object (bare)", loop(pinned, args.seconds)),
            ("signxml, CA file per call", loop(ca_file, args.seconds)),
            (
                "gateway check (read_xml + shape + chain + signxml + model)",
                loop(gateway, args.seconds),
            ),
        ]
        for name, rate in rows:
            print(f"  {name:<62} {rate:8.0f} /s  {1000 / rate:6.2f} ms")
        anchors = Store(list(store.anchors))
        builder = (
            PolicyBuilder()
            .store(anchors)
            .extension_policies(
                ca_policy=DEFAULT_POLICY.ca_extensions(),
                ee_policy=DEFAULT_POLICY.signer_extensions(),
            )
        )
        now = datetime.now(UTC)
        build = loop(lambda: builder.time(now).build_client_verifier(), 1.0)
        built = builder.time(now).build_client_verifier()
        chain = loop(lambda: built.verify(leaf, list(store.intermediates)), 1.0)
        print(
            f"  cryptography: build a verifier {1e6 / build:6.1f} µs, "
            f"verify the chain {1e6 / chain:6.1f} µs"
        )


def lag(args: argparse.Namespace) -> None:
    """Event-loop lag (a 1 ms ticker) while 10 MB documents are verified in a thread or a
    process: how much the loop waits for the GIL or for pickling."""
    with tempfile.TemporaryDirectory() as tmp:
        pki = init_pki(Path(tmp) / "pki", AGENCIES)
        raw = Signers(pki).sign(SENDER, document(10 * MIB, 1))
        for kind in ("thread", "process"):
            pool: concurrent.futures.Executor = (
                concurrent.futures.ThreadPoolExecutor(1)
                if kind == "thread"
                else concurrent.futures.ProcessPoolExecutor(1)
            )
            with pool:
                lags, took = asyncio.run(_lag(pool, raw, str(pki.root), str(pki.intermediate)))
            lags.sort()
            p50, p99 = lags[len(lags) // 2], lags[int(len(lags) * 0.99)]
            print(
                f"  {kind:<8} verify 10 MB: {took * 1000:6.0f} ms each; loop lag p50 "
                f"{p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms"
            )


def _verify_once(raw: bytes, root_pem: str, intermediate_pem: str) -> int:
    store = _cached_store(root_pem, intermediate_pem)
    XmlSignatureVerifier(store, DEFAULT_POLICY).verify(
        raw, read_xml(raw), SENDER, datetime.now(UTC)
    )
    return len(raw)


_stores: dict[tuple[str, str], TrustStore] = {}


def _cached_store(root_pem: str, intermediate_pem: str) -> TrustStore:
    key = (root_pem, intermediate_pem)
    if key not in _stores:
        _stores[key] = store_of(Path(root_pem), Path(intermediate_pem))
    return _stores[key]


async def _lag(
    pool: concurrent.futures.Executor, raw: bytes, root_pem: str, intermediate_pem: str
) -> tuple[list[float], float]:
    loop_ = asyncio.get_running_loop()
    await loop_.run_in_executor(pool, _verify_once, raw, root_pem, intermediate_pem)
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - started - 0.001)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    for _ in range(4):
        await loop_.run_in_executor(pool, _verify_once, raw, root_pem, intermediate_pem)
    took = (time.perf_counter() - started) / 4
    stop.set()
    await task
    return lags, took


# --- through HTTP --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Child:
    """`python -m gateway serve` with a development PKI, every agency signing."""

    def __init__(self, folder: Path, *, signed: bool = True, large_in: str = "process") -> None:
        self.folder = folder
        self.signed = signed
        self.large_in = large_in
        self.pki = init_pki(folder / "pki", AGENCIES)
        self.tokens = {a: secrets.token_urlsafe(16) for a, _ in AGENCIES}
        self.port, self.ops_port = free_port(), free_port()
        lines = [
            "[server]",
            f'listen = "127.0.0.1:{self.port}"',
            f'ops_listen = "127.0.0.1:{self.ops_port}"',
            'data_dir = "data"',
            f"worker_processes = {1 if large_in == 'process' else 0}",
            *self.pki.trust_section(folder),
        ]
        if not signed:  # the baseline: nothing to verify
            lines[-1] = 'signature = "optional"'
        for organ_id, name in AGENCIES:
            lines += [
                "[[agencies]]",
                f'id = "{organ_id}"',
                f'name = "{name}"',
                f'token_sha256 = "{token_sha256(self.tokens[organ_id])}"',
                'pdf_signatures = "ignore"',
            ]
        (folder / "gateway.toml").write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> Child:
        command = [sys.executable, "-m", "gateway", "--log-level", "warning", "serve"]
        log = (self.folder / "gateway.log").open("wb")
        self.process = subprocess.Popen(  # noqa: ASYNC220 - started once, before the clock
            [*command, "--config", str(self.folder / "gateway.toml")], stdout=log, stderr=log
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{self.ops_port}/readyz") as r:
                        if r.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise SystemExit("the gateway did not start: see " + str(self.folder / "gateway.log"))

    async def __aexit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)


def signed_documents(child: Child, size: int, count: int, first: int) -> list[bytes]:
    """Signed documents, or unsigned ones for a baseline child."""
    signers = Signers(child.pki)
    docs = [document(size, first + i) for i in range(count)]
    return [signers.sign(SENDER, raw) for raw in docs] if child.signed else docs


async def submit(http: aiohttp.ClientSession, child: Child, raw: bytes) -> float:
    headers = {"Authorization": f"Bearer {child.tokens[SENDER]}", "Content-Type": "application/xml"}
    started = time.perf_counter()
    async with http.post(
        f"http://127.0.0.1:{child.port}/v1/documents", data=raw, headers=headers
    ) as r:
        await r.read()
        if r.status not in (200, 202):  # 200: a 10 MB document sent again (verified again)
            raise SystemExit(f"submit answered {r.status}: {(await r.text())[:300]}")
    return time.perf_counter() - started


async def open_loop(
    http: aiohttp.ClientSession, child: Child, docs: list[bytes], rate: float
) -> list[float]:
    tasks = []
    started = time.perf_counter()
    for index, raw in enumerate(docs):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(submit(http, child, raw)))
    return list(await asyncio.gather(*tasks))


def summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)

    def p(q: float) -> float:
        return ms[min(len(ms) - 1, int(len(ms) * q))]

    return (
        f"  {name:<34} n={len(ms):4d}  p50 {p(0.5):6.1f} ms  p90 {p(0.9):6.1f} ms  "
        f"p99 {p(0.99):6.1f} ms  max {ms[-1]:6.1f} ms"
    )


async def latency(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        child = Child(Path(tmp), signed=not args.unsigned, large_in=args.large_in)
        count = int(args.rate * args.seconds)
        small = signed_documents(child, 10 * KIB, 2 * count, 1)
        large = signed_documents(child, 10 * MIB, args.large, 10_000)
        print(
            f"10 kB: {len(small[0])} bytes at {args.rate}/s for {args.seconds}s per phase; "
            f"10 MB: {len(large[0])} bytes at {args.large_rate}/s, verified in a {args.large_in}"
        )
        async with child, aiohttp.ClientSession() as http:
            alone = await open_loop(http, child, small[:count], args.rate)
            print(summary("10 kB alone", alone))
            big: list[float] = []
            stop = asyncio.Event()

            async def large_sender() -> None:
                # open loop: one 10 MB document every 1/large_rate s, whatever the answers
                pending, index = [], 0
                while not stop.is_set():
                    raw = large[index % len(large)]
                    pending.append(asyncio.create_task(submit(http, child, raw)))
                    index += 1
                    await asyncio.sleep(1 / args.large_rate)
                big.extend(await asyncio.gather(*pending))

            senders = [asyncio.create_task(large_sender())]
            await asyncio.sleep(1.0)  # the 10 MB stream is under way
            mixed = await open_loop(http, child, small[count:], args.rate)
            stop.set()
            await asyncio.gather(*senders)
            print(summary("10 kB while 10 MB are submitted", mixed))
            print(summary("10 MB", big))


async def throughput(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        child = Child(Path(tmp), signed=not args.unsigned)
        docs = signed_documents(child, 10 * KIB, args.count, 1)
        async with child, aiohttp.ClientSession() as http:
            queue = list(reversed(docs))
            times: list[float] = []

            async def worker() -> None:
                while queue:
                    times.append(await submit(http, child, queue.pop()))

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(args.concurrency)))
            elapsed = time.perf_counter() - started
        kind = "unsigned" if args.unsigned else "signed"
        print(f"{kind} 10 kB ({len(docs[0])} bytes), {args.concurrency} concurrent submitters:")
        print(
            f"  {len(docs) / elapsed:.0f} documents accepted per second (202), "
            f"median {statistics.median(times) * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.verify", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("bare")
    b.add_argument("--size", type=int, default=10 * KIB)
    b.add_argument("--seconds", type=float, default=5.0)
    sub.add_parser("lag")
    lat = sub.add_parser("latency")
    lat.add_argument("--rate", type=float, default=40.0)
    lat.add_argument("--seconds", type=float, default=15.0)
    lat.add_argument("--large", type=int, default=6, help="distinct 10 MB documents to cycle")
    lat.add_argument("--large-rate", type=float, default=1.0, help="10 MB documents per second")
    lat.add_argument(
        "--large-in",
        choices=["process", "thread"],
        default="process",
        help="worker_processes = 1 (every check in worker processes) or 0 (threads)",
    )
    lat.add_argument("--unsigned", action="store_true", help="baseline: no signatures at all")
    thr = sub.add_parser("throughput")
    thr.add_argument("--count", type=int, default=3000)
    thr.add_argument("--concurrency", type=int, default=16)
    thr.add_argument("--unsigned", action="store_true", help="baseline: no signatures at all")
    args = parser.parse_args()
    if args.mode == "bare":
        bare(args)
    elif args.mode == "lag":
        lag(args)
    elif args.mode == "latency":
        asyncio.run(latency(args))
    else:
        asyncio.run(throughput(args))


if __name__ == "__main__":
    main()
