"""Mutual TLS on the agency listener: an alternative to bearer tokens.

With `server.tls_cert` and `server.tls_key`, the agency listener speaks HTTPS and asks for a
client certificate (optional at the handshake, which checks it against the trust anchors).
A request without an Authorization header is then authenticated by its client certificate: it
must be pinned for an agency (`agencies.client_certs`) and pass the trust store's checks at
that moment (chain with a TLS-client end-entity policy, validity, CRLs). A request with an
Authorization header is authenticated by its bearer token only, as without TLS.
"""

from __future__ import annotations

import functools
import ssl
from datetime import UTC, datetime

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from gateway.clock import Clock
from gateway.config import ConfigError, Settings
from gateway.errors import (
    CertificateExpired,
    CertificateRevoked,
    Unauthorized,
    UntrustedCertificate,
)
from gateway.trust.certs import subject
from gateway.trust.material import TrustMaterial
from gateway.trust.store import TrustStore


def server_context(settings: Settings, store: TrustStore) -> ssl.SSLContext | None:
    """The agency listener's TLS context, or None when it serves plain HTTP."""
    server = settings.server
    if server.tls_cert is None or server.tls_key is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(server.tls_cert, server.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"server.tls_cert / server.tls_key: cannot be used ({exc})") from None
    authorities = [*store.anchors, *store.intermediates]
    if authorities:
        # The handshake trusts the anchors of start-up; every request is checked again
        # against the current store, so a reload's revocations apply at once.
        pem = b"".join(c.public_bytes(Encoding.PEM) for c in authorities)
        context.load_verify_locations(cadata=pem.decode("ascii"))
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


class ClientCertificates:
    """The agency that a request's TLS client certificate authenticates."""

    def __init__(self, trust: TrustMaterial, clock: Clock) -> None:
        self._trust = trust
        self._clock = clock

    def __call__(self, request: web.Request) -> str | None:
        """None without a client certificate; Unauthorized for one that is not accepted."""
        transport = request.transport
        ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
        if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
            return None
        der = ssl_object.getpeercert(binary_form=True)
        if not der:
            return None
        cert = _certificate(der)
        at = datetime.fromtimestamp(self._clock(), UTC)
        try:
            agency = self._trust.store.client_agency(cert, at)
        except (UntrustedCertificate, CertificateExpired, CertificateRevoked) as exc:
            raise Unauthorized(f"the client certificate is not accepted: {exc.detail}") from None
        if agency is None:
            raise Unauthorized(
                f"the client certificate {subject(cert)} is not pinned for any agency "
                "(agencies.client_certs); send 'Authorization: Bearer <token>' instead"
            )
        return agency


@functools.lru_cache(maxsize=256)
def _certificate(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)
