"""The console put together and mounted on the ops listener (gateway.app calls `install`)."""

from __future__ import annotations

from importlib import resources

import aiohttp_jinja2
import jinja2
from aiohttp import web

from gateway.bus.base import Bus
from gateway.clock import Clock
from gateway.config import Settings
from gateway.console.auditing import Auditing
from gateway.console.guard import Guard, console_roles, open_page
from gateway.console.lookups import Lookups
from gateway.console.operations import Operations
from gateway.console.record import ActionLog
from gateway.console.sessions import Sessions
from gateway.console.signin import SignIn
from gateway.console.throttle import SignInThrottle
from gateway.console.views import Renderer
from gateway.delivery.backlog import Backlog
from gateway.delivery.pacing import Pacing
from gateway.directory import Directory
from gateway.errors import NotFound
from gateway.stats.report import Statistics
from gateway.store.db import Database
from gateway.trust.material import TrustMaterial

ASSETS = {"console.css": "text/css"}  # every asset the pages use, served from here


class Console:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        bus: Bus,
        pacing: Pacing,
        trust: TrustMaterial,
        directory: Directory,
        statistics: Statistics,
        clock: Clock,
    ) -> None:
        users = {user.name: user for user in settings.users}
        names = {agency.id: agency.name for agency in directory}
        self._renderer = Renderer(statistics.tz, names)
        sessions = Sessions(db, clock)
        actions = ActionLog(db, clock)
        self._guard = Guard(sessions, users, self._renderer)
        self._parts = (
            SignIn(
                users=users,
                sessions=sessions,
                throttle=SignInThrottle(clock),
                actions=actions,
                renderer=self._renderer,
            ),
            Operations(
                db=db,
                bus=bus,
                pacing=pacing,
                backlog=Backlog(bus=bus, db=db, directory=directory, clock=clock),
                trust=trust,
                directory=directory,
                clock=clock,
                actions=actions,
                renderer=self._renderer,
            ),
            Auditing(
                db=db,
                statistics=statistics,
                directory=directory,
                clock=clock,
                actions=actions,
                renderer=self._renderer,
            ),
            Lookups(
                db=db,
                statistics=statistics,
                directory=directory,
                clock=clock,
                renderer=self._renderer,
            ),
        )
        self._assets = {
            name: resources.files("gateway.console").joinpath("assets", name).read_bytes()
            for name in ASSETS
        }

    def routes(self) -> list[web.RouteDef]:
        routes = [web.get("/assets/{name}", self.asset)]
        for part in self._parts:
            routes += part.routes()
        for route in routes:  # fail closed: every console route says who may see it
            if console_roles(route.handler) is None:
                raise AssertionError(f"console route {route.path} declares no access rule")
        return routes

    def install(self, app: web.Application) -> None:
        """Mount the console on `app` (the ops listener): templates, routes, its guard."""
        aiohttp_jinja2.setup(
            app,
            loader=jinja2.PackageLoader("gateway.console", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        app.middlewares.append(self._guard.middleware)
        app.add_routes(self.routes())

    @open_page
    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._assets:
            raise NotFound(f"no asset {name[:64]}")
        return web.Response(
            body=self._assets[name],
            content_type=ASSETS[name],
            headers={"Cache-Control": "max-age=3600"},
        )
