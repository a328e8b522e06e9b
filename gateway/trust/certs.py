"""Certificates and CRLs as the trust layer reads, names and compares them."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

# The subject attribute that carries an agency's organ id (DESIGN §4.2).
USER_ID = NameOID.USER_ID
PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
PEM_CRL = b"-----BEGIN X509 CRL-----"


class TrustMaterialError(Exception):
    """A certificate or CRL file cannot be used; the message names the file and why."""


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file (one or more) or a DER file."""
    data = _read(path)
    try:
        if PEM_CERTIFICATE in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise TrustMaterialError(
            f"{path}: not an X.509 certificate in PEM or DER ({exc})"
        ) from None


def load_crl(path: Path) -> x509.CertificateRevocationList:
    data = _read(path)
    try:
        if PEM_CRL in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise TrustMaterialError(f"{path}: not an X.509 CRL in PEM or DER ({exc})") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TrustMaterialError(f"{path}: cannot be read ({exc.strerror})") from None


def subject(cert: x509.Certificate) -> str:
    return _name(cert.subject)


def issuer(cert: x509.Certificate) -> str:
    return _name(cert.issuer)


def _name(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except ValueError:
        return "<unreadable name>"


def user_ids(cert: x509.Certificate) -> list[str]:
    """The subject's UID attributes (0.9.2342.19200300.100.1.1)."""
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(USER_ID)]


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, hex."""
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def key_id(cert: x509.Certificate) -> str:
    """SHA-256 of the subject public key info: identifies an issuer's key across renewals."""
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def serial_hex(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "x")


def moment(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(cert: x509.Certificate) -> str:
    """`subject (serial …, issued by …, valid … to …)`: what a refusal names."""
    return (
        f"{subject(cert)} (serial {serial_hex(cert)}, issued by {issuer(cert)}, "
        f"valid {moment(cert.not_valid_before_utc)} to {moment(cert.not_valid_after_utc)})"
    )


def is_self_issued(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer
