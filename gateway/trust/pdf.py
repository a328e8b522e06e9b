"""The signatures inside PDF attachments (PAdES / CMS), read with pyHanko.

Per agency, `pdf_signatures`: "ignore" (not read), "report" (the default: each PDF's
signatures, signer, signing time and validity go into the message's signature record and
trace; nothing is refused), "required" (every PDF attachment must carry a signature that is
intact, valid, trusted by the configured anchors and covers the whole file).
pyHanko takes most of a second to import: it is imported when the first PDF is read.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.config import PdfSignaturePolicy
from gateway.edxml import Attachment, Document
from gateway.errors import (
    CertificateRevoked,
    GatewayError,
    SignatureInvalid,
    SignatureMissing,
    UntrustedCertificate,
)
from gateway.trust.certs import moment, serial_hex, subject
from gateway.trust.store import TrustStore

PDF_MAGIC_B64 = "JVBERi0"  # base64 of "%PDF-": a PDF is recognised without decoding it


def is_pdf(attachment: Attachment) -> bool:
    return (
        attachment.content_type == "application/pdf"
        or attachment.attachment_name.lower().endswith(".pdf")
        or attachment.content_b64.startswith(PDF_MAGIC_B64)
    )


def check_pdf_attachments(
    document: Document, policy: PdfSignaturePolicy, store: TrustStore, at: datetime
) -> list[dict[str, Any]]:
    """One report per PDF attachment; under "required", the first shortfall is raised."""
    reports = []
    for attachment in document.attachments:
        if not is_pdf(attachment):
            continue
        report = _report(attachment, store, at)
        if policy == "required":
            _require(report)
        reports.append(report)
    return reports


def _report(attachment: Attachment, store: TrustStore, at: datetime) -> dict[str, Any]:
    # pyHanko logs each failed path with a traceback; the report says it in one line
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    report: dict[str, Any] = {
        "attachment": attachment.attachment_name,
        "content_id": attachment.content_id,
    }
    try:
        reader = PdfFileReader(io.BytesIO(attachment.content()), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        return {**report, "status": "unreadable", "problem": str(exc)[:200]}
    if not embedded:
        return {**report, "status": "unsigned", "signatures": []}
    signatures = [_signature(sig, store, at) for sig in embedded]
    ok = all(s["status"] == "valid" for s in signatures)
    return {**report, "status": "valid" if ok else "invalid", "signatures": signatures}


def _signature(embedded: Any, store: TrustStore, at: datetime) -> dict[str, Any]:
    from pyhanko.sign.validation import validate_pdf_signature

    try:
        status = validate_pdf_signature(embedded, _context(store, at))
    except Exception as exc:  # pyHanko's errors on hostile input are many; all are refusals
        return {"field": embedded.field_name, "status": "invalid", "problem": str(exc)[:200]}
    cert = x509.load_der_x509_certificate(status.signing_cert.dump())
    signed_at = status.signer_reported_dt
    if status.timestamp_validity is not None:
        signed_at = status.timestamp_validity.timestamp
    revoked = status.revocation_details
    if not (status.intact and status.valid):
        verdict = "invalid"
    elif revoked is not None:
        verdict = "revoked"
    elif not status.trusted:
        verdict = "untrusted"
    else:
        verdict = "valid" if status.bottom_line else "modified"
    return {
        "field": embedded.field_name,
        "signer": subject(cert),
        "serial": serial_hex(cert),
        "signing_time": None if signed_at is None else moment(signed_at),
        "intact": bool(status.intact),
        "valid": bool(status.valid),
        "trusted": bool(status.trusted),
        "coverage": None if status.coverage is None else status.coverage.name,
        "revoked_at": None if revoked is None else moment(revoked.revocation_date),
        "status": verdict,
    }


def _require(report: dict[str, Any]) -> None:
    name = report["attachment"]
    if report["status"] == "unreadable":
        raise SignatureInvalid(f"attachment {name!r} is declared a PDF but cannot be read")
    if report["status"] == "unsigned":
        raise SignatureMissing(
            f"attachment {name!r} is a PDF without a signature; this agency's PDF attachments "
            "must be signed (pdf_signatures = 'required')"
        )
    for sig in report["signatures"]:
        error = _refusal(name, sig)
        if error is not None:
            raise error


def _refusal(name: str, sig: dict[str, Any]) -> GatewayError | None:
    who = sig.get("signer", "an unreadable signer")
    if sig["status"] == "revoked":
        return CertificateRevoked(
            f"attachment {name!r}: the PDF signer {who} was revoked on {sig['revoked_at']}"
        )
    if sig["status"] == "untrusted":
        return UntrustedCertificate(
            f"attachment {name!r}: the PDF signer {who} does not chain to a configured trust anchor"
        )
    if sig["status"] == "invalid":
        return SignatureInvalid(
            f"attachment {name!r}: the PDF signature {sig['field']!r} of {who} does not "
            "verify (the file was changed after signing, or the signature is damaged)"
        )
    if sig["status"] == "modified":
        return SignatureInvalid(
            f"attachment {name!r}: the PDF signature {sig['field']!r} of {who} does not "
            f"cover the whole file (coverage {sig['coverage']})"
        )
    return None


@functools.lru_cache(maxsize=4)
def _material(store: TrustStore) -> tuple[list[Any], list[Any], list[bytes]]:
    # asn1crypto forms of the store's certificates and CRLs, converted once per store
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]

    def convert(certs: Sequence[x509.Certificate]) -> list[Any]:
        return [
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs
        ]

    crls = [item.crl.public_bytes(serialization.Encoding.DER) for item in store.crls]
    return convert(store.anchors), convert(store.intermediates), crls


def _context(store: TrustStore, at: datetime) -> Any:
    from pyhanko_certvalidator import ValidationContext

    anchors, intermediates, crls = _material(store)
    return ValidationContext(
        trust_roots=anchors,
        other_certs=intermediates,
        crls=crls,
        moment=at,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


# --- making signed PDFs (the demo, tests) ------------------------------------------------------


def sign_pdf(
    pdf: bytes,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    *,
    field_name: str = "Signature1",
) -> bytes:
    """`pdf` with an embedded PAdES signature by `key`."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    def der(c: x509.Certificate) -> Any:
        return asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))

    private = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = signers.SimpleSigner(
        signing_cert=der(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(private),
        cert_registry=SimpleCertificateStore.from_certs([der(c) for c in chain]),  # type: ignore[no-untyped-call]
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = signers.sign_pdf(
        writer, signers.PdfSignatureMetadata(field_name=field_name), signer=signer
    )
    result: bytes = out.getvalue()
    return result


def simple_pdf(text: str) -> bytes:
    """A one-page PDF showing one line of ASCII `text` (demo and test attachments)."""
    safe = text.encode("ascii", "replace").replace(b"\\", b"\\\\")
    safe = safe.replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 12 Tf 72 720 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
