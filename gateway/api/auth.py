"""Who is calling, and may they call this route.

Bearer tokens are never stored: the configuration holds their SHA-256, and a presented token is
hashed and looked up. Every route declares the roles it admits with `@requires(...)` (or
`@public`); a route that declares nothing is refused, so a forgotten check fails closed. The
national axis' façade declares `@signed_by_vdxp`: its caller is the agency whose `vdxp_secret`
signed the call the SDK's way (gateway.vdxp), which needs the secret itself, not a hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

import structlog
from aiohttp import web

from gateway.clock import Clock, system_clock
from gateway.config import ConfigError, Settings
from gateway.directory import Agency, Directory
from gateway.errors import Forbidden, GatewayError, Unauthorized
from gateway.vdxp import SecretError, SignedRequest, SigningError, resolve_secret, verify_headers

Role = Literal["agency", "operator", "auditor"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
F = TypeVar("F", bound=Callable[..., Awaitable[web.StreamResponse]])
ROLES_ATTR = "__edocgw_roles__"
SCHEME_ATTR = "__edocgw_scheme__"


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    agency: Agency | None = None


PRINCIPAL = web.RequestKey("principal", Principal)
VDXP_SIGNED = web.RequestKey("vdxp_signed", SignedRequest)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def requires(*roles: Role) -> Callable[[F], F]:
    def mark(handler: F) -> F:
        setattr(handler, ROLES_ATTR, frozenset(roles))
        return handler

    return mark


def signed_by_vdxp(handler: F) -> F:
    """An agency's call signed with its vdxp_secret the SDK's way, instead of a bearer token."""
    setattr(handler, ROLES_ATTR, frozenset({"agency"}))
    setattr(handler, SCHEME_ATTR, "vdxp")
    return handler


def public(handler: F) -> F:
    setattr(handler, ROLES_ATTR, frozenset({"*"}))
    return handler


def scheme_of(handler: object) -> str:
    """How a route's caller authenticates: "bearer" (or a TLS certificate) or "vdxp"."""
    scheme: str = getattr(handler, SCHEME_ATTR, "bearer")
    return scheme


def roles_of(handler: object) -> frozenset[str] | None:
    roles: frozenset[str] | None = getattr(handler, ROLES_ATTR, None)
    return roles


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        directory: Directory,
        certificates: Callable[[web.Request], str | None] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._by_hash: dict[str, Principal] = {}
        self._by_agency: dict[str, Principal] = {}
        for agency in settings.agencies:
            self._by_agency[agency.id] = Principal(agency.id, "agency", directory.get(agency.id))
            if agency.token_sha256 is not None:
                self._by_hash[agency.token_sha256] = self._by_agency[agency.id]
        for user in settings.users:
            if user.token_sha256 is not None:  # a console-only user has a password instead
                self._by_hash[user.token_sha256] = Principal(user.name, user.role)
        # mutual TLS (gateway.trust.tls): the agency a client certificate authenticates
        self._certificates = certificates
        self._vdxp = _VdxpSystems(settings, self._by_agency)
        self._clock = clock

    def authenticate_request(self, request: web.Request) -> Principal:
        """By the bearer token if there is an Authorization header, else by a TLS client
        certificate where mutual TLS is configured."""
        authorization = request.headers.get("Authorization")
        if authorization is None and self._certificates is not None:
            agency = self._certificates(request)
            if agency is not None:
                if agency not in self._by_agency:  # pinned by a reload for a new agency
                    raise Unauthorized(f"agency {agency} is not served until a restart")
                return self._by_agency[agency]
        return self.authenticate(authorization)

    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        principal = self._by_hash.get(token_sha256(token.strip()))
        if principal is None:
            raise Unauthorized("the bearer token is not known to this gateway")
        return principal

    def authenticate_vdxp(self, request: web.Request) -> Principal:
        """By the SDK's signing headers; what they signed is kept in request[VDXP_SIGNED]."""
        try:
            signed = self._vdxp.verify(request.headers, self._clock())
        except SigningError as exc:
            raise Unauthorized(str(exc)) from None
        request[VDXP_SIGNED] = signed
        return self._vdxp.principal(signed.systemid)


@dataclass(frozen=True)
class _VdxpSystem:
    principal: Principal
    secret: str = field(repr=False)
    window_s: float = 300.0


class _VdxpSystems:
    """The agencies that may call the façade, by the SDK's systemid."""

    def __init__(self, settings: Settings, principals: dict[str, Principal]) -> None:
        self._tz = ZoneInfo(settings.stats.timezone)  # the SDK stamps calls in local time
        self._systems: dict[str, _VdxpSystem] = {}
        for index, agency in enumerate(settings.agencies):
            if agency.vdxp_secret is None:
                continue
            try:
                secret = resolve_secret(agency.vdxp_secret)
            except SecretError as exc:
                raise ConfigError(f"agencies[{index}].vdxp_secret: {exc}") from None
            self._systems[agency.vdxp_systemid or agency.id] = _VdxpSystem(
                principals[agency.id], secret, float(agency.vdxp_window_s)
            )

    def verify(self, headers: Any, now: float) -> SignedRequest:
        def secret_for(systemid: str) -> str | None:
            found = self._systems.get(systemid)
            return None if found is None else found.secret

        return verify_headers(
            headers,
            secret_for=secret_for,
            window_s=lambda systemid: self._systems[systemid].window_s,
            now=now,
            tz=self._tz,
        )

    def principal(self, systemid: str) -> Principal:
        return self._systems[systemid].principal


def auth_middleware(authenticator: Authenticator) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        roles = _route_roles(request)
        if roles is None:
            raise GatewayError(f"route {request.path} declares no access rule")
        if "*" not in roles:
            if scheme_of(request.match_info.handler) == "vdxp":
                principal = authenticator.authenticate_vdxp(request)
            else:
                principal = authenticator.authenticate_request(request)
            if principal.role not in roles:
                raise Forbidden(
                    f"{request.method} {request.path} is for {' or '.join(sorted(roles))}; "
                    f"you are authenticated as {principal.role} {principal.name}"
                )
            request[PRINCIPAL] = principal
            structlog.contextvars.bind_contextvars(caller=principal.name)
        return await handler(request)

    return middleware


def _route_roles(request: web.Request) -> frozenset[str] | None:
    match = request.match_info
    if match.http_exception is not None:  # unknown route or method: let aiohttp answer 404/405
        return frozenset({"*"})
    return roles_of(match.handler)


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def caller_agency(request: web.Request) -> Agency:
    found = principal(request).agency
    assert found is not None
    return found
