"""The trust store and the verification policy, unit by unit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from signxml.algorithms import DigestAlgorithm, SignatureMethod

from gateway.config import ConfigError, TrustSettings
from gateway.errors import (
    CertificateExpired,
    CertificateRevoked,
    SignerMismatch,
    UntrustedCertificate,
)
from gateway.trust import certs, pki
from gateway.trust.certs import TrustMaterialError
from gateway.trust.material import open_trust_store
from gateway.trust.pki import Issued, crl_pem, revocation_list
from gateway.trust.policy import DEFAULT_POLICY, VerificationPolicy
from gateway.trust.store import RevocationList, TrustStore
from tests.harness import CITY, FINANCE
from tests.trust.keys import EPOCH, START, KeyRing

NOW = EPOCH  # the ring's certificates and CRLs start just before it


def store_of(
    ring: KeyRing,
    *,
    crls: Sequence[x509.CertificateRevocationList] = (),
    policy: VerificationPolicy = DEFAULT_POLICY,
    signing: dict[str, list[x509.Certificate]] | None = None,
    client: dict[str, list[x509.Certificate]] | None = None,
) -> TrustStore:
    issuers = {i.certificate.subject: i.certificate for i in (ring.root, ring.intermediate)}
    lists = [RevocationList(crl, issuers[crl.issuer], Path("test.crl")) for crl in crls]
    return TrustStore(
        anchors=[ring.root.certificate],
        intermediates=[ring.intermediate.certificate],
        crls=lists,
        signing_pins=signing,
        client_pins=client,
        policy=policy,
    )


def leaf(issuer: Issued, *extensions: tuple[x509.ExtensionType, bool]) -> x509.Certificate:
    """A certificate for Finance's key with exactly `extensions`."""
    key = pki.new_key("ec")
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(certs.USER_ID, FINANCE.id)]))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer.key, hashes.SHA256())


SIGNING_USAGE = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
ENCIPHER_ONLY_USAGE = x509.KeyUsage(False, False, True, False, False, False, False, False, False)


# --- the end-entity policy ------------------------------------------------------------------------


def test_cryptographys_default_client_policy_would_refuse_document_signers(ring: KeyRing) -> None:
    verifier = PolicyBuilder().store(Store([ring.root.certificate])).build_client_verifier()
    signer = ring.signers[FINANCE.id].certificate  # EKU documentSigning, no SAN
    with pytest.raises(VerificationError, match="required EKU not found"):
        verifier.verify(signer, [ring.intermediate.certificate])
    without_eku = leaf(ring.intermediate, (SIGNING_USAGE, True))
    with pytest.raises(VerificationError, match=r"2\.5\.29\.17"):  # the SAN extension
        verifier.verify(without_eku, [ring.intermediate.certificate])


def test_a_document_signer_needs_neither_san_nor_an_eku(ring: KeyRing) -> None:
    store = store_of(ring)
    for cert in (
        ring.signers[FINANCE.id].certificate,
        leaf(ring.intermediate, (SIGNING_USAGE, True)),
    ):
        chain = store.check_signer(cert, [], NOW)
        assert chain.certificates == (cert, ring.intermediate.certificate, ring.root.certificate)


def test_an_eku_without_a_signing_purpose_is_untrusted(ring: KeyRing) -> None:
    server_only = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    cert = leaf(ring.intermediate, (SIGNING_USAGE, True), (server_only, False))
    with pytest.raises(UntrustedCertificate, match=r"names no signing purpose"):
        store_of(ring).check_signer(cert, [], NOW)


def test_a_key_usage_without_signatures_is_untrusted(ring: KeyRing) -> None:
    cert = leaf(ring.intermediate, (ENCIPHER_ONLY_USAGE, True))
    with pytest.raises(UntrustedCertificate, match="neither digitalSignature nor nonRepudiation"):
        store_of(ring).check_signer(cert, [], NOW)


def test_a_signer_without_key_usage_is_untrusted(ring: KeyRing) -> None:
    with pytest.raises(UntrustedCertificate, match=r"2\.5\.29\.15"):
        store_of(ring).check_signer(leaf(ring.intermediate), [], NOW)


def test_a_ca_certificate_cannot_sign_messages(ring: KeyRing) -> None:
    ca = x509.BasicConstraints(ca=True, path_length=None)
    cert = leaf(ring.intermediate, (SIGNING_USAGE, True), (ca, True))
    with pytest.raises(UntrustedCertificate, match="does not chain"):
        store_of(ring).check_signer(cert, [], NOW)


def test_the_policy_refuses_sha1_and_pins_the_signature_to_edxmlheader() -> None:
    policy = VerificationPolicy()
    assert SignatureMethod.RSA_SHA1 not in policy.signature_methods
    assert SignatureMethod.ECDSA_SHA1 not in policy.signature_methods
    assert DigestAlgorithm.SHA1 not in policy.digest_algorithms
    assert {SignatureMethod.RSA_SHA256, SignatureMethod.ECDSA_SHA256} <= policy.signature_methods
    config = policy.signxml_config()
    assert config.location.endswith(
        "}edXMLEnvelope/{http://www.mic.gov.vn/TBT/QCVN_102_2016}edXMLHeader/"
    )
    assert config.expect_references == 1
    with pytest.raises(AttributeError):
        policy.require_crl = True  # type: ignore[misc]


# --- time -----------------------------------------------------------------------------------------


