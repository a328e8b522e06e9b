"""The façade's answers as the SDK reads them: the axis' JSON in ASCII (`\\uXXXX` beyond it),
HTTP 200, and on every refusal `status: FAIL`, `ErrorCode` and `ErrorDesc`, plus the fields the
SDK reads unconditionally for the operation (sendEdoc's `DocId`, empty)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gateway.api.auth import scheme_of
from gateway.api.problems import count_refusal
from gateway.errors import BadInput, GatewayError, NotFound, PayloadTooLarge
from gateway.log import get_logger
from gateway.vdxp import SEND_EDOC, dump_answer, fail_answer

log = get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# SDKVXP 2.0.1 reads `DocId` from every sendEdoc answer before its status: without it the
# application gets a result whose status, ErrorCode and ErrorDesc are all null
ALWAYS_READ: dict[str, dict[str, str]] = {SEND_EDOC: {"DocId": ""}}


def sdk_response(body: Any) -> web.Response:
    return web.Response(text=dump_answer(body), content_type="application/json")


def _as_error(exc: web.HTTPException) -> GatewayError:
    """aiohttp's own refusals (a body over the limit, say) as the gateway's problem codes."""
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLarge(f"the body is larger than accepted ({exc.text})")
    if exc.status == 404:
        return NotFound(exc.text or exc.reason)
    if exc.status >= 500:
        return GatewayError(exc.text or exc.reason)
    return BadInput(exc.text or exc.reason)


@web.middleware
async def sdk_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The façade's refusals as the axis answers them: FAIL, the HTTP status the agency API
    would have used as ErrorCode, and `<problem code>: <detail>` as ErrorDesc. HTTP 200, as
    SDK clients read the JSON whatever the status but some of their HTTP stacks throw on 4xx."""
    if scheme_of(request.match_info.handler) != "vdxp":
        return await handler(request)
    try:
        return await handler(request)
    except GatewayError as refused:
        error = refused
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error = _as_error(exc)
    except Exception:
        log.exception("unexpected_error", path=request.path)
        error = GatewayError("the gateway failed; the error is logged")
    count_refusal("agency", request, error.code)
    log.info("refused", code=error.code, status=error.status, detail=error.detail, via="vdxp")
    operation = request.path.rsplit("/", 1)[-1]
    always = ALWAYS_READ.get(operation, {})
    return sdk_response(fail_answer(str(error.status), f"{error.code}: {error.detail}", **always))
