"""Signing on behalf of the agencies of a development PKI: what the demo and the bench use
to send signed traffic (a department system signs with its own key, never the gateway)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from gateway.trust.pdf import sign_pdf
from gateway.trust.pki import DevPki, init_pki, layout
from gateway.trust.sign import PrivateKey, load_signer, sign_message


def ensure_dev_pki(folder: Path, agencies: Sequence[tuple[str, str]]) -> DevPki:
    """The development PKI in `folder`, created on first use and kept afterwards."""
    pki = layout(folder, agencies)
    if pki.root.exists() and all(a.cert.exists() for a in pki.agencies):
        return pki
    return init_pki(folder, agencies)


class Signers:
    """Each agency's key and certificate (with the issuing CA), read once."""

    def __init__(self, pki: DevPki) -> None:
        self._by_id: dict[str, tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]] = {
            a.id: load_signer(a.key, a.cert, [pki.intermediate]) for a in pki.agencies
        }

    def sign(self, organ_id: str, raw: bytes) -> bytes:
        """`raw` (edXML) with `organ_id`'s XML-DSig."""
        key, cert, chain = self._by_id[organ_id]
        return sign_message(raw, key, cert, chain)

    def sign_pdf(self, organ_id: str, pdf: bytes) -> bytes:
        key, cert, chain = self._by_id[organ_id]
        return sign_pdf(pdf, key, cert, chain)
