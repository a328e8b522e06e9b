"""Per-request context: a request id, bound to every log event of the request, and one
access-log event per request (method, route, status, duration; never headers or bodies)."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from gateway.ids import new_id
from gateway.log import get_logger
from gateway.metrics import REQUEST_SECONDS

log = get_logger("gateway.access")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_context(listener: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    timers: dict[str, Any] = {}  # one histogram child per route, looked up once

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        offered = request.headers.get("X-Request-Id", "")
        request_id = offered if _CLIENT_ID.match(offered) else new_id()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            response.headers["X-Request-Id"] = request_id
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = request.match_info.route.resource
            template = route.canonical if route is not None else "unmatched"
            histogram = timers.get(template)
            if histogram is None:
                histogram = timers[template] = REQUEST_SECONDS.labels(listener, template)
            histogram.observe(elapsed)
            log.info(
                "request",
                listener=listener,
                method=request.method,
                route=template,
                status=status,
                ms=round(elapsed * 1000, 2),
            )

    return middleware
