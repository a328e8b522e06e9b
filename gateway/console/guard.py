"""Who may see a console page, and the headers every console answer carries.

Console routes are marked `@page(roles)` (a signed-in user of one of these roles) or `@open_page`
(the sign-in form, the assets). The API's bearer check lets them through (they are `public` to
it) and this middleware, the innermost, applies the console's own rules: a session cookie, the
role, and on every POST the session's CSRF token. A route of the console without a mark does not
start (Console.routes checks), so a forgotten check fails closed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import structlog
from aiohttp import web

from gateway.api.auth import public
from gateway.config import UserSettings
from gateway.console.sessions import Session, Sessions, same_token
from gateway.console.views import LANG_COOKIE, VIEWER, Renderer, Viewer, lang_of, to_login
from gateway.console.words import say
from gateway.errors import GatewayError
from gateway.log import get_logger

log = get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
F = TypeVar("F", bound=Callable[..., Awaitable[web.StreamResponse]])
CONSOLE_ROLES = "__edocgw_console_roles__"
SESSION_COOKIE = "edocgw_session"
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

# no script at all, nothing from another origin, no framing (clickjacking), no plugin
POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page(*roles: str) -> Callable[[F], F]:
    def mark(handler: F) -> F:
        setattr(handler, CONSOLE_ROLES, frozenset(roles))
        return public(handler)  # to the bearer check; this module checks the session

    return mark


def open_page(handler: F) -> F:
    setattr(handler, CONSOLE_ROLES, frozenset())
    return public(handler)


def console_roles(handler: object) -> frozenset[str] | None:
    roles: frozenset[str] | None = getattr(handler, CONSOLE_ROLES, None)
    return roles


def session_id(request: web.Request) -> str | None:
    offered = request.cookies.get(SESSION_COOKIE)
    return offered if offered is not None and _SESSION_ID.match(offered) else None


class Guard:
    def __init__(
        self, sessions: Sessions, users: Mapping[str, UserSettings], renderer: Renderer
    ) -> None:
        self._sessions = sessions
        self._users = dict(users)
        self._renderer = renderer

    def refuse(self, request: web.Request, status: int, message: str) -> web.Response:
        return self._renderer.render(request, "error.html", {"message": message}, status=status)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        roles = console_roles(request.match_info.handler)
        if roles is None:  # the API: its own rules and problem answers
            return await handler(request)
        try:
            response = await self._checked(request, handler, roles)
        except GatewayError as error:  # a bad form field, an unknown agency: said on a page
            log.info("console_refused", code=error.code, status=error.status, detail=error.detail)
            response = self.refuse(request, error.status, error.detail)
        response.headers.update(SECURITY_HEADERS)
        if "lang" in request.query:
            response.set_cookie(
                LANG_COOKIE,
                lang_of(request),
                max_age=365 * 86400,
                httponly=True,
                samesite="Strict",
                secure=request.secure,
                path="/",
            )
        return response

    async def _checked(
        self, request: web.Request, handler: Handler, roles: frozenset[str]
    ) -> web.StreamResponse:
        if not roles:
            return await handler(request)
        session = await self._session(request)
        user = None if session is None else self._users.get(session.user_name)
        if session is None or user is None:
            return to_login(request)
        lang = lang_of(request)
        if user.role not in roles:
            return self.refuse(request, 403, say(lang, "error.403"))
        if request.method == "POST":
            form = await request.post()
            offered = form.get("csrf")
            if not same_token(session.csrf, offered if isinstance(offered, str) else None):
                log.info("console_csrf_refused", user=user.name, path=request.path)
                return self.refuse(request, 403, say(lang, "error.csrf"))
        request[VIEWER] = Viewer(user.name, user.role, session.csrf)
        structlog.contextvars.bind_contextvars(caller=user.name)
        return await handler(request)

    async def _session(self, request: web.Request) -> Session | None:
        found = session_id(request)
        return None if found is None else await self._sessions.find(found)
