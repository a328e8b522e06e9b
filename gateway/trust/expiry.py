"""When the trust material runs out: every anchor, intermediate and pinned certificate's
`not_after`, and every CRL's `next_update` (after it, signatures under that issuer are refused
until a fresh CRL is installed). Shown in `GET /v1/ops/trust` and as a gauge, refreshed when
the material is loaded or reloaded, so that an alert fires 14 days ahead."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.serialization import Encoding
from prometheus_client import Gauge

from gateway.metrics import PREFIX
from gateway.trust import certs
from gateway.trust.certs import moment, subject
from gateway.trust.store import TrustStore

NOT_AFTER = Gauge(
    PREFIX + "trust_not_after_seconds",
    "Unix time a certificate of the trust material expires, or a CRL's next update is due",
    ["kind", "subject", "agency", "sha256"],
)


@dataclass(frozen=True)
class Expiry:
    kind: str  # anchor | intermediate | signing_pin | client_pin | crl
    subject: str  # a CRL: its issuer
    agency: str | None  # a pinned certificate's agency
    sha256: str  # of the certificate or the CRL, DER
    not_after: datetime | None  # a CRL without nextUpdate: None

    def row(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "agency": self.agency,
            "sha256": self.sha256,
            "not_after": None if self.not_after is None else moment(self.not_after),
        }


def expiries(store: TrustStore) -> list[Expiry]:
    """Soonest first; a CRL that never says when it is due comes last."""
    found = [
        Expiry(kind, subject(c), None, certs.fingerprint(c), c.not_valid_after_utc)
        for kind, group in (("anchor", store.anchors), ("intermediate", store.intermediates))
        for c in group
    ]
    found += [
        Expiry(f"{use}_pin", subject(c), agency, certs.fingerprint(c), c.not_valid_after_utc)
        for agency, use, c in store.pinned
    ]
    found += [
        Expiry(
            "crl",
            subject(item.issuer),
            None,
            hashlib.sha256(item.crl.public_bytes(Encoding.DER)).hexdigest(),
            item.crl.next_update_utc,
        )
        for item in store.crls
    ]
    return sorted(found, key=lambda e: (e.not_after is None, e.not_after or datetime.max))


def publish(store: TrustStore) -> None:
    """Replace the gauge's series: a certificate removed by a reload no longer shows."""
    NOT_AFTER.clear()
    for item in expiries(store):
        if item.not_after is not None:
            labels = (item.kind, item.subject, item.agency or "", item.sha256)
            NOT_AFTER.labels(*labels).set(item.not_after.timestamp())
