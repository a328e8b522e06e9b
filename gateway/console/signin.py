"""Signing in and out (DESIGN §4.6): GET /login, POST /login (name, password, csrf), POST /logout.

Before a session exists the form is protected by a double-submit token: a random cookie that
the form repeats. A failed sign-in is audited and counted by the throttle; a password is
checked off the event loop, a few at a time.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Mapping

from aiohttp import web

from gateway.config import UserSettings
from gateway.console.guard import SESSION_COOKIE, open_page, page, session_id
from gateway.console.passwords import verify_password
from gateway.console.record import ActionLog
from gateway.console.sessions import Sessions, same_token
from gateway.console.throttle import SignInThrottle
from gateway.console.views import VIEWER, Renderer, lang_of, local_path, redirect
from gateway.console.words import say
from gateway.log import get_logger

log = get_logger(__name__)
LOGIN_COOKIE = "edocgw_login"
MAX_FIELD = 1024
CONCURRENT_CHECKS = 2  # argon2 takes 64 MiB and ~0.1 s of a core each


def _field(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


class SignIn:
    def __init__(
        self,
        *,
        users: Mapping[str, UserSettings],
        sessions: Sessions,
        throttle: SignInThrottle,
        actions: ActionLog,
        renderer: Renderer,
    ) -> None:
        self._users = dict(users)
        self._sessions = sessions
        self._throttle = throttle
        self._actions = actions
        self._renderer = renderer
        self._checks = asyncio.Semaphore(CONCURRENT_CHECKS)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/login", self.form),
            web.post("/login", self.sign_in),
            web.post("/logout", self.sign_out),
        ]

    def _form(
        self, request: web.Request, message: str | None = None, status: int = 200
    ) -> web.Response:
        token = secrets.token_urlsafe(32)
        following = local_path(request.query.get("next"))
        context = {"csrf": token, "message": message, "next": following}
        response = self._renderer.render(request, "login.html", context, status=status)
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            httponly=True,
            samesite="Strict",
            secure=request.secure,
            path="/login",
        )
        return response

    @open_page
    async def form(self, request: web.Request) -> web.Response:
        expired = "next" in request.query
        return self._form(request, say(lang_of(request), "login.expired") if expired else None)

    @open_page
    async def sign_in(self, request: web.Request) -> web.Response:
        form = await request.post()
        lang = lang_of(request)
        if not same_token(request.cookies.get(LOGIN_COOKIE, "") or "-", _field(form, "csrf")):
            return self._renderer.render(
                request, "error.html", {"message": say(lang, "error.csrf")}, status=403
            )
        name, password = _field(form, "name")[:64], _field(form, "password")
        address = request.remote or "unknown"
        wait = self._throttle.wait_s(name, address)
        if wait > 0:
            log.info("console_sign_in_throttled", user=name, address=address)
            return self._form(request, say(lang, "login.wait", seconds=math.ceil(wait)), 429)
        user = self._users.get(name)
        stored = None if user is None else user.password_argon2
        async with self._checks:
            ok = await asyncio.to_thread(verify_password, stored, password)
        if not ok:
            self._throttle.failed(name, address)
            await self._actions.record("console_sign_in_failed", name, address=address)
            return self._form(request, say(lang, "login.failed"), 401)
        self._throttle.succeeded(name, address)
        new_session = await self._sessions.begin(name, address)
        await self._actions.record("console_signed_in", name, address=address)
        response = redirect(local_path(_field(form, "next")))
        response.set_cookie(
            SESSION_COOKIE,
            new_session,
            httponly=True,
            samesite="Strict",
            secure=request.secure,
            path="/",
        )
        response.del_cookie(LOGIN_COOKIE, path="/login")
        return response

    @page("operator", "auditor")
    async def sign_out(self, request: web.Request) -> web.Response:
        found = session_id(request)
        if found is not None:
            await self._sessions.end(found)
        await self._actions.record("console_signed_out", request[VIEWER].name)
        response = redirect("/login")
        response.del_cookie(SESSION_COOKIE, path="/")
        return response
