"""The listeners over raw sockets: the parser's refusals are problems that echo nothing, slow
clients are let go, and one address cannot hold every connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gateway.api.listener import ConnectionLimits, start_listener
from tests.conftest import GatewayFactory

TOKEN = "test-token-000.00.13.H26"  # a real agency token: it must never come back
Listen = Callable[..., Awaitable[tuple[str, int]]]
LIMITS = ConnectionLimits(header_timeout_s=30, body_timeout_s=30, max_per_client=8)


@pytest.fixture
async def listen(gateway_factory: GatewayFactory) -> AsyncIterator[Listen]:
    gateway = await gateway_factory()
    runners = []

    async def start(limits: ConnectionLimits, *, ops: bool = False) -> tuple[str, int]:
        app = gateway.ops_app if ops else gateway.agency_app
        runner = await start_listener(app, "127.0.0.1:0", limits)
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return host, port

    yield start
    for runner in runners:
        await runner.cleanup()


async def exchange(
    address: tuple[str, int], request: bytes, local: str = "127.0.0.1"
) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(*address, local_addr=(local, 0))
    try:
        writer.write(request)
        await writer.drain()
        answer = await reader.read()  # the gateway closes after a refusal
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def bearer_line() -> bytes:
    return f"Authorization: Bearer {TOKEN}\r\n".encode()


PARSER_CASES: dict[str, tuple[bytes, str]] = {
    "long header": (
        b"GET /v1/inbox HTTP/1.1\r\nHost: x\r\n" + bearer_line()[:-2] + b"A" * 9000 + b"\r\n\r\n",
        "the request line or a header field is longer than 8190 bytes; shorten it",
    ),
    "long URL": (
        b"GET /v1/inbox?x=" + TOKEN.encode() + b"y" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "the request line or a header field is longer than 8190 bytes; shorten it",
    ),
    "too many headers": (
        b"GET /v1/inbox HTTP/1.1\r\nHost: x\r\n"
        + bearer_line()
        + b"".join(b"X-%d: %s\r\n" % (n, TOKEN.encode()) for n in range(200))
        + b"\r\n",
        "more than 128 header fields; send fewer",
    ),
    "bad chunk": (
        b"POST /v1/documents HTTP/1.1\r\nHost: x\r\n"
        + bearer_line()
        + b"Transfer-Encoding: chunked\r\n\r\nzz"
        + TOKEN.encode()
        + b"\r\nabc\r\n0\r\n\r\n",
        "the request is not valid HTTP/1.1 (BadHttpMessage); check the request line, the "
        "headers and the framing (Content-Length or chunked, never both)",
    ),
    "chunked with a length": (
        b"POST /v1/documents HTTP/1.1\r\nHost: x\r\n"
        + bearer_line()
        + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "the request is not valid HTTP/1.1 (BadHttpMessage); check the request line, the "
        "headers and the framing (Content-Length or chunked, never both)",
    ),
}


@pytest.mark.parametrize("case", sorted(PARSER_CASES))
async def test_parser_refusals_are_problems_that_echo_nothing(listen: Listen, case: str) -> None:
    request, detail = PARSER_CASES[case]
    status, headers, body = await exchange(await listen(LIMITS), request)
    assert (status, headers["content-type"]) == (400, "application/problem+json")
    assert TOKEN.encode() not in body
    problem: dict[str, Any] = json.loads(body)
    assert problem == {
        "type": "urn:edocgw:error:bad_request",
        "title": "Bad request",
        "status": 400,
        "detail": detail,
        "code": "bad_request",
    }


async def test_a_slowloris_client_is_disconnected_after_the_header_timeout(
    listen: Listen,
) -> None:
    address = await listen(ConnectionLimits(0.3, 30, 8), ops=True)
    reader, writer = await asyncio.open_connection(*address)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    try:
        for n in range(100):  # far longer than the timeout, one header line at a time
            await asyncio.sleep(0.05)
            if reader.at_eof() or writer.is_closing():
                break
            writer.write(b"X-%d: y\r\n" % n)
            await writer.drain()
        assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed, no answer
    except ConnectionResetError:
        pass  # closed while we were writing: as good
    finally:
        writer.close()


async def test_a_body_that_does_not_arrive_is_refused(listen: Listen) -> None:
    address = await listen(ConnectionLimits(30, 0.3, 8))
    reader, writer = await asyncio.open_connection(*address)
    writer.write(
        b"POST /v1/documents HTTP/1.1\r\nHost: x\r\n"
        + bearer_line()
        + b"Content-Type: application/xml\r\nContent-Length: 100000\r\n\r\n<edXML"
    )
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["detail"] == (
        "the body did not arrive within 0.3 s; send it faster or in smaller parts"
    )


async def test_one_address_cannot_hold_more_than_its_connections(listen: Listen) -> None:
    address = await listen(ConnectionLimits(30, 30, 3), ops=True)
    held = [await asyncio.open_connection(*address) for _ in range(3)]
    try:
        await asyncio.sleep(0.1)  # let the gateway count them
        status, headers, body = await exchange(address, b"")
        assert (status, headers["content-type"]) == (503, "application/problem+json")
        assert json.loads(body)["detail"] == (
            "more than 3 connections at once from one address; close one and retry"
        )
        other = await exchange(
            address,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            local="127.0.0.2",
        )
        assert other[0] == 200
    finally:
        for _, writer in held:
            writer.close()
