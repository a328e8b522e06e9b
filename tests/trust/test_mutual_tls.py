"""Mutual TLS on the agency listener, with a real TLS client: a pinned client certificate
authenticates as its agency; a bearer token keeps working; anything else is 401."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.app import Gateway
from gateway.trust import pki
from gateway.trust.tls import server_context
from tests.conftest import GatewayFactory
from tests.factories import document_bytes
from tests.harness import CITY, FINANCE, HOME_AFFAIRS, bearer, free_port
from tests.trust.keys import KeyRing


@dataclasses.dataclass
class Tls:
    url: str
    folder: Path
    ring: KeyRing

    def client(self, cert: pki.Issued | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ring.root_pem))
        if cert is not None:
            (self.folder / "client.pem").write_bytes(cert.cert_pem())
            (self.folder / "client.key").write_bytes(cert.key_pem())
            context.load_cert_chain(self.folder / "client.pem", self.folder / "client.key")
        return context


@pytest.fixture
async def tls(
    gateway_factory: GatewayFactory, ring: KeyRing, tmp_path: Path
) -> AsyncIterator[tuple[Tls, pki.Issued, pki.Issued]]:
    server = pki.server_certificate(ring.intermediate, ("127.0.0.1",))
    finance = pki.client_certificate(ring.intermediate, FINANCE.id, "Sở Tài chính")
    unpinned = pki.client_certificate(ring.intermediate, CITY.id, "UBND")
    (tmp_path / "server.pem").write_bytes(server.cert_pem() + ring.intermediate.cert_pem())
    (tmp_path / "server.key").write_bytes(server.key_pem())
    settings = ring.settings(
        tmp_path / "d",
        changes={FINANCE.id: {"client_certs": (ring.write("finance-tls", finance),)}},
    )
    settings = dataclasses.replace(
        settings,
        server=dataclasses.replace(
            settings.server, tls_cert=tmp_path / "server.pem", tls_key=tmp_path / "server.key"
        ),
    )
    gateway: Gateway = await gateway_factory(settings)
    runner = web.AppRunner(gateway.agency_app)
    await runner.setup()
    port = free_port()
    context = server_context(settings, gateway.trust.store)
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    yield Tls(f"https://127.0.0.1:{port}", tmp_path, ring), finance, unpinned
    await runner.cleanup()


async def get(
    url: str, context: ssl.SSLContext, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, ssl=context, headers=headers or {}) as response,
    ):
        return response.status, await response.json(content_type=None)


async def test_a_pinned_client_certificate_authenticates_as_its_agency(
    tls: tuple[Tls, pki.Issued, pki.Issued],
) -> None:
    server, finance, _ = tls
    async with aiohttp.ClientSession() as session:
        raw = server.ring.sign(
            document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)), FINANCE.id
        )
        async with session.post(
            server.url + "/v1/documents",
            data=raw,
            headers={"Content-Type": "application/xml"},
            ssl=server.client(finance),
        ) as response:
            assert response.status == 202, await response.text()
        # it is Finance: sending in the city's name is refused as such
        forged = server.ring.sign(document_bytes(sender=CITY.id), CITY.id)
        async with session.post(
            server.url + "/v1/documents",
            data=forged,
            headers={"Content-Type": "application/xml"},
            ssl=server.client(finance),
        ) as response:
            body = await response.json(content_type=None)
            assert (response.status, body["code"]) == (403, "sender_mismatch")
            assert f"authenticated as '{FINANCE.id}'" in body["detail"]


async def test_a_bearer_token_keeps_working_over_tls(
    tls: tuple[Tls, pki.Issued, pki.Issued],
) -> None:
    server, _, _ = tls
    status, body = await get(server.url + "/v1/inbox", server.client(), bearer(CITY.token))
    assert (status, body["items"]) == (200, [])


async def test_without_token_an_unpinned_or_absent_certificate_is_401(
    tls: tuple[Tls, pki.Issued, pki.Issued],
) -> None:
    server, _, unpinned = tls
    status, body = await get(server.url + "/v1/inbox", server.client(unpinned))
    assert (status, body["code"]) == (401, "unauthorized")
    assert "is not pinned for any agency" in body["detail"]
    status, body = await get(server.url + "/v1/inbox", server.client())
    assert (status, body["code"]) == (401, "unauthorized")


async def test_a_certificate_from_an_unknown_ca_fails_the_handshake(
    tls: tuple[Tls, pki.Issued, pki.Issued],
) -> None:
    server, _, _ = tls
    stranger = pki.client_certificate(server.ring.foreign_root, FINANCE.id, "Sở Tài chính")
    with pytest.raises(aiohttp.ClientError):
        await get(server.url + "/v1/inbox", server.client(stranger))
