"""The listeners' connections: what aiohttp's HTTP parser refuses, slow clients, greedy clients.

aiohttp answers a request its parser cannot read (a line over 8190 bytes, too many headers, a bad
chunk, Transfer-Encoding beside Content-Length) in text/plain, quoting the offending line - a
bearer token included - and logs it. `GuardedHandler.handle_error` answers a problem instead and
logs only the kind of error. It also closes a connection whose request head does not arrive
within `header_timeout_s` (of opening, or of the previous answer: this is the idle timeout too),
fails a body that has not arrived within `body_timeout_s`, and `ClientCount` refuses a client
address more than `max_connections_per_client` connections at once.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from gateway.api.problems import problem_response
from gateway.errors import BadInput, GatewayError, Unavailable
from gateway.log import get_logger
from gateway.metrics import ANONYMOUS, REFUSED

log = get_logger(__name__)

MAX_LINE = 8190  # aiohttp's default, kept: a request line or one header field
MAX_HEADERS = 128
# Options for aiohttp's connection handler on both listeners (also `handler_args` of the apps,
# so that test servers parse as the listeners do). The gateway never inflates a request body:
# a compressed one is refused (gateway.api.problems.identity_only) before it is read.
HANDLER_OPTIONS: dict[str, Any] = {
    "auto_decompress": False,
    "max_line_size": MAX_LINE,
    "max_field_size": MAX_LINE,
    "max_headers": MAX_HEADERS,
}


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float
    body_timeout_s: float
    max_per_client: int


class ClientCount:
    """Open connections per client address, on one listener."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open: Counter[str] = Counter()

    def admit(self, address: str) -> bool:
        if self._open[address] >= self._limit:
            return False
        self._open[address] += 1
        return True

    def release(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]


class BodyTimeout(BadInput):
    """Raised to the handler reading a body that is late."""


def parse_refusal(status: int, exc: BaseException | None) -> GatewayError:
    """The problem for what the parser (or aiohttp itself) refused; never the request's text."""
    if status >= 500:
        return GatewayError("the gateway failed; the error is logged")
    if isinstance(exc, LineTooLong):
        return BadInput(
            f"the request line or a header field is longer than {MAX_LINE} bytes; shorten it"
        )
    if isinstance(exc, BadHttpMessage) and "Too many headers" in exc.message:
        return BadInput(f"more than {MAX_HEADERS} header fields; send fewer")
    return BadInput(
        "the request is not valid HTTP/1.1 "
        f"({type(exc).__name__ if exc else 'unreadable'}); check the request line, the headers "
        "and the framing (Content-Length or chunked, never both)"
    )


def _refusal_bytes(error: GatewayError) -> bytes:
    """A whole HTTP answer, for a connection refused before aiohttp handles it."""
    body = json.dumps(error.problem(), ensure_ascii=False).encode()
    head = (
        f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedHandler(RequestHandler):
    """aiohttp's connection handler, with the limits above."""

    def __init__(
        self, manager: web.Server, *, limits: ConnectionLimits, clients: ClientCount, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._limits = limits
        self._clients = clients
        self._address: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if not self._clients.admit(address):
            log.info("connection_refused", reason="per_client_cap")
            refusal = Unavailable(
                f"more than {self._limits.max_per_client} connections at once from one address; "
                "close one and retry"
            )
            REFUSED.labels(code=refusal.code, agency=ANONYMOUS).inc()  # before any authentication
            cast(asyncio.Transport, transport).write(_refusal_bytes(refusal))
            self.force_close()
            return
        self._address = address
        self._await_head()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_timers()
        if self._address is not None:
            self._clients.release(self._address)
            self._address = None
        super().connection_lost(exc)

    def request_started(self, payload: StreamReader) -> None:
        """The head of a request was read: the body has its own deadline."""
        self._cancel_timers()
        if not payload.is_eof():
            self._body_timer = asyncio.get_running_loop().call_later(
                self._limits.body_timeout_s, self._body_late, payload
            )

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        answered = await super().finish_response(request, resp, start_time)
        self._await_head()
        return answered

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # The message and the exception quote the request: neither is logged nor answered.
        log.info("http_refused", status=status, error=type(exc).__name__ if exc else None)
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was being sent already")
        refusal = parse_refusal(status, exc)
        REFUSED.labels(code=refusal.code, agency=ANONYMOUS).inc()  # before any authentication
        response = problem_response(refusal)
        response.force_close()
        return response

    def _await_head(self) -> None:
        self._cancel_timers()
        if self.transport is not None:
            self._head_timer = asyncio.get_running_loop().call_later(
                self._limits.header_timeout_s, self._head_late
            )

    def _head_late(self) -> None:
        self._head_timer = None
        log.info("connection_closed", reason="header_timeout")
        self.force_close()

    def _body_late(self, payload: StreamReader) -> None:
        self._body_timer = None
        if payload.is_eof():
            return
        log.info("body_timeout", seconds=self._limits.body_timeout_s)
        self._lingering_time = 0.0  # no more waiting for the rest after the answer
        self.close()
        payload.set_exception(
            BodyTimeout(
                f"the body did not arrive within {self._limits.body_timeout_s:g} s; "
                "send it faster or in smaller parts"
            )
        )

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None


class GuardedServer(web.Server):
    """The protocol factory of one listener: a `GuardedHandler` per connection."""

    def __init__(
        self, handler: Any, *, limits: ConnectionLimits, request_factory: Any, **kwargs: Any
    ) -> None:
        self._inner_factory = request_factory
        super().__init__(handler, request_factory=self._started, **kwargs)
        self._limits = limits
        self._clients = ClientCount(limits.max_per_client)

    def _started(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        if isinstance(protocol, GuardedHandler):
            protocol.request_started(payload)
        request: web.BaseRequest = self._inner_factory(message, payload, protocol, writer, task)
        return request

    def __call__(self) -> RequestHandler:
        return GuardedHandler(
            self, limits=self._limits, clients=self._clients, loop=self._loop, **self._kwargs
        )


class GuardedRunner(web.AppRunner):
    """`web.AppRunner` whose server is a `GuardedServer`."""

    def __init__(self, app: web.Application, limits: ConnectionLimits) -> None:
        super().__init__(app, access_log=None, handle_signals=False)
        self._limits = limits

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()  # the application's start-up, frozen
        return GuardedServer(
            plain.request_handler,
            limits=self._limits,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=asyncio.get_running_loop(),
            access_log=None,
            **HANDLER_OPTIONS,
        )


async def start_listener(
    app: web.Application, listen: str, limits: ConnectionLimits, **site_options: Any
) -> GuardedRunner:
    """Serve `app` on `listen` ("host:port"; port 0 picks one, see `runner.addresses`)."""
    runner = GuardedRunner(app, limits)
    await runner.setup()
    host, _, port = listen.rpartition(":")
    site = web.TCPSite(runner, host, int(port), **site_options)
    await site.start()
    return runner
