"""The composition root: builds every component from the settings and wires them together.

Nothing else receives the `Gateway`: each component gets exactly the collaborators it uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.adapter_api import AdapterFactory
from gateway.api.adapters import AdaptersApi
from gateway.api.agency import AgencyApi
from gateway.api.audit import AuditApi
from gateway.api.auth import Authenticator, auth_middleware
from gateway.api.context import request_context
from gateway.api.listener import HANDLER_OPTIONS, ConnectionLimits, start_listener
from gateway.api.openapi import OpenApi
from gateway.api.ops import OpsApi
from gateway.api.problems import identity_only, problems_on
from gateway.api.queues import QueuesApi
from gateway.api.search import SearchApi
from gateway.api.vdxp import VdxpFacade, sdk_answers
from gateway.audit.operators import record_trust_reload
from gateway.bus import open_bus
from gateway.bus.base import Bus, RetryPolicy
from gateway.clock import Clock, system_clock
from gateway.config import ConfigError, Settings
from gateway.console.console import Console
from gateway.delivery.backlog import Backlog
from gateway.delivery.backlog_metrics import NODE_READY, watch_backlog
from gateway.delivery.backoff import BackoffPolicy
from gateway.delivery.dispatcher import Dispatcher, GatewayHost, load_adapters
from gateway.delivery.host import instances
from gateway.delivery.listeners import Listeners
from gateway.delivery.mailbox import Mailbox
from gateway.delivery.pacing import Pacing
from gateway.directory import Directory
from gateway.edxml import XmlLimits
from gateway.intake.exchange import Exchange
from gateway.intake.pipeline import build_intake
from gateway.intake.refusals import RefusalLog
from gateway.log import get_logger
from gateway.maintenance.retention import Retention
from gateway.runtime.diskspace import FreeSpace, Probe, statvfs_free
from gateway.runtime.lifecycle import Stopping
from gateway.runtime.workers import Workers
from gateway.stats.paper import PaperRegister
from gateway.stats.report import Statistics
from gateway.store import open_database
from gateway.store.db import Database
from gateway.trust.check import SignatureCheck, prime_worker
from gateway.trust.material import TrustMaterial, reload_on_sighup
from gateway.trust.tls import ClientCertificates, server_context

log = get_logger(__name__)

SWEEP_INTERVAL_S = 30.0
QUEUE_GAUGES_INTERVAL_S = 15.0
# With several nodes, a young unpublished record may be another node's request in flight.
SWEEP_GRACE_S = 60.0
BODY_SLACK = 64 * 1024  # aiohttp's own ceiling sits above ours so that ours names the limit


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.bus.max_attempts,
        initial_delay_s=settings.bus.retry_initial_s,
        max_delay_s=settings.bus.retry_max_s,
    )


def _delivery(
    settings: Settings,
    db: Database,
    bus: Bus,
    clock: Clock,
    host: GatewayHost,
    directory: Directory,
    adapter_factories: Mapping[str, AdapterFactory],
    config_dir: Path | None,
) -> tuple[Dispatcher, Pacing]:
    """From the bus to the adapters: one instance per agency, paced by its backoff."""
    adapters = load_adapters(directory, host, adapter_factories, config_dir)
    pacing = Pacing(
        bus=bus,
        db=db,
        clock=clock,
        policy=BackoffPolicy.of(settings.adapters),
        instances=instances(directory),
        prefetch=settings.bus.prefetch,
    )
    dispatcher = Dispatcher(
        bus=bus,
        db=db,
        host=host,
        adapters=adapters,
        retry=retry_policy(settings),
        pacing=pacing,
        listeners=Listeners(adapters, clock),
    )
    return dispatcher, pacing


@dataclass
class Gateway:
    settings: Settings
    db: Database
    bus: Bus
    exchange: Exchange
    dispatcher: Dispatcher
    agency_app: web.Application
    ops_app: web.Application
    trust: TrustMaterial
    workers: Workers
    retention: Retention | None = None
    clock: Clock = system_clock
    stopping: Stopping = field(default_factory=Stopping)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        config_path: Path | None = None,
        adapter_factories: Mapping[str, AdapterFactory] | None = None,
        free_space: Probe = statvfs_free,
        free_space_ttl_s: float = 1.0,
    ) -> Gateway:
        """`adapter_factories` adds adapters beside the installed plugins (for embedding);
        `free_space` measures the data folder's filesystem (a test gives its own)."""
        trust = TrustMaterial(settings, config_path=config_path)  # before anything is opened
        workers = Workers(
            processes=settings.server.worker_processes,
            budget_s=settings.limits.attachment_budget_s,
        )
        warming = asyncio.ensure_future(
            workers.warm(
                functools.partial(prime_worker, trust.settings, trust.generation),
                functools.partial(importlib.import_module, "gateway.policy.secrecy"),
            )
        )
        data_dir = settings.server.data_dir
        db = await open_database(settings.database, data_dir)
        bus = open_bus(settings.bus, data_dir, retry_policy(settings))
        await bus.start()
        directory = Directory(settings)
        tz = ZoneInfo(settings.stats.timezone)
        exchange = Exchange(db, bus, clock, tz)
        groups = {agency.id: agency.group for agency in directory}
        names = {agency.id: agency.name for agency in directory}
        statistics = Statistics(db, groups, settings.stats.target, tz, names=names, clock=clock)
        limits = XmlLimits(
            max_bytes=settings.limits.max_document_bytes, max_depth=settings.limits.max_xml_depth
        )
        intake = build_intake(
            directory=directory,
            db=db,
            exchange=exchange,
            refusals=RefusalLog(db, clock, tz),
            limits=limits,
            max_recipients=settings.limits.max_recipients,
            signatures=SignatureCheck(trust, workers, clock),
            workers=workers,
        )
        dispatcher, pacing = _delivery(
            settings,
            db,
            bus,
            clock,
            GatewayHost(db, clock, intake, directory),
            directory,
            adapter_factories or {},
            _config_dir(config_path),
        )
        mailbox = Mailbox(db, clock)
        stopping = Stopping()
        disk = FreeSpace(
            data_dir, settings.limits.min_free_bytes, probe=free_space, ttl_s=free_space_ttl_s
        )
        agency = AgencyApi(
            intake=intake,
            mailbox=mailbox,
            directory=directory,
            db=db,
            clock=clock,
            paper=PaperRegister(db, clock, directory.ids(), tz),
            statistics=statistics,
            disk=disk,
        )
        auditing = AuditApi(db=db, statistics=statistics, directory=directory)
        mutual_tls = ClientCertificates(trust, clock) if settings.server.tls_cert else None
        authenticator = Authenticator(settings, directory, mutual_tls, clock)
        facade = VdxpFacade(intake=intake, mailbox=mailbox, directory=directory, db=db, clock=clock)
        console = Console(
            settings=settings,
            db=db,
            bus=bus,
            pacing=pacing,
            trust=trust,
            directory=directory,
            statistics=statistics,
            clock=clock,
        )
        gateway = cls(
            settings=settings,
            db=db,
            bus=bus,
            exchange=exchange,
            dispatcher=dispatcher,
            agency_app=_app(
                "agency",
                agency.routes() + facade.routes() + OpenApi("agency").routes(),
                authenticator,
                limits.max_bytes,
            ),
            ops_app=_app(
                "ops",
                OpsApi(
                    db=db, bus=bus, trust=trust, disk=disk, clock=clock, stopping=stopping
                ).routes()
                + QueuesApi(bus=bus, db=db, directory=directory, clock=clock).routes()
                + SearchApi(db=db, directory=directory, tz=tz).routes()
                + AdaptersApi(pacing=pacing, db=db, clock=clock).routes()
                + auditing.routes()
                + OpenApi("ops").routes(),
                authenticator,
                1024 * 1024,
            ),
            trust=trust,
            workers=workers,
            retention=Retention(db, clock, settings.retention),
            clock=clock,
            stopping=stopping,
        )
        console.install(gateway.ops_app)  # the browser console at / (gateway.console)
        await warming  # ready means ready: the first documents do not wait for the workers
        await gateway._start()
        return gateway

    async def _start(self) -> None:
        single_node = self.settings.database.url == "sqlite"
        await self.exchange.republish_pending(older_than_s=0 if single_node else SWEEP_GRACE_S)
        await self.dispatcher.start()
        self._tasks.append(asyncio.create_task(self._sweep()))
        if self.retention is not None:
            self._tasks.append(asyncio.create_task(self.retention.run_forever()))
        backlog = Backlog(
            bus=self.bus, db=self.db, directory=Directory(self.settings), clock=self.clock
        )
        self._tasks.append(
            asyncio.create_task(
                watch_backlog(
                    backlog, self.db, self.bus, self.clock, QUEUE_GAUGES_INTERVAL_S, self.stopping
                )
            )
        )

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            try:
                await self.exchange.republish_pending(older_than_s=SWEEP_GRACE_S)
            except Exception as exc:  # the next sweep tries again
                log.warning("sweep_failed", error=str(exc))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.dispatcher.close()
        await self.bus.close()
        await self.db.close()
        await self.workers.close()


