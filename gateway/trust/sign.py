"""Signing an edXML message the way the gateway verifies it (`edocgw sign`, the demo, tests).

The signature is enveloped, inside edXMLHeader, with one Reference `URI=""` over the whole
message; canonical XML 1.0, which every XML-DSig implementation of the national axis' vendors
(Java, .NET) supports; RSA-SHA256 or ECDSA-SHA256 after the key; the certificate first in
KeyInfo, then the chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner

from gateway.edxml import XmlLimits, read_xml, validate
from gateway.edxml.parse import DEFAULT_LIMITS
from gateway.trust.certs import load_certificates
from gateway.trust.xmldsig import (
    DS_NS,
    HEADER_PATH,
    SIGNATURE_TAG,
    hardened_parser,
    is_foreign_signature,
)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class SigningError(Exception):
    """The message cannot be signed; the message says why."""


class _Signer(XMLSigner):
    @property
    def parser(self) -> etree.XMLParser:
        return hardened_parser()  # huge_tree: a 10 MB attachment is one text node


def sign_message(
    raw: bytes,
    key: PrivateKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    *,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> bytes:
    """`raw` with an XML-DSig in its edXMLHeader. The national SDK's placeholder <Signature>,
    if any, is replaced; a message that already holds a ds:Signature is refused."""
    root = read_xml(raw, limits)
    validate(root)
    header = root.find(HEADER_PATH)
    if header is None:
        raise SigningError("the message has no edXMLEnvelope/edXMLHeader")
    if next(root.iter(SIGNATURE_TAG), None) is not None:
        raise SigningError("the message is already signed (it holds a ds:Signature)")
    for child in list(header):
        if isinstance(child.tag, str) and is_foreign_signature(child.tag):
            _remove(child)
    _append(header, etree.Element(SIGNATURE_TAG, {"Id": "placeholder"}, nsmap={"ds": DS_NS}))
    method = (
        SignatureMethod.ECDSA_SHA256
        if isinstance(key, ec.EllipticCurvePrivateKey)
        else (SignatureMethod.RSA_SHA256)
    )
    signer = _Signer(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    signed = signer.sign(root, key=key, cert=[cert, *chain])
    return XML_DECLARATION + etree.tostring(signed, xml_declaration=False, encoding="UTF-8")


def _append(parent: etree._Element, element: etree._Element) -> None:
    # keep the layout: the new last child takes the old last child's indentation
    children = list(parent)
    if children:
        last = children[-1]
        element.tail = last.tail
        last.tail = parent.text
    parent.append(element)


def _remove(element: etree._Element) -> None:
    parent = element.getparent()
    assert parent is not None
    previous = element.getprevious()
    if previous is not None:
        previous.tail = element.tail
    else:
        parent.text = element.tail
    parent.remove(element)


def load_private_key(path: Path) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningError(f"{path}: an RSA or EC private key was expected")
    return key


def load_signer(
    key_path: Path, cert_path: Path, chain_paths: Sequence[Path] = ()
) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
    """The key, its certificate and the chain to put in KeyInfo, read from PEM files."""
    key = load_private_key(key_path)
    cert, *more = load_certificates(cert_path)
    chain = more + [c for path in chain_paths for c in load_certificates(path)]
    return key, cert, chain
