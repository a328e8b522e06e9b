"""What a forger does to signed messages: each function returns the bytes a threat submits."""

from __future__ import annotations

import base64
import copy
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner

from gateway.edxml import EDXML_NS
from gateway.trust.pki import Issued
from gateway.trust.xmldsig import DS_NS, HEADER_PATH

DS = "{" + DS_NS + "}"
E = "{" + EDXML_NS + "}"
PART_NS = "urn:test:extension"
_PARSER = etree.XMLParser(resolve_entities=False, huge_tree=True)


def tree(raw: bytes) -> etree._Element:
    return etree.fromstring(raw, _PARSER)


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def signature_of(root: etree._Element) -> etree._Element:
    found = root.find(f"{HEADER_PATH}/{DS}Signature")
    assert found is not None
    return found


def header(root: etree._Element) -> etree._Element:
    found = root.find(HEADER_PATH)
    assert found is not None
    return found


def resign(root: etree._Element, key: Any, hash_algorithm: Any = None) -> None:
    """Recompute the SignatureValue over the (changed) SignedInfo, as the key owner would:
    the threat is then the shape of the signature, not a broken signature value."""
    signature = signature_of(root)
    signed_info = signature.find(f"{DS}SignedInfo")
    assert signed_info is not None
    data = etree.tostring(signed_info, method="c14n")
    algorithm = hash_algorithm or hashes.SHA256()
    if isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(data, padding.PKCS1v15(), algorithm)
    else:
        raise NotImplementedError(type(key))
    value_el = signature.find(f"{DS}SignatureValue")
    assert value_el is not None
    value_el.text = base64.b64encode(value).decode()


class _AnySigner(XMLSigner):
    def check_deprecated_methods(self) -> None:  # a forger's tool accepts SHA-1
        pass


def sign_with(
    raw: bytes,
    issued: Issued,
    chain: list[Any],
    *,
    method: SignatureMethod = SignatureMethod.RSA_SHA256,
    digest: DigestAlgorithm = DigestAlgorithm.SHA256,
    reference_uri: str | None = None,
    root: etree._Element | None = None,
) -> bytes:
    """Sign with free choice of algorithms and reference, signature in edXMLHeader."""
    root = tree(raw) if root is None else root
    placeholder = etree.SubElement(header(root), f"{DS}Signature", Id="placeholder")
    placeholder.tail = "\n"
    signer = _AnySigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=digest,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    signed = signer.sign(
        root, key=issued.key, cert=[issued.certificate, *chain], reference_uri=reference_uri
    )
    return to_bytes(signed)


def with_part(raw: bytes, part_id: str = "part", text: str = "phần được ký") -> etree._Element:
    """The message with an extension element carrying an Id, in OtherInfo (the XSD allows
    foreign elements there): what a Reference by id can point at."""
    root = tree(raw)
    other_info = root.find(f"{HEADER_PATH}/{E}MessageHeader/{E}OtherInfo")
    assert other_info is not None
    part = etree.SubElement(other_info, f"{{{PART_NS}}}Part", {"Id": part_id}, nsmap={"x": PART_NS})
    part.text = text
    return root


def change_text(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert raw.count(old) >= 1, old
    return raw.replace(old, new, 1)


def flip_base64_char(raw: bytes) -> bytes:
    """One character of the attachment's base64 changed (to another base64 character)."""
    root = tree(raw)
    content = root.find(f"{E}AttachmentEncoded/{E}Attachment/{E}ContentTransferEncoded")
    assert content is not None and content.text
    text = content.text
    middle = len(text) // 2
    replacement = "A" if text[middle] != "A" else "B"
    old = text[middle - 20 : middle + 20].encode()
    new = (text[middle - 20 : middle] + replacement + text[middle + 1 : middle + 20]).encode()
    return change_text(raw, old, new)


def move_signature(donor: bytes, target: bytes) -> bytes:
    """The genuine signature of `donor` put into the header of the unsigned `target`."""
    signature = copy.deepcopy(signature_of(tree(donor)))
    root = tree(target)
    header(root).append(signature)
    return to_bytes(root)


def nest(genuine: bytes, forged: bytes) -> bytes:
    """The genuine signed message nested, whole, inside the forged one (in an extension
    element of OtherInfo), the forged one unsigned."""
    root = tree(forged)
    other_info = root.find(f"{HEADER_PATH}/{E}MessageHeader/{E}OtherInfo")
    assert other_info is not None
    wrapper = etree.SubElement(other_info, f"{{{PART_NS}}}Wrapper", nsmap={"x": PART_NS})
    wrapper.append(tree(genuine))
    return to_bytes(root)


def nest_in_object(genuine: bytes, forged: bytes) -> bytes:
    """The genuine signature moved into the forged message, the genuine message kept inside
    that signature as a ds:Object (the classic wrapping layout)."""
    donor = tree(genuine)
    signature = copy.deepcopy(signature_of(donor))
    holder = etree.SubElement(signature, f"{DS}Object")
    holder.append(donor)
    root = tree(forged)
    header(root).append(signature)
    return to_bytes(root)


def with_doctype(raw: bytes) -> bytes:
    """An internal DTD subset with an entity, used in the subject."""
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>'
    assert raw.startswith(declaration)
    doctype = b'\n<!DOCTYPE edXML [<!ENTITY who "S\xe1\xbb\x9f T\xc3\xa0i ch\xc3\xadnh">]>'
    return declaration + doctype + raw[len(declaration) :]


def to_namespace(raw: bytes, namespace: str) -> bytes:
    """The genuine ds:Signature with every one of its elements moved to `namespace`."""
    root = tree(raw)
    for element in signature_of(root).iter():
        element.tag = f"{{{namespace}}}{etree.QName(element).localname}"
    etree.cleanup_namespaces(root)
    return to_bytes(root)
