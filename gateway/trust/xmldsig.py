"""XML-DSig verification of an edXML message (DESIGN §5), and only what it signed afterwards.

Before signxml sees the message, its shape is checked against the rules that close the known
doors: exactly one `ds:Signature` in the whole message, a child of `edXMLHeader`; one Reference
with `URI=""` (the whole message: a Reference by id lets a genuine signed element be moved into
a forged message); only the enveloped-signature transform and a canonicalization; algorithms
from the policy. The signing certificate is validated by the trust store, then handed to
signxml as a certificate object, so signxml never reads a CA file nor builds a chain itself.
The model is then rebuilt from signxml's `signed_xml`, the content the signature covers.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography import x509
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidDigest, InvalidSignature, SignXMLException
from signxml.verifier import XMLVerifier

from gateway.edxml import EDXML_NS, Message, message_from_tree
from gateway.edxml.fields import element_path
from gateway.errors import SignatureInvalid, SignerMismatch
from gateway.trust import certs
from gateway.trust.policy import ENVELOPED, VerificationPolicy
from gateway.trust.store import Chain, TrustStore

DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
DS: Final = "{" + DS_NS + "}"
SIGNATURE_TAG: Final = DS + "Signature"
HEADER_PATH: Final = f"{{{EDXML_NS}}}edXMLEnvelope/{{{EDXML_NS}}}edXMLHeader"
_SIGNATURE_PARTS: Final = frozenset({DS + "SignedInfo", DS + "SignatureValue", DS + "KeyInfo"})

_per_thread = threading.local()


def hardened_parser() -> etree.XMLParser:
    # The same hardening as gateway.edxml.read_xml (no DTD, entities or network) and huge_tree
    # for a 10 MB base64 text node; one per thread, since lxml serialises a parser's users.
    parser: etree.XMLParser | None = getattr(_per_thread, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
        )
        _per_thread.parser = parser
    return parser


@dataclass(frozen=True)
class SignatureRecord:
    """What was verified about a signature: stored with the message, shown in its trace."""

    signer: str
    issuer: str
    organ_id: str | None
    serial: str
    not_before: str
    not_after: str
    algorithm: str
    digest: str
    certificate_sha256: str
    chain: tuple[str, ...]

    @classmethod
    def of(cls, chain: Chain, algorithm: str, digest: str) -> SignatureRecord:
        return cls(**chain.description, algorithm=algorithm, digest=digest)

    def as_json(self) -> dict[str, Any]:
        return {"status": "verified", **dataclasses.asdict(self), "chain": list(self.chain)}


@dataclass(frozen=True)
class Verified:
    """Only what the signature covers: the signed tree (without the signature), the message
    read from it, and who signed it."""

    root: etree._Element
    message: Message
    signature: SignatureRecord


@dataclass(frozen=True)
class _Shape:
    signature_method: SignatureMethod
    digest_method: DigestAlgorithm
    certificates: tuple[x509.Certificate, ...]


def find_signature(root: etree._Element) -> etree._Element | None:
    """The message's one ds:Signature, a child of edXMLHeader; None if it has no signature.

    SignatureInvalid for a signature in another namespace (the national SDK's placeholder),
    several signatures, or one elsewhere than in edXMLHeader.
    """
    header = root.find(HEADER_PATH)
    if header is not None:
        for child in header:
            if isinstance(child.tag, str) and is_foreign_signature(child.tag):
                raise SignatureInvalid(
                    f"{element_path(child)} (line {child.sourceline}) is in namespace "
                    f"{etree.QName(child).namespace or '(none)'}, not an XML-DSig signature: "
                    f"sign with a ds:Signature in {DS_NS} (the national SDK's <Signature> "
                    "placeholder is not a signature)"
                )
    found = list(root.iter(SIGNATURE_TAG))
    if not found:
        return None
    if len(found) > 1:
        lines = ", ".join(str(s.sourceline) for s in found)
        raise SignatureInvalid(
            f"the message holds {len(found)} ds:Signature elements (lines {lines}); exactly one, "
            "in edXMLHeader, is accepted"
        )
    signature = found[0]
    if header is None or signature.getparent() is not header:
        raise SignatureInvalid(
            f"the ds:Signature is at {element_path(signature)} (line {signature.sourceline}); "
            "it must be a child of /edXML/edXMLEnvelope/edXMLHeader"
        )
    return signature


def is_foreign_signature(tag: str) -> bool:
    return tag != SIGNATURE_TAG and (tag == "Signature" or tag.endswith("}Signature"))


def _shape(signature: etree._Element, policy: VerificationPolicy) -> _Shape:
    for child in signature:
        if isinstance(child.tag, str) and child.tag not in _SIGNATURE_PARTS:
            raise _invalid(
                child, "is not accepted in the signature (SignedInfo, SignatureValue, KeyInfo only)"
            )
    signed_info = _one(signature, "SignedInfo")
    _algorithm(
        signed_info, "CanonicalizationMethod", CanonicalizationMethod, policy.canonicalizations
    )
    method = _algorithm(signed_info, "SignatureMethod", SignatureMethod, policy.signature_methods)
    references = signed_info.findall(DS + "Reference")
    if len(references) != 1:
        raise _invalid(
            signed_info,
            f"holds {len(references)} References; exactly one, with "
            'URI="" (the whole message, attachments included), is accepted',
        )
    reference = references[0]
    uri = reference.get("URI")
    if uri != "":
        shown = "no URI" if uri is None else f"URI={uri!r}"
        raise _invalid(
            reference,
            f'has {shown}: it must be URI="", so that the whole message, '
            "attachments included, is signed",
        )
    _check_transforms(reference, policy)
    digest = _algorithm(reference, "DigestMethod", DigestAlgorithm, policy.digest_algorithms)
    return _Shape(method, digest, _certificates(signature, policy))


def _check_transforms(reference: etree._Element, policy: VerificationPolicy) -> None:
    transforms = reference.find(DS + "Transforms")
    found = [] if transforms is None else [t.get("Algorithm") for t in transforms]
    c14n = {m.value for m in policy.canonicalizations}
    if found[:1] != [ENVELOPED] or len(found) > 2 or not set(found[1:]) <= c14n:
        raise _invalid(
            reference,
            f"has the transforms {found}: the enveloped-signature transform, then at most one "
            "canonicalization, are accepted",
        )


def _algorithm(parent: etree._Element, name: str, kind: Any, allowed: frozenset[Any]) -> Any:
    element = _one(parent, name)
    uri = element.get("Algorithm")
    try:
        value = kind(uri)
    except ValueError:
        value = None
    if value not in allowed:
        raise _invalid(
            element,
            f"Algorithm={uri!r} is not accepted: RSA or ECDSA with SHA-256 or "
            "stronger, the XML canonicalizations (SHA-1 is refused)",
        )
    return value


def _certificates(
    signature: etree._Element, policy: VerificationPolicy
) -> tuple[x509.Certificate, ...]:
    texts = signature.findall(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
    if not texts:
        raise SignatureInvalid(
            "the signature's KeyInfo must carry the signing certificate "
            "(KeyInfo/X509Data/X509Certificate), first in the chain"
        )
    if len(texts) > policy.max_certificates:
        raise SignatureInvalid(
            f"KeyInfo holds {len(texts)} certificates; at most "
            f"{policy.max_certificates} are accepted"
        )
    found = []
    for index, element in enumerate(texts, 1):
        try:
            found.append(_certificate(element.text or ""))
        except (binascii.Error, ValueError):
            raise _invalid(element, f"(certificate {index}) is not an X.509 certificate") from None
    return tuple(found)


@functools.lru_cache(maxsize=256)
def _certificate(text: str) -> x509.Certificate:
    # the same few certificates sign most messages: decode each once
    return x509.load_der_x509_certificate(base64.b64decode("".join(text.split()), validate=True))


def _one(parent: etree._Element, name: str) -> etree._Element:
    found = parent.findall(DS + name)
    if len(found) != 1:
        raise _invalid(parent, f"must hold exactly one ds:{name} (it holds {len(found)})")
    return found[0]


def _invalid(element: etree._Element, problem: str) -> SignatureInvalid:
    name = etree.QName(element).localname
    return SignatureInvalid(f"ds:{name} (line {element.sourceline}) {problem}")


class XmlSignatureVerifier:
    """Verifies messages against one policy and one trust store: build it once, share it."""

    def __init__(self, store: TrustStore, policy: VerificationPolicy) -> None:
        self.store = store
        self._policy = policy
        self._config = policy.signxml_config()

    def verify(
        self, raw: bytes, root: etree._Element, sender: str, at: datetime
    ) -> Verified | None:
        """What `raw` signs, if signed by `sender`; None when it has no signature at all.

        `root` is `raw` as gateway.edxml.read_xml parsed it (no DTD, within the limits)."""
        signature = find_signature(root)
        if signature is None:
            return None
        shape = _shape(signature, self._policy)
        leaf, *presented = shape.certificates
        chain = self.store.check_signer(leaf, presented, at)
        self.store.bind_signer(leaf, sender)
        signed = self._signed_xml(raw, chain.leaf, at)
        message = message_from_tree(signed)
        if message.sender.organ_id != sender:  # cannot differ with URI="": defence in depth
            raise SignerMismatch(f"the signed message is from {message.sender.organ_id!r}")
        record = SignatureRecord.of(chain, shape.signature_method.value, shape.digest_method.value)
        return Verified(signed, message, record)

    def _signed_xml(self, raw: bytes, leaf: x509.Certificate, at: datetime) -> etree._Element:
        config = dataclasses.replace(self._config, verification_time=at)
        try:
            result = XMLVerifier().verify(
                raw, x509_cert=leaf, expect_config=config, parser=hardened_parser()
            )
        except InvalidDigest:
            raise SignatureInvalid(
                f"the message was changed after {certs.subject(leaf)} signed it: the digest of "
                "the signed content does not match (header, recipients or attachments altered)"
            ) from None
        except InvalidSignature as exc:
            raise SignatureInvalid(
                f"the SignatureValue does not verify with the key of {certs.describe(leaf)} ({exc})"
            ) from None
        except (SignXMLException, etree.LxmlError, ValueError) as exc:
            raise SignatureInvalid(f"the signature cannot be verified: {exc}") from None
        signed = result.signed_xml  # type: ignore[union-attr]
        if not isinstance(signed, etree._Element):
            raise SignatureInvalid("the signed content is not an XML message")
        return signed
