"""The attacks of bench.hostile (issue 13): what hostile or clumsy clients send.

Each runs until `until` (its event loop's clock), counts what it was answered in `seen`, and
stays on the target's loopback address. Their bodies are built before their window starts.
"""

from __future__ import annotations

import asyncio
import secrets
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.docs import MIB, Agency
from gateway.edxml import to_xml
from gateway.edxml.compose import compose_document
from gateway.edxml.model import Attachment


@dataclass
class Target:
    """The gateway under test, as the attacks see it."""

    host: str
    port: int
    ops_url: str
    attacker: Agency
    victim: Agency
    bodies: dict[str, bytes] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


Attack = Callable[[Target, float, Counter[str]], Awaitable[None]]


async def _repeat(
    target: Target, until: float, seen: Counter[str], send: Callable[[aiohttp.ClientSession], Any]
) -> None:
    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
        while loop.time() < until:
            try:
                async with asyncio.timeout(max(0.1, until - loop.time())):
                    seen[str(await send(session))] += 1
            except TimeoutError:
                seen["unanswered at the end of the window"] += 1
            except aiohttp.ClientError as exc:
                seen[type(exc).__name__] += 1


async def unbounded_stats(target: Target, until: float, seen: Counter[str]) -> None:
    """An agency's statistics over two thousand years, per day (issue 13 item 1)."""
    query = "from=0026-01-01&to=2025-12-31&period=day"

    async def send(session: aiohttp.ClientSession) -> int:
        url = f"{target.url}/v1/stats/mine?{query}"
        async with session.get(url, headers=target.attacker.auth()) as response:
            await response.read()
            return response.status

    await _repeat(target, until, seen, send)


async def gzip_bomb(target: Target, until: float, seen: Counter[str]) -> None:
    """256 MiB of zeros in 250 kB of gzip, without a token (issue 13 item 2)."""

    async def send(session: aiohttp.ClientSession) -> int:
        headers = {"Content-Type": "application/xml", "Content-Encoding": "gzip"}
        body = target.bodies["gzip"]
        async with session.post(f"{target.url}/v1/documents", data=body, headers=headers) as r:
            await r.read()
            return r.status

    await _repeat(target, until, seen, send)


async def utf7_elements(target: Target, until: float, seen: Counter[str]) -> None:
    """Two million elements declared UTF-7, so no `<` byte shows (issue 13 item 3)."""

    async def send(session: aiohttp.ClientSession) -> int:
        headers = {**target.attacker.auth(), "Content-Type": "application/xml"}
        body = target.bodies["utf7"]
        async with session.post(f"{target.url}/v1/documents", data=body, headers=headers) as r:
            await r.read()
            return r.status

    await _repeat(target, until, seen, send)


async def paper_nesting(target: Target, until: float, seen: Counter[str]) -> None:
    """A paper register of 100,000 nested JSON arrays (issue 13 item 8)."""

    async def send(session: aiohttp.ClientSession) -> int:
        headers = {**target.attacker.auth(), "Content-Type": "application/json"}
        url = f"{target.url}/v1/paper-dispatches"
        async with session.post(url, data=b"[" * 100_000, headers=headers) as response:
            await response.read()
            return response.status

    await _repeat(target, until, seen, send)


async def hostile_pdf(target: Target, until: float, seen: Counter[str]) -> None:
    """A 10 MB PDF whose startxref points nowhere, so the reader rebuilds its index (item 6)."""

    async def send(session: aiohttp.ClientSession) -> int:
        headers = {**target.attacker.auth(), "Content-Type": "application/xml"}
        body = target.bodies["hostile-pdf"].replace(b"@SEQ@", secrets.token_hex(4).encode())
        async with session.post(f"{target.url}/v1/documents", data=body, headers=headers) as r:
            await r.read()
            return r.status

    await _repeat(target, until, seen, send)


async def _raw_connection(target: Target, head: bytes) -> tuple[asyncio.StreamReader, Any]:
    reader, writer = await asyncio.open_connection(target.host, target.port)
    writer.write(head)
    await writer.drain()
    return reader, writer