def _app(
    listener: str, routes: list[web.RouteDef], authenticator: Authenticator, max_body: int
) -> web.Application:
    app = web.Application(
        middlewares=[
            request_context(listener),
            problems_on(listener),
            identity_only,  # before anything reads the body
            sdk_answers,  # the national axis' façade answers in the axis' JSON
            auth_middleware(authenticator),
        ],
        client_max_size=max_body + BODY_SLACK,
        handler_args=HANDLER_OPTIONS,
    )
    app.add_routes(routes)
    return app


def _config_dir(config_path: Path | None) -> Path:
    """Where relative paths in adapters' options start from."""
    return config_path.resolve().parent if config_path else Path.cwd()


def connection_limits(settings: Settings) -> ConnectionLimits:
    server = settings.server
    return ConnectionLimits(
        header_timeout_s=server.header_timeout_s,
        body_timeout_s=server.body_timeout_s,
        max_per_client=server.max_connections_per_client,
    )


async def serve(
    settings: Settings, *, ready: asyncio.Event | None = None, config_path: Path | None = None
) -> None:
    """Run until SIGINT or SIGTERM, then stop taking requests and finish what is in flight.
    SIGHUP reloads the trust material (from `config_path` when given)."""
    gateway = await Gateway.open(settings, config_path=config_path)
    runners = []
    try:
        reload_on_sighup(
            gateway.trust,
            lambda summary, error: record_trust_reload(
                gateway.db, "SIGHUP", system_clock(), summary, error
            ),
        )
        agency_tls = server_context(settings, gateway.trust.store)
        limits = connection_limits(settings)
        for app, option, listen, tls in (
            (gateway.agency_app, "server.listen", settings.server.listen, agency_tls),
            (gateway.ops_app, "server.ops_listen", settings.server.ops_listen, None),
        ):
            try:
                runners.append(
                    await start_listener(app, listen, limits, shutdown_timeout=10, ssl_context=tls)
                )
            except OSError as exc:  # in use, or not an address of this machine
                raise ConfigError(
                    f"{option} = {listen!r}: cannot listen there ({exc.strerror or exc}); "
                    f"stop what uses it or change {option}"
                ) from None
        log.info("serving", listen=settings.server.listen, ops_listen=settings.server.ops_listen)
        if ready is not None:
            ready.set()
        gateway.stopping.begin(await _until_signalled())
        NODE_READY.set(0)
    finally:
        for runner in runners:
            await runner.cleanup()
        await gateway.close()
        log.info("stopped")


async def _until_signalled() -> str:
    """The name of the signal that asked this process to stop, once it has."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[str] = loop.create_future()

    def stop(name: str) -> None:
        if not received.done():
            received.set_result(name)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signal.Signals(signum).name)
    return await received
