"""A test PKI (the key ring), built once per session: the genuine certificates and every
bad one that a threat needs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509

from gateway.config import Settings, TrustSettings
from gateway.trust import pki
from gateway.trust.pki import Issued, crl_pem, revocation_list
from gateway.trust.sign import sign_message
from tests.harness import AGENCIES, Org, make_settings

# Every certificate of the ring starts at one instant fixed when this module is imported, so a
# test that checks at `EPOCH` (tests/trust/test_store.py) does not depend on how long the session
# took to reach it (the ring is built lazily, minutes later on a loaded machine).
EPOCH = datetime.now(UTC)
START = EPOCH - pki.BACKDATE

# The senders of the national samples that carry placeholder signatures
SAMPLE_SENDERS = (
    Org("000.00.11.H53", "Sở (mẫu BKAV)", "sample"),
    Org("000.00.15.H51", "Sở (mẫu 2019)", "sample"),
)


@dataclass(frozen=True)
class KeyRing:
    folder: Path
    root: Issued
    intermediate: Issued
    signers: dict[str, Issued]  # one per test agency, UID = organ id
    ec_signer: Issued  # an ECDSA P-256 signer for the city
    foreign_root: Issued  # a CA nobody configured
    foreign: Issued  # a certificate for Finance issued by it
    self_signed: Issued
    expired: Issued
    not_yet_valid: Issued
    revoked: Issued

    @property
    def root_pem(self) -> Path:
        return self.folder / "root.pem"

    @property
    def intermediate_pem(self) -> Path:
        return self.folder / "intermediate.pem"

    @property
    def crls(self) -> tuple[Path, Path]:
        return self.folder / "root.crl.pem", self.folder / "intermediate.crl.pem"

    def trust(self, signature: str = "required") -> TrustSettings:
        return TrustSettings(
            anchors=(self.root_pem,),
            intermediates=(self.intermediate_pem,),
            crls=self.crls,
            signature=signature,  # type: ignore[arg-type]
        )

    def settings(
        self,
        data_dir: Path,
        *,
        signature: str = "required",
        agencies: tuple[Org, ...] = AGENCIES,
        changes: dict[str, dict[str, Any]] | None = None,
        **sections: Any,
    ) -> Settings:
        """The harness' settings trusting this PKI; `changes` per agency id (pins, policies)."""
        settings = make_settings(
            data_dir,
            agencies=agencies,
            trust=sections.pop("trust", self.trust(signature)),
            **sections,
        )
        changes = changes or {}
        return dataclasses.replace(
            settings,
            agencies=tuple(
                dataclasses.replace(a, **changes.get(a.id, {})) for a in settings.agencies
            ),
        )

    def sign(
        self,
        raw: bytes,
        signer: str | Issued,
        chain: tuple[x509.Certificate, ...] | None = None,
    ) -> bytes:
        issued = self.signers[signer] if isinstance(signer, str) else signer
        if chain is None:
            chain = (self.intermediate.certificate,)
        return sign_message(raw, issued.key, issued.certificate, chain)

    def write(self, name: str, issued: Issued) -> Path:
        path = self.folder / f"{name}.pem"
        path.write_bytes(issued.cert_pem())
        return path


def build_key_ring(folder: Path) -> KeyRing:
    folder.mkdir(parents=True, exist_ok=True)
    now = EPOCH
    root = pki.root_ca("Test root CA", not_before=START)
    issuing = pki.intermediate_ca(root, "Test issuing CA", not_before=START)
    finance = "000.00.13.H26"
    signers = {
        a.id: pki.signing_certificate(issuing, a.id, a.name, not_before=START)
        for a in (*AGENCIES, *SAMPLE_SENDERS)
    }
    foreign_root = pki.root_ca("Forger's root CA", not_before=START)
    revoked = pki.signing_certificate(issuing, finance, "Sở Tài chính (revoked)", not_before=START)
    made = KeyRing(
        folder=folder,
        root=root,
        intermediate=issuing,
        signers=signers,
        ec_signer=pki.signing_certificate(
            issuing, "000.00.00.H26", "UBND (EC)", kind="ec", not_before=START
        ),
        foreign_root=foreign_root,
        foreign=pki.signing_certificate(
            foreign_root, finance, "Sở Tài chính (forged)", not_before=START
        ),
        self_signed=pki.self_signed_certificate(finance, "Sở Tài chính (self-signed)"),
        expired=pki.signing_certificate(
            issuing,
            finance,
            "Sở Tài chính (expired)",
            not_before=now - timedelta(days=400),
            days=30,
        ),
        not_yet_valid=pki.signing_certificate(
            issuing,
            finance,
            "Sở Tài chính (future)",
            not_before=now + timedelta(days=10),
            days=365,
        ),
        revoked=revoked,
    )
    made.root_pem.write_bytes(root.cert_pem())
    made.intermediate_pem.write_bytes(issuing.cert_pem())
    made.crls[0].write_bytes(crl_pem(revocation_list(root, this_update=START)))
    made.crls[1].write_bytes(
        crl_pem(revocation_list(issuing, [revoked.certificate], this_update=START))
    )
    return made