async def slowloris(target: Target, until: float, seen: Counter[str]) -> None:
    """200 connections, each sending one header line every 5 s, never finishing (item 10)."""
    loop = asyncio.get_running_loop()
    head = b"POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    writers = []
    try:
        for _ in range(200):
            try:
                writers.append((await _raw_connection(target, head))[1])
            except OSError as exc:
                seen[type(exc).__name__] += 1
        seen["connections opened"] = len(writers)
        while loop.time() < until:
            await asyncio.sleep(min(5.0, max(0.0, until - loop.time())))
            for writer in writers:
                if writer.is_closing():
                    seen["closed by the gateway"] += 1
                    continue
                writer.write(b"X-Slow: 1\r\n")
    finally:
        for writer in writers:
            writer.close()


async def long_headers(target: Target, until: float, seen: Counter[str]) -> None:
    """20 clients sending requests with a 64 kB header line, as fast as answered (item 9)."""
    loop = asyncio.get_running_loop()
    line = b"X-Long: " + b"a" * 65536 + b"\r\n"
    request = b"GET /v1/inbox HTTP/1.1\r\nHost: 127.0.0.1\r\n" + line + b"\r\n"

    async def client() -> None:
        while loop.time() < until:
            try:
                reader, writer = await _raw_connection(target, request)
                async with asyncio.timeout(max(0.1, until - loop.time())):
                    status = (await reader.readline()).split(b" ")[1:2]
                seen[status[0].decode() if status else "closed"] += 1
                writer.close()
            except (OSError, TimeoutError) as exc:
                seen[type(exc).__name__] += 1

    await asyncio.gather(*(client() for _ in range(20)))


ATTACKS: dict[str, Attack] = {
    "stats": unbounded_stats,
    "gzip": gzip_bomb,
    "utf7": utf7_elements,
    "slowloris": slowloris,
    "long-headers": long_headers,
    "paper-nesting": paper_nesting,
    "hostile-pdf": hostile_pdf,
}


def gzip_body() -> bytes:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MIB)
    return b"".join(squeeze.compress(zeros) for _ in range(256)) + squeeze.flush()


def utf7_body() -> bytes:
    # `<` and `>` written in UTF-7's base64 form: no `<` byte for a pre-count to see
    return (
        b'<?xml version="1.0" encoding="UTF-7"?>+ADw-r+AD4-'
        + b"+ADw-a/+AD4-" * 2_000_000
        + b"+ADw-/r+AD4-"
    )


def pdf_body(attacker: Agency, victim: Agency) -> bytes:
    objects = b"".join(b"%d 0 obj\n<< /Length 0 >>\nendobj\n" % i for i in range(1, 360_000))
    pdf = b"%PDF-1.4\n" + objects + b"trailer\n<< /Root 1 0 R >>\nstartxref\n987654321\n%%EOF\n"
    document = compose_document(
        attacker.organization(),
        [victim.organization()],
        number="1",
        notation="HOSTILE-@SEQ@",
        subject="Văn bản có tệp PDF hỏng",
        attachments=[Attachment.of("cid:h-1", "hong.pdf", pdf, content_type="application/pdf")],
    )
    return to_xml(document)


def hostile_body(name: str, target: Target) -> bytes | None:
    """What an attack sends, built before its window starts."""
    if name == "gzip":
        return gzip_body()
    if name == "utf7":
        return utf7_body()
    if name == "hostile-pdf":
        return pdf_body(target.attacker, target.victim)
    return None


def attack_process(name: str, target: Target, seconds: float, channel: Any) -> None:
    """One attack in a process of its own, so that its CPU does not slow the measuring loop:
    builds its body, says "ready", attacks for `seconds`, sends back what it was answered."""
    body = hostile_body(name, target)
    if body is not None:
        target.bodies[name] = body
    channel.send("ready")

    async def attack() -> Counter[str]:
        seen: Counter[str] = Counter()
        await ATTACKS[name](target, asyncio.get_running_loop().time() + seconds, seen)
        return seen

    channel.send(dict(asyncio.run(attack())))
