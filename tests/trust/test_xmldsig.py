"""The verifier returns only what was signed."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.edxml import Document, message_from_tree, read_xml
from gateway.trust.policy import DEFAULT_POLICY
from gateway.trust.store import TrustStore
from gateway.trust.xmldsig import SIGNATURE_TAG, XmlSignatureVerifier
from tests.factories import document_bytes
from tests.harness import FINANCE
from tests.trust.keys import KeyRing


def test_the_model_is_rebuilt_from_the_signed_content(ring: KeyRing) -> None:
    # A comment is not signed (canonical XML without comments): the signed content is rebuilt
    # without it. Both read the subject whole (issue 12: a field is its whole string value,
    # across comments; before, the unverified tree stopped at the comment).
    raw = document_bytes(sender=FINANCE.id, subject="V/v kinh phí năm 2026")
    raw = raw.replace("kinh phí".encode(), "kinh<!-- chú thích --> phí".encode(), 2)
    signed = ring.sign(raw, FINANCE.id)
    root = read_xml(signed)
    unverified = message_from_tree(root)
    assert isinstance(unverified, Document) and unverified.subject == "V/v kinh phí năm 2026"

    store = TrustStore(
        anchors=[ring.root.certificate], intermediates=[ring.intermediate.certificate]
    )
    verified = XmlSignatureVerifier(store, DEFAULT_POLICY).verify(
        signed, root, FINANCE.id, datetime.now(UTC)
    )
    assert verified is not None
    assert isinstance(verified.message, Document)
    assert verified.message.subject == "V/v kinh phí năm 2026"
    assert next(verified.root.iter(SIGNATURE_TAG), None) is None
    assert verified.message.attachments == unverified.attachments


def test_an_unsigned_message_is_none(ring: KeyRing) -> None:
    raw = document_bytes(sender=FINANCE.id)
    store = TrustStore(anchors=[ring.root.certificate])
    verifier = XmlSignatureVerifier(store, DEFAULT_POLICY)
    assert verifier.verify(raw, read_xml(raw), FINANCE.id, datetime.now(UTC)) is None
