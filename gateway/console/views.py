"""Rendering a console page: the template, the viewer, the language and the date format."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from gateway.console.words import LANGS, Lang, say, when

LANG_COOKIE = "lang"


@dataclass(frozen=True)
class Viewer:
    """The signed-in user a page is rendered for."""

    name: str
    role: str
    csrf: str  # goes into every form the page holds


VIEWER = web.RequestKey("console_viewer", Viewer)


def lang_of(request: web.Request) -> Lang:
    """`?lang=` first, then the `lang` cookie, then Vietnamese."""
    for offered in (request.query.get("lang"), request.cookies.get(LANG_COOKIE)):
        for lang in LANGS:
            if offered == lang:
                return lang
    return "vi"


def redirect(location: str) -> web.Response:
    """303: the browser follows with a GET (after a form's POST too)."""
    return web.Response(status=303, headers={"Location": location})


def to_login(request: web.Request) -> web.Response:
    following = request.path_qs if request.method == "GET" else "/"
    return redirect(f"/login?next={quote(following, safe='')}")


def local_path(offered: str | None) -> str:
    """Where to go after signing in: a path of this site only, never another origin."""
    if not offered or not offered.startswith("/") or offered.startswith(("//", "/\\")):
        return "/"
    return offered


class Renderer:
    def __init__(self, tz: ZoneInfo, names: Mapping[str, str]) -> None:
        self.tz = tz
        self._names = dict(names)

    def when(self, ts: float | None) -> str:
        return when(ts, self.tz)

    def when_iso(self, moment: str | None) -> str:
        """An API answer's RFC 3339 time, as the console writes times."""
        return when(None if moment is None else datetime.fromisoformat(moment).timestamp(), self.tz)

    def name_of(self, agency: str | None) -> str:
        return "" if agency is None else self._names.get(agency, "")

    def render(
        self,
        request: web.Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        status: int = 200,
    ) -> web.Response:
        lang = lang_of(request)
        other = "en" if lang == "vi" else "vi"
        common = {
            "lang": lang,
            "t": functools.partial(say, lang),
            "when": self.when,
            "when_iso": self.when_iso,
            "name_of": self.name_of,
            "viewer": request.get(VIEWER),
            "path": request.path,
            "other_lang_url": str(request.rel_url.update_query(lang=other)),
        }
        return aiohttp_jinja2.render_template(
            template, request, {**common, **(context or {})}, status=status
        )
