"""What a signature must be to be accepted: one frozen value, secure by default, built once.

Like signxml's `SignatureConfiguration`, the policy lists what is allowed rather than what is
not: SHA-1 (and anything else unlisted) fails because it is not in the lists. It also sets the
end-entity certificate rules deliberately: cryptography's default client policy (a SAN, an EKU
with clientAuth) is a web-TLS policy, and document-signing certificates often have neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier
from cryptography.x509.verification import Criticality, ExtensionPolicy, Policy
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.verifier import SignatureConfiguration

ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
# RFC 9336 id-kp-documentSigning, and Microsoft's older document-signing purpose
DOCUMENT_SIGNING: Final = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
MS_DOCUMENT_SIGNING: Final = ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")

SIGNATURE_METHODS: Final = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.SHA256_RSA_MGF1,
        SignatureMethod.SHA384_RSA_MGF1,
        SignatureMethod.SHA512_RSA_MGF1,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
    }
)
DIGEST_ALGORITHMS: Final = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)
SIGNING_PURPOSES: Final = frozenset(
    {
        DOCUMENT_SIGNING,
        MS_DOCUMENT_SIGNING,
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    }
)


class CertificateRuleError(ValueError):
    """Raised by the extension validators; cryptography reports it as a VerificationError."""


@dataclass(frozen=True)
class VerificationPolicy:
    """Secure defaults; a deployment may narrow them, never needs to widen them."""

    signature_methods: frozenset[SignatureMethod] = SIGNATURE_METHODS
    digest_algorithms: frozenset[DigestAlgorithm] = DIGEST_ALGORITHMS
    canonicalizations: frozenset[CanonicalizationMethod] = frozenset(CanonicalizationMethod)
    # If a signing certificate names purposes (EKU), one of these must be among them.
    signing_purposes: frozenset[ObjectIdentifier] = SIGNING_PURPOSES
    max_chain_depth: int = 4
    min_rsa_bits: int = 2048
    # Refuse a certificate whose issuer has no configured CRL (else: checked where one is).
    require_crl: bool = False
    max_certificates: int = 8  # X509Certificate elements in one KeyInfo

    def signxml_config(self) -> SignatureConfiguration:
        # `location` pins the signature to edXMLHeader; `verification_time` is set per call.
        return SignatureConfiguration(
            require_x509=True,
            location="./{http://www.mic.gov.vn/TBT/QCVN_102_2016}edXMLEnvelope"
            "/{http://www.mic.gov.vn/TBT/QCVN_102_2016}edXMLHeader/",
            expect_references=1,
            signature_methods=self.signature_methods,
            digest_algorithms=self.digest_algorithms,
            ignore_ambiguous_key_info=False,
        )

    def signer_extensions(self) -> ExtensionPolicy:
        """The end-entity rules for a document signer: no SAN or EKU required; a KeyUsage
        allowing signatures; if an EKU is present it must name a signing purpose; not a CA."""
        purposes = self.signing_purposes

        def key_usage(policy: Policy, cert: x509.Certificate, ku: x509.KeyUsage) -> None:
            if not (ku.digital_signature or ku.content_commitment):
                raise CertificateRuleError(
                    "KeyUsage allows neither digitalSignature nor nonRepudiation"
                )

        def purposes_named(
            policy: Policy, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None
        ) -> None:
            if eku is not None and not purposes.intersection(eku):
                named = ", ".join(oid.dotted_string for oid in eku)
                raise CertificateRuleError(f"ExtendedKeyUsage ({named}) names no signing purpose")

        return _end_entity(key_usage, purposes_named)

    def client_extensions(self) -> ExtensionPolicy:
        """The end-entity rules for a TLS client certificate (mutual TLS on the agency API)."""

        def key_usage(policy: Policy, cert: x509.Certificate, ku: x509.KeyUsage) -> None:
            if not (ku.digital_signature or ku.key_agreement):
                raise CertificateRuleError("KeyUsage allows no TLS client authentication")

        def client_auth(
            policy: Policy, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None
        ) -> None:
            wanted = {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
            if eku is not None and not wanted.intersection(eku):
                raise CertificateRuleError("ExtendedKeyUsage does not allow clientAuth")

        return _end_entity(key_usage, client_auth)

    def ca_extensions(self) -> ExtensionPolicy:
        return ExtensionPolicy.webpki_defaults_ca()


KeyUsageRule = Callable[[Policy, x509.Certificate, x509.KeyUsage], None]
PurposeRule = Callable[[Policy, x509.Certificate, x509.ExtendedKeyUsage | None], None]


def _end_entity(key_usage: KeyUsageRule, purposes: PurposeRule) -> ExtensionPolicy:
    def not_a_ca(policy: Policy, cert: x509.Certificate, bc: x509.BasicConstraints | None) -> None:
        if bc is not None and bc.ca:
            raise CertificateRuleError("a CA certificate cannot sign messages")

    return (
        ExtensionPolicy.permit_all()
        .require_present(x509.KeyUsage, Criticality.AGNOSTIC, key_usage)
        .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, purposes)
        .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, not_a_ca)
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
    )


DEFAULT_POLICY: Final = VerificationPolicy()
