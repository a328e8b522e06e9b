"""Every refusal as application/problem+json (DESIGN §4.5)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gateway.api.auth import PRINCIPAL
from gateway.errors import (
    BadInput,
    GatewayError,
    InsufficientStorage,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
)
from gateway.log import get_logger
from gateway.metrics import ANONYMOUS, OPS_REFUSED, REFUSED
from gateway.store.db import StoreError, StoreFull

log = get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _MethodNotAllowed(BadInput):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class _NotAcceptable(BadInput):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


def problem_response(error: GatewayError) -> web.Response:
    headers = (
        {"WWW-Authenticate": 'Bearer realm="edocgw"'} if isinstance(error, Unauthorized) else None
    )
    return web.Response(
        status=error.status,
        body=(json.dumps(error.problem(), ensure_ascii=False) + "\n").encode(),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


def _store_failure(exc: StoreError) -> GatewayError:
    if isinstance(exc, StoreFull):
        return InsufficientStorage("the gateway's disk is full; try again once room is made")
    return Unavailable("the gateway's store is not answering; try again later")


def _from_http(exc: web.HTTPException, request: web.Request) -> GatewayError:
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLarge(f"the body is larger than this gateway accepts ({exc.text})")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return _MethodNotAllowed(f"{request.method} is not allowed on {request.path}")
    if isinstance(exc, web.HTTPNotFound):
        return NotFound(f"no such resource: {request.path}")
    if isinstance(exc, web.HTTPUnsupportedMediaType):
        return _NotAcceptable(exc.text or "unsupported media type")
    return BadInput(exc.text or exc.reason)


@web.middleware
async def identity_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a compressed body before anything reads it: inflating it would be unbounded work
    for anyone, before authentication (the listeners never inflate: `auto_decompress` is off)."""
    declared = request.headers.getall("Content-Encoding", [])
    if any(e.strip().lower() not in ("", "identity") for v in declared for e in v.split(",")):
        raise _NotAcceptable(
            "Content-Encoding: send the body uncompressed (identity); compressed request bodies "
            "are not accepted"
        )
    return await handler(request)


def count_refusal(listener: str, request: web.Request, code: str) -> None:
    """The agency listener's refusals by agency (the caller once authenticated), the ops
    listener's apart, so that operators' typos do not look like a department in trouble."""
    if listener == "ops":
        OPS_REFUSED.labels(code=code).inc()
        return
    caller = request.get(PRINCIPAL)
    agency = caller.name if caller is not None and caller.role == "agency" else ANONYMOUS
    REFUSED.labels(code=code, agency=agency).inc()


def problems_on(listener: str) -> Any:
    @web.middleware
    async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except GatewayError as error:
            count_refusal(listener, request, error.code)
            log.info("refused", code=error.code, status=error.status, detail=error.detail)
            return problem_response(error)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            translated = _from_http(exc, request)
            count_refusal(listener, request, translated.code)
            return problem_response(translated)
        except StoreError as exc:  # the store failed (its disk full, or not answering): not a bug
            log.error("store_failed", path=request.path, error=str(exc))
            failure = _store_failure(exc)
            count_refusal(listener, request, failure.code)
            return problem_response(failure)
        except Exception:
            log.exception("unexpected_error", path=request.path)
            return problem_response(GatewayError("the gateway failed; the error is logged"))

    return problems
