"""A development PKI: a root CA, an issuing intermediate, one signing certificate per agency
(subject UID = organ id), TLS certificates, CRLs, and the configuration that trusts them.

For development, tests and the demo only: keys are written unencrypted (mode 0600). A real
deployment trusts the national CAs' certificates and CRLs instead.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.trust.certs import USER_ID
from gateway.trust.policy import DOCUMENT_SIGNING

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KeyKind = Literal["rsa", "ec"]
DAY = timedelta(days=1)
# backdated a little, so that a certificate made now is valid on a machine whose clock lags
BACKDATE = timedelta(minutes=5)


class PkiExists(Exception):
    """The folder already holds a PKI; it is never overwritten."""


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: PrivateKey

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def new_key(kind: KeyKind = "rsa") -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, *, uid: str | None = None, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if uid is not None:
        attrs.append(x509.NameAttribute(USER_ID, uid))
    return x509.Name(attrs)


def _window(not_before: datetime | None, days: float) -> tuple[datetime, datetime]:
    start = not_before or (datetime.now(UTC) - BACKDATE)
    return start, start + days * DAY


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: PrivateKey,
    window: tuple[datetime, datetime],
    serial: int | None,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(window[0])
        .not_valid_after(window[1])
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _usage(*, signing: bool = False, ca: bool = False, agreement: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing or agreement,
        content_commitment=signing and not agreement,
        key_encipherment=agreement,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _issued_by(builder: x509.CertificateBuilder, issuer: Issued) -> x509.CertificateBuilder:
    return builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
        critical=False,
    )


def root_ca(
    common_name: str = "edoc-gateway development root CA",
    *,
    days: float = 3650,
    not_before: datetime | None = None,
    kind: KeyKind = "rsa",
) -> Issued:
    key = new_key(kind)
    name = _name(common_name, org="edoc-gateway development PKI")
    cert = (
        _builder(name, name, key, _window(not_before, days), None)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def intermediate_ca(
    parent: Issued,
    common_name: str = "edoc-gateway development issuing CA",
    *,
    days: float = 1825,
    not_before: datetime | None = None,
    kind: KeyKind = "rsa",
) -> Issued:
    key = new_key(kind)
    builder = _builder(
        _name(common_name, org="edoc-gateway development PKI"),
        parent.certificate.subject,
        key,
        _window(not_before, days),
        None,
    )
    cert = (
        _issued_by(builder, parent)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .sign(parent.key, hashes.SHA256())
    )
    return Issued(cert, key)


def signing_certificate(
    issuer: Issued,
    organ_id: str | None,
    name: str,
    *,
    days: float = 825,
    not_before: datetime | None = None,
    kind: KeyKind = "rsa",
    purposes: Sequence[x509.ObjectIdentifier] | None = (DOCUMENT_SIGNING,),
    serial: int | None = None,
) -> Issued:
    """A document-signing certificate: UID = organ id, no SAN, KeyUsage for signatures."""
    key = new_key(kind)
    builder = _builder(
        _name(name, uid=organ_id),
        issuer.certificate.subject,
        key,
        _window(not_before, days),
        serial,
    )
    builder = _issued_by(builder, issuer).add_extension(_usage(signing=True), critical=True)
    if purposes:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(purposes)), critical=False)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def self_signed_certificate(organ_id: str, name: str, *, kind: KeyKind = "rsa") -> Issued:
    """A signing certificate that vouches for itself (what a forger can always make)."""
    key = new_key(kind)
    subject = _name(name, uid=organ_id)
    cert = (
        _builder(subject, subject, key, _window(None, 365), None)
        .add_extension(_usage(signing=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def client_certificate(
    issuer: Issued,
    organ_id: str,
    name: str,
    *,
    days: float = 825,
    not_before: datetime | None = None,
    kind: KeyKind = "ec",
) -> Issued:
    """A TLS client certificate for mutual TLS on the agency listener."""
    key = new_key(kind)
    builder = _builder(
        _name(f"{name} (TLS client)", uid=organ_id),
        issuer.certificate.subject,
        key,
        _window(not_before, days),
        None,
    )
    cert = (
        _issued_by(builder, issuer)
        .add_extension(_usage(signing=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
    return Issued(cert, key)


def server_certificate(
    issuer: Issued, hosts: Iterable[str] = ("localhost", "127.0.0.1"), *, days: float = 825
) -> Issued:
    key = new_key("ec")
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    builder = _builder(
        _name("edoc-gateway agency listener"),
        issuer.certificate.subject,
        key,
        _window(None, days),
        None,
    )
    cert = (
        _issued_by(builder, issuer)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(_usage(agreement=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
    return Issued(cert, key)


def revocation_list(
    issuer: Issued,
    revoked: Iterable[x509.Certificate | x509.RevokedCertificate] = (),
    *,
    days: float = 30,
    this_update: datetime | None = None,
) -> x509.CertificateRevocationList:
    """A CRL signed by `issuer` listing `revoked` (certificates, or entries of an older CRL)."""
    start = this_update or (datetime.now(UTC) - BACKDATE)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(start)
        .next_update(start + days * DAY)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    for item in revoked:
        entry = item if isinstance(item, x509.RevokedCertificate) else _entry(item, start)
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(issuer.key, hashes.SHA256())


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


# --- the development PKI on disk ---------------------------------------------------------------


@dataclass(frozen=True)
class AgencyFiles:
    id: str
    name: str
    cert: Path
    key: Path
    tls_cert: Path
    tls_key: Path


@dataclass(frozen=True)
class DevPki:
    folder: Path
    root: Path
    intermediate: Path
    crls: tuple[Path, ...]
    server_cert: Path
    server_key: Path
    agencies: tuple[AgencyFiles, ...]

    def agency(self, organ_id: str) -> AgencyFiles:
        return next(a for a in self.agencies if a.id == organ_id)

    def trust_section(self, base: Path | None = None) -> list[str]:
        """The [trust] section (TOML lines) that trusts this PKI."""

        def rel(path: Path) -> str:
            return str(path) if base is None else os.path.relpath(path, base)

        return [
            "[trust]",
            f'anchors = ["{rel(self.root)}"]',
            f'intermediates = ["{rel(self.intermediate)}"]',
            "crls = [" + ", ".join(f'"{rel(p)}"' for p in self.crls) + "]",
            'signature = "required"',
        ]

    def snippet(self, base: Path | None = None) -> str:
        """The configuration that trusts this PKI; paths relative to `base` where given."""

        def rel(path: Path) -> str:
            if base is None:
                return str(path)
            return os.path.relpath(path, base)

        lines = [
            *self.trust_section(base),
            "",
            "# Mutual TLS on the agency listener (optional): add to [server]",
            f'#   tls_cert = "{rel(self.server_cert)}"',
            f'#   tls_key = "{rel(self.server_key)}"',
            "",
            "# Per agency: pin its signing certificate (optional: without a pin the subject UID",
            "# must equal the agency id) and its TLS client certificate (for mutual TLS).",
        ]
        for agency in self.agencies:
            lines += [
                f"#   {agency.id} ({agency.name}):",
                f'#     signing_certs = ["{rel(agency.cert)}"]',
                f'#     client_certs = ["{rel(agency.tls_cert)}"]',
            ]
        return "\n".join(lines) + "\n"


def agency_files(folder: Path, organ_id: str, name: str) -> AgencyFiles:
    base = folder / "agencies"
    return AgencyFiles(
        organ_id,
        name,
        base / f"{organ_id}.pem",
        base / f"{organ_id}.key",
        base / f"{organ_id}.tls.pem",
        base / f"{organ_id}.tls.key",
    )


def layout(folder: Path, agencies: Sequence[tuple[str, str]]) -> DevPki:
    return DevPki(
        folder=folder,
        root=folder / "root.pem",
        intermediate=folder / "intermediate.pem",
        crls=(folder / "root.crl.pem", folder / "intermediate.crl.pem"),
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        agencies=tuple(agency_files(folder, organ_id, name) for organ_id, name in agencies),
    )


def init_pki(folder: Path, agencies: Sequence[tuple[str, str]], *, days: float = 825) -> DevPki:
    """Write a new development PKI into `folder`; PkiExists if it holds one already."""
    pki = layout(folder, agencies)
    if pki.root.exists():
        raise PkiExists(f"{folder} already holds a PKI ({pki.root}); it is never overwritten")
    (folder / "agencies").mkdir(parents=True, exist_ok=True)
    root = root_ca()
    issuing = intermediate_ca(root)
    _write_pair(pki.root, folder / "root.key", root)
    _write_pair(pki.intermediate, folder / "intermediate.key", issuing)
    pki.crls[0].write_bytes(crl_pem(revocation_list(root, days=days)))
    pki.crls[1].write_bytes(crl_pem(revocation_list(issuing, days=days)))
    _write_pair(pki.server_cert, pki.server_key, server_certificate(issuing, days=days))
    for agency in pki.agencies:
        signer = signing_certificate(issuing, agency.id, agency.name, days=days)
        _write_pair(agency.cert, agency.key, signer)
        tls = client_certificate(issuing, agency.id, agency.name, days=days)
        _write_pair(agency.tls_cert, agency.tls_key, tls)
    (folder / "trust.toml").write_text(pki.snippet())
    return pki


def load_issuer(cert_path: Path, key_path: Path) -> Issued:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key_path}: an RSA or EC private key was expected")
    return Issued(cert, key)


def revoke(folder: Path, cert: x509.Certificate, *, days: float = 30) -> Path:
    """Add `cert` to the CRL of the development CA that issued it; returns the CRL written."""
    for name in ("intermediate", "root"):
        issuer = load_issuer(folder / f"{name}.pem", folder / f"{name}.key")
        if issuer.certificate.subject == cert.issuer:
            path = folder / f"{name}.crl.pem"
            earlier = x509.load_pem_x509_crl(path.read_bytes()) if path.exists() else None
            entries = list(earlier) if earlier is not None else []
            if all(e.serial_number != cert.serial_number for e in entries):
                entries.append(_entry(cert, datetime.now(UTC) - BACKDATE))
            path.write_bytes(crl_pem(revocation_list(issuer, entries, days=days)))
            return path
    raise ValueError(f"{cert.issuer.rfc4514_string()} is not a CA of the PKI in {folder}")


def _entry(cert: x509.Certificate, when: datetime) -> x509.RevokedCertificate:
    return (
        x509.RevokedCertificateBuilder()
        .serial_number(cert.serial_number)
        .revocation_date(when)
        .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
        .build()
    )


def _write_pair(cert_path: Path, key_path: Path, issued: Issued) -> None:
    cert_path.write_bytes(issued.cert_pem())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(issued.key_pem())