def test_validity_is_checked_at_the_time_of_each_check_not_when_the_store_was_built(
    ring: KeyRing,
) -> None:
    store = store_of(ring)
    cert = ring.signers[FINANCE.id].certificate
    store.check_signer(cert, [], NOW)  # verified and cached
    later = cert.not_valid_after_utc + timedelta(seconds=1)
    with pytest.raises(
        CertificateExpired, match=f"expired {certs.moment(cert.not_valid_after_utc)}"
    ):
        store.check_signer(cert, [], later)
    earlier = cert.not_valid_before_utc - timedelta(seconds=1)
    with pytest.raises(CertificateExpired, match="is not yet valid"):
        store.check_signer(cert, [], earlier)


def test_an_expired_intermediate_is_named(ring: KeyRing) -> None:
    old = pki.intermediate_ca(
        ring.root, "Old issuing CA", not_before=NOW - timedelta(days=90), days=30
    )
    cert = pki.signing_certificate(
        old, FINANCE.id, "Sở Tài chính", not_before=NOW - timedelta(days=80), days=400
    )
    with pytest.raises(CertificateExpired, match="Old issuing CA"):
        store_of(ring).check_signer(cert.certificate, [old.certificate], NOW)


# --- revocation -----------------------------------------------------------------------------------


def test_a_listed_serial_is_revoked_and_the_detail_names_it(ring: KeyRing) -> None:
    cert = ring.signers[CITY.id].certificate
    store = store_of(ring, crls=[revocation_list(ring.intermediate, [cert], this_update=START)])
    with pytest.raises(CertificateRevoked) as refused:
        store.check_signer(cert, [], NOW)
    assert certs.serial_hex(cert) in refused.value.detail
    assert "CN=Test issuing CA" in refused.value.detail


def test_a_revoked_intermediate_revokes_its_signers(ring: KeyRing) -> None:
    store = store_of(
        ring, crls=[revocation_list(ring.root, [ring.intermediate.certificate], this_update=START)]
    )
    with pytest.raises(CertificateRevoked, match="CN=Test issuing CA"):
        store.check_signer(ring.signers[CITY.id].certificate, [], NOW)


def test_an_out_of_date_crl_fails_closed(ring: KeyRing) -> None:
    stale = revocation_list(ring.intermediate, this_update=NOW - timedelta(days=60), days=30)
    with pytest.raises(UntrustedCertificate, match="out of date"):
        store_of(ring, crls=[stale]).check_signer(ring.signers[CITY.id].certificate, [], NOW)


def test_require_crl_refuses_an_issuer_without_one(ring: KeyRing) -> None:
    store = store_of(ring, policy=VerificationPolicy(require_crl=True))
    with pytest.raises(UntrustedCertificate, match="no CRL of its issuer"):
        store.check_signer(ring.signers[CITY.id].certificate, [], NOW)


def test_a_crl_that_no_configured_ca_signed_stops_the_load(ring: KeyRing, tmp_path: Path) -> None:
    forged = tmp_path / "forged.crl.pem"
    # issued in the name of the test issuing CA, signed with another key
    impostor = Issued(ring.intermediate.certificate, pki.new_key())
    forged.write_bytes(crl_pem(revocation_list(impostor)))
    trust = TrustSettings(
        anchors=(ring.root_pem,), intermediates=(ring.intermediate_pem,), crls=(forged,)
    )
    settings = ring.settings(tmp_path / "d", trust=trust)
    with pytest.raises(ConfigError, match=r"trust\.crls\[0\].*no configured anchor"):
        open_trust_store(settings)


def test_a_file_that_is_no_certificate_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "root.pem"
    junk.write_text("not a certificate")
    with pytest.raises(TrustMaterialError, match=r"root\.pem: not an X\.509 certificate"):
        certs.load_certificates(junk)


# --- binding --------------------------------------------------------------------------------------


def test_the_uid_must_be_the_senders_organ_id(ring: KeyRing) -> None:
    store = store_of(ring)
    store.bind_signer(ring.signers[FINANCE.id].certificate, FINANCE.id)
    with pytest.raises(SignerMismatch, match=f"has '{FINANCE.id}'"):
        store.bind_signer(ring.signers[FINANCE.id].certificate, CITY.id)


def test_pins_replace_the_uid_rule(ring: KeyRing) -> None:
    pinned = ring.signers[CITY.id].certificate
    store = store_of(ring, signing={FINANCE.id: [pinned]})
    store.bind_signer(pinned, FINANCE.id)
    with pytest.raises(SignerMismatch, match="not among the certificates pinned"):
        store.bind_signer(ring.signers[FINANCE.id].certificate, FINANCE.id)


# --- TLS clients ----------------------------------------------------------------------------------


def test_a_pinned_client_certificate_names_its_agency(ring: KeyRing) -> None:
    client = pki.client_certificate(
        ring.intermediate, FINANCE.id, "Sở Tài chính", not_before=START
    ).certificate
    signer = ring.signers[CITY.id].certificate  # EKU documentSigning: no TLS client
    store = store_of(ring, client={FINANCE.id: [client], CITY.id: [signer]})
    assert store.client_agency(client, NOW) == FINANCE.id
    assert store.client_agency(ring.signers[FINANCE.id].certificate, NOW) is None
    with pytest.raises(UntrustedCertificate, match="does not allow clientAuth"):
        store.client_agency(signer, NOW)
