"""Who is calling, and may they call this route.

Bearer tokens are never stored: the configuration holds their SHA-256, and a presented token is
hashed and looked up. Every route declares the roles it admits with `@requires(...)` (or
`@public`); a route that declares nothing is refused, so a forgotten check fails closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import structlog
from aiohttp import web

from gateway.config import Settings
from gateway.directory import Agency, Directory
from gateway.errors import Forbidden, GatewayError, Unauthorized

Role = Literal["agency", "operator", "auditor"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
F = TypeVar("F", bound=Callable[..., Awaitable[web.StreamResponse]])
ROLES_ATTR = "__edocgw_roles__"


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    agency: Agency | None = None


PRINCIPAL = web.RequestKey("principal", Principal)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def requires(*roles: Role) -> Callable[[F], F]:
    def mark(handler: F) -> F:
        setattr(handler, ROLES_ATTR, frozenset(roles))
        return handler

    return mark


def public(handler: F) -> F:
    setattr(handler, ROLES_ATTR, frozenset({"*"}))
    return handler


def roles_of(handler: object) -> frozenset[str] | None:
    roles: frozenset[str] | None = getattr(handler, ROLES_ATTR, None)
    return roles


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        directory: Directory,
        certificates: Callable[[web.Request], str | None] | None = None,
    ) -> None:
        self._by_hash: dict[str, Principal] = {}
        self._by_agency: dict[str, Principal] = {}
        for agency in settings.agencies:
            self._by_hash[agency.token_sha256] = Principal(
                agency.id, "agency", directory.get(agency.id)
            )
            self._by_agency[agency.id] = self._by_hash[agency.token_sha256]
        for user in settings.users:
            self._by_hash[user.token_sha256] = Principal(user.name, user.role)
        # mutual TLS (gateway.trust.tls): the agency a client certificate authenticates
        self._certificates = certificates

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


def auth_middleware(authenticator: Authenticator) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        roles = _route_roles(request)
        if roles is None:
            raise GatewayError(f"route {request.path} declares no access rule")
        if "*" not in roles:
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
